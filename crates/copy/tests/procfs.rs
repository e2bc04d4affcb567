//! procfs files report st_size 0 but have content: they are streamed until end of file, and
//! copy_file_range (which copies nothing from them) falls back.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;

use imgforge_copy::{CopyEngine, CopyError, CopyMode, Destination, OpenedCopy};

/// Copies `path` into a fresh image at offset 4096; returns the copied bytes and the length
/// `copy` reported.
fn copy_proc_file(path: &str, mode: CopyMode, capacity: u64) -> Result<(Vec<u8>, u64), CopyError> {
    copy_planned_proc_file(path, mode, capacity, None)
}

fn copy_planned_proc_file(
    path: &str,
    mode: CopyMode,
    capacity: u64,
    planned_length: Option<u64>,
) -> Result<(Vec<u8>, u64), CopyError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let image_path = dir.path().join("disk.img");
    let image = common::create_image(&image_path);
    let source = File::open(path).expect("open proc file");
    let job = OpenedCopy {
        source: &source,
        source_name: path,
        dest: &image,
        dest_name: "disk.img",
        dest_offset: 4096,
        dest_capacity: capacity,
        dest_state: Destination::Zeroed,
        planned_length,
    };
    let mut engine = CopyEngine::new(mode);
    let len = engine.copy(&job, &mut |_| true)?;
    let stats = engine.stats();
    assert_eq!(
        (stats.copy_file_range_bytes, stats.read_write_bytes),
        (0, len)
    );
    let written = std::fs::read(&image_path).expect("read image");
    assert!(written[..4096].iter().all(|&b| b == 0));
    Ok((written[4096..].to_vec(), len))
}

#[test]
fn proc_files_are_copied_completely() {
    // version and cpuinfo report size 0; cmdline reports its real size on recent kernels,
    // and copy_file_range still cannot copy it.
    for path in ["/proc/version", "/proc/cmdline", "/proc/cpuinfo"] {
        for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
            // cpuinfo may show a changing clock speed: retry until two reads agree around the copy.
            let matched = (0..5).any(|_| {
                let before = std::fs::read(path).expect("read proc file");
                let (copied, len) = copy_proc_file(path, mode, 1 << 20).expect("copy");
                assert_eq!(len, copied.len() as u64);
                copied == before
            });
            assert!(matched, "{path} ({mode:?}): copy differs from fs::read");
        }
    }
}

#[test]
fn proc_files_refuse_copy_file_range_mode() {
    let error = copy_proc_file("/proc/version", CopyMode::CopyFileRange, 1 << 20).unwrap_err();
    assert_eq!(error.code(), "IO");
    assert!(error.to_string().contains("/proc/version"), "{error}");
}

#[test]
fn proc_files_larger_than_the_capacity_are_too_large() {
    let len = std::fs::read("/proc/version").expect("read").len() as u64;
    let error = copy_proc_file("/proc/version", CopyMode::Auto, len - 10).unwrap_err();
    assert!(
        matches!(error, CopyError::TooLarge { source_len, capacity } if source_len > capacity && capacity == len - 10),
        "{error:?}"
    );
}

#[test]
fn a_proc_file_planned_as_empty_is_refused_as_unsized() {
    // Planning saw st_size 0; the data it would have missed must not be dropped silently.
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let error = copy_planned_proc_file("/proc/version", mode, 1 << 20, Some(0)).unwrap_err();
        assert!(matches!(error, CopyError::UnsizedSource), "{error:?}");
        assert_eq!(error.code(), "UNSIZED_SOURCE");
        assert!(error.to_string().contains("procfs"), "{error}");
    }
}
