use super::*;
use crate::test_util::*;
use std::fs::{self, File};

fn lines(lines: &[String]) -> Vec<String> {
    lines.to_vec()
}

#[test]
fn nested_tree_into_root_is_exact_and_sorted() {
    let (_tmp, r) = source_dir();
    sample_tree(&r);

    for policy in [follow_policy(), keep_policy()] {
        let tree = scan(&[src(&r, "/")], &policy).unwrap();
        let p = |rel: &str| r.join(rel).display().to_string();
        let expected = lines(&[
            "/ d -86400".into(),
            format!("/A.TXT f 200 1 {}", p("A.TXT")),
            format!("/Z f 400 2 {}", p("Z")),
            format!("/_x f 300 0 {}", p("_x")),
            format!("/b.txt f 100 3 {}", p("b.txt")),
            "/empty d 700".into(),
            "/sub d 50".into(),
            format!("/sub/y.efi f 600 5 {}", p("sub/y.efi")),
            format!("/sub/z f 500 4 {}", p("sub/z")),
        ]);
        assert_eq!(outline(&tree), expected);
        assert_eq!(tree.root.source.as_deref(), Some(r.as_path()));
        let Node::Dir(empty) = &tree.root.entries[4] else {
            panic!("not a dir")
        };
        assert_eq!(empty.source, Some(r.join("empty")));
        #[cfg(unix)]
        assert_eq!(empty.meta.mode & 0o170000, 0o040000);
    }
}

#[test]
fn names_sort_in_byte_order_not_by_locale() {
    let (_tmp, r) = source_dir();
    for name in ["é", "z", "Z", "a", "_", "10", "9", "ä"] {
        write(&r.join(name), b"", 0);
    }
    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let names: Vec<&str> = tree.root.entries.iter().map(Node::name).collect();
    assert_eq!(names, ["10", "9", "Z", "_", "a", "z", "ä", "é"]);
}

#[test]
fn no_sources_give_an_empty_root() {
    let tree = scan(&[], &keep_policy()).unwrap();
    assert_eq!(outline(&tree), ["/ d 0"]);
    assert_eq!(tree.root.source, None);
    assert_eq!(tree.root.meta.mode, 0o40755);
    assert!(tree.source_ids.is_empty());
}

#[test]
fn file_target_creates_implicit_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("grubx64.efi");
    write(&f, b"efi", 5000);
    let tree = scan(&[src(&f, "/EFI/BOOT/BOOTX64.EFI")], &follow_policy()).unwrap();
    let expected = lines(&[
        "/ d 5000".into(),
        "/EFI d 5000".into(),
        "/EFI/BOOT d 5000".into(),
        format!("/EFI/BOOT/BOOTX64.EFI f 5000 3 {}", f.display()),
    ]);
    assert_eq!(outline(&tree), expected);
    let Node::Dir(efi) = &tree.root.entries[0] else {
        panic!("not a dir")
    };
    assert_eq!(
        (efi.source.as_ref(), efi.meta.uid, efi.meta.mode),
        (None, 0, 0o40755)
    );
}

#[test]
fn file_target_ending_in_slash_keeps_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bootx64.efi");
    write(&f, b"efi!", 10);
    let expected = lines(&[
        "/ d 10".into(),
        "/EFI d 10".into(),
        "/EFI/BOOT d 10".into(),
        format!("/EFI/BOOT/bootx64.efi f 10 4 {}", f.display()),
    ]);
    let policy = follow_policy();
    assert_eq!(
        outline(&scan(&[src(&f, "/EFI/BOOT/")], &policy).unwrap()),
        expected
    );
    assert_eq!(
        outline(&scan(&[src(&f, "//EFI/./BOOT/.")], &policy).unwrap()),
        expected
    );
}

#[test]
fn two_source_dirs_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    write(&a.join("x"), b"x", 10);
    write(&a.join("common/p"), b"pp", 20);
    write(&b.join("y"), b"yyy", 30);
    write(&b.join("common/q"), b"q", 40);
    set_mtime(&a.join("common"), 900);
    set_mtime(&b.join("common"), 800);
    set_mtime(&a, 100);
    set_mtime(&b, 300);

    let tree = scan(&[src(&a, "/boot"), src(&b, "/boot/")], &follow_policy()).unwrap();
    let expected = lines(&[
        "/ d 900".into(),
        "/boot d 300".into(),
        "/boot/common d 900".into(),
        format!("/boot/x f 10 1 {}", a.join("x").display()),
        format!("/boot/y f 30 3 {}", b.join("y").display()),
        format!("/boot/common/p f 20 2 {}", a.join("common/p").display()),
        format!("/boot/common/q f 40 1 {}", b.join("common/q").display()),
    ]);
    assert_eq!(outline(&tree), expected);
    // The first source directory merged gives the metadata other than the mtime.
    let Node::Dir(boot) = &tree.root.entries[0] else {
        panic!("not a dir")
    };
    assert_eq!(boot.source.as_deref(), Some(a.as_path()));
}

