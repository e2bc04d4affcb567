//! A writer that keeps a file's tail elsewhere (EROFS inline data) copies only its whole blocks
//! (`copy_prefix`) and reads the tail itself (`read_source_end`), with the same checks of the
//! source as a whole copy.

#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::FileExt;

use common::*;
use imgforge_copy::{CopyError, CopyMode};

#[test]
fn a_prefix_copy_writes_only_the_prefix_and_reads_the_tail_apart() {
    let scratch = Scratch::new();
    let data = pattern(10_000, 7);
    let source = scratch.file("source", &data);
    let dest = scratch.dest("disk.img", 16_384, Some(0xee));
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let mut engine = engine(mode, Faulty::default());
        let job = Copy::planned(&source, &dest, 10_000);
        let copied = engine
            .copy_prefix(&job.job(), 8192, &mut |_| true)
            .expect("prefix copy");
        assert_eq!(copied, 8192);
        let mut image = vec![0u8; 16_384];
        dest.read_exact_at(&mut image, 0).unwrap();
        assert_eq!(&image[..8192], &data[..8192], "{mode:?}");
        assert!(
            image[8192..].iter().all(|&b| b == 0xee),
            "nothing past the prefix"
        );
        let tail = engine
            .read_source_end(&source, "source", 10_000, 1808)
            .expect("tail");
        assert_eq!(tail, &data[8192..]);
    }
}

#[test]
fn prefix_copies_and_tail_reads_refuse_a_changed_source() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &pattern(10_000, 1));
    let dest = scratch.dest("disk.img", 16_384, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let error = engine
        .copy_prefix(
            &Copy::planned(&source, &dest, 9_000).job(),
            8192,
            &mut |_| true,
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            CopyError::SourceChanged {
                before: 9_000,
                after: 10_000
            }
        ),
        "{error:?}"
    );
    let error = engine
        .read_source_end(&source, "source", 10_001, 100)
        .unwrap_err();
    assert!(
        matches!(
            error,
            CopyError::SourceChanged {
                before: 10_001,
                after: 10_000
            }
        ),
        "{error:?}"
    );
    let calls = engine.syscalls();
    assert_eq!(
        (calls.kernel_copy_calls, calls.read_calls),
        (0, 0),
        "refused before any data call"
    );
}
