//! `verify` on images imgforge wrote: nothing on a clean build; a changed byte, a missing
//! file, an extra file and a size change each reported once, with the path.

#![cfg(target_os = "linux")]

mod common;

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{verify, FormatOptions, PreparedTree, Volume};

const OFFSET: u64 = MIB + 512;

fn options() -> FormatOptions {
    FormatOptions {
        bytes_per_sector: 512,
        cluster_size: None,
        label: None,
        volume_id: 0x0E51_F1ED,
        timestamp: None,
        min_free: 0,
    }
}

/// Builds `tree` into a new image; (image path, partition size).
fn build(tree: &PreparedTree, dir: &Path) -> (std::path::PathBuf, u64) {
    let size = tree.minimum_size_at(&options(), OFFSET).unwrap();
    let layout = tree.plan(&options(), OFFSET, size).unwrap();
    let image = dir.join("disk.img");
    sized_image(&image, OFFSET + size, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    (image, size)
}

fn differences(tree: &PreparedTree, image: &Path, size: u64) -> Vec<(String, String)> {
    let mut volume = Volume::open(File::open(image).unwrap(), OFFSET, size)
        .unwrap()
        .unwrap();
    verify(tree.tree(), &mut volume)
        .into_iter()
        .map(|d| (d.path, d.message))
        .collect()
}

#[test]
fn verify_reports_each_difference_and_nothing_on_a_clean_build() {
    let mut shape = small_shape(4096);
    shape.max_file = 3 * MIB; // files larger than one comparison chunk
    let (dir, src, tree) = random_source(77, &shape);
    fs::write(src.join("large.bin"), random_bytes(5, 2 * MIB + 12_345)).unwrap();
    fs::create_dir(src.join("Keep Me")).unwrap();
    fs::write(src.join("Keep Me/small file.txt"), b"small").unwrap();
    drop(tree);
    let tree = scan_root(&src);
    let (image, size) = build(&tree, dir.path());
    assert_eq!(differences(&tree, &image, size), []);

    // A byte of large.bin changed in the image, past the first comparison chunk.
    let layout = tree.plan(&options(), OFFSET, size).unwrap();
    let (_, _, offset) = layout
        .file_placements()
        .find(|&(i, _, _)| layout.file_path(i) == "/large.bin")
        .unwrap();
    let changed = dir.path().join("changed.img");
    fs::copy(&image, &changed).unwrap();
    let at = MIB + 4321;
    File::options()
        .write(true)
        .open(&changed)
        .unwrap()
        .write_all_at(&[!random_bytes(5, at + 1)[at as usize]], offset + at)
        .unwrap();
    let source = src.join("large.bin");
    assert_eq!(
        differences(&tree, &changed, size),
        [(
            "/large.bin".to_string(),
            format!(
                "bytes differ from the source {}, first at offset {at}",
                source.display()
            )
        )]
    );

    // The spec gains a file, loses one, and one changes size.
    fs::write(src.join("Keep Me/new file.txt"), b"new").unwrap();
    fs::remove_file(src.join("Keep Me/small file.txt")).unwrap();
    fs::write(src.join("large.bin"), random_bytes(5, 2 * MIB + 12_346)).unwrap();
    let changed_tree = scan_root(&src);
    let mut found = differences(&changed_tree, &image, size);
    found.sort();
    assert_eq!(
        found,
        [
            (
                "/Keep Me/new file.txt".to_string(),
                "is missing: the spec has a file of 3 bytes here".to_string()
            ),
            (
                "/Keep Me/small file.txt".to_string(),
                "is a file (5 bytes) the spec does not have".to_string()
            ),
            (
                "/large.bin".to_string(),
                format!(
                    "is {} bytes; the spec's file is {} bytes",
                    2 * MIB + 12_345,
                    2 * MIB + 12_346
                )
            ),
        ]
    );
}

#[test]
fn findings_are_differences_too() {
    let (dir, _src, tree) = random_source(78, &small_shape(4096));
    let (image, size) = build(&tree, dir.path());
    let mut info = [0u8; 4];
    let file = File::options().read(true).write(true).open(&image).unwrap();
    file.read_exact_at(&mut info, OFFSET + 512 + 488).unwrap();
    let free = u32::from_le_bytes(info);
    file.write_all_at(&(free + 1).to_le_bytes(), OFFSET + 512 + 488)
        .unwrap();
    assert_eq!(
        differences(&tree, &image, size),
        [(
            "/".to_string(),
            format!(
                "FSINFO_FREE_COUNT_WRONG: FSInfo says {} clusters are free; the FAT has {free} free",
                free + 1
            )
        )]
    );
}
