//! GPT: the encoder (a planned layout to the regions to write) and the reader (a file or block
//! device to its partition tables and findings). Conversions only; crates/gpt decides.

use std::fs::File;
use std::io::{Seek, SeekFrom};

use imgforge_gpt::{
    encode_gpt, encode_hybrid, encode_mbr, read, Finding, GptReport, Guid, HybridMbr,
    HybridPartition, Layout, LayoutPartition, MbrLayout, MbrLayoutPartition, MbrPartition,
    Partition, PartitionType, Region, Report,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{invalid, to_u64};

/// A planned disk, as ts/plan/plan.ts's Plan has it (extra fields are ignored).
#[napi(object)]
pub struct GptLayout {
    /// 512 or 4096.
    pub sector_size: f64,
    pub disk_size: f64,
    pub total_sectors: f64,
    pub disk_guid: String,
    pub first_usable_lba: f64,
    pub last_usable_lba: f64,
    pub partitions: Vec<GptLayoutPartition>,
}

#[napi(object)]
pub struct GptLayoutPartition {
    /// 1-based entry number.
    pub index: f64,
    /// Taken as UTF-16 code units, exactly as JavaScript holds it.
    pub name: Utf16String,
    pub type_guid: String,
    pub guid: String,
    /// A 64-bit mask (0n to 2n ** 64n - 1n).
    pub attributes: BigInt,
    pub first_lba: f64,
    pub last_lba: f64,
}

/// Bytes to write at a byte offset of the disk.
#[napi(object)]
pub struct GptRegion {
    pub offset: f64,
    pub data: Buffer,
}

fn guid(text: &str) -> Result<Guid> {
    text.parse().map_err(invalid)
}

fn to_u32(value: f64, what: &str) -> Result<u32> {
    u32::try_from(to_u64(value, what)?).map_err(|_| invalid(format!("{what} {value} is too large")))
}

fn attributes(value: &BigInt, partition: &str) -> Result<u64> {
    let (negative, low, lossless) = value.get_u64();
    if negative || !lossless {
        return Err(invalid(format!(
            "partition {partition:?}: attributes must fit 64 unsigned bits"
        )));
    }
    Ok(low)
}

fn layout_partition(p: &GptLayoutPartition) -> Result<LayoutPartition> {
    let name = p.name.to_vec();
    let label = String::from_utf16_lossy(&name);
    Ok(LayoutPartition {
        // beyond u32: an invalid entry number, which encode_gpt refuses by name
        index: u32::try_from(to_u64(p.index, "index")?).unwrap_or(u32::MAX),
        type_guid: guid(&p.type_guid)?,
        guid: guid(&p.guid)?,
        attributes: attributes(&p.attributes, &label)?,
        first_lba: to_u64(p.first_lba, "firstLba")?,
        last_lba: to_u64(p.last_lba, "lastLba")?,
        name,
    })
}

fn layout(plan: &GptLayout) -> Result<Layout> {
    Ok(Layout {
        sector_size: to_u32(plan.sector_size, "sectorSize")?,
        disk_size: to_u64(plan.disk_size, "diskSize")?,
        total_sectors: to_u64(plan.total_sectors, "totalSectors")?,
        disk_guid: guid(&plan.disk_guid)?,
        first_usable_lba: to_u64(plan.first_usable_lba, "firstUsableLba")?,
        last_usable_lba: to_u64(plan.last_usable_lba, "lastUsableLba")?,
        partitions: plan
            .partitions
            .iter()
            .map(layout_partition)
            .collect::<Result<_>>()?,
    })
}

fn js_regions(regions: Vec<Region>) -> Vec<GptRegion> {
    regions
        .into_iter()
        .map(|r| GptRegion {
            offset: r.offset as f64,
            data: r.data.into(),
        })
        .collect()
}

fn refused(error: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, error.to_string())
}

/// The regions of a GPT (protective MBR, headers, entry arrays), in ascending offset order.
/// Throws when the layout would make a table other tools reject (the message says why).
#[napi(js_name = "encodeGpt")]
pub fn encode_gpt_regions(plan: GptLayout) -> Result<Vec<GptRegion>> {
    Ok(js_regions(encode_gpt(&layout(&plan)?).map_err(refused)?))
}

/// A planned MBR disk, as ts/plan/plan.ts's Plan has it for `table: mbr`.
#[napi(object)]
pub struct MbrPlan {
    pub sector_size: f64,
    pub disk_size: f64,
    pub total_sectors: f64,
    /// The 32-bit disk signature.
    pub disk_id: u32,
    pub boot_code: Buffer,
    /// The record (1 to 4) of the extended partition, when there are logical partitions.
    pub extended_slot: Option<u32>,
    pub partitions: Vec<MbrPlanPartition>,
}

