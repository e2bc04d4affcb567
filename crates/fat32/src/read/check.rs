//! Whole-volume checks after the walk: one sequential pass over the FATs (the copies agree,
//! free and used counts, clusters allocated but reached by no chain), then FSInfo and the
//! backup boot sector.

use std::io::{Read, Seek};

use super::bitmap::ClusterBitmap;
use super::findings::{FindingCode, Findings};
use super::layout::Layout;
use crate::geometry::FIRST_CLUSTER;
use crate::ondisk::boot::{BootSector, FsInfo, FSINFO_UNKNOWN};
use crate::ondisk::fat_entry::FatEntry;
use imgforge_partition_read::Disk;

/// FAT bytes read at a time (per copy).
const CHUNK_BYTES: u64 = 1 << 20;
/// Runs of lost clusters named in the message; the count covers all of them.
const LOST_RUNS_SHOWN: usize = 8;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FatCounts {
    pub free: u32,
    pub bad: u32,
    pub used: u32,
    /// False when part of the active FAT could not be read: the counts cover less.
    pub complete: bool,
}

/// A FAT copy compared with the active one.
struct CopyDiff {
    copy: u32,
    differing: u64,
    first: Option<(u64, u32, u32)>,
    unreadable: bool,
}

/// Counts the active FAT and compares the other copies with it, chunk by chunk; reports lost
/// clusters (allocated, not in `reached`).
pub(crate) fn scan_fats<R: Read + Seek>(
    disk: &mut Disk<R>,
    layout: &Layout,
    reached: &ClusterBitmap,
    findings: &mut Findings,
) -> FatCounts {
    let mut counts = FatCounts::default();
    let entries = u64::from(layout.end_cluster());
    let mut copies: Vec<CopyDiff> = (0..layout.fat_count)
        .filter(|&copy| layout.mirrored && copy != layout.active_fat)
        .map(|copy| CopyDiff {
            copy,
            differing: 0,
            first: None,
            unreadable: false,
        })
        .collect();
    let mut lost = LostRuns::default();
    let mut active = Vec::new();
    let mut other = Vec::new();
    let mut start = 0u64;
    counts.complete = true;
    let active_start = layout.fat_offset(layout.active_fat);
    // A FAT cut short by the partition is still counted as far as it goes.
    let in_partition = disk.len().saturating_sub(active_start) / 4;
    while start < entries {
        let count = (entries - start).min(CHUNK_BYTES / 4);
        let count = count.min(in_partition.saturating_sub(start)).max(1);
        active.resize((count * 4) as usize, 0);
        let at = active_start + start * 4;
        if let Err(error) = disk.read_at(at, &mut active) {
            findings.add(
                FindingCode::ReadFailed,
                None,
                format!(
                    "cannot read FAT {} from entry {start}: {error}; the cluster counts cover \
                     the entries before it",
                    layout.active_fat + 1
                ),
            );
            counts.complete = false;
            break;
        }
        for (i, raw) in active.chunks_exact(4).enumerate() {
            let cluster = start + i as u64;
            if cluster < u64::from(FIRST_CLUSTER) {
                continue;
            }
            let cluster = cluster as u32;
            match FatEntry::from_raw(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])) {
                FatEntry::Free => counts.free += 1,
                FatEntry::Bad => counts.bad += 1,
                _ => {
                    counts.used += 1;
                    if !reached.get(cluster) {
                        lost.add(cluster);
                    }
                }
            }
        }
        for diff in copies.iter_mut().filter(|d| !d.unreadable) {
            other.resize(active.len(), 0);
            let at = layout.fat_offset(diff.copy) + start * 4;
            if let Err(error) = disk.read_at(at, &mut other) {
                diff.unreadable = true;
                findings.add(
                    FindingCode::ReadFailed,
                    None,
                    format!(
                        "cannot read FAT {} from entry {start}: {error}",
                        diff.copy + 1
                    ),
                );
                continue;
            }
            compare_chunk(diff, start, &active, &other);
        }
        start += count;
    }
    report_fat_differences(&copies, layout, findings);
    lost.report(findings);
    counts
}

fn compare_chunk(diff: &mut CopyDiff, start: u64, active: &[u8], other: &[u8]) {
    if active == other {
        return;
    }
    for (i, (a, b)) in active
        .chunks_exact(4)
        .zip(other.chunks_exact(4))
        .enumerate()
    {
        if a != b {
            diff.differing += 1;
            let value = |x: &[u8]| u32::from_le_bytes([x[0], x[1], x[2], x[3]]);
            diff.first
                .get_or_insert((start + i as u64, value(a), value(b)));
        }
    }
}

