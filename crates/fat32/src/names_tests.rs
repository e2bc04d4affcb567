use super::*;
use std::collections::HashSet;

/// Short names (as displayed) and LFN needs of a directory's names.
fn assign(names: &[&str]) -> Vec<(String, bool)> {
    assign_short_names(names)
        .into_iter()
        .map(|d| (d.short.to_string(), d.needs_lfn))
        .collect()
}

fn short_of(name: &str) -> String {
    assign(&[name])[0].0.clone()
}

fn sn(s: &[u8; 11]) -> ShortName {
    ShortName(*s)
}

/// The 13 name units of one LFN entry.
fn units_of(entry: &[u8; 32]) -> Vec<u16> {
    LFN_UNIT_OFFSETS
        .iter()
        .map(|&o| u16::from_le_bytes([entry[o], entry[o + 1]]))
        .collect()
}

/// Checks what every short name must be: ASCII from the short-name set, space padded with no
/// space inside, not starting with a space or a dot, and unique.
fn assert_well_formed(shorts: &[DirName]) {
    let mut seen = HashSet::new();
    for d in shorts {
        let b = d.short.0;
        assert!(seen.insert(b), "duplicate short name {}", d.short);
        assert!(b[0] != b' ' && b[0] != b'.' && b[0] != 0xE5 && b[0] != 0);
        for part in [&b[..8], &b[8..]] {
            let len = part.iter().position(|&c| c == b' ').unwrap_or(part.len());
            assert!(
                part[len..].iter().all(|&c| c == b' '),
                "inner space in {}",
                d.short
            );
            assert!(
                part[..len].iter().all(|&c| is_short_name_byte(c)),
                "bad byte in {}",
                d.short
            );
        }
    }
}

#[test]
fn plain_upper_case_names_need_no_lfn() {
    assert_eq!(
        assign(&["BOOTX64.EFI", "EFI", "README.TXT", "A-B_C.{X}"]),
        vec![
            ("BOOTX64.EFI".to_string(), false),
            ("EFI".to_string(), false),
            ("README.TXT".to_string(), false),
            ("A-B_C.{X}".to_string(), false),
        ]
    );
    assert_eq!(
        assign_short_names(&["README.TXT"])[0].short,
        sn(b"README  TXT")
    );
}

#[test]
fn lower_and_mixed_case_8_3_names_keep_their_short_name_plus_lfn() {
    assert_eq!(
        assign(&["readme.txt"]),
        vec![("README.TXT".to_string(), true)]
    );
    assert_eq!(
        assign(&["Kernel.EFI"]),
        vec![("KERNEL.EFI".to_string(), true)]
    );
    assert_eq!(assign(&["efi"]), vec![("EFI".to_string(), true)]);
}

#[test]
fn lossy_names_get_numbered_aliases() {
    assert_eq!(
        assign(&["long file name.txt", "long file names.txt"]),
        vec![
            ("LONGFI~1.TXT".to_string(), true),
            ("LONGFI~2.TXT".to_string(), true)
        ]
    );
    assert_eq!(
        assign_short_names(&["long file name.txt"])[0].short,
        sn(b"LONGFI~1TXT")
    );
}

#[test]
fn literal_short_name_wins_over_generated_alias() {
    // The literal name comes first in directory order...
    assert_eq!(
        assign(&["LONGFI~1.TXT", "long file name.txt"]),
        vec![
            ("LONGFI~1.TXT".to_string(), false),
            ("LONGFI~2.TXT".to_string(), true)
        ]
    );
    // ...and also when it comes after the name whose alias it would have been.
    assert_eq!(
        assign(&["long file name.txt", "longfi~1.txt", "long file names.txt"]),
        vec![
            ("LONGFI~2.TXT".to_string(), true),
            ("LONGFI~1.TXT".to_string(), true),
            ("LONGFI~3.TXT".to_string(), true),
        ]
    );
}

