//! The ext2/3/4 superblock: decoded, summarised and checked as the kernel checks it before it
//! mounts (fs/ext4/super.c, __ext4_fill_super and ext4_check_feature_compatibility; the layout
//! is struct ext4_super_block in fs/ext4/ext4.h and e2fsprogs' lib/ext2fs/ext2_fs.h).

use std::io::{self, Read, Seek};

use imgforge_partition_read::{crc32c, Disk, ReadError};

use crate::bytes::{name_field, u16_at, u32_at};
use crate::findings::{Finding, FindingCode, Findings};

/// Where the superblock starts in the partition, whatever the block size.
pub(crate) const EXT4_SUPERBLOCK_OFFSET: u64 = 1024;
/// Bytes of the superblock; its crc32c covers all but the last 4.
const SUPERBLOCK_BYTES: usize = 1024;
const MAGIC: u16 = 0xEF53;
/// s_checksum: the last field.
const CHECKSUM_AT: usize = 0x3FC;
/// s_checksum_type of crc32c, the only one defined.
const CHECKSUM_CRC32C: u8 = 1;

const COMPAT_HAS_JOURNAL: u32 = 0x4;
const RO_COMPAT_BIGALLOC: u32 = 0x200;
const RO_COMPAT_METADATA_CSUM: u32 = 0x400;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;

/// The kernel's EXT4_FEATURE_RO_COMPAT_SUPP (Linux 6.x): other bits mount read-only only.
const RO_COMPAT_MOUNTED: u32 = 0x1
    | 0x2
    | 0x4
    | 0x8
    | 0x10
    | 0x20
    | 0x40
    | 0x100
    | 0x200
    | 0x400
    | 0x1000
    | 0x2000
    | 0x8000
    | 0x10000;
/// The kernel's EXT4_FEATURE_INCOMPAT_SUPP (Linux 6.x): other bits do not mount at all.
const INCOMPAT_MOUNTED: u32 = 0x2
    | 0x4
    | 0x10
    | 0x40
    | 0x80
    | 0x100
    | 0x200
    | 0x400
    | 0x2000
    | 0x4000
    | 0x8000
    | 0x10000
    | 0x20000;

/// Feature names as e2fsprogs prints them (lib/e2p/feature.c), per set.
const COMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "dir_prealloc"),
    (0x2, "imagic_inodes"),
    (0x4, "has_journal"),
    (0x8, "ext_attr"),
    (0x10, "resize_inode"),
    (0x20, "dir_index"),
    (0x40, "lazy_bg"),
    (0x200, "sparse_super2"),
    (0x400, "fast_commit"),
    (0x800, "stable_inodes"),
    (0x1000, "orphan_file"),
];
const RO_COMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "sparse_super"),
    (0x2, "large_file"),
    (0x8, "huge_file"),
    (0x10, "uninit_bg"),
    (0x20, "dir_nlink"),
    (0x40, "extra_isize"),
    (0x100, "quota"),
    (0x200, "bigalloc"),
    (0x400, "metadata_csum"),
    (0x800, "replica"),
    (0x1000, "read-only"),
    (0x2000, "project"),
    (0x4000, "shared_blocks"),
    (0x8000, "verity"),
    (0x10000, "orphan_present"),
];
const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (0x1, "compression"),
    (0x2, "filetype"),
    (0x4, "needs_recovery"),
    (0x8, "journal_dev"),
    (0x10, "meta_bg"),
    (0x40, "extent"),
    (0x80, "64bit"),
    (0x100, "mmp"),
    (0x200, "flex_bg"),
    (0x400, "ea_inode"),
    (0x1000, "dirdata"),
    (0x2000, "metadata_csum_seed"),
    (0x4000, "large_dir"),
    (0x8000, "inline_data"),
    (0x10000, "encrypt"),
    (0x20000, "casefold"),
];

/// The names of the bits set in `bits`; a bit without a name as e2fsprogs shows it
/// ("FEATURE_I31": set letter and bit number).
fn feature_names(bits: u32, names: &[(u32, &str)], letter: char, out: &mut Vec<String>) {
    for bit in 0..32 {
        let mask = 1u32 << bit;
        if bits & mask != 0 {
            match names.iter().find(|(m, _)| *m == mask) {
                Some((_, name)) => out.push((*name).to_string()),
                None => out.push(format!("FEATURE_{letter}{bit}")),
            }
        }
    }
}

