//! The superblock as a reader sees it: every field, and the judgement whether the rest of the
//! filesystem can be read (kernel fs/erofs/super.c, erofs_read_superblock).

pub(crate) use imgforge_partition_read::crc32c;

use crate::ondisk::{MAGIC, SUPERBLOCK_OFFSET};

/// Bytes of the superblock this reader decodes (sb_extslots adds none it needs).
pub(crate) const SUPERBLOCK_BYTES: usize = 128;
/// feature_compat: the superblock carries a crc32c.
const COMPAT_SB_CHKSUM: u32 = 0x1;
/// feature_incompat bits that change nothing for uncompressed, single-device reading:
/// ZERO_PADDING, COMPR_CFGS (= BIG_PCLUSTER's neighbour), CHUNKED_FILE, ZTAILPACKING,
/// FRAGMENTS (= DEDUPE), XATTR_PREFIXES. Compressed inodes are listed but not read.
const INCOMPAT_UNDERSTOOD: u32 = 0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x40;
/// feature_incompat: DEVICE_TABLE (data on extra devices), which this reader cannot follow.
const INCOMPAT_DEVICE_TABLE: u32 = 0x8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub(crate) checksum: u32,
    pub(crate) feature_compat: u32,
    pub(crate) blkszbits: u8,
    pub(crate) root_nid: u16,
    pub(crate) inos: u64,
    pub(crate) build_time: u64,
    pub(crate) build_time_nsec: u32,
    pub(crate) blocks: u32,
    pub(crate) meta_blkaddr: u32,
    pub(crate) xattr_blkaddr: u32,
    pub(crate) uuid: [u8; 16],
    pub(crate) volume_name: [u8; 16],
    pub(crate) feature_incompat: u32,
    pub(crate) extra_devices: u16,
    pub(crate) dirblkbits: u8,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

impl Superblock {
    /// Decodes the 128 bytes at byte 1024; None without the magic.
    pub(crate) fn decode(b: &[u8]) -> Option<Superblock> {
        if b.len() < SUPERBLOCK_BYTES || u32_at(b, 0) != MAGIC {
            return None;
        }
        Some(Superblock {
            checksum: u32_at(b, 4),
            feature_compat: u32_at(b, 8),
            blkszbits: b[12],
            root_nid: u16_at(b, 14),
            inos: u64_at(b, 16),
            build_time: u64_at(b, 24),
            build_time_nsec: u32_at(b, 32),
            blocks: u32_at(b, 36),
            meta_blkaddr: u32_at(b, 40),
            xattr_blkaddr: u32_at(b, 44),
            uuid: b[48..64].try_into().unwrap(),
            volume_name: b[64..80].try_into().unwrap(),
            feature_incompat: u32_at(b, 80),
            extra_devices: u16_at(b, 86),
            dirblkbits: b[90],
        })
    }

    /// Bytes per block; 0 when blkszbits is out of range (then nothing past the superblock
    /// is read).
    pub(crate) fn block_size(&self) -> u64 {
        if (9..=16).contains(&self.blkszbits) {
            1 << self.blkszbits
        } else {
            0
        }
    }

    /// Bytes the filesystem spans: blocks * block size.
    pub(crate) fn span(&self) -> u64 {
        u64::from(self.blocks) * self.block_size()
    }

    /// The volume name up to its first NUL, when there is one.
    pub(crate) fn label(&self) -> Option<String> {
        let end = self.volume_name.iter().position(|b| *b == 0).unwrap_or(16);
        (end > 0).then(|| String::from_utf8_lossy(&self.volume_name[..end]).into_owned())
    }

    /// Why the tree cannot be read at all, if it cannot: (is it an unsupported feature rather
    /// than a broken field, message).
    pub(crate) fn unreadable(&self) -> Option<(bool, String)> {
        if !(9..=16).contains(&self.blkszbits) {
            return Some((
                false,
                format!(
                    "blkszbits is {}; block sizes are 512 B to 64 KiB (9 to 16)",
                    self.blkszbits
                ),
            ));
        }
        if self.dirblkbits != 0 {
            return Some((
                true,
                format!("dirblkbits is {}; only 0 is defined", self.dirblkbits),
            ));
        }
        let unknown = self.feature_incompat & !(INCOMPAT_UNDERSTOOD | INCOMPAT_DEVICE_TABLE);
        if unknown != 0 {
            return Some((
                true,
                format!("incompatible feature bits {unknown:#x} are not read by imgforge"),
            ));
        }
        if self.feature_incompat & INCOMPAT_DEVICE_TABLE != 0 || self.extra_devices != 0 {
            return Some((true, "the filesystem spans extra devices".to_string()));
        }
        if self.blocks == 0 || self.meta_blkaddr >= self.blocks {
            return Some((
                false,
                format!(
                    "meta_blkaddr {} is not inside its {} blocks",
                    self.meta_blkaddr, self.blocks
                ),
            ));
        }
        None
    }

    /// With SB_CHKSUM: the stored and the computed crc32c of the superblock's block from byte
    /// 1024 (the checksum field as zero), when they differ. `block` is the filesystem's first
    /// block (or as much of it as exists).
    pub(crate) fn checksum_mismatch(&self, block: &[u8]) -> Option<(u32, u32)> {
        let end = self.block_size() as usize;
        if self.feature_compat & COMPAT_SB_CHKSUM == 0
            || end <= SUPERBLOCK_OFFSET + SUPERBLOCK_BYTES
        {
            return None;
        }
        let mut bytes = block.get(SUPERBLOCK_OFFSET..end)?.to_vec();
        bytes[4..8].fill(0);
        let computed = crc32c(!0, &bytes);
        (computed != self.checksum).then_some((self.checksum, computed))
    }
}

#[cfg(test)]
#[path = "superblock_tests.rs"]
mod tests;
