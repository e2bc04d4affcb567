use super::*;
use crate::read::{read_bytes, MbrKind, PartitionType};

fn primary(index: u32, os_type: u8, first: u64, last: u64) -> MbrLayoutPartition {
    MbrLayoutPartition {
        index,
        name: format!("p{index}"),
        os_type,
        bootable: index == 1,
        first_lba: first,
        last_lba: last,
        ebr_lba: None,
    }
}

fn logical(index: u32, ebr: u64, first: u64, last: u64) -> MbrLayoutPartition {
    MbrLayoutPartition {
        ebr_lba: Some(ebr),
        ..primary(index, 0x83, first, last)
    }
}

fn layout(total_sectors: u64, partitions: Vec<MbrLayoutPartition>) -> MbrLayout {
    let extended_slot = partitions.iter().any(|p| p.ebr_lba.is_some()).then_some(4);
    MbrLayout {
        sector_size: 512,
        disk_size: total_sectors * 512,
        total_sectors,
        disk_id: 0x1234_5678,
        boot_code: vec![0xEB, 0x63, 0x90],
        extended_slot,
        partitions,
    }
}

fn image(layout: &MbrLayout) -> Vec<u8> {
    let mut disk = vec![0u8; layout.disk_size as usize];
    for region in encode_mbr(layout).unwrap() {
        let at = region.offset as usize;
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    disk
}

/// Six partitions: three primaries, three logicals in an extended partition in record 4.
fn six() -> MbrLayout {
    layout(
        200,
        vec![
            primary(1, 0x0C, 8, 23),
            primary(2, 0x83, 24, 39),
            primary(3, 0x82, 40, 55),
            logical(5, 56, 64, 79),
            logical(6, 80, 88, 103),
            logical(7, 104, 112, 127),
        ],
    )
}

#[test]
fn lba0_pinned_bytes() {
    let disk = image(&six());
    assert_eq!(&disk[..3], &[0xEB, 0x63, 0x90]);
    assert_eq!(&disk[440..446], &[0x78, 0x56, 0x34, 0x12, 0, 0]);
    // record 1: bootable FAT32 LBA at LBA 8, 16 sectors; CHS 0/0/9 to 0/0/24
    assert_eq!(
        &disk[446..462],
        &[0x80, 0, 9, 0, 0x0C, 0, 24, 0, 8, 0, 0, 0, 16, 0, 0, 0]
    );
    // record 4: the extended partition from the first EBR to the end of the last logical
    assert_eq!(disk[446 + 48 + 4], 0x0F);
    assert_eq!(&disk[446 + 48 + 8..446 + 64], &[56, 0, 0, 0, 72, 0, 0, 0]);
    assert_eq!(&disk[510..512], &[0x55, 0xAA]);
}

#[test]
fn ebrs_link_relative_to_the_extended_partition() {
    let disk = image(&six());
    let ebr = |lba: usize| &disk[lba * 512..lba * 512 + 512];
    // first EBR: logical at +8 for 16 sectors; link to the EBR at 80 (+24 from 56), 32 sectors
    assert_eq!(&ebr(56)[446 + 8..446 + 16], &[8, 0, 0, 0, 16, 0, 0, 0]);
    assert_eq!(ebr(56)[462 + 4], 0x05);
    assert_eq!(&ebr(56)[462 + 8..462 + 16], &[24, 0, 0, 0, 24, 0, 0, 0]);
    // the last EBR has no link
    assert!(ebr(104)[462..478].iter().all(|&b| b == 0));
    assert_eq!(&ebr(104)[510..], &[0x55, 0xAA]);
}

#[test]
fn reads_back_with_the_logical_partitions() {
    let layout = six();
    let report = read_bytes(&image(&layout), Some(512)).unwrap();
    assert_eq!(report.findings, []);
    assert_eq!(report.mbr.kind, MbrKind::Plain);
    assert_eq!(report.mbr.disk_id, 0x1234_5678);
    let read: Vec<_> = report
        .partitions
        .iter()
        .map(|p| {
            (
                p.index,
                p.partition_type,
                p.first_lba,
                p.last_lba,
                p.bootable,
                p.logical,
            )
        })
        .collect();
    let planned: Vec<_> = layout
        .partitions
        .iter()
        .map(|p| {
            (
                p.index,
                PartitionType::Mbr(p.os_type),
                p.first_lba,
                p.last_lba,
                p.bootable,
                p.ebr_lba.is_some(),
            )
        })
        .collect();
    assert_eq!(read, planned);
}

#[test]
fn stale_gpt_header_places_are_zeroed_when_free() {
    let regions = encode_mbr(&six()).unwrap();
    let offsets: Vec<u64> = regions.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [0, 512, 56 * 512, 80 * 512, 104 * 512, 199 * 512]);
    // a partition over the last LBA keeps its data
    let full = layout(200, vec![primary(1, 0x83, 1, 199)]);
    let offsets: Vec<u64> = encode_mbr(&full)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, [0]);
}

