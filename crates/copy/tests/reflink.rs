//! copy_file_range into an image on the same XFS: block-aligned destinations share the
//! source's blocks (reflink), unaligned ones are copied, and holes stay holes either way.

// Loop devices, procfs, tmpfs and copy_file_range are Linux things.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;

use common::*;
use imgforge_copy::{CopyEngine, CopyMode, CopyStats, Destination, OpenedCopy};

const SOURCE_LEN: u64 = 64 * MIB;
const IMAGE_LEN: u64 = 256 * MIB;
/// Data, a 16 MiB hole, data.
const ISLANDS: [(u64, u64); 2] = [(0, 24 * MIB), (40 * MIB, 24 * MIB)];
const DATA_LEN: u64 = 48 * MIB;

struct Outcome {
    stats: CopyStats,
    extents: Vec<FiemapExtent>,
}

fn copy_into_image(xfs: &XfsMount, image_name: &str, dest_offset: u64) -> Outcome {
    let source_path = xfs.path("source.bin");
    let expected = keep_islands(stamped_data(SOURCE_LEN, 3), &ISLANDS);
    if !source_path.exists() {
        write_sparse(&source_path, &expected, &ISLANDS);
    }
    let source = File::open(&source_path).expect("open source");
    let image_path = xfs.path(image_name);
    let image = common::create_image(&image_path);
    image.set_len(IMAGE_LEN).expect("size image");

    let mut engine = CopyEngine::new(CopyMode::Auto);
    let job = OpenedCopy {
        source: &source,
        source_name: "source.bin",
        dest: &image,
        dest_name: image_name,
        dest_offset,
        dest_capacity: IMAGE_LEN - dest_offset,
        dest_state: Destination::Zeroed,
        planned_length: None,
    };
    assert_eq!(engine.copy(&job, &mut |_| true).expect("copy"), SOURCE_LEN);

    let written = std::fs::read(&image_path).expect("read image");
    let region = &written[dest_offset as usize..(dest_offset + SOURCE_LEN) as usize];
    assert!(
        region == expected.as_slice(),
        "{image_name}: copied bytes differ"
    );
    assert_eq!(written.len() as u64, IMAGE_LEN);
    Outcome {
        stats: engine.stats(),
        extents: fiemap(&image_path),
    }
}

fn shared_bytes(extents: &[FiemapExtent]) -> u64 {
    shared_bytes_in(extents, 0, u64::MAX)
}

fn data_bytes(extents: &[FiemapExtent]) -> u64 {
    extents.iter().filter(|e| !e.hole).map(|e| e.len).sum()
}

/// No data extent overlaps image bytes [start, end).
fn assert_hole(extents: &[FiemapExtent], start: u64, end: u64) {
    let overlapping: Vec<_> = extents
        .iter()
        .filter(|e| !e.hole && e.start < end && e.start + e.len > start)
        .collect();
    assert!(
        overlapping.is_empty(),
        "data in the hole [{start}, {end}): {overlapping:?}"
    );
}

#[test]
fn aligned_destination_is_reflinked_and_unaligned_is_copied() {
    let xfs = fixture_or_skip!(XfsMount::new(1024 * MIB));

    let aligned = copy_into_image(&xfs, "aligned.img", MIB);
    let shared = shared_bytes(&aligned.extents);
    eprintln!(
        "aligned (1 MiB): shared {shared} of {DATA_LEN} data bytes, image data extents {} bytes, stats {:?}",
        data_bytes(&aligned.extents),
        aligned.stats
    );
    assert_eq!(
        aligned.stats,
        CopyStats {
            copy_file_range_bytes: DATA_LEN,
            read_write_bytes: 0,
            hole_bytes: SOURCE_LEN - DATA_LEN
        }
    );
    assert!(
        shared * 100 >= DATA_LEN * 99,
        "only {shared} of {DATA_LEN} bytes are shared"
    );
    assert_eq!(
        data_bytes(&aligned.extents),
        shared,
        "unshared data in the image"
    );
    assert_hole(&aligned.extents, MIB + 24 * MIB, MIB + 40 * MIB);

    let unaligned_offset = MIB + 512;
    let unaligned = copy_into_image(&xfs, "unaligned.img", unaligned_offset);
    let shared = shared_bytes(&unaligned.extents);
    eprintln!(
        "unaligned (1 MiB + 512): shared {shared} bytes, image data extents {} bytes, stats {:?}",
        data_bytes(&unaligned.extents),
        unaligned.stats
    );
    assert_eq!(shared, 0);
    assert_eq!(
        unaligned.stats.copy_file_range_bytes + unaligned.stats.read_write_bytes,
        DATA_LEN
    );
    // The blocks around the hole's edges hold data (the copy is shifted by 512 bytes).
    assert_hole(
        &unaligned.extents,
        unaligned_offset + 24 * MIB + 4096,
        unaligned_offset + 40 * MIB - 4096,
    );
}
