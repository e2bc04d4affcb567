//! The on-disk structures of uncompressed EROFS, little-endian (the kernel's
//! fs/erofs/erofs_fs.h and Documentation/filesystems/erofs.rst): superblock, compact and
//! extended inodes, inline xattr entries and directory entries.

/// Block size 4096: `blkszbits` = 12. Block N is byte N * 4096 of the filesystem.
pub(crate) const BLOCK: u64 = 4096;
pub(crate) const BLOCK_BITS: u8 = 12;
pub(crate) const SUPERBLOCK_OFFSET: usize = 1024;
pub(crate) const MAGIC: u32 = 0xE0F5_E1E2;
/// Inodes sit on 32-byte slots: nid = (byte offset in the meta area) / 32.
pub(crate) const SLOT: u64 = 32;
pub(crate) const COMPACT_INODE: u64 = 32;
pub(crate) const EXTENDED_INODE: u64 = 64;
/// nid u64 | nameoff u16 | file_type u8 | reserved u8.
pub(crate) const DIRENT: u64 = 12;
/// The header of an inode's inline xattrs: h_reserved u32, h_shared_count u8, 7 reserved.
pub(crate) const XATTR_HEADER: u64 = 12;
/// e_name_len u8 | e_name_index u8 | e_value_size u16, then name and value.
pub(crate) const XATTR_ENTRY_HEADER: u64 = 4;

/// `i_format` bits 1..3: the data layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataLayout {
    /// All data in ceil(size / 4096) contiguous blocks from raw_blkaddr.
    FlatPlain = 0,
    /// floor(size / 4096) blocks from raw_blkaddr, the tail right after the inode and its
    /// xattrs, inside the inode's block.
    FlatInline = 2,
}

/// Directory entry `file_type`, from the mode's type bits.
pub(crate) fn file_type(mode: u32) -> u8 {
    match mode & 0o170000 {
        0o100000 => 1,
        0o040000 => 2,
        0o020000 => 3,
        0o060000 => 4,
        0o010000 => 5,
        0o140000 => 6,
        0o120000 => 7,
        _ => 0,
    }
}

/// glibc's `st_rdev` to the kernel's "new" 32-bit device encoding stored in `i_u`:
/// (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12).
pub(crate) fn encode_rdev(rdev: u64) -> u32 {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    ((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)) as u32
}

/// The superblock fields imgforge sets; everything else (checksum, features, shared xattrs,
/// compression) stays zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub(crate) root_nid: u16,
    pub(crate) inodes: u64,
    pub(crate) build_time: u64,
    pub(crate) build_time_nsec: u32,
    pub(crate) blocks: u32,
    pub(crate) meta_blkaddr: u32,
    pub(crate) uuid: [u8; 16],
    pub(crate) volume_name: [u8; 16],
}

impl Superblock {
    /// Block 0: zeros, the 128-byte superblock at byte 1024, zeros.
    pub(crate) fn encode_block(&self) -> Vec<u8> {
        let mut block = vec![0u8; BLOCK as usize];
        let sb = &mut block[SUPERBLOCK_OFFSET..SUPERBLOCK_OFFSET + 128];
        sb[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        sb[12] = BLOCK_BITS;
        sb[14..16].copy_from_slice(&self.root_nid.to_le_bytes());
        sb[16..24].copy_from_slice(&self.inodes.to_le_bytes());
        sb[24..32].copy_from_slice(&self.build_time.to_le_bytes());
        sb[32..36].copy_from_slice(&self.build_time_nsec.to_le_bytes());
        sb[36..40].copy_from_slice(&self.blocks.to_le_bytes());
        sb[40..44].copy_from_slice(&self.meta_blkaddr.to_le_bytes());
        sb[48..64].copy_from_slice(&self.uuid);
        sb[64..80].copy_from_slice(&self.volume_name);
        block
    }
}

/// One inode's fields, before choosing its compact or extended form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InodeFields {
    pub(crate) extended: bool,
    pub(crate) layout: DataLayout,
    pub(crate) xattr_icount: u16,
    pub(crate) mode: u16,
    pub(crate) nlink: u32,
    pub(crate) size: u64,
    /// raw_blkaddr, or the encoded rdev of a device.
    pub(crate) i_u: u32,
    pub(crate) ino: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: u64,
    pub(crate) mtime_nsec: u32,
}

impl InodeFields {
    /// Appends the 32- or 64-byte inode. A compact inode has no mtime of its own: it reads as
    /// the superblock's build time (i_reserved = 0), so the planner makes it compact only then.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let format = u16::from(self.extended) | ((self.layout as u16) << 1);
        let start = out.len();
        out.extend_from_slice(&format.to_le_bytes());
        out.extend_from_slice(&self.xattr_icount.to_le_bytes());
        out.extend_from_slice(&self.mode.to_le_bytes());
        if self.extended {
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&self.size.to_le_bytes());
            out.extend_from_slice(&self.i_u.to_le_bytes());
            out.extend_from_slice(&self.ino.to_le_bytes());
            out.extend_from_slice(&self.uid.to_le_bytes());
            out.extend_from_slice(&self.gid.to_le_bytes());
            out.extend_from_slice(&self.mtime.to_le_bytes());
            out.extend_from_slice(&self.mtime_nsec.to_le_bytes());
            out.extend_from_slice(&self.nlink.to_le_bytes());
            out.resize(start + EXTENDED_INODE as usize, 0);
        } else {
            // The planner checked that these fit their 16- and 32-bit fields.
            out.extend_from_slice(&(self.nlink as u16).to_le_bytes());
            out.extend_from_slice(&(self.size as u32).to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&self.i_u.to_le_bytes());
            out.extend_from_slice(&self.ino.to_le_bytes());
            out.extend_from_slice(&(self.uid as u16).to_le_bytes());
            out.extend_from_slice(&(self.gid as u16).to_le_bytes());
            out.resize(start + COMPACT_INODE as usize, 0);
        }
    }
}

/// One inline xattr entry: the name's prefix as an index, the rest of the name, the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InlineXattr {
    pub(crate) index: u8,
    pub(crate) suffix: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// Appends an inline xattr body: the header, then each entry padded to 4 bytes.
pub(crate) fn encode_xattrs(entries: &[InlineXattr], out: &mut Vec<u8>) {
    if entries.is_empty() {
        return;
    }
    out.resize(out.len() + XATTR_HEADER as usize, 0);
    for entry in entries {
        out.push(entry.suffix.len() as u8);
        out.push(entry.index);
        out.extend_from_slice(&(entry.value.len() as u16).to_le_bytes());
        out.extend_from_slice(&entry.suffix);
        out.extend_from_slice(&entry.value);
        out.resize(out.len().next_multiple_of(4), 0);
    }
}

#[cfg(test)]
#[path = "ondisk_tests.rs"]
mod tests;
