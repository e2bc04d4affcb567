use super::*;

fn messages(findings: &[Finding<char>]) -> Vec<String> {
    findings.iter().map(|f| f.to_string()).collect()
}

fn filled() -> CappedFindings<char, 3> {
    let mut findings = CappedFindings::default();
    for i in 0..5 {
        findings.add('b', None, format!("b{i}"));
    }
    findings.add('a', Some("/a".into()), "a0".to_string());
    for i in 0..4 {
        findings.add('c', None, format!("c{i}"));
    }
    findings.add('0', None, "zero".to_string());
    for i in 0..3 {
        findings.add('0', None, format!("z{i}"));
    }
    findings
}

#[test]
fn each_code_keeps_up_to_the_cap_and_counts_the_rest_in_first_seen_order() {
    let all = filled().finish();
    assert_eq!(
        messages(&all),
        [
            "b: b0",
            "b: b1",
            "b: b2",
            "a: a0",
            "c: c0",
            "c: c1",
            "c: c2",
            "0: zero",
            "0: z0",
            "0: z1",
            "b: 2 more problems of this kind are not listed",
            "c: 1 more problems of this kind are not listed",
            "0: 1 more problems of this kind are not listed",
        ]
    );
    assert_eq!(all[3].path.as_deref(), Some("/a"));
    assert_eq!(all[10].path, None);
}

#[test]
fn finish_by_code_puts_the_left_out_counts_in_code_order() {
    let all = filled().finish_by_code();
    let tail: Vec<String> = messages(&all[10..]);
    assert_eq!(
        tail,
        [
            "0: 1 more problems of this kind are not listed",
            "b: 2 more problems of this kind are not listed",
            "c: 1 more problems of this kind are not listed",
        ]
    );
    assert_eq!(messages(&all[..10]), messages(&filled().finish()[..10]));
}

#[test]
fn wants_is_true_below_the_cap_and_counts_a_refusal_as_left_out() {
    let mut findings = CappedFindings::<u8, 1>::default();
    assert!(findings.wants(7), "nothing kept yet");
    assert!(findings.wants(7), "asking does not use up the cap");
    findings.add(7, None, "kept".into());
    assert!(!findings.wants(7));
    assert!(!findings.wants(7));
    findings.add(7, None, "left out".into());
    assert!(findings.wants(8));
    let all = findings.finish();
    assert_eq!(all.len(), 2, "no summary for code 8, never added");
    assert_eq!(
        all[1].message, "3 more problems of this kind are not listed",
        "two refusals and one add past the cap"
    );
}

#[test]
fn a_cap_of_zero_keeps_only_the_count() {
    let mut findings = CappedFindings::<char, 0>::default();
    assert!(!findings.wants('x'));
    findings.add('x', None, "dropped".into());
    let all = findings.finish();
    assert_eq!(
        messages(&all),
        ["x: 2 more problems of this kind are not listed"]
    );
}
