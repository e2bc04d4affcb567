//! The source tree of a FAT filesystem: what goes where, as read from the sources' metadata.
//!
//! The FAT view of the tree [`imgforge_tree::scan`] reads: FAT keeps names, sizes and mtimes
//! (seconds) only, and its scan policy follows symlinks and refuses special files.

use std::path::PathBuf;

pub use imgforge_tree::{ScanError, Source, SourceIds};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub root: Dir,
    /// What the scan read, for [`SourceIds::reads`].
    pub source_ids: SourceIds,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    /// Empty for the root.
    pub name: String,
    /// Seconds since the Unix epoch: the source directory's mtime, or for directories created
    /// only to hold targets, the newest mtime below them (0 when empty).
    pub mtime: i64,
    /// Sorted by name (byte order of the UTF-8 names).
    pub entries: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir(Dir),
    File(FileNode),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNode {
    pub name: String,
    /// The file to read (symlinks already followed: a path that opens the regular file).
    pub source: PathBuf,
    pub size: u64,
    pub mtime: i64,
}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Dir(dir) => &dir.name,
            Node::File(file) => &file.name,
        }
    }
}