fn report_fat_differences(copies: &[CopyDiff], layout: &Layout, findings: &mut Findings) {
    for diff in copies {
        if let Some((entry, a, b)) = diff.first {
            findings.add(
                FindingCode::FatsDiffer,
                None,
                format!(
                    "FAT {} differs from FAT {} in {} entries; the first is the entry of cluster \
                     {entry}: {a:#010X} in FAT {}, {b:#010X} in FAT {}",
                    diff.copy + 1,
                    layout.active_fat + 1,
                    diff.differing,
                    layout.active_fat + 1,
                    diff.copy + 1
                ),
            );
        }
    }
}

/// Lost clusters, counted, with the first few runs kept for the message.
#[derive(Default)]
struct LostRuns {
    count: u64,
    runs: Vec<(u32, u32)>,
}

impl LostRuns {
    fn add(&mut self, cluster: u32) {
        self.count += 1;
        let kept = self.runs.len();
        match self.runs.last_mut() {
            Some((_, last)) if *last + 1 == cluster => *last = cluster,
            _ if kept <= LOST_RUNS_SHOWN => self.runs.push((cluster, cluster)),
            _ => {}
        }
    }

    fn report(&self, findings: &mut Findings) {
        if self.count == 0 {
            return;
        }
        let shown: Vec<String> = self
            .runs
            .iter()
            .take(LOST_RUNS_SHOWN)
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        let more = if self.runs.len() > LOST_RUNS_SHOWN {
            ", ..."
        } else {
            ""
        };
        findings.add(
            FindingCode::LostClusters,
            None,
            format!(
                "{} clusters are allocated in the FAT but belong to no file or directory: \
                 clusters {}{more}",
                self.count,
                shown.join(", ")
            ),
        );
    }
}

/// FSInfo's hints as read, when its sector has the signatures.
pub(crate) fn check_fsinfo<R: Read + Seek>(
    disk: &mut Disk<R>,
    boot: &BootSector,
    layout: &Layout,
    counts: &FatCounts,
    findings: &mut Findings,
) -> Option<FsInfo> {
    let sector = u32::from(boot.fsinfo_sector);
    let mut invalid = |message: String| findings.add(FindingCode::FsinfoInvalid, None, message);
    if sector == 0 || sector == 0xFFFF {
        invalid("the boot sector names no FSInfo sector".to_string());
        return None;
    }
    if sector >= layout.reserved_sectors {
        invalid(format!(
            "the FSInfo sector is sector {sector}, outside the reserved area ({} sectors)",
            layout.reserved_sectors
        ));
        return None;
    }
    let mut bytes = vec![0u8; layout.bytes_per_sector as usize];
    if let Err(error) = disk.read_at(layout.sector_offset(sector), &mut bytes) {
        invalid(format!(
            "cannot read the FSInfo sector (sector {sector}): {error}"
        ));
        return None;
    }
    let Some(info) = FsInfo::parse(&bytes) else {
        invalid(format!("sector {sector} lacks the FSInfo signatures"));
        return None;
    };
    if info.free_clusters != FSINFO_UNKNOWN && counts.complete && info.free_clusters != counts.free
    {
        findings.add(
            FindingCode::FsinfoFreeCountWrong,
            None,
            format!(
                "FSInfo says {} clusters are free; the FAT has {} free",
                info.free_clusters, counts.free
            ),
        );
    }
    if info.next_free != FSINFO_UNKNOWN && !layout.is_data_cluster(info.next_free) {
        findings.add(
            FindingCode::FsinfoNextFreeWrong,
            None,
            format!(
                "FSInfo's next-free hint is cluster {}, outside the data region ({})",
                info.next_free,
                layout.data_range()
            ),
        );
    }
    Some(info)
}

/// The backup boot sector, when the boot sector names one, is a copy of the boot sector.
pub(crate) fn check_backup_boot<R: Read + Seek>(
    disk: &mut Disk<R>,
    boot: &BootSector,
    boot_bytes: &[u8],
    layout: &Layout,
    findings: &mut Findings,
) {
    let sector = u32::from(boot.backup_boot_sector);
    if sector == 0 || sector == 0xFFFF {
        return;
    }
    let mut differs =
        |message: String| findings.add(FindingCode::BackupBootSectorDiffers, None, message);
    if sector >= layout.reserved_sectors {
        differs(format!(
            "the backup boot sector is sector {sector}, outside the reserved area ({} sectors)",
            layout.reserved_sectors
        ));
        return;
    }
    let mut backup = vec![0u8; boot_bytes.len()];
    if let Err(error) = disk.read_at(layout.sector_offset(sector), &mut backup) {
        differs(format!(
            "cannot read the backup boot sector (sector {sector}): {error}"
        ));
        return;
    }
    let differing: Vec<usize> = (0..backup.len())
        .filter(|&i| backup[i] != boot_bytes[i])
        .collect();
    if let Some(first) = differing.first() {
        differs(format!(
            "the backup boot sector (sector {sector}) differs from the boot sector in {} bytes, \
             the first at byte {first}",
            differing.len()
        ));
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
