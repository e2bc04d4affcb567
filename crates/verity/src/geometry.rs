//! Where a format-1 hash tree puts its levels: pure arithmetic, as cryptsetup's
//! lib/verity/verity_hash.c lays the tree out (and the kernel's dm-verity reads it).
//!
//! Level 0 holds one digest per data block, level i+1 one digest per hash block of level i; each
//! digest takes a power-of-two slot, so a hash block holds `hash_block_size / slot` of them. The
//! levels are stored top first: the single-block level nearest the root at the lowest offset.
//! A tree over one data block has no levels at all: the root hash is that block's own digest.

use crate::VerityError;

/// Largest salt the superblock (and the kernel) accepts.
pub const MAX_SALT_SIZE: usize = 256;

/// Block sizes veritysetup accepts: powers of two from 512 bytes to 512 KiB.
pub fn block_size_ok(size: u32) -> bool {
    size.is_power_of_two() && (512..=512 * 1024).contains(&size)
}

/// The slot a digest takes in a hash block (format 1): the digest size rounded up to a power of two.
pub fn digest_slot(digest_size: usize) -> usize {
    digest_size.next_power_of_two()
}

/// One level of the tree: where it starts, in hash blocks from the start of the hash area
/// (counting the superblock's block when there is one), and how many hash blocks it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub first_block: u64,
    pub blocks: u64,
}

/// The shape of a tree: its levels (index 0 = the digests of the data blocks) and its extent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geometry {
    pub data_blocks: u64,
    pub hash_block_size: u32,
    pub hashes_per_block: u64,
    /// Hash blocks before the tree: 1 for the superblock's block, else 0.
    pub header_blocks: u64,
    pub levels: Vec<Level>,
}

impl Geometry {
    /// Hash blocks of the tree itself (without the superblock's block).
    pub fn tree_blocks(&self) -> u64 {
        self.levels.iter().map(|level| level.blocks).sum()
    }

    /// Bytes of the hash area: the superblock's block, if any, and the tree.
    pub fn hash_area_size(&self) -> u64 {
        (self.header_blocks + self.tree_blocks()) * u64::from(self.hash_block_size)
    }
}

/// The tree over `data_blocks` blocks with `hash_block_size`-byte hash blocks and digests of
/// `digest_size` bytes; `superblock` puts one hash block (the superblock) before the tree.
pub fn geometry(
    data_blocks: u64,
    hash_block_size: u32,
    digest_size: usize,
    superblock: bool,
) -> Result<Geometry, VerityError> {
    if data_blocks == 0 {
        return Err(VerityError::Invalid("the data area holds no block".into()));
    }
    if !block_size_ok(hash_block_size) {
        return Err(VerityError::Invalid(format!(
            "hash block size {hash_block_size} is not a power of two from 512 to 524288"
        )));
    }
    let slot = digest_slot(digest_size) as u64;
    if slot > u64::from(hash_block_size) / 2 {
        return Err(VerityError::Invalid(format!(
            "hash block size {hash_block_size} holds fewer than two {slot}-byte digests"
        )));
    }
    let hashes_per_block = u64::from(hash_block_size) / slot;
    let bits = hashes_per_block.trailing_zeros();
    // Levels: the smallest count whose fan-out covers every data block (verity_hash.c).
    let mut count = 0u32;
    while bits * count < 64 && (data_blocks - 1) >> (bits * count) != 0 {
        count += 1;
    }
    let header_blocks = u64::from(superblock);
    let mut levels = vec![
        Level {
            first_block: 0,
            blocks: 0
        };
        count as usize
    ];
    let mut position = header_blocks;
    for i in (0..count as usize).rev() {
        let shift = bits * (i as u32 + 1);
        // Blocks of level i: ceil(data_blocks / hashes_per_block^(i+1)).
        let blocks = if shift >= 64 {
            1
        } else {
            ((data_blocks - 1) >> shift) + 1
        };
        levels[i] = Level {
            first_block: position,
            blocks,
        };
        position = position.checked_add(blocks).ok_or_else(|| {
            VerityError::Invalid("the hash tree would be larger than 2^64 blocks".into())
        })?;
    }
    Ok(Geometry {
        data_blocks,
        hash_block_size,
        hashes_per_block,
        header_blocks,
        levels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(g: &Geometry) -> Vec<u64> {
        g.levels.iter().map(|l| l.blocks).collect()
    }

    #[test]
    fn one_data_block_has_no_tree() {
        let g = geometry(1, 4096, 32, true).unwrap();
        assert!(g.levels.is_empty());
        assert_eq!(g.hash_area_size(), 4096);
        assert_eq!(geometry(1, 4096, 32, false).unwrap().hash_area_size(), 0);
    }

    #[test]
    fn exact_fan_out_is_one_level_and_one_past_is_two() {
        // 4096-byte hash blocks hold 128 SHA-256 digests.
        let g = geometry(128, 4096, 32, false).unwrap();
        assert_eq!(blocks(&g), vec![1]);
        let g = geometry(129, 4096, 32, false).unwrap();
        assert_eq!(blocks(&g), vec![2, 1]);
        // Top level first: level 1 (1 block) at 0, level 0 (2 blocks) after it.
        assert_eq!(g.levels[1].first_block, 0);
        assert_eq!(g.levels[0].first_block, 1);
        let g = geometry(128 * 128, 4096, 32, false).unwrap();
        assert_eq!(blocks(&g), vec![128, 1]);
        let g = geometry(128 * 128 + 1, 4096, 32, true).unwrap();
        assert_eq!(blocks(&g), vec![129, 2, 1]);
        assert_eq!(g.levels[2].first_block, 1);
        assert_eq!(g.levels[1].first_block, 2);
        assert_eq!(g.levels[0].first_block, 4);
        assert_eq!(g.hash_area_size(), (1 + 129 + 2 + 1) * 4096);
    }

    #[test]
    fn two_blocks_make_one_level() {
        assert_eq!(blocks(&geometry(2, 4096, 32, false).unwrap()), vec![1]);
    }

    #[test]
    fn sha512_slots_halve_the_fan_out() {
        assert_eq!(digest_slot(64), 64);
        assert_eq!(digest_slot(20), 32);
        assert_eq!(blocks(&geometry(65, 4096, 64, false).unwrap()), vec![2, 1]);
        assert_eq!(blocks(&geometry(64, 4096, 64, false).unwrap()), vec![1]);
    }

    #[test]
    fn two_gib_of_4k_blocks() {
        // 524288 blocks: 4096 + 32 + 1 hash blocks, as veritysetup sizes it.
        let g = geometry(524_288, 4096, 32, true).unwrap();
        assert_eq!(blocks(&g), vec![4096, 32, 1]);
        assert_eq!(g.hash_area_size(), (1 + 4096 + 32 + 1) * 4096);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(geometry(0, 4096, 32, true).is_err());
        assert!(geometry(8, 1000, 32, true).is_err());
        assert!(geometry(8, 256, 32, true).is_err());
        assert!(geometry(8, 1 << 20, 32, true).is_err());
        assert!(geometry(u64::MAX, 512, 64, true).is_ok());
    }
}
