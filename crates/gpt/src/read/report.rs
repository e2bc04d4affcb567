//! What reading a disk returns.

use std::fmt;

use super::findings::Finding;
use crate::guid::Guid;
use crate::mbr::MbrPartition;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Bytes per logical sector: the caller's, or detected (512 unless a GPT header says 4096).
    pub sector_size: u32,
    /// Bytes.
    pub disk_size: u64,
    pub mbr: MbrReport,
    /// The GPT, when a usable header was found.
    pub gpt: Option<GptReport>,
    /// From the GPT when there is one, else from a plain (or hybrid) MBR; in table order.
    pub partitions: Vec<Partition>,
    /// Every problem found; empty for a healthy disk.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MbrKind {
    /// One 0xEE record, the others empty: a GPT disk's MBR.
    Protective,
    /// An 0xEE record next to others that mirror GPT partitions for legacy systems.
    Hybrid,
    /// An MBR partition table (possibly empty) without 0xEE.
    Plain,
    /// No 0x55AA signature (or a disk smaller than 512 bytes).
    None,
    /// The signature, but records that cannot be an MBR's.
    Invalid,
}

impl MbrKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MbrKind::Protective => "protective",
            MbrKind::Hybrid => "hybrid",
            MbrKind::Plain => "plain",
            MbrKind::None => "none",
            MbrKind::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MbrReport {
    pub kind: MbrKind,
    /// The four records as stored (all zero when there is no MBR).
    pub entries: [MbrPartition; 4],
    /// The disk signature at byte 440 (0 when there is no MBR).
    pub disk_id: u32,
}

/// Which of the two GPT headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Primary,
    Backup,
}

impl HeaderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderKind::Primary => "primary",
            HeaderKind::Backup => "backup",
        }
    }
}

impl fmt::Display for HeaderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStatus {
    /// Signature, revision, size, CRCs and placement all check out.
    Valid,
    /// A header is there, but something about it is wrong (see the findings).
    Invalid,
    /// No "EFI PART" where the header should be.
    Missing,
}

impl HeaderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderStatus::Valid => "valid",
            HeaderStatus::Invalid => "invalid",
            HeaderStatus::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GptReport {
    /// The header the partitions were read from: the primary unless it is unusable.
    pub header: HeaderKind,
    /// The LBA that header was read from.
    pub header_lba: u64,
    pub disk_guid: Guid,
    pub first_usable_lba: u64,
    pub last_usable_lba: u64,
    /// The other header's LBA, as this header gives it.
    pub alternate_lba: u64,
    pub entries_lba: u64,
    pub entry_count: u32,
    pub entry_size: u32,
    pub primary: HeaderStatus,
    pub backup: HeaderStatus,
}

/// A partition's type: a GUID in a GPT, a byte in an MBR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionType {
    Gpt(Guid),
    Mbr(u8),
}

impl fmt::Display for PartitionType {
    /// The GUID, or the MBR type byte as "0x83".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartitionType::Gpt(guid) => write!(f, "{guid}"),
            PartitionType::Mbr(byte) => write!(f, "0x{byte:02X}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The GPT entry number (1-based), the MBR record number (1 to 4), or a logical
    /// partition's number (5 and up, in chain order).
    pub index: u32,
    pub partition_type: PartitionType,
    /// The partition's unique GUID; None for MBR partitions.
    pub guid: Option<Guid>,
    /// Decoded from UTF-16LE up to the first NUL, invalid code units replaced; empty for MBR
    /// partitions.
    pub name: String,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
    /// Byte offset of the first LBA (saturating, for absurd LBAs).
    pub offset: u64,
    /// Bytes; 0 when the first LBA is after the last.
    pub size: u64,
    /// GPT attribute bits; 0 for MBR partitions.
    pub attributes: u64,
    /// MBR: the active flag (boot indicator 0x80); false for GPT partitions.
    pub bootable: bool,
    /// MBR: a logical partition (numbered from 5) in the extended partition's EBR chain.
    pub logical: bool,
}

impl Partition {
    /// "partition 3 (\"root\")", as messages name it.
    pub(crate) fn describe(&self) -> String {
        match (&self.partition_type, self.name.is_empty()) {
            (PartitionType::Mbr(_), _) => format!("MBR partition {}", self.index),
            (PartitionType::Gpt(_), true) => format!("partition {}", self.index),
            (PartitionType::Gpt(_), false) => format!("partition {} ({:?})", self.index, self.name),
        }
    }
}
