//! Telling a FAT32 boot sector from anything else, and where its FATs and clusters lie.
//! Detection is strict only where the layout cannot be computed otherwise; every other odd
//! field is read as Linux reads it and reported as a finding.

use super::findings::{FindingCode, Findings};
use crate::geometry::{FIRST_CLUSTER, MAX_CLUSTERS, MIN_CLUSTERS};
use crate::ondisk::boot::{BootSector, ACTIVE_FAT_MASK, MIRRORING_DISABLED};
use crate::ondisk::fat_entry::MEDIA_FIXED;

/// Whether `sector` (the partition's first bytes, at least 512) is a FAT32 boot sector: the
/// 0x55AA signature, 512 to 4096 bytes per sector (a power of two), a power-of-two cluster,
/// at least one reserved sector and one FAT, no 16-bit FAT size but a 32-bit one, and a sector
/// count. FAT12/16, exFAT, NTFS and everything else give None.
pub fn detect(sector: &[u8]) -> Option<BootSector> {
    if !BootSector::has_signature(sector) {
        return None;
    }
    let boot = BootSector::parse(sector)?;
    let sector_ok =
        boot.bytes_per_sector.is_power_of_two() && (512..=4096).contains(&boot.bytes_per_sector);
    let fat32 = boot.fat_size_16 == 0 && boot.fat_size_32 != 0;
    let ok = sector_ok
        && boot.sectors_per_cluster.is_power_of_two()
        && boot.reserved_sectors >= 1
        && boot.fat_count >= 1
        && fat32
        && boot.total_sectors() != 0;
    ok.then_some(boot)
}

/// Where things are, in bytes from the partition's start, and how many clusters are usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub bytes_per_sector: u32,
    pub cluster_size: u32,
    pub reserved_sectors: u32,
    pub fat_count: u32,
    pub fat_bytes: u64,
    /// The FAT that counts: 0 unless mirroring is disabled.
    pub active_fat: u32,
    pub mirrored: bool,
    pub data_start: u64,
    /// Data clusters, numbered FIRST_CLUSTER.. ; never more than the FAT has entries for.
    pub clusters: u32,
    pub root_cluster: u32,
    /// The filesystem's size as the boot sector gives it.
    pub total_bytes: u64,
}

impl Layout {
    /// One past the last data cluster.
    pub fn end_cluster(&self) -> u32 {
        FIRST_CLUSTER + self.clusters
    }

    pub fn is_data_cluster(&self, cluster: u32) -> bool {
        (FIRST_CLUSTER..self.end_cluster()).contains(&cluster)
    }

    pub fn sector_offset(&self, sector: u32) -> u64 {
        u64::from(sector) * u64::from(self.bytes_per_sector)
    }

    pub fn fat_offset(&self, copy: u32) -> u64 {
        self.sector_offset(self.reserved_sectors) + u64::from(copy) * self.fat_bytes
    }

    pub fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_start + u64::from(cluster - FIRST_CLUSTER) * u64::from(self.cluster_size)
    }

    /// "clusters 2 to 65536", for messages.
    pub fn data_range(&self) -> String {
        match self.clusters {
            0 => "none: the volume has no data clusters".to_string(),
            _ => format!("clusters {FIRST_CLUSTER} to {}", self.end_cluster() - 1),
        }
    }
}

fn invalid(findings: &mut Findings, message: String) {
    findings.add(FindingCode::BootSectorInvalid, None, message);
}

/// The layout of a detected boot sector; fields that make no sense become findings.
pub(crate) fn layout(boot: &BootSector, partition_len: u64, findings: &mut Findings) -> Layout {
    let bps = u64::from(boot.bytes_per_sector);
    let spc = u64::from(boot.sectors_per_cluster);
    let fat_sectors = u64::from(boot.fat_size_32);
    let data_sector = u64::from(boot.reserved_sectors) + u64::from(boot.fat_count) * fat_sectors;
    let total = u64::from(boot.total_sectors());
    check_fields(boot, findings);
    let mut clusters = if data_sector >= total {
        invalid(
            findings,
            format!(
                "the FATs end at sector {data_sector}, but the filesystem has only {total} sectors"
            ),
        );
        0
    } else {
        (total - data_sector) / spc
    };
    let fat_entries = fat_sectors * bps / 4;
    if clusters + u64::from(FIRST_CLUSTER) > fat_entries {
        invalid(
            findings,
            format!(
                "a FAT of {fat_sectors} sectors has entries for {} clusters, not the {clusters} \
                 the sector count gives; only those are read",
                fat_entries.saturating_sub(2)
            ),
        );
        clusters = fat_entries.saturating_sub(2);
    }
    if clusters > u64::from(MAX_CLUSTERS) {
        invalid(
            findings,
            format!("{clusters} clusters is more than FAT32 can number ({MAX_CLUSTERS})"),
        );
        clusters = u64::from(MAX_CLUSTERS);
    }
    if clusters < u64::from(MIN_CLUSTERS) {
        findings.add(
            FindingCode::TooFewClusters,
            None,
            format!(
                "{clusters} clusters: FAT32 needs at least {MIN_CLUSTERS}, or drivers that go by \
                 the cluster count (Windows, some firmware) take it for FAT12 or FAT16"
            ),
        );
    }
    let total_bytes = total * bps;
    if total_bytes > partition_len {
        findings.add(
            FindingCode::PartitionTruncated,
            None,
            format!(
                "the filesystem is {total_bytes} bytes ({total} sectors) but the partition holds \
                 only {partition_len}"
            ),
        );
    }
    let mirrored = boot.ext_flags & MIRRORING_DISABLED == 0;
    let mut active_fat = if mirrored {
        0
    } else {
        u32::from(boot.ext_flags & ACTIVE_FAT_MASK)
    };
    if active_fat >= u32::from(boot.fat_count) {
        invalid(
            findings,
            format!(
                "the active FAT is number {active_fat} (from 0), but there are {} FATs; FAT 0 is read",
                boot.fat_count
            ),
        );
        active_fat = 0;
    }
    Layout {
        bytes_per_sector: u32::from(boot.bytes_per_sector),
        cluster_size: (bps * spc) as u32,
        reserved_sectors: u32::from(boot.reserved_sectors),
        fat_count: u32::from(boot.fat_count),
        fat_bytes: fat_sectors * bps,
        active_fat,
        mirrored,
        data_start: data_sector * bps,
        clusters: clusters as u32,
        root_cluster: boot.root_cluster,
        total_bytes,
    }
}

/// Fields FAT32 fixes that do not change the layout.
fn check_fields(boot: &BootSector, findings: &mut Findings) {
    if boot.root_entries != 0 {
        invalid(
            findings,
            format!(
                "the root entry count is {}; FAT32 keeps its root directory in clusters (0)",
                boot.root_entries
            ),
        );
    }
    if boot.total_sectors_16 != 0 {
        invalid(
            findings,
            format!(
                "the 16-bit sector count is {}; FAT32 uses the 32-bit one and leaves it 0",
                boot.total_sectors_16
            ),
        );
    }
    if !(boot.media == 0xF0 || boot.media >= MEDIA_FIXED) {
        invalid(
            findings,
            format!(
                "the media descriptor is {:#04X}; valid ones are 0xF0 and 0xF8 to 0xFF",
                boot.media
            ),
        );
    }
    if boot.fs_version != 0 {
        invalid(
            findings,
            format!(
                "the filesystem version is {}.{}; only 0.0 exists",
                boot.fs_version >> 8,
                boot.fs_version & 0xFF
            ),
        );
    }
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
