//! The squashfs 4.0 superblock: decoded, summarised and checked as the kernel checks it before
//! it mounts (fs/squashfs/super.c squashfs_fill_super, id.c, export.c, fragment.c; the layout is
//! struct squashfs_super_block in fs/squashfs/squashfs_fs.h), plus the headers of the first
//! inode and directory metadata blocks and the id index. Nothing is decompressed.

use std::io::{self, Read, Seek};

use imgforge_partition_read::{Disk, ReadError};

use crate::bytes::{u16_at, u32_at, u64_at};
use crate::findings::{Finding, FindingCode, Findings};

/// Bytes of the superblock, at partition byte 0.
const SUPERBLOCK_BYTES: usize = 96;
/// "hsqs": squashfs 4 is little-endian only.
const MAGIC: u32 = 0x7371_7368;
/// A table that is absent.
const NO_TABLE: u64 = u64::MAX;
/// Uncompressed bytes of a metadata block.
const METADATA_SIZE: u64 = 8192;
/// The 2-byte header before each metadata block: bit 15 says "stored uncompressed".
const METADATA_HEADER: u64 = 2;
/// File data blocks are 4 KiB to 1 MiB.
const BLOCK_SIZES: std::ops::RangeInclusive<u32> = 4096..=(1 << 20);
/// Index entries read at most per table: 4,096 pointers cover 256 Mi fragments or ids, or
/// 4 Mi inodes' export entries; a longer index is checked up to there.
const MAX_POINTERS: u64 = 4096;

/// The compressors squashfs 4 defines (squashfs_fs.h, *_COMPRESSION).
pub(crate) fn compression_name(id: u16) -> Option<&'static str> {
    match id {
        1 => Some("gzip"),
        2 => Some("lzma"),
        3 => Some("lzo"),
        4 => Some("xz"),
        5 => Some("lz4"),
        6 => Some("zstd"),
        _ => None,
    }
}

/// Superblock flags as unsquashfs -s describes them (squashfs_fs.h SQUASHFS_*).
const FLAG_NAMES: &[(u16, &str)] = &[
    (0x0001, "uncompressed-inodes"),
    (0x0002, "uncompressed-data"),
    (0x0008, "uncompressed-fragments"),
    (0x0010, "no-fragments"),
    (0x0020, "always-fragments"),
    (0x0040, "duplicates-removed"),
    (0x0080, "exportable"),
    (0x0100, "uncompressed-xattrs"),
    (0x0200, "no-xattrs"),
    (0x0400, "compressor-options"),
    (0x0800, "uncompressed-ids"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub(crate) inodes: u32,
    pub(crate) mkfs_time: u32,
    pub(crate) block_size: u32,
    pub(crate) fragments: u32,
    pub(crate) compression: u16,
    pub(crate) block_log: u16,
    pub(crate) flags: u16,
    pub(crate) no_ids: u16,
    pub(crate) major: u16,
    pub(crate) minor: u16,
    pub(crate) root_inode: u64,
    pub(crate) bytes_used: u64,
    pub(crate) id_table_start: u64,
    pub(crate) xattr_id_table_start: u64,
    pub(crate) inode_table_start: u64,
    pub(crate) directory_table_start: u64,
    pub(crate) fragment_table_start: u64,
    pub(crate) lookup_table_start: u64,
}

impl Superblock {
    /// Decodes the 96 bytes at partition byte 0; None without the magic.
    pub(crate) fn decode(b: &[u8]) -> Option<Superblock> {
        if b.len() < SUPERBLOCK_BYTES || u32_at(b, 0) != MAGIC {
            return None;
        }
        Some(Superblock {
            inodes: u32_at(b, 4),
            mkfs_time: u32_at(b, 8),
            block_size: u32_at(b, 12),
            fragments: u32_at(b, 16),
            compression: u16_at(b, 20),
            block_log: u16_at(b, 22),
            flags: u16_at(b, 24),
            no_ids: u16_at(b, 26),
            major: u16_at(b, 28),
            minor: u16_at(b, 30),
            root_inode: u64_at(b, 32),
            bytes_used: u64_at(b, 40),
            id_table_start: u64_at(b, 48),
            xattr_id_table_start: u64_at(b, 56),
            inode_table_start: u64_at(b, 64),
            directory_table_start: u64_at(b, 72),
            fragment_table_start: u64_at(b, 80),
            lookup_table_start: u64_at(b, 88),
        })
    }

    pub(crate) fn summary(&self) -> SquashfsSummary {
        SquashfsSummary {
            major: self.major,
            minor: self.minor,
            compression: compression_name(self.compression)
                .map(str::to_string)
                .unwrap_or_else(|| format!("unknown ({})", self.compression)),
            block_size: self.block_size,
            inodes: self.inodes,
            bytes_used: self.bytes_used,
            fragments: self.fragments,
            ids: self.no_ids,
            flags: FLAG_NAMES
                .iter()
                .filter(|(bit, _)| self.flags & bit != 0)
                .map(|(_, name)| (*name).to_string())
                .collect(),
            created: self.mkfs_time,
        }
    }
}

/// What a squashfs is, from its superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquashfsSummary {
    /// The format version, 4.0 for every squashfs Linux mounts.
    pub major: u16,
    pub minor: u16,
    /// gzip, lzma, lzo, xz, lz4 or zstd ("unknown (N)" otherwise).
    pub compression: String,
    /// Bytes per data block.
    pub block_size: u32,
    pub inodes: u32,
    /// Bytes the filesystem uses (the image is this long, before padding).
    pub bytes_used: u64,
    pub fragments: u32,
    /// Distinct uids and gids.
    pub ids: u16,
    /// The flags set, by name (exportable, duplicates-removed, no-xattrs, ...).
    pub flags: Vec<String>,
    /// mkfs time, seconds since the epoch.
    pub created: u32,
}

