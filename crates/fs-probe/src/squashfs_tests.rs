use super::*;

use std::io::Cursor;

/// A change to a sound superblock.
type Damage = fn(&mut Vec<u8>);

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A hand-laid squashfs of 4 KiB: superblock; inode table at 96 (one 40-byte block); directory
/// table at 200 (one 30-byte block); the id table's block at 300 and its index at 320.
fn sound() -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    put32(&mut b, 0, MAGIC);
    put32(&mut b, 4, 3); // inodes
    put32(&mut b, 8, 1_700_000_000);
    put32(&mut b, 12, 131072);
    put16(&mut b, 20, 6); // zstd
    put16(&mut b, 22, 17);
    put16(&mut b, 24, 0x0010 | 0x0200); // no fragments, no xattrs
    put16(&mut b, 26, 1);
    put16(&mut b, 28, 4);
    put64(&mut b, 32, 0x20); // the root inode: block 0, byte 32
    put64(&mut b, 40, 328); // bytes used
    put64(&mut b, 48, 320); // id index
    put64(&mut b, 56, NO_TABLE);
    put64(&mut b, 64, 96);
    put64(&mut b, 72, 200);
    put64(&mut b, 80, NO_TABLE);
    put64(&mut b, 88, NO_TABLE);
    put16(&mut b, 96, 0x8000 | 40); // uncompressed, 40 bytes
    put16(&mut b, 200, 30);
    put16(&mut b, 300, 0x8000 | 4);
    put64(&mut b, 320, 300);
    b
}

fn codes(b: &[u8]) -> Vec<&'static str> {
    match read_squashfs(Cursor::new(b), 0, b.len() as u64).unwrap() {
        Some(report) => report.findings.iter().map(|f| f.code.as_str()).collect(),
        None => vec!["none"],
    }
}

#[test]
fn a_sound_superblock_gives_no_findings_and_its_summary() {
    let b = sound();
    assert_eq!(codes(&b), Vec::<&str>::new());
    let s = read_squashfs(Cursor::new(&b), 0, 4096)
        .unwrap()
        .unwrap()
        .summary;
    assert_eq!(
        (
            s.major,
            s.minor,
            s.compression.as_str(),
            s.block_size,
            s.inodes,
            s.bytes_used,
            s.ids
        ),
        (4, 0, "zstd", 131072, 3, 328, 1)
    );
    assert_eq!(s.flags, ["no-fragments", "no-xattrs"]);
    assert_eq!(s.created, 1_700_000_000);
}

#[test]
fn other_bytes_are_no_squashfs() {
    assert_eq!(codes(&[0u8; 4096]), ["none"]);
    assert_eq!(codes(&sound()[..50]), ["none"]);
    let mut b = sound();
    b[0..4].copy_from_slice(b"sqsh"); // big-endian squashfs 3 and older
    assert_eq!(codes(&b), ["none"]);
}

#[test]
fn fields_out_of_range_are_invalid() {
    let cases: [(&str, Damage); 7] = [
        ("compression", |b| put16(b, 20, 9)),
        ("block size", |b| put32(b, 12, 3000)),
        ("block size over 1 MiB", |b| put32(b, 12, 1 << 21)),
        ("block log", |b| put16(b, 22, 16)),
        ("no inodes", |b| put32(b, 4, 0)),
        ("no ids", |b| put16(b, 26, 0)),
        ("root inode offset", |b| put64(b, 32, 9000)),
    ];
    for (what, damage) in cases {
        let mut b = sound();
        damage(&mut b);
        let found = codes(&b);
        assert!(found.contains(&"SUPERBLOCK_INVALID"), "{what}: {found:?}");
    }
    let mut b = sound();
    put64(&mut b, 32, 200 << 16); // the root's block at the directory table
    assert_eq!(codes(&b), ["SUPERBLOCK_INVALID"]);
}

#[test]
fn another_version_is_unsupported() {
    let mut b = sound();
    put16(&mut b, 28, 3);
    assert_eq!(codes(&b), ["FEATURE_UNSUPPORTED"]);
    put16(&mut b, 28, 4);
    put16(&mut b, 30, 1);
    assert_eq!(codes(&b), ["FEATURE_UNSUPPORTED"]);
}

#[test]
fn tables_out_of_order_or_past_the_end() {
    let cases: [(&str, Damage); 5] = [
        ("inode table in the superblock", |b| put64(b, 64, 50)),
        ("id index past the end", |b| put64(b, 48, 400)),
        ("id index before the directories", |b| put64(b, 48, 150)),
        ("fragments without a table", |b| put32(b, 16, 2)),
        ("export index running past the end", |b| {
            put64(b, 40, 336);
            put64(b, 88, 330);
        }),
    ];
    for (what, damage) in cases {
        let mut b = sound();
        damage(&mut b);
        assert_eq!(codes(&b), ["TABLE_OUT_OF_RANGE"], "{what}");
    }
    // The root inode's block then lies outside the inode table too.
    let mut b = sound();
    put64(&mut b, 64, 250);
    assert_eq!(codes(&b), ["SUPERBLOCK_INVALID", "TABLE_OUT_OF_RANGE"]);
}

#[test]
fn metadata_headers_and_the_id_index() {
    let cases: [(&str, Damage); 4] = [
        ("an empty inode block", |b| put16(b, 96, 0x8000)),
        ("an inode block into the directories", |b| put16(b, 96, 200)),
        ("an id block after its index", |b| put64(b, 320, 324)),
        ("an id block in the directories", |b| put64(b, 320, 150)),
    ];
    for (what, damage) in cases {
        let mut b = sound();
        damage(&mut b);
        assert_eq!(codes(&b), ["METADATA_INVALID"], "{what}");
    }
}

#[test]
fn a_short_partition_is_truncated_and_its_tables_not_read() {
    let b = sound();
    let report = read_squashfs(Cursor::new(&b), 0, 300).unwrap().unwrap();
    let codes: Vec<_> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["PARTITION_TRUNCATED"]);
}

#[test]
fn the_largest_counts_stay_bounded() {
    let mut b = sound();
    put16(&mut b, 26, u16::MAX);
    put32(&mut b, 4, u32::MAX);
    put64(&mut b, 88, 330);
    put64(&mut b, 40, u64::MAX - 1);
    // Nothing to read past the slice: the partition is truncated, the tables are not read.
    let found = codes(&b);
    assert!(found.contains(&"PARTITION_TRUNCATED"), "{found:?}");
}
