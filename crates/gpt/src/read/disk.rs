//! Positioned, bounded reads of the disk under inspection.

use std::io::{self, Read, Seek, SeekFrom};

/// A disk of `size` bytes seen through `Read + Seek`, addressed in sectors.
pub(crate) struct Disk<'a, R> {
    reader: &'a mut R,
    pub(crate) size: u64,
    pub(crate) sector_size: u32,
}

impl<'a, R> Disk<'a, R> {
    pub(crate) fn new(reader: &'a mut R, size: u64, sector_size: u32) -> Self {
        Disk {
            reader,
            size,
            sector_size,
        }
    }

    /// Whole sectors on the disk; a trailing partial sector does not count.
    pub(crate) fn total_sectors(&self) -> u64 {
        self.size / u64::from(self.sector_size)
    }

    /// The LBA of the last whole sector; None for a disk without one.
    pub(crate) fn last_lba(&self) -> Option<u64> {
        self.total_sectors().checked_sub(1)
    }

    /// True when sectors `first..first + count` are all on the disk.
    pub(crate) fn holds(&self, first: u64, count: u64) -> bool {
        first
            .checked_add(count)
            .is_some_and(|end| end <= self.total_sectors())
    }
}

impl<R: Read + Seek> Disk<'_, R> {
    /// `count` sectors from `lba`; None when they are not all on the disk. Callers bound `count`
    /// (one sector, or an entry array capped in size) before asking.
    pub(crate) fn read_sectors(&mut self, lba: u64, count: u64) -> io::Result<Option<Vec<u8>>> {
        if !self.holds(lba, count) {
            return Ok(None);
        }
        let sector = u64::from(self.sector_size);
        // holds() keeps both within the disk size, a u64
        self.read_bytes(lba * sector, (count * sector) as usize)
            .map(Some)
    }

    /// `length` bytes at `offset`; None when they are not all on the disk.
    pub(crate) fn read_at(&mut self, offset: u64, length: usize) -> io::Result<Option<Vec<u8>>> {
        match offset.checked_add(length as u64) {
            Some(end) if end <= self.size => self.read_bytes(offset, length).map(Some),
            _ => Ok(None),
        }
    }

    fn read_bytes(&mut self, offset: u64, length: usize) -> io::Result<Vec<u8>> {
        let mut buffer = vec![0u8; length];
        self.reader.seek(SeekFrom::Start(offset))?;
        self.reader.read_exact(&mut buffer).map_err(|error| {
            if error.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the disk ends before byte {} although its size is {} bytes",
                        offset + length as u64,
                        self.size
                    ),
                )
            } else {
                error
            }
        })?;
        Ok(buffer)
    }
}

#[cfg(test)]
#[path = "disk_tests.rs"]
mod tests;
