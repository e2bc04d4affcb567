//! Reading EROFS filesystems from untrusted bytes: inside a partition of an image file, a
//! block device or a byte slice.
//!
//! [`Volume::open`] detects the filesystem (None for anything else), checks its superblock,
//! walks its whole tree and checks every inode and directory on the way; the result is a
//! [`VolumeSummary`], the entries, and [`Finding`]s for every problem. [`Volume::open_file`]
//! streams a file's bytes; [`verify`] compares a volume with the plan a spec makes.
//!
//! What it reads: uncompressed data (FLAT_PLAIN, FLAT_INLINE, CHUNK_BASED), inline and shared
//! xattrs, any block size from 512 B to 64 KiB. Compressed files are listed but not read; an
//! image on extra devices, with 48-bit block numbers or other incompatible features it does
//! not know gives a FEATURE_UNSUPPORTED finding and no tree.
//!
//! Robustness: no input makes it panic, loop or allocate without bound. Every offset is
//! checked against the filesystem's span before it is read; directories are entered once
//! (a second visit is a DIRECTORY_LOOP), at most [`MAX_DEPTH`] deep; at most [`MAX_ENTRIES`]
//! entries are kept, each a small record (paths are built only when asked for); metadata goes
//! through a 1 MiB cache; findings are capped per code.

mod dir;
mod findings;
mod inode;
mod slice;
mod superblock;
mod verify;
mod walk;

use std::io::{self, Read, Seek};
use std::ops::Range;

pub use findings::{Finding, FindingCode};
pub use slice::{read_slice, SliceReport};
pub use verify::{verify, verify_partition, Difference, UuidCheck};

use findings::Findings;
use imgforge_partition_read::{Disk, ReadError};
use inode::{Data, Inode};
use superblock::{Superblock, SUPERBLOCK_BYTES};
use walk::{path_of, Walk};

use crate::ondisk::SUPERBLOCK_OFFSET;

pub use crate::limits::{MAX_DEPTH, MAX_ENTRIES};

/// Extended attributes as (full name, value) pairs, e.g. (`user.comment`, `hello`).
pub type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl EntryKind {
    /// From a mode's type bits (Inode::read accepts no other).
    pub(crate) fn of(mode: u32) -> EntryKind {
        match mode & 0o170000 {
            0o040000 => EntryKind::Directory,
            0o120000 => EntryKind::Symlink,
            0o020000 => EntryKind::CharDevice,
            0o060000 => EntryKind::BlockDevice,
            0o010000 => EntryKind::Fifo,
            0o140000 => EntryKind::Socket,
            _ => EntryKind::File,
        }
    }
}

/// One name in the tree (a hard-linked inode appears once per name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeEntry {
    /// The name's bytes; empty for the root.
    pub name: Vec<u8>,
    /// The directory's entry index ([`Volume::entries`]); the root is its own parent.
    pub parent: usize,
    /// Directories between the root and here (the root's children are at 1).
    pub depth: u32,
    pub kind: EntryKind,
    /// A directory's entries (indexes), in on-disk order; empty for others.
    pub children: Range<usize>,
    pub(crate) inode: Inode,
}

impl VolumeEntry {
    fn new(name: Vec<u8>, parent: usize, depth: u32, inode: Inode) -> VolumeEntry {
        VolumeEntry {
            name,
            parent,
            depth,
            kind: EntryKind::of(inode.mode),
            children: 0..0,
            inode,
        }
    }

    /// The inode number (nid): equal for the names of one hard-linked inode.
    pub fn nid(&self) -> u64 {
        self.inode.nid
    }

    /// Permission bits with setuid, setgid and sticky (the type is `kind`).
    pub fn permissions(&self) -> u32 {
        self.inode.mode & 0o7777
    }

    pub fn uid(&self) -> u32 {
        self.inode.uid
    }

    pub fn gid(&self) -> u32 {
        self.inode.gid
    }

