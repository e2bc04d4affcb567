//! Virtual-disk containers written from a finished raw disk image and the ranges of it that
//! hold data: qcow2 (version 3, 64 KiB clusters, no backing file), fixed VHD (the raw bytes and
//! a footer, as Azure takes it) and dynamic VHD (2 MiB blocks).
//!
//! Planning ([`plan_virtual_disk`]) needs only the virtual size and the data ranges and touches
//! no file; writing ([`write_virtual_disk`]) streams the data range by range with the copy
//! engine, so memory stays bounded whatever the image size, bytes outside the ranges are never
//! read, and data lands at offsets aligned like its source, so that on XFS or btrfs the
//! container shares the image's extents (reflink) instead of copying them.
//!
//! ```no_run
//! use imgforge_copy::{CopyEngine, CopyMode};
//! use imgforge_vdisk::{plan_virtual_disk, write_virtual_disk, DataRange, VhdIdentity, VirtualDiskFormat};
//! let ranges = [DataRange { offset: 0, length: 1 << 20 }];
//! let identity = VhdIdentity::resolve(None, None)?;
//! let plan = plan_virtual_disk(VirtualDiskFormat::Qcow2, 64 << 30, &ranges, &identity)?;
//! let mut engine = CopyEngine::new(CopyMode::Auto);
//! let summary = write_virtual_disk(&plan, "disk.img".as_ref(), "disk.qcow2".as_ref(), &mut engine, &mut |_| true)?;
//! println!("{summary:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod identity;
mod placement;
mod plan;
pub mod qcow2;
mod ranges;
pub mod vhd;
pub mod vhd_dynamic;
mod write;

pub use error::VdiskError;
pub use identity::VhdIdentity;
pub use plan::{plan_virtual_disk, VirtualDiskFormat, VirtualDiskPlan};
pub use ranges::DataRange;
pub use write::{write_virtual_disk, WriteSummary};
