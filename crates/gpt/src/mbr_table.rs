//! Encodes MBR (DOS) partition tables: a plain MBR with up to four primary records, one of them
//! possibly an extended partition holding a chain of EBRs (one per logical partition), and the
//! hybrid MBR of a GPT disk. Pure: no I/O. The on-disk format follows the IBM PC MBR as fdisk,
//! sfdisk and the Linux kernel (block/partitions/msdos.c) read it:
//!
//! - LBA 0: boot code (bytes 0-439), disk signature (440-443), four 16-byte records from 446,
//!   0x55AA at 510;
//! - an EBR has the same layout without code; its first record is the logical partition
//!   (start relative to the EBR), its second the link to the next EBR (start relative to the
//!   extended partition, size from that EBR to the end of its logical partition), as fdisk
//!   writes them.

use crate::encode::{encode_gpt, Region};
use crate::format::mbr::{
    BOOTABLE, BOOT_CODE_SIZE, EXTENDED_LBA_TYPE, EXTENDED_LINK_TYPE, GPT_PROTECTIVE_TYPE,
    NOT_BOOTABLE,
};
use crate::layout::Layout;
use crate::mbr::{chs, Mbr, MbrPartition};

use crate::mbr_error::MbrEncodeError;

/// Sectors an MBR record can address: its start and size are 32-bit sector counts.
pub const MBR_MAX_SECTORS: u64 = crate::format::mbr::MAX_SECTORS;
/// Records a hybrid MBR mirrors from the GPT: the fourth record is the 0xEE one.
pub const HYBRID_MAX_MIRRORED: usize = crate::format::mbr::HYBRID_MAX_MIRRORED;
/// Logical partitions imgforge writes (and the reader follows) in one EBR chain.
pub const MAX_LOGICAL_PARTITIONS: usize = crate::format::mbr::MAX_LOGICAL_PARTITIONS;

/// A planned MBR disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MbrLayout {
    /// 512 or 4096; LBAs (and the 2^32-sector limit) count in these.
    pub sector_size: u32,
    pub disk_size: u64,
    pub total_sectors: u64,
    pub disk_id: u32,
    /// At most 440 bytes, written from byte 0 of LBA 0 (the rest of the code area is zero).
    pub boot_code: Vec<u8>,
    /// The record (1 to 4) of the extended partition, when there are logical partitions.
    pub extended_slot: Option<u32>,
    pub partitions: Vec<MbrLayoutPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MbrLayoutPartition {
    /// The record (1 to 4) of a primary partition; 5 and up for logical ones, in disk order
    /// (the numbers Linux gives them).
    pub index: u32,
    /// For error messages: MBR has no names.
    pub name: String,
    pub os_type: u8,
    pub bootable: bool,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
    /// A logical partition's EBR, before its first LBA; None for primary ones.
    pub ebr_lba: Option<u64>,
}

/// What a hybrid MBR mirrors of a GPT layout: the GPT's partitions by entry number, with the
/// MBR type and active flag each gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridMbr {
    pub disk_id: u32,
    pub boot_code: Vec<u8>,
    pub mirrored: Vec<HybridPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridPartition {
    /// The GPT entry number of the mirrored partition.
    pub gpt_index: u32,
    pub os_type: u8,
    pub bootable: bool,
}

fn is_extended(os_type: u8) -> bool {
    crate::format::mbr::EXTENDED_TYPES.contains(&os_type)
}

/// The record of `os_type` over LBAs `first..=last` (checked to fit 32 bits), its start
/// written relative to `base`.
fn record(os_type: u8, bootable: bool, first: u64, last: u64, base: u64) -> MbrPartition {
    MbrPartition {
        boot_indicator: if bootable { BOOTABLE } else { NOT_BOOTABLE },
        start_chs: chs(first),
        os_type,
        end_chs: chs(last),
        starting_lba: (first - base) as u32,
        size_in_lba: (last - first + 1) as u32,
    }
}

