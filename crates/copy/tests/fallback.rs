//! copy_file_range fallbacks, errors, short copies and 0 returns.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use nix::errno::Errno;

use common::*;
use imgforge_copy::{CopyError, CopyMode, CopyStats, PortableSyscalls};

const FALLBACK_ERRNOS: [Errno; 6] = [
    Errno::ENOSYS,
    Errno::EXDEV,
    Errno::EINVAL,
    Errno::EIO,
    Errno::EOPNOTSUPP,
    Errno::EPERM,
];

fn source_bytes() -> Vec<u8> {
    pattern((3 * MIB + 123) as usize, 1)
}

#[test]
fn enotsup_is_eopnotsupp_on_linux() {
    assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
}

#[test]
fn fallback_errnos_on_first_call_and_mid_file_give_identical_bytes() {
    let data = source_bytes();
    for code in FALLBACK_ERRNOS {
        for failing_after in [0, MIB] {
            let scratch = Scratch::new();
            let source = scratch.file("source", &data);
            let dest = scratch.dest("disk.img", 8 * MIB, None);
            let faulty = Faulty {
                kernel_copy_error: Some((errno(code), failing_after)),
                kernel_copy_limit: Some(MIB as usize),
                ..Faulty::default()
            };
            let mut engine = engine(CopyMode::Auto, faulty);
            let (result, reported) = Copy::new(&source, &dest, 2 * MIB).run(&mut engine);

            let case = format!("{code} after {failing_after} bytes");
            assert_eq!(result.expect(&case), data.len() as u64, "{case}");
            assert_image(&scratch.read("disk.img"), 2 * MIB, &data, 0);
            let stats = engine.stats();
            assert_eq!(stats.copy_file_range_bytes, failing_after, "{case}");
            assert_eq!(
                stats.read_write_bytes,
                data.len() as u64 - failing_after,
                "{case}"
            );
            assert_eq!(stats.hole_bytes, 0, "{case}");
            assert_eq!(reported, data.len() as u64, "{case}");
            // The failing call was the last one: the rest of the job used read/write.
            assert_eq!(
                engine.syscalls().kernel_copy_calls as u64,
                failing_after / MIB + 1
            );
        }
    }
}

#[test]
fn fallback_lasts_one_job_only() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 16 * MIB, None);
    let faulty = Faulty {
        kernel_copy_error: Some((errno(Errno::EXDEV), 0)),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::Auto, faulty);
    Copy::new(&source, &dest, 0)
        .run(&mut engine)
        .0
        .expect("first copy");
    engine.syscalls_mut().kernel_copy_error = None;
    Copy::new(&source, &dest, 8 * MIB)
        .run(&mut engine)
        .0
        .expect("second copy");

    let len = data.len() as u64;
    let expected = CopyStats {
        copy_file_range_bytes: len,
        read_write_bytes: len,
        hole_bytes: 0,
    };
    assert_eq!(engine.stats(), expected);
}

#[test]
fn other_errnos_are_errors_naming_both_files() {
    for code in [Errno::ENOSPC, Errno::EBADF] {
        let scratch = Scratch::new();
        let source = scratch.file("source", &source_bytes());
        let dest = scratch.dest("disk.img", 8 * MIB, None);
        let faulty = Faulty {
            kernel_copy_error: Some((errno(code), 0)),
            ..Faulty::default()
        };
        let mut engine = engine(CopyMode::Auto, faulty);
        let error = Copy::new(&source, &dest, MIB)
            .run(&mut engine)
            .0
            .unwrap_err();

        assert_eq!(error.code(), "IO");
        let CopyError::Io { context, source } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(source.raw_os_error(), Some(errno(code)));
        assert!(context.contains("copy_file_range"), "{context}");
        assert!(context.contains("/src/source.bin"), "{context}");
        assert!(
            context.contains("/dst/disk.img at offset 1048576"),
            "{context}"
        );
        assert!(error.to_string().starts_with(context.as_str()));
        assert_eq!(engine.syscalls().read_calls, 0, "{code} must not fall back");
    }
}

#[test]
fn copy_file_range_mode_never_falls_back() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &source_bytes());
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let faulty = Faulty {
        kernel_copy_error: Some((errno(Errno::EXDEV), MIB)),
        kernel_copy_limit: Some(MIB as usize),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::CopyFileRange, faulty);
    let error = Copy::new(&source, &dest, 0).run(&mut engine).0.unwrap_err();

    let CopyError::Io { source, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(source.raw_os_error(), Some(errno(Errno::EXDEV)));
    assert_eq!(
        (engine.syscalls().read_calls, engine.syscalls().write_calls),
        (0, 0)
    );
    assert_eq!(engine.stats().read_write_bytes, 0);
    assert_eq!(engine.stats().copy_file_range_bytes, MIB);
}

#[test]
fn copy_file_range_mode_copies_everything_with_the_kernel() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let mut engine = engine(CopyMode::CopyFileRange, Faulty::default());
    Copy::new(&source, &dest, 4096)
        .run(&mut engine)
        .0
        .expect("copy");
    assert_image(&scratch.read("disk.img"), 4096, &data, 0);
    assert_eq!(engine.stats().copy_file_range_bytes, data.len() as u64);
    assert_eq!(engine.syscalls().read_calls, 0);
}

