use super::*;

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
