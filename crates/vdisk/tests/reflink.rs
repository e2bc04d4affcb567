//! Reflinks: with the raw image and the container on one XFS (reflink=1), the data ranges of
//! a qcow2, a fixed VHD and a dynamic VHD share the raw image's extents instead of copying
//! them, because every container puts data at host offsets aligned as its guest offsets are.
//! Needs root and loop devices (skips otherwise, unless IMGFORGE_REQUIRE_ROOT_TESTS=1).

#![cfg(target_os = "linux")]

use std::fs::File;
use std::os::unix::fs::FileExt;

use imgforge_copy::{CopyEngine, CopyMode};
use imgforge_testkit::{fiemap, pattern, shared_bytes_in, skip_fixture, XfsMount, MIB};
use imgforge_vdisk::{
    plan_virtual_disk, write_virtual_disk, DataRange, VhdIdentity, VirtualDiskFormat,
};

#[test]
fn container_data_shares_the_raw_images_extents_on_xfs() {
    let xfs = match XfsMount::new(1024 * MIB) {
        Ok(xfs) => xfs,
        Err(reason) => return skip_fixture(&reason),
    };
    let size = 256 * MIB;
    // 4 KiB-aligned ranges, one spanning several clusters and blocks, one of a single page.
    let ranges = [
        DataRange {
            offset: 0,
            length: 20 * MIB,
        },
        DataRange {
            offset: 100 * MIB + 4096,
            length: 4096,
        },
        DataRange {
            offset: 200 * MIB - 64 * 1024,
            length: 30 * MIB,
        },
    ];
    let raw = xfs.path("disk.raw");
    let file = File::create(&raw).unwrap();
    file.set_len(size).unwrap();
    for (n, range) in ranges.iter().enumerate() {
        file.write_all_at(&pattern(range.length as usize, n as u64), range.offset)
            .unwrap();
    }
    file.sync_all().unwrap();
    let data: u64 = ranges.iter().map(|r| r.length).sum();
    let identity = VhdIdentity::resolve(None, Some(0)).unwrap();
    for format in [
        VirtualDiskFormat::Qcow2,
        VirtualDiskFormat::Vhd,
        VirtualDiskFormat::VhdDynamic,
    ] {
        let out = xfs.path(&format!("disk.{format}"));
        let plan = plan_virtual_disk(format, size, &ranges, &identity).unwrap();
        // copy-file-range mode: a fallback to read/write would be an error, not a silent copy.
        let mut engine = CopyEngine::new(CopyMode::CopyFileRange);
        let summary = write_virtual_disk(&plan, &raw, &out, &mut engine, &mut |_| true).unwrap();
        assert_eq!(summary.copy.copy_file_range_bytes, data, "{format}");
        assert_eq!(summary.copy.read_write_bytes, 0, "{format}");
        let shared = shared_bytes_in(&fiemap(&out), 0, u64::MAX);
        eprintln!("{format}: {shared} of {data} data bytes shared with the raw image");
        assert!(
            shared >= data,
            "{format}: only {shared} of {data} bytes shared"
        );
        // The metadata is not shared: at most the data plus the blocks the tables touch.
        assert!(shared < data + MIB, "{format}: {shared}");
        std::fs::remove_file(&out).unwrap();
    }
}