#[test]
fn read_write_mode_never_calls_copy_file_range() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let mut engine = engine(CopyMode::ReadWrite, Faulty::default());
    Copy::new(&source, &dest, 513)
        .run(&mut engine)
        .0
        .expect("copy");
    assert_image(&scratch.read("disk.img"), 513, &data, 0);
    assert_eq!(engine.syscalls().kernel_copy_calls, 0);
    assert_eq!(engine.stats().read_write_bytes, data.len() as u64);
}

#[test]
fn short_copies_are_continued() {
    let scratch = Scratch::new();
    let data = pattern(300_000, 3);
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", MIB, None);
    let faulty = Faulty {
        kernel_copy_limit: Some(4097),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::CopyFileRange, faulty);
    let (result, reported) = Copy::new(&source, &dest, 8192).run(&mut engine);

    assert_eq!(result.expect("copy"), data.len() as u64);
    assert_image(&scratch.read("disk.img"), 8192, &data, 0);
    assert_eq!(
        engine.syscalls().kernel_copy_calls,
        data.len().div_ceil(4097)
    );
    assert_eq!(engine.stats().copy_file_range_bytes, data.len() as u64);
    assert_eq!(reported, data.len() as u64);
}

#[test]
fn short_reads_are_continued() {
    let scratch = Scratch::new();
    let data = pattern(300_000, 4);
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", MIB, None);
    let faulty = Faulty {
        read_limit: Some(4097),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::ReadWrite, faulty);
    Copy::new(&source, &dest, 100)
        .run(&mut engine)
        .0
        .expect("copy");

    assert_image(&scratch.read("disk.img"), 100, &data, 0);
    assert_eq!(engine.syscalls().read_calls, data.len().div_ceil(4097));
}

#[test]
fn zero_on_the_first_call_falls_back() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let faulty = Faulty {
        kernel_copy_zero_after: Some(0),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::Auto, faulty);
    Copy::new(&source, &dest, 0)
        .run(&mut engine)
        .0
        .expect("copy");

    assert_image(&scratch.read("disk.img"), 0, &data, 0);
    assert_eq!(engine.stats().read_write_bytes, data.len() as u64);
    assert_eq!(engine.syscalls().kernel_copy_calls, 1);
}

#[test]
fn zero_after_data_is_a_changed_source() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let faulty = Faulty {
        kernel_copy_zero_after: Some(MIB),
        kernel_copy_limit: Some(MIB as usize),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::Auto, faulty);
    let error = Copy::new(&source, &dest, 0).run(&mut engine).0.unwrap_err();

    assert!(
        matches!(error, CopyError::SourceChanged { before, after: MIB } if before == data.len() as u64),
        "{error:?}"
    );
    assert_eq!(error.code(), "SOURCE_CHANGED");
    assert_eq!(
        engine.syscalls().read_calls,
        0,
        "end of file must not fall back"
    );
}

#[test]
fn zero_on_the_first_call_in_copy_file_range_mode_is_an_error() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &source_bytes());
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let faulty = Faulty {
        kernel_copy_zero_after: Some(0),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::CopyFileRange, faulty);
    let error = Copy::new(&source, &dest, 0).run(&mut engine).0.unwrap_err();

    let CopyError::Io { context, source } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(source.kind(), std::io::ErrorKind::Unsupported);
    assert!(context.contains("/src/source.bin"), "{context}");
    assert_eq!(engine.syscalls().read_calls, 0);
}

#[test]
fn early_end_of_file_while_reading_is_a_changed_source() {
    let scratch = Scratch::new();
    let data = source_bytes();
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 8 * MIB, None);
    let faulty = Faulty {
        read_zero_after: Some(2 * MIB),
        read_limit: Some(MIB as usize),
        ..Faulty::default()
    };
    let mut engine = engine(CopyMode::ReadWrite, faulty);
    let error = Copy::new(&source, &dest, 0).run(&mut engine).0.unwrap_err();

    assert!(
        matches!(error, CopyError::SourceChanged { after, .. } if after == 2 * MIB),
        "{error:?}"
    );
}

#[test]
fn portable_syscalls_copy_everything_with_read_write() {
    let scratch = Scratch::new();
    let (source, expected) = scratch.sparse("source", 5 * MIB, &[(MIB, 4096), (4 * MIB, 100)]);
    let dest = scratch.dest("disk.img", 8 * MIB, Some(0xFF));
    let mut engine = imgforge_copy::CopyEngine::with_syscalls(CopyMode::Auto, PortableSyscalls);
    let mut copy = Copy::new(&source, &dest, MIB);
    copy.dest_state = imgforge_copy::Destination::Dirty;
    copy.run(&mut engine).0.expect("copy");

    assert_image(&scratch.read("disk.img"), MIB, &expected, 0xFF);
    let stats = engine.stats();
    assert_eq!(
        (stats.copy_file_range_bytes, stats.read_write_bytes),
        (0, 5 * MIB)
    );
    assert_eq!((file_offset(&source), file_offset(&dest)), (0, 0));
}
