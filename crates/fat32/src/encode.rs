//! The writer's metadata, encoded from a plan's values through the shared on-disk structures
//! (`ondisk`): boot sector, FSInfo, the reserved area, FAT chunks and short directory entries.
//! Nothing here does I/O.

use crate::alloc::Extent;
use crate::geometry::{Geometry, BACKUP_BOOT_SECTOR, FAT_COUNT, FIRST_CLUSTER, FSINFO_SECTOR};
pub(crate) use crate::ondisk::boot::{BootSector, FsInfo, NO_NAME};
pub(crate) use crate::ondisk::dirent::{
    ShortEntry, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, DOT, DOT_DOT,
};
pub(crate) use crate::ondisk::fat_entry::{END_OF_CHAIN, FAT0, FAT1, MEDIA_FIXED};
pub(crate) use crate::ondisk::time::fat_timestamp;

/// The boot sector (also written as the backup at sector 6).
pub(crate) fn boot_sector(g: &Geometry, label: Option<&[u8; 11]>, volume_id: u32) -> Vec<u8> {
    BootSector {
        oem_name: *b"IMGFORGE",
        bytes_per_sector: g.bytes_per_sector as u16,
        sectors_per_cluster: g.sectors_per_cluster as u8,
        reserved_sectors: g.reserved_sectors as u16,
        fat_count: FAT_COUNT as u8,
        // FAT12/16 fields: no fixed root directory, no 16-bit counts.
        root_entries: 0,
        total_sectors_16: 0,
        media: MEDIA_FIXED,
        fat_size_16: 0,
        // Geometry for BIOS CHS addressing; mtools refuses zeros.
        sectors_per_track: 63,
        heads: 255,
        hidden_sectors: (g.partition_offset / u64::from(g.bytes_per_sector)) as u32,
        total_sectors_32: g.total_sectors,
        fat_size_32: g.sectors_per_fat,
        // All FATs mirrored, version 0.0.
        ext_flags: 0,
        fs_version: 0,
        root_cluster: FIRST_CLUSTER,
        fsinfo_sector: FSINFO_SECTOR as u16,
        backup_boot_sector: BACKUP_BOOT_SECTOR as u16,
        drive_number: 0x80,
        extended_signature: crate::ondisk::boot::EXTENDED_BOOT_SIGNATURE,
        volume_id,
        volume_label: *label.unwrap_or(NO_NAME),
        fs_type: *b"FAT32   ",
    }
    .encode(g.bytes_per_sector as usize)
}

/// The FSInfo sector: the free-cluster count and where to look for free clusters first.
pub(crate) fn fsinfo_sector(bytes_per_sector: u32, free_clusters: u32, next_free: u32) -> Vec<u8> {
    FsInfo {
        free_clusters,
        next_free,
    }
    .encode(bytes_per_sector as usize)
}

/// The reserved area: boot sector, FSInfo, their backups at 6 and 7, zeros elsewhere.
pub(crate) fn reserved_area(
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
pub(crate) fn fill_fat_chunk(
    chunk: &mut [u8],
    first_entry: u64,
    extents: &[Extent],
    cursor: &mut usize,
) {
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

/// A short (8.3) directory entry, created, modified and accessed at `unix_time`.
pub(crate) fn short_entry(
    name: &[u8; 11],
    attributes: u8,
    first_cluster: u32,
    size: u32,
    unix_time: i64,
) -> [u8; 32] {
    let (date, time) = fat_timestamp(unix_time);
    ShortEntry {
        name: *name,
        attributes,
        create_time: time,
        create_date: date,
        access_date: date,
        first_cluster,
        write_time: time,
        write_date: date,
        size,
        ..ShortEntry::default()
    }
    .encode()
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
