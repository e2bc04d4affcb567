//! The layout arithmetic, free of I/O: block counts, inline tails, inode slots and nids,
//! inline xattr sizes and the packing of directory entries into blocks.

use crate::ondisk::{BLOCK, DIRENT, SLOT, XATTR_ENTRY_HEADER, XATTR_HEADER};

/// Blocks that hold `bytes`.
pub(crate) fn blocks_for(bytes: u64) -> u64 {
    bytes.div_ceil(BLOCK)
}

/// The inline tail of a directory's, symlink's or file's `size` bytes after an inode with its xattrs
/// (`inode_bytes`), if FLAT_INLINE can hold it: the tail is the data past the last whole block
/// and must sit in the inode's block without crossing its end (erofs_map_blocks_flatmode
/// refuses a crossing tail). None: FLAT_PLAIN (no tail, or it does not fit).
pub(crate) fn inline_tail(size: u64, inode_bytes: u64) -> Option<u64> {
    let tail = size % BLOCK;
    (tail > 0 && inode_bytes + tail <= BLOCK).then_some(tail)
}

/// Places inode records (an inode, its inline xattrs and its inline tail) one after another in
/// the meta area, each on a 32-byte slot, and never across a block boundary: a record that
/// does not fit in the rest of the current block starts the next one. The inline tail must
/// not cross (see [`inline_tail`]), and keeping the inode and its xattrs in one block too
/// means every reader finds them in one block read.
#[derive(Debug, Default)]
pub(crate) struct MetaCursor {
    /// Bytes of the meta area used so far.
    pub(crate) used: u64,
}

impl MetaCursor {
    /// The byte offset in the meta area of a record of `bytes` (at most a block).
    pub(crate) fn place(&mut self, bytes: u64) -> u64 {
        debug_assert!(bytes <= BLOCK);
        if self.used % BLOCK + bytes > BLOCK {
            self.used = self.used.next_multiple_of(BLOCK);
        }
        let offset = self.used;
        self.used += bytes.next_multiple_of(SLOT);
        offset
    }

    /// Whole blocks of the meta area (at least one).
    pub(crate) fn blocks(&self) -> u64 {
        blocks_for(self.used).max(1)
    }
}

/// The nid of an inode at byte `offset` of the meta area.
pub(crate) fn nid_of(offset: u64) -> u64 {
    offset / SLOT
}

/// The inline xattr name index and the name without its prefix, for the prefixes EROFS stores
/// inline (erofs_fs.h EROFS_XATTR_INDEX_*); None for any other namespace.
pub(crate) fn xattr_prefix(name: &[u8]) -> Option<(u8, &[u8])> {
    // The ACL names are whole names: index 2 and 3 with an empty suffix.
    match name {
        b"system.posix_acl_access" => return Some((2, &[])),
        b"system.posix_acl_default" => return Some((3, &[])),
        _ => {}
    }
    [(1u8, &b"user."[..]), (4, b"trusted."), (6, b"security.")]
        .into_iter()
        .find_map(|(index, prefix)| name.strip_prefix(prefix).map(|rest| (index, rest)))
}

/// Bytes of one inline xattr entry: its 4-byte header, name suffix and value, padded to 4.
pub(crate) fn xattr_entry_bytes(suffix_len: usize, value_len: usize) -> u64 {
    (XATTR_ENTRY_HEADER + suffix_len as u64 + value_len as u64).next_multiple_of(4)
}

/// `i_xattr_icount` for an inline body of `entry_bytes` bytes of entries (a multiple of 4):
/// the body is 12 + 4 * (icount - 1) bytes; 0 when there are no xattrs. None when it does
/// not fit the 16-bit field.
pub(crate) fn xattr_icount(entry_bytes: u64) -> Option<u16> {
    if entry_bytes == 0 {
        return Some(0);
    }
    u16::try_from(entry_bytes / 4 + 1).ok()
}

/// Bytes of the inline xattr body for `icount`.
pub(crate) fn xattr_body_bytes(icount: u16) -> u64 {
    match icount {
        0 => 0,
        n => XATTR_HEADER + 4 * (u64::from(n) - 1),
    }
}

/// How a directory's entries (sorted, with "." and "..") fill its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirPacking {
    /// Index of the first entry of each block.
    pub(crate) block_starts: Vec<usize>,
    /// i_size: whole blocks before the last one, plus the last one's used bytes.
    pub(crate) size: u64,
}

/// Packs entries with names of `name_lens` bytes: a block holds the 12-byte dirents of its
/// entries followed by their names, so an entry takes 12 + its name's length, and a block
/// takes entries while they fit in 4096 bytes.
pub(crate) fn pack_dirents(name_lens: impl IntoIterator<Item = usize>) -> DirPacking {
    let mut block_starts = vec![0];
    let mut used = 0u64;
    for (count, len) in name_lens.into_iter().enumerate() {
        let bytes = DIRENT + len as u64;
        if used + bytes > BLOCK {
            block_starts.push(count);
            used = 0;
        }
        used += bytes;
    }
    let size = (block_starts.len() as u64 - 1) * BLOCK + used;
    DirPacking { block_starts, size }
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
