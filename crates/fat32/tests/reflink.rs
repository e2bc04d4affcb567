//! Reflinks: with the sources and the image on the same XFS (reflink=1), CopyMode::Auto shares
//! every whole 4 KiB block of every file, because each file of 4 KiB or more starts on a
//! 4096-aligned image offset. CopyMode::ReadWrite gives the same bytes with nothing shared.
//! Needs root and loop devices (skips otherwise, unless IMGFORGE_REQUIRE_ROOT_TESTS=1).

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;
use std::time::Instant;

use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{volume_label, FormatOptions, Plan};
use imgforge_testkit::{
    fiemap, loop_unavailable, shared_bytes_in, skip_fixture, XfsMount, FIEMAP_EXTENT_SHARED,
};

const BLOCK: u64 = 4096;

/// (path below the source root, size)
const FILES: [(&str, u64); 14] = [
    ("EFI/BOOT/BOOTX64.EFI", 100_000),
    ("EFI/BOOT/grub.cfg", 300),
    ("kernel/vmlinuz-6.1.0-amd64", 10_000_001),
    ("kernel/initrd.img-6.1.0-amd64", 60 * MIB),
    ("exactly one block", 4096),
    ("one MiB.bin", MIB),
    ("a/b/c/4097 bytes", 4097),
    ("a/b/c/4095 bytes", 4095),
    ("a/b/8191", 8191),
    ("a/tiny", 1),
    ("a/hundred", 100),
    ("Straße/日本語.bin", 12_289),
    ("empty", 0),
    ("loader/entries/debian.conf", 700),
];

fn write_sources(root: &Path) {
    for (i, (path, size)) in FILES.iter().enumerate() {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, random_bytes(i as u64 + 1, *size)).unwrap();
    }
    fs::create_dir_all(root.join("an empty directory")).unwrap();
}

/// (whole-block bytes of files >= 4 KiB, those of them shared) in the image at `path`.
fn whole_blocks_shared(layout: &Plan, path: &Path, report: bool) -> (u64, u64) {
    let extents = fiemap(path);
    let (mut whole, mut shared) = (0, 0);
    for (index, file, offset) in layout.file_placements() {
        if file.size < BLOCK {
            continue;
        }
        let end = offset + file.size / BLOCK * BLOCK;
        let here = shared_bytes_in(&extents, offset, end);
        if report && here != end - offset {
            eprintln!(
                "{}: {here} of {} whole-block bytes shared at {offset}",
                layout.file_path(index),
                end - offset
            );
        }
        whole += end - offset;
        shared += here;
    }
    (whole, shared)
}

fn check_case(
    xfs: &XfsMount,
    name: &str,
    (options, offset): (FormatOptions, u64),
    size: Option<u64>,
) {
    let src = xfs.path("src");
    let tree = scan_root(&src);
    let size = size.unwrap_or_else(|| tree.minimum_size_at(&options, offset).unwrap());
    let layout = tree.plan(&options, offset, size).unwrap();
    let len = offset + size;

    let auto = xfs.path(&format!("{name}-auto.img"));
    sized_image(&auto, len, None);
    let started = Instant::now();
    write_plan(&layout, &auto, Destination::Zeroed, CopyMode::Auto);
    let took = started.elapsed();
    let (whole, shared) = whole_blocks_shared(&layout, &auto, true);
    eprintln!(
        "{name}: {:?}; Auto shared {shared} of {whole} whole-block file bytes ({:.2}%) in {took:.2?}",
        layout.summary(),
        100.0 * shared as f64 / whole as f64
    );
    assert!(
        whole > 70 * MIB,
        "{name}: only {whole} bytes in whole blocks"
    );
    assert_eq!(
        shared, whole,
        "{name}: not every whole 4 KiB block of the files is shared"
    );
    check_readers(&auto, size, &layout, &src);

    let copied = xfs.path(&format!("{name}-rw.img"));
    sized_image(&copied, len, None);
    write_plan(&layout, &copied, Destination::Zeroed, CopyMode::ReadWrite);
    assert!(
        fs::read(&auto).unwrap() == fs::read(&copied).unwrap(),
        "{name}: Auto and ReadWrite images differ"
    );
    let (_, shared) = whole_blocks_shared(&layout, &copied, false);
    let any_shared = fiemap(&copied)
        .iter()
        .any(|e| e.flags & FIEMAP_EXTENT_SHARED != 0);
    assert!(
        shared == 0 && !any_shared,
        "{name}: ReadWrite image shares blocks"
    );
    fs::remove_file(&auto).unwrap();
    fs::remove_file(&copied).unwrap();
}

/// The options, and the partition's offset.
fn options(offset: u64, sector: u32, cluster_size: Option<u32>) -> (FormatOptions, u64) {
    let options = FormatOptions {
        bytes_per_sector: sector,
        cluster_size,
        label: Some(volume_label("ESP").unwrap()),
        volume_id: 0xC0FF_EE00,
        timestamp: Some(1_700_000_000),
        min_free: 0,
    };
    (options, offset)
}

#[test]
fn auto_shares_every_whole_block_and_read_write_shares_none() {
    // Only missing root or loop devices skip; missing XFS tools or a failed mount fail.
    if let Some(reason) = loop_unavailable() {
        return skip_fixture(&reason);
    }
    require_tool("mkfs.xfs");
    require_tool("xfs_io");
    let xfs = XfsMount::new(1024 * MIB).unwrap_or_else(|e| panic!("loop-mounted XFS: {e}"));
    write_sources(&xfs.path("src"));
    // 4 KiB clusters at 1 MiB: the common ESP layout.
    check_case(&xfs, "esp-4k", options(MIB, 512, None), Some(300 * MIB));
    // 512-byte clusters at an offset that is not 4 KiB aligned: file starts are padded to
    // image blocks, not partition blocks.
    check_case(&xfs, "odd-512", options(17 * 512, 512, Some(512)), None);
    // 4096-byte sectors with 8 KiB clusters.
    check_case(&xfs, "4k-sectors", options(MIB, 4096, Some(8192)), None);
}
