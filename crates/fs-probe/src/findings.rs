//! Problems the probes find, each with a stable code for programs and a message for people. The
//! codes the EROFS and FAT32 readers also have mean the same here.

use std::fmt;

use imgforge_partition_read::CappedFindings;

/// A finding's kind. `as_str` gives the stable SCREAMING_CASE code tools match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    /// A superblock field out of range, or two that contradict each other (the message names
    /// them).
    SuperblockInvalid,
    /// The ext4 superblock's crc32c (metadata_csum) does not match its bytes.
    SuperblockChecksumWrong,
    /// A feature or version the Linux kernel does not mount (read-write, or at all).
    FeatureUnsupported,
    /// A free count larger than the total it is part of.
    FreeCountWrong,
    /// ext4: not cleanly unmounted, errors recorded, or a journal that needs recovery.
    NotClean,
    /// squashfs: a table (inodes, directories, fragments, export, ids, xattrs) that starts or
    /// ends outside the filesystem or overlaps the next one.
    TableOutOfRange,
    /// squashfs: a metadata block whose header gives an impossible length.
    MetadataInvalid,
    /// The partition is shorter than the filesystem says it is.
    PartitionTruncated,
    /// Bytes the probe needs could not be read (I/O failed, or the image ends early).
    ReadFailed,
}

impl FindingCode {
    pub fn as_str(self) -> &'static str {
        use FindingCode::*;
        match self {
            SuperblockInvalid => "SUPERBLOCK_INVALID",
            SuperblockChecksumWrong => "SUPERBLOCK_CHECKSUM_WRONG",
            FeatureUnsupported => "FEATURE_UNSUPPORTED",
            FreeCountWrong => "FREE_COUNT_WRONG",
            NotClean => "NOT_CLEAN",
            TableOutOfRange => "TABLE_OUT_OF_RANGE",
            MetadataInvalid => "METADATA_INVALID",
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

/// One problem: its code and a message naming the field (path is always None: the probes read
/// no tree).
pub type Finding = imgforge_partition_read::Finding<FindingCode>;

/// Findings kept per code, as the other readers keep them. A superblock yields a few dozen at
/// most; the cap bounds what a fuzzer's input can make.
pub(crate) const KEPT_PER_CODE: usize = 50;

pub(crate) type Findings = CappedFindings<FindingCode, KEPT_PER_CODE>;
