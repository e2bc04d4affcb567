use super::*;

#[test]
fn each_code_keeps_a_bounded_number_of_findings_and_counts_the_rest() {
    let mut findings = Findings::default();
    for i in 0..MAX_FINDINGS_PER_CODE + 7 {
        findings.add(FindingCode::ChainLoop, None, format!("loop {i}"));
    }
    findings.add(FindingCode::LostClusters, None, "lost".into());
    assert!(findings.wants(FindingCode::LostClusters));
    assert!(
        !findings.wants(FindingCode::ChainLoop),
        "counted as left out"
    );
    let all = findings.finish();
    assert_eq!(all.len(), MAX_FINDINGS_PER_CODE + 2);
    let last = all.last().unwrap();
    assert_eq!(last.code, FindingCode::ChainLoop);
    assert_eq!(last.message, "8 more problems of this kind are not listed");
    assert_eq!(all[0].to_string(), "CHAIN_LOOP: loop 0");
}
