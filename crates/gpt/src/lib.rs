//! GPT and MBR partition tables: encode them from a planned layout, and read them back from any
//! disk, checking everything a damaged or hostile table can get wrong.
//!
//! - [`encode_mbr`] encodes a plain MBR (primary, extended and logical partitions) from an
//!   [`MbrLayout`], [`encode_hybrid`] a GPT with a hybrid MBR;
//! - [`encode_gpt`] turns a [`Layout`] into the bytes of a protective MBR, both headers and
//!   both entry arrays, or refuses it with an [`EncodeError`] ([`encode_image`]: a whole small
//!   disk in memory);
//! - [`read`] (any `Read + Seek`) and [`read_bytes`] (a byte slice) return a [`Report`]: the
//!   MBR, the GPT header used, the partitions and every problem found, as [`Finding`]s with
//!   stable codes. Reading never panics, and reads at most 1 MiB of entries per header, whatever
//!   the disk says.
//!
//! Both sides share the on-disk structures ([`Guid`], [`Header`], [`Entry`], [`Mbr`],
//! [`MbrPartition`]) and [`crc32`]. The crate uses std only, so it builds for every target
//! imgforge ships.
//!
//! ```
//! use imgforge_gpt::{encode_gpt, encode_image, read_bytes, Layout, LayoutPartition};
//! let layout = Layout {
//!     sector_size: 512,
//!     disk_size: 100 * 512,
//!     total_sectors: 100,
//!     disk_guid: "6A1C3E4B-1111-4222-8333-444455556666".parse()?,
//!     first_usable_lba: 34,
//!     last_usable_lba: 66,
//!     partitions: vec![LayoutPartition {
//!         index: 1,
//!         name: "esp".encode_utf16().collect(),
//!         type_guid: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B".parse()?,
//!         guid: "0F6B1C4E-2222-4333-8444-555566667777".parse()?,
//!         attributes: 0,
//!         first_lba: 34,
//!         last_lba: 66,
//!     }],
//! };
//! let regions = encode_gpt(&layout)?; // to write at their offsets
//! assert_eq!(regions.len(), 5);
//! let disk = encode_image(&layout)?; // or all of a small disk in memory
//! let report = read_bytes(&disk, None)?;
//! assert!(report.findings.is_empty());
//! assert_eq!(report.partitions[0].name, "esp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check;
mod crc32;
mod encode;
mod entry;
mod format;
mod guid;
mod header;
mod layout;
mod mbr;
mod mbr_error;
mod mbr_table;
mod read;

pub use check::EncodeError;
pub use crc32::crc32;
pub use encode::{encode_gpt, encode_image, Region};
pub use entry::{name_units, Entry};
pub use guid::{Guid, GuidParseError};
pub use header::Header;
pub use layout::{entry_array_sectors, Layout, LayoutPartition};
pub use mbr::{Mbr, MbrPartition};
pub use mbr_error::MbrEncodeError;
pub use mbr_table::{
    encode_hybrid, encode_mbr, HybridMbr, HybridPartition, MbrLayout, MbrLayoutPartition,
    HYBRID_MAX_MIRRORED, MAX_LOGICAL_PARTITIONS, MBR_MAX_SECTORS,
};
pub use read::{
    read, read_bytes, Code, Finding, GptReport, HeaderKind, HeaderStatus, MbrKind, MbrReport,
    Partition, PartitionType, ReadError, Report,
};
