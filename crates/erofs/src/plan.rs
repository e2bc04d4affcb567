//! Planning: from the scanned tree alone, the whole filesystem: every inode's form, nid, data
//! layout and blocks, and the superblock. Nothing is read or written.
//!
//! Layout: block 0 holds the superblock (at byte 1024); the meta area starts at block 1
//! (`meta_blkaddr`) with the root's inode first (root_nid is 16 bits), each inode followed by
//! its inline xattrs and, for FLAT_INLINE inodes, its tail (what follows the last whole block:
//! all of a small file). After the meta area come the whole blocks of directories and
//! symlinks, then every regular file's whole blocks, contiguous, so metadata is one sequential
//! run and file data starts on block boundaries, where reflinks can share it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgforge_tree::Tree;

use crate::inodes::{flatten, os_bytes, Inode, Kind};
use crate::layout::{
    blocks_for, inline_tail, nid_of, pack_dirents, xattr_body_bytes, xattr_entry_bytes,
    xattr_icount, xattr_prefix, DirPacking, MetaCursor,
};
use crate::limits::MAX_ENTRIES;
use crate::ondisk::{
    encode_rdev, DataLayout, InlineXattr, InodeFields, Superblock, BLOCK, COMPACT_INODE,
    EXTENDED_INODE,
};

/// The meta area starts right after the superblock's block.
pub(crate) const META_BLKADDR: u32 = 1;
const MAX_NAME: usize = 255;

/// Who owns the files in the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Every inode 0:0 (what an image built by an unprivileged user usually wants).
    Root,
    /// The sources' uid and gid.
    Source,
}

/// What the filesystem is, not where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    pub uuid: [u8; 16],
    /// The volume name: at most 16 bytes.
    pub label: Option<String>,
    pub ownership: Ownership,
    /// SOURCE_DATE_EPOCH: every inode's mtime and the build time. None: each inode keeps its
    /// source's mtime, and the build time is the most common one (so most inodes can be
    /// 32-byte compact inodes, whose mtime is the build time).
    pub timestamp: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    LabelTooLong {
        label: String,
    },
    /// A name longer than 255 bytes.
    NameTooLong {
        path: String,
        source: Option<PathBuf>,
    },
    /// An extended attribute EROFS cannot store inline.
    Xattr {
        path: String,
        source: Option<PathBuf>,
        why: String,
    },
    /// More entries (names, the root included) than [`MAX_ENTRIES`], what imgforge reads
    /// back from one EROFS.
    TooManyEntries {
        count: usize,
    },
    /// More blocks than 32-bit block addresses reach (16 TiB).
    TooLarge {
        blocks: u64,
    },
    /// The partition does not start on a 4 KiB boundary of the image.
    Misaligned {
        partition_offset: u64,
    },
}

