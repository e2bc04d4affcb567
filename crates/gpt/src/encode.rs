//! Encodes a planned layout as the bytes of a GPT: protective MBR, primary header and entry
//! array at the start, backup entry array and header at the end. Pure: no I/O.

use crate::check::{check_layout, check_names, check_read_back, EncodeError};
use crate::crc32::crc32;
use crate::entry::{name_units, Entry};
use crate::format::{GPT_ENTRY_COUNT, GPT_ENTRY_SIZE, GPT_NAME_UNITS};
use crate::header::Header;
use crate::layout::{entry_array_sectors, Layout};
use crate::mbr::Mbr;

/// Bytes to write at a byte offset of the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// The regions to write, in ascending offset order: protective MBR (LBA 0), primary header
/// (LBA 1), primary entry array (LBA 2...), backup entry array (just before the last LBA) and
/// backup header (last LBA). Everything else on the disk is left to the caller. Refuses layouts
/// that would produce a table other tools reject or misread.
pub fn encode_gpt(layout: &Layout) -> Result<Vec<Region>, EncodeError> {
    check_layout(layout)?;
    check_names(layout)?;
    check_read_back(layout)?;
    let sector_size = layout.sector_size;
    let entries = encode_entry_array(layout);
    let entries_crc = crc32(&entries[..(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) as usize]);
    let last_lba = layout.total_sectors - 1;
    let backup_entries_lba = last_lba - entry_array_sectors(sector_size);
    let header = |my_lba, alternate_lba, entries_lba| {
        Header {
            my_lba,
            alternate_lba,
            first_usable_lba: layout.first_usable_lba,
            last_usable_lba: layout.last_usable_lba,
            entries_lba,
            entry_count: GPT_ENTRY_COUNT,
            entry_size: GPT_ENTRY_SIZE,
            entries_crc,
            ..Header::standard(layout.disk_guid)
        }
        .encode(sector_size as usize)
    };
    let at = |lba: u64| lba * u64::from(sector_size);
    Ok(vec![
        Region {
            offset: 0,
            data: Mbr::protective(layout.total_sectors).encode(sector_size as usize),
        },
        Region {
            offset: at(1),
            data: header(1, last_lba, 2),
        },
        Region {
            offset: at(2),
            data: entries.clone(),
        },
        Region {
            offset: at(backup_entries_lba),
            data: entries,
        },
        Region {
            offset: at(last_lba),
            data: header(last_lba, 1, backup_entries_lba),
        },
    ])
}

/// The whole disk in memory: the GPT regions over zeros. For small disks (tests, fuzzing,
/// tiny images); it allocates `disk_size` bytes.
pub fn encode_image(layout: &Layout) -> Result<Vec<u8>, EncodeError> {
    let regions = encode_gpt(layout)?;
    let size =
        usize::try_from(layout.disk_size).expect("encode_image is for disks that fit in memory");
    let mut disk = vec![0u8; size];
    for region in regions {
        let at = region.offset as usize; // checked: every region lies inside disk_size
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    Ok(disk)
}

/// The full entry array (128 entries, unused ones zero), padded to whole sectors. Expects a
/// checked layout: entry numbers 1 to 128, names of at most 36 units.
fn encode_entry_array(layout: &Layout) -> Vec<u8> {
    let sectors = entry_array_sectors(layout.sector_size);
    let mut array = vec![0u8; (sectors * u64::from(layout.sector_size)) as usize];
    for partition in &layout.partitions {
        let entry = Entry {
            type_guid: partition.type_guid,
            unique_guid: partition.guid,
            first_lba: partition.first_lba,
            last_lba: partition.last_lba,
            attributes: partition.attributes,
            name: name_units(&partition.name).unwrap_or([0; GPT_NAME_UNITS]),
        };
        let at = (partition.index as usize - 1) * GPT_ENTRY_SIZE as usize;
        array[at..at + GPT_ENTRY_SIZE as usize].copy_from_slice(&entry.encode());
    }
    array
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
