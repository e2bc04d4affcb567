//! The 32-byte directory entry. A short (8.3) entry describes a file, a directory or the
//! volume label; long-name entries (see `names`) share the layout's size and attribute byte.

use super::{le16, le32, put16, put32};

pub const ENTRY_BYTES: usize = 32;

pub const ATTR_READ_ONLY: u8 = 0x01;
pub const ATTR_HIDDEN: u8 = 0x02;
pub const ATTR_SYSTEM: u8 = 0x04;
pub const ATTR_VOLUME_ID: u8 = 0x08;
pub const ATTR_DIRECTORY: u8 = 0x10;
pub const ATTR_ARCHIVE: u8 = 0x20;
/// Long-name entries carry exactly these four bits (of the low six).
pub const ATTR_LONG_NAME: u8 = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM | ATTR_VOLUME_ID;
pub const ATTR_LONG_NAME_MASK: u8 = 0x3F;

/// First name byte of the entry that ends a directory: it and every entry after it are free.
pub const END_OF_DIRECTORY: u8 = 0x00;
/// First name byte of a deleted entry.
pub const DELETED: u8 = 0xE5;
/// Stored as the first name byte when the name really starts with 0xE5 (a KANJI lead byte).
pub const ESCAPED_E5: u8 = 0x05;

/// Case flags (byte 12, set by Windows NT and Linux): the base or the extension is lower case
/// although the stored short name is upper case, so no long name was needed.
pub const LOWER_CASE_BASE: u8 = 0x08;
pub const LOWER_CASE_EXTENSION: u8 = 0x10;

pub const DOT: &[u8; 11] = b".          ";
pub const DOT_DOT: &[u8; 11] = b"..         ";

/// Byte offsets inside a short entry.
pub mod offset {
    pub const NAME: usize = 0;
    pub const ATTRIBUTES: usize = 11;
    pub const CASE_FLAGS: usize = 12;
    pub const CREATE_TENTHS: usize = 13;
    pub const CREATE_TIME: usize = 14;
    pub const CREATE_DATE: usize = 16;
    pub const ACCESS_DATE: usize = 18;
    pub const FIRST_CLUSTER_HIGH: usize = 20;
    pub const WRITE_TIME: usize = 22;
    pub const WRITE_DATE: usize = 24;
    pub const FIRST_CLUSTER_LOW: usize = 26;
    pub const SIZE: usize = 28;
}

/// A short directory entry, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShortEntry {
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
    pub fn encode(&self) -> [u8; ENTRY_BYTES] {
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

    pub fn parse(e: &[u8; ENTRY_BYTES]) -> ShortEntry {
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
pub fn is_long_name_entry(e: &[u8; ENTRY_BYTES]) -> bool {
    e[offset::ATTRIBUTES] & ATTR_LONG_NAME_MASK == ATTR_LONG_NAME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_entries_round_trip_with_the_cluster_split_in_two_halves() {
        let entry = ShortEntry {
            name: *b"KERNEL  EFI",
            attributes: ATTR_ARCHIVE,
            case_flags: LOWER_CASE_BASE,
            create_tenths: 150,
            create_time: 0x1234,
            create_date: 0x5678,
            access_date: 0x9ABC,
            first_cluster: 0x0FED_CBA9,
            write_time: 0x1111,
            write_date: 0x2222,
            size: 0xFFFF_FFFF,
        };
        let bytes = entry.encode();
        assert_eq!(le16(&bytes, 20), 0x0FED);
        assert_eq!(le16(&bytes, 26), 0xCBA9);
        assert_eq!(ShortEntry::parse(&bytes), entry);
        assert!(!is_long_name_entry(&bytes));
    }

    #[test]
    fn long_name_entries_are_told_by_their_low_six_attribute_bits() {
        let mut e = [0u8; ENTRY_BYTES];
        e[11] = 0x0F;
        assert!(is_long_name_entry(&e));
        e[11] = 0xCF; // the top two bits are reserved and ignored
        assert!(is_long_name_entry(&e));
        e[11] = 0x1F; // directory | the four LFN bits: not a long name
        assert!(!is_long_name_entry(&e));
    }
}