fn from(source: &Option<PathBuf>) -> String {
    source
        .as_ref()
        .map(|s| format!(" (from {})", s.display()))
        .unwrap_or_default()
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::LabelTooLong { label } => write!(
                f,
                "the EROFS volume name {label:?} is {} bytes; it holds at most 16",
                label.len()
            ),
            PlanError::NameTooLong { path, source } => write!(
                f,
                "{path}{}: the name is longer than 255 bytes, the most an EROFS name holds",
                from(source)
            ),
            PlanError::Xattr { path, source, why } => write!(f, "{path}{}: {why}", from(source)),
            PlanError::TooManyEntries { count } => write!(
                f,
                "{count} files, directories and links are more than the {MAX_ENTRIES} an EROFS \
                 imgforge writes holds"
            ),
            PlanError::TooLarge { blocks } => write!(
                f,
                "{blocks} blocks of 4 KiB are more than EROFS addresses (2^32 - 1 blocks, 16 TiB)"
            ),
            PlanError::Misaligned { partition_offset } => write!(
                f,
                "the EROFS partition starts at byte {partition_offset}, not on a 4096-byte boundary \
                 of the image, so its file data could not be reflinked"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// One inode as placed: its fields, inline xattr entries and where its parts go.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// Byte offset of the inode in the meta area (nid * 32).
    pub(crate) offset: u64,
    pub(crate) fields: InodeFields,
    /// In the sources' (name) order.
    pub(crate) xattrs: Vec<InlineXattr>,
    /// Bytes of data after the inode and its xattrs (FLAT_INLINE), else 0.
    pub(crate) tail: u64,
    pub(crate) whole_blocks: u64,
}

/// The planned filesystem. It owns the tree it was planned from, so it can be written later,
/// on another thread.
#[derive(Debug, Clone)]
pub struct Plan {
    tree: Arc<Tree>,
    options: FormatOptions,
    pub(crate) inodes: Vec<Inode>,
    pub(crate) placed: Vec<Placed>,
    pub(crate) superblock: Superblock,
    pub(crate) partition_offset: u64,
    /// The first block of regular file data: blocks before it are metadata.
    pub(crate) file_data_start: u64,
}

/// Plans the filesystem for a partition starting at byte `partition_offset` of the image,
/// which must be a multiple of 4096 (see [`Plan::at`]): [`plan`] placed there.
pub fn plan_at(
    tree: Arc<Tree>,
    options: &FormatOptions,
    partition_offset: u64,
) -> Result<Plan, PlanError> {
    plan(tree, options)?.at(partition_offset)
}

/// Plans the filesystem for a partition at offset 0 (its layout does not depend on where it
/// goes; [`Plan::at`] moves it to any 4 KiB-aligned offset).
pub fn plan(tree: Arc<Tree>, options: &FormatOptions) -> Result<Plan, PlanError> {
    let mut volume_name = [0u8; 16];
    if let Some(label) = &options.label {
        let bytes = label.as_bytes();
        if bytes.len() > volume_name.len() {
            return Err(PlanError::LabelTooLong {
                label: label.clone(),
            });
        }
        volume_name[..bytes.len()].copy_from_slice(bytes);
    }
    let inodes = flatten(&tree);
    // Names, not inodes: hard links are entries of their own (fewer than 2^32 either way).
    let entries = 1 + inodes
        .iter()
        .map(|inode| match &inode.kind {
            Kind::Dir { entries, .. } => entries.len(),
            _ => 0,
        })
        .sum::<usize>();
    if entries > MAX_ENTRIES {
        return Err(PlanError::TooManyEntries { count: entries });
    }
    let build = build_time(&inodes, options.timestamp);
    let mut cursor = MetaCursor::default();
    let mut placed = Vec::with_capacity(inodes.len());
    for index in 0..inodes.len() {
        placed.push(place_inode(&inodes, index, options, build, &mut cursor)?);
    }
    let first_block = u64::from(META_BLKADDR) + cursor.blocks();
    let (file_data_start, next_block) = assign_blocks(&inodes, &mut placed, first_block)?;
    let blocks =
        u32::try_from(next_block).map_err(|_| PlanError::TooLarge { blocks: next_block })?;
    let superblock = Superblock {
        // The root is the first inode: nid 0.
        root_nid: nid_of(placed[0].offset) as u16,
        inodes: inodes.len() as u64,
        build_time: build.0 as u64,
        build_time_nsec: build.1,
        blocks,
        meta_blkaddr: META_BLKADDR,
        uuid: options.uuid,
        volume_name,
    };
    Ok(Plan {
        tree,
        options: options.clone(),
        inodes,
        placed,
        superblock,
        partition_offset: 0,
        file_data_start,
    })
}

/// Decides inode `index`'s form, xattrs and data layout, and places it in the meta area.
fn place_inode(
    inodes: &[Inode],
    index: usize,
    options: &FormatOptions,
    build: (i64, u32),
    cursor: &mut MetaCursor,
) -> Result<Placed, PlanError> {
    let inode = &inodes[index];
    let xattrs = inline_xattrs(inode)?;
    let size = data_size(inodes, index)?;
    let (mtime, mtime_nsec) = match options.timestamp {
        Some(t) => (t, 0),
        None => (inode.meta.mtime, inode.meta.mtime_nsec),
    };
    let (uid, gid) = match options.ownership {
        Ownership::Root => (0, 0),
        Ownership::Source => (inode.meta.uid, inode.meta.gid),
    };
    // A compact inode has 16-bit uid, gid and nlink, a 32-bit size, and no mtime of its own:
    // it reads as the superblock's build time.
    let compact = (mtime, mtime_nsec) == build
        && uid <= 0xffff
        && gid <= 0xffff
        && inode.nlink <= 0xffff
        && size <= u64::from(u32::MAX);
    let entry_bytes: u64 = xattrs
        .iter()
        .map(|x| xattr_entry_bytes(x.suffix.len(), x.value.len()))
        .sum();
    let too_many = || {
        xattr_error(
            inode,
            "its extended attributes are more than an inode holds inline".into(),
        )
    };
    let xattr_icount = xattr_icount(entry_bytes).ok_or_else(too_many)?;
    let inode_size = if compact {
        COMPACT_INODE
    } else {
        EXTENDED_INODE
    };
    let inode_bytes = inode_size + xattr_body_bytes(xattr_icount);
    if inode_bytes > BLOCK {
        return Err(xattr_error(
            inode,
            format!(
                "its extended attributes take {inode_bytes} bytes with the inode; imgforge \
                 stores them inline, in the inode's 4096-byte block"
            ),
        ));
    }
    // A regular file's whole blocks are its own, on block boundaries, so reflinks share them;
    // its tail (a small file: all of it) goes inline after the inode where it fits, as
    // mkfs.erofs does: no block of its own, and one copy_file_range per file at most (a tail
    // cannot be reflinked into the middle of an image anyway).
    let tail = match inode.kind {
        Kind::Dir { .. } | Kind::Symlink { .. } | Kind::File { .. } => {
            inline_tail(size, inode_bytes)
        }
        Kind::Special { .. } => None,
    };
    let (layout, whole_blocks) = match tail {
        Some(_) => (DataLayout::FlatInline, size / BLOCK),
        None => (DataLayout::FlatPlain, blocks_for(size)),
    };
    let offset = cursor.place(inode_bytes + tail.unwrap_or(0));
    let i_u = match inode.kind {
        Kind::Special { rdev } => encode_rdev(rdev),
        // The block address, set by assign_blocks.
        _ => 0,
    };
    Ok(Placed {
        offset,
        fields: InodeFields {
            extended: !compact,
            layout,
            xattr_icount,
            mode: inode.meta.mode as u16,
            nlink: inode.nlink,
            size,
            i_u,
            ino: index as u32 + 1,
            uid,
            gid,
            // Before the epoch: two's complement, which the kernel reads back as negative.
            mtime: mtime as u64,
            mtime_nsec,
        },
        xattrs,
        tail: tail.unwrap_or(0),
        whole_blocks,
    })
}

/// Gives every inode with whole blocks its raw_blkaddr from `first_block` on: directories' and
/// symlinks' first, right after the meta area (so all metadata is one sequential run), then
/// regular files'. Returns (first block of file data, blocks of the filesystem).
fn assign_blocks(
    inodes: &[Inode],
    placed: &mut [Placed],
    first_block: u64,
) -> Result<(u64, u64), PlanError> {
    let is_file = |i: usize| matches!(inodes[i].kind, Kind::File { .. });
    let mut next_block = first_block;
    let mut file_data_start = next_block;
    for files in [false, true] {
        if files {
            file_data_start = next_block;
        }
        for (index, placed) in placed.iter_mut().enumerate() {
            if is_file(index) == files && placed.whole_blocks > 0 {
                placed.fields.i_u = u32::try_from(next_block)
                    .map_err(|_| PlanError::TooLarge { blocks: next_block })?;
                next_block += placed.whole_blocks;
            }
        }
    }
    Ok((file_data_start, next_block))
}

/// The build time: SOURCE_DATE_EPOCH, else the most common (seconds, nanoseconds) mtime at or
/// after the epoch (the smallest of equally common ones; 0 without any).
fn build_time(inodes: &[Inode], timestamp: Option<i64>) -> (i64, u32) {
    if let Some(t) = timestamp {
        return (t, 0);
    }
    let mut counts: HashMap<(i64, u32), usize> = HashMap::new();
    for inode in inodes.iter().filter(|i| i.meta.mtime >= 0) {
        *counts
            .entry((inode.meta.mtime, inode.meta.mtime_nsec))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(time, _)| time)
        .unwrap_or((0, 0))
}

fn xattr_error(inode: &Inode, why: String) -> PlanError {
    PlanError::Xattr {
        path: inode.path.clone(),
        source: inode.source.clone(),
        why,
    }
}

/// The inode's xattrs as inline entries; an error for names EROFS cannot store that way.
fn inline_xattrs(inode: &Inode) -> Result<Vec<InlineXattr>, PlanError> {
    let mut entries = Vec::with_capacity(inode.meta.xattrs.len());
    for xattr in &inode.meta.xattrs {
        let name = os_bytes(&xattr.name);
        let shown = String::from_utf8_lossy(&name).into_owned();
        let (index, suffix) = xattr_prefix(&name).ok_or_else(|| xattr_error(inode, format!(
            "the extended attribute {shown:?} is in a namespace EROFS cannot store (user., trusted., security. and the POSIX ACLs only)"
        )))?;
        if suffix.len() > 255 || xattr.value.len() > 0xffff {
            return Err(xattr_error(
                inode,
                format!("the extended attribute {shown:?} has a name over 255 bytes or a value over 65535 bytes"),
            ));
        }
        entries.push(InlineXattr {
            index,
            suffix: suffix.to_vec(),
            value: xattr.value.clone(),
        });
    }
    Ok(entries)
}

/// A directory's entries as stored: ".", ".." and the children, sorted by name bytes, each
/// with its inode index.
pub(crate) fn dir_listing(inodes: &[Inode], index: usize) -> Vec<(&[u8], usize)> {
    let Kind::Dir { parent, entries } = &inodes[index].kind else {
        return Vec::new();
    };
    let mut listing: Vec<(&[u8], usize)> = Vec::with_capacity(entries.len() + 2);
    listing.push((b".", index));
    listing.push((b"..", *parent));
    listing.extend(
        entries
            .iter()
            .map(|(name, child)| (name.as_bytes(), *child)),
    );
    listing.sort_by(|a, b| a.0.cmp(b.0));
    listing
}

pub(crate) fn dir_packing(listing: &[(&[u8], usize)]) -> DirPacking {
    pack_dirents(listing.iter().map(|(name, _)| name.len()))
}

/// i_size: a directory's packed entries, a symlink's target, a file's length; 0 otherwise.
fn data_size(inodes: &[Inode], index: usize) -> Result<u64, PlanError> {
    let inode = &inodes[index];
    Ok(match &inode.kind {
        Kind::Dir { entries, .. } => {
            if let Some((name, child)) = entries.iter().find(|(name, _)| name.len() > MAX_NAME) {
                return Err(PlanError::NameTooLong {
                    path: format!("{}/{name}", inode.path.trim_end_matches('/')),
                    source: inodes[*child].source.clone(),
                });
            }
            dir_packing(&dir_listing(inodes, index)).size
        }
        Kind::File { size, .. } => *size,
        Kind::Symlink { target } => target.len() as u64,
        Kind::Special { .. } => 0,
    })
}

/// What a plan holds, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The filesystem's exact size in bytes.
    pub size: u64,
    /// Inodes (hard links count once).
    pub inodes: u64,
    /// Regular files with data.
    pub files: u64,
    /// Their sizes added up.
    pub file_bytes: u64,
}

