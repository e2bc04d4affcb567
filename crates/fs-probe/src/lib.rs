//! Probing the filesystems imgforge builds with external tools (ext4 with e2fsprogs, squashfs
//! with squashfs-tools) from untrusted bytes: each superblock is found, summarised (label, UUID,
//! sizes, counts, features, compression) and checked as the Linux kernel checks it before it
//! mounts, with a [`Finding`] for each problem. No tree is walked: `imgforge verify` compares
//! trees through `debugfs` and `unsquashfs`; these probes are what `inspect` reports and what
//! catches a damaged or foreign superblock first.
//!
//! Robustness: no input makes a probe panic, loop or allocate without bound. Reads stay inside
//! the partition ([`imgforge_partition_read::Disk`]); an ext4 probe reads 1 KiB, a squashfs probe
//! the 96-byte superblock, two metadata block headers and at most 32 KiB of id index.

mod bytes;
mod ext4;
mod findings;
mod squashfs;

use std::io::Cursor;

pub use bytes::uuid_text;
pub use ext4::{read_ext4, Ext4Report, Ext4Summary};
pub use findings::{Finding, FindingCode};
pub use squashfs::{read_squashfs, SquashfsReport, SquashfsSummary};

/// What probing a byte slice found: each filesystem the slice holds a superblock of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceReport {
    pub ext4: Option<Ext4Report>,
    pub squashfs: Option<SquashfsReport>,
}

/// Probes `bytes` (one partition) for ext4 and for squashfs, end to end: what the fuzz target
/// runs on every input and `cargo test` replays on the committed corpus. A slice cannot fail to
/// read, so only the absence of a superblock gives None.
pub fn probe_slice(bytes: &[u8]) -> SliceReport {
    let length = bytes.len() as u64;
    SliceReport {
        ext4: read_ext4(Cursor::new(bytes), 0, length).ok().flatten(),
        squashfs: read_squashfs(Cursor::new(bytes), 0, length).ok().flatten(),
    }
}
