use std::fmt;
use std::str::FromStr;

/// How the engine moves data extents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyMode {
    /// copy_file_range first (reflinks on XFS/btrfs), positioned read/write when the kernel
    /// cannot do it for this pair of files.
    #[default]
    Auto,
    /// copy_file_range only; its failures are errors. Useful to prove a layout reflinks.
    CopyFileRange,
    /// Positioned read/write only.
    ReadWrite,
}

const VALID_MODES: &str = "\"auto\", \"copy-file-range\", \"read-write\"";

impl CopyMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            CopyMode::Auto => "auto",
            CopyMode::CopyFileRange => "copy-file-range",
            CopyMode::ReadWrite => "read-write",
        }
    }
}

impl FromStr for CopyMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(CopyMode::Auto),
            "copy-file-range" => Ok(CopyMode::CopyFileRange),
            "read-write" => Ok(CopyMode::ReadWrite),
            other => Err(format!(
                "invalid copy mode {other:?}: expected one of {VALID_MODES}"
            )),
        }
    }
}

impl fmt::Display for CopyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
