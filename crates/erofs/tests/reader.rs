//! The reader on real images: imgforge's own (read back with no findings, verified clean
//! against their plans, and every kind of damage found) and mkfs.erofs's (flat, chunk-based,
//! compressed, with shared xattrs), whose files must read back as their sources.

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{symlink, FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;
use imgforge_erofs::{plan, verify, verify_partition, EntryKind, Ownership, UuidCheck, Volume};
use imgforge_testkit::{find_tool, path_str, random_bytes, skip, source_dir, try_run};

/// A tree with every kind of entry imgforge writes; whether `user.` xattrs were accepted.
fn make_tree(src: &Path) -> bool {
    for (i, size) in [0u64, 1, 4095, 4096, 4097, 100_000].into_iter().enumerate() {
        fs::write(
            src.join(format!("size-{size}")),
            random_bytes(i as u64, size),
        )
        .unwrap();
    }
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::write(src.join("a/b/c/deep.txt"), b"deep").unwrap();
    // Compressible, so mkfs.erofs -z keeps it compressed.
    fs::write(src.join("a/text"), "all work and no play\n".repeat(10_000)).unwrap();
    fs::create_dir(src.join("many")).unwrap();
    for i in 0..300 {
        fs::write(
            src.join(format!("many/entry-{i:04}")),
            random_bytes(i, i % 9),
        )
        .unwrap();
    }
    symlink("size-1", src.join("link")).unwrap();
    symlink("nowhere/at/all", src.join("dangling")).unwrap();
    fs::hard_link(src.join("size-4097"), src.join("a/b/hard")).unwrap();
    assert!(mknod(&src.join("fifo"), libc::S_IFIFO | 0o640, 0));
    fs::set_permissions(src.join("size-1"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::create_dir(src.join("Straße")).unwrap();
    fs::write(src.join("Straße/日本語"), "こんにちは").unwrap();
    let xattrs = set_user_xattr(&src.join("size-0"), "user.one", b"1")
        && set_user_xattr(&src.join("size-1"), "user.one", b"1")
        && set_user_xattr(&src.join("a"), "user.two", &random_bytes(7, 300));
    if !xattrs {
        skip("the temp folder refuses user xattrs; the tree has none");
    }
    xattrs
}

fn open(image: &Path) -> Volume<File> {
    let len = fs::metadata(image).unwrap().len();
    Volume::open(File::open(image).unwrap(), 0, len)
        .unwrap()
        .expect("an EROFS")
}

fn paths(volume: &Volume<File>) -> Vec<String> {
    let mut paths: Vec<String> = (1..volume.entries().len())
        .map(|i| volume.path(i))
        .collect();
    paths.sort();
    paths
}

fn source_paths(src: &Path) -> Vec<String> {
    walk(src)
        .keys()
        .map(|p| format!("/{}", p.display()))
        .filter(|p| p != "/")
        .collect()
}

#[test]
fn imgforge_images_read_back_clean_and_verify() {
    let (tmp, src) = source_dir();
    let xattrs = make_tree(&src);
    for (ownership, timestamp) in [
        (Ownership::Root, Some(1_700_000_000)),
        (Ownership::Source, None),
    ] {
        let image = tmp.path().join("fs.img");
        let plan = build(&src, &options(ownership, timestamp), &image);
        let mut volume = open(&image);
        assert_eq!(volume.findings(), &[], "{ownership:?}");
        let summary = volume.summary().clone();
        assert_eq!(summary.label.as_deref(), Some("test"));
        assert_eq!(&summary.uuid, b"imgforge-erofs-t");
        assert_eq!(summary.block_size, 4096);
        assert_eq!(summary.inodes, plan.inode_count() as u64);
        assert_eq!(summary.used_bytes, plan.size());
        assert_eq!((summary.symlinks, summary.specials), (2, 1));
        assert_eq!(summary.file_bytes, plan.summary().file_bytes);
        assert_eq!(paths(&volume), source_paths(&src));
        // Depth first: every directory right before its contents, in name order.
        let listed: Vec<String> = volume
            .tree_order()
            .into_iter()
            .map(|i| volume.path(i))
            .collect();
        let mut sorted = listed.clone();
        sorted.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        assert_eq!(listed, sorted);
        let hard: Vec<u64> = ["/size-4097", "/a/b/hard"]
            .iter()
            .map(|p| {
                (0..volume.entries().len())
                    .find(|i| volume.path(*i) == *p)
                    .map(|i| volume.entries()[i].nid())
                    .unwrap()
            })
            .collect();
        assert_eq!(hard[0], hard[1], "hard links share one inode");
        assert_eq!(
            verify(&plan, &mut volume, UuidCheck::Compare),
            vec![],
            "{ownership:?}"
        );
        if xattrs {
            let a = (0..volume.entries().len())
                .find(|i| volume.path(*i) == "/a")
                .unwrap();
            assert_eq!(
                volume.xattrs(a).unwrap(),
                vec![(b"user.two".to_vec(), random_bytes(7, 300))]
            );
        }
    }
}

/// Flips one byte of `image` at `at`.
fn flip(image: &Path, at: u64) {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(image)
        .unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at).unwrap();
    file.write_all_at(&[byte[0] ^ 0x5a], at).unwrap();
}

fn messages(plan: &imgforge_erofs::Plan, image: &Path) -> Vec<String> {
    let len = fs::metadata(image).unwrap().len();
    let differences = verify_partition(
        plan,
        File::open(image).unwrap(),
        0,
        len,
        imgforge_erofs::UuidCheck::Compare,
    )
    .unwrap();
    differences
        .iter()
        .map(|d| format!("{}: {}", d.path, d.message))
        .collect()
}

#[test]
fn verify_names_every_difference() {
    let (tmp, src) = source_dir();
    make_tree(&src);
    let image = tmp.path().join("fs.img");
    let opts = options(Ownership::Root, Some(1_700_000_000));
    let plan = build(&src, &opts, &image);
    assert_eq!(messages(&plan, &image), Vec::<String>::new());

    // A byte of file data.
    let (_, _, _, start) = plan
        .file_placements()
        .find(|(p, ..)| *p == "/size-100000")
        .unwrap();
    flip(&image, start + 777);
    let found = messages(&plan, &image);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("/size-100000: differs from ") && found[0].ends_with(" at byte 777"),
        "{found:?}"
    );
    flip(&image, start + 777);

    // The sources changed after the image was built: a new file, another mode, other bytes,
    // a removed file, a retargeted symlink.
    fs::write(src.join("a/new"), b"new").unwrap();
    fs::set_permissions(src.join("size-0"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(src.join("size-4096"), random_bytes(1000, 4096)).unwrap();
    fs::remove_file(src.join("many/entry-0007")).unwrap();
    fs::remove_file(src.join("link")).unwrap();
    symlink("size-0", src.join("link")).unwrap();
    let changed = plan_of(&src, &opts);
    let found = messages(&changed, &image);
    let expect = [
        "/a/new: is missing",
        "/size-0: has mode 0644; the spec gives 0600",
        "/many/entry-0007: is in the image but not in the spec",
        "/link: points to \"size-1\"; the spec gives \"size-0\"",
        "/size-4096: differs from ",
    ];
    for want in expect {
        assert!(
            found.iter().any(|m| m.starts_with(want)),
            "no {want:?} in {found:#?}"
        );
    }

    // Not an EROFS at all.
    let zeros = tmp.path().join("zeros.img");
    fs::write(&zeros, vec![0u8; 8192]).unwrap();
    assert_eq!(
        messages(&plan, &zeros),
        vec!["/: the partition holds no EROFS filesystem"]
    );
}

fn plan_of(src: &Path, opts: &imgforge_erofs::FormatOptions) -> imgforge_erofs::Plan {
    plan(scan_dir(src), opts).unwrap()
}

#[test]
fn damaged_metadata_gives_findings_not_panics() {
    let (tmp, src) = source_dir();
    make_tree(&src);
    let image = tmp.path().join("fs.img");
    let plan = build(&src, &options(Ownership::Root, Some(1)), &image);
    let pristine = fs::read(&image).unwrap();
    // Every byte of the superblock and every third of the first metadata block, one at a
    // time; verify (which also reads every file) on one in 16.
    let mut codes = BTreeMap::new();
    for (n, at) in (1024..1152).chain((4096..8192).step_by(3)).enumerate() {
        fs::write(&image, &pristine).unwrap();
        flip(&image, at);
        let len = pristine.len() as u64;
        if let Some(volume) = Volume::open(File::open(&image).unwrap(), 0, len).unwrap() {
            for finding in volume.findings() {
                *codes.entry(finding.code.as_str()).or_insert(0) += 1;
            }
        }
        if n % 16 == 0 {
            let _ = verify_partition(
                &plan,
                File::open(&image).unwrap(),
                0,
                len,
                imgforge_erofs::UuidCheck::Compare,
            )
            .unwrap();
        }
    }
    eprintln!("{codes:?}");
    for code in [
        "SUPERBLOCK_INVALID",
        "INODE_INVALID",
        "DIRECTORY_INVALID",
        "DIRECTORY_UNSORTED",
        "FILE_TYPE_MISMATCH",
    ] {
        assert!(codes.contains_key(code), "{code} never found: {codes:?}");
    }
}

/// mkfs.erofs, or None after saying why not.
fn mkfs_erofs() -> Option<PathBuf> {
    let tool = find_tool("mkfs.erofs");
    if tool.is_none() {
        skip("mkfs.erofs is missing (scripts/install-system-deps.sh installs erofs-utils)");
    }
    tool
}

#[test]
fn mkfs_erofs_images_read_as_their_sources() {
    let Some(mkfs) = mkfs_erofs() else { return };
    let (tmp, src) = source_dir();
    let xattrs = make_tree(&src);
    let source = walk(&src);
    for extra in [&[][..], &["--chunksize=8192"], &["-zlz4"], &["-x1"]] {
        let image = tmp.path().join("mkfs.img");
        let _ = fs::remove_file(&image);
        let mut args = vec!["-T1700000000", "-Uc5f2a5a2-bf0d-4bbf-a2d4-8c6b0a8f3e11"];
        args.extend_from_slice(extra);
        args.extend([path_str(&image), path_str(&src)]);
        try_run(&mkfs, &args).unwrap();
        let mut volume = open(&image);
        assert_eq!(volume.findings(), &[], "{extra:?}");
        assert_eq!(paths(&volume), source_paths(&src), "{extra:?}");
        let compressed = extra == ["-zlz4"];
        assert_eq!(
            volume.summary().compressed_files > 0,
            compressed,
            "{extra:?}"
        );
        for index in 1..volume.entries().len() {
            let path = volume.path(index);
            let entry = volume.entries()[index].clone();
            let here = src.join(&path[1..]);
            let meta = fs::symlink_metadata(&here).unwrap();
            assert_eq!(entry.permissions(), meta.mode() & 0o7777, "{path}");
            match entry.kind {
                EntryKind::File if !entry.compressed() => {
                    let mut bytes = vec![0u8; entry.size() as usize];
                    let mut pos = 0;
                    while pos < bytes.len() {
                        pos += volume
                            .read_at(index, pos as u64, &mut bytes[pos..])
                            .unwrap();
                    }
                    assert_eq!(bytes, fs::read(&here).unwrap(), "{path} {extra:?}");
                }
                EntryKind::Symlink => {
                    let target = volume.symlink_target(index).unwrap();
                    assert_eq!(
                        Path::new(std::str::from_utf8(&target).unwrap()),
                        fs::read_link(&here).unwrap()
                    );
                }
                _ => {}
            }
            if xattrs {
                let mut found = volume.xattrs(index).unwrap();
                found.sort();
                assert_eq!(found, common::xattrs(&here), "{path} {extra:?}");
            }
        }
        assert!(source.len() > 300);
    }
}

#[test]
fn superblock_checksum_is_checked() {
    let Some(mkfs) = mkfs_erofs() else { return };
    let (tmp, src) = source_dir();
    fs::write(src.join("f"), b"x").unwrap();
    let image = tmp.path().join("mkfs.img");
    try_run(&mkfs, &[path_str(&image), path_str(&src)]).unwrap();
    let bytes = fs::read(&image).unwrap();
    if u32::from_le_bytes(bytes[1032..1036].try_into().unwrap()) & 1 == 0 {
        return skip("this mkfs.erofs writes no superblock checksum");
    }
    assert_eq!(open(&image).findings(), &[]);
    flip(&image, 1024 + 120);
    let codes: Vec<&str> = open(&image)
        .findings()
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(codes, ["SUPERBLOCK_CHECKSUM_WRONG"]);
}

/// A spec without a seed or a `uuid` plans a random UUID each time: verify then leaves the UUID
/// out, and compares it otherwise.
#[test]
fn the_uuid_is_compared_only_when_asked() {
    let (tmp, src) = source_dir();
    make_tree(&src);
    let image = tmp.path().join("fs.img");
    build(&src, &options(Ownership::Root, Some(1)), &image);
    let mut other = options(Ownership::Root, Some(1));
    other.uuid = *b"another-uuid-16b";
    let replanned = plan(scan_dir(&src), &other).unwrap();
    let compared = verify(&replanned, &mut open(&image), UuidCheck::Compare);
    assert_eq!(compared.len(), 1, "{compared:?}");
    assert!(
        compared[0].message.starts_with("the UUID is "),
        "{compared:?}"
    );
    assert_eq!(
        verify(&replanned, &mut open(&image), UuidCheck::Ignore),
        vec![]
    );
}
