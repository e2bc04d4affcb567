//! The layouts the encoder refuses, because they would produce a table other tools reject or
//! misread. The first three checks are, in order and wording, those of imgforge's former
//! TypeScript encoder; [`check_read_back`] adds what a reader would silently lose.

use std::fmt;

use crate::format::{GPT_ENTRY_COUNT, GPT_NAME_UNITS};
use crate::guid::Guid;
use crate::layout::{entry_array_sectors, Layout, LayoutPartition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    UnsupportedSectorSize(u32),
    DiskSizeMismatch {
        disk_size: u64,
        total_sectors: u64,
        sector_size: u32,
    },
    UsableRangeOverlapsTables {
        first_usable_lba: u64,
        last_usable_lba: u64,
        total_sectors: u64,
    },
    TooManyPartitions(usize),
    InvalidEntryNumber {
        name: String,
        index: u32,
    },
    DuplicateEntryNumber {
        name: String,
        index: u32,
    },
    /// Also a partition whose first LBA is after its last.
    OutsideUsableRange {
        name: String,
        first_lba: u64,
        last_lba: u64,
        first_usable_lba: u64,
        last_usable_lba: u64,
    },
    Overlap {
        first: String,
        second: String,
    },
    NameTooLong {
        name: String,
    },
    /// Readers stop a name at its first NUL.
    NameContainsNul {
        name: String,
    },
    /// The all-zero type GUID marks an unused entry: the partition would vanish.
    NilTypeGuid {
        name: String,
    },
    DuplicateGuid {
        guid: Guid,
        first: String,
        second: String,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeError::*;
        match self {
            UnsupportedSectorSize(size) => write!(f, "unsupported sector size {size}"),
            DiskSizeMismatch { disk_size, total_sectors, sector_size } => write!(
                f,
                "disk size {disk_size} does not match {total_sectors} sectors of {sector_size} bytes"
            ),
            UsableRangeOverlapsTables { first_usable_lba, last_usable_lba, total_sectors } => write!(
                f,
                "usable LBAs {first_usable_lba}..{last_usable_lba} overlap the partition tables \
                 of a {total_sectors}-sector disk"
            ),
            TooManyPartitions(count) => {
                write!(f, "{count} partitions, the GPT holds {GPT_ENTRY_COUNT}")
            }
            InvalidEntryNumber { name, index } => {
                write!(f, "partition {name:?} has an invalid entry number {index} (1 to {GPT_ENTRY_COUNT})")
            }
            DuplicateEntryNumber { name, index } => {
                write!(f, "partition {name:?} has a duplicate entry number {index}")
            }
            OutsideUsableRange { name, first_lba, last_lba, first_usable_lba, last_usable_lba } => write!(
                f,
                "partition {name:?} spans LBAs {first_lba}..{last_lba}, outside \
                 {first_usable_lba}..{last_usable_lba}"
            ),
            Overlap { first, second } => write!(f, "partitions {first:?} and {second:?} overlap"),
            NameTooLong { name } => write!(
                f,
                "partition name {name:?} is longer than {GPT_NAME_UNITS} UTF-16 code units"
            ),
            NameContainsNul { name } => write!(
                f,
                "partition name {name:?} contains a NUL character, where readers would cut it"
            ),
            NilTypeGuid { name } => write!(
                f,
                "partition {name:?} has the all-zero type GUID, which marks an unused entry"
            ),
            DuplicateGuid { guid, first, second } => {
                write!(f, "partitions {first:?} and {second:?} have the same GUID {guid}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

fn name_of(partition: &LayoutPartition) -> String {
    String::from_utf16_lossy(&partition.name)
}

/// Geometry, usable range, entry numbers, partition ranges and overlaps.
pub(crate) fn check_layout(layout: &Layout) -> Result<(), EncodeError> {
    check_geometry(layout)?;
    if layout.partitions.len() > GPT_ENTRY_COUNT as usize {
        return Err(EncodeError::TooManyPartitions(layout.partitions.len()));
    }
    let mut used = [false; GPT_ENTRY_COUNT as usize + 1];
    let mut sorted: Vec<&LayoutPartition> = layout.partitions.iter().collect();
    sorted.sort_by_key(|p| p.first_lba); // stable: equal starts keep their order
    for (i, partition) in sorted.iter().enumerate() {
        let index = partition.index;
        if !(1..=GPT_ENTRY_COUNT).contains(&index) {
            return Err(EncodeError::InvalidEntryNumber {
                name: name_of(partition),
                index,
            });
        }
        if std::mem::replace(&mut used[index as usize], true) {
            return Err(EncodeError::DuplicateEntryNumber {
                name: name_of(partition),
                index,
            });
        }
        if partition.first_lba < layout.first_usable_lba
            || partition.last_lba > layout.last_usable_lba
            || partition.first_lba > partition.last_lba
        {
            return Err(EncodeError::OutsideUsableRange {
                name: name_of(partition),
                first_lba: partition.first_lba,
                last_lba: partition.last_lba,
                first_usable_lba: layout.first_usable_lba,
                last_usable_lba: layout.last_usable_lba,
            });
        }
        if i > 0 && partition.first_lba <= sorted[i - 1].last_lba {
            return Err(EncodeError::Overlap {
                first: name_of(sorted[i - 1]),
                second: name_of(partition),
            });
        }
    }
    Ok(())
}

fn check_geometry(layout: &Layout) -> Result<(), EncodeError> {
    let Layout {
        sector_size,
        disk_size,
        total_sectors,
        ..
    } = *layout;
    if sector_size != 512 && sector_size != 4096 {
        return Err(EncodeError::UnsupportedSectorSize(sector_size));
    }
    if total_sectors.checked_mul(u64::from(sector_size)) != Some(disk_size) {
        return Err(EncodeError::DiskSizeMismatch {
            disk_size,
            total_sectors,
            sector_size,
        });
    }
    let tables = 2 + entry_array_sectors(sector_size);
    let last_allowed = total_sectors.checked_sub(tables);
    if layout.first_usable_lba < tables
        || last_allowed.is_none_or(|last| layout.last_usable_lba > last)
        || layout.first_usable_lba > layout.last_usable_lba
    {
        return Err(EncodeError::UsableRangeOverlapsTables {
            first_usable_lba: layout.first_usable_lba,
            last_usable_lba: layout.last_usable_lba,
            total_sectors,
        });
    }
    Ok(())
}

/// Names fit the 36 code units of an entry; checked in partition order.
pub(crate) fn check_names(layout: &Layout) -> Result<(), EncodeError> {
    match layout
        .partitions
        .iter()
        .find(|p| p.name.len() > GPT_NAME_UNITS)
    {
        Some(partition) => Err(EncodeError::NameTooLong {
            name: name_of(partition),
        }),
        None => Ok(()),
    }
}

/// What the table would not say back: a name cut at a NUL, an entry that reads as unused, two
/// partitions with one GUID.
pub(crate) fn check_read_back(layout: &Layout) -> Result<(), EncodeError> {
    for partition in &layout.partitions {
        if partition.name.contains(&0) {
            return Err(EncodeError::NameContainsNul {
                name: name_of(partition),
            });
        }
        if partition.type_guid.is_nil() {
            return Err(EncodeError::NilTypeGuid {
                name: name_of(partition),
            });
        }
    }
    let mut by_guid: Vec<&LayoutPartition> = layout.partitions.iter().collect();
    by_guid.sort_by_key(|p| p.guid);
    match by_guid.windows(2).find(|pair| pair[0].guid == pair[1].guid) {
        Some(pair) => Err(EncodeError::DuplicateGuid {
            guid: pair[0].guid,
            first: name_of(pair[0]),
            second: name_of(pair[1]),
        }),
        None => Ok(()),
    }
}
