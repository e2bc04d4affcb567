// Most tests need Unix file types, owners or xattrs.
#![cfg_attr(not(unix), allow(unused_imports))]

use crate::test_util::*;
use crate::{scan, Node, Policy, Symlinks};
use std::fs;

fn only(tree: &crate::Tree) -> &Node {
    assert_eq!(tree.root.entries.len(), 1, "{tree:?}");
    &tree.root.entries[0]
}

#[cfg(unix)]
#[test]
fn modes_keep_permission_and_type_bits() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, r) = source_dir();
    write(&r.join("d/f"), b"x", 0);
    write(&r.join("d/run"), b"#!", 0);
    fs::set_permissions(r.join("d/f"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(r.join("d/run"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::set_permissions(r.join("d"), fs::Permissions::from_mode(0o710)).unwrap();
    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let Node::Dir(d) = only(&tree) else {
        panic!("not a dir")
    };
    let modes: Vec<u32> = d.entries.iter().map(|n| n.meta().mode).collect();
    assert_eq!((d.meta.mode, modes), (0o40710, vec![0o100640, 0o104755]));
}

#[cfg(unix)]
#[test]
fn owners_are_recorded() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    write(&f, b"", 0);
    if is_root() {
        std::os::unix::fs::chown(&f, Some(1234), Some(5678)).unwrap();
    }
    let tree = scan(&[src(&f, "/f")], &keep_policy()).unwrap();
    let meta = only(&tree).meta();
    let want = fs::metadata(&f).unwrap();
    assert_eq!((meta.uid, meta.gid), (want.uid(), want.gid()));
    if is_root() {
        assert_eq!((meta.uid, meta.gid), (1234, 5678));
    } else {
        // SAFETY: getuid has no preconditions.
        assert_eq!(meta.uid, unsafe { libc::getuid() });
    }
}

#[test]
fn mtimes_keep_nanoseconds_and_round_down() {
    let (_tmp, r) = source_dir();
    write(&r.join("new"), b"", 0);
    write(&r.join("old"), b"", 0);
    set_mtime_ns(&r.join("new"), 1_700_000_000, 123_456_789);
    // 1.5 s before the epoch: second -2, plus half a second.
    set_mtime_ns(&r.join("old"), -2, 500_000_000);
    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let times: Vec<(i64, u32)> = tree
        .root
        .entries
        .iter()
        .map(|n| (n.meta().mtime, n.meta().mtime_nsec))
        .collect();
    assert_eq!(times, [(1_700_000_000, 123_456_789), (-2, 500_000_000)]);
}

#[test]
fn implicit_directories_take_the_newest_mtime_with_nanoseconds() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write(&a, b"", 0);
    write(&b, b"", 0);
    set_mtime_ns(&a, 100, 900);
    set_mtime_ns(&b, 100, 901);
    let tree = scan(&[src(&a, "/d/a"), src(&b, "/d/b")], &keep_policy()).unwrap();
    let meta = only(&tree).meta();
    assert_eq!(
        (meta.mtime, meta.mtime_nsec, meta.mode),
        (100, 901, 0o40755)
    );
}

/// Sets a user.* xattr, or says why the filesystem would not.
#[cfg(target_os = "linux")]
fn set_xattr(path: &std::path::Path, name: &str, value: &[u8]) -> Result<(), std::io::Error> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let c_name = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a buffer of value.len() bytes.
    let rc = unsafe {
        libc::setxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "linux")]
#[test]
fn xattrs_are_read_when_asked_for() {
    let (_tmp, r) = source_dir();
    write(&r.join("f"), b"data", 0);
    fs::create_dir(r.join("d")).unwrap();
    std::os::unix::fs::symlink("f", r.join("l")).unwrap();
    for (path, name, value) in [
        (r.join("f"), "user.b", &b"two"[..]),
        (r.join("f"), "user.a", &b""[..]),
        (r.join("d"), "user.dir", &b"\0\xff"[..]),
    ] {
        if let Err(e) = set_xattr(&path, name, value) {
            return eprintln!("the temporary directory refuses user xattrs ({e}); skipped");
        }
    }
    let user = |node: &Node| -> Vec<(String, Vec<u8>)> {
        let xattrs = &node.meta().xattrs;
        let user = xattrs
            .iter()
            .filter(|x| x.name.to_string_lossy().starts_with("user."));
        user.map(|x| (x.name.to_string_lossy().into_owned(), x.value.clone()))
            .collect()
    };
    let pair = |n: &str, v: &[u8]| (n.to_string(), v.to_vec());

    let tree = scan(&[src(&r, "/")], &keep_policy()).unwrap();
    let [d, f, l] = &tree.root.entries[..] else {
        panic!("{tree:?}")
    };
    assert_eq!(user(d), [pair("user.dir", b"\0\xff")]);
    assert_eq!(user(f), [pair("user.a", b""), pair("user.b", b"two")]);
    // Kept, a symlink's own attributes are read (l* calls), not its target's.
    assert!(matches!(l, Node::Symlink(_)) && user(l).is_empty(), "{l:?}");

    let follow = Policy {
        symlinks: Symlinks::Follow,
        ..keep_policy()
    };
    let tree = scan(&[src(&r, "/")], &follow).unwrap();
    assert_eq!(
        user(&tree.root.entries[2]),
        [pair("user.a", b""), pair("user.b", b"two")]
    );

    let without = Policy {
        xattrs: false,
        ..keep_policy()
    };
    let tree = scan(&[src(&r, "/")], &without).unwrap();
    assert!(tree.root.entries.iter().all(|n| n.meta().xattrs.is_empty()));
}
