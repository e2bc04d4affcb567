use super::*;

/// A directory block of `len` bytes holding `names` (each with nid = its index + 10).
fn block(names: &[&[u8]], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut nameoff = names.len() * 12;
    for (i, name) in names.iter().enumerate() {
        out[i * 12..i * 12 + 8].copy_from_slice(&(i as u64 + 10).to_le_bytes());
        out[i * 12 + 8..i * 12 + 10].copy_from_slice(&(nameoff as u16).to_le_bytes());
        out[i * 12 + 10] = 1;
        out[nameoff..nameoff + name.len()].copy_from_slice(name);
        nameoff += name.len();
    }
    out
}

#[test]
fn names_run_to_the_next_nameoff_and_the_last_to_its_first_nul() {
    let parsed = parse_block(&block(&[b".", b"..", b"abc"], 4096)).unwrap();
    let names: Vec<&[u8]> = parsed.iter().map(|d| d.name.as_slice()).collect();
    assert_eq!(names, [&b"."[..], b"..", b"abc"]);
    assert_eq!(parsed[2].nid, 12);
    assert_eq!(parsed[2].file_type, 1);
}

#[test]
fn a_last_name_that_fills_the_block_has_no_nul() {
    let len = 12 + 5;
    let parsed = parse_block(&block(&[b"fives"], len)).unwrap();
    assert_eq!(parsed[0].name, b"fives");
}

#[test]
fn broken_blocks_say_why() {
    assert!(parse_block(&[0u8; 11])
        .unwrap_err()
        .contains("holds no entry"));
    // nameoff 0, not a multiple of 12, past the block.
    for first in [0u16, 13, 5000] {
        let mut b = block(&[b"a"], 64);
        b[8..10].copy_from_slice(&first.to_le_bytes());
        assert!(
            parse_block(&b)
                .unwrap_err()
                .contains("not a multiple of 12"),
            "{first}"
        );
    }
    // A later nameoff before the first name, or past the block.
    for bad in [4u16, 100] {
        let mut b = block(&[b"a", b"b"], 64);
        b[20..22].copy_from_slice(&bad.to_le_bytes());
        assert!(parse_block(&b).is_err(), "{bad}");
    }
}

#[test]
fn names_are_1_to_255_bytes_without_slash_or_nul() {
    assert_eq!(name_problem(b"ok"), None);
    assert_eq!(name_problem(&[b'x'; 255]), None);
    assert!(name_problem(b"").is_some());
    assert!(name_problem(&[b'x'; 256]).unwrap().contains("256 bytes"));
    assert!(name_problem(b"a/b").is_some());
    assert!(name_problem(b"a\0b").is_some());
}
