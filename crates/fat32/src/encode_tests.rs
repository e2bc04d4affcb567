use super::*;
use crate::geometry::geometry;

#[test]
fn timestamps_convert_in_utc_and_clamp_to_fats_range() {
    // 2024-02-29T13:45:17Z: seconds are stored halved.
    let (date, time) = fat_timestamp(1_709_214_317);
    assert_eq!((date >> 9, (date >> 5) & 15, date & 31), (44, 2, 29));
    assert_eq!((time >> 11, (time >> 5) & 63, time & 31), (13, 45, 8));
    // Before 1980 and after 2107 clamp to the ends.
    assert_eq!(fat_timestamp(0), (1 << 5 | 1, 0));
    assert_eq!(fat_timestamp(-86_400), fat_timestamp(0));
    let (date, time) = fat_timestamp(i64::MAX);
    assert_eq!((date >> 9, (date >> 5) & 15, date & 31), (127, 12, 31));
    assert_eq!((time >> 11, (time >> 5) & 63, time & 31), (23, 59, 29));
    // The last second of a day, and the first of the next (a leap-year boundary).
    let (date, time) = fat_timestamp(951_782_399); // 2000-02-28T23:59:59Z
    assert_eq!((date & 31, time >> 11), (28, 23));
    let (date, _) = fat_timestamp(951_782_400);
    assert_eq!(((date >> 5) & 15, date & 31), (2, 29));
}

fn entries(chunk: &[u8]) -> Vec<u32> {
    chunk
        .chunks(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn fat_chains_are_continuous_across_chunks() {
    let extents = [
        Extent {
            first: 2,
            clusters: 1,
        },
        Extent {
            first: 3,
            clusters: 5,
        },
        Extent {
            first: 10,
            clusters: 3,
        },
    ];
    let mut whole = vec![0u8; 16 * 4];
    fill_fat_chunk(&mut whole, 0, &extents, &mut 0);
    let expected = [
        FAT0,
        FAT1,
        END_OF_CHAIN,
        4,
        5,
        6,
        7,
        END_OF_CHAIN,
        0,
        0,
        11,
        12,
        END_OF_CHAIN,
        0,
        0,
        0,
    ];
    assert_eq!(entries(&whole), expected);
    // The same FAT in chunks of 3 entries, with one cursor carried along.
    let mut cursor = 0;
    let mut joined = Vec::new();
    for first in (0..16).step_by(3) {
        let mut chunk = vec![0xAAu8; 3.min(16 - first) * 4];
        fill_fat_chunk(&mut chunk, first as u64, &extents, &mut cursor);
        joined.extend(entries(&chunk));
    }
    assert_eq!(joined, expected);
}

#[test]
fn boot_sector_fields() {
    let g = geometry(1 << 20, 512 << 20, 512, 4096).unwrap();
    let s = boot_sector(&g, Some(b"ESP        "), 0x1234_ABCD);
    let u16_at = |at: usize| u16::from_le_bytes([s[at], s[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    assert_eq!(u16_at(11), 512);
    assert_eq!(s[13], 8);
    assert_eq!(u16_at(14) as u32, g.reserved_sectors);
    assert_eq!(s[16], 2);
    assert_eq!(u16_at(17), 0);
    assert_eq!(u16_at(22), 0);
    assert_eq!(u32_at(28), 2048);
    assert_eq!(u32_at(32), g.total_sectors);
    assert_eq!(u32_at(36), g.sectors_per_fat);
    assert_eq!(u32_at(44), 2);
    assert_eq!(u32_at(67), 0x1234_ABCD);
    assert_eq!(&s[71..82], b"ESP        ");
    assert_eq!(&s[510..512], &[0x55, 0xAA]);
    let area = reserved_area(&g, None, 7, 100, 3);
    assert_eq!(&area[71..82], b"NO NAME    ");
    assert_eq!(
        area[..512],
        area[6 * 512..7 * 512],
        "the backup boot sector"
    );
    assert_eq!(area[512..1024], area[7 * 512..8 * 512], "the backup FSInfo");
    assert_eq!(
        u32::from_le_bytes(area[512 + 488..512 + 492].try_into().unwrap()),
        100
    );
}

#[test]
fn short_entries_split_the_cluster_number() {
    let e = short_entry(b"KERNEL  EFI", ATTR_ARCHIVE, 0x0012_3456, 99, 315_532_800);
    assert_eq!(u16::from_le_bytes([e[20], e[21]]), 0x12);
    assert_eq!(u16::from_le_bytes([e[26], e[27]]), 0x3456);
    assert_eq!(u32::from_le_bytes(e[28..32].try_into().unwrap()), 99);
    assert_eq!(e[11], ATTR_ARCHIVE);
}
