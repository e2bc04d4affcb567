use super::*;

fn range(offset: u64, length: u64) -> DataRange {
    DataRange { offset, length }
}

fn run(first: u64, count: u64) -> UnitRun {
    UnitRun { first, count }
}

#[test]
fn ranges_must_be_sorted_disjoint_non_empty_and_inside() {
    assert!(check_ranges(100, &[]).is_ok());
    assert!(check_ranges(100, &[range(0, 10), range(10, 90)]).is_ok());
    let message = |ranges: &[DataRange]| check_ranges(100, ranges).unwrap_err().to_string();
    assert_eq!(message(&[range(5, 0)]), "dataRanges[0] is empty (length 0)");
    assert!(message(&[range(0, 10), range(95, 6)])
        .starts_with("dataRanges[1] (offset 95, length 6) ends past the virtual size 100"));
    assert!(message(&[range(20, 10), range(25, 1)]).contains("must be sorted"));
    assert!(message(&[range(20, 10), range(0, 1)]).contains("must be sorted"));
    assert!(
        check_ranges(u64::MAX, &[range(u64::MAX - 1, 2)]).is_err(),
        "overflow"
    );
}

#[test]
fn touched_units_merge_shared_and_neighbouring_units() {
    let unit = 64;
    assert_eq!(touched_units(&[], unit), vec![]);
    // One byte in the middle of unit 2.
    assert_eq!(touched_units(&[range(130, 1)], unit), vec![run(2, 1)]);
    // A range straddling units 0 and 1, another in unit 1: one run.
    assert_eq!(
        touched_units(&[range(60, 8), range(100, 4)], unit),
        vec![run(0, 2)]
    );
    // Neighbouring units: one run; a gap of one unit: two runs.
    assert_eq!(
        touched_units(&[range(0, 64), range(64, 1)], unit),
        vec![run(0, 2)]
    );
    assert_eq!(
        touched_units(&[range(0, 1), range(128, 1)], unit),
        vec![run(0, 1), run(2, 1)]
    );
    // A range covering everything of a size that is no multiple of the unit: the last,
    // partial unit counts.
    assert_eq!(touched_units(&[range(0, 200)], unit), vec![run(0, 4)]);
    // Data touching only the last partial unit.
    assert_eq!(touched_units(&[range(199, 1)], unit), vec![run(3, 1)]);
    assert_eq!(unit_count(&[run(0, 4), run(9, 2)]), 6);
}
