use super::*;

#[test]
fn protective_record_pinned() {
    let sector = Mbr::protective(4096).encode(512);
    assert_eq!(
        &sector[446..462],
        &[0x00, 0x00, 0x02, 0x00, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0x0F, 0, 0]
    );
    assert_eq!(&sector[510..], &[0x55, 0xAA]);
    assert!(sector[..446].iter().all(|&b| b == 0));
    assert!(sector[462..510].iter().all(|&b| b == 0));
}

#[test]
fn protective_size_caps_at_32_bits() {
    assert_eq!(protective_size(0x1_0000_0000), 0xFFFF_FFFF);
    assert_eq!(protective_size(0x1_0000_0001), 0xFFFF_FFFF);
    assert_eq!(protective_size(u64::MAX), 0xFFFF_FFFF);
    assert_eq!(protective_size(0xFFFF_FFFF), 0xFFFF_FFFE);
    assert_eq!(protective_size(1), 0);
    assert_eq!(protective_size(0), 0);
}

#[test]
fn a_4096_byte_lba0_has_the_mbr_in_its_first_512_bytes() {
    let sector = Mbr::protective(100).encode(4096);
    assert_eq!(sector.len(), 4096);
    assert_eq!(&sector[510..512], &[0x55, 0xAA]);
    assert!(sector[512..].iter().all(|&b| b == 0));
}

#[test]
fn decodes_what_it_encodes() {
    let mut mbr = Mbr::protective(1 << 20);
    mbr.partitions[2] = MbrPartition {
        boot_indicator: 0x80,
        start_chs: [1, 2, 3],
        os_type: 0x83,
        end_chs: [4, 5, 6],
        starting_lba: 0xDEAD_BEEF,
        size_in_lba: 7,
    };
    assert_eq!(Mbr::decode(&mbr.encode(512)), Some(mbr));
    assert_eq!(Mbr::decode(&[0u8; 511]), None);
    let unsigned = Mbr {
        has_signature: false,
        ..mbr
    };
    assert_eq!(Mbr::decode(&unsigned.encode(512)), Some(unsigned));
}

#[test]
fn used_records_have_a_type_and_a_size() {
    let record = MbrPartition {
        os_type: 0x83,
        size_in_lba: 1,
        ..Default::default()
    };
    assert!(record.is_used());
    assert!(!MbrPartition {
        os_type: 0,
        ..record
    }
    .is_used());
    assert!(!MbrPartition {
        size_in_lba: 0,
        ..record
    }
    .is_used());
}
