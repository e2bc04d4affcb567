//! Reading a whole volume from a byte slice, end to end: what the fuzz target runs on every
//! input and `cargo test` replays on the committed corpus.

use std::io::{Cursor, Read};

use super::verify::verify;
use super::{Finding, Volume, VolumeSummary};
use crate::tree::{Dir, SourceIds, Tree};

/// What reading a slice produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceReport {
    pub summary: VolumeSummary,
    pub findings: Vec<Finding>,
    /// Entries below the root.
    pub entries: usize,
    /// File bytes read, over all files.
    pub bytes_read: u64,
    /// Files whose data could not be read to the end.
    pub unreadable_files: usize,
}

/// Detects a FAT32 filesystem filling `bytes`, reads its summary and findings, lists every
/// path, reads every file to its end (or its first error), and verifies it against an empty
/// tree. None when `bytes` holds no FAT32.
pub fn read_slice(bytes: &[u8]) -> Option<SliceReport> {
    let mut volume = Volume::open(Cursor::new(bytes), 0, bytes.len() as u64).ok()??;
    let listing = volume.listing();
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut bytes_read, mut unreadable_files) = (0u64, 0usize);
    for index in volume.tree_order() {
        let Ok(mut file) = volume.open_file(index) else {
            continue;
        };
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => bytes_read += n as u64,
                Err(_) => {
                    unreadable_files += 1;
                    break;
                }
            }
        }
    }
    let empty = Tree {
        root: Dir {
            name: String::new(),
            mtime: 0,
            entries: Vec::new(),
        },
        source_ids: SourceIds::default(),
    };
    let differences = verify(&empty, &mut volume);
    debug_assert!(
        differences.len()
            >= listing
                .iter()
                .filter(|e| !e.path[1..].contains('/'))
                .count()
    );
    Some(SliceReport {
        summary: volume.summary().clone(),
        findings: volume.findings().to_vec(),
        entries: listing.len(),
        bytes_read,
        unreadable_files,
    })
}
