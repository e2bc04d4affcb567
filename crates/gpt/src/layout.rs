//! The disk as planned: what the encoder encodes and the checks check.

use crate::format::{sectors_for, GPT_ENTRY_COUNT, GPT_ENTRY_SIZE};
use crate::guid::Guid;

/// The disk as planned: geometry, usable range and partitions. `disk_size` and `total_sectors`
/// say the same thing twice so that a caller's arithmetic mistake is refused, not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// 512 or 4096.
    pub sector_size: u32,
    /// Bytes.
    pub disk_size: u64,
    pub total_sectors: u64,
    pub disk_guid: Guid,
    pub first_usable_lba: u64,
    pub last_usable_lba: u64,
    pub partitions: Vec<LayoutPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutPartition {
    /// 1-based entry number: the partition's slot in the entry array (1 to 128).
    pub index: u32,
    /// UTF-16 code units (at most 36), as GPT stores them; JavaScript strings are exactly these.
    pub name: Vec<u16>,
    pub type_guid: Guid,
    pub guid: Guid,
    pub attributes: u64,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
}

/// Sectors one copy of the standard entry array takes: 32 with 512-byte sectors, 4 with 4096.
pub fn entry_array_sectors(sector_size: u32) -> u64 {
    sectors_for(u64::from(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE), sector_size)
}
