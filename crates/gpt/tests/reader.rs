//! The reader on whole disks: healthy ones, then one kind of damage at a time.

mod common;

use common::disks::{codes, guid, layout, message, Disk, ESP};
use imgforge_gpt::{
    encode_image, read, read_bytes, Guid, Header, HeaderKind, HeaderStatus, MbrKind, MbrPartition,
    PartitionType, ReadError,
};

#[test]
fn healthy_disks_read_back_with_no_findings() {
    for sector_size in [512, 4096] {
        for count in [0, 1, 3, 128] {
            let layout = layout(sector_size, count, 2, 4);
            let disk = Disk::new(&layout);
            for report in [disk.read(), disk.read_as(sector_size)] {
                assert_eq!(codes(&report), Vec::<&str>::new(), "{sector_size} {count}");
                assert_eq!(report.sector_size, sector_size);
                assert_eq!(report.mbr.kind, MbrKind::Protective);
                let gpt = report.gpt.unwrap();
                assert_eq!(
                    (gpt.header, gpt.primary, gpt.backup),
                    (
                        HeaderKind::Primary,
                        HeaderStatus::Valid,
                        HeaderStatus::Valid
                    )
                );
                assert_eq!(
                    (gpt.first_usable_lba, gpt.last_usable_lba),
                    (layout.first_usable_lba, layout.last_usable_lba)
                );
                assert_eq!(report.partitions.len(), count as usize);
                for (p, planned) in report.partitions.iter().zip(&layout.partitions) {
                    assert_eq!(p.index, planned.index);
                    assert_eq!(p.partition_type, PartitionType::Gpt(planned.type_guid));
                    assert_eq!(p.guid, Some(planned.guid));
                    assert_eq!(p.name, String::from_utf16(&planned.name).unwrap());
                    assert_eq!(
                        (p.first_lba, p.last_lba, p.attributes),
                        (planned.first_lba, planned.last_lba, planned.attributes)
                    );
                    assert_eq!(p.offset, planned.first_lba * u64::from(sector_size));
                    assert_eq!(p.size, 2 * u64::from(sector_size));
                }
            }
        }
    }
}

#[test]
fn no_table_at_all() {
    for bytes in [vec![], vec![0u8; 100], vec![0u8; 64 * 512]] {
        let report = read_bytes(&bytes, None).unwrap();
        assert_eq!(codes(&report), ["NO_PARTITION_TABLE"]);
        assert_eq!(
            (report.mbr.kind, report.gpt.is_none()),
            (MbrKind::None, true)
        );
        assert_eq!(report.sector_size, 512);
    }
    assert!(
        message(&read_bytes(&[0; 100], None).unwrap(), "NO_PARTITION_TABLE").contains("100 bytes")
    );
}

#[test]
fn impossible_sector_sizes_are_errors() {
    for size in [0, 256, 1000, 131_072] {
        assert!(
            matches!(read_bytes(&[], Some(size)), Err(ReadError::InvalidSectorSize(s)) if s == size)
        );
    }
    assert!(read_bytes(&[], Some(1024)).is_ok());
}

#[test]
fn a_damaged_primary_header_is_replaced_by_the_backup() {
    let mut disk = Disk::standard(512, 3);
    disk.sector(1)[60] ^= 0xFF;
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_HEADER_CRC", "GPT_BACKUP_USED"]);
    let gpt = report.gpt.clone().unwrap();
    assert_eq!(
        (gpt.header, gpt.header_lba, gpt.primary, gpt.backup),
        (
            HeaderKind::Backup,
            disk.last_lba(),
            HeaderStatus::Invalid,
            HeaderStatus::Valid
        )
    );
    assert_eq!(report.partitions.len(), 3);
    assert!(
        message(&report, "GPT_HEADER_CRC").starts_with("the primary GPT header (LBA 1) has CRC")
    );
    assert!(message(&report, "GPT_BACKUP_USED")
        .contains(&format!("the backup GPT header (LBA {})", disk.last_lba())));
}