/// A squashfs superblock read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquashfsReport {
    pub summary: SquashfsSummary,
    /// Every problem found; empty for a sound superblock.
    pub findings: Vec<Finding>,
}

/// Reads the superblock of the squashfs in the `length` bytes at byte `offset` of `reader`:
/// None when they hold none. Err only when reading the superblock fails.
pub fn read_squashfs<R: Read + Seek>(
    reader: R,
    offset: u64,
    length: u64,
) -> io::Result<Option<SquashfsReport>> {
    let mut disk = Disk::new(reader, offset, length);
    let bytes = match disk.read(0, SUPERBLOCK_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(e)) => return Err(e),
        Err(_) => return Ok(None),
    };
    let Some(superblock) = Superblock::decode(&bytes) else {
        return Ok(None);
    };
    let mut findings = Findings::default();
    check(&superblock, &mut disk, &mut findings);
    Ok(Some(SquashfsReport {
        summary: superblock.summary(),
        findings: findings.finish_by_code(),
    }))
}

/// Every check, as findings. Tables are looked at only when the superblock's fields hold.
pub(crate) fn check<R: Read + Seek>(sb: &Superblock, disk: &mut Disk<R>, findings: &mut Findings) {
    if sb.major != 4 || sb.minor > 0 {
        let message = format!(
            "superblock: version {}.{}; Linux mounts squashfs 4.0",
            sb.major, sb.minor
        );
        findings.add(FindingCode::FeatureUnsupported, None, message);
        return;
    }
    let invalid = invalid_fields(sb);
    let fields_hold = invalid.is_empty();
    for message in invalid {
        findings.add(
            FindingCode::SuperblockInvalid,
            None,
            format!("superblock: {message}"),
        );
    }
    if sb.bytes_used > disk.len() {
        let message = format!(
            "the filesystem uses {} bytes; the partition has {}",
            sb.bytes_used,
            disk.len()
        );
        findings.add(FindingCode::PartitionTruncated, None, message);
    }
    let tables = table_problems(sb);
    let tables_hold = tables.is_empty();
    for message in tables {
        findings.add(FindingCode::TableOutOfRange, None, message);
    }
    if fields_hold && tables_hold && sb.bytes_used <= disk.len() {
        check_metadata(sb, disk, findings);
    }
}

/// Fields out of range, as squashfs_fill_super refuses them.
pub(crate) fn invalid_fields(sb: &Superblock) -> Vec<String> {
    let mut out = Vec::new();
    if compression_name(sb.compression).is_none() {
        out.push(format!(
            "compression id {}; squashfs defines 1 to 6 (gzip, lzma, lzo, xz, lz4, zstd)",
            sb.compression
        ));
    }
    if !BLOCK_SIZES.contains(&sb.block_size) || !sb.block_size.is_power_of_two() {
        out.push(format!(
            "block_size is {}; data blocks are 4 KiB to 1 MiB, a power of two",
            sb.block_size
        ));
    } else if 1u32.checked_shl(u32::from(sb.block_log)) != Some(sb.block_size) {
        out.push(format!(
            "block_log is {}; block_size {} needs {}",
            sb.block_log,
            sb.block_size,
            sb.block_size.trailing_zeros()
        ));
    }
    if sb.inodes == 0 {
        out.push("inodes is 0; there is always a root directory".to_string());
    }
    if sb.no_ids == 0 {
        out.push("no_ids is 0; every inode names a uid and gid from the id table".to_string());
    }
    // The root inode reference: the metadata block's offset in the inode table (high 48 bits)
    // and the byte within its 8 KiB (low 16).
    let (root_block, root_offset) = (sb.root_inode >> 16, sb.root_inode & 0xFFFF);
    if root_offset >= METADATA_SIZE {
        out.push(format!(
            "the root inode is at byte {root_offset} of its metadata block, past its 8192"
        ));
    }
    if sb
        .inode_table_start
        .checked_add(root_block)
        .is_none_or(|at| at >= sb.directory_table_start)
    {
        out.push(format!(
            "the root inode's metadata block (inode table + {root_block}) is past the inode table"
        ));
    }
    out
}

