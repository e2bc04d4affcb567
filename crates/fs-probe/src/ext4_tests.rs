use super::*;
use crate::uuid_text;

/// A change to a sound superblock.
type Damage = fn(&mut Vec<u8>);

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A sound superblock as mkfs.ext4 writes it for 64 MiB: 4 KiB blocks, one group, 64bit and
/// metadata_csum, its checksum right.
fn sound() -> Vec<u8> {
    let mut b = vec![0u8; SUPERBLOCK_BYTES];
    put32(&mut b, 0x0, 16384); // inodes
    put32(&mut b, 0x4, 16384); // blocks
    put32(&mut b, 0x8, 819);
    put32(&mut b, 0xC, 15000);
    put32(&mut b, 0x10, 16373);
    put32(&mut b, 0x18, 2); // 4 KiB
    put32(&mut b, 0x1C, 2);
    put32(&mut b, 0x20, 32768);
    put32(&mut b, 0x24, 32768);
    put32(&mut b, 0x28, 16384);
    put16(&mut b, 0x38, MAGIC);
    put16(&mut b, 0x3A, 1); // clean
    put32(&mut b, 0x4C, 1);
    put32(&mut b, 0x54, 11);
    put16(&mut b, 0x58, 256);
    put32(&mut b, 0x5C, 0x4 | 0x8 | 0x10 | 0x20);
    put32(&mut b, 0x60, 0x2 | 0x40 | 0x80 | 0x200);
    put32(&mut b, 0x64, 0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x400);
    b[0x68..0x78].copy_from_slice(&[
        0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x49, 0x08, 0x87, 0x06, 5, 4, 3, 2, 1, 0,
    ]);
    b[0x78..0x7d].copy_from_slice(b"data!");
    b[0xEC..0xFC].copy_from_slice(&[0x11; 16]);
    b[0xFC] = 1;
    put16(&mut b, 0xFE, 64);
    put32(&mut b, 0x108, 1_700_000_000);
    b[0x175] = 1;
    fix(&mut b);
    b
}

fn fix(b: &mut [u8]) {
    let crc = crc32c(!0, &b[..CHECKSUM_AT]);
    put32(b, CHECKSUM_AT, crc);
}

/// The codes a superblock gives in a partition of `length` bytes.
fn codes(b: &[u8], length: u64) -> Vec<&'static str> {
    let sb = Superblock::decode(b).unwrap();
    let mut findings = Findings::default();
    check(&sb, b, length, &mut findings);
    findings
        .finish_by_code()
        .iter()
        .map(|f| f.code.as_str())
        .collect()
}

const FITS: u64 = 64 << 20;

#[test]
fn a_sound_superblock_gives_no_findings_and_its_summary() {
    let b = sound();
    assert_eq!(codes(&b, FITS), Vec::<&str>::new());
    let s = Superblock::decode(&b).unwrap().summary();
    assert_eq!(s.kind, "ext4");
    assert_eq!(s.label.as_deref(), Some("data!"));
    assert_eq!(uuid_text(&s.uuid), "0F0E0D0C-0B0A-4908-8706-050403020100");
    assert_eq!(
        (
            s.block_size,
            s.blocks,
            s.free_blocks,
            s.inodes,
            s.free_inodes
        ),
        (4096, 16384, 15000, 16384, 16373)
    );
    assert_eq!(s.size_bytes(), 64 << 20);
    assert_eq!(s.used_bytes(), (16384 - 15000) * 4096);
    assert_eq!(s.hash_version, "half_md4");
    assert_eq!(
        s.features.join(" "),
        "has_journal ext_attr resize_inode dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum"
    );
    assert!(s.clean);
}

#[test]
fn without_the_magic_there_is_no_superblock() {
    let mut b = sound();
    b[0x38] = 0;
    assert_eq!(Superblock::decode(&b), None);
    assert_eq!(Superblock::decode(&sound()[..1000]), None);
}

#[test]
fn a_changed_byte_breaks_the_checksum_only_with_metadata_csum() {
    let mut b = sound();
    b[0x7d] = b'?';
    assert_eq!(codes(&b, FITS), ["SUPERBLOCK_CHECKSUM_WRONG"]);
    put32(&mut b, 0x64, 0x1 | 0x2); // metadata_csum off: nothing to check
    assert_eq!(codes(&b, FITS), Vec::<&str>::new());
}