/// LBA 0 with boot code and disk signature (one sector).
fn boot_sector(mbr: &Mbr, boot_code: &[u8], sector_size: u32) -> Vec<u8> {
    let mut sector = mbr.encode(sector_size as usize);
    sector[..boot_code.len()].copy_from_slice(boot_code);
    sector
}

fn check_geometry(
    sector_size: u32,
    disk_size: u64,
    total_sectors: u64,
    boot_code: &[u8],
) -> Result<(), MbrEncodeError> {
    if sector_size != 512 && sector_size != 4096 {
        return Err(MbrEncodeError::UnsupportedSectorSize(sector_size));
    }
    if total_sectors.checked_mul(u64::from(sector_size)) != Some(disk_size) {
        return Err(MbrEncodeError::DiskSizeMismatch {
            disk_size,
            total_sectors,
        });
    }
    if boot_code.len() > BOOT_CODE_SIZE {
        return Err(MbrEncodeError::BootCodeTooLarge(boot_code.len()));
    }
    Ok(())
}

/// The sectors a partition and its EBR occupy, with its name, for the range and overlap checks.
struct Span<'a> {
    name: &'a str,
    first: u64,
    last: u64,
}

fn check_spans(mut spans: Vec<Span>, layout: &MbrLayout) -> Result<(), MbrEncodeError> {
    for span in &spans {
        if span.first == 0 || span.first > span.last || span.last >= layout.total_sectors {
            return Err(MbrEncodeError::OutsideDisk {
                name: span.name.into(),
                first_lba: span.first,
                last_lba: span.last,
            });
        }
        if span.last >= MBR_MAX_SECTORS {
            // A record's start and size are both 32 bits: with the first LBA at least 1, a
            // last LBA up to 2^32 - 1 keeps both in range.
            return Err(MbrEncodeError::BeyondLimit {
                name: span.name.into(),
                last_lba: span.last,
                sector_size: layout.sector_size,
            });
        }
    }
    spans.sort_by_key(|s| s.first);
    for pair in spans.windows(2) {
        if pair[1].first <= pair[0].last {
            return Err(MbrEncodeError::Overlap {
                first: pair[0].name.into(),
                second: pair[1].name.into(),
            });
        }
    }
    Ok(())
}

/// Record numbers: primaries 1 to 4, distinct and not the extended one's; logicals numbered
/// 5, 6, ... in disk order, each with an EBR before it.
fn check_numbers(layout: &MbrLayout) -> Result<(), MbrEncodeError> {
    let mut used = [false; 4];
    if let Some(slot) = layout.extended_slot {
        if !(1..=4).contains(&slot) {
            return Err(MbrEncodeError::InvalidRecord {
                name: "(extended)".into(),
                index: slot,
            });
        }
        used[slot as usize - 1] = true;
    }
    let mut logical = layout
        .partitions
        .iter()
        .filter(|p| p.ebr_lba.is_some())
        .peekable();
    if logical.peek().is_some() && layout.extended_slot.is_none() {
        let name = logical.peek().map(|p| p.name.clone()).unwrap_or_default();
        return Err(MbrEncodeError::BadChain {
            name,
            why: "there is no extended record to hold it",
        });
    }
    let mut previous_last = 0;
    for (n, p) in logical.enumerate() {
        let ebr = p.ebr_lba.unwrap_or_default();
        if p.index as usize != 5 + n {
            return Err(MbrEncodeError::BadChain {
                name: p.name.clone(),
                why: "logical partitions must be numbered 5, 6, ... in disk order",
            });
        }
        if ebr >= p.first_lba || (n > 0 && ebr <= previous_last) {
            return Err(MbrEncodeError::BadChain {
                name: p.name.clone(),
                why:
                    "its EBR must lie after the previous logical partition and before its first LBA",
            });
        }
        previous_last = p.last_lba;
    }
    let logical_count = layout
        .partitions
        .iter()
        .filter(|p| p.ebr_lba.is_some())
        .count();
    if logical_count > MAX_LOGICAL_PARTITIONS {
        return Err(MbrEncodeError::TooManyLogical(logical_count));
    }
    for p in layout.partitions.iter().filter(|p| p.ebr_lba.is_none()) {
        if !(1..=4).contains(&p.index) {
            return Err(MbrEncodeError::InvalidRecord {
                name: p.name.clone(),
                index: p.index,
            });
        }
        if std::mem::replace(&mut used[p.index as usize - 1], true) {
            return Err(MbrEncodeError::DuplicateRecord {
                name: p.name.clone(),
                index: p.index,
            });
        }
    }
    for p in &layout.partitions {
        if p.os_type == 0 || p.os_type == GPT_PROTECTIVE_TYPE || is_extended(p.os_type) {
            return Err(MbrEncodeError::InvalidType {
                name: p.name.clone(),
            });
        }
    }
    Ok(())
}