/// Index entries (8-byte pointers) of a table of `count` entries of `entry_bytes` each.
fn pointers(count: u64, entry_bytes: u64) -> u64 {
    (count * entry_bytes).div_ceil(METADATA_SIZE)
}

/// The tables, each as (name, where its index starts, its index's bytes) when present.
fn tables(sb: &Superblock) -> Vec<(&'static str, u64, u64)> {
    let mut out = vec![(
        "id",
        sb.id_table_start,
        8 * pointers(u64::from(sb.no_ids), 4),
    )];
    if sb.fragments > 0 || sb.fragment_table_start != NO_TABLE {
        out.push((
            "fragment",
            sb.fragment_table_start,
            8 * pointers(u64::from(sb.fragments), 16),
        ));
    }
    if sb.lookup_table_start != NO_TABLE {
        out.push((
            "export",
            sb.lookup_table_start,
            8 * pointers(u64::from(sb.inodes), 8),
        ));
    }
    if sb.xattr_id_table_start != NO_TABLE {
        // struct squashfs_xattr_id_table: xattr_table_start, xattr_ids, unused; then its index.
        out.push(("xattr id", sb.xattr_id_table_start, 16));
    }
    out
}

/// The inode table before the directory table, before every other table's index; each index
/// inside bytes_used and before the next table.
pub(crate) fn table_problems(sb: &Superblock) -> Vec<String> {
    let mut out = Vec::new();
    let used = sb.bytes_used;
    if sb.inode_table_start < SUPERBLOCK_BYTES as u64
        || sb.inode_table_start >= sb.directory_table_start
    {
        out.push(format!(
            "the inode table starts at byte {}, the directory table at {}: the inode table comes first, after the superblock",
            sb.inode_table_start, sb.directory_table_start
        ));
    }
    if sb.directory_table_start >= used {
        out.push(format!(
            "the directory table starts at byte {}, past the {used} bytes used",
            sb.directory_table_start
        ));
    }
    let mut tables = tables(sb);
    tables.sort_by_key(|t| t.1);
    for (i, &(name, start, bytes)) in tables.iter().enumerate() {
        let next = tables.get(i + 1).map_or(used, |t| t.1);
        if sb.fragments > 0 && name == "fragment" && start == NO_TABLE {
            out.push(format!("{} fragments but no fragment table", sb.fragments));
        } else if start <= sb.directory_table_start || start >= used {
            out.push(format!("the {name} table starts at byte {start}, outside the directory table's end and the {used} bytes used"));
        } else if start.checked_add(bytes).is_none_or(|end| end > next) {
            out.push(format!(
                "the {name} table's index ({bytes} bytes from byte {start}) runs into byte {next}"
            ));
        }
    }
    out
}

/// With the superblock and table positions sound: the first inode and directory metadata
/// blocks' headers, and the id index's pointers (each to a metadata block before the index).
fn check_metadata<R: Read + Seek>(sb: &Superblock, disk: &mut Disk<R>, findings: &mut Findings) {
    for (name, start, end) in [
        ("inode", sb.inode_table_start, sb.directory_table_start),
        ("directory", sb.directory_table_start, sb.bytes_used),
    ] {
        match disk.read(start, METADATA_HEADER as usize) {
            Ok(header) => {
                let length = u64::from(u16_at(&header, 0) & 0x7FFF);
                if length == 0 || length > METADATA_SIZE || start + METADATA_HEADER + length > end {
                    let message = format!("the {name} table's first metadata block at byte {start} gives length {length}");
                    findings.add(FindingCode::MetadataInvalid, None, message);
                }
            }
            Err(e) => findings.add(
                FindingCode::ReadFailed,
                None,
                format!("the {name} table at byte {start}: {e}"),
            ),
        }
    }
    let count = pointers(u64::from(sb.no_ids), 4).min(MAX_POINTERS);
    let index = match disk.read(sb.id_table_start, (8 * count) as usize) {
        Ok(index) => index,
        Err(e) => {
            findings.add(
                FindingCode::ReadFailed,
                None,
                format!("the id table's index at byte {}: {e}", sb.id_table_start),
            );
            return;
        }
    };
    // As squashfs_read_id_index_table: each block starts after the previous one, before the
    // index, and is at most a metadata block with its header long.
    let mut starts: Vec<u64> = (0..count as usize).map(|i| u64_at(&index, 8 * i)).collect();
    starts.push(sb.id_table_start);
    for (i, pair) in starts.windows(2).enumerate() {
        let (start, end) = (pair[0], pair[1]);
        if start <= sb.directory_table_start
            || start >= end
            || end - start > METADATA_SIZE + METADATA_HEADER
        {
            let message = format!("id index entry {i} points at byte {start}; its block must lie between the directory table and byte {end}, at most 8194 bytes");
            findings.add(FindingCode::MetadataInvalid, None, message);
        }
    }
}

#[cfg(test)]
#[path = "squashfs_tests.rs"]
mod tests;
