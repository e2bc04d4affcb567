//! On-disk constants and field offsets of the protective MBR, the GPT header and the partition
//! entry (UEFI 2.10, sections 5.2 and 5.3), with the little-endian accessors both the encoder
//! and the reader use.

/// "EFI PART", the first 8 bytes of a GPT header.
pub const GPT_SIGNATURE: [u8; 8] = *b"EFI PART";
/// Revision 1.0, the only one UEFI has defined.
pub const GPT_REVISION: u32 = 0x0001_0000;
/// Bytes of the header that are defined (and covered by its CRC); the rest of the sector is
/// reserved and zero.
pub const GPT_HEADER_SIZE: u32 = 92;
/// The entry count and size every common tool writes (16 KiB of entries).
pub const GPT_ENTRY_COUNT: u32 = 128;
pub const GPT_ENTRY_SIZE: u32 = 128;
/// UTF-16 code units of a partition name.
pub const GPT_NAME_UNITS: usize = 36;
/// The smallest entry array UEFI allows, in bytes: the reason first usable LBA is at least 34
/// with 512-byte sectors.
pub const GPT_MIN_ENTRY_ARRAY_BYTES: u64 = 16384;

/// Header fields (byte offsets inside the header sector).
pub mod header {
    pub const SIGNATURE: usize = 0;
    pub const REVISION: usize = 8;
    pub const HEADER_SIZE: usize = 12;
    pub const HEADER_CRC: usize = 16;
    pub const RESERVED: usize = 20;
    pub const MY_LBA: usize = 24;
    pub const ALTERNATE_LBA: usize = 32;
    pub const FIRST_USABLE_LBA: usize = 40;
    pub const LAST_USABLE_LBA: usize = 48;
    pub const DISK_GUID: usize = 56;
    pub const ENTRIES_LBA: usize = 72;
    pub const ENTRY_COUNT: usize = 80;
    pub const ENTRY_SIZE: usize = 84;
    pub const ENTRIES_CRC: usize = 88;
}

/// Partition entry fields (byte offsets inside one entry).
pub mod entry {
    pub const TYPE_GUID: usize = 0;
    pub const UNIQUE_GUID: usize = 16;
    pub const FIRST_LBA: usize = 32;
    pub const LAST_LBA: usize = 40;
    pub const ATTRIBUTES: usize = 48;
    pub const NAME: usize = 56;
}

/// The MBR in LBA 0 (its first 512 bytes, whatever the sector size).
pub mod mbr {
    pub const SIZE: usize = 512;
    /// The four 16-byte partition records.
    pub const PARTITIONS: usize = 446;
    pub const PARTITION_SIZE: usize = 16;
    pub const SIGNATURE: usize = 510;
    pub const SIGNATURE_BYTES: [u8; 2] = [0x55, 0xAA];
    /// The type byte of the partition that protects a GPT disk.
    pub const GPT_PROTECTIVE_TYPE: u8 = 0xEE;
    /// Boot indicator values; anything else means the sector is not an MBR.
    pub const NOT_BOOTABLE: u8 = 0x00;
    pub const BOOTABLE: u8 = 0x80;

    /// Offsets inside one partition record.
    pub const BOOT_INDICATOR: usize = 0;
    pub const START_CHS: usize = 1;
    pub const OS_TYPE: usize = 4;
    pub const END_CHS: usize = 5;
    pub const STARTING_LBA: usize = 8;
    pub const SIZE_IN_LBA: usize = 12;
}

/// Little-endian reads that cannot panic: a field cut off by the end of `bytes` reads as None.
pub fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Writes into a buffer the caller sized for the structure; a field past its end is a bug in
/// this crate, hence the panic.
pub fn write_bytes(target: &mut [u8], at: usize, bytes: &[u8]) {
    target[at..at + bytes.len()].copy_from_slice(bytes);
}

pub fn write_u32(target: &mut [u8], at: usize, value: u32) {
    write_bytes(target, at, &value.to_le_bytes());
}

pub fn write_u64(target: &mut [u8], at: usize, value: u64) {
    write_bytes(target, at, &value.to_le_bytes());
}

/// Sectors one copy of an entry array of `bytes` takes.
pub fn sectors_for(bytes: u64, sector_size: u32) -> u64 {
    bytes.div_ceil(u64::from(sector_size.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_little_endian_and_bounded() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(read_u16(&bytes, 0), Some(0x0201));
        assert_eq!(read_u32(&bytes, 1), Some(0x0504_0302));
        assert_eq!(read_u64(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(read_u64(&bytes, 2), None);
        assert_eq!(read_u32(&bytes, usize::MAX - 1), None);
        assert_eq!(read_u16(&[], 0), None);
    }

    #[test]
    fn writes_are_little_endian() {
        let mut bytes = [0u8; 12];
        write_u32(&mut bytes, 0, 0x0102_0304);
        write_u64(&mut bytes, 4, 0x0A0B_0C0D_0E0F_1011);
        assert_eq!(
            bytes,
            [4, 3, 2, 1, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A]
        );
    }

    #[test]
    fn entry_array_sectors() {
        assert_eq!(sectors_for(16384, 512), 32);
        assert_eq!(sectors_for(16384, 4096), 4);
        assert_eq!(sectors_for(16385, 4096), 5);
        assert_eq!(sectors_for(0, 512), 0);
        assert_eq!(sectors_for(u64::MAX, 512), u64::MAX / 512 + 1);
    }

    #[test]
    fn header_fields_end_at_the_header_size() {
        assert_eq!(header::ENTRIES_CRC + 4, GPT_HEADER_SIZE as usize);
        assert_eq!(entry::NAME + 2 * GPT_NAME_UNITS, GPT_ENTRY_SIZE as usize);
        assert_eq!(mbr::PARTITIONS + 4 * mbr::PARTITION_SIZE, mbr::SIGNATURE);
    }
}
