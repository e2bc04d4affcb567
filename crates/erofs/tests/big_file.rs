//! A file over 4 GiB: its size does not fit a compact inode's 32 bits, so its inode must be
//! an extended one. The source is sparse and so is the image (holes are not copied), so the
//! test stays quick: fsck.erofs checks the image and, as root, the kernel's mount has the
//! size, the metadata and the bytes of the written islands and of some holes.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{random_bytes, skip_fixture, source_dir};

#[test]
fn a_file_over_4_gib_reads_back_with_its_size() {
    const SIZE: u64 = (4 << 30) + 4097;
    let islands = [(0, 5000), ((1 << 32) - 3, 100), (SIZE - 4097, 4097)];
    let (tmp, src) = source_dir();
    let file = fs::File::create(src.join("big")).unwrap();
    file.set_len(SIZE).unwrap();
    for (i, &(at, len)) in islands.iter().enumerate() {
        file.write_all_at(&random_bytes(i as u64, len), at).unwrap();
    }
    let image = tmp.path().join("fs.erofs");
    let plan = build(&src, &options(Ownership::Source, None), &image);
    assert!(plan.size() > SIZE);
    if let Some(fsck) = fsck_erofs() {
        fsck_ok(&fsck, &[], &image);
    }
    let mount = match ErofsMount::new(&image) {
        Ok(mount) => mount,
        Err(reason) => return skip_fixture(&reason),
    };
    compare(
        "over 4 GiB",
        &walk_tree(&src, false),
        &walk_tree(mount.path(), false),
        Some(Ownership::Source),
        Some(None),
    );
    let read = |path: &Path, at: u64, len: u64| {
        let mut buf = vec![0u8; len as usize];
        fs::File::open(path)
            .unwrap()
            .read_exact_at(&mut buf, at)
            .unwrap();
        buf
    };
    let (want, got) = (src.join("big"), mount.path().join("big"));
    let holes = [(5000, 4096), (1 << 31, 8192), ((1 << 32) + 97, 3000)];
    for (at, len) in islands.into_iter().chain(holes) {
        assert!(
            read(&want, at, len) == read(&got, at, len),
            "bytes {at}..{}",
            at + len
        );
    }
}