#[test]
fn a_missing_primary_header_is_replaced_by_the_backup() {
    for sector_size in [512, 4096] {
        let mut disk = Disk::standard(sector_size, 1);
        disk.sector(1).fill(0);
        let report = disk.read();
        assert_eq!(report.sector_size, sector_size, "detected from the backup");
        assert_eq!(codes(&report), ["GPT_HEADER_MISSING", "GPT_BACKUP_USED"]);
        assert_eq!(report.gpt.unwrap().primary, HeaderStatus::Missing);
        assert_eq!(report.partitions.len(), 1);
    }
}

#[test]
fn a_missing_backup_header() {
    let mut disk = Disk::standard(4096, 1);
    let last = disk.last_lba();
    disk.sector(last).fill(0);
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_HEADER_MISSING"]);
    assert_eq!(
        message(&report, "GPT_HEADER_MISSING"),
        format!("there is no backup GPT header (\"EFI PART\") at LBA {last} (the last sector)")
    );
    assert_eq!(report.gpt.unwrap().backup, HeaderStatus::Missing);
}

#[test]
fn damaged_entries() {
    let mut disk = Disk::standard(512, 3);
    disk.sector(2)[130] ^= 1;
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_ENTRIES_CRC", "GPT_BACKUP_USED"]);
    assert_eq!(
        report.partitions[1].guid,
        Some(guid(0xA0, 1)),
        "read from the intact backup"
    );
    let backup_entries = disk.header(disk.last_lba()).entries_lba;
    disk.sector(backup_entries)[130] ^= 1;
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_ENTRIES_CRC", "GPT_ENTRIES_CRC"]);
    assert_eq!(
        report.gpt.unwrap().header,
        HeaderKind::Primary,
        "both damaged: the primary, as it is"
    );
}

#[test]
fn both_headers_damaged_beyond_use() {
    let mut disk = Disk::standard(512, 1);
    let last = disk.last_lba();
    for lba in [1, last] {
        disk.patch_header(lba, |h| h.entry_size = 100);
    }
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_ENTRY_SIZE", "GPT_ENTRY_SIZE"]);
    assert!(report.gpt.is_none());
    assert!(report.partitions.is_empty());
}

#[test]
fn a_grown_disk() {
    let mut disk = Disk::standard(512, 1);
    let old_last = disk.last_lba();
    disk.bytes.extend_from_slice(&[0u8; 8 * 512]);
    let report = disk.read();
    assert_eq!(codes(&report), ["MBR_PROTECTIVE_RANGE", "GPT_DISK_GROWN"]);
    assert!(message(&report, "GPT_DISK_GROWN").contains(&format!(
        "LBA {old_last}, before the last LBA {}",
        old_last + 8
    )));
    let gpt = report.gpt.unwrap();
    assert_eq!(
        (gpt.primary, gpt.backup),
        (HeaderStatus::Valid, HeaderStatus::Valid),
        "the backup is found where the primary says"
    );
}

#[test]
fn a_truncated_disk() {
    let mut disk = Disk::standard(512, 1);
    disk.bytes.truncate(disk.bytes.len() - 512);
    let report = disk.read();
    assert_eq!(
        codes(&report),
        [
            "MBR_PROTECTIVE_RANGE",
            "GPT_DISK_TRUNCATED",
            "GPT_HEADER_MISSING"
        ]
    );
    assert_eq!(report.partitions.len(), 1);
}

/// A change to a header's fields (its CRC is recomputed after).
type HeaderChange = fn(&mut Header);

#[test]
fn header_fields_out_of_line() {
    let cases: [(&str, HeaderChange); 6] = [
        ("GPT_HEADER_REVISION", |h| h.revision = 0x0002_0000),
        ("GPT_HEADER_MY_LBA", |h| h.my_lba = 7),
        ("GPT_ENTRY_SIZE", |h| h.entry_size = 384),
        ("GPT_ENTRY_ARRAY_TOO_LARGE", |h| h.entry_count = u32::MAX),
        ("GPT_ENTRY_ARRAY_LOCATION", |h| h.entries_lba = 1),
        ("GPT_USABLE_RANGE", |h| h.last_usable_lba = u64::MAX),
    ];
    for (code, change) in cases {
        let mut disk = Disk::standard(512, 1);
        disk.patch_header(1, change);
        let report = disk.read();
        assert_eq!(codes(&report)[0], code, "{:#?}", report.findings);
        assert_eq!(report.gpt.as_ref().unwrap().primary, HeaderStatus::Invalid);
        assert_eq!(report.gpt.unwrap().header, HeaderKind::Backup, "{code}");
    }
}

