//! Capacity, cancellation, progress, changing sources and sources of unknown length.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;

use common::*;
use imgforge_copy::{CopyEngine, CopyError, CopyMode, Destination};

#[test]
fn too_large_is_detected_before_writing() {
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let scratch = Scratch::new();
        let source = scratch.file("source", &pattern((3 * MIB) as usize, 5));
        let dest = scratch.dest("disk.img", 4 * MIB, None);
        let mut copy = Copy::new(&source, &dest, MIB);
        copy.dest_capacity = 3 * MIB - 1;
        let mut engine = engine(mode, Faulty::default());
        let error = copy.run(&mut engine).0.unwrap_err();

        assert!(
            matches!(error, CopyError::TooLarge { source_len, capacity } if source_len == 3 * MIB && capacity == 3 * MIB - 1),
            "{error:?}"
        );
        assert_eq!(error.code(), "TOO_LARGE");
        let sys = engine.syscalls();
        assert_eq!((sys.kernel_copy_calls, sys.write_calls), (0, 0));
        assert_eq!(scratch.read("disk.img"), vec![0u8; (4 * MIB) as usize]);
    }
}

#[test]
fn an_endless_source_stops_at_the_capacity() {
    let scratch = Scratch::new();
    let zeros = File::open("/dev/zero").expect("open /dev/zero");
    let dest = scratch.dest("disk.img", 0, None);
    let mut copy = Copy::new(&zeros, &dest, 4096);
    copy.dest_capacity = MIB + 5;
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let error = copy.run(&mut engine).0.unwrap_err();

    assert!(
        matches!(error, CopyError::TooLarge { source_len, capacity } if source_len == MIB + 6 && capacity == MIB + 5),
        "{error:?}"
    );
    assert_eq!(
        dest.metadata().expect("stat").len(),
        4096 + MIB + 5,
        "wrote past the capacity"
    );
}

fn pipe_with(bytes: Vec<u8>) -> (File, std::thread::JoinHandle<()>) {
    let (reader, mut writer) = std::io::pipe().expect("pipe");
    let feeder = std::thread::spawn(move || {
        // The copy may stop reading early (capacity exceeded): a broken pipe is expected then.
        let _ = writer.write_all(&bytes);
    });
    (File::from(OwnedFd::from(reader)), feeder)
}

#[test]
fn a_pipe_is_streamed_until_its_end() {
    let scratch = Scratch::new();
    let data = pattern((5 * MIB + 7) as usize, 9);
    let (pipe, feeder) = pipe_with(data.clone());
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let (result, reported) = Copy::new(&pipe, &dest, 512).run(&mut engine);
    feeder.join().expect("feeder");

    assert_eq!(result.expect("copy"), data.len() as u64);
    assert_eq!(reported, data.len() as u64);
    assert_image(&scratch.read("disk.img"), 512, &data, 0);
    assert_eq!(
        engine.syscalls().kernel_copy_calls,
        0,
        "pipes have no offsets to pass"
    );
}

#[test]
fn a_pipe_larger_than_the_capacity_is_too_large() {
    let scratch = Scratch::new();
    let (pipe, feeder) = pipe_with(pattern((2 * MIB) as usize, 4));
    let dest = scratch.dest("disk.img", 0, None);
    let mut copy = Copy::new(&pipe, &dest, 0);
    copy.dest_capacity = MIB;
    let error = copy
        .run(&mut engine(CopyMode::Auto, Faulty::default()))
        .0
        .unwrap_err();
    drop(pipe);
    feeder.join().expect("feeder");

    assert!(
        matches!(error, CopyError::TooLarge { source_len, .. } if source_len > MIB),
        "{error:?}"
    );
    assert_eq!(dest.metadata().expect("stat").len(), MIB);
}

#[test]
fn an_empty_source_copies_nothing() {
    let scratch = Scratch::new();
    let source = scratch.file("source", b"");
    let dest = scratch.dest("disk.img", 0, None);
    for mode in [CopyMode::Auto, CopyMode::CopyFileRange, CopyMode::ReadWrite] {
        let mut engine = engine(mode, Faulty::default());
        let (result, reported) = Copy::new(&source, &dest, MIB).run(&mut engine);
        assert_eq!((result.expect("copy"), reported), (0, 0), "{mode:?}");
        assert_eq!(engine.syscalls().write_calls, 0);
    }
    assert_eq!(dest.metadata().expect("stat").len(), 0);
}

