//! The raw image's data ranges, checked, and the fixed-size units (qcow2 clusters, VHD blocks)
//! they touch: the only input the container layouts depend on besides the virtual size.

use crate::error::VdiskError;

/// Bytes `[offset, offset + length)` of the raw image that hold data; everything outside the
/// ranges reads as zeros and is never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRange {
    pub offset: u64,
    pub length: u64,
}

impl DataRange {
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// Consecutive units (clusters or blocks) `first..first + count` that data touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitRun {
    pub first: u64,
    pub count: u64,
}

impl UnitRun {
    pub fn end(&self) -> u64 {
        self.first + self.count
    }
}

/// Checks that the ranges are sorted, non-overlapping, non-empty and inside the virtual size.
/// (Touching ranges are allowed: merged or not, they describe the same bytes.)
pub fn check_ranges(virtual_size: u64, ranges: &[DataRange]) -> Result<(), VdiskError> {
    let mut previous_end = 0;
    for (index, range) in ranges.iter().enumerate() {
        let bad = |why: String| VdiskError::DataRange { index, why };
        if range.length == 0 {
            return Err(bad("is empty (length 0)".into()));
        }
        let end = range
            .offset
            .checked_add(range.length)
            .filter(|&end| end <= virtual_size)
            .ok_or_else(|| {
                bad(format!(
                    "(offset {}, length {}) ends past the virtual size {virtual_size}",
                    range.offset, range.length
                ))
            })?;
        if index > 0 && range.offset < previous_end {
            return Err(bad(format!(
                "(offset {}) starts before the previous range ends ({previous_end}): ranges must be sorted and must not overlap",
                range.offset
            )));
        }
        previous_end = end;
    }
    Ok(())
}

/// The runs of consecutive `unit`-byte units that the (checked) ranges touch, in order. Two
/// ranges touching the same unit, or neighbouring units, share a run. Memory is one entry
/// per run, at most one per range.
pub fn touched_units(ranges: &[DataRange], unit: u64) -> Vec<UnitRun> {
    let mut runs: Vec<UnitRun> = Vec::new();
    for range in ranges {
        let first = range.offset / unit;
        let end = range.end().div_ceil(unit);
        match runs.last_mut() {
            Some(last) if first <= last.end() => {
                last.count = last.count.max(end - last.first);
            }
            _ => runs.push(UnitRun {
                first,
                count: end - first,
            }),
        }
    }
    runs
}

/// Units in all runs.
pub fn unit_count(runs: &[UnitRun]) -> u64 {
    runs.iter().map(|run| run.count).sum()
}

#[cfg(test)]
#[path = "ranges_tests.rs"]
mod tests;
