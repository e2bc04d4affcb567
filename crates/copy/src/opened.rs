//! A copy job with its files open, and what the destination holds: the vocabulary the engine
//! and its run share.

use std::fs::File;

/// What the destination region holds before the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A fresh sparse image file: the region already reads as zeros, so holes are skipped.
    Zeroed,
    /// Old content (e.g. a block device): holes must be written as zeros.
    Dirty,
}

/// A copy job with both files open: one source file copied to one destination offset. What
/// [`CopyEngine::copy`](crate::CopyEngine::copy) runs; [`CopyJob`](crate::CopyJob) is the
/// same job by path, before opening.
#[derive(Debug, Clone, Copy)]
pub struct OpenedCopy<'a> {
    pub source: &'a File,
    /// For error messages.
    pub source_name: &'a str,
    pub dest: &'a File,
    pub dest_name: &'a str,
    pub dest_offset: u64,
    /// Bytes available at `dest_offset` (the partition size).
    pub dest_capacity: u64,
    pub dest_state: Destination,
    /// The source's length when the caller planned the copy. When set, the source must still
    /// be a regular file of exactly this length ([`CopyError::SourceChanged`] otherwise, before
    /// anything is written), and a planned length of 0 must really be empty
    /// ([`CopyError::UnsizedSource`] for procfs-like files). `None` copies whatever the source
    /// is, streams included.
    ///
    /// [`CopyError::SourceChanged`]: crate::CopyError::SourceChanged
    /// [`CopyError::UnsizedSource`]: crate::CopyError::UnsizedSource
    pub planned_length: Option<u64>,
}
