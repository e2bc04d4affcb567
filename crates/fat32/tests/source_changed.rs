//! Write errors: sources that change between plan() and write() (the error names the file's
//! path inside the filesystem and carries the copy engine's code, and a grown file never
//! spills into the clusters after its planned size), and cancelling through the progress
//! callback.

#![cfg(target_os = "linux")]

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_fat32::{write, FormatOptions, Target, WriteError};

const CHANGED: &str = "/dir/Changed File.bin";
const CHANGED_SIZE: u64 = 5000;

/// Files planned in tree order (byte order of names): /dir/Changed File.bin, /dir/a.bin,
/// /dir/z.bin, /small.
fn sources(root: &Path) {
    fs::create_dir_all(root.join("dir")).unwrap();
    fs::write(root.join("dir/a.bin"), random_bytes(1, 10_000)).unwrap();
    fs::write(
        root.join("dir/Changed File.bin"),
        random_bytes(2, CHANGED_SIZE),
    )
    .unwrap();
    fs::write(root.join("dir/z.bin"), random_bytes(3, 8192)).unwrap();
    fs::write(root.join("small"), random_bytes(4, 10)).unwrap();
}

/// 512-byte clusters at 1 MiB: small enough that the tests' files span many clusters.
fn options() -> FormatOptions {
    FormatOptions {
        bytes_per_sector: 512,
        cluster_size: Some(512),
        label: None,
        volume_id: 1,
        timestamp: None,
        min_free: 0,
    }
}

/// Plans the sources, lets `change` modify them, then writes; returns the error and what the
/// image holds from the changed file's planned offset on (its bytes and 64 KiB more).
fn write_after(change: impl FnOnce(&Path), mode: CopyMode) -> (WriteError, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    sources(&src);
    let tree = scan_root(&src);
    let options = options();
    let size = 64 * MIB;
    let layout = tree.plan(&options, MIB, size).unwrap();
    let (index, offset) = layout
        .file_placements()
        .map(|(i, _, offset)| (i, offset))
        .find(|&(i, _)| layout.file_path(i) == CHANGED)
        .expect("the changed file is planned");
    assert_eq!(layout.file_path(index), CHANGED);
    change(&src);
    let image_path = dir.path().join("disk.img");
    let image = sized_image(&image_path, MIB + size, None);
    let target = Target {
        image: &image,
        image_name: "disk.img",
        state: Destination::Zeroed,
    };
    let error = write(&layout, &target, &mut CopyEngine::new(mode), &mut |_| true)
        .expect_err("write must fail when a source changed after planning");
    let mut after = vec![0u8; (CHANGED_SIZE + 65536) as usize];
    image.read_exact_at(&mut after, offset).unwrap();
    (error, after)
}

fn assert_names_changed_file(error: &WriteError, code: &str) {
    let message = error.to_string();
    assert_eq!(error.path.as_deref(), Some(CHANGED), "{message}");
    if code == "SOURCE_CHANGED" {
        // The engine's message about the source's state does not name it: the error does.
        let source = error.source.as_deref().expect("the source is named");
        assert!(source.ends_with("dir/Changed File.bin"), "{source:?}");
        assert!(message.contains(&source.display().to_string()), "{message}");
    }
    assert!(
        message.contains(CHANGED),
        "{message:?} does not name {CHANGED}"
    );
    assert_eq!(error.error.code(), code, "{message}");
    eprintln!("{code}: {message}");
}

#[test]
fn a_source_that_grew_is_source_changed_and_does_not_spill() {
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let (error, after) = write_after(
            |src| {
                let mut file = OpenOptions::new()
                    .append(true)
                    .open(src.join("dir/Changed File.bin"))
                    .unwrap();
                file.write_all(&[0xAB; 70_000]).unwrap();
            },
            mode,
        );
        assert_names_changed_file(&error, "SOURCE_CHANGED");
        let spilled = after[CHANGED_SIZE as usize..].iter().position(|&b| b != 0);
        assert_eq!(
            spilled, None,
            "{mode:?}: bytes after the planned size were written"
        );
    }
}

#[test]
fn a_source_that_shrank_is_source_changed() {
    for (mode, len) in [
        (CopyMode::Auto, 100),
        (CopyMode::ReadWrite, 4999),
        (CopyMode::Auto, 0),
    ] {
        let (error, _) = write_after(
            |src| {
                let file = OpenOptions::new()
                    .write(true)
                    .open(src.join("dir/Changed File.bin"))
                    .unwrap();
                file.set_len(len).unwrap();
            },
            mode,
        );
        assert_names_changed_file(&error, "SOURCE_CHANGED");
    }
}

#[test]
fn a_removed_source_is_an_io_error_naming_it() {
    let (error, _) = write_after(
        |src| fs::remove_file(src.join("dir/Changed File.bin")).unwrap(),
        CopyMode::Auto,
    );
    assert_names_changed_file(&error, "IO");
    // The message also names the source file that could not be opened.
    assert!(
        error.to_string().contains("src/dir/Changed File.bin"),
        "{error}"
    );
}

#[test]
fn an_unchanged_tree_writes() {
    // The same setup with no change succeeds, so the failures above come from the changes.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    sources(&src);
    let tree = scan_root(&src);
    let options = options();
    let layout = tree.plan(&options, MIB, 64 * MIB).unwrap();
    let image = dir.path().join("disk.img");
    sized_image(&image, MIB + 64 * MIB, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    check_readers(&image, 64 * MIB, &layout, &src);
}

#[test]
fn progress_adds_up_to_the_file_bytes_and_false_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    sources(&src);
    let tree = scan_root(&src);
    let options = FormatOptions {
        bytes_per_sector: 512,
        cluster_size: None,
        label: None,
        volume_id: 1,
        timestamp: None,
        min_free: 0,
    };
    let layout = tree.plan(&options, MIB, 64 * MIB).unwrap();
    let image = sized_image(&dir.path().join("disk.img"), 65 * MIB, None);
    let target = Target {
        image: &image,
        image_name: "disk.img",
        state: Destination::Zeroed,
    };
    let mut total = 0;
    write(
        &layout,
        &target,
        &mut CopyEngine::new(CopyMode::Auto),
        &mut |bytes| {
            total += bytes;
            true
        },
    )
    .unwrap();
    assert_eq!(total, layout.summary().file_bytes);
    assert_eq!(total, 10_000 + CHANGED_SIZE + 8192 + 10);

    let error = write(
        &layout,
        &target,
        &mut CopyEngine::new(CopyMode::Auto),
        &mut |_| false,
    )
    .expect_err("returning false cancels");
    assert_eq!(error.error.code(), "ABORTED", "{error}");
    // Cancelled during the first file copied.
    assert_eq!(error.path.as_deref(), Some(CHANGED), "{error}");
}