/// Progress reports of one copy, answering `keep_going(report_index)`.
fn progress_reports<S: imgforge_copy::Syscalls>(
    engine: &mut CopyEngine<S>,
    copy: &Copy,
    keep_going: impl Fn(usize) -> bool,
) -> (Result<u64, CopyError>, Vec<u64>) {
    let mut reports = Vec::new();
    let result = engine.copy(&copy.job(), &mut |bytes| {
        reports.push(bytes);
        keep_going(reports.len() - 1)
    });
    (result, reports)
}

#[test]
fn progress_is_reported_every_64_mib_and_at_the_end() {
    let scratch = Scratch::new();
    let block = pattern(MIB as usize, 2);
    let data = block.repeat(70);
    let source = scratch.file("source", &data);
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let dest = scratch.dest("disk.img", 0, None);
        let mut engine = engine(mode, Faulty::default());
        let (result, reports) =
            progress_reports(&mut engine, &Copy::new(&source, &dest, 0), |_| true);
        assert_eq!(result.expect("copy"), 70 * MIB);
        assert_eq!(reports, vec![64 * MIB, 6 * MIB], "{mode:?}");
    }
}

#[test]
fn zeroing_big_holes_reports_progress_and_can_be_cancelled() {
    let scratch = Scratch::new();
    let len = 300 * MIB;
    let (source, _) = scratch.sparse("source", len, &[(0, 4096), (len - 4096, 4096)]);
    let dest = scratch.dest("disk.img", 0, None);
    let mut copy = Copy::new(&source, &dest, 0);
    copy.dest_state = Destination::Dirty;

    let (result, reports) = progress_reports(
        &mut engine(CopyMode::Auto, Faulty::default()),
        &copy,
        |_| true,
    );
    assert_eq!(result.expect("copy"), len);
    assert_eq!(reports.iter().sum::<u64>(), len);
    assert!(
        reports.len() >= 5 && reports.iter().all(|&r| r <= 64 * MIB),
        "{reports:?}"
    );

    let dest = scratch.dest("cancelled.img", 0, None);
    copy.dest = &dest;
    let (result, reports) = progress_reports(
        &mut engine(CopyMode::Auto, Faulty::default()),
        &copy,
        |_| false,
    );
    let error = result.unwrap_err();
    assert!(matches!(error, CopyError::Cancelled), "{error:?}");
    assert_eq!(error.code(), "ABORTED");
    assert_eq!(reports.len(), 1);
    assert!(
        dest.metadata().expect("stat").len() < len,
        "the last island must not be copied"
    );
}

#[test]
fn cancelling_at_the_final_report_is_still_cancelled() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &pattern(10_000, 1));
    let dest = scratch.dest("disk.img", 0, None);
    let (result, reports) = progress_reports(
        &mut engine(CopyMode::Auto, Faulty::default()),
        &Copy::new(&source, &dest, 0),
        |_| false,
    );
    assert!(matches!(result, Err(CopyError::Cancelled)));
    assert_eq!(reports, vec![10_000]);
}

fn change_source_during_copy(mode: CopyMode, change: impl Fn(&File) + 'static) -> CopyError {
    let scratch = Scratch::new();
    let source = scratch.file("source", &pattern((3 * MIB) as usize, 8));
    let source_path = scratch.path("source");
    let dest = scratch.dest("disk.img", 0, None);
    let faulty = Faulty {
        kernel_copy_limit: Some(MIB as usize),
        read_limit: Some(MIB as usize),
        before_data_call: Some(Box::new(move |calls| {
            if calls == 1 {
                let other_handle = OpenOptions::new()
                    .append(true)
                    .open(&source_path)
                    .expect("reopen");
                change(&other_handle);
            }
        })),
        ..Faulty::default()
    };
    let mut engine = engine(mode, faulty);
    let error = Copy::new(&source, &dest, 0).run(&mut engine).0.unwrap_err();
    assert_eq!(error.code(), "SOURCE_CHANGED");
    error
}

#[test]
fn a_growing_source_is_reported() {
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let error =
            change_source_during_copy(mode, |mut file| file.write_all(&[1; 4096]).expect("append"));
        assert!(
            matches!(error, CopyError::SourceChanged { before, after } if before == 3 * MIB && after == 3 * MIB + 4096),
            "{mode:?}: {error:?}"
        );
    }
}

#[test]
fn a_shrinking_source_is_reported() {
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let error =
            change_source_during_copy(mode, |file| file.set_len(MIB + MIB / 2).expect("truncate"));
        assert!(
            matches!(error, CopyError::SourceChanged { before, after } if before == 3 * MIB && after == MIB + MIB / 2),
            "{mode:?}: {error:?}"
        );
    }
}