/// The superblock's fields this probe uses, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub(crate) inodes_count: u32,
    pub(crate) blocks_count_lo: u32,
    pub(crate) r_blocks_count_lo: u32,
    pub(crate) free_blocks_count_lo: u32,
    pub(crate) free_inodes_count: u32,
    pub(crate) first_data_block: u32,
    pub(crate) log_block_size: u32,
    pub(crate) log_cluster_size: u32,
    pub(crate) blocks_per_group: u32,
    pub(crate) clusters_per_group: u32,
    pub(crate) inodes_per_group: u32,
    pub(crate) wtime: u32,
    pub(crate) state: u16,
    pub(crate) rev_level: u32,
    pub(crate) first_ino: u32,
    pub(crate) inode_size: u16,
    pub(crate) feature_compat: u32,
    pub(crate) feature_incompat: u32,
    pub(crate) feature_ro_compat: u32,
    pub(crate) uuid: [u8; 16],
    pub(crate) volume_name: [u8; 16],
    pub(crate) hash_seed: [u8; 16],
    pub(crate) def_hash_version: u8,
    pub(crate) desc_size: u16,
    pub(crate) mkfs_time: u32,
    pub(crate) blocks_count_hi: u32,
    pub(crate) r_blocks_count_hi: u32,
    pub(crate) free_blocks_count_hi: u32,
    pub(crate) checksum_type: u8,
    pub(crate) checksum: u32,
}

impl Superblock {
    /// Decodes the 1024 bytes at partition byte 1024; None without the magic.
    pub(crate) fn decode(b: &[u8]) -> Option<Superblock> {
        if b.len() < SUPERBLOCK_BYTES || u16_at(b, 0x38) != MAGIC {
            return None;
        }
        let array = |at: usize| -> [u8; 16] { b[at..at + 16].try_into().unwrap() };
        Some(Superblock {
            inodes_count: u32_at(b, 0x0),
            blocks_count_lo: u32_at(b, 0x4),
            r_blocks_count_lo: u32_at(b, 0x8),
            free_blocks_count_lo: u32_at(b, 0xC),
            free_inodes_count: u32_at(b, 0x10),
            first_data_block: u32_at(b, 0x14),
            log_block_size: u32_at(b, 0x18),
            log_cluster_size: u32_at(b, 0x1C),
            blocks_per_group: u32_at(b, 0x20),
            clusters_per_group: u32_at(b, 0x24),
            inodes_per_group: u32_at(b, 0x28),
            wtime: u32_at(b, 0x30),
            state: u16_at(b, 0x3A),
            rev_level: u32_at(b, 0x4C),
            first_ino: u32_at(b, 0x54),
            inode_size: u16_at(b, 0x58),
            feature_compat: u32_at(b, 0x5C),
            feature_incompat: u32_at(b, 0x60),
            feature_ro_compat: u32_at(b, 0x64),
            uuid: array(0x68),
            volume_name: array(0x78),
            hash_seed: array(0xEC),
            def_hash_version: b[0xFC],
            desc_size: u16_at(b, 0xFE),
            mkfs_time: u32_at(b, 0x108),
            blocks_count_hi: u32_at(b, 0x150),
            r_blocks_count_hi: u32_at(b, 0x154),
            free_blocks_count_hi: u32_at(b, 0x158),
            checksum_type: b[0x175],
            checksum: u32_at(b, CHECKSUM_AT),
        })
    }

    fn has_64bit(&self) -> bool {
        self.feature_incompat & INCOMPAT_64BIT != 0
    }

    fn bigalloc(&self) -> bool {
        self.feature_ro_compat & RO_COMPAT_BIGALLOC != 0
    }

    /// A 64-bit count: the high half counts only with the 64bit feature (the kernel's
    /// ext4_blocks_count and friends).
    fn wide(&self, lo: u32, hi: u32) -> u64 {
        let hi = if self.has_64bit() { u64::from(hi) } else { 0 };
        hi << 32 | u64::from(lo)
    }

    pub(crate) fn blocks(&self) -> u64 {
        self.wide(self.blocks_count_lo, self.blocks_count_hi)
    }

    pub(crate) fn free_blocks(&self) -> u64 {
        self.wide(self.free_blocks_count_lo, self.free_blocks_count_hi)
    }

    pub(crate) fn reserved_blocks(&self) -> u64 {
        self.wide(self.r_blocks_count_lo, self.r_blocks_count_hi)
    }

