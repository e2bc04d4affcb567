//! Binding of the EROFS reader: `readErofs` summarises, checks and optionally lists the EROFS
//! in one partition of an image. Values are converted here; the reading and every judgement
//! live in imgforge-erofs.

use imgforge_erofs::{uuid_text, EntryKind, Volume};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{open_image, to_u64, FilesystemFinding};

/// A file, directory, symlink or special file of the filesystem (each name of a hard-linked
/// inode is one entry).
#[napi(object)]
pub struct ErofsEntry {
    /// Full path, "/usr/lib/os-release" (bytes that are not UTF-8 shown as U+FFFD).
    pub path: String,
    #[napi(
        ts_type = "'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket'"
    )]
    pub kind: String,
    /// Bytes of data (a symlink's target length; 0 for special files).
    pub size: f64,
    /// Permission bits with setuid, setgid and sticky (e.g. 0o4755).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Last modification, seconds since the Unix epoch (with a fraction for nanoseconds).
    pub modified: f64,
    pub nlink: u32,
    /// The inode number: names with the same nid are hard links of one inode.
    pub nid: f64,
    /// A symlink's target; absent for others, or when it cannot be read.
    pub target: Option<String>,
}

/// An EROFS filesystem summarised from its superblock and tree.
#[napi(object)]
pub struct ErofsReport {
    /// The volume name; absent when empty.
    pub label: Option<String>,
    /// The volume UUID, "5C0E2F1A-8D4B-4E6F-9A3C-7B1D2E4F6A80", its 16 bytes in stored order.
    pub uuid: String,
    pub block_size: u32,
    /// The superblock's inode count.
    pub inodes: f64,
    /// Bytes the filesystem spans (its blocks times the block size).
    pub used_bytes: f64,
    /// Directories below the root, regular files, symlinks, and devices, FIFOs and sockets
    /// (each name counts).
    pub directories: f64,
    pub files: f64,
    pub symlinks: f64,
    pub specials: f64,
    /// The regular files' sizes added up, each inode once.
    pub file_bytes: f64,
    /// Regular files whose data is compressed (listed, not read).
    pub compressed_files: f64,
    /// Every problem found; empty for a sound filesystem. At most 50 per code, then one more
    /// saying how many were left out. Codes: SUPERBLOCK_INVALID, SUPERBLOCK_CHECKSUM_WRONG,
    /// FEATURE_UNSUPPORTED, INODE_INVALID, DATA_OUT_OF_RANGE, DIRECTORY_INVALID,
    /// DIRECTORY_UNSORTED, DOT_ENTRY_INVALID, DIRECTORY_LOOP, DIRECTORY_TOO_DEEP,
    /// TOO_MANY_ENTRIES, NAME_INVALID, FILE_TYPE_MISMATCH, LINK_COUNT_WRONG, XATTR_INVALID,
    /// PARTITION_TRUNCATED or READ_FAILED.
    pub findings: Vec<FilesystemFinding>,
    /// Every entry below the root, each directory before its contents; only when asked for
    /// (`withFiles`).
    pub entries: Option<Vec<ErofsEntry>>,
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Directory => "directory",
        EntryKind::File => "file",
        EntryKind::Symlink => "symlink",
        EntryKind::CharDevice => "char-device",
        EntryKind::BlockDevice => "block-device",
        EntryKind::Fifo => "fifo",
        EntryKind::Socket => "socket",
    }
}

/// Reads the EROFS in the `length` bytes at byte `offset` of `image` (an image file or a block
/// device): null when the partition holds none. With `withFiles`, lists every entry. Throws
/// only when the image cannot be opened or its first block read.
#[napi]
pub fn read_erofs(
    image: String,
    offset: f64,
    length: f64,
    with_files: bool,
) -> Result<Option<ErofsReport>> {
    let file = open_image(&image)?;
    let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
    let volume = Volume::open(file, offset, length)
        .map_err(|e| Error::from_reason(format!("cannot read {image}: {e}")))?;
    let Some(mut volume) = volume else {
        return Ok(None);
    };
    let s = volume.summary().clone();
    let entries = with_files.then(|| {
        volume
            .tree_order()
            .into_iter()
            .map(|index| {
                let entry = volume.entries()[index].clone();
                let target = (entry.kind == EntryKind::Symlink)
                    .then(|| volume.symlink_target(index).ok())
                    .flatten()
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
                let (seconds, nanoseconds) = entry.mtime();
                ErofsEntry {
                    path: volume.path(index),
                    kind: kind_name(entry.kind).to_string(),
                    size: entry.size() as f64,
                    mode: entry.permissions(),
                    uid: entry.uid(),
                    gid: entry.gid(),
                    modified: seconds as f64 + f64::from(nanoseconds) / 1e9,
                    nlink: entry.nlink(),
                    nid: entry.nid() as f64,
                    target,
                }
            })
            .collect()
    });
    Ok(Some(ErofsReport {
        label: s.label,
        uuid: uuid_text(&s.uuid),
        block_size: s.block_size,
        inodes: s.inodes as f64,
        used_bytes: s.used_bytes as f64,
        directories: s.directories as f64,
        files: s.files as f64,
        symlinks: s.symlinks as f64,
        specials: s.specials as f64,
        file_bytes: s.file_bytes as f64,
        compressed_files: s.compressed_files as f64,
        findings: volume
            .findings()
            .iter()
            .map(|f| FilesystemFinding {
                code: f.code.as_str().to_string(),
                message: f.message.clone(),
            })
            .collect(),
        entries,
    }))
}
