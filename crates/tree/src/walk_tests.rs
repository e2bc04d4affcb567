// Most tests need Unix file types, owners or xattrs.
#![cfg_attr(not(unix), allow(unused_imports))]

use crate::test_util::*;
use crate::{scan, LinkId, Node, SpecialKind};
use std::fs;

#[cfg(unix)]
use std::os::unix::fs::symlink;

#[cfg(unix)]
#[test]
fn symlink_loop_is_an_error_when_following() {
    let (_tmp, r) = source_dir();
    fs::create_dir_all(r.join("a")).unwrap();
    let link = r.join("a/up");
    symlink(&r, &link).unwrap();
    let msg = scan_err(&[src(&r, "/x")], &follow_policy());
    assert_eq!(
        msg,
        format!(
            "{} (for /x/a/up) leads back to a directory that contains it: a symlink loop",
            link.display()
        )
    );
    // Kept, it is just a symlink.
    let tree = scan(&[src(&r, "/x")], &keep_policy()).unwrap();
    let want = format!("/x/a/up l {}", r.display());
    assert!(outline(&tree).contains(&want), "{:?}", outline(&tree));
}

#[cfg(unix)]
#[test]
fn the_same_dir_twice_side_by_side_is_not_a_loop() {
    let (tmp, r) = source_dir();
    let shared = tmp.path().join("shared");
    write(&shared.join("f"), b"f", 1);
    symlink(&shared, r.join("one")).unwrap();
    symlink(&shared, r.join("two")).unwrap();
    let tree = scan(&[src(&r, "/")], &follow_policy()).unwrap();
    assert_eq!(tree.root.entries.len(), 2);
    assert!(matches!(&tree.root.entries[1], Node::Dir(d) if d.entries.len() == 1));
}

#[cfg(unix)]
#[test]
fn dangling_symlink_is_an_error_when_following() {
    let (tmp, r) = source_dir();
    let link = r.join("broken");
    symlink(tmp.path().join("nowhere"), &link).unwrap();
    let msg = scan_err(&[src(&r, "/")], &follow_policy());
    let want = format!("{} (for /broken) is a dangling symlink: ", link.display());
    assert!(msg.starts_with(&want), "{msg}");
    // A source path itself is always followed.
    let msg = scan_err(&[src(&link, "/b")], &keep_policy());
    let want = format!("{} (for /b) is a dangling symlink: ", link.display());
    assert!(msg.starts_with(&want), "{msg}");
    // Kept, it is a symlink like any other.
    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let Node::Symlink(l) = &tree.root.entries[0] else {
        panic!("not a symlink: {tree:?}")
    };
    assert_eq!((l.name.as_str(), &l.source), ("broken", &link));
    assert_eq!(l.target, tmp.path().join("nowhere").into_os_string());
}

#[test]
fn missing_source_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("gone");
    let msg = scan_err(&[src(&gone, "/g")], &keep_policy());
    let want = format!("{} (for /g) cannot be read: ", gone.display());
    assert!(msg.starts_with(&want), "{msg}");
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_or_kept() {
    let (tmp, r) = source_dir();
    let real = tmp.path().join("real.bin");
    write(&real, b"the real contents", 77);
    let link = r.join("link.bin");
    symlink("../real.bin", &link).unwrap();

    let tree = scan(&[src(&r, "/")], &follow_policy()).unwrap();
    let Node::File(f) = &tree.root.entries[0] else {
        panic!("not a file: {tree:?}")
    };
    assert_eq!(
        (f.name.as_str(), f.size, f.meta.mtime),
        ("link.bin", 17, 77)
    );
    assert_eq!(fs::read(&f.source).unwrap(), b"the real contents");
    assert_eq!(f.meta.mode & 0o170000, 0o100000);

    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let Node::Symlink(l) = &tree.root.entries[0] else {
        panic!("not a symlink: {tree:?}")
    };
    assert_eq!(
        (l.name.as_str(), l.target.to_str()),
        ("link.bin", Some("../real.bin"))
    );
    assert_eq!(l.meta.mode & 0o170000, 0o120000);
    assert_eq!(l.link, None);
}

