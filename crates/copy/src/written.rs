//! The byte ranges of a destination that an engine wrote: the build's own map of what holds
//! data, from which delivery formats (Android sparse, bmap, compressed streams) are written
//! without scanning the finished image for zeros.

/// One range of bytes, `[offset, offset + length)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: u64,
}

impl ByteRange {
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// Ranges as they are written: appended in any order, kept sorted and merged on demand. Writes
/// mostly come in offset order, so the common case extends the last range in place; memory is
/// one entry per run of adjacent writes, never per byte or block.
#[derive(Debug, Default, Clone)]
pub struct WrittenRanges {
    ranges: Vec<ByteRange>,
    /// Whether `ranges` is sorted, merged and without overlaps.
    normalized: bool,
    /// The length after the last normalization: normalizing again once it doubles keeps
    /// out-of-order writes from growing the list without bound.
    normalized_len: usize,
}

impl WrittenRanges {
    pub fn new() -> Self {
        WrittenRanges {
            ranges: Vec::new(),
            normalized: true,
            normalized_len: 0,
        }
    }

    /// Records that `[offset, offset + length)` was written.
    pub fn add(&mut self, offset: u64, length: u64) {
        if length == 0 {
            return;
        }
        let added = ByteRange { offset, length };
        if let Some(last) = self.ranges.last_mut() {
            // Touching or overlapping the last range, starting within it or right after it.
            if offset >= last.offset && offset <= last.end() {
                last.length = last.length.max(added.end() - last.offset);
                return;
            }
            if offset < last.offset {
                self.normalized = false;
            }
        }
        self.ranges.push(added);
        if self.ranges.len() > 64 && self.ranges.len() > 2 * self.normalized_len {
            self.normalize();
        }
    }

    /// Records every range of `other`.
    pub fn extend(&mut self, other: &WrittenRanges) {
        for range in other.ranges() {
            self.add(range.offset, range.length);
        }
    }

    /// Sorted by offset, merged where they touch or overlap.
    pub fn ranges(&self) -> Vec<ByteRange> {
        if self.normalized {
            return self.ranges.clone();
        }
        merged(self.ranges.clone())
    }

    /// Bytes covered.
    pub fn bytes(&self) -> u64 {
        self.ranges().iter().map(|r| r.length).sum()
    }

    fn normalize(&mut self) {
        if !self.normalized {
            self.ranges = merged(std::mem::take(&mut self.ranges));
            self.normalized = true;
        }
        self.normalized_len = self.ranges.len();
    }
}

/// `ranges` sorted by offset, with touching or overlapping ranges merged.
pub fn merged(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    ranges.retain(|r| r.length > 0);
    ranges.sort_unstable_by_key(|r| r.offset);
    let mut out: Vec<ByteRange> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.offset <= last.end() => {
                last.length = last.length.max(range.end() - last.offset);
            }
            _ => out.push(range),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(offset: u64, length: u64) -> ByteRange {
        ByteRange { offset, length }
    }

    #[test]
    fn adjacent_writes_in_order_make_one_range() {
        let mut w = WrittenRanges::new();
        w.add(0, 10);
        w.add(10, 5);
        w.add(12, 2); // inside
        w.add(20, 4);
        assert_eq!(w.ranges(), vec![r(0, 15), r(20, 4)]);
        assert_eq!(w.bytes(), 19);
    }

    #[test]
    fn out_of_order_and_overlapping_writes_are_merged() {
        let mut w = WrittenRanges::new();
        w.add(100, 10);
        w.add(0, 10);
        w.add(5, 100); // bridges both
        w.add(500, 0); // empty: nothing
        assert_eq!(w.ranges(), vec![r(0, 110)]);
    }

    #[test]
    fn many_scattered_writes_stay_sorted_and_bounded() {
        let mut w = WrittenRanges::new();
        for i in (0..1000u64).rev() {
            w.add(i * 10, 5);
            w.add(i * 10, 5); // the same write again must not grow the list
        }
        let ranges = w.ranges();
        assert_eq!(ranges.len(), 1000);
        assert!(ranges.windows(2).all(|p| p[0].end() < p[1].offset));
        assert!(w.ranges.len() <= 2000);
    }

    #[test]
    fn extend_merges_two_maps() {
        let mut a = WrittenRanges::new();
        a.add(0, 4);
        let mut b = WrittenRanges::new();
        b.add(4, 4);
        b.add(100, 1);
        a.extend(&b);
        assert_eq!(a.ranges(), vec![r(0, 8), r(100, 1)]);
    }
}

/// The ranges of `[start, end)` of `file` that hold data as its filesystem reports them
/// (SEEK_DATA/SEEK_HOLE), aligned outwards to `block`: the data map of what another program wrote
/// into an image (mkfs.ext4 at a partition's offset), where the build has no record of its
/// writes. Where the filesystem cannot tell, the whole range: zeros mapped as data are slower to
/// deliver, never wrong.
pub fn data_ranges<S: crate::Syscalls>(
    sys: &mut S,
    file: &std::fs::File,
    start: u64,
    end: u64,
    block: u64,
) -> Vec<ByteRange> {
    let whole = || {
        vec![ByteRange {
            offset: start,
            length: end - start,
        }]
    };
    let mut ranges: Vec<ByteRange> = Vec::new();
    let mut pos = start;
    while pos < end {
        let data = match sys.seek_data(file, pos) {
            Ok(Some(data)) => data,
            Ok(None) => break,
            Err(_) => return whole(),
        };
        if data >= end {
            break;
        }
        let hole = match sys.seek_hole(file, data) {
            Ok(hole) if hole > data => hole.min(end),
            _ => return whole(),
        };
        let offset = (data / block * block).max(start);
        let stop = hole.div_ceil(block).saturating_mul(block).min(end);
        match ranges.last_mut() {
            Some(last) if last.end() >= offset => last.length = stop.max(last.end()) - last.offset,
            _ => ranges.push(ByteRange {
                offset,
                length: stop - offset,
            }),
        }
        pos = hole;
    }
    ranges
}

#[cfg(test)]
mod data_range_tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    #[test]
    fn data_ranges_are_the_written_blocks_of_a_sparse_file() {
        let dir = std::env::temp_dir().join(format!("imgforge-data-ranges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sparse");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.set_len(64 << 20).unwrap();
        file.write_at(&[1; 4096], 8 << 20).unwrap();
        file.write_at(&[2; 10], (32 << 20) + 100).unwrap();
        let mut sys = crate::DefaultSyscalls::default();
        let ranges = data_ranges(&mut sys, &file, 1 << 20, 48 << 20, 4096);
        std::fs::remove_dir_all(&dir).unwrap();
        // A filesystem may report data in larger units than written; each write is covered, and
        // far less than the whole range is data where holes are reported at all.
        let covers = |at: u64| ranges.iter().any(|r| r.offset <= at && at < r.end());
        assert!(covers(8 << 20) && covers((32 << 20) + 100), "{ranges:?}");
        let total: u64 = ranges.iter().map(|r| r.length).sum();
        assert!(total == (47 << 20) || total <= 8 << 20, "{ranges:?}");
        assert!(ranges
            .iter()
            .all(|r| r.offset >= 1 << 20 && r.end() <= 48 << 20));
    }
}