#[test]
fn a_4096_byte_sector_disk_counts_in_its_sectors() {
    let mut four_k = six();
    four_k.sector_size = 4096;
    four_k.disk_size = 200 * 4096;
    let regions = encode_mbr(&four_k).unwrap();
    assert_eq!(regions[0].data.len(), 4096);
    let mut disk = vec![0u8; four_k.disk_size as usize];
    for region in regions {
        let at = region.offset as usize;
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    let report = read_bytes(&disk, Some(4096)).unwrap();
    assert_eq!(report.findings, []);
    assert_eq!(report.partitions.len(), 6);
    assert_eq!(report.partitions[3].offset, 64 * 4096);
}

#[test]
fn the_32_bit_limit() {
    let edge = MBR_MAX_SECTORS - 1; // the last LBA a record can end at
    let fits = layout(MBR_MAX_SECTORS + 10, vec![primary(1, 0x83, 2048, edge)]);
    assert!(encode_mbr(&fits).is_ok());
    let beyond = layout(MBR_MAX_SECTORS + 10, vec![primary(1, 0x83, 2048, edge + 1)]);
    let error = encode_mbr(&beyond).unwrap_err();
    assert!(
        matches!(error, MbrEncodeError::BeyondLimit { .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("2^32 sectors (2199023255552 bytes"),
        "{error}"
    );
}

#[test]
fn refusals() {
    let refuse = |l: MbrLayout| encode_mbr(&l).unwrap_err();
    assert!(matches!(
        refuse(layout(
            100,
            vec![primary(1, 0x83, 8, 20), primary(2, 0x83, 20, 30)]
        )),
        MbrEncodeError::Overlap { .. }
    ));
    assert!(matches!(
        refuse(layout(
            100,
            vec![primary(1, 0x83, 8, 20), primary(1, 0x83, 30, 40)]
        )),
        MbrEncodeError::DuplicateRecord { .. }
    ));
    assert!(matches!(
        refuse(layout(100, vec![primary(5, 0x83, 8, 20)])),
        MbrEncodeError::InvalidRecord { .. }
    ));
    assert!(matches!(
        refuse(layout(100, vec![primary(1, 0xEE, 8, 20)])),
        MbrEncodeError::InvalidType { .. }
    ));
    assert!(matches!(
        refuse(layout(100, vec![primary(1, 0x83, 0, 20)])),
        MbrEncodeError::OutsideDisk { .. }
    ));
    assert!(matches!(
        refuse(layout(100, vec![primary(1, 0x83, 8, 100)])),
        MbrEncodeError::OutsideDisk { .. }
    ));
    // a primary inside the extended partition
    let mut split = six();
    split.partitions[2] = primary(3, 0x83, 82, 86);
    assert!(matches!(refuse(split), MbrEncodeError::Overlap { .. }));
    // logicals out of disk order
    let mut swapped = six();
    swapped.partitions.swap(3, 4);
    assert!(matches!(refuse(swapped), MbrEncodeError::BadChain { .. }));
    let mut code = six();
    code.boot_code = vec![0; 441];
    assert!(matches!(
        refuse(code),
        MbrEncodeError::BootCodeTooLarge(441)
    ));
}

mod hybrid {
    use super::*;
    use crate::layout::{Layout, LayoutPartition};

    fn gpt(count: u32) -> Layout {
        Layout {
            sector_size: 512,
            disk_size: 400 * 512,
            total_sectors: 400,
            disk_guid: "6A1C3E4B-1111-4222-8333-444455556666".parse().unwrap(),
            first_usable_lba: 34,
            last_usable_lba: 366,
            partitions: (1..=count)
                .map(|i| LayoutPartition {
                    index: i,
                    name: format!("p{i}").encode_utf16().collect(),
                    type_guid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4".parse().unwrap(),
                    guid: format!("0F6B1C4E-2222-4333-8444-5555666677{i:02}")
                        .parse()
                        .unwrap(),
                    attributes: 0,
                    first_lba: 40 + 40 * u64::from(i),
                    last_lba: 40 + 40 * u64::from(i) + 31,
                })
                .collect(),
        }
    }

    fn mirror(gpt_index: u32, os_type: u8, bootable: bool) -> HybridPartition {
        HybridPartition {
            gpt_index,
            os_type,
            bootable,
        }
    }

    #[test]
    fn mirrored_records_first_then_0xee() {
        let layout = gpt(4);
        let hybrid = HybridMbr {
            disk_id: 0xCAFE_F00D,
            boot_code: Vec::new(),
            mirrored: vec![mirror(2, 0x0C, true), mirror(3, 0x83, false)],
        };
        let regions = encode_hybrid(&layout, &hybrid).unwrap();
        assert_eq!(regions.len(), 5);
        let mut disk = vec![0u8; 400 * 512];
        for region in &regions {
            let at = region.offset as usize;
            disk[at..at + region.data.len()].copy_from_slice(&region.data);
        }
        let report = read_bytes(&disk, None).unwrap();
        assert_eq!(report.findings, []);
        assert_eq!(report.mbr.kind, MbrKind::Hybrid);
        assert_eq!(report.mbr.disk_id, 0xCAFE_F00D);
        let records: Vec<_> = report
            .mbr
            .entries
            .iter()
            .map(|r| (r.boot_indicator, r.os_type, r.starting_lba, r.size_in_lba))
            .collect();
        assert_eq!(
            records,
            [
                (0x80, 0x0C, 120, 32),
                (0, 0x83, 160, 32),
                (0, 0xEE, 1, 119),
                (0, 0, 0, 0)
            ]
        );
        // everything after LBA 0 is the plain GPT's
        assert_eq!(regions[1..], encode_gpt(&layout).unwrap()[1..]);
    }

    #[test]
    fn at_most_three_mirrored() {
        let hybrid = HybridMbr {
            disk_id: 1,
            boot_code: Vec::new(),
            mirrored: (1..=4).map(|i| mirror(i, 0x83, false)).collect(),
        };
        assert_eq!(
            encode_hybrid(&gpt(4), &hybrid).unwrap_err(),
            MbrEncodeError::TooManyMirrored(4)
        );
        let unknown = HybridMbr {
            mirrored: vec![mirror(9, 0x83, false)],
            ..hybrid
        };
        assert_eq!(
            encode_hybrid(&gpt(4), &unknown).unwrap_err(),
            MbrEncodeError::UnknownMirrored(9)
        );
    }
}
