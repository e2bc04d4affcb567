//! Reading a whole volume from a byte slice, end to end: what the fuzz target runs on every
//! input and `cargo test` replays on the committed corpus.

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;

use imgforge_tree::{Dir, Meta, SourceIds, Tree};

use super::verify::verify;
use super::{EntryKind, Finding, Volume, VolumeSummary};
use crate::plan::{plan, FormatOptions, Ownership};

/// Data bytes `read_slice` reads in all. A few KiB can describe terabytes of file data (holes,
/// chunk indexes that repeat one block); reading all of it would exercise nothing new and
/// makes a fuzzer hang (one found a 1 TiB sparse file).
const DATA_BUDGET: u64 = 16 << 20;

/// What reading a slice produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceReport {
    pub summary: VolumeSummary,
    pub findings: Vec<Finding>,
    /// Entries, the root included.
    pub entries: usize,
    /// Data bytes read, over all files and symlinks: each inode once (hard links share
    /// data), and at most 16 MiB in all.
    pub bytes_read: u64,
    /// Files, symlinks or xattrs that could not be read to the end.
    pub unreadable: usize,
}

/// Detects an EROFS filling `bytes`, reads its summary and findings, every path, every file's
/// data and symlink's target (to its end, its first error or the 16 MiB budget; each inode
/// once) and every xattr, and verifies it against the plan of an empty tree. None when `bytes`
/// holds no EROFS.
pub fn read_slice(bytes: &[u8]) -> Option<SliceReport> {
    let mut volume = Volume::open(Cursor::new(bytes), 0, bytes.len() as u64).ok()??;
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut bytes_read, mut unreadable) = (0u64, 0usize);
    let mut data_read = HashSet::new();
    for index in 0..volume.entries().len() {
        let _path = volume.path(index);
        unreadable += usize::from(volume.xattrs(index).is_err());
        // A hard link's data was read with its first name.
        if !matches!(
            volume.entries()[index].kind,
            EntryKind::File | EntryKind::Symlink
        ) || !data_read.insert(volume.entries()[index].nid())
        {
            continue;
        }
        let mut pos = 0u64;
        while bytes_read + pos < DATA_BUDGET {
            match volume.read_at(index, pos, &mut buffer) {
                Ok(0) => break,
                Ok(n) => pos += n as u64,
                Err(_) => {
                    unreadable += 1;
                    break;
                }
            }
        }
        bytes_read += pos;
    }
    let meta = Meta {
        mode: 0o40755,
        uid: 0,
        gid: 0,
        mtime: 0,
        mtime_nsec: 0,
        xattrs: Vec::new(),
    };
    let empty = Tree {
        root: Dir {
            name: String::new(),
            source: None,
            meta,
            entries: Vec::new(),
        },
        source_ids: SourceIds::default(),
    };
    let options = FormatOptions {
        uuid: [0; 16],
        label: None,
        ownership: Ownership::Root,
        timestamp: Some(0),
    };
    let empty_plan = plan(Arc::new(empty), &options).expect("an empty tree plans");
    let differences = verify(&empty_plan, &mut volume, super::UuidCheck::Compare);
    debug_assert!(differences.len() >= volume.findings().len());
    Some(SliceReport {
        summary: volume.summary().clone(),
        findings: volume.findings().to_vec(),
        entries: volume.entries().len(),
        bytes_read,
        unreadable,
    })
}
