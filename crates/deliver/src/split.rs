//! One partition of a finished image as a file of its own, through the copy engine: on XFS
//! and btrfs its data is reflinked (shared) from the image, elsewhere copied; holes stay holes.

use std::path::Path;

use imgforge_copy::{merged, CopyEngine, CopyMode, Destination, OpenedCopy};

use crate::hash::hash_image;
use crate::output::{create_new, Artifact};
use crate::{ByteRange, DeliverError, Progress};

/// The part of `ranges` inside `[offset, offset + size)`, relative to `offset`.
pub(crate) fn ranges_within(ranges: &[ByteRange], offset: u64, size: u64) -> Vec<ByteRange> {
    let end = offset + size;
    merged(
        ranges
            .iter()
            .filter(|r| r.offset < end && r.end() > offset)
            .map(|r| {
                let start = r.offset.max(offset);
                ByteRange {
                    offset: start - offset,
                    length: r.end().min(end) - start,
                }
            })
            .collect(),
    )
}

/// One partition file to write: bytes `[offset, offset + size)` of the image into the new file
/// `output`, hashed when `checksum` is set.
#[derive(Debug, Clone, Copy)]
pub struct PartitionFile<'a> {
    pub offset: u64,
    pub size: u64,
    pub output: &'a Path,
    pub checksum: bool,
}

/// Writes `file` from `image` through a copy engine in `mode` (as for a build), and with
/// `file.checksum` hashes it: its data ranges are those of `ranges` within the partition, holes
/// hashed as zeros without being read.
pub fn split_partition(
    image: &Path,
    ranges: &[ByteRange],
    file: PartitionFile,
    mode: CopyMode,
    progress: Progress,
) -> Result<Artifact, DeliverError> {
    let PartitionFile {
        offset,
        size,
        output,
        checksum,
    } = file;
    let output_name = output.display().to_string();
    let image_name = image.display().to_string();
    let source = std::fs::File::open(image)
        .map_err(|e| DeliverError::io(format!("cannot open {image_name}"), e))?;
    let dest = create_new(output)?;
    // Sized first, so the partition's holes are holes of the new file.
    dest.set_len(size)
        .map_err(|e| DeliverError::io(format!("cannot size {output_name} to {size} bytes"), e))?;
    // Only the ranges the build wrote are copied (as data: walking a reflinked image for its
    // holes costs more than the copy on XFS); the rest of the new file stays a hole.
    let data = ranges_within(ranges, offset, size);
    let mut engine = CopyEngine::new(mode);
    for range in &data {
        let job = OpenedCopy {
            source: &source,
            source_name: &image_name,
            dest: &dest,
            dest_name: &output_name,
            dest_offset: range.offset,
            dest_capacity: range.length,
            dest_state: Destination::Zeroed,
            planned_length: None,
        };
        let start = offset + range.offset;
        engine
            .copy_data_range(&job, start..start + range.length, progress)
            .map_err(DeliverError::Copy)?;
    }
    dest.sync_all()
        .map_err(|e| DeliverError::io(format!("cannot flush {output_name}"), e))?;
    drop(dest);
    if !checksum {
        return Ok(Artifact { size, sha256: None });
    }
    hash_image(output, &data, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_cut_to_the_partition() {
        let r = |offset, length| ByteRange { offset, length };
        assert_eq!(
            ranges_within(&[r(0, 10), r(90, 20), r(150, 5), r(300, 1)], 100, 100),
            vec![r(0, 10), r(50, 5)]
        );
        assert_eq!(ranges_within(&[r(0, 1000)], 100, 100), vec![r(0, 100)]);
        assert_eq!(ranges_within(&[], 0, 100), vec![]);
    }

    #[test]
    fn a_partition_becomes_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("img");
        let mut bytes = vec![0u8; 64 * 1024];
        bytes[8192..8200].fill(5);
        bytes[40000] = 6;
        std::fs::write(&image, &bytes).unwrap();
        let output = dir.path().join("part.raw");
        let ranges = [
            ByteRange {
                offset: 8192,
                length: 8,
            },
            ByteRange {
                offset: 40000,
                length: 1,
            },
        ];
        let file = PartitionFile {
            offset: 4096,
            size: 32768,
            output: &output,
            checksum: true,
        };
        let artifact =
            split_partition(&image, &ranges, file, CopyMode::Auto, &mut |_| true).unwrap();
        let written = std::fs::read(&output).unwrap();
        assert_eq!(written, bytes[4096..4096 + 32768]);
        assert_eq!(artifact.size, 32768);
        let expected = crate::output::hex(&<sha2::Sha256 as sha2::Digest>::digest(&written));
        assert_eq!(artifact.sha256, Some(expected));
    }
}