#[test]
fn an_absurd_header_size_cannot_be_checked() {
    let mut disk = Disk::standard(512, 1);
    disk.sector(1)[12..16].copy_from_slice(&600u32.to_le_bytes());
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_HEADER_SIZE", "GPT_BACKUP_USED"]);
    assert_eq!(disk.header(1).revision, 0x0001_0000, "revision 1.0");
}

#[test]
fn a_backup_that_does_not_point_back() {
    let mut disk = Disk::standard(512, 1);
    let last = disk.last_lba();
    disk.patch_header(last, |h| h.alternate_lba = 5);
    assert_eq!(codes(&disk.read()), ["GPT_ALTERNATE_LBA"]);
}

#[test]
fn headers_that_disagree() {
    let mut disk = Disk::standard(512, 2);
    let last = disk.last_lba();
    disk.patch_header(last, |h| h.disk_guid = Guid::NIL);
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_HEADERS_DIFFER"]);
    assert!(message(&report, "GPT_HEADERS_DIFFER").contains("disk GUID"));
    let mut disk = Disk::standard(512, 2);
    disk.patch_entries_at(last, |entries| entries[1].name[0] = u16::from(b'X'));
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_ENTRIES_DIFFER"]);
    assert!(
        message(&report, "GPT_ENTRIES_DIFFER").contains("in 1 entries, the first being entry 2")
    );
    assert_eq!(report.partitions[1].name, "part 1");
}

#[test]
fn bad_partitions() {
    let mut disk = Disk::standard(512, 4);
    let last = disk.last_lba();
    disk.patch_entries(|e| {
        (e[0].first_lba, e[0].last_lba) = (e[0].last_lba, e[0].first_lba);
        e[1].last_lba = e[2].first_lba;
        e[2].unique_guid = e[3].unique_guid;
        e[3].last_lba = last;
    });
    let report = disk.read();
    assert_eq!(
        codes(&report),
        [
            "PARTITION_FIRST_AFTER_LAST",
            "PARTITION_OUTSIDE_USABLE",
            "PARTITIONS_OVERLAP",
            "PARTITION_GUID_DUPLICATE"
        ]
    );
    assert_eq!(
        message(&report, "PARTITIONS_OVERLAP"),
        "partition 2 (\"part 1\") (LBAs 36-38) and partition 3 (\"part 2\") (LBAs 38-39) overlap"
    );
    assert!(message(&report, "PARTITION_GUID_DUPLICATE")
        .starts_with("partition 3 (\"part 2\") and partition 4 (\"part 3\") have the same GUID"));
    assert_eq!(report.partitions[0].size, 0, "inverted");
}

#[test]
fn a_partition_past_the_end_of_the_disk() {
    let mut disk = Disk::standard(512, 1);
    disk.patch_entries(|e| e[0].last_lba = u64::MAX);
    let report = disk.read();
    assert_eq!(codes(&report), ["PARTITION_OUTSIDE_DISK"]);
    assert_eq!(report.partitions[0].size, u64::MAX, "saturated");
}

#[test]
fn partition_findings_are_bounded() {
    let mut disk = Disk::standard(512, 128);
    disk.patch_entries(|e| e.iter_mut().for_each(|entry| entry.first_lba = 34));
    let report = disk.read();
    assert_eq!(report.findings.len(), 33);
    assert_eq!(
        report.findings[32].message,
        "95 more partition problems of this kind are not listed"
    );
}

#[test]
fn the_mbr_of_a_gpt_disk() {
    let mut disk = Disk::standard(512, 1);
    disk.bytes[510] = 0;
    assert_eq!(codes(&disk.read()), ["MBR_NO_SIGNATURE"]);
    let mut disk = Disk::standard(512, 1);
    disk.bytes[446 + 4] = 0x83;
    let report = disk.read();
    assert_eq!(
        (codes(&report), report.mbr.kind),
        (vec!["MBR_NOT_PROTECTIVE"], MbrKind::Plain)
    );
    assert_eq!(
        report.partitions[0].partition_type,
        PartitionType::Gpt(ESP.parse().unwrap()),
        "the GPT still wins"
    );
    let mut disk = Disk::standard(512, 1);
    disk.bytes[446] = 0x12;
    assert_eq!(codes(&disk.read()), ["MBR_INVALID"]);
}

