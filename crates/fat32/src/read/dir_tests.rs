use super::*;
use crate::encode::{short_entry, ATTR_ARCHIVE};
use crate::names::encode_lfn_entries;

const TIME: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

fn short(name: &[u8; 11], attributes: u8, cluster: u32, size: u32) -> [u8; 32] {
    short_entry(name, attributes, cluster, size, TIME)
}

fn lfn(name: &str, short_name: &[u8; 11]) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    encode_lfn_entries(name, &ShortName(*short_name), &mut out);
    out
}

fn bytes(entries: &[[u8; 32]]) -> Vec<u8> {
    let mut out: Vec<u8> = entries.iter().flatten().copied().collect();
    out.resize(out.len() + 64, 0);
    out
}

#[test]
fn long_names_are_assembled_and_short_entries_give_the_rest() {
    let mut entries = lfn("A long name.txt", b"ALONGN~1TXT");
    entries.push(short(b"ALONGN~1TXT", ATTR_ARCHIVE, 7, 1234));
    entries.push(short(b"SUBDIR     ", ATTR_DIRECTORY, 9, 0));
    let dir = parse_directory(&bytes(&entries));
    assert_eq!(dir.problems, vec![]);
    let names: Vec<(&str, &str)> = dir
        .children
        .iter()
        .map(|c| (c.name.as_str(), c.short_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("A long name.txt", "ALONGN~1.TXT"), ("SUBDIR", "SUBDIR")]
    );
    let file = &dir.children[0];
    assert_eq!((file.first_cluster, file.size, file.slot), (7, 1234, 2));
    assert_eq!(file.modified, Some(TIME));
    assert!(!file.is_dir() && dir.children[1].is_dir());
}

#[test]
fn the_end_marker_ends_the_directory() {
    let mut raw = bytes(&[short(b"FIRST      ", ATTR_ARCHIVE, 0, 0)]);
    raw.extend_from_slice(&short(b"HIDDEN     ", ATTR_ARCHIVE, 0, 0));
    let dir = parse_directory(&raw);
    assert_eq!(dir.children.len(), 1);
}

#[test]
fn a_checksum_mismatch_falls_back_to_the_short_name() {
    let mut entries = lfn("Renamed elsewhere", b"OTHER   TXT");
    entries.push(short(b"REAL    TXT", ATTR_ARCHIVE, 0, 0));
    let dir = parse_directory(&bytes(&entries));
    assert_eq!(dir.children[0].name, "REAL.TXT");
    assert_eq!(
        dir.problems,
        vec![DirProblem::LfnChecksum {
            slot: 2,
            short_name: "REAL.TXT".into(),
            long_name: "Renamed elsewhere".into()
        }]
    );
}

#[test]
fn long_name_entries_without_their_short_entry_are_orphans() {
    // Followed by a deleted entry, interrupted by another name, and left at the end.
    let mut entries = lfn("first orphan", b"FIRSTO~1   ");
    let mut deleted = short(b"FIRSTO~1   ", ATTR_ARCHIVE, 0, 0);
    deleted[0] = DELETED;
    entries.push(deleted);
    let two_part = lfn("a name of more than thirteen units", b"ANAMEO~1   ");
    entries.push(two_part[0]); // its second half never comes
    entries.extend(lfn("kept", b"KEPT       "));
    entries.push(short(b"KEPT       ", ATTR_ARCHIVE, 0, 0));
    entries.extend(lfn("trailing", b"TRAILING   "));
    let dir = parse_directory(&bytes(&entries));
    assert_eq!(dir.children.len(), 1);
    assert_eq!(dir.children[0].name, "kept");
    assert_eq!(
        dir.problems,
        vec![
            DirProblem::LfnOrphaned { first: 0, last: 0 },
            DirProblem::LfnOrphaned { first: 2, last: 2 },
            DirProblem::LfnOrphaned { first: 5, last: 5 },
        ]
    );
}

