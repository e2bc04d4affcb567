//! The VHD footer (Microsoft "Virtual Hard Disk Image Format Specification", "Hard Disk
//! Footer Format") and the fixed-disk layout: the raw bytes followed by the footer.

use crate::error::VdiskError;
use crate::identity::VhdIdentity;
use crate::ranges::{check_ranges, DataRange};

pub const SECTOR: u64 = 512;
pub const FOOTER_SIZE: usize = 512;
const MIB: u64 = 1 << 20;
/// "Data Offset" of a fixed disk: no dynamic header.
const NO_DATA_OFFSET: u64 = u64::MAX;
/// "Features": bit 1 ("reserved") must always be set.
const FEATURES_RESERVED: u32 = 0x0000_0002;
const FORMAT_VERSION: u32 = 0x0001_0000;
/// "Creator Application". The field is informative to Hyper-V and Azure, which size the disk
/// by "Current Size"; QEMU however sizes VHDs of unknown creators by their CHS geometry, which
/// is smaller than the disk for most sizes (the geometry rounds down), and uses Current Size
/// only for the creators it lists as doing so, "qem2" being its own mark for that. We write
/// "qem2" so that QEMU sees the whole disk, as Azure does.
const CREATOR_APPLICATION: [u8; 4] = *b"qem2";
/// "Creator Version": major.minor of imgforge, 16 bits each.
const CREATOR_VERSION: u32 = 0x0000_0001;
/// "Creator Host OS": the spec defines only Windows ("Wi2k") and Macintosh ("Mac ").
const CREATOR_HOST_OS: [u8; 4] = *b"Wi2k";

/// "Disk Type".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskType {
    Fixed = 2,
    Dynamic = 3,
}

/// Cylinders, heads, sectors per track, as the spec's appendix computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub cylinders: u16,
    pub heads: u8,
    pub sectors_per_track: u8,
}

/// The spec's "CHS Calculation" (appendix), on the disk's size in sectors: capped at
/// 65535 x 16 x 255, and rounding down otherwise.
pub fn geometry(total_sectors: u64) -> Geometry {
    let total = total_sectors.min(65535 * 16 * 255);
    let (sectors_per_track, heads, cylinder_times_heads);
    if total >= 65535 * 16 * 63 {
        sectors_per_track = 255;
        heads = 16;
        cylinder_times_heads = total / sectors_per_track;
    } else {
        let mut spt = 17;
        let mut cth = total / spt;
        let mut h = cth.div_ceil(1024).max(4);
        if cth >= h * 1024 || h > 16 {
            spt = 31;
            h = 16;
            cth = total / spt;
        }
        if cth >= h * 1024 {
            spt = 63;
            h = 16;
            cth = total / spt;
        }
        (sectors_per_track, heads, cylinder_times_heads) = (spt, h, cth);
    }
    Geometry {
        cylinders: (cylinder_times_heads / heads) as u16,
        heads: heads as u8,
        sectors_per_track: sectors_per_track as u8,
    }
}

/// The spec's checksum: the one's complement of the sum of all bytes, with the checksum field
/// itself counted as zero.
pub fn checksum(bytes: &[u8], checksum_at: usize) -> u32 {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|(at, _)| !(checksum_at..checksum_at + 4).contains(at))
        .fold(0u32, |sum, (_, &byte)| sum.wrapping_add(byte as u32));
    !sum
}

/// The 512-byte footer of a disk of `size` bytes. `data_offset` is the dynamic header's
/// offset (dynamic disks) or None (fixed).
pub fn encode_footer(
    size: u64,
    disk_type: DiskType,
    data_offset: Option<u64>,
    identity: &VhdIdentity,
) -> [u8; FOOTER_SIZE] {
    let mut footer = [0u8; FOOTER_SIZE];
    let mut put = |at: usize, bytes: &[u8]| footer[at..at + bytes.len()].copy_from_slice(bytes);
    let geometry = geometry(size / SECTOR);
    put(0, b"conectix");
    put(8, &FEATURES_RESERVED.to_be_bytes());
    put(12, &FORMAT_VERSION.to_be_bytes());
    put(16, &data_offset.unwrap_or(NO_DATA_OFFSET).to_be_bytes());
    put(24, &identity.timestamp.to_be_bytes());
    put(28, &CREATOR_APPLICATION);
    put(32, &CREATOR_VERSION.to_be_bytes());
    put(36, &CREATOR_HOST_OS);
    put(40, &size.to_be_bytes()); // original size
    put(48, &size.to_be_bytes()); // current size
    put(56, &geometry.cylinders.to_be_bytes());
    put(58, &[geometry.heads, geometry.sectors_per_track]);
    put(60, &(disk_type as u32).to_be_bytes());
    put(68, &identity.unique_id);
    // 84: saved state 0; 85..512 reserved zeros.
    let sum = checksum(&footer, 64);
    footer[64..68].copy_from_slice(&sum.to_be_bytes());
    footer
}

/// A fixed VHD: the raw image's data ranges at their own offsets, the footer after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhdFixedPlan {
    pub virtual_size: u64,
    pub identity: VhdIdentity,
    pub ranges: Vec<DataRange>,
}

impl VhdFixedPlan {
    pub fn footer(&self) -> [u8; FOOTER_SIZE] {
        encode_footer(self.virtual_size, DiskType::Fixed, None, &self.identity)
    }

    pub fn file_length(&self) -> u64 {
        self.virtual_size + FOOTER_SIZE as u64
    }
}

/// Plans a fixed VHD. Azure accepts only whole MiB, so the virtual size must be one.
pub fn plan_vhd_fixed(
    virtual_size: u64,
    ranges: &[DataRange],
    identity: &VhdIdentity,
) -> Result<VhdFixedPlan, VdiskError> {
    if virtual_size == 0 || !virtual_size.is_multiple_of(MIB) {
        return Err(VdiskError::VirtualSize(format!(
            "a fixed VHD must be a whole number of MiB (Azure requires it), and {virtual_size} bytes is not: make the disk {} MiB",
            virtual_size.div_ceil(MIB).max(1)
        )));
    }
    check_ranges(virtual_size, ranges)?;
    Ok(VhdFixedPlan {
        virtual_size,
        identity: *identity,
        ranges: ranges.to_vec(),
    })
}

#[cfg(test)]
#[path = "vhd_tests.rs"]
mod tests;
