use super::*;

#[test]
fn file_types_follow_the_mode_bits() {
    assert_eq!(file_type(0o100644), 1);
    assert_eq!(file_type(0o40755), 2);
    assert_eq!(file_type(0o20666), 3);
    assert_eq!(file_type(0o60660), 4);
    assert_eq!(file_type(0o10644), 5);
    assert_eq!(file_type(0o140755), 6);
    assert_eq!(file_type(0o120777), 7);
    assert_eq!(file_type(0), 0);
}

/// glibc's makedev.
fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

#[test]
fn device_numbers_use_the_new_32_bit_encoding() {
    assert_eq!(encode_rdev(makedev(1, 3)), 0x103);
    assert_eq!(encode_rdev(makedev(8, 300)), 44 | (8 << 8) | (256 << 12));
    assert_eq!(encode_rdev(makedev(5000, 7)), 7 | (5000 << 8));
    assert_eq!(encode_rdev(0), 0);
}

#[test]
fn the_superblock_sits_at_1024_with_its_fields() {
    let block = Superblock {
        root_nid: 0x1234,
        inodes: 7,
        build_time: 1_700_000_000,
        build_time_nsec: 5,
        blocks: 99,
        meta_blkaddr: 1,
        uuid: [0xAB; 16],
        volume_name: *b"label\0\0\0\0\0\0\0\0\0\0\0",
    }
    .encode_block();
    assert_eq!(block.len(), 4096);
    assert!(block[..1024].iter().all(|&b| b == 0));
    let sb = &block[1024..];
    assert_eq!(&sb[0..4], &0xE0F5E1E2u32.to_le_bytes());
    assert_eq!(sb[12], 12, "blkszbits");
    assert_eq!(&sb[14..16], &[0x34, 0x12]);
    assert_eq!(u64::from_le_bytes(sb[16..24].try_into().unwrap()), 7);
    assert_eq!(
        u64::from_le_bytes(sb[24..32].try_into().unwrap()),
        1_700_000_000
    );
    assert_eq!(u32::from_le_bytes(sb[36..40].try_into().unwrap()), 99);
    assert_eq!(u32::from_le_bytes(sb[40..44].try_into().unwrap()), 1);
    assert_eq!(&sb[48..64], &[0xAB; 16]);
    assert_eq!(&sb[64..69], b"label");
    assert!(
        block[1024 + 80..].iter().all(|&b| b == 0),
        "features and the rest zero"
    );
}

fn fields(extended: bool, layout: DataLayout) -> InodeFields {
    InodeFields {
        extended,
        layout,
        xattr_icount: 5,
        mode: 0o40755,
        nlink: 3,
        size: 40,
        i_u: 77,
        ino: 9,
        uid: 1000,
        gid: 100,
        mtime: 1_600_000_000,
        mtime_nsec: 42,
    }
}

#[test]
fn compact_inodes_take_32_bytes() {
    let mut out = Vec::new();
    fields(false, DataLayout::FlatInline).encode(&mut out);
    assert_eq!(out.len(), 32);
    assert_eq!(&out[0..2], &[4, 0], "compact, FLAT_INLINE << 1");
    assert_eq!(&out[2..4], &[5, 0], "i_xattr_icount");
    assert_eq!(&out[6..8], &[3, 0], "nlink");
    assert_eq!(&out[8..12], &40u32.to_le_bytes());
    assert_eq!(&out[12..16], &[0; 4], "mtime offset 0: the build time");
    assert_eq!(&out[16..20], &77u32.to_le_bytes());
    assert_eq!(&out[20..24], &9u32.to_le_bytes());
    assert_eq!(&out[24..28], &[0xe8, 0x03, 100, 0]);
}

#[test]
fn extended_inodes_take_64_bytes_with_their_own_mtime() {
    let mut out = Vec::new();
    fields(true, DataLayout::FlatPlain).encode(&mut out);
    assert_eq!(out.len(), 64);
    assert_eq!(&out[0..2], &[1, 0], "extended, FLAT_PLAIN");
    assert_eq!(&out[8..16], &40u64.to_le_bytes());
    assert_eq!(&out[24..28], &1000u32.to_le_bytes());
    assert_eq!(&out[28..32], &100u32.to_le_bytes());
    assert_eq!(&out[32..40], &1_600_000_000u64.to_le_bytes());
    assert_eq!(&out[40..44], &42u32.to_le_bytes());
    assert_eq!(&out[44..48], &3u32.to_le_bytes());
}

#[test]
fn inline_xattrs_are_a_header_and_padded_entries() {
    let mut out = Vec::new();
    encode_xattrs(&[], &mut out);
    assert!(out.is_empty());
    let entries = [
        InlineXattr {
            index: 1,
            suffix: b"comment".to_vec(),
            value: b"hello".to_vec(),
        },
        InlineXattr {
            index: 6,
            suffix: b"x".to_vec(),
            value: Vec::new(),
        },
    ];
    encode_xattrs(&entries, &mut out);
    assert_eq!(out.len(), 12 + 16 + 8);
    assert_eq!(&out[12..16], &[7, 1, 5, 0]);
    assert_eq!(&out[16..28], b"commenthello");
    assert_eq!(&out[28..33], &[1, 6, 0, 0, b'x']);
    assert_eq!(
        crate::layout::xattr_body_bytes(crate::layout::xattr_icount(24).unwrap()),
        36
    );
}
