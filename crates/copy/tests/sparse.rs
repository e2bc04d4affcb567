//! Holes, dirty destinations and file offsets.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;

use common::*;
use imgforge_copy::{CopyMode, Destination, ZeroMethod};

const ALL_MODES: [CopyMode; 3] = [CopyMode::Auto, CopyMode::CopyFileRange, CopyMode::ReadWrite];

/// 64 MiB: data at the start, two islands (one unaligned in length), a big hole, and a
/// trailing hole.
fn sparse_layout() -> (u64, Vec<(u64, u64)>) {
    (
        64 * MIB,
        vec![
            (0, MIB),
            (20 * MIB, MIB + 4096),
            (40 * MIB + 4096, 8192 + 100),
        ],
    )
}

#[test]
fn holes_are_skipped_in_a_fresh_image() {
    let (len, islands) = sparse_layout();
    for mode in ALL_MODES {
        let scratch = Scratch::new();
        let (source, expected) = scratch.sparse("source", len, &islands);
        let dest = scratch.dest("disk.img", 80 * MIB, None);
        let mut engine = engine(mode, Faulty::default());
        let (result, reported) = Copy::new(&source, &dest, MIB).run(&mut engine);

        assert_eq!(result.expect("copy"), len);
        assert_eq!(reported, len);
        assert_image(&scratch.read("disk.img"), MIB, &expected, 0);
        let stats = engine.stats();
        let data = stats.copy_file_range_bytes + stats.read_write_bytes;
        // The file system reports data in whole blocks; the island of 8292 bytes is 3 blocks.
        let data_blocks_bytes = MIB + MIB + 4096 + 3 * 4096;
        assert_eq!(data, data_blocks_bytes, "{mode:?}");
        assert_eq!(stats.hole_bytes, len - data, "{mode:?}");
        let allocated = dest.metadata().expect("stat dest").blocks() * 512;
        assert!(
            allocated >= data && allocated <= data + 256 * 1024,
            "{mode:?}: {allocated} bytes allocated for {data} bytes of data"
        );
    }
}

#[test]
fn a_trailing_hole_still_extends_a_short_image() {
    let scratch = Scratch::new();
    let (source, expected) = scratch.sparse("source", 10 * MIB, &[(0, 4096)]);
    let dest = scratch.dest("disk.img", 0, None);
    let mut engine = engine(CopyMode::Auto, Faulty::default());
    Copy::new(&source, &dest, 4096)
        .run(&mut engine)
        .0
        .expect("copy");

    assert_eq!(dest.metadata().expect("stat").len(), 4096 + 10 * MIB);
    assert_image(&scratch.read("disk.img"), 4096, &expected, 0);
    assert_eq!(engine.stats().hole_bytes, 10 * MIB - 4096);
}

#[test]
fn holes_become_zeros_in_a_dirty_destination() {
    let islands = [(MIB, 4096), (5 * MIB, 3 * 4096 + 1)];
    for failing in [
        vec![],
        vec![ZeroMethod::ZeroRange],
        vec![ZeroMethod::ZeroRange, ZeroMethod::PunchHole],
    ] {
        let scratch = Scratch::new();
        let (source, expected) = scratch.sparse("source", 8 * MIB, &islands);
        let dest = scratch.dest("disk.img", 12 * MIB, Some(0xFF));
        let faulty = Faulty {
            failing_zero_methods: failing.clone(),
            ..Faulty::default()
        };
        let mut engine = engine(CopyMode::Auto, faulty);
        let mut copy = Copy::new(&source, &dest, 2 * MIB + 512);
        copy.dest_state = Destination::Dirty;
        let (result, reported) = copy.run(&mut engine);

        assert_eq!(result.expect("copy"), 8 * MIB, "{failing:?}");
        assert_eq!(reported, 8 * MIB);
        assert_image(&scratch.read("disk.img"), 2 * MIB + 512, &expected, 0xFF);
        assert_eq!(
            engine.stats().hole_bytes,
            8 * MIB - 4096 - 4 * 4096,
            "{failing:?}"
        );
        // Each failing method is tried once per job, not once per hole.
        let zero_calls = &engine.syscalls().zero_calls;
        let tried: Vec<_> = zero_calls.iter().take(failing.len()).copied().collect();
        assert_eq!(tried, failing);
        let succeeded = &zero_calls[failing.len()..];
        match failing.len() {
            0 => assert!(succeeded.iter().all(|&m| m == ZeroMethod::ZeroRange)),
            1 => assert!(succeeded.iter().all(|&m| m == ZeroMethod::PunchHole)),
            _ => assert!(succeeded.is_empty()),
        }
    }
}

#[test]
fn a_fully_allocated_source_is_copied_without_looking_for_holes() {
    let scratch = Scratch::new();
    let expected = pattern(3 * MIB as usize + 123, 7);
    let source = scratch.file("source", &expected);
    let dest = scratch.dest("disk.img", 5 * MIB, None);
    let mut copier = engine(CopyMode::Auto, Faulty::default());
    Copy::new(&source, &dest, MIB)
        .run(&mut copier)
        .0
        .expect("copy");
    assert_image(&scratch.read("disk.img"), MIB, &expected, 0);
    assert_eq!(copier.syscalls().seek_calls, 0);

    // A sparse source is still walked, and its holes skipped.
    let (source, expected) = scratch.sparse("sparse", 4 * MIB, &[(MIB, 4096)]);
    let dest = scratch.dest("sparse.img", 6 * MIB, None);
    let mut copier = engine(CopyMode::Auto, Faulty::default());
    Copy::new(&source, &dest, MIB)
        .run(&mut copier)
        .0
        .expect("copy");
    assert_image(&scratch.read("sparse.img"), MIB, &expected, 0);
    assert!(copier.syscalls().seek_calls > 0);
    assert!(copier.stats().hole_bytes > 0);
}

