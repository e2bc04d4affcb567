//! Reads the partition tables of a disk: the MBR in LBA 0, both GPT headers and their entry
//! arrays, and reports what they say and everything wrong with them. Every field is untrusted:
//! reads are bounded by the disk size and [`MAX_ENTRY_ARRAY_BYTES`](header::MAX_ENTRY_ARRAY_BYTES), arithmetic is checked, and
//! problems become findings, never panics.

mod disk;
mod ebr;
mod findings;
mod gpt;
mod header;
mod mbr;
mod partitions;
mod report;

use std::fmt;
use std::io::{self, Cursor, Read, Seek};

use disk::Disk;
use findings::Findings;
use gpt::{read_gpt, GptOutcome};
use partitions::{check_partitions, gpt_partitions, mbr_partitions, Bounds};

use crate::format::mbr::SIZE as MBR_SIZE;
use crate::header::has_signature;
use crate::mbr::Mbr;

pub use findings::{Code, Finding};
pub use report::{
    GptReport, HeaderKind, HeaderStatus, MbrKind, MbrReport, Partition, PartitionType, Report,
};

/// The sector sizes detection tries, in order.
const DETECTED_SECTOR_SIZES: [u32; 2] = [512, 4096];

#[derive(Debug)]
pub enum ReadError {
    /// The caller's sector size is not a power of two from 512 to 65536.
    InvalidSectorSize(u32),
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::InvalidSectorSize(size) => {
                write!(
                    f,
                    "sector size {size} is not a power of two from 512 to 65536"
                )
            }
            ReadError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(error) => Some(error),
            ReadError::InvalidSectorSize(_) => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> Self {
        ReadError::Io(error)
    }
}

/// Reads the partition tables of a disk of `disk_size` bytes. With `sector_size` None, it is
/// 4096 when a GPT header sits at LBA 1 (or the last LBA) for 4096-byte sectors and not for
/// 512-byte ones, else 512. Errors are I/O errors and an impossible `sector_size`; everything
/// wrong with the disk itself is a finding in the report.
pub fn read<R: Read + Seek>(
    reader: &mut R,
    disk_size: u64,
    sector_size: Option<u32>,
) -> Result<Report, ReadError> {
    if let Some(size) = sector_size {
        if !(512..=65536).contains(&size) || !size.is_power_of_two() {
            return Err(ReadError::InvalidSectorSize(size));
        }
    }
    let mut probe = Disk::new(reader, disk_size, 512);
    let mbr = match probe.read_at(0, MBR_SIZE)? {
        Some(bytes) => Mbr::decode(&bytes),
        None => None,
    };
    let sector_size = match sector_size {
        Some(size) => size,
        None => detect_sector_size(&mut probe)?,
    };
    let mut disk = Disk::new(reader, disk_size, sector_size);
    let mut gpt_findings = Findings::default();
    let outcome = read_gpt(&mut disk, &mut gpt_findings)?;
    let mismatch = match outcome {
        GptOutcome::Absent => other_sector_size(&mut disk)?,
        _ => None,
    };
    // Logical partitions belong to a plain MBR: with a GPT, the GPT is the table.
    let mut chain_findings = Findings::default();
    let logical = match (&outcome, mbr.as_ref()) {
        (GptOutcome::Absent, Some(m)) if mbr::classify(Some(m)) == MbrKind::Plain => {
            ebr::logical_partitions(&mut disk, &m.partitions, &mut chain_findings)?
        }
        _ => Vec::new(),
    };
    Ok(assemble(Assembly {
        disk_size,
        sector_size,
        mbr,
        outcome,
        gpt_findings,
        mismatch,
        logical,
        chain_findings,
    }))
}

/// [`read`] over a disk image in memory: the function the fuzzer and the corpus replay call.
pub fn read_bytes(bytes: &[u8], sector_size: Option<u32>) -> Result<Report, ReadError> {
    read(&mut Cursor::new(bytes), bytes.len() as u64, sector_size)
}

fn signature_at<R: Read + Seek>(disk: &mut Disk<'_, R>, offset: u64) -> io::Result<bool> {
    Ok(disk
        .read_at(offset, 8)?
        .is_some_and(|bytes| has_signature(&bytes)))
}

/// The primary header's place for either size, then the backup's.
fn detect_sector_size<R: Read + Seek>(disk: &mut Disk<'_, R>) -> io::Result<u32> {
    for size in DETECTED_SECTOR_SIZES {
        if signature_at(disk, u64::from(size))? {
            return Ok(size);
        }
    }
    for size in DETECTED_SECTOR_SIZES {
        let sectors = disk.size / u64::from(size);
        if sectors > 2 && signature_at(disk, (sectors - 1) * u64::from(size))? {
            return Ok(size);
        }
    }
    Ok(512)
}

