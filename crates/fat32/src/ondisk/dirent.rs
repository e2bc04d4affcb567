//! The 32-byte directory entry. A short (8.3) entry describes a file, a directory or the
//! volume label; long-name entries (see `names`) share the layout's size and attribute byte.

use super::{le16, le32, put16, put32};

pub(crate) const ENTRY_BYTES: usize = 32;

pub(crate) const ATTR_READ_ONLY: u8 = 0x01;
pub(crate) const ATTR_HIDDEN: u8 = 0x02;
pub(crate) const ATTR_SYSTEM: u8 = 0x04;
pub(crate) const ATTR_VOLUME_ID: u8 = 0x08;
pub(crate) const ATTR_DIRECTORY: u8 = 0x10;
pub(crate) const ATTR_ARCHIVE: u8 = 0x20;
/// Long-name entries carry exactly these four bits (of the low six).
pub(crate) const ATTR_LONG_NAME: u8 = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_VOLUME_ID;
pub(crate) const ATTR_LONG_NAME_MASK: u8 = 0x3F;

/// First name byte of the entry that ends a directory: it and every entry after it are free.
pub(crate) const END_OF_DIRECTORY: u8 = 0x00;
/// First name byte of a deleted entry.
pub(crate) const DELETED: u8 = 0xE5;
/// Stored as the first name byte when the name really starts with 0xE5 (a KANJI lead byte).
pub(crate) const ESCAPED_E5: u8 = 0x05;

/// Case flags (byte 12, set by Windows NT and Linux): the base or the extension is lower case
/// although the stored short name is upper case, so no long name was needed.
pub(crate) const LOWER_CASE_BASE: u8 = 0x08;
pub(crate) const LOWER_CASE_EXTENSION: u8 = 0x10;

pub(crate) const DOT: &[u8; 11] = b".          ";
pub(crate) const DOT_DOT: &[u8; 11] = b"..         ";

/// Byte offsets inside a short entry.
pub(crate) mod offset {
    pub(crate) const NAME: usize = 0;
    pub(crate) const ATTRIBUTES: usize = 11;
    pub(crate) const CASE_FLAGS: usize = 12;
    pub(crate) const CREATE_TENTHS: usize = 13;
    pub(crate) const CREATE_TIME: usize = 14;
    pub(crate) const CREATE_DATE: usize = 16;
    pub(crate) const ACCESS_DATE: usize = 18;
    pub(crate) const FIRST_CLUSTER_HIGH: usize = 20;
    pub(crate) const WRITE_TIME: usize = 22;
    pub(crate) const WRITE_DATE: usize = 24;
    pub(crate) const FIRST_CLUSTER_LOW: usize = 26;
    pub(crate) const SIZE: usize = 28;
}

/// A short directory entry, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ShortEntry {
    /// 8 + 3 bytes, space padded, exactly as stored (0xE5 escaped as 0x05).
    pub name: [u8; 11],
    pub attributes: u8,
    pub case_flags: u8,
    /// Creation time's 10-millisecond units (0-199).
    pub create_tenths: u8,
    pub create_time: u16,
    pub create_date: u16,
    pub access_date: u16,
    pub first_cluster: u32,
    pub write_time: u16,
    pub write_date: u16,
    pub size: u32,
}

impl ShortEntry {
    pub(crate) fn encode(&self) -> [u8; ENTRY_BYTES] {
        use offset::*;
        let mut e = [0u8; ENTRY_BYTES];
        e[NAME..NAME + 11].copy_from_slice(&self.name);
        e[ATTRIBUTES] = self.attributes;
        e[CASE_FLAGS] = self.case_flags;
        e[CREATE_TENTHS] = self.create_tenths;
        put16(&mut e, CREATE_TIME, self.create_time);
        put16(&mut e, CREATE_DATE, self.create_date);
        put16(&mut e, ACCESS_DATE, self.access_date);
        put16(
            &mut e,
            FIRST_CLUSTER_HIGH,
            (self.first_cluster >> 16) as u16,
        );
        put16(&mut e, WRITE_TIME, self.write_time);
        put16(&mut e, WRITE_DATE, self.write_date);
        put16(&mut e, FIRST_CLUSTER_LOW, self.first_cluster as u16);
        put32(&mut e, SIZE, self.size);
        e
    }

    pub(crate) fn parse(e: &[u8; ENTRY_BYTES]) -> ShortEntry {
        use offset::*;
        let mut name = [0u8; 11];
        name.copy_from_slice(&e[NAME..NAME + 11]);
        ShortEntry {
            name,
            attributes: e[ATTRIBUTES],
            case_flags: e[CASE_FLAGS],
            create_tenths: e[CREATE_TENTHS],
            create_time: le16(e, CREATE_TIME),
            create_date: le16(e, CREATE_DATE),
            access_date: le16(e, ACCESS_DATE),
            first_cluster: u32::from(le16(e, FIRST_CLUSTER_HIGH)) << 16
                | u32::from(le16(e, FIRST_CLUSTER_LOW)),
            write_time: le16(e, WRITE_TIME),
            write_date: le16(e, WRITE_DATE),
            size: le32(e, SIZE),
        }
    }
}

/// Whether a raw entry (not free, not deleted) is a long-name entry rather than a short one.
pub(crate) fn is_long_name_entry(e: &[u8; ENTRY_BYTES]) -> bool {
    e[offset::ATTRIBUTES] & ATTR_LONG_NAME_MASK == ATTR_LONG_NAME
}

#[cfg(test)]
#[path = "dirent_tests.rs"]
mod tests;