#[test]
fn without_seek_data_everything_is_copied() {
    for code in [Errno::EINVAL, Errno::ENOTTY] {
        let scratch = Scratch::new();
        let (source, expected) = scratch.sparse("source", 4 * MIB, &[(MIB, 4096)]);
        let dest = scratch.dest("disk.img", 6 * MIB, Some(0xAA));
        let faulty = Faulty {
            seek_error: Some(errno(code)),
            ..Faulty::default()
        };
        let mut engine = engine(CopyMode::Auto, faulty);
        Copy::new(&source, &dest, MIB)
            .run(&mut engine)
            .0
            .expect("copy");

        assert_image(&scratch.read("disk.img"), MIB, &expected, 0xAA);
        let stats = engine.stats();
        assert_eq!(stats.hole_bytes, 0);
        assert_eq!(
            stats.copy_file_range_bytes + stats.read_write_bytes,
            4 * MIB
        );
    }
}

#[test]
fn file_offsets_are_never_moved() {
    let (len, islands) = sparse_layout();
    for mode in ALL_MODES {
        for state in [Destination::Zeroed, Destination::Dirty] {
            let scratch = Scratch::new();
            let (source, _) = scratch.sparse("source", len, &islands);
            let dest = scratch.dest("disk.img", 0, None);
            assert_eq!((file_offset(&source), file_offset(&dest)), (0, 0));
            let mut copy = Copy::new(&source, &dest, MIB + 512);
            copy.dest_state = state;
            copy.run(&mut engine(mode, Faulty::default()))
                .0
                .expect("copy");
            assert_eq!(
                (file_offset(&source), file_offset(&dest)),
                (0, 0),
                "{mode:?} {state:?}"
            );
        }
    }
}

#[test]
fn a_moved_source_offset_is_restored_after_hole_detection() {
    let scratch = Scratch::new();
    let (source, _) = scratch.sparse("source", 8 * MIB, &[(2 * MIB, 4096)]);
    nix::unistd::lseek(&source, 12345, nix::unistd::Whence::SeekSet).expect("lseek");
    let dest = scratch.dest("disk.img", 0, None);
    Copy::new(&source, &dest, 0)
        .run(&mut engine(CopyMode::Auto, Faulty::default()))
        .0
        .expect("copy");
    assert_eq!(file_offset(&source), 12345);
}

/// The ranges the engine records are where the source's data landed: its data extents (whole
/// filesystem blocks, as SEEK_DATA gives them) shifted to the destination offset, in every mode;
/// holes are no range, and metadata written with `write_all_at` is one.
#[test]
fn written_ranges_are_the_data_copied_and_the_metadata_written() {
    let (len, _) = sparse_layout();
    let islands = [
        (0, MIB),
        (20 * MIB, MIB + 4096),
        (40 * MIB + 4096, 8192 + 100),
    ];
    for mode in ALL_MODES {
        let scratch = Scratch::new();
        let (source, _) = scratch.sparse("source", len, &islands);
        let dest = scratch.dest("disk.img", 80 * MIB, None);
        let mut engine = engine(mode, Faulty::default());
        let (result, _) = Copy::new(&source, &dest, MIB).run(&mut engine);
        result.expect("copy");
        engine
            .write_all_at(&dest, "disk.img", &[1u8; 512], 512)
            .expect("metadata");
        let ranges: Vec<(u64, u64)> = engine
            .written_ranges()
            .iter()
            .map(|r| (r.offset, r.length))
            .collect();
        assert_eq!(
            ranges,
            vec![
                (512, 512),
                (MIB, MIB),
                (21 * MIB, MIB + 4096),
                // The 8292-byte island: the file system holds it as three whole blocks.
                (41 * MIB + 4096, 3 * 4096),
            ],
            "{mode:?}"
        );
    }
}

/// `copy_range` copies a range from the middle of a source (a partition out of an image),
/// keeping its holes.
#[test]
fn copy_range_copies_the_middle_of_a_source_and_keeps_its_holes() {
    let (len, islands) = sparse_layout();
    for mode in ALL_MODES {
        let scratch = Scratch::new();
        let (source, expected) = scratch.sparse("source", len, &islands);
        let dest = scratch.dest("part.img", 30 * MIB, None);
        let mut engine = engine(mode, Faulty::default());
        let job = Copy::new(&source, &dest, 0).job();
        engine
            .copy_range(&job, 19 * MIB..49 * MIB, &mut |_| true)
            .expect("copy_range");
        let part = scratch.read("part.img");
        assert_eq!(part.len() as u64, 30 * MIB);
        assert_eq!(
            part[..],
            expected[19 * MIB as usize..49 * MIB as usize],
            "{mode:?}"
        );
        let allocated = dest.metadata().expect("stat").blocks() * 512;
        assert!(
            allocated <= 2 * MIB + 256 * 1024,
            "{mode:?}: holes kept, {allocated} allocated"
        );
        // A range past the source's end is refused, nothing written.
        assert!(engine
            .copy_range(&job, len - 10..len + 1, &mut |_| true)
            .is_err());
    }
}
