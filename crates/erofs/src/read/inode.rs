//! One inode read from untrusted bytes: its fields, where its xattrs and data are, and every
//! check that keeps later reads inside the filesystem (kernel fs/erofs/inode.c and data.c).

use super::findings::FindingCode;
use super::superblock::Superblock;
use super::Xattrs;
use crate::ondisk::{COMPACT_INODE, EXTENDED_INODE, SLOT, XATTR_ENTRY_HEADER, XATTR_HEADER};
use imgforge_partition_read::{Disk, ReadError};
use std::io::{Read, Seek};

/// i_format: bit 0 the version, bits 1-3 the data layout, bit 4 "nlink is 1" (compact inodes
/// of newer writers); the other bits are reserved.
const FORMAT_BITS: u16 = 0x1f;
const NLINK_1_BIT: u16 = 0x10;
/// Chunk format (i_u's low 16 bits of a CHUNK_BASED inode): block bits of a chunk, and 8-byte
/// chunk indexes instead of 4-byte block addresses.
const CHUNK_BLKBITS_MASK: u32 = 0x1f;
const CHUNK_INDEXES: u32 = 0x20;
/// A hole in a chunk map.
const NULL_ADDR: u32 = u32::MAX;
/// Symlink targets are at most PATH_MAX - 1 bytes, as the kernel reads them.
pub(crate) const MAX_SYMLINK: u64 = 4095;

/// Where an inode's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Data {
    /// FLAT_PLAIN and FLAT_INLINE: `blocks_bytes` bytes from filesystem byte `start`, then the
    /// rest of the size at `tail_at` (inline) when there is one.
    Flat {
        start: u64,
        blocks_bytes: u64,
        tail_at: Option<u64>,
    },
    /// CHUNK_BASED: `count` index entries at `index_at`, 8 bytes each (`indexes`) or 4.
    Chunked {
        index_at: u64,
        chunk_bits: u32,
        indexes: bool,
        count: u64,
    },
    /// Compressed layouts: listed, never read.
    Compressed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inode {
    pub(crate) nid: u64,
    /// Filesystem byte offset of the inode.
    pub(crate) at: u64,
    pub(crate) inode_bytes: u64,
    pub(crate) xattr_icount: u16,
    pub(crate) mode: u32,
    pub(crate) nlink: u32,
    pub(crate) size: u64,
    pub(crate) i_u: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: i64,
    pub(crate) mtime_nsec: u32,
    pub(crate) data: Data,
}

pub(crate) type Problem = (FindingCode, String);

