//! Small GPT disks in memory, and ways to damage them precisely.

use imgforge_gpt::{
    crc32, encode_image, entry_array_sectors, name_units, read_bytes, Entry, Guid, Header, Layout,
    LayoutPartition, Mbr, MbrPartition, Report,
};

pub const LINUX: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
pub const ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/// A GUID that differs from the others made here in its last two bytes.
pub fn guid(kind: u8, n: u8) -> Guid {
    let mut bytes = [0x5A; 16];
    bytes[14] = kind;
    bytes[15] = n;
    Guid::from_bytes(bytes)
}

/// `count` partitions of `sectors` sectors back to back, then `spare` free sectors.
pub fn layout(sector_size: u32, count: u8, sectors: u64, spare: u64) -> Layout {
    let tables = 1 + entry_array_sectors(sector_size);
    let first_usable = 1 + tables;
    let total_sectors = first_usable + sectors * u64::from(count) + spare + tables;
    Layout {
        sector_size,
        disk_size: total_sectors * u64::from(sector_size),
        total_sectors,
        disk_guid: guid(0xD1, 0),
        first_usable_lba: first_usable,
        last_usable_lba: total_sectors - 1 - tables,
        partitions: (0..count)
            .map(|i| LayoutPartition {
                index: u32::from(i) + 1,
                name: format!("part {i}").encode_utf16().collect(),
                type_guid: (if i == 0 { ESP } else { LINUX }).parse().unwrap(),
                guid: guid(0xA0, i),
                attributes: if i % 2 == 0 { 1 } else { 1 << 60 },
                first_lba: first_usable + sectors * u64::from(i),
                last_lba: first_usable + sectors * u64::from(i + 1) - 1,
            })
            .collect(),
    }
}

/// Entries in a compact table: one 512-byte sector of them.
const COMPACT_ENTRIES: u32 = 4;

/// A GPT of 512-byte sectors with a 4-entry array (one sector) instead of the usual 128, as
/// `sgdisk -S 4` makes: `count` one-sector partitions, a disk of a few KiB.
pub fn compact_disk(count: u8) -> Disk {
    let total = 3 + u64::from(count) + 1 + 2;
    let mut disk = Disk {
        bytes: vec![0u8; total as usize * 512],
        sector_size: 512,
    };
    disk.bytes[..512].copy_from_slice(&Mbr::protective(total).encode(512));
    let mut array = vec![0u8; 512];
    for i in 0..count.min(COMPACT_ENTRIES as u8) {
        let entry = Entry {
            type_guid: LINUX.parse().unwrap(),
            unique_guid: guid(0xC0, i),
            first_lba: 3 + u64::from(i),
            last_lba: 3 + u64::from(i),
            attributes: 0,
            name: name_units(&[u16::from(b'a' + i)]).unwrap(),
        };
        array[128 * usize::from(i)..128 * usize::from(i + 1)].copy_from_slice(&entry.encode());
    }
    let entries_crc = crc32(&array);
    for (lba, alternate, entries_lba) in [(1, total - 1, 2), (total - 1, 1, total - 2)] {
        let header = Header {
            my_lba: lba,
            alternate_lba: alternate,
            first_usable_lba: 3,
            last_usable_lba: total - 3,
            entries_lba,
            entry_count: COMPACT_ENTRIES,
            entry_size: 128,
            entries_crc,
            ..Header::standard(guid(0xD2, 0))
        };
        let at = disk.offset(lba);
        disk.bytes[at..at + 512].copy_from_slice(&header.encode(512));
        let at = disk.offset(entries_lba);
        disk.bytes[at..at + 512].copy_from_slice(&array);
    }
    disk
}

pub struct Disk {
    pub bytes: Vec<u8>,
    pub sector_size: u32,
}

impl Disk {
    /// [`layout`] with `count` two-sector partitions and 4 spare sectors.
    pub fn standard(sector_size: u32, count: u8) -> Disk {
        Disk::new(&layout(sector_size, count, 2, 4))
    }

    pub fn new(layout: &Layout) -> Disk {
        Disk {
            bytes: encode_image(layout).unwrap(),
            sector_size: layout.sector_size,
        }
    }

    pub fn last_lba(&self) -> u64 {
        self.bytes.len() as u64 / u64::from(self.sector_size) - 1
    }

    pub fn offset(&self, lba: u64) -> usize {
        (lba * u64::from(self.sector_size)) as usize
    }

    pub fn sector(&mut self, lba: u64) -> &mut [u8] {
        let at = self.offset(lba);
        &mut self.bytes[at..at + self.sector_size as usize]
    }

    pub fn header(&self, lba: u64) -> Header {
        Header::decode(&self.bytes[self.offset(lba)..]).unwrap()
    }

    /// Changes a header's fields and gives it a correct CRC again.
    pub fn patch_header(&mut self, lba: u64, change: impl FnOnce(&mut Header)) {
        let mut header = self.header(lba);
        change(&mut header);
        let at = self.offset(lba);
        let sector = header.encode(self.sector_size as usize);
        self.bytes[at..at + sector.len()].copy_from_slice(&sector);
    }

    /// Changes the entries of the header at `lba` (its array and its entries CRC).
    pub fn patch_entries_at(&mut self, lba: u64, change: impl Fn(&mut [Entry])) {
        let header = self.header(lba);
        let at = self.offset(header.entries_lba);
        let array = &mut self.bytes[at..at + (header.entry_count * header.entry_size) as usize];
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

    /// Changes both copies of the entries, with correct CRCs.
    pub fn patch_entries(&mut self, change: impl Fn(&mut [Entry])) {
        for lba in [1, self.last_lba()] {
            self.patch_entries_at(lba, &change);
        }
    }

    pub fn set_mbr_record(&mut self, slot: usize, record: MbrPartition) {
        let at = 446 + 16 * slot;
        self.bytes[at..at + 16].copy_from_slice(&record.encode());
    }

    pub fn read(&self) -> Report {
        read_bytes(&self.bytes, None).unwrap()
    }

    pub fn read_as(&self, sector_size: u32) -> Report {
        read_bytes(&self.bytes, Some(sector_size)).unwrap()
    }
}

/// The codes of a report's findings, in order.
pub fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code.as_str()).collect()
}

/// The message of the first finding with `code`.
pub fn message<'a>(report: &'a Report, code: &str) -> &'a str {
    let found = report.findings.iter().find(|f| f.code.as_str() == code);
    &found
        .unwrap_or_else(|| panic!("no {code} in {:#?}", report.findings))
        .message
}

/// A disk with only an MBR: `records` in slots 1 and up, `sectors` long.
pub fn mbr_disk(sectors: usize, records: &[MbrPartition]) -> Vec<u8> {
    let mut bytes = vec![0u8; sectors * 512];
    for (slot, record) in records.iter().enumerate() {
        bytes[446 + 16 * slot..462 + 16 * slot].copy_from_slice(&record.encode());
    }
    bytes[510..512].copy_from_slice(&[0x55, 0xAA]);
    bytes
}

pub fn mbr_record(
    os_type: u8,
    starting_lba: u32,
    size_in_lba: u32,
    bootable: bool,
) -> MbrPartition {
    MbrPartition {
        boot_indicator: if bootable { 0x80 } else { 0 },
        os_type,
        starting_lba,
        size_in_lba,
        ..MbrPartition::default()
    }
}
