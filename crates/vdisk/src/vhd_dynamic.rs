//! The dynamic VHD layout (spec "Dynamic Disk Header Format", "Block Allocation Table and
//! Data Blocks"): a footer copy at 0, the dynamic header at 512, the block allocation table
//! (BAT) at 1536, then a 2 MiB block for each 2 MiB of guest space that holds data, each
//! preceded by its sector bitmap, and the footer at the end.
//!
//! The spec does not require blocks to follow each other: each BAT entry says where its block
//! is. We put every block's sector bitmap in the last sector before a 4 KiB boundary, so that
//! the block's data starts 4 KiB-aligned, as its guest offset is, and copy_file_range can
//! reflink it from the raw image (the 3.5 KiB before each bitmap stay holes).

use crate::error::VdiskError;
use crate::identity::VhdIdentity;
use crate::placement::UnitPlacement;
use crate::ranges::{check_ranges, touched_units, unit_count, DataRange, UnitRun};
use crate::vhd::{checksum, encode_footer, DiskType, FOOTER_SIZE, SECTOR};

pub const BLOCK_SIZE: u64 = 2 << 20;
pub const DYNAMIC_HEADER_OFFSET: u64 = 512;
pub const DYNAMIC_HEADER_SIZE: usize = 1024;
pub const BAT_OFFSET: u64 = DYNAMIC_HEADER_OFFSET + DYNAMIC_HEADER_SIZE as u64;
/// One bit per sector of a block, padded to whole sectors: 4096 bits, one sector.
pub const BITMAP_SIZE: u64 = (BLOCK_SIZE / SECTOR / 8).next_multiple_of(SECTOR);
/// Host alignment of each block's data.
const DATA_ALIGNMENT: u64 = 4096;
/// From one block's data to the next: the block, then room for the next bitmap up to the
/// next 4 KiB boundary.
pub const BLOCK_STRIDE: u64 = BLOCK_SIZE + DATA_ALIGNMENT;
/// The spec's (and QEMU's) largest dynamic disk: 2040 GiB.
pub const MAX_SIZE: u64 = 2040 << 30;
const UNUSED_BAT_ENTRY: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhdDynamicPlan {
    pub virtual_size: u64,
    /// "Max Table Entries": one per 2 MiB of the disk.
    pub bat_entries: u64,
    /// Blocks that hold data, in guest order: the `k`-th allocated block's data is at
    /// `first_data_offset + k * BLOCK_STRIDE`, its bitmap in the sector before.
    pub block_runs: Vec<UnitRun>,
    pub first_data_offset: u64,
    pub identity: VhdIdentity,
    pub ranges: Vec<DataRange>,
}

impl VhdDynamicPlan {
    pub fn footer(&self) -> [u8; FOOTER_SIZE] {
        encode_footer(
            self.virtual_size,
            DiskType::Dynamic,
            Some(DYNAMIC_HEADER_OFFSET),
            &self.identity,
        )
    }

    pub fn dynamic_header(&self) -> [u8; DYNAMIC_HEADER_SIZE] {
        encode_dynamic_header(self.bat_entries)
    }

    pub fn allocated_blocks(&self) -> u64 {
        unit_count(&self.block_runs)
    }

    pub fn placement(&self) -> UnitPlacement {
        UnitPlacement {
            unit: BLOCK_SIZE,
            first_offset: self.first_data_offset,
            stride: BLOCK_STRIDE,
        }
    }

    /// Where the footer goes: after the last block, or after the BAT when no block is used.
    pub fn footer_offset(&self) -> u64 {
        match self.allocated_blocks() {
            0 => bat_end(self.bat_entries),
            blocks => self.first_data_offset + (blocks - 1) * BLOCK_STRIDE + BLOCK_SIZE,
        }
    }

    pub fn file_length(&self) -> u64 {
        self.footer_offset() + FOOTER_SIZE as u64
    }

