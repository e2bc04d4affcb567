//! Problems the reader reports: a stable code for programs, a sentence for people.

use std::fmt;

/// Stable identifiers of the problems [`crate::read`] reports. [`Code::as_str`] gives the
/// SCREAMING_CASE form tools match on; those strings never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Neither an MBR signature nor a GPT header: a blank or unpartitioned disk.
    NoPartitionTable,
    /// A GPT without the 0x55AA signature in LBA 0.
    MbrNoSignature,
    /// LBA 0 has the signature but a record's boot indicator is neither 0x00 nor 0x80: it is not
    /// an MBR (often a filesystem's boot sector).
    MbrInvalid,
    /// A GPT whose MBR has partitions but no 0xEE record: MBR-only tools see other partitions.
    MbrNotProtective,
    /// The 0xEE record does not start at LBA 1 or does not cover the disk.
    MbrProtectiveRange,
    /// A hybrid MBR record that matches no GPT partition.
    MbrHybridMismatch,
    /// An EBR chain that breaks off (no signature, a link outside the extended partition or the
    /// disk), goes on too long, or a second extended partition.
    MbrEbrChain,
    /// An EBR chain that links back to an EBR already read.
    MbrEbrLoop,
    /// A logical partition outside its extended partition or over its own EBR.
    MbrLogicalOutsideExtended,
    /// An 0xEE record, but no GPT header at either end.
    GptMissing,
    /// The caller's sector size finds no header, another one does.
    GptSectorSizeMismatch,
    /// No "EFI PART" where a header should be (the other header exists).
    GptHeaderMissing,
    GptHeaderRevision,
    GptHeaderSize,
    GptHeaderCrc,
    /// The header's own LBA field is not where it was read from.
    GptHeaderMyLba,
    /// An alternate LBA field that points at no sensible place.
    GptAlternateLba,
    /// The primary header places the backup before the last sector: the disk grew.
    GptDiskGrown,
    /// The primary header places the backup past the end of the disk: the disk was truncated.
    GptDiskTruncated,
    /// An entry size that is not 128 × 2^n.
    GptEntrySize,
    /// An entry array larger than the reader reads (1 MiB); not read.
    GptEntryArrayTooLarge,
    /// An entry array outside the disk or over another structure.
    GptEntryArrayLocation,
    GptEntriesCrc,
    /// A usable range that is empty, outside the disk or over the tables.
    GptUsableRange,
    /// The primary header is unusable; the table was read from the backup.
    GptBackupUsed,
    /// Valid primary and backup headers that describe different disks.
    GptHeadersDiffer,
    /// Valid primary and backup entry arrays with different contents.
    GptEntriesDiffer,
    PartitionFirstAfterLast,
    PartitionOutsideDisk,
    /// A GPT partition outside the header's usable LBAs.
    PartitionOutsideUsable,
    PartitionsOverlap,
    PartitionGuidDuplicate,
}

