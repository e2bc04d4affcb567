//! Android sparse images (AOSP libsparse, sparse_format.h): a 28-byte file header, then
//! chunks of 12-byte headers: RAW (0xCAC1) followed by its blocks' bytes, DONT_CARE (0xCAC3)
//! for blocks the build never wrote. All fields little-endian.

use std::path::Path;

use crate::blocks::{block_runs, sparse_block_size};
use crate::output::{Artifact, HashingWriter};
use crate::ranges::ImageMap;
use crate::{ByteRange, DeliverError, Progress};

const MAGIC: u32 = 0xed26_ff3a;
const FILE_HEADER_BYTES: u16 = 28;
const CHUNK_HEADER_BYTES: u16 = 12;
const CHUNK_RAW: u16 = 0xCAC1;
const CHUNK_DONT_CARE: u16 = 0xCAC3;
/// Largest RAW chunk: its byte count (header included) must fit the 32-bit `total_sz`; 64 MiB
/// also keeps chunks a flasher can buffer.
const MAX_RAW_BYTES: u64 = 64 << 20;

/// One chunk of the output: `blocks` blocks from `first`, raw data or don't-care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub(crate) raw: bool,
    pub(crate) first: u64,
    pub(crate) blocks: u64,
}

/// The chunks that cover `total_blocks` blocks: RAW for the runs that hold data (cut to
/// `max_raw_blocks`), DONT_CARE between and after them.
pub(crate) fn plan_chunks(
    ranges: &[ByteRange],
    block_size: u64,
    total_blocks: u64,
    max_raw_blocks: u64,
) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut next = 0;
    for run in block_runs(ranges, block_size, total_blocks * block_size) {
        if run.first > next {
            chunks.push(Chunk {
                raw: false,
                first: next,
                blocks: run.first - next,
            });
        }
        let mut first = run.first;
        let end = run.first + run.count;
        while first < end {
            let blocks = (end - first).min(max_raw_blocks);
            chunks.push(Chunk {
                raw: true,
                first,
                blocks,
            });
            first += blocks;
        }
        next = end;
    }
    if next < total_blocks {
        chunks.push(Chunk {
            raw: false,
            first: next,
            blocks: total_blocks - next,
        });
    }
    chunks
}

fn file_header(block_size: u32, total_blocks: u32, total_chunks: u32) -> [u8; 28] {
    let mut h = [0u8; 28];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&1u16.to_le_bytes()); // major version
    h[6..8].copy_from_slice(&0u16.to_le_bytes()); // minor version
    h[8..10].copy_from_slice(&FILE_HEADER_BYTES.to_le_bytes());
    h[10..12].copy_from_slice(&CHUNK_HEADER_BYTES.to_le_bytes());
    h[12..16].copy_from_slice(&block_size.to_le_bytes());
    h[16..20].copy_from_slice(&total_blocks.to_le_bytes());
    h[20..24].copy_from_slice(&total_chunks.to_le_bytes());
    // image_checksum 0: none (libsparse writes none either).
    h
}

fn chunk_header(kind: u16, blocks: u32, total_bytes: u32) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[0..2].copy_from_slice(&kind.to_le_bytes());
    h[4..8].copy_from_slice(&blocks.to_le_bytes());
    h[8..12].copy_from_slice(&total_bytes.to_le_bytes());
    h
}