    /// Encodes BAT entries `[first, first + count)` (4 bytes each, big-endian sector offsets
    /// of each block's bitmap, or 0xFFFFFFFF for blocks without data), walking the runs once.
    pub fn encode_bat(&self, first: u64, count: u64, cursor: &mut BatCursor) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(count as usize * 4);
        for block in first..first + count {
            while self
                .block_runs
                .get(cursor.run)
                .is_some_and(|run| run.end() <= block)
            {
                cursor.allocated_before += self.block_runs[cursor.run].count;
                cursor.run += 1;
            }
            let entry = match self.block_runs.get(cursor.run) {
                Some(run) if run.first <= block => {
                    let data = self.first_data_offset
                        + (cursor.allocated_before + block - run.first) * BLOCK_STRIDE;
                    ((data - BITMAP_SIZE) / SECTOR) as u32
                }
                _ => UNUSED_BAT_ENTRY,
            };
            bytes.extend_from_slice(&entry.to_be_bytes());
        }
        bytes
    }
}

/// Position in the block runs while encoding the BAT in order.
#[derive(Debug, Default)]
pub struct BatCursor {
    run: usize,
    allocated_before: u64,
}

/// The end of the BAT, padded to a sector as the spec requires.
fn bat_end(bat_entries: u64) -> u64 {
    BAT_OFFSET + (bat_entries * 4).next_multiple_of(SECTOR)
}

/// The bitmap of every allocated block: all sectors present. Sectors the raw image leaves
/// empty read as zeros from the block, which is what they hold.
pub fn encode_bitmap() -> Vec<u8> {
    vec![0xff; BITMAP_SIZE as usize]
}

/// Plans a dynamic VHD of `virtual_size` bytes (a multiple of 512, at most 2040 GiB).
pub fn plan_vhd_dynamic(
    virtual_size: u64,
    ranges: &[DataRange],
    identity: &VhdIdentity,
) -> Result<VhdDynamicPlan, VdiskError> {
    if virtual_size == 0 || !virtual_size.is_multiple_of(SECTOR) {
        return Err(VdiskError::VirtualSize(format!(
            "{virtual_size} bytes is not a positive multiple of 512 (a disk is whole sectors)"
        )));
    }
    if virtual_size > MAX_SIZE {
        return Err(VdiskError::VirtualSize(format!(
            "{virtual_size} bytes is more than a dynamic VHD can hold (2040 GiB)"
        )));
    }
    check_ranges(virtual_size, ranges)?;
    let bat_entries = virtual_size.div_ceil(BLOCK_SIZE);
    let block_runs = touched_units(ranges, BLOCK_SIZE);
    let first_data_offset = (bat_end(bat_entries) + BITMAP_SIZE).next_multiple_of(DATA_ALIGNMENT);
    Ok(VhdDynamicPlan {
        virtual_size,
        bat_entries,
        block_runs,
        first_data_offset,
        identity: *identity,
        ranges: ranges.to_vec(),
    })
}

/// The dynamic disk header (spec "Dynamic Disk Header Format"), big-endian; no parent.
pub fn encode_dynamic_header(bat_entries: u64) -> [u8; DYNAMIC_HEADER_SIZE] {
    let mut header = [0u8; DYNAMIC_HEADER_SIZE];
    let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, b"cxsparse");
    put(8, &u64::MAX.to_be_bytes()); // data offset: unused
    put(16, &BAT_OFFSET.to_be_bytes());
    put(24, &0x0001_0000u32.to_be_bytes()); // header version
    put(28, &(bat_entries as u32).to_be_bytes());
    put(32, &(BLOCK_SIZE as u32).to_be_bytes());
    // 40: parent UUID, 56: parent time stamp, 64: parent name, 576: parent locators: none.
    let sum = checksum(&header, 36);
    header[36..40].copy_from_slice(&sum.to_be_bytes());
    header
}

#[cfg(test)]
#[path = "vhd_dynamic_tests.rs"]
mod tests;
