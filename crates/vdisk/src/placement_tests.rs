use super::*;
use crate::ranges::touched_units;

fn pieces(ranges: &[DataRange], placement: UnitPlacement) -> Vec<(Range<u64>, u64)> {
    let runs = touched_units(ranges, placement.unit);
    let mut out = Vec::new();
    for_each_piece::<()>(ranges, &runs, placement, |source, host| {
        out.push((source, host));
        Ok(())
    })
    .unwrap();
    out
}

fn range(offset: u64, length: u64) -> DataRange {
    DataRange { offset, length }
}

#[test]
fn adjacent_units_keep_a_range_whole_and_skip_untouched_units() {
    let placement = UnitPlacement {
        unit: 100,
        first_offset: 1000,
        stride: 100,
    };
    // Units 0..2 (one run), then unit 5 (second run, allocated third).
    assert_eq!(
        pieces(&[range(50, 120), range(530, 10)], placement),
        vec![(50..170, 1050), (530..540, 1230)]
    );
    // Two ranges in one unit share it.
    assert_eq!(
        pieces(&[range(10, 5), range(60, 5)], placement),
        vec![(10..15, 1010), (60..65, 1060)]
    );
}

#[test]
fn spaced_units_split_a_range_at_unit_boundaries() {
    let placement = UnitPlacement {
        unit: 100,
        first_offset: 1000,
        stride: 150,
    };
    assert_eq!(
        pieces(&[range(50, 200), range(900, 100)], placement),
        vec![
            (50..100, 1050),
            (100..200, 1150),
            (200..250, 1300),
            (900..1000, 1450)
        ]
    );
}
