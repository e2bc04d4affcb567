//! The source tree of a disk image's filesystem, read once from the sources' metadata.
//!
//! [`scan`] walks every `{source, target}` entry (sorted, without recursion, catching symlink
//! loops by (dev, ino)) and merges them into one [`Tree`] of names, modes, owners, times,
//! sizes, extended attributes, symlinks, special files and hard links. What a filesystem can
//! hold is its [`Policy`]: FAT32 follows symlinks and refuses special files; EROFS, ext4 and
//! squashfs keep them. Writing the filesystem, and its own limits, stay with its crate.

// Items no other crate uses are `pub(crate)`: the public API is what lib.rs exports.
#![warn(unreachable_pub)]

mod meta;
mod policy;
mod scan;
mod tree;
mod walk;

#[cfg(test)]
mod test_util;

pub use policy::{Names, Policy, Specials, Symlinks, Wording};
pub use scan::scan;
pub use tree::{
    Dir, FileNode, LinkId, Meta, Node, ScanError, Source, SourceIds, SpecialKind, SpecialNode,
    SymlinkNode, Tree, Xattr,
};
