//! Sources that change between plan and write: the error is SOURCE_CHANGED, names the file's
//! path in the filesystem and its source, and nothing of the changed file is written.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use imgforge_copy::Destination;
use imgforge_erofs::{plan, Ownership};
use imgforge_testkit::{random_bytes, source_dir};

fn changed_after_plan(change: impl FnOnce(&Path)) {
    let (tmp, src) = source_dir();
    fs::create_dir(src.join("dir")).unwrap();
    fs::write(src.join("dir/a"), random_bytes(1, 10_000)).unwrap();
    fs::write(src.join("dir/changing"), random_bytes(2, 5000)).unwrap();
    let plan = plan(scan_dir(&src), &options(Ownership::Root, None)).unwrap();
    let offset = plan
        .file_placements()
        .find(|f| f.0 == "/dir/changing")
        .unwrap()
        .3;
    change(&src.join("dir/changing"));
    let image = tmp.path().join("fs.erofs");
    fs::File::create(&image)
        .unwrap()
        .set_len(plan.size())
        .unwrap();
    let error = write_plan(&plan, &image, Destination::Zeroed).unwrap_err();
    assert_eq!(error.error.code(), "SOURCE_CHANGED", "{error}");
    assert_eq!(error.path.as_deref(), Some("/dir/changing"));
    assert_eq!(
        error.source.as_deref(),
        Some(src.join("dir/changing").as_path())
    );
    let message = error.to_string();
    assert!(message.starts_with("/dir/changing: "), "{message}");
    assert!(
        message.contains("the source changed during the build"),
        "{message}"
    );
    let bytes = fs::read(&image).unwrap();
    // Its one whole block (its 904-byte tail is inline, read before anything is written).
    let region = &bytes[offset as usize..offset as usize + 4096];
    assert!(region.iter().all(|&b| b == 0), "nothing of it written");
}

#[test]
fn a_file_that_grew_is_source_changed() {
    changed_after_plan(|path| fs::write(path, random_bytes(3, 5001)).unwrap());
}

#[test]
fn a_file_that_shrank_is_source_changed() {
    changed_after_plan(|path| fs::write(path, b"short").unwrap());
}

#[test]
fn a_file_replaced_by_a_fifo_is_source_changed() {
    changed_after_plan(|path| {
        fs::remove_file(path).unwrap();
        assert!(mknod(path, libc::S_IFIFO | 0o644, 0));
    });
}
