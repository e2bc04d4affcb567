use super::*;

#[test]
fn codes_are_unique_screaming_case() {
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
        let text = code.as_str();
        assert!(seen.insert(text), "{text} twice");
        assert!(
            text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{text}"
        );
        assert_eq!(code.to_string(), text);
    }
}

#[test]
fn limited_findings_are_summarised() {
    let mut findings = Findings::default();
    for i in 0..PER_CODE_LIMIT + 5 {
        findings.add_limited(Code::PartitionsOverlap, || format!("overlap {i}"));
    }
    findings.add_limited(Code::PartitionOutsideDisk, || "outside".into());
    let list = findings.finish();
    assert_eq!(list.len(), PER_CODE_LIMIT + 2);
    assert_eq!(list.last().unwrap().code, Code::PartitionsOverlap);
    assert!(list.last().unwrap().message.starts_with("5 more"));
}
