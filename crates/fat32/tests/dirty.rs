//! Destination::Dirty: the region held old bytes (0xFF, random data, a used block device),
//! so everything the filesystem relies on being zero must be written, including the holes
//! of sparse source files. Bytes outside the partition must stay as they were.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{volume_label, FormatOptions, PreparedTree};
use imgforge_testkit::{loop_unavailable, skip_fixture, LoopDevice};

/// A random tree plus sparse files: holes at the start, in the middle and at the end.
fn tree_with_sparse_files(
    seed: u64,
    cluster_size: u64,
) -> (tempfile::TempDir, PathBuf, PreparedTree) {
    let (dir, src, _) = random_source(seed, &small_shape(cluster_size));
    let sparse = src.join("sparse files");
    fs::create_dir(&sparse).unwrap();
    for (name, len, islands) in [
        ("hole at start", 3 * MIB, vec![2 * MIB + 100]),
        (
            "hole in the middle.bin",
            2 * MIB + 5,
            vec![0, 2 * MIB - 4000],
        ),
        ("hole at end", MIB + 4097, vec![0]),
        ("all hole", 70_000, vec![]),
    ] {
        let file = fs::File::create(sparse.join(name)).unwrap();
        file.set_len(len).unwrap();
        for at in islands {
            file.write_all_at(&random_bytes(at, 5000.min(len - at)), at)
                .unwrap();
        }
    }
    let tree = scan_root(&src);
    (dir, src, tree)
}

/// The options, and the partition's offset.
fn options(sector: u32, cluster_size: Option<u32>, offset: u64) -> (FormatOptions, u64) {
    let options = FormatOptions {
        bytes_per_sector: sector,
        cluster_size,
        label: Some(volume_label("DIRTY").unwrap()),
        volume_id: 0xD1D1_D1D1,
        timestamp: Some(1_600_000_000),
        min_free: 0,
    };
    (options, offset)
}

/// Fills an image with `fill` (repeated), writes the filesystem with Destination::Dirty and
/// checks it with every reader, and that nothing outside the partition changed.
fn dirty_build((options, offset): (FormatOptions, u64), extra: u64, fill: &[u8], seed: u64) {
    let cluster = u64::from(options.cluster_size.unwrap_or(512));
    let (dir, src, tree) = tree_with_sparse_files(seed, cluster);
    let size = tree.minimum_size_at(&options, offset).unwrap() + extra;
    let layout = tree.plan(&options, offset, size).unwrap();
    let image = dir.path().join("dirty.img");
    let len = offset + size + MIB;
    sized_image(&image, len, Some(fill));
    write_plan(&layout, &image, Destination::Dirty, CopyMode::Auto);
    check_outside(&image, offset, size, len, fill);
    check_readers(&image, size, &layout, &src);
}

#[test]
fn over_0xff_bytes() {
    dirty_build(options(512, Some(512), MIB), 0, &[0xFF; 4096], 1);
}

#[test]
fn over_0xff_bytes_with_a_fat_of_several_chunks() {
    // 512-byte clusters in 200 MiB: a 1.6 MiB FAT, so whole chunks of it are free clusters,
    // which a fresh image may skip but a dirty one must have written as zeros.
    dirty_build(options(512, Some(512), MIB), 166 * MIB, &[0xFF; 4096], 5);
}

#[test]
fn over_random_bytes_with_4k_sectors() {
    // A block of random bytes whose length is no multiple of a sector, so every sector differs.
    dirty_build(
        options(4096, Some(4096), MIB),
        64 * MIB,
        &random_bytes(99, MIB + 13),
        2,
    );
}

#[test]
fn over_0xff_at_an_odd_offset_with_2k_clusters() {
    dirty_build(
        options(512, Some(2048), 17 * 512),
        3 * 2048 + 512,
        &[0xFF; 512],
        3,
    );
}

/// The real case for Dirty: a block device that held something else.
#[test]
fn onto_a_used_block_device() {
    let (options, offset) = options(512, None, MIB);
    let (dir, src, tree) = tree_with_sparse_files(4, 512);
    let size = tree.minimum_size_at(&options, offset).unwrap() + 4 * MIB;
    let len = (offset + size + MIB).div_ceil(MIB) * MIB;
    // Only missing root or loop devices skip; a failing losetup fails.
    if let Some(reason) = loop_unavailable() {
        return skip_fixture(&reason);
    }
    let device = LoopDevice::filled(len, 0xFF).unwrap_or_else(|e| panic!("loop device: {e}"));
    let layout = tree.plan(&options, offset, size).unwrap();
    write_plan(&layout, &device.device, Destination::Dirty, CopyMode::Auto);
    device.open().sync_all().unwrap();
    // The readers get a copy of the device; the backing file may still lag behind its cache.
    let image = dir.path().join("device-copy.img");
    std::io::copy(
        &mut fs::File::open(&device.device).unwrap(),
        &mut fs::File::create(&image).unwrap(),
    )
    .unwrap();
    check_outside(&image, offset, size, len, &[0xFF]);
    check_readers(&image, size, &layout, &src);
}
