use super::*;
use std::fs::File;
use std::time::Duration;

fn src(source: &Path, target: &str) -> Source {
    Source {
        source: source.to_path_buf(),
        target: target.to_string(),
    }
}

fn write(path: &Path, bytes: &[u8], mtime: i64) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, bytes).unwrap();
    set_mtime(path, mtime);
}

/// Works for directories too: set it after their contents are written.
fn set_mtime(path: &Path, secs: i64) {
    let t = if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    };
    File::open(path).unwrap().set_modified(t).unwrap();
}

fn file(name: &str, source: &Path, size: u64, mtime: i64) -> Node {
    Node::File(FileNode {
        name: name.to_string(),
        source: source.to_path_buf(),
        size,
        mtime,
    })
}

fn dir(name: &str, mtime: i64, entries: Vec<Node>) -> Node {
    Node::Dir(Dir {
        name: name.to_string(),
        mtime,
        entries,
    })
}

fn root(mtime: i64, entries: Vec<Node>) -> Tree {
    Tree {
        root: Dir {
            name: String::new(),
            mtime,
            entries,
        },
    }
}

fn scan_err(sources: &[Source]) -> String {
    match scan(sources) {
        Ok(tree) => panic!("expected an error, got {tree:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn nested_tree_into_root_is_exact_and_sorted() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    write(&r.join("b.txt"), b"abc", 100);
    write(&r.join("A.TXT"), b"x", 200);
    write(&r.join("_x"), b"", 300);
    write(&r.join("Z"), b"zz", 400);
    write(&r.join("sub/z"), b"1234", 500);
    write(&r.join("sub/y.efi"), b"12345", 600);
    fs::create_dir(r.join("empty")).unwrap();
    set_mtime(&r.join("empty"), 700);
    set_mtime(&r.join("sub"), 50);
    set_mtime(&r, -86_400);

    let tree = scan(&[src(&r, "/")]).unwrap();
    let expected = root(
        -86_400,
        vec![
            file("A.TXT", &r.join("A.TXT"), 1, 200),
            file("Z", &r.join("Z"), 2, 400),
            file("_x", &r.join("_x"), 0, 300),
            file("b.txt", &r.join("b.txt"), 3, 100),
            dir("empty", 700, vec![]),
            dir(
                "sub",
                50,
                vec![
                    file("y.efi", &r.join("sub/y.efi"), 5, 600),
                    file("z", &r.join("sub/z"), 4, 500),
                ],
            ),
        ],
    );
    assert_eq!(tree, expected);
}

#[test]
fn no_sources_give_an_empty_root() {
    assert_eq!(scan(&[]).unwrap(), root(0, vec![]));
}

#[test]
fn file_target_creates_implicit_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("grubx64.efi");
    write(&f, b"efi", 5000);
    let tree = scan(&[src(&f, "/EFI/BOOT/BOOTX64.EFI")]).unwrap();
    let expected = root(
        5000,
        vec![dir(
            "EFI",
            5000,
            vec![dir("BOOT", 5000, vec![file("BOOTX64.EFI", &f, 3, 5000)])],
        )],
    );
    assert_eq!(tree, expected);
}

#[test]
fn file_target_ending_in_slash_keeps_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bootx64.efi");
    write(&f, b"efi!", 10);
    let expected = root(
        10,
        vec![dir(
            "EFI",
            10,
            vec![dir("BOOT", 10, vec![file("bootx64.efi", &f, 4, 10)])],
        )],
    );
    assert_eq!(scan(&[src(&f, "/EFI/BOOT/")]).unwrap(), expected);
    assert_eq!(scan(&[src(&f, "//EFI/./BOOT/.")]).unwrap(), expected);
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

    let tree = scan(&[src(&a, "/boot"), src(&b, "/boot/")]).unwrap();
    let expected = root(
        900,
        vec![dir(
            "boot",
            300,
            vec![
                dir(
                    "common",
                    900,
                    vec![
                        file("p", &a.join("common/p"), 2, 20),
                        file("q", &b.join("common/q"), 1, 40),
                    ],
                ),
                file("x", &a.join("x"), 1, 10),
                file("y", &b.join("y"), 3, 30),
            ],
        )],
    );
    assert_eq!(tree, expected);
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
    // The source dir merged onto an implicit one gives it its own mtime.
    let two = tmp.path().join("two");
    write(&two, b"2", 9000);
    let t = tmp.path().join("t");
    fs::create_dir(&t).unwrap();
    set_mtime(&t, 40);

    let tree = scan(&[
        src(&one, "/d/one"),
        src(&s, "/d/s"),
        src(&two, "/e/two"),
        src(&t, "/e"),
    ])
    .unwrap();
    let expected = root(
        9000,
        vec![
            dir(
                "d",
                3000,
                vec![
                    file("one", &one, 1, 1000),
                    dir(
                        "s",
                        500,
                        vec![dir(
                            "deep",
                            200,
                            vec![file("new", &s.join("deep/new"), 1, 3000)],
                        )],
                    ),
                ],
            ),
            dir("e", 40, vec![file("two", &two, 1, 9000)]),
        ],
    );
    assert_eq!(tree, expected);
}