#[cfg(unix)]
#[test]
fn specials_are_refused_or_kept() {
    let (_tmp, r) = source_dir();
    let fifo = r.join("fifo");
    let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o640) }, 0);
    let sock = r.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();

    let msg = scan_err(&[src(&r, "/")], &follow_policy());
    assert_eq!(
        msg,
        format!(
            "{} (for /fifo) is a FIFO; only regular files, directories and symlinks can go into this filesystem",
            fifo.display()
        )
    );
    let msg = scan_err(&[src(&sock, "/s")], &follow_policy());
    assert!(
        msg.starts_with(&format!("{} (for /s) is a socket; ", sock.display())),
        "{msg}"
    );

    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let kinds: Vec<_> = tree
        .root
        .entries
        .iter()
        .map(|n| match n {
            Node::Special(s) => (s.name.as_str(), s.kind, s.rdev, s.meta.mode & 0o170000),
            _ => panic!("not special: {n:?}"),
        })
        .collect();
    let want = [
        ("fifo", SpecialKind::Fifo, 0, 0o010000),
        ("sock", SpecialKind::Socket, 0, 0o140000),
    ];
    assert_eq!(kinds, want);
}

#[cfg(target_os = "linux")]
#[test]
fn devices_keep_their_numbers() {
    let null = std::path::Path::new("/dev/null");
    if !null.exists() {
        return eprintln!("no /dev/null here; skipped");
    }
    let tree = scan(&[src(null, "/dev/null")], &keep_policy()).unwrap();
    let Node::Dir(dev) = &tree.root.entries[0] else {
        panic!("not a dir")
    };
    let Node::Special(s) = &dev.entries[0] else {
        panic!("not special: {tree:?}")
    };
    assert_eq!(
        (s.kind, s.rdev),
        (SpecialKind::CharDevice, libc::makedev(1, 3))
    );
    let msg = scan_err(&[src(null, "/n")], &follow_policy());
    assert!(
        msg.starts_with("/dev/null (for /n) is a character device; "),
        "{msg}"
    );
}

#[cfg(unix)]
#[test]
fn hard_links_share_a_link_id_in_tree_order() {
    let (tmp, r) = source_dir();
    write(&r.join("z1"), b"zz", 0);
    write(&r.join("a/one"), b"1", 0);
    fs::hard_link(r.join("z1"), r.join("b2")).unwrap();
    fs::hard_link(r.join("a/one"), r.join("a/two")).unwrap();
    fs::hard_link(r.join("a/one"), r.join("c")).unwrap();
    write(&r.join("single"), b"s", 0);
    let other = tmp.path().join("other");
    fs::hard_link(r.join("z1"), &other).unwrap();

    for policy in [follow_policy(), keep_policy()] {
        let tree = scan(&[src(&r, "/"), src(&other, "/x/other")], &policy).unwrap();
        let links = ids(&tree.root, "");
        let want = [
            ("/a/one", Some(0)),
            ("/a/two", Some(0)),
            ("/b2", Some(1)),
            ("/c", Some(0)),
            ("/single", None),
            ("/x/other", Some(1)),
            ("/z1", Some(1)),
        ];
        let want: Vec<(String, Option<LinkId>)> = want
            .iter()
            .map(|(p, id)| (p.to_string(), id.map(LinkId)))
            .collect();
        assert_eq!(links, want);
    }
}

#[cfg(unix)]
#[test]
fn symlinks_to_one_file_are_one_inode_when_followed() {
    let (_tmp, r) = source_dir();
    write(&r.join("f"), b"f", 0);
    symlink("f", r.join("g")).unwrap();
    let tree = scan(&[src(&r, "/")], &follow_policy()).unwrap();
    assert_eq!(
        ids(&tree.root, ""),
        [
            ("/f".into(), Some(LinkId(0))),
            ("/g".into(), Some(LinkId(0)))
        ]
    );
    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    assert_eq!(
        ids(&tree.root, ""),
        [("/f".into(), None), ("/g".into(), None)]
    );
}

/// Every non-directory's path and link id, in tree order.
fn ids(dir: &crate::Dir, path: &str) -> Vec<(String, Option<LinkId>)> {
    let mut out = Vec::new();
    for node in &dir.entries {
        let p = format!("{path}/{}", node.name());
        match node {
            Node::Dir(d) => out.extend(ids(d, &p)),
            Node::File(f) => out.push((p, f.link)),
            Node::Symlink(l) => out.push((p, l.link)),
            Node::Special(s) => out.push((p, s.link)),
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_names_are_errors() {
    let (_tmp, r) = source_dir();
    let Some(bad) = imgforge_testkit::non_utf8_file(&r) else {
        return;
    };
    let msg = scan_err(&[src(&r, "/")], &keep_policy());
    assert_eq!(
        msg,
        format!(
            "{}/bad\u{FFFD}name has a name that is not valid UTF-8; names in the image are Unicode",
            r.display()
        )
    );
    // Kept under its own name, the source's name must be UTF-8 too.
    let msg = scan_err(&[src(&bad, "/d/")], &keep_policy());
    assert!(
        msg.contains("bad\u{FFFD}name has a name that is not valid UTF-8"),
        "{msg}"
    );
}
