//! Where a filesystem writer (FAT32, EROFS) puts a planned filesystem, and how such a write
//! fails: shared so that every writer opens, names and reports the image the same way.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::CopyError;
use crate::opened::Destination;

/// An open image (or device), its name for messages, and what it holds already.
pub struct Target<'a> {
    pub image: &'a File,
    pub image_name: &'a str,
    pub state: Destination,
}

/// Opens `image` for writing, never creating or truncating it: the build sized it already.
pub fn open_image(image: &Path) -> Result<File, CopyError> {
    OpenOptions::new()
        .write(true)
        .open(image)
        .map_err(|source| CopyError::Io {
            context: format!("cannot open {} for writing", image.display()),
            source,
        })
}

/// Opens `image` for writing (never creating or truncating it) and runs `write` on it as a
/// [`Target`]: the whole job of one filesystem partition in a build.
pub fn write_into_image(
    image: &Path,
    state: Destination,
    write: impl FnOnce(&Target) -> Result<(), WriteError>,
) -> Result<(), WriteError> {
    let file = open_image(image)?;
    let image_name = image.display().to_string();
    write(&Target {
        image: &file,
        image_name: &image_name,
        state,
    })
}

/// A failed write of a filesystem; `path` is the file inside the filesystem whose data failed,
/// if one did, and `source` its source file when the error is about the source's own state
/// (its message then does not name it).
#[derive(Debug)]
pub struct WriteError {
    pub path: Option<String>,
    pub source: Option<PathBuf>,
    pub error: CopyError,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        if let Some(source) = &self.source {
            write!(f, "{}: ", source.display())?;
        }
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for WriteError {}

impl From<CopyError> for WriteError {
    fn from(error: CopyError) -> Self {
        WriteError {
            path: None,
            source: None,
            error,
        }
    }
}
