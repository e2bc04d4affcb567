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
mod tests {
    use super::*;

    fn record(os_type: u8, start: u32, size: u32) -> MbrPartition {
        MbrPartition {
            os_type,
            starting_lba: start,
            size_in_lba: size,
            ..Default::default()
        }
    }

    fn mbr(records: [MbrPartition; 4]) -> Mbr {
        Mbr {
            partitions: records,
            has_signature: true,
        }
    }

    const EMPTY: MbrPartition = MbrPartition {
        boot_indicator: 0,
        start_chs: [0; 3],
        os_type: 0,
        end_chs: [0; 3],
        starting_lba: 0,
        size_in_lba: 0,
    };

    #[test]
    fn kinds() {
        assert_eq!(classify(None), MbrKind::None);
        assert_eq!(classify(Some(&Mbr::default())), MbrKind::None);
        assert_eq!(classify(Some(&Mbr::protective(100))), MbrKind::Protective);
        let hybrid = mbr([record(0xEE, 1, 10), record(0x83, 11, 5), EMPTY, EMPTY]);
        assert_eq!(classify(Some(&hybrid)), MbrKind::Hybrid);
        let plain = mbr([record(0x83, 2048, 100), EMPTY, EMPTY, EMPTY]);
        assert_eq!(classify(Some(&plain)), MbrKind::Plain);
        assert_eq!(
            classify(Some(&mbr([EMPTY; 4]))),
            MbrKind::Plain,
            "an empty table is still a table"
        );
        let mut boot_sector = plain;
        boot_sector.partitions[3].boot_indicator = 0x4C;
        assert_eq!(classify(Some(&boot_sector)), MbrKind::Invalid);
        let two_protective = mbr([record(0xEE, 1, 10), record(0xEE, 11, 5), EMPTY, EMPTY]);
        assert_eq!(classify(Some(&two_protective)), MbrKind::Hybrid);
        let empty_ee = mbr([record(0xEE, 1, 0), record(0x83, 11, 5), EMPTY, EMPTY]);
        assert_eq!(
            classify(Some(&empty_ee)),
            MbrKind::Plain,
            "an 0xEE record without sectors is unused"
        );
    }

    fn codes(findings: Findings) -> Vec<Code> {
        findings.finish().into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn protective_range() {
        let mut findings = Findings::default();
        check_mbr(
            MbrKind::Protective,
            &Mbr::protective(100),
            100,
            true,
            &mut findings,
        );
        assert!(codes(findings).is_empty());
        let mut findings = Findings::default();
        check_mbr(
            MbrKind::Protective,
            &Mbr::protective(100),
            200,
            true,
            &mut findings,
        );
        let list = findings.finish();
        assert_eq!(list[0].code, Code::MbrProtectiveRange);
        assert!(
            list[0].message.contains("has the disk grown?"),
            "{}",
            list[0].message
        );
        let mut capped = Mbr::protective(1 << 40);
        let mut findings = Findings::default();
        check_mbr(MbrKind::Protective, &capped, 1 << 40, true, &mut findings);
        assert!(
            codes(findings).is_empty(),
            "0xFFFFFFFF stands for larger disks"
        );
        capped.partitions[0].starting_lba = 2;
        let mut findings = Findings::default();
        check_mbr(MbrKind::Protective, &capped, 1 << 40, true, &mut findings);
        assert_eq!(codes(findings), [Code::MbrProtectiveRange]);
    }

    #[test]
    fn what_a_gpt_needs_from_lba_0() {
        let plain = mbr([record(0x83, 2048, 100), EMPTY, EMPTY, EMPTY]);
        for (kind, with_gpt, without_gpt) in [
            (MbrKind::None, vec![Code::MbrNoSignature], vec![]),
            (MbrKind::Plain, vec![Code::MbrNotProtective], vec![]),
            (
                MbrKind::Invalid,
                vec![Code::MbrInvalid],
                vec![Code::MbrInvalid],
            ),
        ] {
            for (has_gpt, expected) in [(true, with_gpt), (false, without_gpt)] {
                let mut findings = Findings::default();
                check_mbr(kind, &plain, 4096, has_gpt, &mut findings);
                assert_eq!(codes(findings), expected, "{kind:?} with GPT: {has_gpt}");
            }
        }
    }

    #[test]
    fn hybrid_records_mirror_gpt_partitions() {
        let gpt = super::super::partitions::mbr_partitions(
            &[record(0x83, 11, 5), EMPTY, EMPTY, EMPTY],
            512,
        );
        let hybrid = mbr([
            record(0xEE, 1, 10),
            record(0x83, 11, 5),
            record(0x0C, 11, 6),
            EMPTY,
        ]);
        let mut findings = Findings::default();
        check_hybrid(&hybrid, &gpt, &mut findings);
        let list = findings.finish();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].code, Code::MbrHybridMismatch);
        assert!(list[0].message.contains("record 3"), "{}", list[0].message);
    }
}
