//! The source tree of a FAT filesystem: what goes where, as read from the sources' metadata.

use std::fmt;
use std::path::PathBuf;

/// One `files` entry of the spec: a file or a directory (its tree, recursively) placed at
/// `target`, an absolute path inside the filesystem ("/" is the root).
#[derive(Debug, Clone)]
pub struct Source {
    pub source: PathBuf,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub root: Dir,
    /// (dev, ino) of every source file and directory the scan read, sorted (empty where the
    /// platform has no inode numbers).
    pub source_ids: Vec<(u64, u64)>,
}

impl Tree {
    /// Whether the scan read the file or directory with this (dev, ino): the build refuses an
    /// output that is one of its sources, or inside one, whatever path (bind mounts, symlinks)
    /// reaches it.
    pub fn reads(&self, id: (u64, u64)) -> bool {
        self.source_ids.binary_search(&id).is_ok()
    }
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

/// A problem with the sources, naming the path in the filesystem and the source path.
#[derive(Debug)]
pub struct ScanError {
    pub message: String,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScanError {}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Dir(dir) => &dir.name,
            Node::File(file) => &file.name,
        }
    }
}
