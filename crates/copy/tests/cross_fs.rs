//! copy_file_range between different file systems fails with EXDEV; Auto falls back to
//! read/write and the bytes are the same.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyEngine, CopyMode, Destination, OpenedCopy};

const LEN: u64 = 20 * MIB + 333;
const ISLANDS: [(u64, u64); 2] = [(0, 6 * MIB), (12 * MIB, 8 * MIB + 333)];

/// Copies a sparse tmpfs file into an image in `image_dir`; returns what copy_file_range
/// reported.
fn copy_from_tmpfs(image_dir: &Path) -> Faulty {
    let shm = tempfile::tempdir_in("/dev/shm").expect("temp dir on /dev/shm");
    let expected = keep_islands(stamped_data(LEN, 5), &ISLANDS);
    let source_path = shm.path().join("source.bin");
    write_sparse(&source_path, &expected, &ISLANDS);
    let source = File::open(&source_path).expect("open source");
    let image_path = image_dir.join("disk.img");
    let image = common::create_image(&image_path);
    image.set_len(64 * MIB).expect("size image");

    let mut engine = CopyEngine::with_syscalls(CopyMode::Auto, Faulty::default());
    let job = OpenedCopy {
        source: &source,
        source_name: "source.bin",
        dest: &image,
        dest_name: "disk.img",
        dest_offset: 4 * MIB,
        dest_capacity: 60 * MIB,
        dest_state: Destination::Zeroed,
        planned_length: None,
    };
    assert_eq!(engine.copy(&job, &mut |_| true).expect("copy"), LEN);

    let written = std::fs::read(&image_path).expect("read image");
    assert!(
        written[4 * MIB as usize..(4 * MIB + LEN) as usize] == *expected,
        "bytes differ"
    );
    assert!(written[..4 * MIB as usize].iter().all(|&b| b == 0));
    let stats = engine.stats();
    assert!(stats.read_write_bytes > 0);
    assert_eq!(stats.copy_file_range_bytes, 0);
    assert_eq!(stats.read_write_bytes + stats.hole_bytes, LEN);
    assert_eq!(stats.hole_bytes, 6 * MIB, "tmpfs reports its holes");
    let recording = std::mem::take(engine.syscalls_mut());
    assert_eq!(
        recording.kernel_copy_errors,
        vec![nix::errno::Errno::EXDEV as i32]
    );
    recording
}

#[test]
fn tmpfs_source_into_loop_mounted_xfs_falls_back() {
    if !Path::new("/dev/shm").is_dir() {
        eprintln!("skipped: no /dev/shm");
        return;
    }
    let xfs = fixture_or_skip!(XfsMount::new(512 * MIB));
    copy_from_tmpfs(&xfs.path(""));
}

/// The same without root: /tmp is on another file system than /dev/shm on most machines.
#[test]
fn tmpfs_source_into_another_file_system_falls_back() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let on_other_fs = |a: &Path, b: &Path| {
        use std::os::unix::fs::MetadataExt;
        Path::new(a)
            .metadata()
            .and_then(|ma| Ok(ma.dev() != b.metadata()?.dev()))
            .unwrap_or(false)
    };
    if !on_other_fs(Path::new("/dev/shm"), tmp.path()) {
        eprintln!("skipped: /dev/shm and the temp dir are on the same file system (or /dev/shm is missing)");
        return;
    }
    copy_from_tmpfs(tmp.path());
}
