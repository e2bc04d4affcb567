use super::*;
use crate::read::read_bytes;
use crate::read::Code;

/// A 64-sector disk whose MBR has an extended partition over LBAs 10-63 and the EBRs given as
/// (lba, logical record start relative to the EBR, size, link start relative to 10 or 0).
fn chain(ebrs: &[(usize, u32, u32, u32)]) -> Vec<u8> {
    let mut disk = vec![0u8; 64 * 512];
    let mut mbr = Mbr {
        has_signature: true,
        ..Mbr::default()
    };
    mbr.partitions[0] = MbrPartition {
        os_type: 0x0F,
        starting_lba: 10,
        size_in_lba: 54,
        ..Default::default()
    };
    disk[..512].copy_from_slice(&mbr.encode(512));
    for &(lba, start, size, link) in ebrs {
        let mut ebr = Mbr {
            has_signature: true,
            ..Mbr::default()
        };
        ebr.partitions[0] = MbrPartition {
            os_type: 0x83,
            starting_lba: start,
            size_in_lba: size,
            ..Default::default()
        };
        if link != 0 {
            ebr.partitions[1] = MbrPartition {
                os_type: 0x05,
                starting_lba: link,
                size_in_lba: 4,
                ..Default::default()
            };
        }
        disk[lba * 512..lba * 512 + 512].copy_from_slice(&ebr.encode(512));
    }
    disk
}

fn codes(disk: &[u8]) -> Vec<Code> {
    read_bytes(disk, Some(512))
        .unwrap()
        .findings
        .iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn a_healthy_chain() {
    let disk = chain(&[(10, 2, 4, 10), (20, 2, 4, 0)]);
    let report = read_bytes(&disk, Some(512)).unwrap();
    assert_eq!(report.findings, []);
    let logical: Vec<_> = report
        .partitions
        .iter()
        .map(|p| (p.index, p.first_lba, p.last_lba, p.logical))
        .collect();
    assert_eq!(logical, [(5, 12, 15, true), (6, 22, 25, true)]);
}

#[test]
fn a_loop_is_reported_and_stops() {
    // the second EBR links back to the first
    let disk = chain(&[(10, 2, 4, 10), (20, 2, 4, 0)]);
    let mut looped = disk.clone();
    looped[20 * 512 + 462..20 * 512 + 478].copy_from_slice(
        &MbrPartition {
            os_type: 0x05,
            starting_lba: 0,
            size_in_lba: 4,
            ..Default::default()
        }
        .encode(),
    );
    assert_eq!(codes(&looped), [Code::MbrEbrLoop]);
    assert_eq!(read_bytes(&looped, Some(512)).unwrap().partitions.len(), 2);
}

#[test]
fn a_link_outside_the_extended_partition_breaks_the_chain() {
    assert_eq!(codes(&chain(&[(10, 2, 4, 60)])), [Code::MbrEbrChain]);
}

#[test]
fn a_missing_ebr_breaks_the_chain() {
    let mut disk = chain(&[(10, 2, 4, 10), (20, 2, 4, 0)]);
    disk[20 * 512 + 510] = 0;
    assert_eq!(codes(&disk), [Code::MbrEbrChain]);
}

#[test]
fn a_logical_partition_outside_or_over_its_ebr() {
    assert!(codes(&chain(&[(10, 50, 20, 0)])).contains(&Code::MbrLogicalOutsideExtended));
    assert!(codes(&chain(&[(10, 0, 4, 0)])).contains(&Code::MbrLogicalOutsideExtended));
}

#[test]
fn overlapping_logical_partitions() {
    let disk = chain(&[(10, 2, 12, 10), (20, 2, 4, 0)]);
    assert_eq!(codes(&disk), [Code::PartitionsOverlap]);
}

#[test]
fn a_long_chain_is_cut() {
    // every sector of a large extended partition is an EBR linking to the next
    let sectors = 400usize;
    let mut disk = vec![0u8; sectors * 512];
    let mut mbr = Mbr {
        has_signature: true,
        ..Mbr::default()
    };
    mbr.partitions[0] = MbrPartition {
        os_type: 0x05,
        starting_lba: 1,
        size_in_lba: sectors as u32 - 1,
        ..Default::default()
    };
    disk[..512].copy_from_slice(&mbr.encode(512));
    for lba in 1..sectors {
        let mut ebr = Mbr {
            has_signature: true,
            ..Mbr::default()
        };
        ebr.partitions[1] = MbrPartition {
            os_type: 0x05,
            starting_lba: lba as u32,
            size_in_lba: 1,
            ..Default::default()
        };
        disk[lba * 512..lba * 512 + 512].copy_from_slice(&ebr.encode(512));
    }
    // no logical partitions, but the walk stops after MAX_LOGICAL_PARTITIONS EBRs
    let report = read_bytes(&disk, Some(512)).unwrap();
    assert!(report.partitions.is_empty());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert!(
        report.findings[0].message.contains("past 124 EBRs"),
        "{:#?}",
        report.findings
    );
}