/// When no header is found with the sector size in use: the size whose LBA 1 holds one.
fn other_sector_size<R: Read + Seek>(disk: &mut Disk<'_, R>) -> io::Result<Option<u32>> {
    let in_use = disk.sector_size;
    for size in DETECTED_SECTOR_SIZES.into_iter().filter(|&s| s != in_use) {
        if signature_at(disk, u64::from(size))? {
            return Ok(Some(size));
        }
    }
    Ok(None)
}

struct Assembly {
    disk_size: u64,
    sector_size: u32,
    mbr: Option<Mbr>,
    outcome: GptOutcome,
    gpt_findings: Findings,
    /// Another sector size at whose LBA 1 a GPT header is.
    mismatch: Option<u32>,
    /// A plain MBR's logical partitions, and what following their EBR chain found.
    logical: Vec<Partition>,
    chain_findings: Findings,
}

fn assemble(input: Assembly) -> Report {
    let Assembly {
        disk_size,
        sector_size,
        mbr,
        outcome,
        gpt_findings,
        mismatch,
        logical,
        chain_findings,
    } = input;
    let total_sectors = disk_size / u64::from(sector_size);
    let kind = mbr::classify(mbr.as_ref());
    let records = mbr.unwrap_or_default();
    let mut findings = Findings::default();
    let has_gpt = !matches!(outcome, GptOutcome::Absent);
    mbr::check_mbr(
        kind,
        &records,
        total_sectors,
        has_gpt || mismatch.is_some(),
        &mut findings,
    );
    if !has_gpt {
        report_missing_gpt(kind, disk_size, sector_size, mismatch, &mut findings);
    }
    let mut partition_findings = Findings::default();
    let (gpt, partitions) = match outcome {
        GptOutcome::Read(read) => {
            let partitions = gpt_partitions(&read.entries, read.report.entry_size, sector_size);
            let bounds = Bounds {
                total_sectors,
                first_usable: read.report.first_usable_lba,
                last_usable: read.report.last_usable_lba,
                usable_name: "the usable LBAs",
            };
            check_partitions(&partitions, bounds, &mut partition_findings);
            if kind == MbrKind::Hybrid {
                mbr::check_hybrid(&records, &partitions, &mut findings);
            }
            (Some(read.report), partitions)
        }
        _ if matches!(kind, MbrKind::Plain | MbrKind::Hybrid) => {
            let mut partitions = mbr_partitions(&records.partitions, sector_size);
            partitions.extend(logical);
            let bounds = Bounds {
                total_sectors,
                first_usable: 1,
                last_usable: total_sectors.saturating_sub(1),
                usable_name: "the LBAs after the MBR",
            };
            check_partitions(&partitions, bounds, &mut partition_findings);
            (None, partitions)
        }
        _ => (None, Vec::new()),
    };
    let mut all = findings.finish();
    all.extend(gpt_findings.finish());
    all.extend(chain_findings.finish());
    all.extend(partition_findings.finish());
    Report {
        sector_size,
        disk_size,
        mbr: MbrReport {
            kind,
            entries: records.partitions,
            disk_id: records.disk_id,
        },
        gpt,
        partitions,
        findings: all,
    }
}

fn report_missing_gpt(
    kind: MbrKind,
    disk_size: u64,
    sector_size: u32,
    mismatch: Option<u32>,
    findings: &mut Findings,
) {
    if let Some(other) = mismatch {
        findings.add(
            Code::GptSectorSizeMismatch,
            format!(
                "no GPT header at LBA 1 with {sector_size}-byte sectors, but there is one at byte {other}, \
                 LBA 1 with {other}-byte sectors: the table was written for {other}-byte sectors"
            ),
        );
    } else if matches!(kind, MbrKind::Protective | MbrKind::Hybrid) {
        findings.add(
            Code::GptMissing,
            "the MBR has a protective (0xEE) partition, but there is no GPT header at LBA 1 \
             nor at the end of the disk",
        );
    } else if kind == MbrKind::None {
        let why = if disk_size < MBR_SIZE as u64 {
            format!("the disk is {disk_size} bytes, too small to hold one")
        } else {
            "LBA 0 has no MBR signature (0x55AA) and there is no GPT header".to_string()
        };
        findings.add(Code::NoPartitionTable, format!("no partition table: {why}"));
    }
}
