//! Copies a source file's bytes into a destination file (an image or a block device) at an
//! explicit offset, as fast as the kernel allows:
//!
//! - `copy_file_range` with explicit offsets, which reflinks on XFS/btrfs when both offsets
//!   are block-aligned, and falls back to positioned read/write (one 4 MiB buffer per engine)
//!   where the kernel cannot copy (other file system, block devices, procfs, seccomp, ...);
//! - holes in the source (SEEK_DATA/SEEK_HOLE) are skipped in fresh sparse images and zeroed
//!   (fallocate, else written) in dirty destinations;
//! - neither file's offset is moved, so callers can share file descriptors;
//! - the source's length is checked before (does it fit? is it what was planned?) and, for
//!   copies of more than one call, after (did it change?); a job with a planned length also
//!   refuses a source that is no longer a regular file, or that reports 0 bytes but has data;
//! - [`open_source`] opens a source without ever blocking (a FIFO swapped in for a file);
//! - [`copy_into_image`] runs a list of [`CopyJob`]s (a source path, its offset and capacity in
//!   the image, its planned length) into one image; [`CopyEngine::copy`] runs one
//!   [`OpenedCopy`] (the same job with both files open).
//!
//! ```no_run
//! use imgforge_copy::{copy_into_image, CopyEngine, CopyJob, CopyMode, Destination};
//! let mut engine = CopyEngine::new(CopyMode::Auto);
//! let job = CopyJob {
//!     source: "rootfs.img".into(),
//!     offset: 1 << 20,
//!     capacity: 512 << 20,
//!     planned_length: std::fs::metadata("rootfs.img")?.len(),
//! };
//! copy_into_image(&mut engine, "disk.img".as_ref(), &[job], Destination::Zeroed, &mut |_bytes| true)
//!     .map_err(|failure| failure.error)?;
//! println!("{:?}", engine.stats());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod engine;
mod error;
mod extents;
mod fallback;
mod job;
mod mode;
mod open;
mod opened;
mod progress;
mod run;
mod stats;
mod stream;
mod sys;
mod target;
mod written;

pub use engine::CopyEngine;
pub use error::CopyError;
pub use job::{copy_into_image, BatchError, CopyJob};
pub use mode::CopyMode;
pub use open::open_source;
pub use opened::{Destination, OpenedCopy};
pub use stats::CopyStats;
#[cfg(target_os = "linux")]
pub use sys::LinuxSyscalls;
pub use sys::{DefaultSyscalls, FileInfo, FileKind, PortableSyscalls, Syscalls, ZeroMethod};
pub use target::{open_image, write_into_image, Target, WriteError};
pub use written::{data_ranges, merged, ByteRange, WrittenRanges};