    /// 1024 << s_log_block_size; None out of 1 KiB..64 KiB (the kernel's range).
    pub(crate) fn block_size(&self) -> Option<u32> {
        (self.log_block_size <= 6).then(|| 1024 << self.log_block_size)
    }

    /// ext4 uses extents; ext3 has a journal without them; ext2 has neither (as blkid names
    /// them).
    pub(crate) fn kind(&self) -> &'static str {
        if self.feature_incompat & INCOMPAT_EXTENTS != 0 {
            "ext4"
        } else if self.feature_compat & COMPAT_HAS_JOURNAL != 0 {
            "ext3"
        } else {
            "ext2"
        }
    }

    /// The stored and the computed crc32c of the superblock, with metadata_csum, when they
    /// differ: crc32c(~0) over every byte before s_checksum (e2fsprogs ext2fs_superblock_csum).
    pub(crate) fn checksum_mismatch(&self, bytes: &[u8]) -> Option<(u32, u32)> {
        if self.feature_ro_compat & RO_COMPAT_METADATA_CSUM == 0 {
            return None;
        }
        let computed = crc32c(!0, bytes.get(..CHECKSUM_AT)?);
        (computed != self.checksum).then_some((self.checksum, computed))
    }
}

/// What an ext2/3/4 filesystem is, from its superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext4Summary {
    /// "ext4", "ext3" or "ext2", from the features (extents; a journal).
    pub kind: &'static str,
    /// s_volume_name up to its first NUL; None when empty.
    pub label: Option<String>,
    pub uuid: [u8; 16],
    /// Bytes per block; 0 when s_log_block_size is out of range.
    pub block_size: u32,
    pub blocks: u64,
    pub free_blocks: u64,
    /// Blocks kept for root (mkfs -m).
    pub reserved_blocks: u64,
    pub inodes: u32,
    pub free_inodes: u32,
    pub inode_size: u16,
    /// The directory hash seed (s_hash_seed), in stored order like the UUID.
    pub hash_seed: [u8; 16],
    /// The default directory hash: half_md4, tea, legacy, siphash (unsigned variants named so).
    pub hash_version: String,
    /// The features set, named and ordered as dumpe2fs lists them: compat, incompat, ro_compat.
    pub features: Vec<String>,
    /// s_mkfs_time and s_wtime, seconds since the epoch (0: never set).
    pub created: u32,
    pub written: u32,
    /// s_state says cleanly unmounted and no errors.
    pub clean: bool,
}

impl Ext4Summary {
    /// Bytes the filesystem spans (blocks times the block size).
    pub fn size_bytes(&self) -> u64 {
        self.blocks.saturating_mul(u64::from(self.block_size))
    }

    /// Bytes in use (blocks that are not free, metadata included), by the superblock's count.
    pub fn used_bytes(&self) -> u64 {
        self.blocks
            .saturating_sub(self.free_blocks)
            .saturating_mul(u64::from(self.block_size))
    }
}

fn hash_name(version: u8) -> String {
    match version {
        0 => "legacy".into(),
        1 => "half_md4".into(),
        2 => "tea".into(),
        3 => "legacy_unsigned".into(),
        4 => "half_md4_unsigned".into(),
        5 => "tea_unsigned".into(),
        6 => "siphash".into(),
        other => format!("unknown ({other})"),
    }
}

impl Superblock {
    pub(crate) fn summary(&self) -> Ext4Summary {
        let mut features = Vec::new();
        feature_names(self.feature_compat, COMPAT_NAMES, 'C', &mut features);
        feature_names(self.feature_incompat, INCOMPAT_NAMES, 'I', &mut features);
        feature_names(self.feature_ro_compat, RO_COMPAT_NAMES, 'R', &mut features);
        Ext4Summary {
            kind: self.kind(),
            label: name_field(&self.volume_name),
            uuid: self.uuid,
            block_size: self.block_size().unwrap_or(0),
            blocks: self.blocks(),
            free_blocks: self.free_blocks(),
            reserved_blocks: self.reserved_blocks(),
            inodes: self.inodes_count,
            free_inodes: self.free_inodes_count,
            inode_size: self.inode_size,
            hash_seed: self.hash_seed,
            hash_version: hash_name(self.def_hash_version),
            features,
            created: self.mkfs_time,
            written: self.wtime,
            clean: self.state & 0x3 == 0x1,
        }
    }
}

/// An ext2/3/4 superblock read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext4Report {
    pub summary: Ext4Summary,
    /// Every problem found; empty for a sound superblock.
    pub findings: Vec<Finding>,
}

