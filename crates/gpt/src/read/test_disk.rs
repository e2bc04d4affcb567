//! Small disks for the reader's unit tests, and ways to damage them precisely.

use super::{read_bytes, Report};
use crate::crc32::crc32;
use crate::encode::{encode_image, entry_array_sectors, Layout, LayoutPartition};
use crate::entry::Entry;
use crate::guid::Guid;
use crate::header::Header;

pub(crate) const LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/// GUIDs that differ in their last byte.
pub(crate) fn numbered_guid(n: u8, kind: u8) -> Guid {
    let mut bytes = [0x11; 16];
    bytes[14] = kind;
    bytes[15] = n;
    Guid::from_bytes(bytes)
}

/// `count` two-sector partitions back to back, with room for the tables and `spare` sectors.
pub(crate) fn layout(sector_size: u32, count: u8, spare: u64) -> Layout {
    let tables = 1 + entry_array_sectors(sector_size);
    let first_usable = 1 + tables;
    let total_sectors = first_usable + 2 * u64::from(count) + spare + tables;
    Layout {
        sector_size,
        disk_size: total_sectors * u64::from(sector_size),
        total_sectors,
        disk_guid: numbered_guid(0, 0xD1),
        first_usable_lba: first_usable,
        last_usable_lba: total_sectors - 1 - tables,
        partitions: (0..count)
            .map(|i| LayoutPartition {
                index: u32::from(i) + 1,
                name: format!("part-{i}").encode_utf16().collect(),
                type_guid: LINUX.parse().unwrap(),
                guid: numbered_guid(i, 0xA0),
                attributes: u64::from(i) << 48 | 1,
                first_lba: first_usable + 2 * u64::from(i),
                last_lba: first_usable + 2 * u64::from(i) + 1,
            })
            .collect(),
    }
}

pub(crate) struct TestDisk {
    pub bytes: Vec<u8>,
    pub sector_size: u32,
}

impl TestDisk {
    pub fn new(sector_size: u32, count: u8) -> TestDisk {
        TestDisk::from_layout(&layout(sector_size, count, 4))
    }

    pub fn from_layout(layout: &Layout) -> TestDisk {
        TestDisk {
            bytes: encode_image(layout).unwrap(),
            sector_size: layout.sector_size,
        }
    }

    pub fn last_lba(&self) -> u64 {
        self.bytes.len() as u64 / u64::from(self.sector_size) - 1
    }

    pub fn sector(&mut self, lba: u64) -> &mut [u8] {
        let size = self.sector_size as usize;
        let at = lba as usize * size;
        &mut self.bytes[at..at + size]
    }

    pub fn header(&mut self, lba: u64) -> Header {
        Header::decode(self.sector(lba)).unwrap()
    }

    /// Changes the header at `lba` and gives it a correct CRC again.
    pub fn patch_header(&mut self, lba: u64, change: impl FnOnce(&mut Header)) {
        let mut header = self.header(lba);
        change(&mut header);
        let size = self.sector_size as usize;
        let encoded = header.encode(size);
        self.sector(lba).copy_from_slice(&encoded);
    }

    /// Changes the entries of the header at `lba` (its array and its entries CRC).
    pub fn patch_entries(&mut self, lba: u64, change: impl Fn(&mut Vec<Entry>)) {
        let header = self.header(lba);
        let at = header.entries_lba as usize * self.sector_size as usize;
        let length = (header.entry_count * header.entry_size) as usize;
        let array = &mut self.bytes[at..at + length];
        let mut entries: Vec<Entry> = array
            .chunks(128)
            .map(|c| Entry::decode(c).unwrap())
            .collect();
        change(&mut entries);
        for (chunk, entry) in array.chunks_mut(128).zip(&entries) {
            chunk.copy_from_slice(&entry.encode());
        }
        let crc = crc32(array);
        self.patch_header(lba, |h| h.entries_crc = crc);
    }

    /// The same change to both copies of the entries.
    pub fn patch_both_entries(&mut self, change: impl Fn(&mut Vec<Entry>)) {
        self.patch_entries(1, &change);
        let last = self.last_lba();
        self.patch_entries(last, &change);
    }

    pub fn read(&self) -> Report {
        read_bytes(&self.bytes, None).unwrap()
    }

    pub fn read_as(&self, sector_size: u32) -> Report {
        read_bytes(&self.bytes, Some(sector_size)).unwrap()
    }
}

pub(crate) fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code.as_str()).collect()
}

/// The message of the first finding with `code`.
pub(crate) fn message<'a>(report: &'a Report, code: &str) -> &'a str {
    let found = report.findings.iter().find(|f| f.code.as_str() == code);
    &found
        .unwrap_or_else(|| panic!("no {code} in {:#?}", report.findings))
        .message
}
