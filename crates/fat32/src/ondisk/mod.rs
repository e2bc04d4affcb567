//! FAT32's on-disk structures, defined once for the writer (which encodes them) and the reader
//! (which parses them): the boot sector and FSInfo, FAT entries, directory entries and FAT
//! timestamps. Long-name entries live in `names`, next to the rest of the naming rules.
//! Nothing here does I/O.

pub(crate) mod boot;
pub(crate) mod dirent;
pub(crate) mod fat_entry;
pub(crate) mod time;

pub(crate) fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

pub(crate) fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

pub(crate) fn put16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

pub(crate) fn put32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
