use super::*;
use std::io::Cursor;

#[test]
fn entry_sizes_are_128_times_a_power_of_two() {
    for good in [128, 256, 512, 1024, 1 << 31] {
        assert!(is_valid_entry_size(good), "{good}");
    }
    for bad in [0, 1, 64, 127, 129, 384, 640, u32::MAX] {
        assert!(!is_valid_entry_size(bad), "{bad}");
    }
}

/// Checks `header` as if it had been read from `lba` of a disk of `total_sectors`.
fn problems(header: Header, lba: u64, total_sectors: u64) -> Vec<Code> {
    let mut bytes = vec![0u8; (total_sectors * 512) as usize];
    let mut cursor = Cursor::new(&mut bytes);
    let disk = Disk::new(&mut cursor, total_sectors * 512, 512);
    let mut check = HeaderCheck {
        header: Some(header),
        ..HeaderCheck::missing(HeaderKind::Primary, lba)
    };
    check_entry_geometry(&mut check, &header, &disk);
    check_usable_range(&mut check, &header, total_sectors);
    check.problems.iter().map(|p| p.code).collect()
}

fn standard() -> Header {
    Header {
        my_lba: 1,
        alternate_lba: 99,
        first_usable_lba: 34,
        last_usable_lba: 66,
        entries_lba: 2,
        entry_count: 128,
        entry_size: 128,
        ..Header::standard(crate::guid::Guid::NIL)
    }
}

#[test]
fn a_standard_header_has_no_problems() {
    assert_eq!(problems(standard(), 1, 100), []);
    let backup = Header {
        my_lba: 99,
        alternate_lba: 1,
        entries_lba: 67,
        ..standard()
    };
    assert_eq!(problems(backup, 99, 100), []);
    let no_entries = Header {
        entry_count: 0,
        ..standard()
    };
    assert_eq!(problems(no_entries, 1, 100), []);
}

#[test]
fn entry_arrays_in_the_wrong_place() {
    let location = [Code::GptEntryArrayLocation];
    assert_eq!(
        problems(
            Header {
                entries_lba: 0,
                ..standard()
            },
            1,
            100
        ),
        location,
        "over the MBR"
    );
    assert_eq!(
        problems(
            Header {
                entries_lba: 1,
                ..standard()
            },
            1,
            100
        ),
        location,
        "over the header"
    );
    assert_eq!(
        problems(
            Header {
                entries_lba: 40,
                ..standard()
            },
            1,
            100
        ),
        location,
        "in the usable LBAs"
    );
    assert_eq!(
        problems(
            Header {
                entries_lba: 80,
                ..standard()
            },
            1,
            100
        ),
        location,
        "past the end"
    );
    assert_eq!(
        problems(
            Header {
                entries_lba: u64::MAX,
                ..standard()
            },
            1,
            100
        ),
        location
    );
    assert_eq!(
        problems(
            Header {
                entries_lba: 67,
                ..standard()
            },
            1,
            100
        ),
        [],
        "just after the usable LBAs"
    );
}

#[test]
fn entry_arrays_too_large_are_not_placed() {
    let huge = Header {
        entry_count: 8193,
        ..standard()
    };
    assert_eq!(problems(huge, 1, 100), [Code::GptEntryArrayTooLarge]);
    let at_the_limit = Header {
        entry_count: 8192,
        first_usable_lba: 2050,
        last_usable_lba: 3000,
        ..standard()
    };
    assert_eq!(
        problems(at_the_limit, 1, 100_000),
        [],
        "1 MiB of entries is read"
    );
    let overflowing = Header {
        entry_count: u32::MAX,
        entry_size: 1 << 31,
        ..standard()
    };
    assert_eq!(problems(overflowing, 1, 100), [Code::GptEntryArrayTooLarge]);
}

#[test]
fn usable_ranges() {
    let range = [Code::GptUsableRange];
    assert_eq!(
        problems(
            Header {
                first_usable_lba: 67,
                last_usable_lba: 66,
                ..standard()
            },
            1,
            100
        ),
        range,
        "empty"
    );
    assert_eq!(
        problems(
            Header {
                last_usable_lba: 100,
                ..standard()
            },
            1,
            100
        ),
        range,
        "past the end"
    );
    assert_eq!(
        problems(
            Header {
                first_usable_lba: 0,
                entries_lba: 80,
                entry_count: 0,
                ..standard()
            },
            1,
            100
        ),
        range,
        "over the MBR"
    );
    assert_eq!(
        problems(
            Header {
                last_usable_lba: 99,
                alternate_lba: 99,
                ..standard()
            },
            1,
            100
        ),
        range,
        "over the backup"
    );
    let backup = Header {
        my_lba: 99,
        alternate_lba: 1,
        entries_lba: 67,
        last_usable_lba: 99,
        ..standard()
    };
    assert!(problems(backup, 99, 100).contains(&Code::GptUsableRange));
}

#[test]
fn a_sector_without_the_signature_is_missing() {
    let mut bytes = vec![0u8; 100 * 512];
    bytes[512..1024].copy_from_slice(&standard().encode(512));
    bytes[512] = b'e';
    let mut cursor = Cursor::new(&bytes);
    let mut reader = Disk::new(&mut cursor, bytes.len() as u64, 512);
    let check = check_header(&mut reader, HeaderKind::Primary, 1).unwrap();
    assert_eq!(
        (check.status, check.header.is_none()),
        (HeaderStatus::Missing, true)
    );
    let off_the_disk = check_header(&mut reader, HeaderKind::Backup, u64::MAX).unwrap();
    assert_eq!(off_the_disk.status, HeaderStatus::Missing);
}