#[test]
fn out_of_sequence_and_invalid_ordinals_are_orphans() {
    let mut entries = lfn("a name of more than thirteen units", b"ANAMEO~1   ");
    entries.swap(0, 2); // sequence 1 first
    entries.push(short(b"ANAMEO~1   ", ATTR_ARCHIVE, 0, 0));
    let mut bad = lfn("x", b"X2         ");
    bad[0][0] = 0x40 | 21; // more entries than a name can take
    entries.extend(bad);
    let dir = parse_directory(&bytes(&entries));
    assert_eq!(dir.children[0].name, "ANAMEO~1");
    assert!(dir
        .problems
        .iter()
        .all(|p| matches!(p, DirProblem::LfnOrphaned { .. })));
    assert_eq!(dir.problems.len(), 4, "{:?}", dir.problems);
}

#[test]
fn names_that_would_break_paths_are_replaced_and_reported() {
    let mut entries = lfn("a/b", b"A_B        ");
    entries.push(short(b"A_B        ", ATTR_ARCHIVE, 0, 0));
    entries.extend(lfn("..", b"DOTDOT     "));
    entries.push(short(b"DOTDOT     ", ATTR_ARCHIVE, 0, 0));
    let mut surrogate = lfn("ab", b"AB         ");
    surrogate[0][1..3].copy_from_slice(&0xD800u16.to_le_bytes());
    entries.extend(surrogate);
    entries.push(short(b"AB         ", ATTR_ARCHIVE, 0, 0));
    let dir = parse_directory(&bytes(&entries));
    let names: Vec<&str> = dir.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a\u{FFFD}b", "..\u{FFFD}", "\u{FFFD}b"]);
    let whys: Vec<&str> = dir
        .problems
        .iter()
        .map(|p| match p {
            DirProblem::InvalidName { why, .. } => *why,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        whys,
        [
            "it contains '/' or a control character",
            "it is reserved",
            "its long name is not valid UTF-16"
        ]
    );
}

#[test]
fn dot_entries_and_the_label_are_not_children() {
    let entries = [
        short(b"MY LABEL   ", ATTR_VOLUME_ID, 0, 0),
        short(DOT, ATTR_DIRECTORY, 5, 0),
        short(DOT_DOT, ATTR_DIRECTORY, 0, 0),
        short(b"SECOND     ", ATTR_VOLUME_ID, 0, 0),
    ];
    let dir = parse_directory(&bytes(&entries));
    assert!(dir.children.is_empty());
    assert_eq!(dir.label.as_deref(), Some("MY LABEL"));
    assert_eq!(
        dir.dots,
        vec![
            DotEntry {
                slot: 1,
                dot_dot: false,
                cluster: 5
            },
            DotEntry {
                slot: 2,
                dot_dot: true,
                cluster: 0
            }
        ]
    );
}

#[test]
fn short_names_honour_case_flags_the_e5_escape_and_code_page_437() {
    assert_eq!(short_name_string(b"README  TXT", 0), "README.TXT");
    assert_eq!(
        short_name_string(b"README  TXT", LOWER_CASE_BASE),
        "readme.TXT"
    );
    assert_eq!(
        short_name_string(b"README  TXT", LOWER_CASE_BASE | LOWER_CASE_EXTENSION),
        "readme.txt"
    );
    assert_eq!(short_name_string(b"\x05BC     TXT", 0), "σBC.TXT");
    assert_eq!(
        short_name_string(b"\x80\xE1\xFF     \x9B  ", 0),
        "Çß\u{A0}.¢"
    );
    assert_eq!(CP437_HIGH.chars().count(), 128);
}

#[test]
fn dates_no_one_set_are_none() {
    let mut entry = short(b"UNDATED    ", ATTR_ARCHIVE, 0, 0);
    entry[22..26].fill(0);
    let dir = parse_directory(&bytes(&[entry]));
    assert_eq!(dir.children[0].modified, None);
}
