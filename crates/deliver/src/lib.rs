//! Delivery artifacts of a built raw image, written from the build's own map of the byte ranges
//! it wrote (everything else reads as zeros), never by scanning the image for zeros:
//!
//! - [`write_android_sparse`]: AOSP sparse image (RAW chunks for data, DONT_CARE for the rest);
//! - [`write_bmap`]: bmaptool's block map, format 2.0, SHA-256 per range;
//! - [`write_compressed`]: the raw stream through zstd (multi-threaded), xz or gzip, holes fed
//!   as zeros without reading them;
//! - [`split_partition`]: one partition's bytes as a file of its own, reflinked where the
//!   filesystem allows (through the copy engine);
//! - [`hash_image`]: the SHA-256 of a file whose data ranges are known.
//!
//! Every writer streams: memory is a fixed buffer (plus one entry per range), whatever the
//! image's size. Each creates its output (which must not exist), and reports its size and
//! SHA-256; the caller renames it into place.

mod blocks;
mod bmap;
mod compress;
mod error;
mod hash;
mod output;
mod ranges;
mod sparse;
mod split;

pub use blocks::{block_runs, sparse_block_size, BlockRun};
pub use bmap::write_bmap;
pub use compress::{write_compressed, Compression};
pub use error::DeliverError;
pub use hash::hash_image;
pub use imgforge_copy::ByteRange;
pub use output::Artifact;
pub use ranges::{check_ranges, ImageMap};
pub use sparse::write_android_sparse;
pub use split::{split_partition, PartitionFile};

/// Called with the bytes of the image processed since the last call; returning false cancels
/// ([`DeliverError::Cancelled`]).
pub type Progress<'a> = &'a mut dyn FnMut(u64) -> bool;