/// The regions of an MBR disk, in ascending offset order: LBA 0, each EBR, and zeros over the
/// places of GPT headers (LBA 1 and the last LBA) where no partition lies, so that a disk that
/// held a GPT before is not read as one afterwards. Refuses layouts other tools would reject
/// or misread.
pub fn encode_mbr(layout: &MbrLayout) -> Result<Vec<Region>, MbrEncodeError> {
    check_geometry(
        layout.sector_size,
        layout.disk_size,
        layout.total_sectors,
        &layout.boot_code,
    )?;
    check_numbers(layout)?;
    let mut spans: Vec<Span> = Vec::new();
    for p in &layout.partitions {
        spans.push(Span {
            name: &p.name,
            first: p.first_lba,
            last: p.last_lba,
        });
        if let Some(ebr) = p.ebr_lba {
            spans.push(Span {
                name: &p.name,
                first: ebr,
                last: ebr,
            });
        }
    }
    check_spans(spans, layout)?;

    let sector = u64::from(layout.sector_size);
    let logical: Vec<&MbrLayoutPartition> = layout
        .partitions
        .iter()
        .filter(|p| p.ebr_lba.is_some())
        .collect();
    let mut mbr = Mbr {
        has_signature: true,
        disk_id: layout.disk_id,
        ..Mbr::default()
    };
    for p in layout.partitions.iter().filter(|p| p.ebr_lba.is_none()) {
        mbr.partitions[p.index as usize - 1] =
            record(p.os_type, p.bootable, p.first_lba, p.last_lba, 0);
    }
    let mut regions = Vec::new();
    if let (Some(slot), Some(first), Some(last)) =
        (layout.extended_slot, logical.first(), logical.last())
    {
        let start = first.ebr_lba.unwrap_or_default();
        // The extended partition is one range: no primary partition may lie inside it.
        if let Some(inside) = layout
            .partitions
            .iter()
            .find(|p| p.ebr_lba.is_none() && p.first_lba <= last.last_lba && p.last_lba >= start)
        {
            return Err(MbrEncodeError::Overlap {
                first: "(extended)".into(),
                second: inside.name.clone(),
            });
        }
        mbr.partitions[slot as usize - 1] =
            record(EXTENDED_LBA_TYPE, false, start, last.last_lba, 0);
        for (n, p) in logical.iter().enumerate() {
            let ebr_lba = p.ebr_lba.unwrap_or_default();
            let mut ebr = Mbr {
                has_signature: true,
                ..Mbr::default()
            };
            ebr.partitions[0] = record(p.os_type, p.bootable, p.first_lba, p.last_lba, ebr_lba);
            if let Some(next) = logical.get(n + 1) {
                let next_ebr = next.ebr_lba.unwrap_or_default();
                ebr.partitions[1] =
                    record(EXTENDED_LINK_TYPE, false, next_ebr, next.last_lba, start);
            }
            regions.push(Region {
                offset: ebr_lba * sector,
                data: ebr.encode(layout.sector_size as usize),
            });
        }
    }
    let free = |lba: u64| {
        lba > 0
            && lba < layout.total_sectors
            && !layout
                .partitions
                .iter()
                .any(|p| (p.first_lba..=p.last_lba).contains(&lba) || p.ebr_lba == Some(lba))
    };
    let zeros = || vec![0u8; layout.sector_size as usize];
    for lba in [1, layout.total_sectors.saturating_sub(1)] {
        if free(lba) && !regions.iter().any(|r| r.offset == lba * sector) {
            regions.push(Region {
                offset: lba * sector,
                data: zeros(),
            });
        }
    }
    regions.push(Region {
        offset: 0,
        data: boot_sector(&mbr, &layout.boot_code, layout.sector_size),
    });
    regions.sort_by_key(|r| r.offset);
    regions.dedup_by_key(|r| r.offset);
    Ok(regions)
}

