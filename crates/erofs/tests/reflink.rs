//! Reflinks: with the sources and the image on one XFS (reflink=1) and the partition at a
//! 4 KiB-aligned offset, every whole 4 KiB block of every file is shared with its source,
//! because FLAT_PLAIN data starts on a block of the filesystem. Needs root and loop devices
//! (skips otherwise, unless IMGFORGE_REQUIRE_ROOT_TESTS=1).

#![cfg(target_os = "linux")]

mod common;

use std::fs;

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{fiemap, random_bytes, shared_bytes_in, skip_fixture, XfsMount, MIB};

const BLOCK: u64 = 4096;
const SIZES: [u64; 8] = [0, 100, 4095, 4096, 4097, 8191, MIB, 10_000_001];

#[test]
fn file_blocks_are_shared_with_the_sources_on_xfs() {
    let xfs = match XfsMount::new(512 * MIB) {
        Ok(xfs) => xfs,
        Err(reason) => return skip_fixture(&reason),
    };
    let src = xfs.path("src");
    fs::create_dir_all(src.join("nested/deeper")).unwrap();
    for (i, size) in SIZES.into_iter().enumerate() {
        let dir = if i % 2 == 0 {
            src.clone()
        } else {
            src.join("nested/deeper")
        };
        fs::write(
            dir.join(format!("file-{size}")),
            random_bytes(i as u64, size),
        )
        .unwrap();
    }
    let image = xfs.path("disk.img");
    let offset = MIB;
    let plan = build_at(&src, &options(Ownership::Root, Some(0)), &image, offset);
    let extents = fiemap(&image);
    let (mut whole, mut shared) = (0, 0);
    for (path, _, size, start) in plan.file_placements() {
        assert_eq!(start % BLOCK, 0, "{path} starts 4 KiB-aligned in the image");
        let end = start + size / BLOCK * BLOCK;
        let here = shared_bytes_in(&extents, start, end);
        eprintln!("{path}: {here} of {} whole-block bytes shared", end - start);
        whole += end - start;
        shared += here;
    }
    eprintln!("shared {shared} of {whole} whole-block bytes");
    assert!(whole >= 10 * MIB, "{whole} whole-block bytes");
    assert!(shared * 100 >= whole * 95, "shared {shared} of {whole}");
    // And the partition is a good filesystem.
    let mount = match ErofsMount::at(&image, offset) {
        Ok(mount) => mount,
        Err(reason) => return skip_fixture(&reason),
    };
    assert_eq!(
        fs::read(mount.path().join("nested/deeper/file-10000001")).unwrap(),
        fs::read(src.join("nested/deeper/file-10000001")).unwrap()
    );
}
