//! Problems the reader finds, each with a stable code for programs and a message for people.

use std::fmt;

use imgforge_partition_read::CappedFindings;

/// A finding's kind. `as_str` gives the stable SCREAMING_CASE code tools match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    /// A superblock field out of range (the message names it); nothing past it is read.
    SuperblockInvalid,
    /// The superblock's crc32c (feature SB_CHKSUM) does not match its bytes.
    SuperblockChecksumWrong,
    /// An incompatible feature this reader does not follow (48-bit blocks, metabox, extra
    /// devices, unknown bits); nothing past the superblock is read.
    FeatureUnsupported,
    /// An inode lies outside the filesystem, or its fields are impossible.
    InodeInvalid,
    /// A file's data (blocks, chunk indexes or inline tail) lies outside the filesystem.
    DataOutOfRange,
    /// A directory block whose entries or names cannot be parsed.
    DirectoryInvalid,
    /// A directory's names are not in strictly increasing byte order (the kernel's lookup
    /// binary-searches them, so some names would not be found).
    DirectoryUnsorted,
    /// "." or ".." missing or pointing elsewhere.
    DotEntryInvalid,
    /// A directory reached a second time (a hard-linked directory or a loop).
    DirectoryLoop,
    /// Directories nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    DirectoryTooDeep,
    /// More entries than [`MAX_ENTRIES`](super::MAX_ENTRIES); the rest are not read.
    TooManyEntries,
    /// An empty name, one over 255 bytes, or one with '/' or NUL.
    NameInvalid,
    /// A directory entry's file type differs from its inode's mode.
    FileTypeMismatch,
    /// A non-directory inode's link count differs from the names that reach it.
    LinkCountWrong,
    /// Extended attributes that cannot be parsed.
    XattrInvalid,
    /// The partition is shorter than the filesystem says it is.
    PartitionTruncated,
    /// Bytes the filesystem needs could not be read (I/O failed).
    ReadFailed,
}

impl FindingCode {
    pub fn as_str(self) -> &'static str {
        use FindingCode::*;
        match self {
            SuperblockInvalid => "SUPERBLOCK_INVALID",
            SuperblockChecksumWrong => "SUPERBLOCK_CHECKSUM_WRONG",
            FeatureUnsupported => "FEATURE_UNSUPPORTED",
            InodeInvalid => "INODE_INVALID",
            DataOutOfRange => "DATA_OUT_OF_RANGE",
            DirectoryInvalid => "DIRECTORY_INVALID",
            DirectoryUnsorted => "DIRECTORY_UNSORTED",
            DotEntryInvalid => "DOT_ENTRY_INVALID",
            DirectoryLoop => "DIRECTORY_LOOP",
            DirectoryTooDeep => "DIRECTORY_TOO_DEEP",
            TooManyEntries => "TOO_MANY_ENTRIES",
            NameInvalid => "NAME_INVALID",
            FileTypeMismatch => "FILE_TYPE_MISMATCH",
            LinkCountWrong => "LINK_COUNT_WRONG",
            XattrInvalid => "XATTR_INVALID",
            PartitionTruncated => "PARTITION_TRUNCATED",
            ReadFailed => "READ_FAILED",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem: its code, a message naming the path and nid, and the path it concerns (None
/// for the filesystem as a whole).
pub type Finding = imgforge_partition_read::Finding<FindingCode>;

/// Findings kept per code: a damaged image repeats one problem thousands of times, and neither
/// a report nor a fuzzer's memory should grow with that.
pub(crate) const KEPT_PER_CODE: usize = 50;

/// Collects findings, keeping at most KEPT_PER_CODE of each code and counting the rest; the
/// counts come last, in the codes' order (`finish_by_code`).
pub(crate) type Findings = CappedFindings<FindingCode, KEPT_PER_CODE>;