impl Plan {
    /// The same layout for a partition at byte `partition_offset` of the image: nothing but the
    /// offset changes (the layout is relative to the partition), which must be a multiple of
    /// 4096 so every file's data is 4 KiB-aligned in the image.
    pub fn at(mut self, partition_offset: u64) -> Result<Plan, PlanError> {
        if !partition_offset.is_multiple_of(BLOCK) {
            return Err(PlanError::Misaligned { partition_offset });
        }
        self.partition_offset = partition_offset;
        Ok(self)
    }

    pub fn summary(&self) -> Summary {
        let (files, file_bytes) = self
            .inodes
            .iter()
            .filter_map(|inode| match inode.kind {
                Kind::File { size, .. } if size > 0 => Some(size),
                _ => None,
            })
            .fold((0, 0), |(n, bytes), size| (n + 1, bytes + size));
        Summary {
            size: self.size(),
            inodes: self.inodes.len() as u64,
            files,
            file_bytes,
        }
    }

    /// The filesystem's exact size in bytes, a multiple of 4096: what size "auto" is.
    pub fn size(&self) -> u64 {
        u64::from(self.superblock.blocks) * BLOCK
    }

    /// The tree it was planned from (for a later verify of the image against it).
    pub fn tree(&self) -> &Arc<Tree> {
        &self.tree
    }

    /// What it was planned with (for a later verify of the image against it).
    pub fn options(&self) -> &FormatOptions {
        &self.options
    }

    pub fn partition_offset(&self) -> u64 {
        self.partition_offset
    }

    /// Inodes in the filesystem (hard links count once).
    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// Every regular file with whole blocks of data (4 KiB or more): its path in the
    /// filesystem, source, size and the image offset its blocks start at (a multiple of 4096),
    /// in block order. The rest of such a file, and all of a smaller one, is inline after its
    /// inode in the meta area when it fits there (else in one more block of its own).
    pub fn file_placements(&self) -> impl Iterator<Item = (&str, &Path, u64, u64)> + '_ {
        self.inodes
            .iter()
            .zip(&self.placed)
            .filter_map(move |(inode, placed)| match &inode.kind {
                Kind::File { source, size } if placed.whole_blocks > 0 => Some((
                    inode.path.as_str(),
                    source.as_path(),
                    *size,
                    self.partition_offset + u64::from(placed.fields.i_u) * BLOCK,
                )),
                _ => None,
            })
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