#[test]
fn hybrid_mbrs() {
    let mut disk = Disk::standard(512, 2);
    let mirror = MbrPartition {
        os_type: 0x83,
        starting_lba: 36,
        size_in_lba: 2,
        ..Default::default()
    };
    disk.set_mbr_record(1, mirror);
    let report = disk.read();
    assert_eq!((codes(&report), report.mbr.kind), (vec![], MbrKind::Hybrid));
    assert_eq!(report.mbr.entries[1], mirror);
    disk.set_mbr_record(
        2,
        MbrPartition {
            starting_lba: 37,
            ..mirror
        },
    );
    assert_eq!(codes(&disk.read()), ["MBR_HYBRID_MISMATCH"]);
}

#[test]
fn plain_mbr_disks() {
    let mut disk = Disk {
        bytes: vec![0u8; 100 * 512],
        sector_size: 512,
    };
    disk.bytes[510..512].copy_from_slice(&[0x55, 0xAA]);
    let boot = MbrPartition {
        boot_indicator: 0x80,
        os_type: 0x0C,
        starting_lba: 2,
        size_in_lba: 40,
        ..Default::default()
    };
    disk.set_mbr_record(0, boot);
    disk.set_mbr_record(
        2,
        MbrPartition {
            os_type: 0x83,
            starting_lba: 42,
            size_in_lba: 58,
            ..Default::default()
        },
    );
    let report = disk.read();
    assert_eq!(
        (codes(&report), report.mbr.kind, report.gpt.is_none()),
        (vec![], MbrKind::Plain, true)
    );
    let indexes: Vec<(u32, PartitionType, u64, u64)> = report
        .partitions
        .iter()
        .map(|p| (p.index, p.partition_type, p.first_lba, p.last_lba))
        .collect();
    assert_eq!(
        indexes,
        [
            (1, PartitionType::Mbr(0x0C), 2, 41),
            (3, PartitionType::Mbr(0x83), 42, 99)
        ]
    );
    assert_eq!(
        (report.partitions[1].guid, report.partitions[1].size),
        (None, 58 * 512)
    );
    assert_eq!(report.partitions[0].partition_type.to_string(), "0x0C");
    disk.set_mbr_record(
        3,
        MbrPartition {
            os_type: 0x83,
            starting_lba: 90,
            size_in_lba: 20,
            ..Default::default()
        },
    );
    assert_eq!(
        codes(&disk.read()),
        ["PARTITION_OUTSIDE_DISK", "PARTITIONS_OVERLAP"]
    );
    disk.set_mbr_record(
        3,
        MbrPartition {
            os_type: 0x83,
            starting_lba: 0,
            size_in_lba: 1,
            ..Default::default()
        },
    );
    assert_eq!(codes(&disk.read()), ["PARTITION_OUTSIDE_USABLE"]);
}

#[test]
fn a_protective_mbr_without_a_gpt() {
    let mut disk = Disk::standard(512, 1);
    let last = disk.last_lba();
    disk.sector(1).fill(0);
    disk.sector(last).fill(0);
    let report = disk.read();
    assert_eq!(codes(&report), ["GPT_MISSING"]);
    assert!(report.partitions.is_empty());
}

#[test]
fn the_wrong_sector_size() {
    let disk = Disk::standard(4096, 1);
    let report = disk.read_as(512);
    assert_eq!(
        codes(&report),
        ["MBR_PROTECTIVE_RANGE", "GPT_SECTOR_SIZE_MISMATCH"]
    );
    assert!(message(&report, "GPT_SECTOR_SIZE_MISMATCH")
        .contains("at byte 4096, LBA 1 with 4096-byte sectors"));
    let disk = Disk::standard(512, 1);
    assert_eq!(
        codes(&disk.read_as(4096))[..2],
        ["MBR_PROTECTIVE_RANGE", "GPT_SECTOR_SIZE_MISMATCH"]
    );
}

#[test]
fn a_short_file_is_an_io_error() {
    let bytes = encode_image(&layout(512, 1, 2, 4)).unwrap();
    let error = read(
        &mut std::io::Cursor::new(&bytes[..1024]),
        bytes.len() as u64,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, ReadError::Io(ref e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{error}"
    );
}
