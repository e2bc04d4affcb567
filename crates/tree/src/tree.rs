//! The scanned tree: what goes where in the filesystem, with the metadata read from the sources.

use std::ffi::OsString;
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
    pub source_ids: SourceIds,
}

/// (dev, ino) of every source file and directory a scan read, sorted (empty where the
/// platform has no inode numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceIds(Vec<(u64, u64)>);

impl SourceIds {
    /// The ids, sorted and without repeats.
    pub fn new(mut ids: Vec<(u64, u64)>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        SourceIds(ids)
    }

    /// Whether the scan read the file or directory with this (dev, ino): the build refuses an
    /// output that is one of its sources, or inside one, whatever path (bind mounts, symlinks)
    /// reaches it.
    pub fn reads(&self, id: (u64, u64)) -> bool {
        self.0.binary_search(&id).is_ok()
    }
}

impl std::ops::Deref for SourceIds {
    type Target = [(u64, u64)];

    fn deref(&self) -> &[(u64, u64)] {
        &self.0
    }
}

/// What the filesystem stores about every node besides its name and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Permission and file type bits (`st_mode`). Where the platform has none, 0o755 or
    /// 0o644 with the type bits of a directory or a regular file.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Seconds since the Unix epoch, rounded down (so times before 1970 stay ordered): the
    /// source's mtime, or for directories created only to hold targets, the newest mtime
    /// below them (0 when empty).
    pub mtime: i64,
    /// Nanoseconds to add to `mtime` (below 1,000,000,000).
    pub mtime_nsec: u32,
    /// Extended attributes sorted by name; empty unless the policy reads them.
    pub xattrs: Vec<Xattr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xattr {
    /// The full name with its namespace, e.g. `user.comment` or `security.selinux`.
    pub name: OsString,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    /// Empty for the root.
    pub name: String,
    /// The first source directory merged here; None for a directory made only to hold
    /// targets (its metadata: mode 0o40755, uid and gid 0, no xattrs).
    pub source: Option<PathBuf>,
    /// The metadata of `source`, except `mtime`: the newest of all the source directories
    /// merged here.
    pub meta: Meta,
    /// Sorted by name (byte order of the UTF-8 names).
    pub entries: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir(Dir),
    File(FileNode),
    /// Only when the policy keeps symlinks.
    Symlink(SymlinkNode),
    /// Only when the policy keeps special files.
    Special(SpecialNode),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNode {
    pub name: String,
    /// The file to read (with symlinks followed where the policy follows them: a path that
    /// opens the regular file).
    pub source: PathBuf,
    /// The size the scan saw: the copy checks the file still has it (SOURCE_CHANGED).
    pub size: u64,
    pub meta: Meta,
    /// Set on the nodes that share one source inode (hard links): equal ids, one inode.
    pub link: Option<LinkId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymlinkNode {
    pub name: String,
    /// The symlink itself.
    pub source: PathBuf,
    /// What it points to, as the link stores it.
    pub target: OsString,
    pub meta: Meta,
    pub link: Option<LinkId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialNode {
    pub name: String,
    pub source: PathBuf,
    pub kind: SpecialKind,
    /// The device number of a character or block device (`st_rdev`); 0 for the others.
    pub rdev: u64,
    pub meta: Meta,
    pub link: Option<LinkId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

/// Names one source inode reached under several names. Ids count from 0 in tree order (a
/// directory's entries before the next entry of its parent), so they do not depend on the
/// order the sources were read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

impl Node {
    pub fn name(&self) -> &str {
        self.name_and_meta().0
    }

    pub fn meta(&self) -> &Meta {
        self.name_and_meta().1
    }

    fn name_and_meta(&self) -> (&str, &Meta) {
        match self {
            Node::Dir(dir) => (&dir.name, &dir.meta),
            Node::File(file) => (&file.name, &file.meta),
            Node::Symlink(link) => (&link.name, &link.meta),
            Node::Special(special) => (&special.name, &special.meta),
        }
    }

    pub(crate) fn link_mut(&mut self) -> Option<&mut Option<LinkId>> {
        match self {
            Node::Dir(_) => None,
            Node::File(file) => Some(&mut file.link),
            Node::Symlink(link) => Some(&mut link.link),
            Node::Special(special) => Some(&mut special.link),
        }
    }
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

pub(crate) fn fail<T>(message: String) -> Result<T, ScanError> {
    Err(ScanError { message })
}
