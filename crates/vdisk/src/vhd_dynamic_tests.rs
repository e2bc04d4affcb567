use super::*;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn identity() -> VhdIdentity {
    VhdIdentity {
        unique_id: [9; 16],
        timestamp: 1,
    }
}

fn range(offset: u64, length: u64) -> DataRange {
    DataRange { offset, length }
}

fn bat(plan: &VhdDynamicPlan) -> Vec<u32> {
    plan.encode_bat(0, plan.bat_entries, &mut BatCursor::default())
        .chunks(4)
        .map(|entry| u32::from_be_bytes(entry.try_into().unwrap()))
        .collect()
}

#[test]
fn an_empty_disk_is_headers_and_an_unused_bat() {
    let plan = plan_vhd_dynamic(5 * MIB, &[], &identity()).unwrap();
    assert_eq!(plan.bat_entries, 3);
    assert_eq!(bat(&plan), vec![u32::MAX; 3]);
    assert_eq!(plan.footer_offset(), BAT_OFFSET + 512);
    assert_eq!(plan.file_length(), BAT_OFFSET + 1024);
    assert_eq!(&plan.footer()[60..64], &[0, 0, 0, 3]);
    assert_eq!(
        u64::from_be_bytes(plan.footer()[16..24].try_into().unwrap()),
        512
    );
}

#[test]
fn blocks_are_allocated_in_guest_order_with_4k_aligned_data() {
    // Data in blocks 0, 1 (one range straddling them) and 7 (the last, partial one).
    let size = 15 * MIB + 512;
    let plan = plan_vhd_dynamic(
        size,
        &[range(2 * MIB - 512, 1024), range(size - 512, 512)],
        &identity(),
    )
    .unwrap();
    assert_eq!(plan.bat_entries, 8);
    assert_eq!(plan.allocated_blocks(), 3);
    let entries = bat(&plan);
    let data = |k: u64| plan.first_data_offset + k * BLOCK_STRIDE;
    assert_eq!(entries[0] as u64 * 512, data(0) - 512);
    assert_eq!(entries[1] as u64 * 512, data(1) - 512);
    assert_eq!(entries[2..7], [u32::MAX; 5]);
    assert_eq!(entries[7] as u64 * 512, data(2) - 512);
    for k in 0..3 {
        assert_eq!(data(k) % 4096, 0);
    }
    assert_eq!(plan.footer_offset(), data(2) + BLOCK_SIZE);
    // BAT chunks encode the same entries as the whole table.
    let mut cursor = BatCursor::default();
    let mut chunked = plan.encode_bat(0, 3, &mut cursor);
    chunked.extend(plan.encode_bat(3, 5, &mut cursor));
    assert_eq!(chunked, plan.encode_bat(0, 8, &mut BatCursor::default()));
}

#[test]
fn the_dynamic_header_has_its_fields_and_checksum() {
    let header = encode_dynamic_header(32);
    assert_eq!(&header[..8], b"cxsparse");
    assert_eq!(&header[8..16], &[0xff; 8]);
    assert_eq!(u64::from_be_bytes(header[16..24].try_into().unwrap()), 1536);
    assert_eq!(&header[24..28], &[0, 1, 0, 0]);
    assert_eq!(u32::from_be_bytes(header[28..32].try_into().unwrap()), 32);
    assert_eq!(
        u32::from_be_bytes(header[32..36].try_into().unwrap()),
        2 << 20
    );
    let sum: u32 = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !(36..40).contains(i))
        .map(|(_, &b)| b as u32)
        .sum();
    assert_eq!(u32::from_be_bytes(header[36..40].try_into().unwrap()), !sum);
}

#[test]
fn sizes_a_dynamic_vhd_cannot_hold_are_refused() {
    assert!(plan_vhd_dynamic(MIB + 1, &[], &identity()).is_err());
    assert!(plan_vhd_dynamic(2040 * GIB, &[], &identity()).is_ok());
    assert!(plan_vhd_dynamic(2040 * GIB + 512, &[], &identity())
        .unwrap_err()
        .to_string()
        .contains("2040 GiB"));
    // The largest disk, full: every BAT entry still fits 32 bits.
    let plan = plan_vhd_dynamic(2040 * GIB, &[range(0, 2040 * GIB)], &identity()).unwrap();
    let entries = bat(&plan);
    assert!(entries.iter().all(|&entry| entry != u32::MAX));
    assert!(entries.windows(2).all(|pair| pair[0] < pair[1]));
}
