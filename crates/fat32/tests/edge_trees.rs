//! Trees at the edges: nothing at all, only empty entries, several sources merged into one
//! tree (with directories that exist only to hold targets), and the largest file FAT holds.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::gen::set_mtime;
use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{scan, volume_label, FormatOptions, PreparedTree, Source};

fn options(label: bool, timestamp: Option<i64>) -> FormatOptions {
    FormatOptions {
        bytes_per_sector: 512,
        cluster_size: None,
        label: label.then(|| volume_label("EDGE").unwrap()),
        volume_id: 0xED6E_0001,
        timestamp,
        min_free: 0,
    }
}

/// Plans `tree` at its minimum size (plus `extra`), writes it and checks it against `expected`.
fn build(
    tree: &PreparedTree,
    options: &FormatOptions,
    extra: u64,
    dir: &Path,
) -> (u64, std::path::PathBuf) {
    let size = tree.minimum_size_at(options, MIB).unwrap() + extra;
    let layout = tree.plan(options, MIB, size).unwrap();
    let image = dir.join("edge.img");
    sized_image(&image, MIB + size, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    (size, image)
}

#[test]
fn an_empty_source_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let tree = scan_root(&src);
    for label in [true, false] {
        let options = options(label, Some(1_700_000_000));
        let (size, image) = build(&tree, &options, 0, dir.path());
        let layout = tree.plan(&options, MIB, size).unwrap();
        assert_eq!(
            (layout.summary().files, layout.summary().directories),
            (0, 0)
        );
        check_readers(&image, size, &layout, &src);
    }
}

#[test]
fn only_empty_files_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for path in ["a/b/c", "empty dir", "Ünïcödé dir/😀"] {
        fs::create_dir_all(src.join(path)).unwrap();
    }
    for path in [
        "a/b/c/empty.txt",
        "zero",
        "a/Zero Bytes.bin",
        "Ünïcödé dir/😀/ø",
    ] {
        fs::write(src.join(path), b"").unwrap();
    }
    let tree = scan_root(&src);
    let options = options(true, None);
    let (size, image) = build(&tree, &options, 0, dir.path());
    let layout = tree.plan(&options, MIB, size).unwrap();
    assert_eq!(
        layout.file_placements().count(),
        0,
        "empty files take no clusters"
    );
    check_readers(&image, size, &layout, &src);
}

#[test]
fn several_sources_merge_into_one_tree() {
    let (dir, root_src, _) = random_source(41, &small_shape(512));
    let extra = dir.path().join("extra");
    let loader = extra.join("loader");
    fs::create_dir_all(loader.join("entries")).unwrap();
    fs::write(loader.join("entries/debian.conf"), b"title Debian\n").unwrap();
    fs::write(loader.join("loader.conf"), random_bytes(5, 5000)).unwrap();
    let shim = extra.join("shimx64.efi");
    let grub = extra.join("grubx64.efi");
    let note = extra.join("note.txt");
    fs::write(&shim, random_bytes(6, 100_000)).unwrap();
    fs::write(&grub, random_bytes(7, 4096)).unwrap();
    fs::write(&note, random_bytes(8, 10)).unwrap();
    // Known times, so that the directories made for targets have a checkable time.
    for (i, path) in [&shim, &grub, &note].into_iter().enumerate() {
        set_mtime(
            path,
            UNIX_EPOCH + Duration::from_secs(1_500_000_000 + 1000 * i as u64),
        );
    }
    let sources = [
        Source {
            source: root_src.clone(),
            target: "/".into(),
        },
        Source {
            source: shim,
            target: "/EFI/BOOT/BOOTX64.EFI".into(),
        },
        Source {
            source: grub,
            target: "/EFI/BOOT/".into(),
        },
        Source {
            source: loader,
            target: "/loader".into(),
        },
        Source {
            source: note,
            target: "/deep/made/for/a/target/note.txt".into(),
        },
    ];
    let tree = PreparedTree::from(scan(&sources).unwrap());
    let expected = expected_from_sources(&sources);
    assert!(expected.contains_key("/EFI/BOOT/grubx64.efi") && expected.contains_key("/deep/made"));
    let options = options(true, None);
    let (size, image) = build(&tree, &options, 3 * MIB, dir.path());
    let layout = tree.plan(&options, MIB, size).unwrap();
    check_expected(&image, size, &layout, &expected, ALL_READERS);
}

/// A sparse file of `len` bytes with data islands at its start, at 2 GiB and at its end.
fn huge_file(path: &Path, len: u64) -> Vec<(u64, Vec<u8>)> {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = fs::File::create(path).unwrap();
    file.set_len(len).unwrap();
    let islands = vec![
        (0, random_bytes(1, 10_000)),
        (2 << 30, random_bytes(2, 4096)),
        (len - 5000, random_bytes(3, 5000)),
    ];
    for (at, bytes) in &islands {
        file.write_all_at(bytes, *at).unwrap();
    }
    islands
}