/// The GPT of `layout` with a hybrid MBR in LBA 0 instead of the protective one: the mirrored
/// partitions in records 1 to 3 (in the order given), then the 0xEE record from LBA 1 up to
/// the first mirrored partition, covering the GPT's header and entries; that is the order and
/// the 0xEE range gdisk's "make hybrid MBR" writes by default.
pub fn encode_hybrid(layout: &Layout, hybrid: &HybridMbr) -> Result<Vec<Region>, MbrEncodeError> {
    let mut regions = encode_gpt(layout)?;
    if hybrid.boot_code.len() > BOOT_CODE_SIZE {
        return Err(MbrEncodeError::BootCodeTooLarge(hybrid.boot_code.len()));
    }
    if hybrid.mirrored.len() > HYBRID_MAX_MIRRORED || hybrid.mirrored.is_empty() {
        return Err(MbrEncodeError::TooManyMirrored(hybrid.mirrored.len()));
    }
    let mut mbr = Mbr {
        has_signature: true,
        disk_id: hybrid.disk_id,
        ..Mbr::default()
    };
    let mut first_mirrored = u64::MAX;
    for (slot, mirror) in hybrid.mirrored.iter().enumerate() {
        let Some(p) = layout
            .partitions
            .iter()
            .find(|p| p.index == mirror.gpt_index)
        else {
            return Err(MbrEncodeError::UnknownMirrored(mirror.gpt_index));
        };
        let name = String::from_utf16_lossy(&p.name);
        if mirror.os_type == 0
            || mirror.os_type == GPT_PROTECTIVE_TYPE
            || is_extended(mirror.os_type)
        {
            return Err(MbrEncodeError::InvalidType { name });
        }
        if p.last_lba >= MBR_MAX_SECTORS {
            return Err(MbrEncodeError::BeyondLimit {
                name,
                last_lba: p.last_lba,
                sector_size: layout.sector_size,
            });
        }
        if hybrid.mirrored[..slot]
            .iter()
            .any(|m| m.gpt_index == mirror.gpt_index)
        {
            return Err(MbrEncodeError::DuplicateRecord {
                name,
                index: mirror.gpt_index,
            });
        }
        mbr.partitions[slot] = record(mirror.os_type, mirror.bootable, p.first_lba, p.last_lba, 0);
        first_mirrored = first_mirrored.min(p.first_lba);
    }
    // first_mirrored >= first usable LBA >= 2 (checked by encode_gpt) and < 2^32 (checked above).
    mbr.partitions[hybrid.mirrored.len()] =
        record(GPT_PROTECTIVE_TYPE, false, 1, first_mirrored - 1, 0);
    regions[0] = Region {
        offset: 0,
        data: boot_sector(&mbr, &hybrid.boot_code, layout.sector_size),
    };
    Ok(regions)
}

#[cfg(test)]
#[path = "mbr_table_tests.rs"]
mod tests;