/// Reads the superblock of the ext2/3/4 filesystem in the `length` bytes at byte `offset` of
/// `reader`: None when they hold none (no magic, or too short for a superblock). Err only when
/// reading fails.
pub fn read_ext4<R: Read + Seek>(
    reader: R,
    offset: u64,
    length: u64,
) -> io::Result<Option<Ext4Report>> {
    let mut disk = Disk::new(reader, offset, length);
    let bytes = match disk.read(EXT4_SUPERBLOCK_OFFSET, SUPERBLOCK_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(e)) => return Err(e),
        Err(_) => return Ok(None),
    };
    let Some(superblock) = Superblock::decode(&bytes) else {
        return Ok(None);
    };
    let mut findings = Findings::default();
    check(&superblock, &bytes, length, &mut findings);
    Ok(Some(Ext4Report {
        summary: superblock.summary(),
        findings: findings.finish_by_code(),
    }))
}

/// Every check of the superblock, as findings.
pub(crate) fn check(sb: &Superblock, bytes: &[u8], length: u64, findings: &mut Findings) {
    for message in invalid_fields(sb) {
        findings.add(
            FindingCode::SuperblockInvalid,
            None,
            format!("superblock: {message}"),
        );
    }
    if let Some((stored, computed)) = sb.checksum_mismatch(bytes) {
        let message = format!(
            "superblock: the stored crc32c is {stored:#010x}; its bytes give {computed:#010x}"
        );
        findings.add(FindingCode::SuperblockChecksumWrong, None, message);
    }
    for message in unsupported_features(sb) {
        findings.add(FindingCode::FeatureUnsupported, None, message);
    }
    if sb.free_blocks() > sb.blocks() {
        let message = format!(
            "superblock: {} free blocks of {}",
            sb.free_blocks(),
            sb.blocks()
        );
        findings.add(FindingCode::FreeCountWrong, None, message);
    }
    if sb.free_inodes_count > sb.inodes_count {
        let message = format!(
            "superblock: {} free inodes of {}",
            sb.free_inodes_count, sb.inodes_count
        );
        findings.add(FindingCode::FreeCountWrong, None, message);
    }
    if let Some(block_size) = sb.block_size() {
        let span = sb.blocks().saturating_mul(u64::from(block_size));
        if span > length {
            let message = format!("the filesystem spans {span} bytes ({} blocks of {block_size}); the partition has {length}", sb.blocks());
            findings.add(FindingCode::PartitionTruncated, None, message);
        }
    }
    for message in unclean_state(sb) {
        findings.add(FindingCode::NotClean, None, message);
    }
}

/// Fields out of range or contradicting each other, as the kernel refuses them at mount.
pub(crate) fn invalid_fields(sb: &Superblock) -> Vec<String> {
    let mut out = Vec::new();
    if sb.feature_ro_compat & RO_COMPAT_METADATA_CSUM != 0 && sb.checksum_type != CHECKSUM_CRC32C {
        out.push(format!(
            "s_checksum_type is {}; metadata_csum defines only 1 (crc32c)",
            sb.checksum_type
        ));
    }
    // Revision 0 has 128-byte inodes and first inode 11 whatever the fields say.
    if sb.rev_level >= 1 {
        let size = sb.inode_size;
        if size < 128
            || !size.is_power_of_two()
            || sb.block_size().is_some_and(|bs| u32::from(size) > bs)
        {
            out.push(format!(
                "s_inode_size is {size}; inodes are 128 bytes to one block, a power of two"
            ));
        }
        if sb.first_ino < 11 {
            out.push(format!(
                "s_first_ino is {}; inodes 1 to 10 are reserved",
                sb.first_ino
            ));
        }
    }
    if sb.has_64bit() && (!(64..=1024).contains(&sb.desc_size) || !sb.desc_size.is_power_of_two()) {
        out.push(format!(
            "s_desc_size is {}; with 64bit, group descriptors are 64 to 1024 bytes, a power of two",
            sb.desc_size
        ));
    }
    if sb.reserved_blocks() > sb.blocks() {
        out.push(format!(
            "{} reserved blocks of {}",
            sb.reserved_blocks(),
            sb.blocks()
        ));
    }
    match sb.block_size() {
        None => out.push(format!(
            "s_log_block_size is {}; block sizes are 1 KiB to 64 KiB (0 to 6)",
            sb.log_block_size
        )),
        Some(block_size) => out.extend(invalid_geometry(sb, block_size)),
    }
    out
}