/// Builds a tree holding one huge sparse file and checks it with `readers`, and its islands
/// by reading the image where the plan put the file.
fn check_huge_file(len: u64, readers: Readers) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("small.txt"), b"small").unwrap();
    let islands = huge_file(&src.join("big/huge.img"), len);
    let tree = scan_root(&src);
    let options = FormatOptions {
        cluster_size: Some(4096),
        ..options(true, Some(1_700_000_000))
    };
    let (size, image) = build(&tree, &options, 0, dir.path());
    let layout = tree.plan(&options, MIB, size).unwrap();
    check_expected(&image, size, &layout, &expected_tree(&src), readers);
    let (_, _, offset) = layout
        .file_placements()
        .find(|(_, f, _)| f.size == len)
        .unwrap();
    let image = fs::File::open(&image).unwrap();
    for (at, bytes) in islands {
        let mut got = vec![0u8; bytes.len()];
        image.read_exact_at(&mut got, offset + at).unwrap();
        assert!(
            got == bytes,
            "the island at {at} of the {len}-byte file differs"
        );
    }
}

#[test]
fn a_file_of_4_gib_minus_one_cluster() {
    // The largest file whose cluster chain fsck.fat 4.2 can measure (see below).
    check_huge_file(
        (4 << 30) - 4096,
        Readers {
            fsck: true,
            mcopy: false,
        },
    );
}

#[test]
fn a_file_of_4_gib_minus_1_bytes() {
    // The largest size a FAT directory entry holds. fsck.fat 4.2 multiplies the chain's
    // cluster count by the cluster size in 32 bits, so a chain of exactly 4 GiB reads as 0
    // bytes ("File size is 4294967295 bytes, cluster chain length is 0 bytes"): a false alarm
    // for every file over 4 GiB - one cluster. fatread checks the chain length instead.
    check_huge_file(
        u64::from(u32::MAX),
        Readers {
            fsck: false,
            mcopy: false,
        },
    );
}

#[test]
fn a_directory_of_exactly_65536_entries() {
    // The most a FAT directory holds: ".", "..", 21,844 names of 19 characters (two long-name
    // entries and a short entry each) and two plain 8.3 names. One entry more is a scan error.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let full = src.join("full");
    fs::create_dir_all(&full).unwrap();
    for i in 0..21_844 {
        fs::write(full.join(format!("long file {i:05}.txt")), b"").unwrap();
    }
    fs::write(full.join("A.TXT"), b"a").unwrap();
    fs::write(full.join("B.TXT"), b"b").unwrap();
    let tree = scan_root(&src);
    let options = options(false, Some(1_700_000_000));
    let (size, image) = build(&tree, &options, 0, dir.path());
    let layout = tree.plan(&options, MIB, size).unwrap();
    check_readers(&image, size, &layout, &src);
    fs::write(full.join("C.TXT"), b"c").unwrap();
    let error = scan(&[Source {
        source: src,
        target: "/".into(),
    }])
    .unwrap_err();
    assert!(error.to_string().contains("65537"), "{error}");
}

/// Writer and reader agree on nesting: the deepest tree the scan accepts reads back whole and
/// verifies clean, and one directory deeper is refused before anything is written.
#[test]
fn the_deepest_tree_reads_back_and_one_level_more_is_refused() {
    use imgforge_fat32::{verify, Volume, MAX_DEPTH};
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let mut deepest = src.clone();
    for _ in 0..MAX_DEPTH {
        deepest.push("d");
    }
    fs::create_dir_all(&deepest).unwrap();
    fs::write(deepest.join("leaf.txt"), b"at the bottom").unwrap();
    let tree = scan_root(&src);
    let options = options(false, Some(1_700_000_000));
    let (size, image) = build(&tree, &options, 0, dir.path());
    let file = fs::File::open(&image).unwrap();
    let mut volume = Volume::open(file, MIB, size).unwrap().unwrap();
    assert!(volume.findings().is_empty(), "{:?}", volume.findings());
    assert!(verify(tree.tree(), &mut volume).is_empty());

    fs::create_dir(deepest.join("d")).unwrap();
    let error = scan(&[Source {
        source: src.clone(),
        target: "/".into(),
    }])
    .unwrap_err()
    .to_string();
    assert!(
        error.contains(&format!("nested {} directories deep", MAX_DEPTH + 1)),
        "{error}"
    );
    assert!(
        error.contains(&format!("at most {MAX_DEPTH} levels")),
        "{error}"
    );
}