#[cfg(unix)]
#[test]
fn symlink_to_a_file_is_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.bin");
    write(&real, b"the real contents", 77);
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    let link = r.join("link.bin");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let tree = scan(&[src(&r, "/")]).unwrap();
    let Node::File(f) = &tree.root.entries[0] else {
        panic!("not a file: {tree:?}")
    };
    assert_eq!((f.name.as_str(), f.size, f.mtime), ("link.bin", 17, 77));
    assert_eq!(fs::read(&f.source).unwrap(), b"the real contents");
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    fs::create_dir_all(r.join("a")).unwrap();
    let link = r.join("a/up");
    std::os::unix::fs::symlink(&r, &link).unwrap();
    let msg = scan_err(&[src(&r, "/x")]);
    assert!(
        msg.contains(&link.display().to_string()) && msg.contains("/x/a/up"),
        "{msg}"
    );
    assert!(msg.contains("symlink loop"), "{msg}");
}

#[cfg(unix)]
#[test]
fn the_same_dir_twice_side_by_side_is_not_a_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    write(&shared.join("f"), b"f", 1);
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    std::os::unix::fs::symlink(&shared, r.join("one")).unwrap();
    std::os::unix::fs::symlink(&shared, r.join("two")).unwrap();
    let tree = scan(&[src(&r, "/")]).unwrap();
    assert_eq!(tree.root.entries.len(), 2);
}

#[cfg(unix)]
#[test]
fn dangling_symlink_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    let link = r.join("broken");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &link).unwrap();
    let msg = scan_err(&[src(&r, "/")]);
    assert!(
        msg.contains(&link.display().to_string()) && msg.contains("/broken"),
        "{msg}"
    );
    assert!(msg.contains("dangling symlink"), "{msg}");

    let msg = scan_err(&[src(&link, "/b")]);
    assert!(
        msg.contains(&link.display().to_string()) && msg.contains("dangling symlink"),
        "{msg}"
    );
}

#[test]
fn missing_source_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("gone");
    let msg = scan_err(&[src(&gone, "/g")]);
    assert!(
        msg.contains(&gone.display().to_string()) && msg.contains("/g"),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn socket_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    let sock = r.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let msg = scan_err(&[src(&r, "/")]);
    assert_eq!(
        msg,
        format!(
            "{} (for /sock) is a socket; only regular files and directories can go into a FAT filesystem",
            sock.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn fifo_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(status) if status.success() => {}
        _ => return eprintln!("mkfifo unavailable; skipped"),
    }
    let msg = scan_err(&[src(&fifo, "/p")]);
    assert!(
        msg.contains(&fifo.display().to_string()) && msg.contains("is a FIFO"),
        "{msg}"
    );
}

#[test]
fn files_over_4_gib_are_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    let max = r.join("max");
    File::create(&max)
        .unwrap()
        .set_len(u32::MAX as u64)
        .unwrap();
    let tree = scan(&[src(&r, "/")]).unwrap();
    assert_eq!(tree.root.entries.len(), 1);

    let big = r.join("big");
    File::create(&big).unwrap().set_len(4 << 30).unwrap();
    let msg = scan_err(&[src(&r, "/")]);
    assert!(
        msg.contains("/big") && msg.contains(&big.display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("4294967296 bytes"), "{msg}");
}

#[test]
fn names_equal_but_for_case_are_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    fs::create_dir_all(a.join("Boot")).unwrap();
    fs::create_dir_all(b.join("BOOT")).unwrap();
    let msg = scan_err(&[src(&a, "/EFI"), src(&b, "/EFI")]);
    assert_eq!(
        msg,
        format!(
            "/EFI/Boot and /EFI/BOOT differ only in case; FAT names are case-insensitive (sources: {}, {})",
            a.join("Boot").display(),
            b.join("BOOT").display()
        )
    );

    // In target paths too, and between a file and a directory.
    let f = a.join("f");
    write(&f, b"", 0);
    let msg = scan_err(&[src(&f, "/efi/x"), src(&b, "/EFI")]);
    assert!(
        msg.starts_with("/efi and /EFI differ only in case"),
        "{msg}"
    );
    let msg = scan_err(&[src(&b, "/"), src(&f, "/boot")]);
    assert!(
        msg.starts_with("/BOOT and /boot differ only in case"),
        "{msg}"
    );
}

