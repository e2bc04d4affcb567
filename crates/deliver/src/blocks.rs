//! Block arithmetic of the block-based formats (Android sparse, bmap): which blocks hold data.

use imgforge_copy::ByteRange;

/// A run of whole blocks, `[first, first + count)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRun {
    pub first: u64,
    pub count: u64,
}

/// The blocks of `block_size` bytes that hold any byte of `ranges` (sorted, apart), merged
/// where they touch: each range rounded out to whole blocks. `image_size` bounds the last run
/// (its last block may be partial).
pub fn block_runs(ranges: &[ByteRange], block_size: u64, image_size: u64) -> Vec<BlockRun> {
    let blocks = image_size.div_ceil(block_size);
    let mut runs: Vec<BlockRun> = Vec::new();
    for r in ranges {
        let first = r.offset / block_size;
        let end = r.end().div_ceil(block_size).min(blocks);
        if end <= first {
            continue;
        }
        match runs.last_mut() {
            Some(last) if first <= last.first + last.count => {
                last.count = last.count.max(end - last.first);
            }
            _ => runs.push(BlockRun {
                first,
                count: end - first,
            }),
        }
    }
    runs
}

/// The block size of an Android sparse image of `image_size` bytes: 4096, the size every
/// tool expects, where it divides the image; else the largest power of two down to 4 that does
/// (the format wants whole blocks and a multiple of 4). None when not even 4 divides it.
pub fn sparse_block_size(image_size: u64) -> Option<u32> {
    [4096u32, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4]
        .into_iter()
        .find(|&b| image_size.is_multiple_of(u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(offset: u64, length: u64) -> ByteRange {
        ByteRange { offset, length }
    }

    #[test]
    fn ranges_round_out_to_blocks_and_merge() {
        assert_eq!(block_runs(&[], 4096, 1 << 20), vec![]);
        // One byte in block 0, and a range across blocks 2..=3.
        assert_eq!(
            block_runs(&[r(0, 1), r(8191 + 1, 4097)], 4096, 1 << 20),
            vec![
                BlockRun { first: 0, count: 1 },
                BlockRun { first: 2, count: 2 }
            ]
        );
        // Two ranges in the same block make one run; a range ending on a boundary stays.
        assert_eq!(
            block_runs(&[r(10, 10), r(100, 3996), r(4096, 10)], 4096, 1 << 20),
            vec![BlockRun { first: 0, count: 2 }]
        );
    }

    #[test]
    fn the_last_run_stops_at_a_partial_last_block() {
        assert_eq!(
            block_runs(&[r(4096, 904)], 4096, 5000),
            vec![BlockRun { first: 1, count: 1 }]
        );
    }

    #[test]
    fn sparse_block_size_divides_the_image() {
        assert_eq!(sparse_block_size(1 << 30), Some(4096));
        assert_eq!(sparse_block_size(4096 * 3 + 512), Some(512));
        assert_eq!(sparse_block_size(0), Some(4096));
        assert_eq!(sparse_block_size(6), None);
    }
}
