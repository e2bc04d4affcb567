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
    assert_eq!(tree.root, expected);
}

#[test]
fn no_sources_give_an_empty_root() {
    assert_eq!(scan(&[]).unwrap().root, root(0, vec![]));
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
    assert_eq!(tree.root, expected);
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
    assert_eq!(scan(&[src(&f, "/EFI/BOOT/")]).unwrap().root, expected);
    assert_eq!(scan(&[src(&f, "//EFI/./BOOT/.")]).unwrap().root, expected);
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
    assert_eq!(tree.root, expected);
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
    assert_eq!(tree.root, expected);
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

/// Sources the scan must refuse, each with a message naming the paths.
mod errors;
