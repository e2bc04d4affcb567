use super::*;

#[test]
fn lost_runs_are_merged_and_only_the_first_ones_named() {
    let mut lost = LostRuns::default();
    for c in [5, 6, 7, 9] {
        lost.add(c);
    }
    for c in 0..20 {
        lost.add(100 + 2 * c);
    }
    let mut findings = Findings::default();
    lost.report(&mut findings);
    let all = findings.finish();
    assert_eq!(
        all[0].message,
        "24 clusters are allocated in the FAT but belong to no file or directory: clusters \
         5-7, 9, 100, 102, 104, 106, 108, 110, ..."
    );
}
