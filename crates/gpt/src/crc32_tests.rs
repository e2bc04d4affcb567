use super::*;

#[test]
fn known_vectors() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"a"), 0xE8B7_BE43);
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
    assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
}

#[test]
fn continues_across_buffers() {
    assert_eq!(crc32_continue(crc32(b"1234"), b"56789"), 0xCBF4_3926);
    assert_eq!(crc32_continue(crc32(b""), b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32_continue(crc32(b"123456789"), b""), 0xCBF4_3926);
}

#[test]
fn table_edges() {
    assert_eq!(TABLE[0], 0);
    assert_eq!(TABLE[1], 0x7707_3096);
    assert_eq!(TABLE[255], 0x2D02_EF8D);
}