impl Code {
    pub const ALL: [Code; 32] = [
        Code::NoPartitionTable,
        Code::MbrNoSignature,
        Code::MbrInvalid,
        Code::MbrNotProtective,
        Code::MbrProtectiveRange,
        Code::MbrHybridMismatch,
        Code::MbrEbrChain,
        Code::MbrEbrLoop,
        Code::MbrLogicalOutsideExtended,
        Code::GptMissing,
        Code::GptSectorSizeMismatch,
        Code::GptHeaderMissing,
        Code::GptHeaderRevision,
        Code::GptHeaderSize,
        Code::GptHeaderCrc,
        Code::GptHeaderMyLba,
        Code::GptAlternateLba,
        Code::GptDiskGrown,
        Code::GptDiskTruncated,
        Code::GptEntrySize,
        Code::GptEntryArrayTooLarge,
        Code::GptEntryArrayLocation,
        Code::GptEntriesCrc,
        Code::GptUsableRange,
        Code::GptBackupUsed,
        Code::GptHeadersDiffer,
        Code::GptEntriesDiffer,
        Code::PartitionFirstAfterLast,
        Code::PartitionOutsideDisk,
        Code::PartitionOutsideUsable,
        Code::PartitionsOverlap,
        Code::PartitionGuidDuplicate,
    ];

    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            NoPartitionTable => "NO_PARTITION_TABLE",
            MbrNoSignature => "MBR_NO_SIGNATURE",
            MbrInvalid => "MBR_INVALID",
            MbrNotProtective => "MBR_NOT_PROTECTIVE",
            MbrProtectiveRange => "MBR_PROTECTIVE_RANGE",
            MbrHybridMismatch => "MBR_HYBRID_MISMATCH",
            MbrEbrChain => "MBR_EBR_CHAIN",
            MbrEbrLoop => "MBR_EBR_LOOP",
            MbrLogicalOutsideExtended => "MBR_LOGICAL_OUTSIDE_EXTENDED",
            GptMissing => "GPT_MISSING",
            GptSectorSizeMismatch => "GPT_SECTOR_SIZE_MISMATCH",
            GptHeaderMissing => "GPT_HEADER_MISSING",
            GptHeaderRevision => "GPT_HEADER_REVISION",
            GptHeaderSize => "GPT_HEADER_SIZE",
            GptHeaderCrc => "GPT_HEADER_CRC",
            GptHeaderMyLba => "GPT_HEADER_MY_LBA",
            GptAlternateLba => "GPT_ALTERNATE_LBA",
            GptDiskGrown => "GPT_DISK_GROWN",
            GptDiskTruncated => "GPT_DISK_TRUNCATED",
            GptEntrySize => "GPT_ENTRY_SIZE",
            GptEntryArrayTooLarge => "GPT_ENTRY_ARRAY_TOO_LARGE",
            GptEntryArrayLocation => "GPT_ENTRY_ARRAY_LOCATION",
            GptEntriesCrc => "GPT_ENTRIES_CRC",
            GptUsableRange => "GPT_USABLE_RANGE",
            GptBackupUsed => "GPT_BACKUP_USED",
            GptHeadersDiffer => "GPT_HEADERS_DIFFER",
            GptEntriesDiffer => "GPT_ENTRIES_DIFFER",
            PartitionFirstAfterLast => "PARTITION_FIRST_AFTER_LAST",
            PartitionOutsideDisk => "PARTITION_OUTSIDE_DISK",
            PartitionOutsideUsable => "PARTITION_OUTSIDE_USABLE",
            PartitionsOverlap => "PARTITIONS_OVERLAP",
            PartitionGuidDuplicate => "PARTITION_GUID_DUPLICATE",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// A sentence naming the LBAs, headers and partitions concerned.
    pub message: String,
}

/// Findings about single partitions stop after this many per code, then one more says how many
/// were left out: a table of 8,192 broken entries stays readable.
const PER_CODE_LIMIT: usize = 32;

/// Collects findings, keeping partition-level ones bounded.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    list: Vec<Finding>,
    /// (code, reported, left out)
    limited: Vec<(Code, usize, usize)>,
}

impl Findings {
    pub(crate) fn add(&mut self, code: Code, message: impl Into<String>) {
        self.list.push(Finding {
            code,
            message: message.into(),
        });
    }

    /// Adds a finding about one partition (or pair), up to [`PER_CODE_LIMIT`] of each code.
    pub(crate) fn add_limited(&mut self, code: Code, message: impl FnOnce() -> String) {
        let slot = match self.limited.iter().position(|(c, _, _)| *c == code) {
            Some(slot) => slot,
            None => {
                self.limited.push((code, 0, 0));
                self.limited.len() - 1
            }
        };
        let (_, reported, left_out) = &mut self.limited[slot];
        if *reported < PER_CODE_LIMIT {
            *reported += 1;
            self.add(code, message());
        } else {
            *left_out += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Finding> {
        for (code, _, left_out) in std::mem::take(&mut self.limited) {
            if left_out > 0 {
                self.add(
                    code,
                    format!("{left_out} more partition problems of this kind are not listed"),
                );
            }
        }
        self.list
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
