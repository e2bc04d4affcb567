//! Binding of the FAT32 reader: `readFat32` summarises, checks and optionally lists the FAT32
//! filesystem in one partition of an image. Values are converted here; the reading and every
//! judgement live in imgforge-fat32.

use imgforge_fat32::{EntryKind, Finding, Volume, VolumeSummary};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{open_image, to_u64, FilesystemFinding};

/// A file or directory of the filesystem.
#[napi(object)]
pub struct Fat32Entry {
    /// Full path, "/EFI/BOOT/BOOTX64.EFI": long names when present, else 8.3 names.
    pub path: String,
    #[napi(ts_type = "'file' | 'directory'")]
    pub kind: String,
    /// Bytes (0 for directories).
    pub size: u32,
    /// Last modification in seconds since the Unix epoch (the FAT time read as UTC); absent
    /// when the stored date is not a valid date.
    pub modified: Option<f64>,
}

/// A FAT32 filesystem summarised from its FAT and tree.
#[napi(object)]
pub struct Fat32Report {
    /// The volume label (the root's label entry, else the boot sector's); absent for "NO NAME".
    pub label: Option<String>,
    /// The 32-bit serial number; shown as "1234-ABCD" (high and low 16 bits in hex).
    pub volume_id: u32,
    pub bytes_per_sector: u32,
    /// Bytes per cluster.
    pub cluster_size: u32,
    /// Data clusters.
    pub clusters: u32,
    /// Clusters the FAT marks allocated (neither free nor bad).
    pub used_clusters: u32,
    pub free_clusters: u32,
    pub bad_clusters: u32,
    /// FSInfo's free-cluster count, when FSInfo is valid and knows it.
    pub fsinfo_free_clusters: Option<u32>,
    /// FSInfo's next-free-cluster hint, when FSInfo is valid and knows it.
    pub fsinfo_next_free: Option<u32>,
    /// Directories below the root (the root is not counted).
    pub directories: u32,
    pub files: u32,
    /// The files' sizes added up.
    pub file_bytes: f64,
    /// Every problem found; empty for a sound filesystem. At most 50 per code, then one more
    /// saying how many were left out. Codes: BOOT_SECTOR_INVALID, BACKUP_BOOT_SECTOR_DIFFERS,
    /// FATS_DIFFER, FSINFO_INVALID, FSINFO_FREE_COUNT_WRONG, FSINFO_NEXT_FREE_WRONG,
    /// CHAIN_OUT_OF_RANGE, CHAIN_FREE_CLUSTER, CHAIN_BAD_CLUSTER, CHAIN_LOOP, CROSS_LINKED,
    /// CHAIN_LENGTH_MISMATCH, LOST_CLUSTERS, DIRECTORY_LOOP, DIRECTORY_TOO_LARGE,
    /// DIRECTORY_TOO_DEEP, DOT_ENTRY_INVALID, LFN_CHECKSUM_MISMATCH, LFN_ORPHANED, INVALID_NAME,
    /// DUPLICATE_NAME, TOO_FEW_CLUSTERS, PARTITION_TRUNCATED or READ_FAILED.
    pub findings: Vec<FilesystemFinding>,
    /// Every file and directory below the root, each directory before its contents; only
    /// when asked for (`withFiles`).
    pub entries: Option<Vec<Fat32Entry>>,
}

fn finding(finding: &Finding) -> FilesystemFinding {
    FilesystemFinding {
        code: finding.code.as_str().to_string(),
        message: finding.message.clone(),
    }
}

fn report(summary: &VolumeSummary, findings: &[Finding]) -> Fat32Report {
    Fat32Report {
        label: summary.label.clone(),
        volume_id: summary.volume_id,
        bytes_per_sector: summary.bytes_per_sector,
        cluster_size: summary.cluster_size,
        clusters: summary.clusters,
        used_clusters: summary.used_clusters,
        free_clusters: summary.free_clusters,
        bad_clusters: summary.bad_clusters,
        fsinfo_free_clusters: summary.fsinfo_free_clusters,
        fsinfo_next_free: summary.fsinfo_next_free,
        directories: summary.directories,
        files: summary.files,
        file_bytes: summary.file_bytes as f64,
        findings: findings.iter().map(finding).collect(),
        entries: None,
    }
}

/// Reads the FAT32 filesystem in the `length` bytes at byte `offset` of `image` (an image
/// file or a block device): null when the partition holds no FAT32. With `withFiles`, lists
/// every entry. Throws only when the image cannot be opened or its first sector read.
#[napi]
pub fn read_fat32(
    image: String,
    offset: f64,
    length: f64,
    with_files: bool,
) -> Result<Option<Fat32Report>> {
    let file = open_image(&image)?;
    let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
    let volume = Volume::open(file, offset, length)
        .map_err(|e| Error::from_reason(format!("cannot read {image}: {e}")))?;
    Ok(volume.map(|volume| {
        let mut out = report(volume.summary(), volume.findings());
        if with_files {
            let entries = volume.listing().into_iter().map(|e| Fat32Entry {
                path: e.path,
                kind: match e.kind {
                    EntryKind::File => "file",
                    EntryKind::Directory => "directory",
                }
                .to_string(),
                size: e.size,
                modified: e.modified.map(|t| t as f64),
            });
            out.entries = Some(entries.collect());
        }
        out
    }))
}