fn read_problem(what: &str, error: ReadError) -> Problem {
    let code = match error {
        ReadError::Io(_) => FindingCode::ReadFailed,
        ReadError::ImageEnds { .. } => FindingCode::PartitionTruncated,
        ReadError::BeyondPartition { .. } => FindingCode::DataOutOfRange,
    };
    (code, format!("{what} cannot be read: {error}"))
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Bytes of the inline xattr body for `icount` (0 when there is none).
pub(crate) fn xattr_body(icount: u16) -> u64 {
    match icount {
        0 => 0,
        n => XATTR_HEADER + 4 * (u64::from(n) - 1),
    }
}

impl Inode {
    /// Reads and checks the inode `nid`.
    pub(crate) fn read<R: Read + Seek>(
        disk: &mut Disk<R>,
        sb: &Superblock,
        nid: u64,
    ) -> Result<Inode, Problem> {
        let invalid = |why: String| (FindingCode::InodeInvalid, format!("inode {nid}: {why}"));
        let at = nid
            .checked_mul(SLOT)
            .and_then(|b| b.checked_add(u64::from(sb.meta_blkaddr) << sb.blkszbits))
            // checked: a dirent's nid is any u64, and nid * 32 + the meta area can reach the
            // top of u64, where adding the inode's size would overflow (a fuzzer found it).
            .filter(|at| {
                at.checked_add(COMPACT_INODE)
                    .is_some_and(|end| end <= sb.span())
            })
            .ok_or_else(|| invalid("it lies outside the filesystem".into()))?;
        let head = disk
            .read(at, COMPACT_INODE as usize)
            .map_err(|e| read_problem(&format!("inode {nid}"), e))?;
        let format = le16(&head, 0);
        if format & !FORMAT_BITS != 0 {
            return Err(invalid(format!(
                "i_format {format:#x} has reserved bits set"
            )));
        }
        let extended = format & 1 != 0;
        let layout = (format >> 1) & 7;
        let xattr_icount = le16(&head, 2);
        let mode = u32::from(le16(&head, 4));
        let mut inode = if extended {
            if at + EXTENDED_INODE > sb.span() {
                return Err(invalid("it lies outside the filesystem".into()));
            }
            let b = disk
                .read(at, EXTENDED_INODE as usize)
                .map_err(|e| read_problem(&format!("inode {nid}"), e))?;
            Inode {
                nid,
                at,
                inode_bytes: EXTENDED_INODE,
                xattr_icount,
                mode,
                nlink: le32(&b, 44),
                size: le64(&b, 8),
                i_u: le32(&b, 16),
                uid: le32(&b, 24),
                gid: le32(&b, 28),
                mtime: le64(&b, 32) as i64,
                mtime_nsec: le32(&b, 40),
                data: Data::Compressed,
            }
        } else {
            // A compact inode's mtime is the build time plus i_mtime (Linux 6.15; older
            // writers leave the field zero, which reads the same).
            Inode {
                nid,
                at,
                inode_bytes: COMPACT_INODE,
                xattr_icount,
                mode,
                nlink: if format & NLINK_1_BIT != 0 {
                    1
                } else {
                    u32::from(le16(&head, 6))
                },
                size: u64::from(le32(&head, 8)),
                i_u: le32(&head, 16),
                uid: u32::from(le16(&head, 24)),
                gid: u32::from(le16(&head, 26)),
                mtime: sb.build_time.wrapping_add(u64::from(le32(&head, 12))) as i64,
                mtime_nsec: sb.build_time_nsec,
                data: Data::Compressed,
            }
        };
        if inode.mtime_nsec >= 1_000_000_000 {
            return Err(invalid(format!(
                "its mtime has {} nanoseconds",
                inode.mtime_nsec
            )));
        }
        let kind = mode & 0o170000;
        if !matches!(
            kind,
            0o040000 | 0o100000 | 0o120000 | 0o020000 | 0o060000 | 0o010000 | 0o140000
        ) {
            return Err(invalid(format!("mode {mode:#o} is no file type")));
        }
        if matches!(kind, 0o020000 | 0o060000 | 0o010000 | 0o140000) {
            // Devices keep their number in i_u; none of these has data.
            inode.data = Data::Flat {
                start: 0,
                blocks_bytes: 0,
                tail_at: None,
            };
            if inode.size != 0 {
                return Err(invalid(format!("a special file of {} bytes", inode.size)));
            }
            return Ok(inode);
        }
        if kind == 0o120000 && inode.size > MAX_SYMLINK {
            return Err(invalid(format!(
                "a symlink target of {} bytes; at most {MAX_SYMLINK}",
                inode.size
            )));
        }
        inode.data = inode.data_map(sb, layout)?;
        Ok(inode)
    }

    /// Filesystem byte where data after the inode and its xattrs starts.
    pub(crate) fn after_xattrs(&self) -> u64 {
        self.at + self.inode_bytes + xattr_body(self.xattr_icount)
    }

    fn data_map(&self, sb: &Superblock, layout: u16) -> Result<Data, Problem> {
        let nid = self.nid;
        let out_of_range = || {
            (
                FindingCode::DataOutOfRange,
                format!("inode {nid}: its data lies outside the filesystem"),
            )
        };
        let block = sb.block_size();
        let blocks = self.size.div_ceil(block);
        match layout {
            0 | 2 => {
                let inline = layout == 2 && self.size > 0;
                let whole = if inline { blocks - 1 } else { blocks };
                let start = u64::from(self.i_u) << sb.blkszbits;
                if whole > 0 && u64::from(self.i_u) + whole > u64::from(sb.blocks) {
                    return Err(out_of_range());
                }
                let tail_at = if inline {
                    let tail = self.size - whole * block;
                    let at = self.after_xattrs();
                    if at % block + tail > block {
                        return Err((
                            FindingCode::InodeInvalid,
                            format!("inode {nid}: its inline tail of {tail} bytes crosses the end of its block"),
                        ));
                    }
                    if at + tail > sb.span() {
                        return Err(out_of_range());
                    }
                    Some(at)
                } else {
                    None
                };
                Ok(Data::Flat {
                    start,
                    blocks_bytes: whole * block,
                    tail_at,
                })
            }
            1 | 3 => Ok(Data::Compressed),
            4 => {
                let format = self.i_u & 0xffff;
                if format & !(CHUNK_BLKBITS_MASK | CHUNK_INDEXES) != 0 {
                    return Err((
                        FindingCode::InodeInvalid,
                        format!("inode {nid}: chunk format {format:#x} is unknown"),
                    ));
                }
                let chunk_bits = u32::from(sb.blkszbits) + (format & CHUNK_BLKBITS_MASK);
                let indexes = format & CHUNK_INDEXES != 0;
                let unit = if indexes { 8 } else { 4 };
                // At most 16 + 31 = 47 bits: shifts stay in range.
                let count = self.size.div_ceil(1 << chunk_bits);
                let index_at = self.after_xattrs().next_multiple_of(unit);
                let fits = count
                    .checked_mul(unit)
                    .and_then(|n| n.checked_add(index_at))
                    .is_some_and(|end| end <= sb.span());
                if !fits {
                    return Err(out_of_range());
                }
                Ok(Data::Chunked {
                    index_at,
                    chunk_bits,
                    indexes,
                    count,
                })
            }
            other => Err((
                FindingCode::InodeInvalid,
                format!("inode {nid}: data layout {other} is not defined"),
            )),
        }
    }

    /// Where byte `pos` of the data is: (filesystem byte, or None for a hole; bytes that follow
    /// contiguously, within the size). `pos` must be below the size.
    pub(crate) fn extent<R: Read + Seek>(
        &self,
        disk: &mut Disk<R>,
        sb: &Superblock,
        pos: u64,
    ) -> Result<(Option<u64>, u64), Problem> {
        let rest = self.size - pos;
        match &self.data {
            Data::Flat {
                start,
                blocks_bytes,
                tail_at,
            } => match tail_at {
                Some(tail) if pos >= *blocks_bytes => Ok((Some(tail + (pos - blocks_bytes)), rest)),
                _ => Ok((Some(start + pos), rest.min(blocks_bytes - pos))),
            },
            Data::Chunked {
                index_at,
                chunk_bits,
                indexes,
                ..
            } => {
                let (chunk, within) = (pos >> chunk_bits, pos & ((1 << chunk_bits) - 1));
                let len = rest.min((1 << chunk_bits) - within);
                let unit = if *indexes { 8 } else { 4 };
                let entry = disk
                    .read(index_at + chunk * unit, unit as usize)
                    .map_err(|e| read_problem(&format!("inode {}'s chunk index", self.nid), e))?;
                let (block, device) = if *indexes {
                    (le32(&entry, 4), le16(&entry, 2))
                } else {
                    (le32(&entry, 0), 0)
                };
                if block == NULL_ADDR {
                    return Ok((None, len));
                }
                let nid = self.nid;
                if device != 0 {
                    return Err((
                        FindingCode::FeatureUnsupported,
                        format!("inode {nid}: a chunk on extra device {device}"),
                    ));
                }
                let at = (u64::from(block) << sb.blkszbits) + within;
                if at + len > sb.span() {
                    return Err((
                        FindingCode::DataOutOfRange,
                        format!("inode {nid}: chunk {chunk} lies outside the filesystem"),
                    ));
                }
                Ok((Some(at), len))
            }
            Data::Compressed => Err((
                FindingCode::FeatureUnsupported,
                format!(
                    "inode {}: its data is compressed; imgforge reads only uncompressed data",
                    self.nid
                ),
            )),
        }
    }

    /// `len` bytes of data from `pos` (directory blocks, symlink targets: small reads).
    pub(crate) fn read_data<R: Read + Seek>(
        &self,
        disk: &mut Disk<R>,
        sb: &Superblock,
        pos: u64,
        len: u64,
    ) -> Result<Vec<u8>, Problem> {
        let mut out = Vec::with_capacity(len as usize);
        let end = pos + len;
        let mut here = pos;
        while here < end {
            let (at, run) = self.extent(disk, sb, here)?;
            let take = run.min(end - here);
            match at {
                None => out.resize(out.len() + take as usize, 0),
                Some(at) => out.extend(
                    disk.read(at, take as usize)
                        .map_err(|e| read_problem(&format!("inode {}'s data", self.nid), e))?,
                ),
            }
            here += take;
        }
        Ok(out)
    }

    /// The extended attributes: (full name, value), shared ones first, as stored.
    pub(crate) fn xattrs<R: Read + Seek>(
        &self,
        disk: &mut Disk<R>,
        sb: &Superblock,
    ) -> Result<Xattrs, Problem> {
        let body = xattr_body(self.xattr_icount);
        if body == 0 {
            return Ok(Vec::new());
        }
        let nid = self.nid;
        let invalid = |why: &str| (FindingCode::XattrInvalid, format!("inode {nid}: {why}"));
        let start = self.at + self.inode_bytes;
        if start + body > sb.span() {
            return Err(invalid("its xattrs lie outside the filesystem"));
        }
        let bytes = disk
            .read(start, body as usize)
            .map_err(|e| read_problem(&format!("inode {nid}'s xattrs"), e))?;
        let shared = u64::from(bytes[4]);
        let mut at = XATTR_HEADER + 4 * shared;
        if at > body {
            return Err(invalid("more shared xattrs than its xattr area holds"));
        }
        let mut out = Vec::new();
        for i in 0..shared {
            let id = u64::from(le32(&bytes, (XATTR_HEADER + 4 * i) as usize));
            let entry_at = (u64::from(sb.xattr_blkaddr) << sb.blkszbits) + id * 4;
            let head = disk
                .read(entry_at, XATTR_ENTRY_HEADER as usize)
                .map_err(|_| invalid("a shared xattr lies outside the filesystem"))?;
            let len = XATTR_ENTRY_HEADER + u64::from(head[0]) + u64::from(le16(&head, 2));
            let entry = disk
                .read(entry_at, len as usize)
                .map_err(|_| invalid("a shared xattr lies outside the filesystem"))?;
            out.push(decode_entry(&entry).map_err(|why| invalid(&why))?);
        }
        while at + XATTR_ENTRY_HEADER <= body {
            let head = &bytes[at as usize..];
            let len = XATTR_ENTRY_HEADER + u64::from(head[0]) + u64::from(le16(head, 2));
            if at + len > body {
                return Err(invalid("an inline xattr runs past its xattr area"));
            }
            out.push(decode_entry(&head[..len as usize]).map_err(|why| invalid(&why))?);
            at += len.next_multiple_of(4);
        }
        Ok(out)
    }
}

/// One xattr entry (header, name suffix, value) as (full name, value).
fn decode_entry(entry: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (name_len, index) = (usize::from(entry[0]), entry[1]);
    let suffix = &entry[4..4 + name_len];
    let value = entry[4 + name_len..].to_vec();
    let prefix: &[u8] = match index {
        1 => b"user.",
        2 => b"system.posix_acl_access",
        3 => b"system.posix_acl_default",
        4 => b"trusted.",
        5 => b"lustre.",
        6 => b"security.",
        i if i & 0x80 != 0 => {
            return Err(format!(
                "long xattr name prefix {} (not read by imgforge)",
                i & 0x7f
            ))
        }
        i => return Err(format!("xattr name index {i} is not defined")),
    };
    let acl = matches!(index, 2 | 3);
    if acl != suffix.is_empty() {
        return Err(if acl {
            "an ACL xattr with a name suffix"
        } else {
            "an xattr with an empty name"
        }
        .to_string());
    }
    Ok(([prefix, suffix].concat(), value))
}