#[test]
fn tails_past_nine_shorten_the_base() {
    let names: Vec<String> = (0..12)
        .map(|i| format!("long file name {i:02}.txt"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let got: Vec<String> = assign(&refs).into_iter().map(|(s, _)| s).collect();
    assert_eq!(got[0], "LONGFI~1.TXT");
    assert_eq!(got[8], "LONGFI~9.TXT");
    assert_eq!(got[9], "LONGF~10.TXT");
    assert_eq!(got[11], "LONGF~12.TXT");
}

#[test]
fn non_ascii_characters_become_underscores() {
    assert_eq!(
        assign(&["héllo.txt"]),
        vec![("H_LLO~1.TXT".to_string(), true)]
    );
    // An emoji is one character (two UTF-16 units) and becomes one '_'.
    assert_eq!(short_of("😀.txt"), "_~1.TXT");
    assert_eq!(short_of("日本語"), "___~1");
    // Characters outside the short-name set.
    assert_eq!(short_of("a+b,c;d=e[f]g.txt"), "A_B_C_~1.TXT");
    assert_eq!(short_of("a+b.txt"), "A_B~1.TXT");
}

#[test]
fn dots_spaces_and_extensions_of_generated_aliases() {
    assert_eq!(short_of("archive.tar.gz"), "ARCHIV~1.GZ");
    assert_eq!(short_of(".bashrc"), "BASHRC~1");
    assert_eq!(short_of("..hidden.cfg"), "HIDDEN~1.CFG");
    assert_eq!(short_of("index.html"), "INDEX~1.HTM");
    assert_eq!(short_of("readme.text"), "README~1.TEX");
    assert_eq!(short_of("my file.txt"), "MYFILE~1.TXT");
    assert_eq!(short_of("a b"), "AB~1");
    assert_eq!(short_of("verylongname"), "VERYLO~1");
    assert_eq!(short_of("a.b.c"), "AB~1.C");
}

#[test]
fn checksum_matches_hand_computed_values() {
    // sum = ((sum & 1) << 7) + (sum >> 1) + byte (mod 256) over "README  TXT", step by step:
    // R 82, E 110, A 120, D 128, M 141, E 11, ' ' 165, ' ' 242, T 205, X 62, T 115 = 0x73.
    assert_eq!(sn(b"README  TXT").checksum(), 0x73);
    assert_eq!(sn(b"LONGFI~1TXT").checksum(), 0xD4);
    assert_eq!(sn(b"FOO     BAR").checksum(), 0x53);
    // A one-byte change must change it.
    assert_ne!(sn(b"README  TXU").checksum(), 0x73);
}

#[test]
fn short_name_display() {
    assert_eq!(sn(b"README  TXT").to_string(), "README.TXT");
    assert_eq!(sn(b"EFI        ").to_string(), "EFI");
    assert_eq!(sn(b"LONGNA~1EFI").to_string(), "LONGNA~1.EFI");
    assert_eq!(sn(b"A       B  ").to_string(), "A.B");
}

#[test]
fn lfn_of_exactly_thirteen_units_has_no_terminator() {
    let name = "abcdefghijklm";
    let short = sn(b"ABCDEF~1   ");
    assert_eq!(lfn_entry_count(name), 1);
    let mut out = Vec::new();
    encode_lfn_entries(name, &short, &mut out);
    assert_eq!(out.len(), 1);
    let e = &out[0];
    assert_eq!(e[0], 0x41);
    assert_eq!(e[11], 0x0F);
    assert_eq!(e[12], 0);
    assert_eq!(e[13], short.checksum());
    assert_eq!(&e[26..28], &[0, 0]);
    let expected: Vec<u16> = name.encode_utf16().collect();
    assert_eq!(units_of(e), expected);
}

#[test]
fn lfn_of_fourteen_units_spills_into_a_second_entry() {
    let name = "abcdefghijklmn";
    let short = sn(b"ABCDEF~1   ");
    assert_eq!(lfn_entry_count(name), 2);
    let mut out = Vec::new();
    encode_lfn_entries(name, &short, &mut out);
    assert_eq!(out.len(), 2);
    // On disk: the last part first, flagged.
    assert_eq!(out[0][0], 0x42);
    assert_eq!(out[1][0], 0x01);
    let mut last = vec![u16::from(b'n'), 0x0000];
    last.extend([0xFFFF; 11]);
    assert_eq!(units_of(&out[0]), last);
    assert_eq!(
        units_of(&out[1]),
        "abcdefghijklm".encode_utf16().collect::<Vec<_>>()
    );
    for e in &out {
        assert_eq!(
            (e[11], e[12], e[13], e[26], e[27]),
            (0x0F, 0, short.checksum(), 0, 0)
        );
    }
}

#[test]
fn lfn_with_a_surrogate_pair() {
    let name = "😀.txt";
    assert_eq!(name.encode_utf16().count(), 6);
    assert_eq!(lfn_entry_count(name), 1);
    let mut out = Vec::new();
    encode_lfn_entries(name, &sn(b"_~1     TXT"), &mut out);
    assert_eq!(out.len(), 1);
    let mut expected = vec![0xD83D, 0xDE00, 0x2E, 0x74, 0x78, 0x74, 0x0000];
    expected.extend([0xFFFF; 6]);
    assert_eq!(units_of(&out[0]), expected);
    // A pair split over two entries still counts as two units.
    let name = format!("{}😀", "a".repeat(12));
    assert_eq!(lfn_entry_count(&name), 2);
}

#[test]
fn length_limit_is_255_utf16_units() {
    let max = "a".repeat(255);
    assert_eq!(validate_long_name(&max), Ok(()));
    assert_eq!(lfn_entry_count(&max), 20);
    let mut out = Vec::new();
    encode_lfn_entries(&max, &sn(b"AAAAAA~1   "), &mut out);
    assert_eq!(out.len(), 20);
    assert_eq!(out[0][0], 0x40 | 20);
    assert_eq!(out[19][0], 1);
    // 255 = 19 * 13 + 8: eight units, the terminator, four of padding.
    let mut last = vec![u16::from(b'a'); 8];
    last.push(0);
    last.extend([0xFFFF; 4]);
    assert_eq!(units_of(&out[0]), last);

    assert_eq!(
        validate_long_name(&"a".repeat(256)),
        Err(NameError::TooLong { units: 256 })
    );
    // Surrogate pairs count twice: 253 + 2 fits, 254 + 2 does not.
    assert_eq!(
        validate_long_name(&format!("{}😀", "a".repeat(253))),
        Ok(())
    );
    assert_eq!(
        validate_long_name(&format!("{}😀", "a".repeat(254))),
        Err(NameError::TooLong { units: 256 })
    );
}

#[test]
fn forbidden_characters() {
    for ch in [
        '"', '*', '/', ':', '<', '>', '?', '\\', '|', '\u{1}', '\u{1F}', '\0', '\u{7F}',
    ] {
        let name = format!("a{ch}b");
        assert_eq!(
            validate_long_name(&name),
            Err(NameError::ForbiddenChar { ch }),
            "{name:?}"
        );
    }
    // The first offending character is reported.
    assert_eq!(
        validate_long_name("a?b*c"),
        Err(NameError::ForbiddenChar { ch: '?' })
    );
    // Allowed in long names although not in short ones.
    for name in [
        "a+b",
        "a,b;c=d[e]",
        "a b",
        ".bashrc",
        "héllo",
        "😀",
        "a.b.c",
    ] {
        assert_eq!(validate_long_name(name), Ok(()), "{name:?}");
    }
}

#[test]
fn empty_reserved_and_trailing_dot_or_space() {
    assert_eq!(validate_long_name(""), Err(NameError::Empty));
    assert_eq!(validate_long_name("."), Err(NameError::Reserved));
    assert_eq!(validate_long_name(".."), Err(NameError::Reserved));
    assert_eq!(
        validate_long_name("..."),
        Err(NameError::TrailingDotOrSpace)
    );
    assert_eq!(
        validate_long_name("file."),
        Err(NameError::TrailingDotOrSpace)
    );
    assert_eq!(
        validate_long_name("file "),
        Err(NameError::TrailingDotOrSpace)
    );
}

#[test]
fn error_messages() {
    assert_eq!(NameError::Empty.to_string(), "is empty");
    assert_eq!(NameError::Reserved.to_string(), "is reserved");
    assert_eq!(
        NameError::TooLong { units: 300 }.to_string(),
        "is 300 UTF-16 units long; FAT long names hold at most 255"
    );
    assert_eq!(
        NameError::ForbiddenChar { ch: '?' }.to_string(),
        "contains the character '?' which FAT does not allow in names"
    );
    assert_eq!(
        NameError::ForbiddenChar { ch: '\u{1}' }.to_string(),
        "contains the character U+0001 which FAT does not allow in names"
    );
    assert_eq!(
        NameError::TrailingDotOrSpace.to_string(),
        "ends with a dot or a space, which FAT drivers strip"
    );
}

#[test]
fn fold_case_uses_one_to_one_mappings() {
    assert_eq!(fold_case("readme.Txt"), "README.TXT");
    assert_eq!(fold_case("héllo"), "HÉLLO");
    // ß upper-cases to two characters, so it is kept and the names stay distinct.
    assert_eq!(fold_case("Straße"), "STRAßE");
    assert_ne!(fold_case("Straße"), fold_case("STRASSE"));
    assert_eq!(fold_case("ﬁle"), "ﬁLE");
}

#[test]
fn five_thousand_names_sharing_one_basis() {
    let names: Vec<String> = (0..5000)
        .map(|i| format!("longname number {i:04}.bin"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let shorts = assign_short_names(&refs);
    assert_eq!(shorts.len(), 5000);
    assert_well_formed(&shorts);
    assert!(shorts.iter().all(|d| d.needs_lfn));
    assert_eq!(shorts[0].short.to_string(), "LONGNA~1.BIN");
    assert_eq!(shorts[9].short.to_string(), "LONGN~10.BIN");
    assert_eq!(shorts[122].short.to_string(), "LONG~123.BIN");
    assert_eq!(shorts[1233].short.to_string(), "LON~1234.BIN");
    assert_eq!(shorts[4999].short.to_string(), "LON~5000.BIN");
}

#[test]
fn bases_sharing_a_shorter_prefix_stay_unique() {
    // "PHOTOA..", "PHOTOB..": distinct 6-byte prefixes that meet from ~10 on ("PHOTO~10").
    let mut names = Vec::new();
    for c in ['a', 'b', 'c'] {
        for i in 0..400 {
            names.push(format!("photo{c}{i:03} long.jpg"));
        }
    }
    names.push("PHOTO~10.JPG".to_string());
    names.push("photoa~1.jpg".to_string());
    names.sort();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let shorts = assign_short_names(&refs);
    assert_well_formed(&shorts);
    let literal = refs.iter().position(|&n| n == "PHOTO~10.JPG").unwrap();
    assert_eq!(
        shorts[literal],
        DirName {
            short: sn(b"PHOTO~10JPG"),
            needs_lfn: false
        }
    );
}

#[test]
fn sixty_five_thousand_names_are_fast() {
    let names: Vec<String> = (0..65_000).map(|i| format!("same basis {i:05}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let start = std::time::Instant::now();
    let shorts = assign_short_names(&refs);
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    assert_well_formed(&shorts);
}

#[test]
fn mixed_directory_is_well_formed() {
    let names = [
        " leading space",
        "#1",
        ".bashrc",
        "A",
        "BOOT",
        "Makefile",
        "a",
        "a b",
        "a.b",
        "ab",
        "héllo.txt",
        "héllo.txx",
        "héllö.txt",
        "über",
        "~",
        "😀",
        "😁",
    ];
    let shorts = assign_short_names(&names);
    assert_well_formed(&shorts);
}

#[test]
fn volume_labels() {
    assert_eq!(volume_label("EFI"), Ok(*b"EFI        "));
    assert_eq!(volume_label("efi boot"), Ok(*b"EFI BOOT   "));
    assert_eq!(volume_label("ABCDEFGHIJK"), Ok(*b"ABCDEFGHIJK"));
    assert_eq!(volume_label("a-b_c~1"), Ok(*b"A-B_C~1    "));
    assert_eq!(
        volume_label("ABCDEFGHIJKL"),
        Err("is 12 characters long; a FAT volume label holds at most 11".to_string())
    );
    assert!(volume_label("").is_err());
    assert!(volume_label(" EFI").is_err());
    assert!(volume_label("ÉFI").unwrap_err().contains("ASCII"));
    for ch in "\"*+,./:;<=>?[\\]|\u{1}\u{7F}".chars() {
        let err = volume_label(&format!("A{ch}B")).expect_err(&format!("{ch:?}"));
        assert!(err.contains("does not allow"), "{ch:?}: {err}");
    }
}

#[test]
fn encoded_entries_parse_back_into_their_name() {
    let name = "A name of 27 UTF-16 units 😀";
    let short = ShortName(*b"ANAMEO~1   ");
    let mut entries = Vec::new();
    encode_lfn_entries(name, &short, &mut entries);
    let parsed: Vec<LfnEntry> = entries.iter().map(LfnEntry::parse).collect();
    let sequences: Vec<(u8, bool)> = parsed.iter().map(|e| (e.sequence, e.last)).collect();
    assert_eq!(sequences, [(3, true), (2, false), (1, false)]);
    assert!(parsed.iter().all(|e| e.checksum == short.checksum()));
    let units: Vec<u16> = parsed.iter().rev().flat_map(|e| e.units).collect();
    assert_eq!(decode_long_name(&units).as_deref(), Ok(name));
}

#[test]
fn names_end_at_the_first_nul_and_bad_utf16_is_replaced() {
    assert_eq!(decode_long_name(&[0x61, 0, 0x62]).as_deref(), Ok("a"));
    assert_eq!(decode_long_name(&[0x61, 0x62]).as_deref(), Ok("ab"));
    assert_eq!(decode_long_name(&[]).as_deref(), Ok(""));
    assert_eq!(
        decode_long_name(&[0xDC00, 0x61]),
        Err("\u{FFFD}a".to_string())
    );
}
