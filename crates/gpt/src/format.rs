//! On-disk constants and field offsets of the protective MBR, the GPT header and the partition
//! entry (UEFI 2.10, sections 5.2 and 5.3), with the little-endian accessors both the encoder
//! and the reader use.

/// "EFI PART", the first 8 bytes of a GPT header.
pub(crate) const GPT_SIGNATURE: [u8; 8] = *b"EFI PART";
/// Revision 1.0, the only one UEFI has defined.
pub(crate) const GPT_REVISION: u32 = 0x0001_0000;
/// Bytes of the header that are defined (and covered by its CRC); the rest of the sector is
/// reserved and zero.
pub(crate) const GPT_HEADER_SIZE: u32 = 92;
/// The entry count and size every common tool writes (16 KiB of entries, the smallest array
/// UEFI allows: the reason first usable LBA is at least 34 with 512-byte sectors).
pub(crate) const GPT_ENTRY_COUNT: u32 = 128;
pub(crate) const GPT_ENTRY_SIZE: u32 = 128;
/// UTF-16 code units of a partition name.
pub(crate) const GPT_NAME_UNITS: usize = 36;

/// Header fields (byte offsets inside the header sector).
pub(crate) mod header {
    pub(crate) const SIGNATURE: usize = 0;
    pub(crate) const REVISION: usize = 8;
    pub(crate) const HEADER_SIZE: usize = 12;
    pub(crate) const HEADER_CRC: usize = 16;
    // 20..24: reserved, zero.
    pub(crate) const MY_LBA: usize = 24;
    pub(crate) const ALTERNATE_LBA: usize = 32;
    pub(crate) const FIRST_USABLE_LBA: usize = 40;
    pub(crate) const LAST_USABLE_LBA: usize = 48;
    pub(crate) const DISK_GUID: usize = 56;
    pub(crate) const ENTRIES_LBA: usize = 72;
    pub(crate) const ENTRY_COUNT: usize = 80;
    pub(crate) const ENTRY_SIZE: usize = 84;
    pub(crate) const ENTRIES_CRC: usize = 88;
}

/// Partition entry fields (byte offsets inside one entry).
pub(crate) mod entry {
    pub(crate) const TYPE_GUID: usize = 0;
    pub(crate) const UNIQUE_GUID: usize = 16;
    pub(crate) const FIRST_LBA: usize = 32;
    pub(crate) const LAST_LBA: usize = 40;
    pub(crate) const ATTRIBUTES: usize = 48;
    pub(crate) const NAME: usize = 56;
}

/// The MBR in LBA 0 (its first 512 bytes, whatever the sector size).
pub(crate) mod mbr {
    pub(crate) const SIZE: usize = 512;
    /// Boot code fills the sector up to the disk signature.
    pub(crate) const BOOT_CODE_SIZE: usize = 440;
    /// The 32-bit disk signature (Windows and Linux's PARTUUID prefix), then two zero bytes.
    pub(crate) const DISK_ID: usize = 440;
    /// The four 16-byte partition records.
    pub(crate) const PARTITIONS: usize = 446;
    pub(crate) const PARTITION_SIZE: usize = 16;
    pub(crate) const SIGNATURE: usize = 510;
    pub(crate) const SIGNATURE_BYTES: [u8; 2] = [0x55, 0xAA];
    /// The type byte of the partition that protects a GPT disk.
    pub(crate) const GPT_PROTECTIVE_TYPE: u8 = 0xEE;
    /// Boot indicator values; anything else means the sector is not an MBR.
    pub(crate) const NOT_BOOTABLE: u8 = 0x00;
    pub(crate) const BOOTABLE: u8 = 0x80;
    /// Extended partition types: CHS (0x05), LBA (0x0F) and Linux's (0x85). An extended record
    /// points at the first EBR of a chain of logical partitions.
    pub(crate) const EXTENDED_TYPES: [u8; 3] = [0x05, 0x0F, 0x85];
    /// The type imgforge writes for the primary extended record (LBA addressing, as fdisk and
    /// genimage write) and for the links between EBRs.
    pub(crate) const EXTENDED_LBA_TYPE: u8 = 0x0F;
    pub(crate) const EXTENDED_LINK_TYPE: u8 = 0x05;
    /// Sectors a record can address: its start and size are 32-bit sector counts.
    pub(crate) const MAX_SECTORS: u64 = 1 << 32;
    /// Records a hybrid MBR mirrors from the GPT: the fourth record is the 0xEE one.
    pub(crate) const HYBRID_MAX_MIRRORED: usize = 3;
    /// Logical partitions imgforge writes (and EBRs the reader follows) in one chain.
    pub(crate) const MAX_LOGICAL_PARTITIONS: usize = 124;

    /// Offsets inside one partition record.
    pub(crate) const BOOT_INDICATOR: usize = 0;
    pub(crate) const START_CHS: usize = 1;
    pub(crate) const OS_TYPE: usize = 4;
    pub(crate) const END_CHS: usize = 5;
    pub(crate) const STARTING_LBA: usize = 8;
    pub(crate) const SIZE_IN_LBA: usize = 12;
}

/// Little-endian reads that cannot panic: a field cut off by the end of `bytes` reads as None.
pub(crate) fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(crate) fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Writes into a buffer the caller sized for the structure; a field past its end is a bug in
/// this crate, hence the panic.
pub(crate) fn write_bytes(target: &mut [u8], at: usize, bytes: &[u8]) {
    target[at..at + bytes.len()].copy_from_slice(bytes);
}

pub(crate) fn write_u32(target: &mut [u8], at: usize, value: u32) {
    write_bytes(target, at, &value.to_le_bytes());
}

pub(crate) fn write_u64(target: &mut [u8], at: usize, value: u64) {
    write_bytes(target, at, &value.to_le_bytes());
}

/// Sectors one copy of an entry array of `bytes` takes.
pub(crate) fn sectors_for(bytes: u64, sector_size: u32) -> u64 {
    bytes.div_ceil(u64::from(sector_size.max(1)))
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
