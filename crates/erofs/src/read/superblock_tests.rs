use super::*;

fn superblock(blkszbits: u8, blocks: u32, meta_blkaddr: u32) -> Superblock {
    let mut b = vec![0u8; SUPERBLOCK_BYTES];
    b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    b[12] = blkszbits;
    b[36..40].copy_from_slice(&blocks.to_le_bytes());
    b[40..44].copy_from_slice(&meta_blkaddr.to_le_bytes());
    b[64..68].copy_from_slice(b"root");
    Superblock::decode(&b).unwrap()
}

#[test]
fn block_sizes_from_512_bytes_to_64_kib_are_read() {
    for bits in 9..=16 {
        let sb = superblock(bits, 10, 1);
        assert_eq!(sb.unreadable(), None);
        assert_eq!(sb.span(), 10 << bits);
    }
    for bits in [0, 8, 17, 255] {
        let sb = superblock(bits, 10, 1);
        assert_eq!(sb.block_size(), 0);
        assert!(sb.unreadable().unwrap().1.contains("blkszbits"), "{bits}");
    }
}

#[test]
fn the_meta_area_must_lie_inside_the_blocks() {
    assert!(superblock(12, 1, 1)
        .unreadable()
        .unwrap()
        .1
        .contains("meta_blkaddr"));
    assert!(superblock(12, 0, 0).unreadable().is_some());
}

#[test]
fn no_magic_is_no_superblock_and_the_label_stops_at_nul() {
    assert_eq!(Superblock::decode(&[0u8; SUPERBLOCK_BYTES]), None);
    assert_eq!(Superblock::decode(&[0u8; 10]), None);
    assert_eq!(superblock(12, 10, 1).label().as_deref(), Some("root"));
}

#[test]
fn unknown_incompatible_features_and_extra_devices_are_unsupported() {
    let mut sb = superblock(12, 10, 1);
    sb.feature_incompat = 0x80;
    assert_eq!(sb.unreadable().map(|u| u.0), Some(true));
    sb.feature_incompat = 0x1 | 0x4 | 0x40;
    assert_eq!(sb.unreadable(), None);
    sb.extra_devices = 1;
    assert_eq!(sb.unreadable().map(|u| u.0), Some(true));
}
