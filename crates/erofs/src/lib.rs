//! Uncompressed EROFS filesystems for disk images, planned first and written second.
//!
//! - [`plan`] (or [`plan_at`] for a partition at a 4 KiB-aligned offset of the image) lays out
//!   a tree scanned by `imgforge_tree::scan` (its default [`Policy`](imgforge_tree::Policy)
//!   keeps symlinks, special files and xattrs): every inode's nid, compact or extended form,
//!   data layout and blocks. [`Plan::size`] is the filesystem's exact size, a multiple of 4096.
//! - [`write`] puts exactly that plan down: the superblock, inodes (with inline xattrs and
//!   inline tails) and directory blocks in sequential writes of about a megabyte, then every
//!   regular file's whole blocks through the copy engine, contiguous from a block boundary, so
//!   copy_file_range on XFS or btrfs shares them (`imgforge_copy::write_into_image` opens an
//!   image by path for it). A file's tail past its last whole block (a small file: all of it)
//!   is inline after its inode when it fits there, as mkfs.erofs does: no block of its own,
//!   and no partial block that a reflink could not share anyway.
//!
//! - [`Volume`] reads an EROFS back from untrusted bytes (imgforge's or any uncompressed
//!   one; compressed files are listed, not read): summary, tree and findings; [`verify`]
//!   compares it with a plan, byte for byte against the sources.
//!
//! Layout: superblock at byte 1024 of block 0; inodes from block 1, the root first (nid 0);
//! directories, symlinks and files FLAT_INLINE when their tail fits in the inode's block,
//! FLAT_PLAIN otherwise; then directory and symlink blocks; then file blocks. Hard links
//! share one inode.
//! Timestamps: with [`FormatOptions::timestamp`] (SOURCE_DATE_EPOCH) every inode's mtime and
//! the build time are that; without, inodes keep their sources' mtimes and the build time is
//! the most common of them, so those inodes can be 32-byte compact ones. Extended attributes
//! outside `user.`, `trusted.`, `security.` and the POSIX ACLs are a [`PlanError`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use imgforge_copy::{CopyEngine, CopyMode, Destination};
//! use imgforge_erofs::{plan, write, FormatOptions, Ownership, Target};
//! use imgforge_tree::{scan, Policy, Source};
//! let sources = [Source { source: "/build/rootfs".into(), target: "/".into() }];
//! let tree = Arc::new(scan(&sources, &Policy::default())?);
//! let options = FormatOptions {
//!     uuid: [7; 16],
//!     label: Some("rootfs".into()),
//!     ownership: Ownership::Root,
//!     timestamp: Some(1_700_000_000),
//! };
//! let layout = plan(tree, &options)?;
//! let image = std::fs::File::create("rootfs.erofs")?;
//! image.set_len(layout.size())?;
//! let target = Target { image: &image, image_name: "rootfs.erofs", state: Destination::Zeroed };
//! write(&layout, &target, &mut CopyEngine::new(CopyMode::Auto), &mut |_bytes| true)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Items no other crate uses are `pub(crate)`: the public API is what lib.rs exports.
#![warn(unreachable_pub)]

mod inodes;
mod layout;
mod limits;
mod ondisk;
mod plan;
mod read;
mod scan;
mod write;

pub use plan::{plan, plan_at, FormatOptions, Ownership, Plan, PlanError, Summary};
pub use read::{
    read_slice, uuid_text, verify, verify_partition, Difference, EntryKind, Finding, FindingCode,
    SliceReport, UuidCheck, Volume, VolumeEntry, VolumeSummary, Xattrs, MAX_DEPTH, MAX_ENTRIES,
};
pub use scan::scan;
pub use write::{write, Target, WriteError};