    /// Bytes of data (a symlink's target length; 0 for devices, FIFOs and sockets).
    pub fn size(&self) -> u64 {
        self.inode.size
    }

    /// (seconds since the epoch, nanoseconds).
    pub fn mtime(&self) -> (i64, u32) {
        (self.inode.mtime, self.inode.mtime_nsec)
    }

    pub fn nlink(&self) -> u32 {
        self.inode.nlink
    }

    /// A device's number as EROFS stores it (the kernel's new_encode_dev); 0 for others.
    pub fn rdev(&self) -> u32 {
        match self.kind {
            EntryKind::CharDevice | EntryKind::BlockDevice => self.inode.i_u,
            _ => 0,
        }
    }

    /// Whether its data is compressed (then it is listed, not read).
    pub fn compressed(&self) -> bool {
        self.inode.data == Data::Compressed
    }
}

/// What a volume is, from its superblock and its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSummary {
    /// The volume name up to its first NUL; None when empty.
    pub label: Option<String>,
    pub uuid: [u8; 16],
    pub block_size: u32,
    /// The superblock's inode count.
    pub inodes: u64,
    /// Bytes the filesystem spans (its blocks times the block size).
    pub used_bytes: u64,
    /// The superblock's build time, seconds since the epoch.
    pub build_time: u64,
    /// Found in the tree: directories below the root, regular files, symlinks, and devices,
    /// FIFOs and sockets; each name counts.
    pub directories: u64,
    pub files: u64,
    pub symlinks: u64,
    pub specials: u64,
    /// The regular files' sizes added up, each inode once.
    pub file_bytes: u64,
    /// Regular files with compressed data.
    pub compressed_files: u64,
}

pub struct Volume<R> {
    disk: Disk<R>,
    superblock: Superblock,
    summary: VolumeSummary,
    entries: Vec<VolumeEntry>,
    findings: Vec<Finding>,
}

impl<R: Read + Seek> Volume<R> {
    /// Reads the filesystem in the `length` bytes at byte `offset` of `reader`: None when
    /// they hold no EROFS superblock. Err only when reading the superblock's block fails.
    pub fn open(reader: R, offset: u64, length: u64) -> io::Result<Option<Volume<R>>> {
        let mut disk = Disk::new(reader, offset, length);
        let end = (SUPERBLOCK_OFFSET + SUPERBLOCK_BYTES) as u64;
        if length < end {
            return Ok(None);
        }
        let head = match disk.read(0, end as usize) {
            Ok(head) => head,
            Err(ReadError::Io(e)) => return Err(e),
            Err(_) => return Ok(None),
        };
        let Some(superblock) = Superblock::decode(&head[SUPERBLOCK_OFFSET..]) else {
            return Ok(None);
        };
        let mut findings = Findings::default();
        let mut entries = Vec::new();
        match superblock.unreadable() {
            Some((unsupported, message)) => {
                let code = if unsupported {
                    FindingCode::FeatureUnsupported
                } else {
                    FindingCode::SuperblockInvalid
                };
                findings.add(code, None, format!("superblock: {message}"));
            }
            None => {
                let block = superblock.block_size().min(length) as usize;
                if let Ok(first) = disk.read(0, block) {
                    if let Some((stored, computed)) = superblock.checksum_mismatch(&first) {
                        let message = format!("superblock: the stored crc32c is {stored:#010x}; its bytes give {computed:#010x}");
                        findings.add(FindingCode::SuperblockChecksumWrong, None, message);
                    }
                }
                if superblock.span() > length {
                    let message = format!(
                        "the filesystem spans {} bytes; the partition has {length}",
                        superblock.span()
                    );
                    findings.add(FindingCode::PartitionTruncated, None, message);
                }
                entries = Walk {
                    disk: &mut disk,
                    sb: &superblock,
                    findings: &mut findings,
                    entries: Vec::new(),
                    dir_bytes: 0,
                }
                .run();
            }
        }
        let summary = summarize(&superblock, &entries);
        Ok(Some(Volume {
            disk,
            superblock,
            summary,
            entries,
            findings: findings.finish_by_code(),
        }))
    }

