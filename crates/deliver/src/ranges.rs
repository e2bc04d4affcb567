//! The image and its map, checked once, and read in order as data and zero runs.

use std::fs::File;
use std::path::Path;

use imgforge_copy::ByteRange;

use crate::error::DeliverError;
use crate::Progress;

/// Bytes read from the image per call, and of zeros fed per call for a hole.
pub(crate) const CHUNK: usize = 1 << 20;

/// Checks that `ranges` are sorted, do not touch or overlap, are not empty and lie inside an
/// image of `size` bytes: what every writer relies on.
pub fn check_ranges(ranges: &[ByteRange], size: u64) -> Result<(), DeliverError> {
    let mut end = 0u64;
    for (i, r) in ranges.iter().enumerate() {
        let bad = |why: &str| {
            DeliverError::BadRanges(format!("range {i} ({}+{}): {why}", r.offset, r.length))
        };
        if r.length == 0 {
            return Err(bad("empty"));
        }
        if i > 0 && r.offset <= end {
            return Err(bad(
                "not after the previous range (unsorted, overlapping or touching)",
            ));
        }
        end = r
            .offset
            .checked_add(r.length)
            .ok_or_else(|| bad("overflows"))?;
        if end > size {
            return Err(bad(&format!("past the image's end at {size}")));
        }
    }
    Ok(())
}

/// An open raw image with the ranges that hold its data.
pub struct ImageMap<'a> {
    pub(crate) file: File,
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) ranges: &'a [ByteRange],
}

impl<'a> ImageMap<'a> {
    /// Opens `image` and checks `ranges` against its size.
    pub fn open(image: &Path, ranges: &'a [ByteRange]) -> Result<Self, DeliverError> {
        let name = image.display().to_string();
        let file =
            File::open(image).map_err(|e| DeliverError::io(format!("cannot open {name}"), e))?;
        let size = file
            .metadata()
            .map_err(|e| DeliverError::io(format!("cannot stat {name}"), e))?
            .len();
        check_ranges(ranges, size)?;
        Ok(ImageMap {
            file,
            name,
            size,
            ranges,
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads exactly `buf.len()` bytes at `offset`.
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), DeliverError> {
        read_exact_at(&self.file, buf, offset).map_err(|e| {
            DeliverError::io(
                format!(
                    "cannot read {} bytes at offset {offset} of {}",
                    buf.len(),
                    self.name
                ),
                e,
            )
        })
    }

    /// Feeds `[start, end)` of the image to `sink` in order: data ranges read from the file,
    /// everything else as zeros that are never read.
    pub(crate) fn stream(
        &self,
        start: u64,
        end: u64,
        progress: Progress,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), DeliverError>,
    ) -> Result<(), DeliverError> {
        let zeros = vec![0u8; CHUNK];
        let mut buf = vec![0u8; CHUNK];
        let mut pos = start;
        let mut feed = |to: u64, data: bool, pos: &mut u64| -> Result<(), DeliverError> {
            while *pos < to {
                let n = (to - *pos).min(CHUNK as u64) as usize;
                if data {
                    self.read_exact_at(&mut buf[..n], *pos)?;
                    sink(&buf[..n])?;
                } else {
                    sink(&zeros[..n])?;
                }
                *pos += n as u64;
                if !progress(n as u64) {
                    return Err(DeliverError::Cancelled);
                }
            }
            Ok(())
        };
        let first = self.ranges.partition_point(|r| r.end() <= start);
        for r in &self.ranges[first..] {
            if r.offset >= end {
                break;
            }
            let data_start = r.offset.max(start);
            feed(data_start, false, &mut pos)?;
            feed(r.end().min(end), true, &mut pos)?;
        }
        feed(end, false, &mut pos)
    }
}

/// A positioned read of exactly `buf.len()` bytes, on every platform (Windows moves the file's
/// offset, which nothing here relies on).
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(file, buf, offset);
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(file, buf, offset);
        match read {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(offset: u64, length: u64) -> ByteRange {
        ByteRange { offset, length }
    }

    #[test]
    fn ranges_must_be_sorted_apart_and_inside() {
        assert!(check_ranges(&[], 0).is_ok());
        assert!(check_ranges(&[r(0, 10), r(11, 5)], 16).is_ok());
        assert!(
            check_ranges(&[r(0, 10), r(10, 5)], 16).is_err(),
            "touching: not merged"
        );
        assert!(check_ranges(&[r(5, 10), r(0, 2)], 16).is_err(), "unsorted");
        assert!(check_ranges(&[r(0, 17)], 16).is_err(), "past the end");
        assert!(check_ranges(&[r(3, 0)], 16).is_err(), "empty");
        assert!(
            check_ranges(&[r(u64::MAX, 2)], u64::MAX).is_err(),
            "overflow"
        );
    }

    #[test]
    fn stream_reads_data_and_feeds_holes_as_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        let mut bytes = vec![0u8; 3 * CHUNK + 100];
        bytes[10..20].fill(7);
        bytes[2 * CHUNK..2 * CHUNK + 5].fill(9);
        std::fs::write(&path, &bytes).unwrap();
        let ranges = [r(10, 10), r(2 * CHUNK as u64, 5)];
        let map = ImageMap::open(&path, &ranges).unwrap();
        let mut out = Vec::new();
        let mut seen = 0;
        map.stream(
            5,
            bytes.len() as u64,
            &mut |n| {
                seen += n;
                true
            },
            &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(out, bytes[5..]);
        assert_eq!(seen, bytes.len() as u64 - 5);
    }
}
