use std::fmt;
use std::io;

use crate::sys::FileKind;

fn describe_kind(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Regular => "a regular file",
        FileKind::BlockDevice => "a block device",
        FileKind::Stream => "a FIFO or socket",
        FileKind::Other => "a directory or character device",
    }
}

/// Why a copy failed. Every variant maps to a stable string [`code`](CopyError::code) that
/// the JavaScript binding exposes.
#[derive(Debug)]
pub enum CopyError {
    /// A system call failed. `context` names the operation, the file(s) and the offset.
    Io { context: String, source: io::Error },
    /// The source does not fit in the destination region. Reported before anything is
    /// written for sources of known length; for streamed sources (unknown length)
    /// `source_len` is a lower bound and nothing was written past the capacity.
    TooLarge { source_len: u64, capacity: u64 },
    /// The source's length changed while it was being copied (or it ended early), so the
    /// destination holds a mix of old and new content.
    SourceChanged { before: u64, after: u64 },
    /// The source was planned as a regular file but is now another kind of file (a FIFO
    /// swapped in, a directory, a device). Reported before anything is read from it.
    NoLongerRegular { now: FileKind },
    /// The source was planned as empty (its size is 0) but reading it gives data: a procfs or
    /// sysfs file, whose size the kernel does not report.
    UnsizedSource,
    /// The progress callback asked to stop.
    Cancelled,
}

impl CopyError {
    pub fn code(&self) -> &'static str {
        match self {
            CopyError::Io { .. } => "IO",
            CopyError::TooLarge { .. } => "TOO_LARGE",
            CopyError::SourceChanged { .. } | CopyError::NoLongerRegular { .. } => "SOURCE_CHANGED",
            CopyError::UnsizedSource => "UNSIZED_SOURCE",
            CopyError::Cancelled => "ABORTED",
        }
    }

    /// Whether the error is about the state of the source itself (changed, no longer a regular
    /// file, unsized): its message does not name the file, so callers add the name.
    pub fn is_about_source(&self) -> bool {
        matches!(
            self,
            CopyError::SourceChanged { .. }
                | CopyError::NoLongerRegular { .. }
                | CopyError::UnsizedSource
        )
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        CopyError::Io {
            context: context.into(),
            source,
        }
    }
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Io { context, source } => write!(f, "{context}: {source}"),
            CopyError::TooLarge { source_len, capacity } => write!(
                f,
                "source is {source_len} bytes but the destination region holds only {capacity} bytes"
            ),
            CopyError::SourceChanged { before, after } => write!(
                f,
                "the source changed during the build: it was {before} bytes, then {after} bytes"
            ),
            CopyError::NoLongerRegular { now } => write!(
                f,
                "the source changed during the build: it was a regular file when planned, now it is {}",
                describe_kind(*now)
            ),
            CopyError::UnsizedSource => f.write_str(
                "the file reports a size of 0 bytes but has data (a procfs or sysfs file?); \
                 copy it into a regular file and use that",
            ),
            CopyError::Cancelled => f.write_str("copy cancelled"),
        }
    }
}

impl std::error::Error for CopyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CopyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