#[test]
fn implicit_dirs_take_the_newest_mtime_beneath() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let s = tmp.path().join("s");
    write(&one, b"1", 1000);
    write(&s.join("deep/new"), b"n", 3000);
    set_mtime(&s.join("deep"), 200);
    set_mtime(&s, 500);
    // The source dir merged onto an implicit one gives it its own mtime and metadata.
    let two = tmp.path().join("two");
    write(&two, b"2", 9000);
    let t = tmp.path().join("t");
    fs::create_dir(&t).unwrap();
    set_mtime(&t, 40);

    let sources = [
        src(&one, "/d/one"),
        src(&s, "/d/s"),
        src(&two, "/e/two"),
        src(&t, "/e"),
    ];
    let tree = scan(&sources, &follow_policy()).unwrap();
    let expected = lines(&[
        "/ d 9000".into(),
        "/d d 3000".into(),
        "/e d 40".into(),
        format!("/d/one f 1000 1 {}", one.display()),
        "/d/s d 500".into(),
        "/d/s/deep d 200".into(),
        format!("/d/s/deep/new f 3000 1 {}", s.join("deep/new").display()),
        format!("/e/two f 9000 1 {}", two.display()),
    ]);
    assert_eq!(outline(&tree), expected);
    let Node::Dir(e) = &tree.root.entries[1] else {
        panic!("not a dir")
    };
    assert_eq!(e.source.as_deref(), Some(t.as_path()));
}

#[test]
fn the_same_file_path_from_two_sources_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x.efi");
    let y = tmp.path().join("y.efi");
    write(&x, b"x", 0);
    write(&y, b"y", 0);
    let policy = follow_policy();
    let msg = scan_err(
        &[src(&x, "/EFI/linux.efi"), src(&y, "/EFI/linux.efi")],
        &policy,
    );
    assert_eq!(
        msg,
        format!(
            "/EFI/linux.efi comes from both the file {} and the file {}",
            x.display(),
            y.display()
        )
    );
    let d = tmp.path().join("d");
    fs::create_dir(&d).unwrap();
    let msg = scan_err(
        &[src(&d, "/EFI/linux.efi"), src(&x, "/EFI/linux.efi")],
        &policy,
    );
    assert_eq!(
        msg,
        format!(
            "/EFI/linux.efi comes from both the directory {} and the file {}",
            d.display(),
            x.display()
        )
    );
    let msg = scan_err(
        &[src(&x, "/EFI/linux.efi"), src(&d, "/EFI/linux.efi")],
        &policy,
    );
    assert_eq!(
        msg,
        format!(
            "/EFI/linux.efi comes from both the file {} and the directory {}",
            x.display(),
            d.display()
        )
    );
}

#[test]
fn a_file_where_a_directory_is_needed_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x");
    let y = tmp.path().join("y");
    write(&x, b"x", 0);
    write(&y, b"y", 0);
    let msg = scan_err(&[src(&x, "/EFI"), src(&y, "/EFI/y")], &follow_policy());
    assert_eq!(
        msg,
        format!(
            "/EFI is the file {}, but {} needs it to be a directory",
            x.display(),
            y.display()
        )
    );
}

#[test]
fn names_with_one_key_clash_and_name_both_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    fs::create_dir_all(a.join("Boot")).unwrap();
    fs::create_dir_all(b.join("BOOT")).unwrap();
    let msg = scan_err(&[src(&a, "/EFI"), src(&b, "/EFI")], &follow_policy());
    assert_eq!(
        msg,
        format!(
            "/EFI/Boot and /EFI/BOOT differ only in case (sources: {}, {})",
            a.join("Boot").display(),
            b.join("BOOT").display()
        )
    );
    // Without a key they are two names.
    let tree = scan(&[src(&a, "/EFI"), src(&b, "/EFI")], &keep_policy()).unwrap();
    let Node::Dir(efi) = &tree.root.entries[0] else {
        panic!("not a dir")
    };
    assert_eq!(efi.entries.len(), 2);
}