/// The groups' arithmetic (blocks, clusters and inodes per group, the first data block, the
/// inode count), given a valid block size.
fn invalid_geometry(sb: &Superblock, block_size: u32) -> Vec<String> {
    let mut out = Vec::new();
    let bits_per_bitmap = 8 * block_size;
    let blocks = sb.blocks();
    if !sb.bigalloc() && sb.log_cluster_size != sb.log_block_size {
        out.push(format!(
            "s_log_cluster_size is {} and s_log_block_size {}; without bigalloc they are equal",
            sb.log_cluster_size, sb.log_block_size
        ));
    }
    let first = u32::from(block_size == 1024 && !sb.bigalloc());
    if sb.first_data_block != first {
        out.push(format!(
            "s_first_data_block is {}; with {block_size}-byte blocks it is {first}",
            sb.first_data_block
        ));
    }
    if u64::from(sb.first_data_block) >= blocks {
        out.push(format!(
            "s_first_data_block is {} of {blocks} blocks",
            sb.first_data_block
        ));
        return out;
    }
    if sb.clusters_per_group == 0 || sb.clusters_per_group > bits_per_bitmap {
        out.push(format!(
            "s_clusters_per_group is {}; a bitmap block holds 1 to {bits_per_bitmap}",
            sb.clusters_per_group
        ));
    }
    if !sb.bigalloc() && sb.blocks_per_group != sb.clusters_per_group {
        out.push(format!(
            "s_blocks_per_group is {} and s_clusters_per_group {}; without bigalloc they are equal",
            sb.blocks_per_group, sb.clusters_per_group
        ));
    }
    if sb.inodes_per_group == 0 || sb.inodes_per_group > bits_per_bitmap {
        out.push(format!(
            "s_inodes_per_group is {}; a bitmap block holds 1 to {bits_per_bitmap}",
            sb.inodes_per_group
        ));
    } else if sb.blocks_per_group != 0 {
        let groups =
            (blocks - u64::from(sb.first_data_block)).div_ceil(u64::from(sb.blocks_per_group));
        // 2^64 blocks in one-block groups of 8 * 64 KiB inodes would overflow: compare in u128.
        let expected = u128::from(groups) * u128::from(sb.inodes_per_group);
        if u128::from(sb.inodes_count) != expected {
            out.push(format!(
                "s_inodes_count is {}; {groups} groups of {} inodes make {expected}",
                sb.inodes_count, sb.inodes_per_group
            ));
        }
    } else {
        out.push("s_blocks_per_group is 0".to_string());
    }
    out
}

/// Features the kernel does not mount: incompatible ones at all, read-only-compatible ones
/// read-write; and revisions past 1.
fn unsupported_features(sb: &Superblock) -> Vec<String> {
    let mut out = Vec::new();
    if sb.rev_level > 1 {
        out.push(format!(
            "superblock: revision {}; Linux mounts revisions 0 and 1 (read-only otherwise)",
            sb.rev_level
        ));
    }
    let incompat = sb.feature_incompat & !INCOMPAT_MOUNTED;
    if incompat != 0 {
        let mut names = Vec::new();
        feature_names(incompat, INCOMPAT_NAMES, 'I', &mut names);
        out.push(format!(
            "incompatible features Linux does not mount: {}",
            names.join(", ")
        ));
    }
    let ro_compat = sb.feature_ro_compat & !RO_COMPAT_MOUNTED;
    if ro_compat != 0 {
        let mut names = Vec::new();
        feature_names(ro_compat, RO_COMPAT_NAMES, 'R', &mut names);
        out.push(format!(
            "features Linux mounts only read-only: {}",
            names.join(", ")
        ));
    }
    out
}

/// s_state and needs_recovery: what e2fsck and the kernel would want looked at first.
fn unclean_state(sb: &Superblock) -> Vec<String> {
    let mut out = Vec::new();
    if sb.state & 0x1 == 0 {
        out.push("s_state: not cleanly unmounted (or mounted now)".to_string());
    }
    if sb.state & 0x2 != 0 {
        out.push("s_state: errors were detected; run e2fsck".to_string());
    }
    if sb.feature_incompat & INCOMPAT_RECOVER != 0 {
        out.push("the journal needs recovery (needs_recovery)".to_string());
    }
    out
}

#[cfg(test)]
#[path = "ext4_tests.rs"]
mod tests;
