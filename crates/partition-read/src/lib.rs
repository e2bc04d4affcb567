//! What the filesystem readers (FAT32, EROFS, the ext4 and squashfs probes) share when they read
//! untrusted bytes of one partition: [`Disk`], positioned reads that never leave the partition
//! and treat a short image as an error (with a small cache for metadata); [`CappedFindings`],
//! which keeps a bounded number of [`Finding`]s per code and counts the rest; and [`crc32c`], the
//! superblock checksum of EROFS and ext4. Each reader keeps its own finding codes and messages.

mod crc32c;
mod disk;
mod findings;

pub use crc32c::crc32c;
pub use disk::{Disk, ReadError};
pub use findings::{CappedFindings, Finding};
