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
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_only_whole_sectors_on_the_disk() {
        let bytes: Vec<u8> = (0..=255).cycle().take(1536 + 100).collect();
        let mut cursor = Cursor::new(bytes);
        let mut disk = Disk::new(&mut cursor, 1636, 512);
        assert_eq!(disk.total_sectors(), 3);
        assert_eq!(disk.last_lba(), Some(2));
        assert_eq!(disk.read_sectors(2, 1).unwrap().unwrap()[0], 0);
        assert_eq!(disk.read_sectors(2, 2).unwrap(), None);
        assert_eq!(disk.read_sectors(u64::MAX, 1).unwrap(), None);
        assert_eq!(disk.read_sectors(0, u64::MAX).unwrap(), None);
        assert_eq!(disk.read_at(1600, 36).unwrap().unwrap().len(), 36);
        assert_eq!(disk.read_at(1600, 37).unwrap(), None);
        assert_eq!(disk.read_at(u64::MAX, 1).unwrap(), None);
    }

    #[test]
    fn a_disk_shorter_than_its_size_is_an_error() {
        let mut cursor = Cursor::new(vec![0u8; 512]);
        let mut disk = Disk::new(&mut cursor, 1024, 512);
        let error = disk.read_sectors(1, 1).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(error.to_string().contains("ends before byte 1024"));
    }

    #[test]
    fn a_tiny_disk_has_no_last_lba() {
        let mut cursor = Cursor::new(vec![0u8; 100]);
        let disk = Disk::new(&mut cursor, 100, 512);
        assert_eq!(disk.last_lba(), None);
        assert!(!disk.holds(0, 1));
        assert!(disk.holds(0, 0));
    }
}