/// Writes the Android sparse image of the raw `image` (data in `ranges`) to `output`.
pub fn write_android_sparse(
    image: &Path,
    ranges: &[ByteRange],
    output: &Path,
    progress: Progress,
) -> Result<Artifact, DeliverError> {
    let map = ImageMap::open(image, ranges)?;
    let too_big = |why: String| {
        DeliverError::io(
            format!("cannot write {} as an Android sparse image", map.name),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        )
    };
    let block_size = sparse_block_size(map.size()).ok_or_else(|| {
        too_big(format!(
            "its size {} is not a multiple of 4 bytes",
            map.size()
        ))
    })?;
    let bs = u64::from(block_size);
    let total_blocks = map.size() / bs;
    let total_blocks32 = u32::try_from(total_blocks).map_err(|_| {
        too_big(format!(
            "{total_blocks} blocks of {bs} bytes exceed the format's 2^32"
        ))
    })?;
    let chunks = plan_chunks(ranges, bs, total_blocks, MAX_RAW_BYTES / bs);
    let mut out = HashingWriter::create(output)?;
    out.put(&file_header(
        block_size,
        total_blocks32,
        chunks.len() as u32,
    ))?;
    for chunk in &chunks {
        // Both fit: a chunk has at most total_blocks blocks, a RAW one at most 64 MiB.
        let blocks = chunk.blocks as u32;
        if chunk.raw {
            let bytes = chunk.blocks * bs;
            out.put(&chunk_header(
                CHUNK_RAW,
                blocks,
                u32::from(CHUNK_HEADER_BYTES) + bytes as u32,
            ))?;
            let start = chunk.first * bs;
            map.stream(start, start + bytes, progress, &mut |data| out.put(data))?;
        } else {
            out.put(&chunk_header(
                CHUNK_DONT_CARE,
                blocks,
                u32::from(CHUNK_HEADER_BYTES),
            ))?;
            if !progress(chunk.blocks * bs) {
                return Err(DeliverError::Cancelled);
            }
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(offset: u64, length: u64) -> ByteRange {
        ByteRange { offset, length }
    }

    #[test]
    fn chunks_cover_every_block_once() {
        let chunks = plan_chunks(&[r(0, 100), r(5 * 4096, 3 * 4096 + 1)], 4096, 20, 2);
        assert_eq!(
            chunks,
            vec![
                Chunk {
                    raw: true,
                    first: 0,
                    blocks: 1
                },
                Chunk {
                    raw: false,
                    first: 1,
                    blocks: 4
                },
                Chunk {
                    raw: true,
                    first: 5,
                    blocks: 2
                },
                Chunk {
                    raw: true,
                    first: 7,
                    blocks: 2
                },
                Chunk {
                    raw: false,
                    first: 9,
                    blocks: 11
                },
            ]
        );
    }

    #[test]
    fn an_empty_map_is_one_dont_care_and_a_full_one_all_raw() {
        assert_eq!(
            plan_chunks(&[], 4096, 8, 100),
            vec![Chunk {
                raw: false,
                first: 0,
                blocks: 8
            }]
        );
        assert_eq!(
            plan_chunks(&[r(0, 8 * 4096)], 4096, 8, 100),
            vec![Chunk {
                raw: true,
                first: 0,
                blocks: 8
            }]
        );
        assert_eq!(plan_chunks(&[], 4096, 0, 100), vec![]);
    }

    #[test]
    fn writes_headers_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("img");
        let mut bytes = vec![0u8; 4 * 4096];
        bytes[4096 + 7] = 1;
        std::fs::write(&image, &bytes).unwrap();
        let output = dir.path().join("img.simg");
        let artifact =
            write_android_sparse(&image, &[r(4096 + 7, 1)], &output, &mut |_| true).unwrap();
        let written = std::fs::read(&output).unwrap();
        assert_eq!(artifact.size, written.len() as u64);
        // Header, then DONT_CARE(1), RAW(1) + 4096 bytes, DONT_CARE(2).
        assert_eq!(written.len(), 28 + 12 + 12 + 4096 + 12);
        assert_eq!(&written[0..4], &MAGIC.to_le_bytes());
        assert_eq!(u32::from_le_bytes(written[20..24].try_into().unwrap()), 3);
        assert_eq!(&written[40..42], &CHUNK_RAW.to_le_bytes());
        assert_eq!(written[52 + 7], 1);
        // An existing output is never overwritten.
        assert!(write_android_sparse(&image, &[], &output, &mut |_| true).is_err());
    }
}