#[test]
fn the_same_file_path_from_two_sources_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x.efi");
    let y = tmp.path().join("y.efi");
    write(&x, b"x", 0);
    write(&y, b"y", 0);
    let msg = scan_err(&[src(&x, "/EFI/linux.efi"), src(&y, "/EFI/linux.efi")]);
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
    let msg = scan_err(&[src(&d, "/EFI/linux.efi"), src(&x, "/EFI/linux.efi")]);
    assert!(
        msg.contains(&d.display().to_string()) && msg.contains(&x.display().to_string()),
        "{msg}"
    );
    let msg = scan_err(&[src(&x, "/EFI/linux.efi"), src(&d, "/EFI/linux.efi")]);
    assert!(
        msg.contains(&d.display().to_string()) && msg.contains(&x.display().to_string()),
        "{msg}"
    );
}

#[test]
fn a_file_where_a_directory_is_needed_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().join("x");
    let y = tmp.path().join("y");
    write(&x, b"x", 0);
    write(&y, b"y", 0);
    let msg = scan_err(&[src(&x, "/EFI"), src(&y, "/EFI/y")]);
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
fn bad_targets_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    let msg = scan_err(&[src(&f, "/EFI/../x")]);
    assert_eq!(msg, "target /EFI/../x leaves the filesystem root");
    assert!(scan_err(&[src(&f, "EFI/x")]).contains("must start with /"));
    assert!(scan_err(&[src(&f, "/")]).contains("a file needs a target path with a name"));
    let msg = scan_err(&[src(&f, "/EFI/a:b")]);
    assert!(
        msg.starts_with("target /EFI/a:b: \"a:b\" cannot be a FAT name"),
        "{msg}"
    );
}

#[test]
fn invalid_names_in_the_source_tree_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    let bad = r.join("sub/a?b");
    write(&bad, b"", 0);
    let msg = scan_err(&[src(&r, "/in")]);
    assert!(
        msg.starts_with(&format!(
            "/in/sub/a?b (from {}) cannot be a FAT name",
            bad.display()
        )),
        "{msg}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_names_are_errors() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    fs::create_dir(&r).unwrap();
    let bad = r.join(std::ffi::OsStr::from_bytes(b"bad\xffname"));
    if File::create(&bad).is_err() {
        return eprintln!("this filesystem refuses non-UTF-8 names; skipped");
    }
    let msg = scan_err(&[src(&r, "/")]);
    assert!(
        msg.contains("bad\u{FFFD}name") && msg.contains("not valid UTF-8"),
        "{msg}"
    );
}

#[test]
fn directory_entries_are_counted_with_long_names() {
    assert_eq!(dir_entry_count(&[]), 2);
    assert_eq!(dir_entry_count(&["README.TXT", "EFI"]), 4);
    // Lower case needs a long name: 1 short + 1 LFN entry.
    assert_eq!(dir_entry_count(&["readme.txt"]), 4);
    let long = "x".repeat(255);
    assert_eq!(dir_entry_count(&[&long]), 2 + 21);
    let names: Vec<String> = (0..3121).map(long_name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(dir_entry_count(&names[..3120]), 65_522);
    assert_eq!(dir_entry_count(&names), 65_543);
}

fn long_name(i: usize) -> String {
    let mut name = format!("{i:05}");
    name.push_str(&"n".repeat(250));
    name
}

#[test]
fn a_directory_over_65536_entries_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    let full = r.join("full");
    fs::create_dir_all(&full).unwrap();
    for i in 0..3120 {
        File::create(full.join(long_name(i))).unwrap();
    }
    let tree = scan(&[src(&r, "/")]).unwrap();
    let Node::Dir(d) = &tree.root.entries[0] else {
        panic!("not a dir")
    };
    assert_eq!(d.entries.len(), 3120);

    File::create(full.join(long_name(3120))).unwrap();
    let msg = scan_err(&[src(&r, "/")]);
    assert!(
        msg.starts_with("/full needs 65543 directory entries"),
        "{msg}"
    );
    assert!(msg.contains("at most 65536"), "{msg}");
}

#[test]
fn many_files_scan_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("src");
    for d in 0..20 {
        let sub = r.join(format!("d{d}"));
        fs::create_dir_all(&sub).unwrap();
        for i in 0..1000 {
            File::create(sub.join(format!("file-{i}.dat"))).unwrap();
        }
    }
    let start = std::time::Instant::now();
    let tree = scan(&[src(&r, "/")]).unwrap();
    let count: usize = tree
        .root
        .entries
        .iter()
        .map(|n| match n {
            Node::Dir(d) => d.entries.len(),
            Node::File(_) => 0,
        })
        .sum();
    assert_eq!(count, 20_000);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
