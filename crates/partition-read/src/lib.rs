//! What the filesystem readers (FAT32, EROFS) share when they read untrusted bytes of one
//! partition: [`Disk`], positioned reads that never leave the partition and treat a short image
//! as an error (with a small cache for metadata), and [`CappedFindings`], which keeps a bounded
//! number of [`Finding`]s per code and counts the rest. Each reader keeps its own finding codes
//! and messages.

mod disk;
mod findings;

pub use disk::{Disk, ReadError};
pub use findings::{CappedFindings, Finding};
