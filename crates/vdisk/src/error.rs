use std::fmt;

use imgforge_copy::CopyError;

/// Why a virtual disk cannot be planned or written. Messages are one line and name the
/// option (`virtualSize`, `dataRanges[i]`, `uuid`, `timestamp`) or the file concerned.
#[derive(Debug)]
pub enum VdiskError {
    /// The virtual size does not suit the format.
    VirtualSize(String),
    /// `dataRanges[index]` is invalid.
    DataRange { index: usize, why: String },
    /// The VHD unique id or timestamp given is invalid.
    Identity(String),
    /// The raw image is not what the plan expects (missing, another size).
    Image(String),
    /// Reading the image or writing the output failed.
    Copy(CopyError),
}

impl VdiskError {
    /// A stable code for callers: VIRTUAL_SIZE, DATA_RANGE, IDENTITY, IMAGE, or the copy
    /// engine's code (IO, SOURCE_CHANGED, ...).
    pub fn code(&self) -> &'static str {
        match self {
            VdiskError::VirtualSize(_) => "VIRTUAL_SIZE",
            VdiskError::DataRange { .. } => "DATA_RANGE",
            VdiskError::Identity(_) => "IDENTITY",
            VdiskError::Image(_) => "IMAGE",
            VdiskError::Copy(error) => error.code(),
        }
    }
}

impl fmt::Display for VdiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VdiskError::VirtualSize(why) => write!(f, "virtualSize: {why}"),
            VdiskError::DataRange { index, why } => write!(f, "dataRanges[{index}] {why}"),
            VdiskError::Identity(why) | VdiskError::Image(why) => f.write_str(why),
            VdiskError::Copy(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for VdiskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VdiskError::Copy(error) => Some(error),
            _ => None,
        }
    }
}

impl From<CopyError> for VdiskError {
    fn from(error: CopyError) -> Self {
        VdiskError::Copy(error)
    }
}
