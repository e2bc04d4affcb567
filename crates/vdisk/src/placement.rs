//! Where each data range's bytes go in a container whose data units (qcow2 clusters, VHD
//! blocks) are allocated in guest order: as `(source range, host offset)` pieces, one per range
//! where allocated units are adjacent on the host, else one per unit.

use std::ops::Range;

use crate::ranges::{DataRange, UnitRun};

/// How a container places its allocated units: the `k`-th allocated unit (in guest order)
/// starts at `first_offset + k * stride` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPlacement {
    pub unit: u64,
    pub first_offset: u64,
    pub stride: u64,
}

/// Calls `place` with each piece of the (checked) `ranges`, in order: the source bytes and the
/// host offset of the first of them. `runs` are the units the ranges touch
/// ([`touched_units`](crate::ranges::touched_units)).
pub fn for_each_piece<E>(
    ranges: &[DataRange],
    runs: &[UnitRun],
    placement: UnitPlacement,
    mut place: impl FnMut(Range<u64>, u64) -> Result<(), E>,
) -> Result<(), E> {
    let UnitPlacement {
        unit,
        first_offset,
        stride,
    } = placement;
    let contiguous = stride == unit;
    let mut run_index = 0;
    let mut allocated_before = 0;
    for range in ranges {
        // Every range lies inside one run: runs are made of the ranges' units.
        while runs[run_index].end() * unit <= range.offset {
            allocated_before += runs[run_index].count;
            run_index += 1;
        }
        let run = runs[run_index];
        let mut pos = range.offset;
        while pos < range.end() {
            let unit_index = pos / unit;
            let unit_start = unit_index * unit;
            let end = if contiguous {
                range.end()
            } else {
                (unit_start + unit).min(range.end())
            };
            let host_unit = first_offset + (allocated_before + unit_index - run.first) * stride;
            place(pos..end, host_unit + (pos - unit_start))?;
            pos = end;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