#[napi(object)]
pub struct MbrPlanPartition {
    /// 1 to 4 for primary partitions, 5 and up for logical ones.
    pub index: u32,
    pub name: String,
    pub mbr_type: u32,
    pub bootable: bool,
    pub first_lba: f64,
    pub last_lba: f64,
    /// A logical partition's EBR.
    pub ebr_lba: Option<f64>,
}

/// A GPT layout's hybrid MBR: what it mirrors, by GPT entry number.
#[napi(object)]
pub struct HybridPlan {
    pub disk_id: u32,
    pub boot_code: Buffer,
    pub mirrored: Vec<HybridPlanPartition>,
}

#[napi(object)]
pub struct HybridPlanPartition {
    pub index: u32,
    pub mbr_type: u32,
    pub bootable: bool,
}

fn type_byte(value: u32, name: &str) -> Result<u8> {
    u8::try_from(value).map_err(|_| {
        invalid(format!(
            "partition {name:?}: MBR type {value} is not a byte"
        ))
    })
}

fn mbr_layout(plan: &MbrPlan) -> Result<MbrLayout> {
    Ok(MbrLayout {
        sector_size: to_u32(plan.sector_size, "sectorSize")?,
        disk_size: to_u64(plan.disk_size, "diskSize")?,
        total_sectors: to_u64(plan.total_sectors, "totalSectors")?,
        disk_id: plan.disk_id,
        boot_code: plan.boot_code.to_vec(),
        extended_slot: plan.extended_slot,
        partitions: plan
            .partitions
            .iter()
            .map(|p| {
                Ok(MbrLayoutPartition {
                    index: p.index,
                    name: p.name.clone(),
                    os_type: type_byte(p.mbr_type, &p.name)?,
                    bootable: p.bootable,
                    first_lba: to_u64(p.first_lba, "firstLba")?,
                    last_lba: to_u64(p.last_lba, "lastLba")?,
                    ebr_lba: p.ebr_lba.map(|lba| to_u64(lba, "ebrLba")).transpose()?,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// The regions of an MBR disk (LBA 0, the EBRs, zeros over stale GPT headers), in ascending
/// offset order. Throws when the layout would make a table other tools reject.
#[napi(js_name = "encodeMbr")]
pub fn encode_mbr_regions(plan: MbrPlan) -> Result<Vec<GptRegion>> {
    Ok(js_regions(
        encode_mbr(&mbr_layout(&plan)?).map_err(refused)?,
    ))
}

/// The regions of a GPT whose LBA 0 is a hybrid MBR.
#[napi(js_name = "encodeHybrid")]
pub fn encode_hybrid_regions(plan: GptLayout, hybrid: HybridPlan) -> Result<Vec<GptRegion>> {
    let mirrored = hybrid
        .mirrored
        .iter()
        .map(|m| {
            Ok(HybridPartition {
                gpt_index: m.index,
                os_type: type_byte(m.mbr_type, &format!("entry {}", m.index))?,
                bootable: m.bootable,
            })
        })
        .collect::<Result<_>>()?;
    let hybrid = HybridMbr {
        disk_id: hybrid.disk_id,
        boot_code: hybrid.boot_code.to_vec(),
        mirrored,
    };
    Ok(js_regions(
        encode_hybrid(&layout(&plan)?, &hybrid).map_err(refused)?,
    ))
}

#[napi(object, use_nullable = true)]
pub struct PartitionTable {
    pub sector_size: u32,
    pub disk_size: f64,
    pub mbr: MbrTable,
    pub gpt: Option<GptTable>,
    pub partitions: Vec<TablePartition>,
    pub findings: Vec<TableFinding>,
}

#[napi(object)]
pub struct MbrTable {
    #[napi(ts_type = "'protective' | 'hybrid' | 'plain' | 'none' | 'invalid'")]
    pub kind: String,
    /// The four records as stored (zeros when there is no MBR).
    pub entries: Vec<MbrEntry>,
    /// The 32-bit disk signature at byte 440 (0 when there is no MBR).
    pub disk_id: u32,
}

#[napi(object)]
pub struct MbrEntry {
    /// Boot indicator 0x80.
    pub bootable: bool,
    /// The partition type byte (0 for an empty record, 0xEE protective).
    #[napi(js_name = "type")]
    pub type_byte: u32,
    pub first_lba: f64,
    pub sectors: f64,
}

#[napi(object)]
pub struct GptTable {
    /// The header the partitions were read from.
    #[napi(ts_type = "'primary' | 'backup'")]
    pub header: String,
    pub header_lba: f64,
    pub disk_guid: String,
    pub first_usable_lba: f64,
    pub last_usable_lba: f64,
    pub alternate_lba: f64,
    pub entries_lba: f64,
    pub entry_count: u32,
    pub entry_size: u32,
    #[napi(ts_type = "'valid' | 'invalid' | 'missing'")]
    pub primary_header: String,
    #[napi(ts_type = "'valid' | 'invalid' | 'missing'")]
    pub backup_header: String,
}

#[napi(object, use_nullable = true)]
pub struct TablePartition {
    /// The GPT entry number (1-based), the MBR record number (1 to 4), or a logical
    /// partition's number (5 and up).
    pub index: u32,
    /// The type GUID; for an MBR partition, its type byte as "0x83".
    pub type_guid: String,
    /// The MBR type byte; null for GPT partitions.
    pub mbr_type: Option<u32>,
    /// null for MBR partitions.
    pub guid: Option<String>,
    pub name: String,
    pub first_lba: f64,
    pub last_lba: f64,
    pub offset: f64,
    pub size: f64,
    /// The 64-bit attribute mask as a decimal string ("0" for MBR partitions): BigInt(attributes).
    pub attributes: String,
    /// MBR: the active flag.
    pub bootable: bool,
    /// MBR: a logical partition (5 and up) from the EBR chain.
    pub logical: bool,
}

#[napi(object)]
pub struct TableFinding {
    /// Stable SCREAMING_CASE code, e.g. GPT_HEADER_CRC.
    pub code: String,
    pub message: String,
}

fn mbr_entry(record: &MbrPartition) -> MbrEntry {
    MbrEntry {
        bootable: record.boot_indicator == 0x80,
        type_byte: u32::from(record.os_type),
        first_lba: f64::from(record.starting_lba),
        sectors: f64::from(record.size_in_lba),
    }
}

fn gpt_table(gpt: &GptReport) -> GptTable {
    GptTable {
        header: gpt.header.as_str().into(),
        header_lba: gpt.header_lba as f64,
        disk_guid: gpt.disk_guid.to_string(),
        first_usable_lba: gpt.first_usable_lba as f64,
        last_usable_lba: gpt.last_usable_lba as f64,
        alternate_lba: gpt.alternate_lba as f64,
        entries_lba: gpt.entries_lba as f64,
        entry_count: gpt.entry_count,
        entry_size: gpt.entry_size,
        primary_header: gpt.primary.as_str().into(),
        backup_header: gpt.backup.as_str().into(),
    }
}

fn table_partition(p: &Partition) -> TablePartition {
    TablePartition {
        index: p.index,
        type_guid: p.partition_type.to_string(),
        mbr_type: match p.partition_type {
            PartitionType::Mbr(byte) => Some(u32::from(byte)),
            PartitionType::Gpt(_) => None,
        },
        guid: p.guid.map(|g| g.to_string()),
        name: p.name.clone(),
        first_lba: p.first_lba as f64,
        last_lba: p.last_lba as f64,
        offset: p.offset as f64,
        size: p.size as f64,
        attributes: p.attributes.to_string(),
        bootable: p.bootable,
        logical: p.logical,
    }
}

fn table_finding(f: &Finding) -> TableFinding {
    TableFinding {
        code: f.code.as_str().into(),
        message: f.message.clone(),
    }
}

fn partition_table(report: &Report) -> PartitionTable {
    PartitionTable {
        sector_size: report.sector_size,
        disk_size: report.disk_size as f64,
        mbr: MbrTable {
            kind: report.mbr.kind.as_str().into(),
            entries: report.mbr.entries.iter().map(mbr_entry).collect(),
            disk_id: report.mbr.disk_id,
        },
        gpt: report.gpt.as_ref().map(gpt_table),
        partitions: report.partitions.iter().map(table_partition).collect(),
        findings: report.findings.iter().map(table_finding).collect(),
    }
}

/// Reads the partition tables of a file or block device (opened read-only; its size is where
/// seeking to the end lands). `sectorSize`: the device's logical sector size; when absent, 512
/// unless a GPT header is found for 4096. Throws only for I/O errors and an impossible sector
/// size; problems with the tables are `findings`.
#[napi]
pub fn read_partition_table(path: String, sector_size: Option<u32>) -> Result<PartitionTable> {
    let failed =
        |e: &dyn std::fmt::Display| Error::new(Status::GenericFailure, format!("{path}: {e}"));
    let mut file = File::open(&path).map_err(|e| failed(&e))?;
    let size = file.seek(SeekFrom::End(0)).map_err(|e| failed(&e))?;
    let report = read(&mut file, size, sector_size).map_err(|e| failed(&e))?;
    Ok(partition_table(&report))
}
