//! Partitions from a GPT entry array or MBR records, and the checks on them.

use super::findings::{Code, Findings};
use super::report::{Partition, PartitionType};
use crate::entry::Entry;
use crate::mbr::MbrPartition;

/// The used entries of an entry array, numbered from 1. `entry_size` is at least 128 (the
/// header check guarantees it); a shorter trailing chunk is ignored.
pub(crate) fn gpt_partitions(entries: &[u8], entry_size: u32, sector_size: u32) -> Vec<Partition> {
    entries
        .chunks(entry_size.max(1) as usize)
        .enumerate()
        .filter_map(|(i, bytes)| Some((i, Entry::decode(bytes)?)))
        .filter(|(_, entry)| entry.is_used())
        .map(|(i, entry)| Partition {
            index: (i + 1) as u32, // at most 1 MiB / 128 entries
            partition_type: PartitionType::Gpt(entry.type_guid),
            guid: Some(entry.unique_guid),
            name: entry.name_lossy(),
            first_lba: entry.first_lba,
            last_lba: entry.last_lba,
            offset: entry.first_lba.saturating_mul(u64::from(sector_size)),
            size: byte_size(entry.first_lba, entry.last_lba, sector_size),
            attributes: entry.attributes,
            bootable: false,
            logical: false,
        })
        .collect()
}

/// The used records of an MBR other than 0xEE and extended ones (containers, whose logical
/// partitions the EBR chain gives), numbered 1 to 4 by slot.
pub(crate) fn mbr_partitions(records: &[MbrPartition; 4], sector_size: u32) -> Vec<Partition> {
    use crate::format::mbr::{BOOTABLE, EXTENDED_TYPES, GPT_PROTECTIVE_TYPE};
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.is_used() && r.os_type != GPT_PROTECTIVE_TYPE && !EXTENDED_TYPES.contains(&r.os_type)
        })
        .map(|(i, record)| {
            let first = u64::from(record.starting_lba);
            let last = first + u64::from(record.size_in_lba) - 1; // used: size >= 1
            Partition {
                index: i as u32 + 1,
                partition_type: PartitionType::Mbr(record.os_type),
                guid: None,
                name: String::new(),
                first_lba: first,
                last_lba: last,
                offset: first * u64::from(sector_size), // < 2^32 × 2^16
                size: byte_size(first, last, sector_size),
                attributes: 0,
                bootable: record.boot_indicator == BOOTABLE,
                logical: false,
            }
        })
        .collect()
}

fn byte_size(first: u64, last: u64, sector_size: u32) -> u64 {
    match last.checked_sub(first) {
        Some(span) => span
            .saturating_add(1)
            .saturating_mul(u64::from(sector_size)),
        None => 0,
    }
}

/// Where partitions may lie: the disk, and inside it the usable LBAs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub total_sectors: u64,
    pub first_usable: u64,
    pub last_usable: u64,
    /// "the usable LBAs" (GPT) or "LBAs after the MBR" (MBR), for messages.
    pub usable_name: &'static str,
}

/// Ranges, overlaps and duplicate GUIDs.
pub(crate) fn check_partitions(partitions: &[Partition], bounds: Bounds, findings: &mut Findings) {
    for partition in partitions {
        check_range(partition, bounds, findings);
    }
    check_overlaps(partitions, findings);
    check_duplicate_guids(partitions, findings);
}

fn check_range(p: &Partition, bounds: Bounds, findings: &mut Findings) {
    let (first, last) = (p.first_lba, p.last_lba);
    if first > last {
        findings.add_limited(Code::PartitionFirstAfterLast, || {
            format!(
                "{} starts at LBA {first}, after its last LBA {last}",
                p.describe()
            )
        });
    } else if last >= bounds.total_sectors {
        findings.add_limited(Code::PartitionOutsideDisk, || {
            format!(
                "{} spans LBAs {first}-{last}, past the end of the disk (last LBA {})",
                p.describe(),
                bounds.total_sectors.saturating_sub(1)
            )
        });
    } else if first < bounds.first_usable || last > bounds.last_usable {
        findings.add_limited(Code::PartitionOutsideUsable, || {
            format!(
                "{} spans LBAs {first}-{last}, outside {} {}-{}",
                p.describe(),
                bounds.usable_name,
                bounds.first_usable,
                bounds.last_usable
            )
        });
    }
}

/// Sweeps partitions by start, remembering the one reaching furthest: each partition that
/// starts before that one ends overlaps it. Inverted ranges are left to check_range.
fn check_overlaps(partitions: &[Partition], findings: &mut Findings) {
    let mut sorted: Vec<&Partition> = partitions
        .iter()
        .filter(|p| p.first_lba <= p.last_lba)
        .collect();
    sorted.sort_by_key(|p| (p.first_lba, p.last_lba, p.index));
    let mut furthest: Option<&Partition> = None;
    for p in sorted {
        if let Some(reach) = furthest.filter(|f| p.first_lba <= f.last_lba) {
            findings.add_limited(Code::PartitionsOverlap, || {
                format!(
                    "{} (LBAs {}-{}) and {} (LBAs {}-{}) overlap",
                    reach.describe(),
                    reach.first_lba,
                    reach.last_lba,
                    p.describe(),
                    p.first_lba,
                    p.last_lba
                )
            });
        }
        if furthest.is_none_or(|f| p.last_lba > f.last_lba) {
            furthest = Some(p);
        }
    }
}

fn check_duplicate_guids(partitions: &[Partition], findings: &mut Findings) {
    let mut with_guid: Vec<(crate::guid::Guid, &Partition)> = partitions
        .iter()
        .filter_map(|p| Some((p.guid?, p)))
        .collect();
    with_guid.sort_by_key(|(guid, p)| (*guid, p.index));
    for pair in with_guid.windows(2) {
        let ((guid, a), (other, b)) = (pair[0], pair[1]);
        if guid == other {
            findings.add_limited(Code::PartitionGuidDuplicate, || {
                format!(
                    "{} and {} have the same GUID {guid}",
                    a.describe(),
                    b.describe()
                )
            });
        }
    }
}

#[cfg(test)]
#[path = "partitions_tests.rs"]
mod tests;
