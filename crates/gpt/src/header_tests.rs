use super::*;

fn sample() -> Header {
    Header {
        my_lba: 1,
        alternate_lba: 2047,
        first_usable_lba: 34,
        last_usable_lba: 2014,
        entries_lba: 2,
        entry_count: 128,
        entry_size: 128,
        entries_crc: 0xAB54_D286,
        ..Header::standard("6A1C3E4B-0000-4000-8000-0123456789AB".parse().unwrap())
    }
}

#[test]
fn encodes_pinned_bytes() {
    let sector = sample().encode(512);
    assert_eq!(sector.len(), 512);
    assert_eq!(&sector[..8], b"EFI PART");
    assert_eq!(&sector[8..16], &[0, 0, 1, 0, 92, 0, 0, 0]);
    assert_eq!(&sector[20..24], &[0; 4]);
    assert_eq!(&sector[24..32], &1u64.to_le_bytes());
    assert_eq!(&sector[32..40], &2047u64.to_le_bytes());
    assert_eq!(&sector[56..60], &[0x4B, 0x3E, 0x1C, 0x6A]);
    assert_eq!(
        &sector[80..92],
        &[128, 0, 0, 0, 128, 0, 0, 0, 0x86, 0xD2, 0x54, 0xAB]
    );
    assert!(sector[92..].iter().all(|&b| b == 0));
    assert_eq!(stored_header_crc(&sector), header_crc(&sector, 92));
}

#[test]
fn decodes_what_it_encodes() {
    for sector_size in [512, 4096] {
        let sector = sample().encode(sector_size);
        assert!(has_signature(&sector));
        assert_eq!(Header::decode(&sector), Some(sample()));
    }
}

#[test]
fn decode_needs_the_defined_bytes() {
    let sector = sample().encode(512);
    assert!(Header::decode(&sector[..92]).is_some());
    assert_eq!(Header::decode(&sector[..91]), None);
    assert_eq!(Header::decode(&[]), None);
}

#[test]
fn the_crc_covers_header_size_bytes_only() {
    let mut sector = sample().encode(512);
    let crc = header_crc(&sector, 92).unwrap();
    sector[100] = 0xFF;
    assert_eq!(header_crc(&sector, 92), Some(crc));
    assert_ne!(header_crc(&sector, 101), Some(crc));
    sector[16] ^= 0xFF;
    assert_eq!(
        header_crc(&sector, 92),
        Some(crc),
        "the CRC field counts as zero"
    );
}

#[test]
fn crc_of_impossible_sizes_is_none() {
    let sector = sample().encode(512);
    assert_eq!(header_crc(&sector, 19), None);
    assert_eq!(header_crc(&sector, 513), None);
    assert_eq!(header_crc(&sector, u32::MAX), None);
    assert!(header_crc(&sector, 20).is_some());
}
