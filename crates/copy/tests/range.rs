//! A writer that moves data to other offsets (a virtual-disk container) copies a range of the
//! source (`copy_range`): the range lands at the destination offset, holes inside it stay
//! holes, and a range past the source's end fails before anything is written.

#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::FileExt;

use common::*;
use imgforge_copy::{CopyError, CopyMode};

const KIB: u64 = 1024;

#[test]
fn a_range_lands_at_the_destination_offset_with_its_hole_skipped() {
    let scratch = Scratch::new();
    // Data at [64 KiB, 96 KiB) and [160 KiB, 200 KiB) of a 256 KiB file; the range 80..180 KiB
    // spans the hole between them.
    let (source, expected) = scratch.sparse(
        "source",
        256 * KIB,
        &[(64 * KIB, 32 * KIB), (160 * KIB, 40 * KIB)],
    );
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let dest = scratch.dest(&format!("out-{mode}"), 0, None);
        let mut engine = engine(mode, Faulty::default());
        let mut job = Copy::planned(&source, &dest, 256 * KIB);
        job.dest_offset = 8 * KIB;
        let mut reported = 0;
        let copied = engine
            .copy_range(&job.job(), 80 * KIB..180 * KIB, &mut |bytes| {
                reported += bytes;
                true
            })
            .expect("range copy");
        assert_eq!(copied, 100 * KIB);
        assert_eq!(reported, 100 * KIB, "holes count as progress too");
        let stats = engine.stats();
        assert_eq!(
            stats.hole_bytes,
            64 * KIB,
            "{mode}: the hole inside the range is skipped"
        );
        assert_eq!(
            stats.copy_file_range_bytes + stats.read_write_bytes,
            36 * KIB
        );
        let mut written = vec![0u8; 108 * KIB as usize];
        dest.read_exact_at(&mut written, 0)
            .expect("read destination");
        assert!(written[..8 * KIB as usize].iter().all(|&b| b == 0));
        assert_eq!(
            &written[8 * KIB as usize..],
            &expected[80 * KIB as usize..180 * KIB as usize],
            "{mode}"
        );
        assert_eq!(dest.metadata().unwrap().len(), 108 * KIB);
    }
}

#[test]
fn a_range_past_the_source_end_or_beyond_the_capacity_writes_nothing() {
    let scratch = Scratch::new();
    let source = scratch.file("source", &pattern(10_000, 3));
    let dest = scratch.dest("out", 0, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    let job = Copy::new(&source, &dest, 0);
    let error = engine
        .copy_range(&job.job(), 4096..12_000, &mut |_| true)
        .unwrap_err();
    assert!(
        matches!(
            error,
            CopyError::SourceChanged {
                before: 12_000,
                after: 10_000
            }
        ),
        "{error:?}"
    );
    let mut small = Copy::new(&source, &dest, 0);
    small.dest_capacity = 1000;
    let error = engine
        .copy_range(&small.job(), 0..4096, &mut |_| true)
        .unwrap_err();
    assert!(
        matches!(
            error,
            CopyError::TooLarge {
                source_len: 4096,
                capacity: 1000
            }
        ),
        "{error:?}"
    );
    assert_eq!(dest.metadata().unwrap().len(), 0);
    let error = engine
        .copy_range(
            &job.job(),
            std::ops::Range {
                start: 200,
                end: 100,
            },
            &mut |_| true,
        )
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("range 200..100 ends before it starts"),
        "{error}"
    );
    // An empty range copies nothing and succeeds.
    assert_eq!(
        engine
            .copy_range(&job.job(), 5000..5000, &mut |_| true)
            .unwrap(),
        0
    );
}

/// A range the caller knows is data (the build's own map) is copied as one extent: no
/// SEEK_DATA/SEEK_HOLE walk, and a hole inside it is copied as zeros (never wrong, only
/// allocated), with the same bytes at the destination.
#[test]
fn a_data_range_is_copied_without_walking_for_holes() {
    let scratch = Scratch::new();
    let (source, expected) = scratch.sparse(
        "source",
        256 * KIB,
        &[(64 * KIB, 32 * KIB), (160 * KIB, 40 * KIB)],
    );
    for mode in [CopyMode::Auto, CopyMode::ReadWrite] {
        let dest = scratch.dest(&format!("data-{mode}"), 0, None);
        let mut known = engine(mode, Faulty::default());
        let mut job = Copy::planned(&source, &dest, 256 * KIB);
        job.dest_offset = 8 * KIB;
        let copied = known
            .copy_data_range(&job.job(), 64 * KIB..200 * KIB, &mut |_| true)
            .expect("data range copy");
        assert_eq!(copied, 136 * KIB);
        assert_eq!(known.syscalls().seek_calls, 0, "{mode}: no hole walk");
        let stats = known.stats();
        assert_eq!(stats.hole_bytes, 0);
        assert_eq!(
            stats.copy_file_range_bytes + stats.read_write_bytes,
            136 * KIB
        );
        let mut written = vec![0u8; 136 * KIB as usize];
        dest.read_exact_at(&mut written, 8 * KIB)
            .expect("read destination");
        assert_eq!(
            &written[..],
            &expected[64 * KIB as usize..200 * KIB as usize],
            "{mode}"
        );
        // The same range walked for holes does seek.
        let mut walked = engine(mode, Faulty::default());
        let dest = scratch.dest(&format!("walked-{mode}"), 0, None);
        walked
            .copy_range(
                &Copy::planned(&source, &dest, 256 * KIB).job(),
                64 * KIB..200 * KIB,
                &mut |_| true,
            )
            .expect("range copy");
        assert!(walked.syscalls().seek_calls > 0);
    }
}
