//! Follows the chain of EBRs in an MBR's extended partition to its logical partitions. Every
//! link is untrusted: the walk stops at a sector it has seen (a loop), at a link outside the
//! extended partition or the disk, at a sector without the 0x55AA signature, and after
//! [`MAX_LOGICAL_PARTITIONS`] partitions, reporting each as a finding.

use std::collections::HashSet;
use std::io::{self, Read, Seek};

use super::disk::Disk;
use super::findings::{Code, Findings};
use super::report::{Partition, PartitionType};
use crate::format::mbr::{EXTENDED_TYPES, MAX_LOGICAL_PARTITIONS, SIZE as MBR_SIZE};
use crate::mbr::{Mbr, MbrPartition};

/// The first extended record of the MBR, with its slot (1 to 4).
pub(crate) fn extended_record(records: &[MbrPartition; 4]) -> Option<(usize, MbrPartition)> {
    records
        .iter()
        .enumerate()
        .find(|(_, r)| r.is_used() && EXTENDED_TYPES.contains(&r.os_type))
        .map(|(i, r)| (i + 1, *r))
}

/// The logical partitions of the extended partition in `records`, numbered from 5 in chain
/// order (as Linux numbers them); an empty list when there is none.
pub(crate) fn logical_partitions<R: Read + Seek>(
    disk: &mut Disk<'_, R>,
    records: &[MbrPartition; 4],
    findings: &mut Findings,
) -> io::Result<Vec<Partition>> {
    let mut partitions = Vec::new();
    let Some((slot, extended)) = extended_record(records) else {
        return Ok(partitions);
    };
    let others = records
        .iter()
        .filter(|r| r.is_used() && EXTENDED_TYPES.contains(&r.os_type))
        .count();
    if others > 1 {
        findings.add(
            Code::MbrEbrChain,
            format!(
                "the MBR has {others} extended partitions; only the first (record {slot}) is followed, as Linux does"
            ),
        );
    }
    let start = u64::from(extended.starting_lba);
    let end = start + u64::from(extended.size_in_lba) - 1; // used: size >= 1
    let sector = u64::from(disk.sector_size);
    let mut seen = HashSet::new();
    let mut ebr_lba = start;
    loop {
        if !seen.insert(ebr_lba) {
            findings.add(
                Code::MbrEbrLoop,
                format!("the EBR chain links back to the EBR at LBA {ebr_lba}: a loop; the chain is read up to there"),
            );
            break;
        }
        // Bounded by EBRs read, not partitions found: EBRs without a partition also count.
        if seen.len() > MAX_LOGICAL_PARTITIONS {
            findings.add(
                Code::MbrEbrChain,
                format!(
                    "the EBR chain goes on past {MAX_LOGICAL_PARTITIONS} EBRs; the rest is not read"
                ),
            );
            break;
        }
        let ebr = match disk.read_at(ebr_lba.saturating_mul(sector), MBR_SIZE)? {
            Some(bytes) => Mbr::decode(&bytes).filter(|m| m.has_signature),
            None => None,
        };
        let Some(ebr) = ebr else {
            findings.add(
                Code::MbrEbrChain,
                format!(
                    "no EBR at LBA {ebr_lba} (no 0x55AA signature, or past the end of the disk): \
                     the chain of logical partitions is broken there"
                ),
            );
            break;
        };
        let logical = ebr.partitions[0];
        if logical.is_used() {
            let first = ebr_lba + u64::from(logical.starting_lba);
            let last = first + u64::from(logical.size_in_lba) - 1;
            let index = 5 + partitions.len() as u32; // at most 5 + MAX_LOGICAL_PARTITIONS
            if first <= ebr_lba || last > end {
                findings.add_limited(Code::MbrLogicalOutsideExtended, || {
                    format!(
                        "MBR partition {index} (LBAs {first}-{last}, EBR at LBA {ebr_lba}) is not inside \
                         its extended partition (LBAs {start}-{end}) after its EBR"
                    )
                });
            }
            partitions.push(Partition {
                index,
                partition_type: PartitionType::Mbr(logical.os_type),
                guid: None,
                name: String::new(),
                first_lba: first,
                last_lba: last,
                offset: first.saturating_mul(sector),
                size: u64::from(logical.size_in_lba) * sector,
                attributes: 0,
                bootable: logical.boot_indicator == crate::format::mbr::BOOTABLE,
                logical: true,
            });
        }
        let link = ebr.partitions[1];
        if !link.is_used() || !EXTENDED_TYPES.contains(&link.os_type) {
            break;
        }
        let next = start + u64::from(link.starting_lba);
        if next > end {
            findings.add(
                Code::MbrEbrChain,
                format!(
                    "the EBR at LBA {ebr_lba} links to LBA {next}, outside the extended partition \
                     (LBAs {start}-{end}): the chain is broken there"
                ),
            );
            break;
        }
        ebr_lba = next;
    }
    Ok(partitions)
}

#[cfg(test)]
#[path = "ebr_tests.rs"]
mod tests;
