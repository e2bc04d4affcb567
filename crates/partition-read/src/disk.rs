//! Positioned reads inside one partition of an image, a device or a byte slice: nothing
//! outside [offset, offset + length) is ever read, a short image is an error rather than zeros,
//! and metadata reads can go through a small cache of 4 KiB pieces (EROFS's inodes and
//! directory blocks sit close together; FAT32 caches its FAT itself, in FAT entries, and reads
//! everything else once, so it uses only the uncached [`Disk::read_at`]).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

/// The cache's unit, whatever the filesystem's block size.
const PIECE: u64 = 4096;
/// Pieces kept (1 MiB); when full the cache starts over, which costs re-reads, never memory.
const CACHED_PIECES: usize = 256;

/// Why bytes the filesystem needs could not be read.
#[derive(Debug)]
pub enum ReadError {
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
            ReadError::ImageEnds { at } => write!(f, "the image ends at partition byte {at}"),
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

/// One partition of `inner`: `length` bytes from byte `offset`.
pub struct Disk<R> {
    inner: R,
    offset: u64,
    length: u64,
    /// Where `inner` is positioned, to skip needless seeks on sequential reads.
    position: Option<u64>,
    pieces: HashMap<u64, Vec<u8>>,
}

impl<R: Read + Seek> Disk<R> {
    pub fn new(inner: R, offset: u64, length: u64) -> Self {
        Disk {
            inner,
            offset,
            length,
            position: None,
            pieces: HashMap::new(),
        }
    }

    /// The partition's length as given (not what the image holds).
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether the partition is given as empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The end of `len` bytes from `at`, when they lie inside the partition.
    fn end_of(&self, at: u64, len: usize) -> Result<u64, ReadError> {
        at.checked_add(len as u64)
            .filter(|end| *end <= self.length)
            .ok_or(ReadError::BeyondPartition { end: self.length })
    }

    /// Fills `buffer` from partition byte `at`, uncached (file data, whole FAT sectors).
    pub fn read_at(&mut self, at: u64, buffer: &mut [u8]) -> Result<(), ReadError> {
        self.end_of(at, buffer.len())?;
        if self.offset.checked_add(at).is_none() {
            return Err(ReadError::BeyondPartition { end: self.length });
        }
        let read = self.read_upto(at, buffer)?;
        if read < buffer.len() {
            return Err(ReadError::ImageEnds {
                at: at + read as u64,
            });
        }
        Ok(())
    }

    /// `len` bytes of metadata from partition byte `at`, through the cache.
    pub fn read(&mut self, at: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let end = self.end_of(at, len)?;
        let mut out = Vec::with_capacity(len);
        let mut here = at;
        while here < end {
            let piece = here / PIECE;
            let bytes = self.piece(piece)?;
            let from = (here - piece * PIECE) as usize;
            let to = ((end - piece * PIECE) as usize).min(bytes.len());
            if to <= from {
                return Err(ReadError::ImageEnds { at: here });
            }
            out.extend_from_slice(&bytes[from..to]);
            here += (to - from) as u64;
        }
        Ok(out)
    }

    fn piece(&mut self, piece: u64) -> Result<&[u8], ReadError> {
        if !self.pieces.contains_key(&piece) {
            if self.pieces.len() >= CACHED_PIECES {
                self.pieces.clear();
            }
            let start = piece * PIECE;
            let len = PIECE.min(self.length - start) as usize;
            let mut bytes = vec![0u8; len];
            // A piece cut short by the image's end keeps what could be read.
            let read = self.read_upto(start, &mut bytes)?;
            bytes.truncate(read);
            self.pieces.insert(piece, bytes);
        }
        Ok(&self.pieces[&piece])
    }

    /// Reads as much of `buffer` as the image holds from partition byte `at`.
    fn read_upto(&mut self, at: u64, buffer: &mut [u8]) -> Result<usize, ReadError> {
        let Some(start) = self.offset.checked_add(at) else {
            return Ok(0);
        };
        if self.position != Some(start) {
            self.position = None;
            self.inner
                .seek(SeekFrom::Start(start))
                .map_err(ReadError::Io)?;
        }
        let mut done = 0;
        while done < buffer.len() {
            match self.inner.read(&mut buffer[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.position = None;
                    return Err(ReadError::Io(e));
                }
            }
        }
        // After a short read, seek again next time rather than trust where the image ended.
        self.position = (done == buffer.len()).then_some(start + done as u64);
        Ok(done)
    }
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
