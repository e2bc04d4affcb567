//! FAT32's part of the scan: its policy's messages, the FAT view of the tree and the count
//! of directory entries. The scan itself (merging, symlinks, loops) is tested in imgforge-tree.

use super::*;
use imgforge_testkit::{sample_tree, source_dir, write_dated as write};
use std::fs::{self, File};
use std::path::Path;

fn src(source: &Path, target: &str) -> Source {
    Source {
        source: source.to_path_buf(),
        target: target.to_string(),
    }
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

/// The expected root directory (trees are compared by their root: source ids vary by machine).
fn root(mtime: i64, entries: Vec<Node>) -> Dir {
    Dir {
        name: String::new(),
        mtime,
        entries,
    }
}

fn scan_err(sources: &[Source]) -> String {
    match scan(sources) {
        Ok(tree) => panic!("expected an error, got {tree:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_fat_view_is_exact_and_sorted() {
    let (tmp, r) = source_dir();
    sample_tree(&r);
    let f = tmp.path().join("grubx64.efi");
    write(&f, b"efi", 5000);

    let tree = scan(&[src(&r, "/"), src(&f, "/EFI/BOOT/BOOTX64.EFI")]).unwrap();
    let expected = root(
        -86_400,
        vec![
            file("A.TXT", &r.join("A.TXT"), 1, 200),
            dir(
                "EFI",
                5000,
                vec![dir("BOOT", 5000, vec![file("BOOTX64.EFI", &f, 3, 5000)])],
            ),
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
    assert_eq!(tree.root, expected);
    assert!(tree.source_ids.len() >= 9 || cfg!(not(unix)));
    assert_eq!(scan(&[]).unwrap().root, root(0, vec![]));
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed() {
    let (tmp, r) = source_dir();
    let real = tmp.path().join("real.bin");
    write(&real, b"the real contents", 77);
    let link = r.join("link.bin");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let tree = scan(&[src(&r, "/")]).unwrap();
    let Node::File(f) = &tree.root.entries[0] else {
        panic!("not a file: {tree:?}")
    };
    assert_eq!((f.name.as_str(), f.size, f.mtime), ("link.bin", 17, 77));
    assert_eq!(fs::read(&f.source).unwrap(), b"the real contents");

    std::os::unix::fs::symlink(&r, r.join("loop")).unwrap();
    assert!(scan_err(&[src(&r, "/")]).ends_with("a symlink loop"));
}

#[cfg(unix)]
#[test]
fn socket_is_an_error() {
    let (_tmp, r) = source_dir();
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
    assert_eq!(
        msg,
        format!(
            "{} (for /p) is a FIFO; only regular files and directories can go into a FAT filesystem",
            fifo.display()
        )
    );
}

#[test]
fn files_over_4_gib_are_an_error() {
    let (_tmp, r) = source_dir();
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
    assert_eq!(
        msg,
        format!(
            "/big (from {}) is 4294967296 bytes; a FAT file holds at most 4294967295 bytes",
            big.display()
        )
    );
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
fn bad_fat_names_are_errors() {
    let (tmp, r) = source_dir();
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    let msg = scan_err(&[src(&f, "/EFI/a:b")]);
    assert!(
        msg.starts_with("target /EFI/a:b: \"a:b\" cannot be a FAT name: "),
        "{msg}"
    );
    let bad = r.join("sub/a?b");
    write(&bad, b"", 0);
    let msg = scan_err(&[src(&r, "/in")]);
    assert!(
        msg.starts_with(&format!(
            "/in/sub/a?b (from {}) cannot be a FAT name: ",
            bad.display()
        )),
        "{msg}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_names_are_errors() {
    let (_tmp, r) = source_dir();
    if imgforge_testkit::non_utf8_file(&r).is_none() {
        return;
    }
    let msg = scan_err(&[src(&r, "/")]);
    assert_eq!(
        msg,
        format!(
            "{}/bad\u{FFFD}name has a name that is not valid UTF-8; FAT names are Unicode",
            r.display()
        )
    );
}

#[test]
fn nesting_deeper_than_the_reader_reads_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    let deepest = "/d".repeat(MAX_DEPTH as usize);
    assert!(scan(&[src(&f, &format!("{deepest}/f"))]).is_ok());
    let msg = scan_err(&[src(&f, &format!("{deepest}/d/f"))]);
    assert_eq!(
        msg,
        format!(
            "{deepest}/d (from {}) is nested 257 directories deep; a FAT32 volume imgforge writes holds at most 256 levels",
            f.display()
        )
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
    let (_tmp, r) = source_dir();
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
    assert_eq!(
        msg,
        "/full needs 65543 directory entries (long names take several each); a FAT directory holds at most 65536"
    );
}
