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
//! - [`read`] reads a FAT32 back from untrusted bytes (any `Read + Seek`): [`Volume::open`]
//!   detects, summarises, lists and checks it, reporting [`Finding`]s; [`verify`] compares it
//!   with a scanned [`Tree`]. Writer and reader share the on-disk structures ([`BootSector`],
//!   [`FsInfo`], directory and long-name entries, FAT entries, timestamps).
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

mod alloc;
mod encode;
mod geometry;
mod names;
mod ondisk;
mod plan;
pub mod read;
mod scan;
mod tree;
mod write;

pub use geometry::{MAX_CLUSTERS, MIN_CLUSTERS};
pub use names::{volume_label, NameError, ShortName};
pub use ondisk::boot::{BootSector, FsInfo};
pub use plan::{describe_size, FormatOptions, Plan, PlanError, PreparedTree, Summary};
pub use read::MAX_DEPTH;
pub use read::{
    detect, read_slice, verify, Difference, EntryKind, Finding, FindingCode, ListedEntry, Volume,
    VolumeEntry, VolumeSummary,
};
pub use scan::scan;
pub use tree::{Dir, FileNode, Node, ScanError, Source, Tree};
pub use write::{write, write_to_image, Target, WriteError};
