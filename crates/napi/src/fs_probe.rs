//! Binding of the ext4 and squashfs probes: `readExt4` and `readSquashfs` summarise and check
//! the superblock in one partition of an image. Values are converted here; the reading and
//! every judgement live in imgforge-fs-probe.

use imgforge_fs_probe::{
    read_ext4 as probe_ext4, read_squashfs as probe_squashfs, uuid_text, Finding,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{open_image, to_u64, FilesystemFinding};

/// An ext2, ext3 or ext4 filesystem summarised from its superblock.
#[napi(object)]
pub struct Ext4Report {
    /// ext4 (extents), ext3 (a journal without extents) or ext2.
    #[napi(ts_type = "'ext4' | 'ext3' | 'ext2'")]
    pub kind: String,
    /// The volume label; absent when empty.
    pub label: Option<String>,
    /// The filesystem UUID, "5C0E2F1A-8D4B-4E6F-9A3C-7B1D2E4F6A80".
    pub uuid: String,
    /// Bytes per block; 0 when the superblock's block size is out of range.
    pub block_size: u32,
    pub blocks: f64,
    pub free_blocks: f64,
    /// Blocks reserved for root.
    pub reserved_blocks: f64,
    /// Bytes the filesystem spans (blocks times the block size).
    pub size_bytes: f64,
    /// Bytes of blocks in use (metadata included), by the superblock's free count.
    pub used_bytes: f64,
    pub inodes: f64,
    pub free_inodes: f64,
    pub inode_size: u32,
    /// The directory hash seed, as a UUID.
    pub hash_seed: String,
    /// The default directory hash (half_md4, tea, legacy, siphash, ...).
    pub hash_version: String,
    /// The features, as dumpe2fs names them.
    pub features: Vec<String>,
    /// mkfs time and last write time, seconds since the epoch (0: never set).
    pub created: f64,
    pub written: f64,
    /// Cleanly unmounted, no errors recorded.
    pub clean: bool,
    /// Every problem found; empty for a sound superblock. Codes: SUPERBLOCK_INVALID,
    /// SUPERBLOCK_CHECKSUM_WRONG, FEATURE_UNSUPPORTED, FREE_COUNT_WRONG, NOT_CLEAN,
    /// PARTITION_TRUNCATED.
    pub findings: Vec<FilesystemFinding>,
}

/// A squashfs summarised from its superblock.
#[napi(object)]
pub struct SquashfsReport {
    /// The format version, "4.0".
    pub version: String,
    /// gzip, lzma, lzo, xz, lz4 or zstd ("unknown (N)" otherwise).
    pub compression: String,
    /// Bytes per data block.
    pub block_size: u32,
    pub inodes: f64,
    /// Bytes the filesystem uses.
    pub bytes_used: f64,
    pub fragments: f64,
    /// Distinct uids and gids.
    pub ids: u32,
    /// Superblock flags by name (exportable, duplicates-removed, no-xattrs, ...).
    pub flags: Vec<String>,
    /// mkfs time, seconds since the epoch.
    pub created: f64,
    /// Every problem found; empty for a sound superblock. Codes: SUPERBLOCK_INVALID,
    /// FEATURE_UNSUPPORTED, TABLE_OUT_OF_RANGE, METADATA_INVALID, PARTITION_TRUNCATED,
    /// READ_FAILED.
    pub findings: Vec<FilesystemFinding>,
}

fn findings(found: &[Finding]) -> Vec<FilesystemFinding> {
    found
        .iter()
        .map(|f| FilesystemFinding {
            code: f.code.as_str().to_string(),
            message: f.message.clone(),
        })
        .collect()
}

/// Reads the ext2/3/4 superblock in the `length` bytes at byte `offset` of `image` (a file or a
/// block device): null when the partition holds none. Throws only when the image cannot be
/// opened or read.
#[napi]
pub fn read_ext4(image: String, offset: f64, length: f64) -> Result<Option<Ext4Report>> {
    let file = open_image(&image)?;
    let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
    let report = probe_ext4(file, offset, length)
        .map_err(|e| Error::from_reason(format!("cannot read {image}: {e}")))?;
    Ok(report.map(|r| {
        let s = r.summary;
        Ext4Report {
            kind: s.kind.to_string(),
            label: s.label.clone(),
            uuid: uuid_text(&s.uuid),
            block_size: s.block_size,
            blocks: s.blocks as f64,
            free_blocks: s.free_blocks as f64,
            reserved_blocks: s.reserved_blocks as f64,
            size_bytes: s.size_bytes() as f64,
            used_bytes: s.used_bytes() as f64,
            inodes: f64::from(s.inodes),
            free_inodes: f64::from(s.free_inodes),
            inode_size: u32::from(s.inode_size),
            hash_seed: uuid_text(&s.hash_seed),
            hash_version: s.hash_version.clone(),
            features: s.features.clone(),
            created: f64::from(s.created),
            written: f64::from(s.written),
            clean: s.clean,
            findings: findings(&r.findings),
        }
    }))
}

/// Reads the squashfs superblock in the `length` bytes at byte `offset` of `image`: null when
/// the partition holds none. Throws only when the image cannot be opened or read.
#[napi]
pub fn read_squashfs(image: String, offset: f64, length: f64) -> Result<Option<SquashfsReport>> {
    let file = open_image(&image)?;
    let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
    let report = probe_squashfs(file, offset, length)
        .map_err(|e| Error::from_reason(format!("cannot read {image}: {e}")))?;
    Ok(report.map(|r| {
        let s = r.summary;
        SquashfsReport {
            version: format!("{}.{}", s.major, s.minor),
            compression: s.compression,
            block_size: s.block_size,
            inodes: f64::from(s.inodes),
            bytes_used: s.bytes_used as f64,
            fragments: f64::from(s.fragments),
            ids: u32::from(s.ids),
            flags: s.flags,
            created: f64::from(s.created),
            findings: findings(&r.findings),
        }
    }))
}
