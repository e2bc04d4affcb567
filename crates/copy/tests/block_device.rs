//! A loop device as destination (dirty: holes must become zeros) and as source (its size
//! comes from BLKGETSIZE64).

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::os::unix::fs::FileExt;

use common::*;
use imgforge_copy::{CopyEngine, CopyMode, CopyStats, Destination, OpenedCopy, ZeroMethod};

const DEVICE_LEN: u64 = 48 * MIB;
const SOURCE_LEN: u64 = 20 * MIB + 4096;
const ISLANDS: [(u64, u64); 3] = [(0, MIB), (8 * MIB, 2 * MIB + 100), (20 * MIB, 4096)];

fn read_all(file: &File, len: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0).expect("read device");
    bytes
}

#[test]
fn dirty_block_device_gets_data_and_zeroed_holes() {
    let device = fixture_or_skip!(LoopDevice::filled(DEVICE_LEN, 0xFF));
    let dir = tempfile::tempdir().expect("temp dir");
    let expected = keep_islands(stamped_data(SOURCE_LEN, 9), &ISLANDS);
    let source = write_sparse(&dir.path().join("source.bin"), &expected, &ISLANDS);
    let dest = device.open();
    let dest_offset = 3 * MIB + 512;

    let mut engine = CopyEngine::with_syscalls(CopyMode::Auto, Faulty::default());
    let job = OpenedCopy {
        source: &source,
        source_name: "source.bin",
        dest: &dest,
        dest_name: device.device.to_str().expect("utf-8"),
        dest_offset,
        dest_capacity: DEVICE_LEN - dest_offset,
        dest_state: Destination::Dirty,
        planned_length: None,
    };
    let mut reported = 0;
    let len = engine.copy(&job, &mut |bytes| {
        reported += bytes;
        true
    });
    assert_eq!(len.expect("copy"), SOURCE_LEN);
    assert_eq!(reported, SOURCE_LEN);

    let data_len = MIB + (2 * MIB + 4096) + 4096; // whole blocks, as SEEK_HOLE reports them
    assert_eq!(
        engine.stats(),
        CopyStats {
            copy_file_range_bytes: 0,
            read_write_bytes: data_len,
            hole_bytes: SOURCE_LEN - data_len
        }
    );
    let recording = engine.syscalls();
    assert!(
        !recording.kernel_copy_errors.is_empty(),
        "copy_file_range to a block device must fail"
    );
    eprintln!(
        "copy_file_range errnos {:?}, holes zeroed with {:?}",
        recording.kernel_copy_errors, recording.zero_methods_ok
    );
    assert!(recording
        .zero_methods_ok
        .iter()
        .all(|&m| m == ZeroMethod::ZeroRange));

    let written = read_all(&dest, DEVICE_LEN);
    let region = dest_offset as usize..(dest_offset + SOURCE_LEN) as usize;
    assert!(
        written[region.clone()] == *expected,
        "device bytes differ from the source"
    );
    assert!(
        written[..region.start].iter().all(|&b| b == 0xFF),
        "bytes before the region changed"
    );
    assert!(
        written[region.end..].iter().all(|&b| b == 0xFF),
        "bytes after the region changed"
    );
}

#[test]
fn copy_file_range_mode_into_a_block_device_is_an_error() {
    let device = fixture_or_skip!(LoopDevice::filled(4 * MIB, 0xFF));
    let dir = tempfile::tempdir().expect("temp dir");
    let source_path = dir.path().join("source.bin");
    std::fs::write(&source_path, vec![7u8; 8192]).expect("write source");
    let source = File::open(&source_path).expect("open source");
    let dest = device.open();
    let job = OpenedCopy {
        source: &source,
        source_name: "source.bin",
        dest: &dest,
        dest_name: "loop",
        dest_offset: 0,
        dest_capacity: 4 * MIB,
        dest_state: Destination::Dirty,
        planned_length: None,
    };
    let error = CopyEngine::new(CopyMode::CopyFileRange)
        .copy(&job, &mut |_| true)
        .unwrap_err();
    assert_eq!(error.code(), "IO");
    assert!(error.to_string().contains("copy_file_range"), "{error}");
}

#[test]
fn block_device_source_length_comes_from_the_device() {
    let device = fixture_or_skip!(LoopDevice::filled(6 * MIB, 0x5A));
    let pattern = stamped_data(MIB, 4);
    device
        .open()
        .write_all_at(&pattern, 2 * MIB)
        .expect("write device");
    let source = File::open(&device.device).expect("open device");
    let dir = tempfile::tempdir().expect("temp dir");
    let image_path = dir.path().join("disk.img");
    let image = common::create_image(&image_path);
    let job = OpenedCopy {
        source: &source,
        source_name: "loop",
        dest: &image,
        dest_name: "disk.img",
        dest_offset: MIB,
        dest_capacity: 6 * MIB,
        dest_state: Destination::Zeroed,
        planned_length: None,
    };
    let mut engine = CopyEngine::new(CopyMode::Auto);
    assert_eq!(engine.copy(&job, &mut |_| true).expect("copy"), 6 * MIB);
    assert_eq!(engine.stats().hole_bytes, 0, "block devices have no holes");

    let mut expected = vec![0x5A; (6 * MIB) as usize];
    expected[(2 * MIB) as usize..(3 * MIB) as usize].copy_from_slice(&pattern);
    let written = std::fs::read(&image_path).expect("read image");
    assert!(written[MIB as usize..] == *expected);

    let too_small = OpenedCopy {
        dest_capacity: 6 * MIB - 1,
        ..job
    };
    let error = engine.copy(&too_small, &mut |_| true).unwrap_err();
    assert_eq!(error.code(), "TOO_LARGE");
}
