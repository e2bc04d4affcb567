use super::*;
use crate::crc32::crc32;
use crate::format::{read_u32, read_u64};
use crate::guid::Guid;
use crate::layout::LayoutPartition;

fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

fn guid(text: &str) -> Guid {
    text.parse().unwrap()
}

/// The "attrs" layout the TypeScript encoder wrote before the port; its CRCs are pinned below.
fn pinned_512() -> Layout {
    Layout {
        sector_size: 512,
        disk_size: 4_214_784,
        total_sectors: 8232,
        disk_guid: guid("FEDCBA98-7654-3210-FEDC-BA9876543210"),
        first_usable_lba: 34,
        last_usable_lba: 8198,
        partitions: vec![
            LayoutPartition {
                index: 1,
                name: utf16("ÉFI 😀 12345678901234567890123456789"),
                type_guid: guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
                guid: guid("40FC31C4-AD43-4492-B48C-A7344111BA01"),
                attributes: 10_952_895_031_253_401_615,
                first_lba: 2048,
                last_lba: 4095,
            },
            LayoutPartition {
                index: 2,
                name: utf16("x"),
                type_guid: guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
                guid: guid("01234567-89AB-CDEF-0123-456789ABCDEF"),
                attributes: 0,
                first_lba: 4096,
                last_lba: 8191,
            },
        ],
    }
}

