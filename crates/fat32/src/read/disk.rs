//! Positioned reads inside one partition of an image, a device or a byte slice: nothing
//! outside [offset, offset + length) is ever read, and a short image is an error, not zeros.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

/// Why bytes the filesystem needs could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The bytes lie past the end of the partition.
    BeyondPartition {
        end: u64,
    },
    /// The image (or device) ends before the partition does.
    ImageEnds {
        at: u64,
    },
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::BeyondPartition { end } => {
                write!(f, "it lies past the end of the partition ({end} bytes)")
            }
            ReadError::ImageEnds { at } => {
                write!(f, "the image ends at partition byte {at}")
            }
            ReadError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl From<ReadError> for io::Error {
    fn from(error: ReadError) -> io::Error {
        match error {
            ReadError::Io(error) => error,
            ReadError::ImageEnds { .. } => {
                io::Error::new(io::ErrorKind::UnexpectedEof, error.to_string())
            }
            ReadError::BeyondPartition { .. } => {
                io::Error::new(io::ErrorKind::InvalidData, error.to_string())
            }
        }
    }
}

pub(crate) struct Disk<R> {
    inner: R,
    offset: u64,
    length: u64,
    /// Where `inner` is positioned, to skip needless seeks on sequential reads.
    position: Option<u64>,
}

impl<R: Read + Seek> Disk<R> {
    pub(super) fn new(inner: R, offset: u64, length: u64) -> Self {
        Disk {
            inner,
            offset,
            length,
            position: None,
        }
    }

    /// The partition's length as given (not what the image holds).
    pub(super) fn len(&self) -> u64 {
        self.length
    }

    /// Fills `buf` from partition byte `at`.
    pub(super) fn read_at(&mut self, at: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let end = at.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.length) {
            return Err(ReadError::BeyondPartition { end: self.length });
        }
        let absolute = self
            .offset
            .checked_add(at)
            .ok_or(ReadError::BeyondPartition { end: self.length })?;
        if self.position != Some(absolute) {
            self.position = None;
            self.inner
                .seek(SeekFrom::Start(absolute))
                .map_err(ReadError::Io)?;
        }
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => {
                    self.position = None;
                    return Err(ReadError::ImageEnds {
                        at: at + done as u64,
                    });
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.position = None;
                    return Err(ReadError::Io(e));
                }
            }
        }
        self.position = Some(absolute + buf.len() as u64);
        Ok(())
    }
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
