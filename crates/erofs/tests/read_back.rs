//! Read-back: a real source tree with every kind of entry, written as EROFS, then checked by
//! tools that share no code with this crate: fsck.erofs (check and --extract) and the kernel's
//! own driver (mount -t erofs -o loop,ro, as root). Each compares bytes, modes, owners, times,
//! link counts, xattrs and symlink targets with the sources.

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{
    is_root, path_str, random_bytes, set_mtime_ns, skip, skip_fixture, source_dir, MIB,
};

const MANY: usize = 2000;

/// What the source filesystem allowed.
struct Made {
    xattrs: bool,
    devices: bool,
}

/// The tree: files of 0, 1, 4095, 4096, 4097 bytes and 1 MiB, nested directories, a directory
/// of 2,000 entries (several blocks), unicode and 255-byte names, symlinks (short, dangling,
/// near 4 KiB), hard links across folders (of a file, a FIFO, a symlink), a FIFO and a character device (as root), setuid,
/// setgid and sticky modes, `user.` xattrs and varied owners and times.
fn make_tree(src: &Path) -> Made {
    for (i, size) in [0u64, 1, 4095, 4096, 4097, MIB].into_iter().enumerate() {
        fs::write(
            src.join(format!("size-{size}")),
            random_bytes(i as u64 + 1, size),
        )
        .unwrap();
    }
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::write(src.join("a/b/c/deep.txt"), b"deep").unwrap();
    fs::create_dir(src.join("many")).unwrap();
    for i in 0..MANY {
        fs::write(
            src.join(format!("many/entry-{i:05}")),
            random_bytes(i as u64, (i % 7) as u64),
        )
        .unwrap();
    }
    fs::create_dir(src.join("Straße")).unwrap();
    fs::write(src.join("Straße/日本語.txt"), "こんにちは").unwrap();
    fs::write(src.join("n".repeat(255)), b"long name").unwrap();
    symlink("size-1", src.join("link-to-file")).unwrap();
    symlink("does/not/exist", src.join("dangling")).unwrap();
    symlink("x/".repeat(1999) + "y", src.join("long-link")).unwrap();
    fs::write(src.join("a/original"), random_bytes(99, 5000)).unwrap();
    fs::hard_link(src.join("a/original"), src.join("a/b/hard-link")).unwrap();
    fs::write(src.join("suid"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(src.join("suid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::create_dir(src.join("sticky")).unwrap();
    fs::set_permissions(src.join("sticky"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::create_dir(src.join("setgid")).unwrap();
    fs::set_permissions(src.join("setgid"), fs::Permissions::from_mode(0o2750)).unwrap();
    assert!(mknod(&src.join("fifo"), libc::S_IFIFO | 0o644, 0));
    // Special files and symlinks can be hard links too: one inode, nlink 2.
    fs::hard_link(src.join("fifo"), src.join("a/b/fifo-link")).unwrap();
    fs::hard_link(src.join("dangling"), src.join("a/dangling-link")).unwrap();
    let devices = is_root()
        && mknod(
            &src.join("null-dev"),
            libc::S_IFCHR | 0o666,
            libc::makedev(1, 3),
        );
    if !devices {
        skip("cannot mknod a character device (not root); the tree has none");
    }
    let xattrs = set_user_xattr(&src.join("size-1"), "user.comment", b"hello")
        && set_user_xattr(&src.join("a"), "user.big", &random_bytes(5, 1000))
        && set_user_xattr(&src.join("a"), "user.empty", b"");
    if !xattrs {
        skip("this filesystem refuses user. xattrs; the tree has none");
    }
    if is_root() {
        // trusted. needs CAP_SYS_ADMIN; its prefix index differs from user.'s.
        assert!(set_xattr(&src.join("size-4096"), "trusted.imgforge", b"t"));
        // A POSIX ACL (index 2, empty name): user 1234 may read.
        if !set_xattr(&src.join("size-4097"), "system.posix_acl_access", &acl()) {
            skip("this filesystem refuses POSIX ACLs; the tree has none");
        }
        std::os::unix::fs::lchown(src.join("size-4095"), Some(1234), Some(5678)).unwrap();
        std::os::unix::fs::lchown(src.join("size-4097"), Some(100_000), Some(200_000)).unwrap();
    }
    set_mtime_ns(&src.join("size-4096"), 1_600_000_000, 123_456_789);
    set_mtime_ns(&src.join("a/b/c/deep.txt"), -86_400, 0);
    Made { xattrs, devices }
}

/// An access ACL as the system.posix_acl_access xattr holds it: version 2, then (tag u16,
/// perm u16, id u32) entries: owner rw, user 1234 r, group r, mask r, others r.
fn acl() -> Vec<u8> {
    let mut value = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (1u16, 6u16, u32::MAX),
        (2, 4, 1234),
        (4, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        value.extend_from_slice(&tag.to_le_bytes());
        value.extend_from_slice(&perm.to_le_bytes());
        value.extend_from_slice(&id.to_le_bytes());
    }
    value
}

#[test]
fn fsck_erofs_checks_and_extracts_the_same_tree() {
    let Some(fsck) = fsck_erofs() else { return };
    let (tmp, src) = source_dir();
    make_tree(&src);
    let image = tmp.path().join("fs.erofs");
    build(&src, &options(Ownership::Source, None), &image);
    let report = fsck_ok(&fsck, &[], &image);
    eprintln!("fsck.erofs: {}", report.trim());
    if let Some(dump) = imgforge_testkit::find_tool("dump.erofs") {
        let (ok, out, err) = imgforge_testkit::run_status(&dump, &["-s", path_str(&image)]);
        assert!(ok, "dump.erofs -s: {out}{err}");
        eprintln!("dump.erofs -s:\n{out}");
    }
    // fsck.erofs is a real check: the same image cut short by a block fails it.
    let cut = tmp.path().join("cut.erofs");
    fs::copy(&image, &cut).unwrap();
    let len = fs::metadata(&cut).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(len - 4096)
        .unwrap();
    let out = tmp.path().join("cut-extracted");
    let extract = format!("--extract={}", out.display());
    let (ok, stdout, stderr) = imgforge_testkit::run_status(&fsck, &[&extract, path_str(&cut)]);
    eprintln!(
        "fsck.erofs on the image cut short: ok={ok} {}{}",
        stdout.trim(),
        stderr.trim()
    );
    assert!(!ok, "fsck.erofs must fail an image cut short");
    let out = tmp.path().join("extracted");
    let report = fsck_ok(
        &fsck,
        &[&format!("--extract={}", out.display()), "--preserve"],
        &image,
    );
    eprintln!("fsck.erofs --extract: {}", report.trim());
    let (source, extracted) = (walk(&src), walk(&out));
    // erofs-utils 1.5 extracts without xattrs, times or hard links (each link a copy), so
    // only names, kinds, modes, contents and (as root) owners are compared; it also chowns
    // after chmod, which drops setuid/setgid from files (an image from mkfs.erofs loses them
    // the same way), so those two bits of regular files are left out.
    let paths = |walk: &BTreeMap<PathBuf, Entry>| walk.keys().cloned().collect::<Vec<_>>();
    assert_eq!(paths(&source), paths(&extracted));
    for (path, want) in &source {
        let got = &extracted[path];
        let mode = |e: &Entry| match e.mode & 0o170000 {
            0o100000 => e.mode & !0o6000,
            _ => e.mode,
        };
        assert_eq!(mode(got), mode(want), "{}: mode", path.display());
        assert_eq!(got.content, want.content, "{}: content", path.display());
        if is_root() {
            assert_eq!(
                (got.uid, got.gid),
                (want.uid, want.gid),
                "{}: owner",
                path.display()
            );
        }
    }
}

fn mounted(ownership: Ownership, timestamp: Option<i64>) {
    let (tmp, src) = source_dir();
    let made = make_tree(&src);
    let image = tmp.path().join("fs.erofs");
    let plan = build(&src, &options(ownership, timestamp), &image);
    let mount = match ErofsMount::new(&image) {
        Ok(mount) => mount,
        Err(reason) => return skip_fixture(&reason),
    };
    let (source, image_walk) = (walk(&src), walk(mount.path()));
    compare(
        "read_back",
        &source,
        &image_walk,
        Some(ownership),
        Some(timestamp),
    );
    let many = image_walk
        .keys()
        .filter(|p| p.parent() == Some(Path::new("many")))
        .count();
    assert_eq!(many, MANY);
    assert_eq!(image_walk[Path::new("a/b/hard-link")].nlink, 2);
    if made.xattrs {
        assert_eq!(
            image_walk[Path::new("size-1")].xattrs,
            vec![(b"user.comment".to_vec(), b"hello".to_vec())]
        );
    }
    // Beyond equality with the sources: the namespaces other than user. really are there.
    let has = |walk: &BTreeMap<PathBuf, Entry>, path: &str, name: &[u8]| {
        walk[Path::new(path)].xattrs.iter().any(|x| x.0 == name)
    };
    for (path, name) in [
        ("size-4097", &b"system.posix_acl_access"[..]),
        ("size-4096", b"trusted.imgforge"),
    ] {
        if has(&source, path, name) {
            assert!(has(&image_walk, path, name), "{path}: {name:?}");
        }
    }
    if made.devices {
        assert_eq!(image_walk[Path::new("null-dev")].mode & 0o170000, 0o020000);
    }
    eprintln!(
        "mounted {} bytes, {} inodes, {} entries: all match",
        plan.size(),
        plan.inode_count(),
        image_walk.len()
    );
}

#[test]
fn the_kernel_mounts_it_with_the_sources_owners_and_times() {
    mounted(Ownership::Source, None);
}

#[test]
fn the_kernel_mounts_it_with_root_owners_and_source_date_epoch() {
    mounted(Ownership::Root, Some(1_700_000_000));
}

#[test]
fn two_builds_are_byte_identical() {
    let (tmp, src) = source_dir();
    make_tree(&src);
    let options = options(Ownership::Source, None);
    let (first, second) = (tmp.path().join("1.erofs"), tmp.path().join("2.erofs"));
    build(&src, &options, &first);
    build(&src, &options, &second);
    assert!(fs::read(&first).unwrap() == fs::read(&second).unwrap());
}
