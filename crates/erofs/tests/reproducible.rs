//! Reproducibility: the same tree and options give the same bytes, whatever order the sources'
//! directories list their entries in; and cancelling through the progress callback stops the
//! write with ABORTED.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_erofs::{plan, write, Ownership, Target};
use imgforge_testkit::{path_str, random_bytes, set_mtime, source_dir};

/// The same entries created in the given order (tmpfs and others list them in an order that
/// follows creation), with every mtime set afterwards.
fn make(root: &Path, names: &[&str]) {
    fs::create_dir_all(root.join("sub")).unwrap();
    for name in names {
        let seed = name.bytes().map(u64::from).sum::<u64>();
        fs::write(root.join(name), random_bytes(seed, 5000 + seed)).unwrap();
        fs::write(root.join("sub").join(name), random_bytes(seed + 1, 10)).unwrap();
    }
    for name in names {
        set_mtime(&root.join(name), 1000);
        set_mtime(&root.join("sub").join(name), 1000);
    }
    set_mtime(&root.join("sub"), 1000);
    set_mtime(root, 1000);
}

#[test]
fn the_same_tree_listed_in_another_order_gives_the_same_bytes() {
    let names = ["zeta", "alpha", "Mid", "日本", "b-2", "b-10", "_x"];
    let mut reversed = names;
    reversed.reverse();
    let (tmp, first_src) = source_dir();
    make(&first_src, &names);
    let second_src = tmp.path().join("second");
    fs::create_dir(&second_src).unwrap();
    make(&second_src, &reversed);
    let options = options(Ownership::Root, Some(1_700_000_000));
    let (first, second) = (tmp.path().join("1.erofs"), tmp.path().join("2.erofs"));
    build(&first_src, &options, &first);
    build(&second_src, &options, &second);
    assert!(fs::read(&first).unwrap() == fs::read(&second).unwrap());
}

#[test]
fn cancelling_in_the_progress_callback_aborts() {
    let (tmp, src) = source_dir();
    fs::write(src.join("data"), random_bytes(1, 100_000)).unwrap();
    let layout = plan(scan_dir(&src), &options(Ownership::Root, None)).unwrap();
    let image = tmp.path().join("fs.erofs");
    let file = fs::File::create(&image).unwrap();
    file.set_len(layout.size()).unwrap();
    let target = Target {
        image: &file,
        image_name: path_str(&image),
        state: Destination::Zeroed,
    };
    let mut engine = CopyEngine::new(CopyMode::Auto);
    let error = write(&layout, &target, &mut engine, &mut |_| false).unwrap_err();
    assert_eq!(error.error.code(), "ABORTED", "{error}");
    assert_eq!(error.path.as_deref(), Some("/data"));
}
