//! Layout properties checked with the readers: minimum_size is the smallest size plan()
//! accepts, builds are reproducible, and 4096-byte sectors work.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{volume_label, FormatOptions, PlanError, PreparedTree};

fn options(sector: u32, cluster_size: Option<u32>, min_free: u64) -> FormatOptions {
    FormatOptions {
        bytes_per_sector: sector,
        cluster_size,
        label: Some(volume_label("Min Size").unwrap()),
        volume_id: 0x0BAD_F00D,
        timestamp: None,
        min_free,
    }
}

/// Plans at exactly `size` at byte `offset`, writes a fresh image and runs every reader on it.
fn build_and_check(
    tree: &PreparedTree,
    src: &Path,
    (options, offset): (&FormatOptions, u64),
    size: u64,
    dir: &Path,
) {
    let layout = tree
        .plan(options, offset, size)
        .unwrap_or_else(|e| panic!("{options:?} at {offset} + {size}: {e}"));
    let image = dir.join("disk.img");
    let len = offset + size;
    sized_image(&image, len, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    check_outside(&image, offset, size, len, &[0]);
    check_readers(&image, size, &layout, src);
}

/// A tree whose data needs more than FAT32's 65,525-cluster minimum with small clusters, so
/// that the minimum is set by the files and not by FAT32's floor: sparse 6-10 MiB files.
fn big_tree(seed: u64) -> (tempfile::TempDir, std::path::PathBuf, PreparedTree) {
    let mut shape = small_shape(512);
    shape.random_mtimes = false;
    let (dir, src, _) = random_source(seed, &shape);
    fs::create_dir(src.join("big")).unwrap();
    for i in 0..5u64 {
        let file = fs::File::create(src.join(format!("big/part-{i}.bin"))).unwrap();
        let len = (6 + i) * MIB + i * 777;
        file.set_len(len).unwrap();
        file.write_all_at(&random_bytes(i, 5000), len / 2).unwrap();
        file.write_all_at(b"end", len - 3).unwrap();
    }
    let tree = scan_root(&src);
    (dir, src, tree)
}

#[test]
fn minimum_size_is_the_smallest_plannable_size() {
    let (dir, src, tree) = big_tree(7);
    let cases = [
        (options(512, None, 0), MIB),
        (options(512, Some(512), 0), 17 * 512),
        (options(512, Some(1024), 12_345_679), MIB + 512),
        (options(512, Some(4096), 0), MIB),
        (options(512, Some(2048), 1), 0),
        (options(512, None, 300 * MIB + 1), MIB),
        (options(4096, None, 0), MIB),
        (options(4096, Some(8192), 5 * MIB + 4095), 0),
        (
            FormatOptions {
                label: None,
                ..options(512, Some(512), 3 * MIB)
            },
            MIB,
        ),
    ];
    for (options, offset) in cases {
        let min = tree.minimum_size_at(&options, offset).unwrap();
        let sector = u64::from(options.bytes_per_sector);
        assert_eq!(min % sector, 0, "{options:?}: {min} is not whole sectors");
        if offset.is_multiple_of(4096) {
            assert_eq!(tree.minimum_size(&options).unwrap(), min, "{options:?}");
        }
        let layout = tree
            .plan(&options, offset, min)
            .unwrap_or_else(|e| panic!("{options:?} at {offset} + {min}: {e}"));
        let summary = layout.summary();
        let free = u64::from(summary.free_clusters) * u64::from(summary.cluster_size);
        assert!(
            free >= options.min_free,
            "{options:?}: {free} bytes free at the minimum"
        );
        eprintln!("{options:?}: minimum {min}, {summary:?}");
        for below in [min - sector, min - 2 * sector, min - 64 * sector] {
            match tree.plan(&options, offset, below) {
                Err(PlanError::TooSmall { size, minimum, .. }) => {
                    assert_eq!((size, minimum), (below, min), "{options:?}")
                }
                other => panic!("{options:?} at {below} (minimum {min}): {other:?}"),
            }
        }
        build_and_check(&tree, &src, (&options, offset), min, dir.path());
    }
}

#[test]
fn sizes_just_above_the_minimum_plan_and_pass_the_readers() {
    // A tree whose minimum comes from FAT32's cluster floor, and one from its files.
    let (dir, src, tree) = random_source(11, &small_shape(512));
    let (big_dir, big_src, big) = big_tree(12);
    for (tree, src, dir) in [(&tree, &src, dir.path()), (&big, &big_src, big_dir.path())] {
        let (options, offset) = (options(512, None, 0), MIB + 512);
        let min = tree.minimum_size_at(&options, offset).unwrap();
        for extra in [1, 7, 8, 9, 4096] {
            build_and_check(tree, src, (&options, offset), min + extra * 512, dir);
        }
    }
}

/// Builds at byte MIB of a fresh image and reads the image back.
fn build(tree: &PreparedTree, options: &FormatOptions, size: u64, image: &Path) -> Vec<u8> {
    let layout = tree.plan(options, MIB, size).unwrap();
    sized_image(image, MIB + size, None);
    write_plan(&layout, image, Destination::Zeroed, CopyMode::Auto);
    fs::read(image).unwrap()
}

/// Copies a directory tree; the copies get new modification times.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn differing_bytes(a: &[u8], b: &[u8]) -> Vec<usize> {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn builds_are_reproducible_with_a_timestamp() {
    let (dir, src, tree) = random_source(21, &small_shape(512));
    // The same files elsewhere, with other modification times and directory orders.
    let copy = dir.path().join("copy");
    copy_tree(&src, &copy);
    let copy_tree_scanned = scan_root(&copy);
    let options = FormatOptions {
        bytes_per_sector: 512,
        cluster_size: None,
        label: Some(volume_label("REPRO").unwrap()),
        volume_id: 0x1234_5678,
        timestamp: Some(1_700_000_000),
        min_free: 0,
    };
    let size = tree.minimum_size(&options).unwrap() + 8 * MIB;
    let first = build(&tree, &options, size, &dir.path().join("a.img"));
    let again = build(&tree, &options, size, &dir.path().join("b.img"));
    let moved = build(
        &copy_tree_scanned,
        &options,
        size,
        &dir.path().join("c.img"),
    );
    assert!(
        first == again,
        "two builds of the same tree differ at {:?}",
        &differing_bytes(&first, &again)[..]
    );
    assert!(
        first == moved,
        "a copy of the tree builds differently at {:?}",
        &differing_bytes(&first, &moved)[..]
    );

    // Another volume id changes exactly the serial in the boot sector and its backup.
    let other_id = FormatOptions {
        volume_id: 0x1234_5679,
        ..options.clone()
    };
    let other = build(&tree, &other_id, size, &dir.path().join("d.img"));
    let at = MIB as usize + 67;
    assert_eq!(
        differing_bytes(&first, &other),
        vec![at, at + 6 * 512],
        "volume id bytes"
    );

    // Without the timestamp, the sources' (different) times show: the images differ.
    let no_time = FormatOptions {
        timestamp: None,
        ..options.clone()
    };
    let a = build(&tree, &no_time, size, &dir.path().join("e.img"));
    let b = build(
        &copy_tree_scanned,
        &no_time,
        size,
        &dir.path().join("f.img"),
    );
    assert!(a != b, "source modification times do not reach the image");
    let layout = copy_tree_scanned.plan(&no_time, MIB, size).unwrap();
    check_readers(&dir.path().join("f.img"), size, &layout, &copy);
}

#[test]
fn sector_size_4096_with_4k_clusters_at_1_mib() {
    // mtools 4.0.32 reads 4096-byte sectors (minfo shows "sector size: 4096 bytes"), so
    // this gets every reader, not only fsck.fat.
    let (dir, src, tree) = random_source(31, &small_shape(4096));
    let options = FormatOptions {
        bytes_per_sector: 4096,
        cluster_size: Some(4096),
        label: Some(volume_label("4K").unwrap()),
        volume_id: 0x4096_4096,
        timestamp: Some(1_234_567_890),
        min_free: 0,
    };
    let size = tree.minimum_size(&options).unwrap();
    for size in [size, 512 * MIB] {
        build_and_check(&tree, &src, (&options, MIB), size, dir.path());
    }
    // A 512-byte-aligned offset is not a 4096-byte sector.
    assert!(matches!(
        tree.plan(&options, MIB + 512, 512 * MIB),
        Err(PlanError::Misaligned { .. })
    ));
    assert!(matches!(
        tree.minimum_size_at(&options, MIB + 512),
        Err(PlanError::Misaligned { .. })
    ));
}