#[test]
fn bad_targets_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    let policy = follow_policy();
    let msg = scan_err(&[src(&f, "/EFI/../x")], &policy);
    assert_eq!(msg, "target /EFI/../x leaves the filesystem root");
    let msg = scan_err(&[src(&f, "EFI/x")], &policy);
    assert_eq!(
        msg,
        "target EFI/x must start with /: it is a path inside the filesystem"
    );
    let msg = scan_err(&[src(&f, "/")], &policy);
    let want = format!(
        "target / for {}: a file needs a target path with a name",
        f.display()
    );
    assert_eq!(msg, want);
    let msg = scan_err(&[src(&f, "/EFI/a?b")], &policy);
    assert_eq!(
        msg,
        "target /EFI/a?b: \"a?b\" cannot be a name in this filesystem: \"?\" is not allowed"
    );
}

#[test]
fn names_in_the_source_tree_are_checked() {
    let (_tmp, r) = source_dir();
    let bad = r.join("sub/a?b");
    write(&bad, b"", 0);
    let msg = scan_err(&[src(&r, "/in")], &follow_policy());
    assert_eq!(
        msg,
        format!(
            "/in/sub/a?b (from {}) cannot be a name in this filesystem: \"?\" is not allowed",
            bad.display()
        )
    );
}

#[test]
fn depth_is_limited() {
    let (tmp, r) = source_dir();
    let deep = r.join("a/b/c");
    fs::create_dir_all(&deep).unwrap();
    let mut policy = keep_policy();
    policy.max_depth = 3;
    scan(&[src(&r, "/")], &policy).unwrap();
    let msg = scan_err(&[src(&r, "/x")], &policy);
    assert_eq!(
        msg,
        format!(
            "/x/a/b/c (from {}) is nested 4 directories deep; the filesystem holds at most 3 levels",
            deep.display()
        )
    );
    // Implicit directories count too.
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    assert!(scan(&[src(&f, "/1/2/3/f")], &policy).is_ok());
    let msg = scan_err(&[src(&f, "/1/2/3/4/f")], &policy);
    assert!(msg.starts_with("/1/2/3/4 (from "), "{msg}");
}

#[test]
fn file_size_is_limited() {
    let (_tmp, r) = source_dir();
    File::create(r.join("ten")).unwrap().set_len(10).unwrap();
    let mut policy = keep_policy();
    policy.max_file_size = 10;
    scan(&[src(&r, "/")], &policy).unwrap();
    let big = r.join("zbig");
    File::create(&big).unwrap().set_len(11).unwrap();
    let msg = scan_err(&[src(&r, "/")], &policy);
    assert_eq!(
        msg,
        format!(
            "/zbig (from {}) is 11 bytes; a file in this filesystem holds at most 10 bytes",
            big.display()
        )
    );
    // A file given as a source is checked too.
    assert!(scan_err(&[src(&big, "/b")], &policy).starts_with("/b (from "));
}

#[test]
fn source_ids_list_everything_read() {
    let (tmp, r) = source_dir();
    write(&r.join("sub/f"), b"f", 0);
    let other = tmp.path().join("other");
    write(&other, b"o", 0);
    let tree = scan(&[src(&r, "/"), src(&other, "/o")], &keep_policy()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let id = |p: &Path| {
            let m = fs::metadata(p).unwrap();
            (m.dev(), m.ino())
        };
        let mut want = vec![id(&r), id(&r.join("sub")), id(&r.join("sub/f")), id(&other)];
        want.sort_unstable();
        assert_eq!(*tree.source_ids, want);
        assert!(tree.source_ids.reads(id(&r.join("sub"))));
        assert!(!tree.source_ids.reads(id(tmp.path())));
    }
    #[cfg(not(unix))]
    assert!(tree.source_ids.is_empty());
}

#[test]
fn many_files_scan_quickly() {
    let (_tmp, r) = source_dir();
    for d in 0..20 {
        let sub = r.join(format!("d{d}"));
        fs::create_dir_all(&sub).unwrap();
        for i in 0..1000 {
            File::create(sub.join(format!("file-{i}.dat"))).unwrap();
        }
    }
    let start = std::time::Instant::now();
    let tree = scan(&[src(&r, "/")], &follow_policy()).unwrap();
    let count: usize = tree
        .root
        .entries
        .iter()
        .map(|n| match n {
            Node::Dir(d) => d.entries.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(count, 20_000);
    let elapsed = start.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}
