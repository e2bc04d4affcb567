//! Problems the reader finds, each with a stable code for programs and a message for people.

use std::fmt;

use imgforge_partition_read::CappedFindings;

/// A finding's kind. `as_str` gives the stable SCREAMING_CASE code tools match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    /// A boot sector field out of range or inconsistent (the message names it).
    BootSectorInvalid,
    /// The backup boot sector is missing, unreadable or not a copy of the boot sector.
    BackupBootSectorDiffers,
    /// A FAT copy differs from the active FAT.
    FatsDiffer,
    /// The FSInfo sector is missing, unreadable or lacks its signatures.
    FsinfoInvalid,
    /// FSInfo's free-cluster count is not the FAT's.
    FsinfoFreeCountWrong,
    /// FSInfo's next-free hint is not a cluster of the volume.
    FsinfoNextFreeWrong,
    /// A chain (or a directory entry) points outside the data region.
    ChainOutOfRange,
    /// A chain runs into a cluster the FAT marks free.
    ChainFreeCluster,
    /// A chain runs into a cluster the FAT marks bad.
    ChainBadCluster,
    /// A chain leads back into itself.
    ChainLoop,
    /// Two files or directories share clusters.
    CrossLinked,
    /// A file's chain holds more or fewer clusters than its size needs.
    ChainLengthMismatch,
    /// Clusters allocated in the FAT that no file or directory uses.
    LostClusters,
    /// A directory contains one of its ancestors.
    DirectoryLoop,
    /// A directory holds more than 65,536 entries (FAT's limit); the rest are not read.
    DirectoryTooLarge,
    /// Directories nested deeper than the reader follows.
    DirectoryTooDeep,
    /// "." or ".." missing or pointing elsewhere (or present in the root).
    DotEntryInvalid,
    /// Long-name entries whose checksum does not match the short entry after them.
    LfnChecksumMismatch,
    /// Long-name entries out of sequence or followed by no short entry.
    LfnOrphaned,
    /// A name no FAT driver would accept (unpaired surrogates, '/', control characters, ...).
    InvalidName,
    /// Two entries of one directory with the same name (FAT compares names without case).
    DuplicateName,
    /// Fewer than 65,525 clusters: drivers that go by cluster count take it for FAT12/16.
    TooFewClusters,
    /// The partition is shorter than the filesystem says it is.
    PartitionTruncated,
    /// Bytes the filesystem needs could not be read (the image ends early, or I/O failed).
    ReadFailed,
}

impl FindingCode {
    pub fn as_str(self) -> &'static str {
        use FindingCode::*;
        match self {
            BootSectorInvalid => "BOOT_SECTOR_INVALID",
            BackupBootSectorDiffers => "BACKUP_BOOT_SECTOR_DIFFERS",
            FatsDiffer => "FATS_DIFFER",
            FsinfoInvalid => "FSINFO_INVALID",
            FsinfoFreeCountWrong => "FSINFO_FREE_COUNT_WRONG",
            FsinfoNextFreeWrong => "FSINFO_NEXT_FREE_WRONG",
            ChainOutOfRange => "CHAIN_OUT_OF_RANGE",
            ChainFreeCluster => "CHAIN_FREE_CLUSTER",
            ChainBadCluster => "CHAIN_BAD_CLUSTER",
            ChainLoop => "CHAIN_LOOP",
            CrossLinked => "CROSS_LINKED",
            ChainLengthMismatch => "CHAIN_LENGTH_MISMATCH",
            LostClusters => "LOST_CLUSTERS",
            DirectoryLoop => "DIRECTORY_LOOP",
            DirectoryTooLarge => "DIRECTORY_TOO_LARGE",
            DirectoryTooDeep => "DIRECTORY_TOO_DEEP",
            DotEntryInvalid => "DOT_ENTRY_INVALID",
            LfnChecksumMismatch => "LFN_CHECKSUM_MISMATCH",
            LfnOrphaned => "LFN_ORPHANED",
            InvalidName => "INVALID_NAME",
            DuplicateName => "DUPLICATE_NAME",
            TooFewClusters => "TOO_FEW_CLUSTERS",
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

/// One problem: its code, a message naming the path and cluster, and the path it concerns
/// (None for the volume as a whole).
pub type Finding = imgforge_partition_read::Finding<FindingCode>;

/// Findings kept per code: a damaged volume repeats the same problem thousands of times, and
/// a report (or a fuzzer's memory) should not grow with that.
pub(crate) const MAX_FINDINGS_PER_CODE: usize = 50;

/// Collects findings, keeping at most MAX_FINDINGS_PER_CODE of each code and counting the
/// rest; the counts come last, in the order their codes were first found.
pub(crate) type Findings = CappedFindings<FindingCode, MAX_FINDINGS_PER_CODE>;

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