#[test]
fn fields_out_of_range_are_invalid() {
    let cases: [(&str, Damage); 9] = [
        ("block size", |b| put32(b, 0x18, 7)),
        ("cluster size", |b| put32(b, 0x1C, 3)),
        ("first data block", |b| put32(b, 0x14, 1)),
        ("inode size", |b| put16(b, 0x58, 200)),
        ("first inode", |b| put32(b, 0x54, 5)),
        ("desc size", |b| put16(b, 0xFE, 48)),
        ("checksum type", |b| b[0x175] = 2),
        ("inodes count", |b| put32(b, 0x0, 32768)),
        ("inodes per group", |b| put32(b, 0x28, 0)),
    ];
    for (what, damage) in cases {
        let mut b = sound();
        damage(&mut b);
        fix(&mut b);
        assert_eq!(codes(&b, FITS), ["SUPERBLOCK_INVALID"], "{what}");
    }
}

#[test]
fn groups_are_counted_from_the_first_data_block() {
    // 1 KiB blocks: block 0 is the boot block, so 16,385 blocks make two groups of 8,192.
    let mut b = sound();
    put32(&mut b, 0x18, 0);
    put32(&mut b, 0x1C, 0);
    put32(&mut b, 0x14, 1);
    put32(&mut b, 0x4, 16385);
    put32(&mut b, 0x20, 8192);
    put32(&mut b, 0x24, 8192);
    put32(&mut b, 0x28, 8192);
    put32(&mut b, 0xC, 100);
    put16(&mut b, 0x58, 256);
    fix(&mut b);
    assert_eq!(codes(&b, FITS), Vec::<&str>::new());
    put32(&mut b, 0x4, 16386); // a third group, with no inodes counted for it
    fix(&mut b);
    assert_eq!(codes(&b, FITS), ["SUPERBLOCK_INVALID"]);
}

#[test]
fn the_high_halves_count_only_with_64bit() {
    let mut b = sound();
    put32(&mut b, 0x150, 1);
    fix(&mut b);
    // 2^32 + 16384 blocks: the inode count no longer fits the groups, and the partition is short.
    assert_eq!(
        codes(&b, FITS),
        ["SUPERBLOCK_INVALID", "PARTITION_TRUNCATED"]
    );
    put32(&mut b, 0x60, 0x2 | 0x40 | 0x200); // no 64bit: hi ignored (desc size too)
    fix(&mut b);
    assert_eq!(codes(&b, FITS), Vec::<&str>::new());
}

#[test]
fn counts_states_features_and_the_partition() {
    let mut b = sound();
    put32(&mut b, 0xC, 20000);
    put32(&mut b, 0x10, 20000);
    fix(&mut b);
    assert_eq!(codes(&b, FITS), ["FREE_COUNT_WRONG", "FREE_COUNT_WRONG"]);

    let mut b = sound();
    put16(&mut b, 0x3A, 2);
    fix(&mut b);
    assert_eq!(codes(&b, FITS), ["NOT_CLEAN", "NOT_CLEAN"]);
    assert!(!Superblock::decode(&b).unwrap().summary().clean);

    let mut b = sound();
    put32(
        &mut b,
        0x60,
        0x2 | 0x40 | 0x80 | 0x200 | 0x1000 | 0x8000_0000,
    );
    put32(&mut b, 0x64, 0x1 | 0x400 | 0x4000);
    fix(&mut b);
    let sb = Superblock::decode(&b).unwrap();
    assert_eq!(
        unsupported_features(&sb),
        [
            "incompatible features Linux does not mount: dirdata, FEATURE_I31",
            "features Linux mounts only read-only: shared_blocks"
        ]
    );

    assert_eq!(codes(&sound(), FITS - 4096), ["PARTITION_TRUNCATED"]);
}

#[test]
fn kinds_follow_extents_and_the_journal() {
    let mut b = sound();
    put32(&mut b, 0x60, 0x2);
    assert_eq!(Superblock::decode(&b).unwrap().kind(), "ext3");
    put32(&mut b, 0x5C, 0);
    assert_eq!(Superblock::decode(&b).unwrap().kind(), "ext2");
}
