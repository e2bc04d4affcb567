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
//! - [`open_source`] opens a source without ever blocking (a FIFO swapped in for a file).
//!
//! ```no_run
//! use imgforge_copy::{CopyEngine, CopyJob, CopyMode, Destination};
//! let source = std::fs::File::open("rootfs.img")?;
//! let image = std::fs::OpenOptions::new().write(true).open("disk.img")?;
//! let mut engine = CopyEngine::new(CopyMode::Auto);
//! let job = CopyJob {
//!     source: &source,
//!     source_name: "rootfs.img",
//!     dest: &image,
//!     dest_name: "disk.img",
//!     dest_offset: 1 << 20,
//!     dest_capacity: 512 << 20,
//!     dest_state: Destination::Zeroed,
//!     planned_len: None,
//! };
//! engine.copy(&job, &mut |_bytes| true)?;
//! println!("{:?}", engine.stats());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod engine;
mod error;
mod extents;
mod fallback;
mod mode;
mod open;
mod progress;
mod run;
mod stats;
mod stream;
mod sys;

#[cfg(test)]
mod tests;

pub use batch::{copy_files_into, BatchError, FileCopy};
pub use engine::{CopyEngine, CopyJob, Destination};
pub use error::CopyError;
pub use mode::CopyMode;
pub use open::open_source;
pub use stats::CopyStats;
#[cfg(target_os = "linux")]
pub use sys::LinuxSyscalls;
pub use sys::{DefaultSyscalls, FileInfo, FileKind, PortableSyscalls, Syscalls, ZeroMethod};
