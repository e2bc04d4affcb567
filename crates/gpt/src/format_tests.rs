use super::*;

#[test]
fn reads_are_little_endian_and_bounded() {
    let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert_eq!(read_u16(&bytes, 0), Some(0x0201));
    assert_eq!(read_u32(&bytes, 1), Some(0x0504_0302));
    assert_eq!(read_u64(&bytes, 1), Some(0x0908_0706_0504_0302));
    assert_eq!(read_u64(&bytes, 2), None);
    assert_eq!(read_u32(&bytes, usize::MAX - 1), None);
    assert_eq!(read_u16(&[], 0), None);
}

#[test]
fn writes_are_little_endian() {
    let mut bytes = [0u8; 12];
    write_u32(&mut bytes, 0, 0x0102_0304);
    write_u64(&mut bytes, 4, 0x0A0B_0C0D_0E0F_1011);
    assert_eq!(
        bytes,
        [4, 3, 2, 1, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A]
    );
}

#[test]
fn entry_array_sectors() {
    assert_eq!(sectors_for(16384, 512), 32);
    assert_eq!(sectors_for(16384, 4096), 4);
    assert_eq!(sectors_for(16385, 4096), 5);
    assert_eq!(sectors_for(0, 512), 0);
    assert_eq!(sectors_for(u64::MAX, 512), u64::MAX / 512 + 1);
}

#[test]
fn header_fields_end_at_the_header_size() {
    assert_eq!(header::ENTRIES_CRC + 4, GPT_HEADER_SIZE as usize);
    assert_eq!(entry::NAME + 2 * GPT_NAME_UNITS, GPT_ENTRY_SIZE as usize);
    assert_eq!(mbr::PARTITIONS + 4 * mbr::PARTITION_SIZE, mbr::SIGNATURE);
}
