//! A real tree nobody here wrote: this machine's /usr/share (tens of thousands of entries,
//! hundreds of MiB, written by package managers rather than by these tests). It is scanned
//! read-only in place (the scan and the copy engine only read their sources), written as
//! EROFS with the sources' owners and times, checked by fsck.erofs and, as root, mounted by
//! the kernel and compared entry by entry with the source: bytes (streamed), modes, owners,
//! symlink targets, link counts and hard links, xattrs and mtimes.

#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::time::Instant;

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{is_root, skip, skip_fixture};

const TREE: &str = "/usr/share";

#[test]
fn usr_share_reads_back_through_fsck_and_the_kernel() {
    let source = Path::new(TREE);
    if !source.is_dir() {
        return skip(format!("{TREE} is missing on this machine"));
    }
    if !is_root() {
        // As another user parts of it may be unreadable, and nothing can be mounted anyway.
        return skip_fixture(&format!(
            "{TREE} is read and mounted only as root (some of it may be unreadable otherwise)"
        ));
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("temp dir");
    let image = tmp.path().join("usr-share.erofs");
    let plan = build(source, &options(Ownership::Source, None), &image);
    eprintln!(
        "{TREE}: {} inodes, {} bytes, built in {:?}",
        plan.inode_count(),
        plan.size(),
        started.elapsed()
    );
    verify_clean(TREE, &plan, &image);
    eprintln!("imgforge's reader verified it ({:?})", started.elapsed());
    if let Some(fsck) = fsck_erofs() {
        // --extract without a folder reads every file's data too (plain fsck.erofs 1.5 does not).
        let report = fsck_ok(&fsck, &["--extract"], &image);
        eprintln!("fsck.erofs: {} ({:?})", report.trim(), started.elapsed());
    }
    let mount = match ErofsMount::new(&image) {
        Ok(mount) => mount,
        Err(reason) => return skip_fixture(&reason),
    };
    // Walked after the build: a package installed meanwhile would show up as a difference.
    let (want, got) = (walk_tree(source, false), walk_tree(mount.path(), false));
    compare(TREE, &want, &got, Some(Ownership::Source), Some(None));
    let mut files = 0;
    for (path, _) in want.iter().filter(|(_, e)| e.mode & 0o170000 == 0o100000) {
        assert!(
            same_bytes(&source.join(path), &mount.path().join(path)),
            "{TREE}/{}: the bytes differ",
            path.display()
        );
        files += 1;
    }
    eprintln!(
        "{TREE}: {} entries ({files} files) match, in {:?}",
        want.len(),
        started.elapsed()
    );
}
