use super::*;
use crate::entry::name_units;
use crate::guid::Guid;

fn entry(first: u64, last: u64, guid: u8) -> Entry {
    Entry {
        type_guid: Guid::from_bytes([7; 16]),
        unique_guid: Guid::from_bytes([guid; 16]),
        first_lba: first,
        last_lba: last,
        attributes: 0,
        name: name_units(&[0x61]).unwrap(),
    }
}

fn partitions(entries: &[Entry]) -> Vec<Partition> {
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.encode()).collect();
    gpt_partitions(&bytes, 128, 512)
}

const BOUNDS: Bounds = Bounds {
    total_sectors: 100,
    first_usable: 34,
    last_usable: 66,
    usable_name: "the usable LBAs",
};

fn codes(partitions: &[Partition]) -> Vec<Code> {
    let mut findings = Findings::default();
    check_partitions(partitions, BOUNDS, &mut findings);
    findings.finish().into_iter().map(|f| f.code).collect()
}

#[test]
fn unused_entries_are_skipped_but_keep_their_numbers() {
    let unused = Entry {
        type_guid: Guid::NIL,
        ..entry(0, 0, 0)
    };
    let read = partitions(&[unused, entry(34, 40, 1), unused, entry(41, 50, 2)]);
    let numbers: Vec<u32> = read.iter().map(|p| p.index).collect();
    assert_eq!(numbers, [2, 4]);
    assert_eq!(
        (read[0].offset, read[0].size, read[0].name.as_str()),
        (34 * 512, 7 * 512, "a")
    );
}

#[test]
fn larger_entries_and_partial_chunks() {
    let mut bytes = Vec::new();
    for e in [entry(34, 40, 1), entry(41, 50, 2)] {
        bytes.extend_from_slice(&e.encode());
        bytes.extend_from_slice(&[0xEE; 128]); // the reserved half of a 256-byte entry
    }
    bytes.extend_from_slice(&entry(51, 60, 3).encode()[..100]);
    let read = gpt_partitions(&bytes, 256, 4096);
    assert_eq!(read.len(), 2);
    assert_eq!((read[1].index, read[1].offset), (2, 41 * 4096));
}

#[test]
fn extreme_lbas_saturate() {
    let read = partitions(&[
        entry(u64::MAX - 1, u64::MAX, 1),
        entry(5, 4, 2),
        entry(0, u64::MAX, 3),
    ]);
    assert_eq!((read[0].offset, read[0].size), (u64::MAX, 1024));
    assert_eq!(read[1].size, 0);
    assert_eq!(read[2].size, u64::MAX);
}

#[test]
fn mbr_records_up_to_32_bits() {
    let far = MbrPartition {
        os_type: 0x83,
        starting_lba: u32::MAX,
        size_in_lba: u32::MAX,
        ..Default::default()
    };
    let read = mbr_partitions(
        &[
            MbrPartition::protective(100),
            far,
            MbrPartition::default(),
            far,
        ],
        4096,
    );
    assert_eq!(
        read.len(),
        2,
        "the 0xEE and the empty record are not partitions"
    );
    assert_eq!((read[0].index, read[1].index), (2, 4));
    assert_eq!(read[0].last_lba, 2 * u64::from(u32::MAX) - 1);
    assert_eq!(read[0].size, u64::from(u32::MAX) * 4096);
}

#[test]
fn ranges() {
    assert_eq!(codes(&partitions(&[entry(34, 66, 1)])), []);
    assert_eq!(
        codes(&partitions(&[entry(40, 39, 1)])),
        [Code::PartitionFirstAfterLast]
    );
    assert_eq!(
        codes(&partitions(&[entry(33, 40, 1)])),
        [Code::PartitionOutsideUsable]
    );
    assert_eq!(
        codes(&partitions(&[entry(60, 67, 1)])),
        [Code::PartitionOutsideUsable]
    );
    assert_eq!(
        codes(&partitions(&[entry(60, 100, 1)])),
        [Code::PartitionOutsideDisk]
    );
}

#[test]
fn overlaps_are_found_through_nesting() {
    // 1 holds 2 and 3; 3 does not touch 2, but both are inside 1
    let nested = partitions(&[
        entry(34, 60, 1),
        entry(35, 36, 2),
        entry(40, 41, 3),
        entry(61, 66, 4),
    ]);
    assert_eq!(
        codes(&nested),
        [Code::PartitionsOverlap, Code::PartitionsOverlap]
    );
    let same = partitions(&[entry(34, 40, 1), entry(34, 40, 2)]);
    assert_eq!(codes(&same), [Code::PartitionsOverlap]);
    let touching = partitions(&[entry(34, 40, 1), entry(41, 50, 2)]);
    assert_eq!(codes(&touching), []);
    let inverted_ignored = partitions(&[entry(34, 40, 1), entry(50, 35, 2)]);
    assert_eq!(codes(&inverted_ignored), [Code::PartitionFirstAfterLast]);
}

#[test]
fn duplicate_guids() {
    let three = partitions(&[
        entry(34, 35, 9),
        entry(36, 37, 9),
        entry(38, 39, 9),
        entry(40, 41, 1),
    ]);
    assert_eq!(
        codes(&three),
        [Code::PartitionGuidDuplicate, Code::PartitionGuidDuplicate]
    );
    let mbr = mbr_partitions(
        &[MbrPartition {
            os_type: 0x83,
            starting_lba: 34,
            size_in_lba: 1,
            ..Default::default()
        }; 4],
        512,
    );
    assert_eq!(
        codes(&mbr),
        [Code::PartitionsOverlap; 3],
        "MBR partitions have no GUIDs to compare"
    );
}
