//! FAT32 filesystems for disk images, planned first and written second.
//!
//! - [`scan`] reads the source tree's metadata (names, sizes, times; never file data);
//! - [`PreparedTree`] readies a scanned tree for planning once (flattened, short names assigned,
//!   directory entries counted); its [`minimum_size`](PreparedTree::minimum_size) is the
//!   smallest partition that holds it, and its [`plan`](PreparedTree::plan) lays the filesystem
//!   out at a given offset and size from that tree alone: cluster size, geometry, FAT size and
//!   every file's first cluster. The [`Plan`] owns what it needs, so it can be kept and written
//!   later, on another thread;
//! - [`write`] puts exactly that plan down: the metadata in large sequential writes, and every
//!   file's data through the copy engine at an explicit offset. Every file of 4 KiB or more
//!   starts at an image offset that is a multiple of 4096, so copy_file_range on XFS or btrfs
//!   shares its blocks;
//! - [`Volume::open`] reads a FAT32 back from untrusted bytes (any `Read + Seek`): it detects,
//!   summarises, lists and checks it, reporting [`Finding`]s; [`verify`] compares it with a
//!   scanned [`Tree`]; [`read_slice`] does all of that to a byte slice (the fuzz target). Writer
//!   and reader share the on-disk structures (boot sector, FSInfo, directory and long-name
//!   entries, FAT entries, timestamps).
//!
//! ```no_run
//! use imgforge_copy::{CopyEngine, CopyMode, Destination};
//! use imgforge_fat32::{scan, write, FormatOptions, PreparedTree, Source, Target};
//! let tree = PreparedTree::from(scan(&[Source { source: "/build/esp".into(), target: "/".into() }])?);
//! let options = FormatOptions {
//!     bytes_per_sector: 512,
//!     cluster_size: None,
//!     label: Some(*b"ESP        "),
//!     volume_id: 0x1234_ABCD,
//!     timestamp: None,
//!     min_free: 0,
//! };
//! let size = tree.minimum_size(&options)?.max(512 << 20);
//! let layout = tree.plan(&options, 1 << 20, size)?;
//! let image = std::fs::OpenOptions::new().write(true).open("disk.img")?;
//! let target = Target { image: &image, image_name: "disk.img", state: Destination::Zeroed };
//! write(&layout, &target, &mut CopyEngine::new(CopyMode::Auto), &mut |_| true)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Items no other crate uses are `pub(crate)`: the public API is what lib.rs exports.
#![warn(unreachable_pub)]

mod alloc;
mod encode;
mod flat_tree;
mod geometry;
mod names;
mod ondisk;
mod plan;
mod read;
mod scan;
#[cfg(test)]
mod test_fixtures;
mod tree;
mod write;

pub use names::volume_label;
pub use plan::{FormatOptions, Plan, PlanError, PreparedTree, Summary};
pub use read::{
    read_slice, verify, verify_partition, Difference, EntryKind, FileReader, Finding, FindingCode,
    ListedEntry, SliceReport, Volume, VolumeEntry, VolumeSummary, MAX_DEPTH,
};
pub use scan::scan;
pub use tree::{Dir, FileNode, Node, ScanError, Source, SourceIds, Tree};
pub use write::{write, Target, WriteError};
