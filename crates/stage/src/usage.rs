//! What a tree takes in an ext4 filesystem of 4 KiB blocks, counted from the scan: the inputs of
//! imgforge's size estimate (ts/plan/ext4-size.ts adds the filesystem's own metadata).

use std::collections::HashSet;

use imgforge_tree::{Dir, Node, Tree};

/// ext4's block size as imgforge makes it (mkfs.ext4 -b 4096).
pub(crate) const BLOCK_SIZE: u64 = 4096;
/// A directory block's bytes for entries: the last 12 hold the metadata_csum tail entry.
const DIR_BLOCK_ROOM: u64 = BLOCK_SIZE - 12;
/// A symlink target shorter than this lives in the inode (a "fast" symlink): no block.
const FAST_SYMLINK_MAX: u64 = 59;
/// Blocks one extent covers at most (an initialized extent's 15-bit length).
const EXTENT_BLOCKS: u64 = 32768;
/// Extents the inode itself holds; more need extent tree blocks.
const INODE_EXTENTS: u64 = 4;
/// Extents in one 4 KiB extent tree block ((4096 - 12 header) / 12).
const EXTENTS_PER_BLOCK: u64 = 340;

/// What the tree needs in the filesystem, beyond the filesystem's own metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Inodes of the tree: directories (the root included) and every other node, hard links
    /// once. The filesystem's reserved inodes and lost+found are not counted.
    pub inodes: u64,
    /// Regular files (hard links once) and their sizes added up.
    pub files: u64,
    pub file_bytes: u64,
    /// Data blocks of the regular files, with their extent tree blocks.
    pub file_blocks: u64,
    pub directories: u64,
    /// Blocks of the directories' entries, as mkfs.ext4 -d fills them (one after another).
    pub directory_blocks: u64,
    /// Blocks of symlinks whose target does not fit in the inode.
    pub symlink_blocks: u64,
}

/// A directory entry's length: 8 bytes of header and the name, in 4-byte steps.
fn entry_len(name_bytes: u64) -> u64 {
    (8 + name_bytes).div_ceil(4) * 4
}

/// Blocks of a directory whose entries (after "." and "..") have these name lengths, filled in
/// order: an entry that does not fit in the current block starts the next.
pub(crate) fn directory_blocks(names: impl IntoIterator<Item = u64>) -> u64 {
    let mut blocks = 1;
    let mut used = entry_len(1) + entry_len(2);
    for name in names {
        let len = entry_len(name);
        if used + len > DIR_BLOCK_ROOM {
            blocks += 1;
            used = 0;
        }
        used += len;
    }
    blocks
}

/// Data and extent tree blocks of a file of `size` bytes written contiguously.
pub(crate) fn file_blocks(size: u64) -> u64 {
    let data = size.div_ceil(BLOCK_SIZE);
    // Block groups' metadata can split an extent: count one more than the length needs.
    let extents = if data == 0 {
        0
    } else {
        data.div_ceil(EXTENT_BLOCKS) + 1
    };
    let tree = if extents > INODE_EXTENTS {
        extents.div_ceil(EXTENTS_PER_BLOCK)
    } else {
        0
    };
    data + tree
}

/// Counts what `tree` takes in an ext4 filesystem (see [`Usage`]).
pub fn usage(tree: &Tree) -> Usage {
    let mut usage = Usage::default();
    let mut seen = HashSet::new();
    let mut stack: Vec<(&Dir, bool)> = vec![(&tree.root, true)];
    while let Some((dir, is_root)) = stack.pop() {
        usage.inodes += 1;
        usage.directories += 1;
        // The root also holds lost+found.
        let extra = if is_root {
            Some("lost+found".len() as u64)
        } else {
            None
        };
        usage.directory_blocks += directory_blocks(
            extra
                .into_iter()
                .chain(dir.entries.iter().map(|node| node.name().len() as u64)),
        );
        for node in &dir.entries {
            let link = match node {
                Node::Dir(child) => {
                    stack.push((child, false));
                    continue;
                }
                Node::File(file) => file.link,
                Node::Symlink(link) => link.link,
                Node::Special(special) => special.link,
            };
            if let Some(id) = link {
                if !seen.insert(id) {
                    continue;
                }
            }
            usage.inodes += 1;
            match node {
                Node::File(file) => {
                    usage.files += 1;
                    usage.file_bytes += file.size;
                    usage.file_blocks += file_blocks(file.size);
                }
                Node::Symlink(link) if link.target.len() as u64 > FAST_SYMLINK_MAX => {
                    usage.symlink_blocks += 1
                }
                _ => {}
            }
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_blocks_fill_one_after_another() {
        assert_eq!(directory_blocks([]), 1);
        // 4084 bytes of room: "." and ".." take 24; entries of 8-byte names take 16.
        assert_eq!(
            directory_blocks(std::iter::repeat_n(8, (4084 - 24) / 16)),
            1
        );
        assert_eq!(
            directory_blocks(std::iter::repeat_n(8, (4084 - 24) / 16 + 1)),
            2
        );
        assert_eq!(directory_blocks(std::iter::repeat_n(255, 16)), 2);
    }

    #[test]
    fn file_blocks_count_data_and_extent_tree_blocks() {
        assert_eq!(file_blocks(0), 0);
        assert_eq!(file_blocks(1), 1);
        assert_eq!(file_blocks(4096), 1);
        assert_eq!(file_blocks(4097), 2);
        // 128 MiB: one extent (and one spare) fit in the inode.
        assert_eq!(file_blocks(128 << 20), 32768);
        // 1 GiB: 9 extents need a tree block.
        assert_eq!(file_blocks(1 << 30), 262144 + 1);
    }

    #[test]
    fn usage_counts_hard_links_once_and_long_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a"), vec![1u8; 5000]).unwrap();
        std::fs::hard_link(root.join("a"), root.join("sub/b")).unwrap();
        std::os::unix::fs::symlink("short", root.join("s")).unwrap();
        std::os::unix::fs::symlink("l".repeat(100), root.join("long")).unwrap();
        let sources = [imgforge_tree::Source {
            source: root,
            target: "/".into(),
        }];
        let tree = crate::scan(&sources, crate::Kind::Ext4).unwrap();
        let u = usage(&tree);
        assert_eq!(u.files, 1);
        assert_eq!(u.file_bytes, 5000);
        assert_eq!(u.file_blocks, 2);
        assert_eq!(u.directories, 2);
        assert_eq!(u.inodes, 2 + 1 + 2);
        assert_eq!(u.symlink_blocks, 1);
        assert_eq!(u.directory_blocks, 2);
    }
}