    pub fn summary(&self) -> &VolumeSummary {
        &self.summary
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The root first (when it could be read), then each directory's entries together, in
    /// breadth-first order.
    pub fn entries(&self) -> &[VolumeEntry] {
        &self.entries
    }

    /// Every entry below the root, each directory followed by its contents (depth first, each
    /// directory's entries in on-disk order): the order a listing shows.
    pub fn tree_order(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.entries.len().saturating_sub(1));
        let mut pending: Vec<usize> = match self.entries.first() {
            Some(root) => root.children.clone().rev().collect(),
            None => Vec::new(),
        };
        while let Some(index) = pending.pop() {
            order.push(index);
            pending.extend(self.entries[index].children.clone().rev());
        }
        order
    }

    /// The path of entry `index`: "/" for the root, names joined by "/" (bytes that are not
    /// UTF-8 shown as U+FFFD).
    pub fn path(&self, index: usize) -> String {
        path_of(&self.entries, index)
    }

    /// The extended attributes of entry `index`: (full name, value), as stored.
    pub fn xattrs(&mut self, index: usize) -> Result<Xattrs, String> {
        let inode = &self.entries[index].inode;
        inode
            .xattrs(&mut self.disk, &self.superblock)
            .map_err(|(_, why)| why)
    }

    /// The target of the symlink at entry `index`.
    pub fn symlink_target(&mut self, index: usize) -> Result<Vec<u8>, String> {
        let inode = &self.entries[index].inode;
        inode
            .read_data(&mut self.disk, &self.superblock, 0, inode.size)
            .map_err(|(_, why)| why)
    }

    /// Fills `buffer` with the data of entry `index` from byte `pos` (a regular file or a
    /// symlink); returns the bytes filled, 0 at the end.
    pub fn read_at(&mut self, index: usize, pos: u64, buffer: &mut [u8]) -> Result<usize, String> {
        let inode = &self.entries[index].inode;
        if pos >= inode.size || buffer.is_empty() {
            return Ok(0);
        }
        let (at, run) = inode
            .extent(&mut self.disk, &self.superblock, pos)
            .map_err(|(_, why)| why)?;
        let take = run.min(buffer.len() as u64) as usize;
        match at {
            None => buffer[..take].fill(0),
            Some(at) => self
                .disk
                .read_at(at, &mut buffer[..take])
                .map_err(|e| format!("inode {}: {e}", inode.nid))?,
        }
        Ok(take)
    }
}

/// A UUID as imgforge shows every GUID and UUID: "5C0E2F1A-8D4B-4E6F-9A3C-7B1D2E4F6A80", its 16
/// bytes in stored order (EROFS keeps them in text order).
pub fn uuid_text(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let parts = [
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32],
    ];
    parts.join("-")
}

fn summarize(superblock: &Superblock, entries: &[VolumeEntry]) -> VolumeSummary {
    let mut summary = VolumeSummary {
        label: superblock.label(),
        uuid: superblock.uuid,
        block_size: superblock.block_size() as u32,
        inodes: superblock.inos,
        used_bytes: superblock.span(),
        build_time: superblock.build_time,
        directories: 0,
        files: 0,
        symlinks: 0,
        specials: 0,
        file_bytes: 0,
        compressed_files: 0,
    };
    let mut counted = std::collections::HashSet::new();
    for entry in entries.iter().skip(1) {
        match entry.kind {
            EntryKind::Directory => summary.directories += 1,
            EntryKind::File => {
                summary.files += 1;
                if counted.insert(entry.inode.nid) {
                    summary.file_bytes += entry.inode.size;
                    summary.compressed_files += u64::from(entry.compressed());
                }
            }
            EntryKind::Symlink => summary.symlinks += 1,
            _ => summary.specials += 1,
        }
    }
    summary
}
