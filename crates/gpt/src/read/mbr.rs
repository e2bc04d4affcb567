//! What LBA 0 holds, and whether it fits the GPT (if any).

use super::findings::{Code, Findings};
use super::report::{MbrKind, Partition};
use crate::format::mbr::{BOOTABLE, GPT_PROTECTIVE_TYPE, NOT_BOOTABLE};
use crate::mbr::{protective_size, Mbr, MbrPartition};

/// Classifies LBA 0's MBR (None: the disk has no 512 bytes).
pub(crate) fn classify(mbr: Option<&Mbr>) -> MbrKind {
    let Some(mbr) = mbr.filter(|m| m.has_signature) else {
        return MbrKind::None;
    };
    // Filesystem boot sectors carry 0x55AA too; their code lands where the boot flags are.
    if mbr
        .partitions
        .iter()
        .any(|r| r.boot_indicator != NOT_BOOTABLE && r.boot_indicator != BOOTABLE)
    {
        return MbrKind::Invalid;
    }
    let used = mbr.partitions.iter().filter(|r| r.is_used());
    let protective = used
        .clone()
        .filter(|r| r.os_type == GPT_PROTECTIVE_TYPE)
        .count();
    match (protective, used.count()) {
        (0, _) => MbrKind::Plain,
        (_, n) if n == protective && protective == 1 => MbrKind::Protective,
        _ => MbrKind::Hybrid,
    }
}

/// The MBR's own problems, given whether a GPT was found.
pub(crate) fn check_mbr(
    kind: MbrKind,
    mbr: &Mbr,
    total_sectors: u64,
    has_gpt: bool,
    findings: &mut Findings,
) {
    match kind {
        MbrKind::None if has_gpt => findings.add(
            Code::MbrNoSignature,
            "LBA 0 has no MBR signature (0x55AA), so it does not protect the GPT: \
             MBR-only tools see an empty disk",
        ),
        MbrKind::Invalid => {
            let (slot, record) = first_bad_boot_flag(mbr);
            let about = if has_gpt {
                "it does not protect the GPT"
            } else {
                "it is perhaps a filesystem's boot sector"
            };
            findings.add(
                Code::MbrInvalid,
                format!(
                    "LBA 0 has an MBR signature, but record {slot} has boot indicator 0x{:02X} \
                     (only 0x00 and 0x80 are valid): it is not an MBR; {about}",
                    record.boot_indicator
                ),
            );
        }
        MbrKind::Plain if has_gpt => findings.add(
            Code::MbrNotProtective,
            "the disk has a GPT, but the MBR has no protective (0xEE) partition: MBR-only tools \
             see the MBR's partitions instead (UEFI ignores a GPT in this case)",
        ),
        MbrKind::Protective => check_protective_range(mbr, total_sectors, findings),
        _ => {}
    }
}

fn first_bad_boot_flag(mbr: &Mbr) -> (usize, MbrPartition) {
    mbr.partitions
        .iter()
        .enumerate()
        .find(|(_, r)| r.boot_indicator != NOT_BOOTABLE && r.boot_indicator != BOOTABLE)
        .map(|(i, r)| (i + 1, *r))
        .unwrap_or((1, mbr.partitions[0]))
}

/// The 0xEE record must run from LBA 1 to the end of the disk (or 0xFFFFFFFF sectors).
fn check_protective_range(mbr: &Mbr, total_sectors: u64, findings: &mut Findings) {
    let Some(record) = mbr
        .partitions
        .iter()
        .find(|r| r.is_used() && r.os_type == GPT_PROTECTIVE_TYPE)
    else {
        return;
    };
    let expected = protective_size(total_sectors);
    if record.starting_lba != 1 || record.size_in_lba != expected {
        findings.add(
            Code::MbrProtectiveRange,
            format!(
                "the protective MBR partition covers {} sectors from LBA {}; it should cover {expected} \
                 from LBA 1, the whole disk{}",
                record.size_in_lba,
                record.starting_lba,
                if record.size_in_lba < expected { " (has the disk grown?)" } else { "" }
            ),
        );
    }
}

/// In a hybrid MBR every record but the 0xEE one must mirror a GPT partition exactly.
pub(crate) fn check_hybrid(mbr: &Mbr, gpt_partitions: &[Partition], findings: &mut Findings) {
    for (slot, record) in mbr.partitions.iter().enumerate() {
        if !record.is_used() || record.os_type == GPT_PROTECTIVE_TYPE {
            continue;
        }
        let first = u64::from(record.starting_lba);
        let last = first + u64::from(record.size_in_lba) - 1;
        if !gpt_partitions
            .iter()
            .any(|p| p.first_lba == first && p.last_lba == last)
        {
            findings.add(
                Code::MbrHybridMismatch,
                format!(
                    "hybrid MBR record {} (type 0x{:02X}, LBAs {first}-{last}) matches no GPT partition",
                    slot + 1,
                    record.os_type
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "mbr_tests.rs"]
mod tests;
