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
        disk_id: 0,
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
    let gpt =
        super::super::partitions::mbr_partitions(&[record(0x83, 11, 5), EMPTY, EMPTY, EMPTY], 512);
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
