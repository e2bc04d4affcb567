//! On-disk structures: boot sector, FSInfo, FAT entries and directory entries. Each function
//! fills bytes from plain values; nothing here does I/O.

use crate::alloc::Extent;
use crate::geometry::{Geometry, BACKUP_BOOT_SECTOR, FAT_COUNT, FIRST_CLUSTER, FSINFO_SECTOR};

pub const ATTR_DIRECTORY: u8 = 0x10;
pub const ATTR_ARCHIVE: u8 = 0x20;
pub const ATTR_VOLUME_ID: u8 = 0x08;
pub const END_OF_CHAIN: u32 = 0x0FFF_FFFF;
/// FAT[0]: the media byte (0xF8, fixed disk) in the low byte, all other bits set.
pub const FAT0: u32 = 0x0FFF_FFF8;
/// FAT[1]: end of chain with the "clean shutdown" and "no error" bits set.
pub const FAT1: u32 = 0x0FFF_FFFF;
const MEDIA_FIXED: u8 = 0xF8;
const NO_NAME: &[u8; 11] = b"NO NAME    ";

fn put16(buf: &mut [u8], at: usize, value: u16) {
    buf[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn put32(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// The boot sector (also written as the backup at sector 6).
pub fn boot_sector(g: &Geometry, label: Option<&[u8; 11]>, volume_id: u32) -> Vec<u8> {
    let mut s = vec![0u8; g.bytes_per_sector as usize];
    // A short jump over the BPB to the boot code, as every FAT implementation expects.
    s[0..3].copy_from_slice(&[0xEB, 0x58, 0x90]);
    s[3..11].copy_from_slice(b"IMGFORGE");
    put16(&mut s, 11, g.bytes_per_sector as u16);
    s[13] = g.sectors_per_cluster as u8;
    put16(&mut s, 14, g.reserved_sectors as u16);
    s[16] = FAT_COUNT as u8;
    // 17: root entries, 19: 16-bit total sectors, 22: 16-bit FAT size stay 0 on FAT32.
    s[21] = MEDIA_FIXED;
    // Geometry for BIOS CHS addressing; mtools refuses zeros.
    put16(&mut s, 24, 63);
    put16(&mut s, 26, 255);
    put32(
        &mut s,
        28,
        (g.partition_offset / u64::from(g.bytes_per_sector)) as u32,
    );
    put32(&mut s, 32, g.total_sectors);
    put32(&mut s, 36, g.sectors_per_fat);
    // 40: flags 0 (all FATs mirrored), 42: version 0.0.
    put32(&mut s, 44, FIRST_CLUSTER);
    put16(&mut s, 48, FSINFO_SECTOR as u16);
    put16(&mut s, 50, BACKUP_BOOT_SECTOR as u16);
    s[64] = 0x80;
    s[66] = 0x29;
    put32(&mut s, 67, volume_id);
    s[71..82].copy_from_slice(label.unwrap_or(NO_NAME));
    s[82..90].copy_from_slice(b"FAT32   ");
    // Boot code for a BIOS that boots this partition anyway: wait forever (cli; hlt; jmp $-1).
    s[90..94].copy_from_slice(&[0xFA, 0xF4, 0xEB, 0xFD]);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// The FSInfo sector: the free-cluster count and where to look for free clusters first.
pub fn fsinfo_sector(bytes_per_sector: u32, free_clusters: u32, next_free: u32) -> Vec<u8> {
    let mut s = vec![0u8; bytes_per_sector as usize];
    put32(&mut s, 0, 0x4161_5252);
    put32(&mut s, 484, 0x6141_7272);
    put32(&mut s, 488, free_clusters);
    put32(&mut s, 492, next_free);
    put32(&mut s, 508, 0xAA55_0000);
    s
}

/// The reserved area: boot sector, FSInfo, their backups at 6 and 7, zeros elsewhere.
pub fn reserved_area(
    g: &Geometry,
    label: Option<&[u8; 11]>,
    volume_id: u32,
    free: u32,
    next_free: u32,
) -> Vec<u8> {
    let sector = g.bytes_per_sector as usize;
    let mut area = vec![0u8; g.reserved_sectors as usize * sector];
    let boot = boot_sector(g, label, volume_id);
    let info = fsinfo_sector(g.bytes_per_sector, free, next_free);
    for (at, bytes) in [
        (0, &boot),
        (FSINFO_SECTOR, &info),
        (BACKUP_BOOT_SECTOR, &boot),
        (BACKUP_BOOT_SECTOR + FSINFO_SECTOR, &info),
    ] {
        let start = at as usize * sector;
        area[start..start + sector].copy_from_slice(bytes);
    }
    area
}

/// Fills `chunk` with the FAT entries starting at entry `first_entry`. `extents` are all
/// allocated runs sorted by first cluster; each run is one chain ending in END_OF_CHAIN.
/// `cursor` is the index of the first run that may reach this chunk; it moves forward, so
/// consecutive chunks cost O(entries + runs) in total.
pub fn fill_fat_chunk(chunk: &mut [u8], first_entry: u64, extents: &[Extent], cursor: &mut usize) {
    chunk.fill(0);
    let count = (chunk.len() / 4) as u64;
    let end_entry = first_entry + count;
    let mut set = |entry: u64, value: u32| {
        let at = ((entry - first_entry) * 4) as usize;
        chunk[at..at + 4].copy_from_slice(&value.to_le_bytes());
    };
    for (entry, value) in [(0u64, FAT0), (1, FAT1)] {
        if (first_entry..end_entry).contains(&entry) {
            set(entry, value);
        }
    }
    while *cursor < extents.len() && u64::from(extents[*cursor].end()) <= first_entry {
        *cursor += 1;
    }
    for extent in &extents[*cursor..] {
        let start = u64::from(extent.first);
        if start >= end_entry {
            break;
        }
        let last = u64::from(extent.end()) - 1;
        for entry in start.max(first_entry)..=last.min(end_entry - 1) {
            set(
                entry,
                if entry == last {
                    END_OF_CHAIN
                } else {
                    entry as u32 + 1
                },
            );
        }
    }
}

/// FAT date and time (local time by the spec; imgforge writes UTC, as reproducible builds need
/// a fixed zone) for seconds since the Unix epoch, clamped to FAT's 1980-2107 range.
pub fn fat_timestamp(unix_seconds: i64) -> (u16, u16) {
    const MIN: i64 = 315_532_800; // 1980-01-01T00:00:00Z
    const MAX: i64 = 4_354_819_198; // 2107-12-31T23:59:58Z
    let t = unix_seconds.clamp(MIN, MAX);
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let date = (((year - 1980) << 9) | (month << 5) | day) as u16;
    let (hours, minutes, seconds) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let time = ((hours << 11) | (minutes << 5) | (seconds / 2)) as u16;
    (date, time)
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A short (8.3) directory entry.
pub fn short_entry(
    name: &[u8; 11],
    attributes: u8,
    first_cluster: u32,
    size: u32,
    unix_time: i64,
) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[0..11].copy_from_slice(name);
    e[11] = attributes;
    let (date, time) = fat_timestamp(unix_time);
    put16(&mut e, 14, time);
    put16(&mut e, 16, date);
    put16(&mut e, 18, date);
    put16(&mut e, 20, (first_cluster >> 16) as u16);
    put16(&mut e, 22, time);
    put16(&mut e, 24, date);
    put16(&mut e, 26, first_cluster as u16);
    put32(&mut e, 28, size);
    e
}

pub const DOT: &[u8; 11] = b".          ";
pub const DOT_DOT: &[u8; 11] = b"..         ";

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
