//! The GPT header: one sector at LBA 1 (primary) and one at the last LBA (backup).

use crate::crc32::crc32;
use crate::format::{header as at, read_u32, read_u64, write_bytes, write_u32, write_u64};
use crate::format::{GPT_HEADER_SIZE, GPT_REVISION, GPT_SIGNATURE};
use crate::guid::Guid;

/// The fields of a GPT header, except the signature and the header's own CRC, which only exist
/// to be checked (see `header_crc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub revision: u32,
    /// Bytes covered by the header CRC (92 for revision 1.0).
    pub header_size: u32,
    /// The LBA this header is stored at.
    pub my_lba: u64,
    /// The LBA of the other header.
    pub alternate_lba: u64,
    pub first_usable_lba: u64,
    pub last_usable_lba: u64,
    pub disk_guid: Guid,
    /// First LBA of this header's copy of the entry array.
    pub entries_lba: u64,
    pub entry_count: u32,
    pub entry_size: u32,
    /// CRC-32 of the `entry_count * entry_size` bytes of the entry array.
    pub entries_crc: u32,
}

impl Header {
    /// The sector holding this header: signature, fields, header CRC over `header_size` bytes,
    /// zero elsewhere. `header_size` must be between 92 and `sector_size`.
    pub fn encode(&self, sector_size: usize) -> Vec<u8> {
        let mut sector = vec![0u8; sector_size];
        write_bytes(&mut sector, at::SIGNATURE, &GPT_SIGNATURE);
        write_u32(&mut sector, at::REVISION, self.revision);
        write_u32(&mut sector, at::HEADER_SIZE, self.header_size);
        write_u64(&mut sector, at::MY_LBA, self.my_lba);
        write_u64(&mut sector, at::ALTERNATE_LBA, self.alternate_lba);
        write_u64(&mut sector, at::FIRST_USABLE_LBA, self.first_usable_lba);
        write_u64(&mut sector, at::LAST_USABLE_LBA, self.last_usable_lba);
        write_bytes(&mut sector, at::DISK_GUID, &self.disk_guid.to_bytes());
        write_u64(&mut sector, at::ENTRIES_LBA, self.entries_lba);
        write_u32(&mut sector, at::ENTRY_COUNT, self.entry_count);
        write_u32(&mut sector, at::ENTRY_SIZE, self.entry_size);
        write_u32(&mut sector, at::ENTRIES_CRC, self.entries_crc);
        let crc = header_crc(&sector, self.header_size).expect("header_size fits the sector");
        write_u32(&mut sector, at::HEADER_CRC, crc);
        sector
    }

    /// The fields of a header sector, whatever their values; None when `sector` is shorter than
    /// the 92 defined bytes. The signature is not checked here (see `has_signature`).
    pub fn decode(sector: &[u8]) -> Option<Header> {
        Some(Header {
            revision: read_u32(sector, at::REVISION)?,
            header_size: read_u32(sector, at::HEADER_SIZE)?,
            my_lba: read_u64(sector, at::MY_LBA)?,
            alternate_lba: read_u64(sector, at::ALTERNATE_LBA)?,
            first_usable_lba: read_u64(sector, at::FIRST_USABLE_LBA)?,
            last_usable_lba: read_u64(sector, at::LAST_USABLE_LBA)?,
            disk_guid: Guid::read(sector.get(at::DISK_GUID..)?)?,
            entries_lba: read_u64(sector, at::ENTRIES_LBA)?,
            entry_count: read_u32(sector, at::ENTRY_COUNT)?,
            entry_size: read_u32(sector, at::ENTRY_SIZE)?,
            entries_crc: read_u32(sector, at::ENTRIES_CRC)?,
        })
    }

    /// A revision 1.0 header of the standard size; the placement fields are the caller's.
    pub fn standard(disk_guid: Guid) -> Header {
        Header {
            revision: GPT_REVISION,
            header_size: GPT_HEADER_SIZE,
            my_lba: 0,
            alternate_lba: 0,
            first_usable_lba: 0,
            last_usable_lba: 0,
            disk_guid,
            entries_lba: 0,
            entry_count: 0,
            entry_size: 0,
            entries_crc: 0,
        }
    }
}

/// True when `sector` starts with "EFI PART".
pub(crate) fn has_signature(sector: &[u8]) -> bool {
    sector.starts_with(&GPT_SIGNATURE)
}

/// The header CRC stored in `sector`.
pub(crate) fn stored_header_crc(sector: &[u8]) -> Option<u32> {
    read_u32(sector, at::HEADER_CRC)
}

/// The CRC the header in `sector` should carry: over its first `header_size` bytes with the CRC
/// field taken as zero. None when `header_size` is too small to hold the field or larger than
/// the sector.
pub(crate) fn header_crc(sector: &[u8], header_size: u32) -> Option<u32> {
    let size = usize::try_from(header_size).ok()?;
    if size < at::HEADER_CRC + 4 {
        return None;
    }
    let mut covered = sector.get(..size)?.to_vec();
    covered[at::HEADER_CRC..at::HEADER_CRC + 4].fill(0);
    Some(crc32(&covered))
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
