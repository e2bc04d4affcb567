use std::fmt;
use std::io;

/// Why writing an artifact failed.
#[derive(Debug)]
pub enum DeliverError {
    /// The progress callback asked to stop.
    Cancelled,
    /// The data ranges do not describe the image (unsorted, overlapping, past its end).
    BadRanges(String),
    /// A read or write failed; `context` says what was being done, naming the file.
    Io { context: String, source: io::Error },
    /// The copy engine failed while splitting a partition out.
    Copy(imgforge_copy::CopyError),
}

impl DeliverError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        DeliverError::Io {
            context: context.into(),
            source,
        }
    }

    /// Stable code: ABORTED, RANGES or IO.
    pub fn code(&self) -> &'static str {
        match self {
            DeliverError::Cancelled => "ABORTED",
            DeliverError::BadRanges(_) => "RANGES",
            DeliverError::Copy(imgforge_copy::CopyError::Cancelled) => "ABORTED",
            DeliverError::Io { .. } | DeliverError::Copy(_) => "IO",
        }
    }
}

impl fmt::Display for DeliverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliverError::Cancelled => write!(f, "cancelled"),
            DeliverError::BadRanges(why) => write!(f, "bad data ranges: {why}"),
            DeliverError::Io { context, source } => write!(f, "{context}: {source}"),
            DeliverError::Copy(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for DeliverError {}
