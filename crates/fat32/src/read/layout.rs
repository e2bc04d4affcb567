//! Telling a FAT32 boot sector from anything else, and where its FATs and clusters lie.
//! Detection is strict only where the layout cannot be computed otherwise; every other odd
//! field is read as Linux reads it and reported as a finding. A boot sector that marks itself
//! as FAT32 is FAT32 even when its geometry is broken: that is damage to report, not a reason
//! to call the partition unknown.

use super::findings::{FindingCode, Findings};
use crate::geometry::{FIRST_CLUSTER, MAX_CLUSTERS, MIN_CLUSTERS};
use crate::ondisk::boot::{
    offset, BootSector, ACTIVE_FAT_MASK, EXTENDED_BOOT_SIGNATURE, MIRRORING_DISABLED,
};
use crate::ondisk::fat_entry::MEDIA_FIXED;

/// The extended BPB's type string of a FAT32 volume, at offset 82.
const FAT32_TYPE: &[u8; 8] = b"FAT32   ";
/// FAT32's jump: over its 90-byte BPB to the boot code (FAT12/16 jump to 0x3E, NTFS to 0x54,
/// exFAT to 0x78).
const FAT32_JUMP: [u8; 3] = [0xEB, 0x58, 0x90];

/// Whether `sector` (the partition's first bytes, at least 512) is a FAT32 boot sector: the
/// 0x55AA signature, and either a sound FAT32 geometry (see [`geometry_problems`]) or FAT32's
/// own marks (see `marked_fat32`), in which case `geometry_problems` says what is broken.
/// FAT12/16, exFAT, NTFS and everything else give None.
pub(crate) fn detect(sector: &[u8]) -> Option<BootSector> {
    if !BootSector::has_signature(sector) {
        return None;
    }
    let boot = BootSector::parse(sector)?;
    (geometry_problems(&boot).is_empty() || marked_fat32(sector)).then_some(boot)
}

/// Whether a boot sector says it is FAT32 by more than its geometry. Each mark is specific to
/// FAT32, and mkfs.fat, Windows and imgforge write both:
/// - "FAT32   " at 82, the type string of FAT32's extended BPB: FAT12/16 keep theirs at 54 and
///   have boot code at 82; NTFS and exFAT have boot code or other fields there;
/// - FAT32's jump (EB 58 90) together with the extended boot signature 0x29 at 66, where only
///   FAT32's extended BPB has it. The jump alone is not enough: boot code starts with jumps.
///
/// A volume so marked whose geometry is broken is what fsck.fat reports as an error and Linux
/// refuses to mount; blkid, which requires sound geometry, calls it nothing. Reporting it as
/// unknown contents would hide the damage.
fn marked_fat32(sector: &[u8]) -> bool {
    let type_string = &sector[offset::FS_TYPE..offset::FS_TYPE + 8] == FAT32_TYPE;
    let jump = sector[offset::JUMP..offset::JUMP + 3] == FAT32_JUMP;
    type_string || (jump && sector[offset::EXTENDED_SIGNATURE] == EXTENDED_BOOT_SIGNATURE)
}

/// What makes the boot sector's geometry unusable, one sentence per field: bytes per sector
/// (512 to 4096, a power of two), sectors per cluster (a power of two), reserved sectors and
/// FATs (at least one each), the FAT size (32-bit, not 0; the 16-bit one 0) and the sector
/// count (not 0). Without all of these, where the FATs and the clusters lie is unknown, and
/// Linux refuses to mount the volume.
pub(crate) fn geometry_problems(boot: &BootSector) -> Vec<String> {
    let mut problems = Vec::new();
    let bps = boot.bytes_per_sector;
    if !(bps.is_power_of_two() && (512..=4096).contains(&bps)) {
        problems.push(format!(
            "the bytes per sector are {bps}; FAT32 needs 512, 1024, 2048 or 4096"
        ));
    }
    let spc = boot.sectors_per_cluster;
    if !spc.is_power_of_two() {
        problems.push(format!(
            "the sectors per cluster are {spc}; FAT needs a power of two from 1 to 128"
        ));
    }
    if boot.reserved_sectors == 0 {
        problems.push(
            "the reserved sector count is 0; the boot sector itself is reserved, so it is at least 1"
                .to_string(),
        );
    }
    if boot.fat_count == 0 {
        problems.push("the number of FATs is 0; a volume needs at least one".to_string());
    }
    if boot.fat_size_16 != 0 {
        problems.push(format!(
            "the 16-bit FAT size is {}; FAT32 leaves it 0 and gives the size in the 32-bit field",
            boot.fat_size_16
        ));
    } else if boot.fat_size_32 == 0 {
        problems.push("the FAT size is 0 sectors; a FAT takes at least one".to_string());
    }
    if boot.total_sectors() == 0 {
        problems.push("the sector count is 0 (in both its 16- and 32-bit fields)".to_string());
    }
    problems
}

/// Where things are, in bytes from the partition's start, and how many clusters are usable.
/// The default, all zeros, is a volume without clusters, for a boot sector that cannot be laid
/// out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    pub(super) fn end_cluster(&self) -> u32 {
        FIRST_CLUSTER + self.clusters
    }

    pub(super) fn is_data_cluster(&self, cluster: u32) -> bool {
        (FIRST_CLUSTER..self.end_cluster()).contains(&cluster)
    }

    pub(super) fn sector_offset(&self, sector: u32) -> u64 {
        u64::from(sector) * u64::from(self.bytes_per_sector)
    }

    pub(super) fn fat_offset(&self, copy: u32) -> u64 {
        self.sector_offset(self.reserved_sectors) + u64::from(copy) * self.fat_bytes
    }

    pub(super) fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_start + u64::from(cluster - FIRST_CLUSTER) * u64::from(self.cluster_size)
    }

    /// "clusters 2 to 65536", for messages.
    pub(super) fn data_range(&self) -> String {
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
