//! Jobs that carry their planned length: what the engine checks before, during and after
//! copying, and what it costs in system calls.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use imgforge_copy::{open_source, CopyError, CopyMode};

#[test]
fn a_source_of_another_length_than_planned_is_refused_before_any_data_call() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &pattern(10_000, 1));
    let dest = scratch.dest("disk.img", 0, None);
    for planned in [9_999, 10_001] {
        let mut engine = engine(CopyMode::Auto, Faulty::default());
        let error = Copy::planned(&source, &dest, planned)
            .run(&mut engine)
            .0
            .unwrap_err();
        assert!(
            matches!(error, CopyError::SourceChanged { before, after: 10_000 } if before == planned),
            "{error:?}"
        );
        let calls = engine.syscalls();
        assert_eq!((calls.kernel_copy_calls, calls.read_calls), (0, 0));
    }
}

#[test]
fn a_fifo_swapped_in_for_a_planned_file_is_refused_without_blocking() {
    let scratch = Scratch::new();
    let fifo = scratch.path("swapped");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let source = open_source(&fifo).expect("open without a writer");
    let dest = scratch.dest("disk.img", 0, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let error = Copy::planned(&source, &dest, 4096)
        .run(&mut engine)
        .0
        .unwrap_err();
    assert!(
        matches!(error, CopyError::NoLongerRegular { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "SOURCE_CHANGED");
    assert!(error.to_string().contains("FIFO"), "{error}");
}

#[test]
fn an_empty_planned_file_costs_one_stat_and_one_probe() {
    let scratch = Scratch::new();
    let source = scratch.file("empty", &[]);
    let dest = scratch.dest("disk.img", 0, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let (result, reported) = Copy::planned(&source, &dest, 0).run(&mut engine);
    assert_eq!((result.expect("copy"), reported), (0, 0));
    let calls = engine.syscalls();
    assert_eq!(
        (calls.info_calls, calls.read_calls, calls.kernel_copy_calls),
        (1, 1, 0)
    );
}

#[test]
fn a_file_copied_in_one_call_is_stated_once_and_a_longer_copy_twice() {
    let scratch = Scratch::new();
    let data = pattern((3 * MIB) as usize, 4);
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 0, None);

    let mut one_call = engine(CopyMode::Auto, Faulty::default());
    Copy::planned(&source, &dest, 3 * MIB)
        .run(&mut one_call)
        .0
        .expect("copy");
    assert_eq!(
        (
            one_call.syscalls().kernel_copy_calls,
            one_call.syscalls().info_calls
        ),
        (1, 1)
    );

    let faulty = Faulty {
        kernel_copy_limit: Some(MIB as usize),
        ..Faulty::default()
    };
    let mut three_calls = engine(CopyMode::Auto, faulty);
    Copy::planned(&source, &dest, 3 * MIB)
        .run(&mut three_calls)
        .0
        .expect("copy");
    assert_eq!(
        (
            three_calls.syscalls().kernel_copy_calls,
            three_calls.syscalls().info_calls
        ),
        (3, 2)
    );
    assert_image(&scratch.read("disk.img"), 0, &data, 0);
}