fn pinned_4096() -> Layout {
    Layout {
        sector_size: 4096,
        disk_size: 2_117_632,
        total_sectors: 517,
        disk_guid: guid("B832C60C-F08D-43B7-BFB0-7CAA588C1B38"),
        first_usable_lba: 6,
        last_usable_lba: 511,
        partitions: vec![LayoutPartition {
            index: 1,
            name: utf16("esp"),
            type_guid: guid("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
            guid: guid("6FAA78A5-9A34-43F6-9839-9197BA250351"),
            attributes: 1_152_921_504_606_846_980,
            first_lba: 256,
            last_lba: 511,
        }],
    }
}

#[test]
fn regions_are_placed_like_the_typescript_encoder_placed_them() {
    let regions = encode_gpt(&pinned_512()).unwrap();
    let placed: Vec<(u64, usize)> = regions.iter().map(|r| (r.offset, r.data.len())).collect();
    assert_eq!(
        placed,
        [
            (0, 512),
            (512, 512),
            (1024, 16384),
            (4_197_888, 16384),
            (4_214_272, 512)
        ]
    );
    let regions = encode_gpt(&pinned_4096()).unwrap();
    let placed: Vec<(u64, usize)> = regions.iter().map(|r| (r.offset, r.data.len())).collect();
    assert_eq!(
        placed,
        [
            (0, 4096),
            (4096, 4096),
            (8192, 16384),
            (2_097_152, 16384),
            (2_113_536, 4096)
        ]
    );
}

/// Header CRCs cover every header field and entries CRC every entry byte, so equal CRCs (with
/// the field checks of headers_and_entries_decode_to_the_layout) pin the bytes.
#[test]
fn crcs_match_the_typescript_encoder() {
    for (layout, primary, entries, backup) in [
        (pinned_512(), 0x92A1_64DC, 0x6EA1_055D, 0x031B_7237),
        (pinned_4096(), 0xBAF1_BE84, 0x3043_4AB3, 0x6A24_4D30),
    ] {
        let regions = encode_gpt(&layout).unwrap();
        assert_eq!(read_u32(&regions[1].data, 16), Some(primary));
        assert_eq!(read_u32(&regions[1].data, 88), Some(entries));
        assert_eq!(read_u32(&regions[4].data, 16), Some(backup));
    }
}

#[test]
fn headers_and_entries_decode_to_the_layout() {
    for layout in [pinned_512(), pinned_4096()] {
        let regions = encode_gpt(&layout).unwrap();
        let last = layout.total_sectors - 1;
        let array_sectors = entry_array_sectors(layout.sector_size);
        let entries = &regions[2].data;
        assert_eq!(entries, &regions[3].data);
        for (header, my_lba, alternate, entries_lba) in [
            (&regions[1].data, 1, last, 2),
            (&regions[4].data, last, 1, last - array_sectors),
        ] {
            let decoded = Header::decode(header).unwrap();
            assert_eq!(&header[..8], b"EFI PART");
            assert_eq!(decoded.revision, 0x0001_0000);
            assert_eq!(decoded.header_size, 92);
            assert_eq!(read_u32(header, 20), Some(0), "reserved");
            assert_eq!(
                (decoded.my_lba, decoded.alternate_lba, decoded.entries_lba),
                (my_lba, alternate, entries_lba)
            );
            assert_eq!(
                (decoded.first_usable_lba, decoded.last_usable_lba),
                (layout.first_usable_lba, layout.last_usable_lba)
            );
            assert_eq!(decoded.disk_guid, layout.disk_guid);
            assert_eq!((decoded.entry_count, decoded.entry_size), (128, 128));
            assert_eq!(decoded.entries_crc, crc32(&entries[..16384]));
            assert!(header[92..].iter().all(|&b| b == 0));
        }
        for p in &layout.partitions {
            let at = (p.index as usize - 1) * 128;
            let entry = Entry::decode(&entries[at..]).unwrap();
            assert_eq!((entry.type_guid, entry.unique_guid), (p.type_guid, p.guid));
            assert_eq!(
                (entry.first_lba, entry.last_lba, entry.attributes),
                (p.first_lba, p.last_lba, p.attributes)
            );
            assert_eq!(entry.name_lossy(), String::from_utf16(&p.name).unwrap());
        }
        let used = layout.partitions.len() * 128;
        assert!(entries[used..].iter().all(|&b| b == 0));
    }
}

#[test]
fn the_protective_mbr_covers_the_disk_or_32_bits() {
    let mbr = &encode_gpt(&pinned_512()).unwrap()[0].data;
    assert_eq!(read_u32(mbr, 446 + 12), Some(8231));
    let mut huge = pinned_4096();
    huge.sector_size = 512;
    huge.total_sectors = 3 << 31; // 3 TiB
    huge.disk_size = huge.total_sectors * 512;
    huge.first_usable_lba = 34;
    huge.last_usable_lba = huge.total_sectors - 34;
    let regions = encode_gpt(&huge).unwrap();
    assert_eq!(read_u32(&regions[0].data, 446 + 12), Some(0xFFFF_FFFF));
    assert_eq!(regions[4].offset, huge.disk_size - 512);
    assert_eq!(read_u64(&regions[1].data, 32), Some(huge.total_sectors - 1));
}

#[test]
fn an_empty_layout_encodes_an_empty_table() {
    let mut layout = pinned_512();
    layout.partitions.clear();
    let regions = encode_gpt(&layout).unwrap();
    assert!(regions[2].data.iter().all(|&b| b == 0));
    assert_eq!(
        Header::decode(&regions[1].data).unwrap().entries_crc,
        crc32(&[0; 16384])
    );
}

/// Applies `change` to the pinned layout and returns the refusal.
fn refusal(change: impl FnOnce(&mut Layout)) -> EncodeError {
    let mut layout = pinned_512();
    change(&mut layout);
    encode_gpt(&layout).unwrap_err()
}

#[test]
fn refuses_bad_geometry() {
    let error = refusal(|l| l.sector_size = 1024);
    assert_eq!(error, EncodeError::UnsupportedSectorSize(1024));
    assert_eq!(error.to_string(), "unsupported sector size 1024");
    let error = refusal(|l| l.disk_size += 512);
    assert_eq!(
        error.to_string(),
        "disk size 4215296 does not match 8232 sectors of 512 bytes"
    );
    assert!(matches!(
        refusal(|l| l.total_sectors = u64::MAX),
        EncodeError::DiskSizeMismatch { .. }
    ));
    let error = refusal(|l| l.last_usable_lba = 8199);
    assert_eq!(
        error.to_string(),
        "usable LBAs 34..8199 overlap the partition tables of a 8232-sector disk"
    );
    assert!(matches!(
        refusal(|l| l.first_usable_lba = 33),
        EncodeError::UsableRangeOverlapsTables { .. }
    ));
    assert!(matches!(
        refusal(|l| {
            l.first_usable_lba = 5000;
            l.last_usable_lba = 4999;
        }),
        EncodeError::UsableRangeOverlapsTables { .. }
    ));
    let tiny = refusal(|l| {
        l.total_sectors = 3;
        l.disk_size = 1536;
    });
    assert!(
        matches!(tiny, EncodeError::UsableRangeOverlapsTables { .. }),
        "no underflow: {tiny}"
    );
}

#[test]
fn refuses_bad_partitions() {
    let too_many = refusal(|l| {
        let p = l.partitions[1].clone();
        l.partitions = (0..129)
            .map(|i| LayoutPartition {
                index: i + 1,
                ..p.clone()
            })
            .collect();
    });
    assert_eq!(too_many.to_string(), "129 partitions, the GPT holds 128");
    let error = refusal(|l| l.partitions[1].index = 0);
    assert_eq!(
        error.to_string(),
        "partition \"x\" has an invalid entry number 0 (1 to 128)"
    );
    assert!(matches!(
        refusal(|l| l.partitions[1].index = 129),
        EncodeError::InvalidEntryNumber { index: 129, .. }
    ));
    let error = refusal(|l| l.partitions[1].index = 1);
    assert_eq!(
        error.to_string(),
        "partition \"x\" has a duplicate entry number 1"
    );
    let error = refusal(|l| l.partitions[1].last_lba = 8199);
    assert_eq!(
        error.to_string(),
        "partition \"x\" spans LBAs 4096..8199, outside 34..8198"
    );
    assert!(matches!(
        refusal(|l| l.partitions[1].first_lba = 33),
        EncodeError::OutsideUsableRange { .. }
    ));
    let inverted = refusal(|l| l.partitions[1].last_lba = 4095);
    assert!(matches!(
        inverted,
        EncodeError::OutsideUsableRange {
            first_lba: 4096,
            last_lba: 4095,
            ..
        }
    ));
    let error = refusal(|l| l.partitions[1].first_lba = 4095);
    assert_eq!(
        error.to_string(),
        "partitions \"ÉFI 😀 12345678901234567890123456789\" and \"x\" overlap"
    );
}

#[test]
fn refuses_what_readers_would_lose() {
    let error = refusal(|l| l.partitions[1].name = vec![0x61; 37]);
    assert_eq!(
        error.to_string(),
        format!(
            "partition name {:?} is longer than 36 UTF-16 code units",
            "a".repeat(37)
        )
    );
    assert!(encode_gpt(&{
        let mut l = pinned_512();
        l.partitions[1].name = vec![0x61; 36];
        l
    })
    .is_ok());
    let error = refusal(|l| l.partitions[1].name = utf16("a\0b"));
    assert!(
        matches!(error, EncodeError::NameContainsNul { .. }),
        "{error}"
    );
    let error = refusal(|l| l.partitions[1].type_guid = Guid::NIL);
    assert_eq!(
        error.to_string(),
        "partition \"x\" has the all-zero type GUID, which marks an unused entry"
    );
    let error = refusal(|l| l.partitions[1].guid = l.partitions[0].guid);
    assert!(
        error
            .to_string()
            .contains("have the same GUID 40FC31C4-AD43-4492-B48C-A7344111BA01"),
        "{error}"
    );
}

/// The TypeScript encoder checked in this order; the first failing check names the refusal.
#[test]
fn refusals_come_in_the_typescript_order() {
    let error = refusal(|l| {
        l.partitions[1].name = vec![0x61; 37];
        l.partitions[1].first_lba = 4095;
    });
    assert!(
        matches!(error, EncodeError::Overlap { .. }),
        "plan checks before names: {error}"
    );
    let error = refusal(|l| {
        l.partitions[0].index = 7;
        l.partitions[1].index = 7;
        l.partitions[1].last_lba = 9000;
    });
    assert!(
        matches!(error, EncodeError::DuplicateEntryNumber { .. }),
        "entry numbers before ranges: {error}"
    );
    let error = refusal(|l| {
        l.partitions[1].type_guid = Guid::NIL;
        l.partitions[1].name = vec![0x61; 37];
    });
    assert!(matches!(error, EncodeError::NameTooLong { .. }), "{error}");
}

#[test]
fn lone_surrogates_are_written_as_they_are() {
    let mut layout = pinned_512();
    layout.partitions[1].name = vec![0x78, 0xD800, 0x79];
    let entries = &encode_gpt(&layout).unwrap()[2].data;
    assert_eq!(
        &entries[128 + 56..128 + 62],
        &[0x78, 0, 0x00, 0xD8, 0x79, 0]
    );
}
