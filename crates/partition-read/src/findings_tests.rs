use super::*;

#[test]
fn each_code_keeps_up_to_the_cap_and_counts_the_rest() {
    let mut findings = CappedFindings::new(3);
    for i in 0..5 {
        findings.add('b', format!("b{i}"));
    }
    findings.add('a', "a0".to_string());
    for i in 0..4 {
        findings.add('c', format!("c{i}"));
    }
    let (kept, left_out) = findings.finish();
    assert_eq!(kept, ["b0", "b1", "b2", "a0", "c0", "c1", "c2"]);
    assert_eq!(
        left_out,
        [('b', 2), ('c', 1)],
        "first-seen order, none for 'a'"
    );
}

#[test]
fn wants_is_true_below_the_cap_and_counts_a_refusal_as_left_out() {
    let mut findings = CappedFindings::new(1);
    assert!(findings.wants(7), "nothing kept yet");
    assert!(findings.wants(7), "asking does not use up the cap");
    findings.add(7, ());
    assert!(!findings.wants(7));
    assert!(!findings.wants(7));
    findings.add(7, ());
    assert!(findings.wants(8));
    let (kept, left_out) = findings.finish();
    assert_eq!(kept.len(), 1);
    assert_eq!(left_out, [(7, 3)], "two refusals and one add past the cap");
}

#[test]
fn a_cap_of_zero_keeps_nothing() {
    let mut findings = CappedFindings::new(0);
    assert!(!findings.wants("x"));
    findings.add("x", 1);
    let (kept, left_out) = findings.finish();
    assert!(kept.is_empty());
    assert_eq!(left_out, [("x", 2)]);
}

#[test]
fn the_left_out_message_names_the_count() {
    assert_eq!(
        left_out_message(8),
        "8 more problems of this kind are not listed"
    );
}
