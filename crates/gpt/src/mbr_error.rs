//! Why the MBR encoder refuses a layout: each reason names the partition and the limit.

use std::fmt;

use crate::check::EncodeError;
use crate::format::mbr::{
    BOOT_CODE_SIZE, HYBRID_MAX_MIRRORED, MAX_LOGICAL_PARTITIONS, MAX_SECTORS as MBR_MAX_SECTORS,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MbrEncodeError {
    Gpt(EncodeError),
    UnsupportedSectorSize(u32),
    DiskSizeMismatch {
        disk_size: u64,
        total_sectors: u64,
    },
    BootCodeTooLarge(usize),
    /// A partition (or EBR) outside the disk, over LBA 0, or first after last.
    OutsideDisk {
        name: String,
        first_lba: u64,
        last_lba: u64,
    },
    /// Starts or ends past what 32-bit LBAs address.
    BeyondLimit {
        name: String,
        last_lba: u64,
        sector_size: u32,
    },
    Overlap {
        first: String,
        second: String,
    },
    InvalidRecord {
        name: String,
        index: u32,
    },
    DuplicateRecord {
        name: String,
        index: u32,
    },
    InvalidType {
        name: String,
    },
    /// Logical partitions numbered out of disk order, without an EBR before them, or without
    /// an extended record.
    BadChain {
        name: String,
        why: &'static str,
    },
    TooManyLogical(usize),
    TooManyMirrored(usize),
    UnknownMirrored(u32),
}

impl fmt::Display for MbrEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MbrEncodeError::*;
        match self {
            Gpt(error) => write!(f, "{error}"),
            UnsupportedSectorSize(size) => write!(f, "unsupported sector size {size}"),
            DiskSizeMismatch { disk_size, total_sectors } => {
                write!(f, "disk size {disk_size} does not match {total_sectors} sectors")
            }
            BootCodeTooLarge(size) => write!(
                f,
                "boot code is {size} bytes; the MBR holds at most {BOOT_CODE_SIZE} (before the disk signature)"
            ),
            OutsideDisk { name, first_lba, last_lba } => write!(
                f,
                "partition {name:?} spans LBAs {first_lba}..{last_lba}, outside LBAs 1 to the end of the disk"
            ),
            BeyondLimit { name, last_lba, sector_size } => write!(
                f,
                "partition {name:?} ends at LBA {last_lba}, past the MBR limit of 2^32 sectors \
                 ({} bytes with {sector_size}-byte sectors)",
                MBR_MAX_SECTORS * u64::from(*sector_size)
            ),
            Overlap { first, second } => write!(f, "partitions {first:?} and {second:?} overlap"),
            InvalidRecord { name, index } => write!(
                f,
                "partition {name:?} has an invalid number {index} (1 to 4 primary, 5 and up logical)"
            ),
            DuplicateRecord { name, index } => {
                write!(f, "partition {name:?} has a duplicate number {index}")
            }
            InvalidType { name } => write!(
                f,
                "partition {name:?} has MBR type 0x00 (an unused record), 0xEE (GPT protective) \
                 or an extended type, which imgforge writes itself"
            ),
            BadChain { name, why } => write!(f, "logical partition {name:?}: {why}"),
            TooManyLogical(count) => write!(
                f,
                "{count} logical partitions; imgforge writes at most {MAX_LOGICAL_PARTITIONS}"
            ),
            TooManyMirrored(count) => write!(
                f,
                "{count} hybrid partitions; a hybrid MBR mirrors at most {HYBRID_MAX_MIRRORED} (the fourth record is the 0xEE one)"
            ),
            UnknownMirrored(index) => {
                write!(f, "the hybrid MBR mirrors GPT entry {index}, which the layout does not have")
            }
        }
    }
}

impl std::error::Error for MbrEncodeError {}

impl From<EncodeError> for MbrEncodeError {
    fn from(error: EncodeError) -> Self {
        MbrEncodeError::Gpt(error)
    }
}
