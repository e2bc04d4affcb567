//! The fuzz corpus (fuzz/corpus/fs_probe/) replayed through `probe_slice`, the function the fuzz
//! target calls: no input may panic or take long. Names say what each input must give: seeds
//! (`seed-ext4-*`, `seed-squashfs-*`) read as that filesystem with no findings; damaged seeds
//! (`corrupt-<code>-<ext4|squashfs>[-what].img`, the code in lower case) report that finding for
//! that filesystem. Other files (`found-*`, crashers since fixed) only have to be survived.
//!
//! The seeds and damaged seeds are made by `regenerate_seed_corpus` (ignored; needs mkfs.ext4
//! and mksquashfs): `cargo test -p imgforge-fs-probe --test fuzz_corpus -- --ignored`.

#![cfg(target_os = "linux")]

use std::fs::{self, File};
use std::os::unix::fs::{chown, symlink};
use std::path::Path;
use std::time::{Duration, Instant};

use imgforge_fs_probe::{probe_slice, Finding};
use imgforge_testkit::{
    file_name_of, find_tool, fuzz_corpus_dir, path_str, random_bytes, run, sorted_files,
};

const SLOW: Duration = Duration::from_secs(5);
/// The corpus stays well under the other readers' (about 1 MB each).
const MAX_CORPUS_BYTES: u64 = 1_000_000;

/// The filesystem a name is about, and for a damaged seed the finding code it promises:
/// `corrupt-table_out_of_range-squashfs-id.img` gives ("squashfs", Some("TABLE_OUT_OF_RANGE")).
fn promise(name: &str) -> Option<(&str, Option<String>)> {
    let stem = name.strip_suffix(".img").unwrap_or(name);
    if let Some(rest) = stem.strip_prefix("seed-") {
        return Some((rest.split('-').next()?, None));
    }
    let rest = stem.strip_prefix("corrupt-")?;
    let mut parts = rest.split('-');
    let code = parts.next()?.to_uppercase();
    Some((parts.next()?, Some(code)))
}

/// The findings for filesystem `kind`, None when the slice holds none of it.
fn findings_of(bytes: &[u8], kind: &str) -> Option<Vec<Finding>> {
    let report = probe_slice(bytes);
    match kind {
        "ext4" => report.ext4.map(|r| r.findings),
        "squashfs" => report.squashfs.map(|r| r.findings),
        other => panic!("unknown filesystem {other} in a corpus name"),
    }
}

#[test]
fn the_corpus_replays_without_panics() {
    let files = sorted_files(&fuzz_corpus_dir("fs_probe"));
    let (mut seeds, mut damaged, mut total) = (0, 0, 0u64);
    for path in &files {
        let bytes = fs::read(path).unwrap();
        total += bytes.len() as u64;
        let name = file_name_of(path);
        let started = Instant::now();
        let report = probe_slice(&bytes);
        assert!(started.elapsed() < SLOW, "{name}: {:?}", started.elapsed());
        let Some((kind, code)) = promise(name) else {
            continue;
        };
        let findings = findings_of(&bytes, kind)
            .unwrap_or_else(|| panic!("{name} is not read as {kind}: {report:?}"));
        match code {
            None => {
                assert_eq!(findings, [], "{name}");
                seeds += 1;
            }
            Some(code) => {
                assert!(
                    findings.iter().any(|f| f.code.as_str() == code),
                    "{name}: no {code} in {findings:#?}"
                );
                damaged += 1;
            }
        }
    }
    assert!(
        seeds >= 6 && damaged >= 10,
        "{seeds} seeds and {damaged} damaged seeds in {}: the corpus is incomplete",
        fuzz_corpus_dir("fs_probe").display()
    );
    assert!(total < MAX_CORPUS_BYTES, "the corpus grew to {total} bytes");
    eprintln!("{} inputs, {total} bytes", files.len());
}

// ---- making the seeds ----

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The ext4 superblock's crc32c again (metadata_csum), so that a damaged copy reports only its
/// own finding.
fn fix_ext4_checksum(b: &mut [u8]) {
    let sb = &mut b[1024..2048];
    if u32::from_le_bytes(sb[0x64..0x68].try_into().unwrap()) & 0x400 == 0 {
        return;
    }
    let crc = sb[..0x3FC].iter().fold(!0u32, |mut crc, byte| {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
        crc
    });
    put32(sb, 0x3FC, crc);
}

/// A small tree with two owners, so squashfs has two ids.
fn tree(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("a.txt"), b"alpha\n").unwrap();
    fs::write(src.join("sub/b.bin"), random_bytes(11, 6000)).unwrap();
    symlink("a.txt", src.join("link")).unwrap();
    // Only root can give a file away; otherwise the seeds have one id.
    let _ = chown(src.join("sub/b.bin"), Some(1000), Some(1000));
    src
}

fn mkfs_ext4(dir: &Path, src: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let mkfs = find_tool("mkfs.ext4").expect("mkfs.ext4 (e2fsprogs)");
    let image = dir.join(name);
    File::create(&image).unwrap().set_len(64 << 10).unwrap();
    let mut all = vec![
        "-q",
        "-F",
        "-b",
        "1024",
        "-N",
        "16",
        "-O",
        "^has_journal,^resize_inode",
        "-E",
        "hash_seed=11111111-2222-4333-8444-555555555555",
        "-U",
        "0f0e0d0c-0b0a-4908-8706-050403020100",
        "-d",
        path_str(src),
    ];
    all.extend_from_slice(args);
    all.push(path_str(&image));
    run(&mkfs, &all);
    fs::read(&image).unwrap()
}

fn mksquashfs(dir: &Path, src: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let mksquashfs = find_tool("mksquashfs").expect("mksquashfs (squashfs-tools)");
    let image = dir.join(name);
    let mut all = vec![
        path_str(src),
        path_str(&image),
        "-quiet",
        "-noappend",
        "-mkfs-time",
        "1700000000",
    ];
    all.extend_from_slice(args);
    run(&mksquashfs, &all);
    fs::read(&image).unwrap()
}

/// Damaged copies of the sound seeds, each promising one finding.
fn damaged(ext4: &[u8], squashfs: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut with = |name: &str, base: &[u8], damage: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = base.to_vec();
        damage(&mut bytes);
        out.push((format!("corrupt-{name}.img"), bytes));
    };
    let sb = 1024;
    with("superblock_invalid-ext4-block-size", ext4, &|b| {
        put32(b, sb + 0x18, 9);
        fix_ext4_checksum(b);
    });
    with("superblock_invalid-ext4-inode-count", ext4, &|b| {
        put32(b, sb, 17);
        fix_ext4_checksum(b);
    });
    with("superblock_checksum_wrong-ext4", ext4, &|b| {
        b[sb + 0x78] ^= 1
    });
    with("feature_unsupported-ext4", ext4, &|b| {
        b[sb + 0x61] |= 0x10; // incompat dirdata
        fix_ext4_checksum(b);
    });
    with("free_count_wrong-ext4", ext4, &|b| {
        put32(b, sb + 0x10, 1000);
        fix_ext4_checksum(b);
    });
    with("not_clean-ext4", ext4, &|b| {
        put16(b, sb + 0x3A, 2);
        fix_ext4_checksum(b);
    });
    with("partition_truncated-ext4", ext4, &|b| {
        b.truncate(b.len() - 1024)
    });
    with("superblock_invalid-squashfs-block-log", squashfs, &|b| {
        put16(b, 22, 12)
    });
    with("superblock_invalid-squashfs-root", squashfs, &|b| {
        put64(b, 32, u64::MAX)
    });
    with("feature_unsupported-squashfs", squashfs, &|b| {
        put16(b, 28, 3)
    });
    with("table_out_of_range-squashfs-id", squashfs, &|b| {
        put64(b, 48, 1 << 40)
    });
    with("table_out_of_range-squashfs-inodes", squashfs, &|b| {
        let directories = le64(b, 72);
        put64(b, 64, directories);
    });
    with("metadata_invalid-squashfs-inode-block", squashfs, &|b| {
        let at = le64(b, 64) as usize;
        put16(b, at, 0x8000);
    });
    with("metadata_invalid-squashfs-id-index", squashfs, &|b| {
        let at = le64(b, 48) as usize;
        put64(b, at, 0);
    });
    with("partition_truncated-squashfs", squashfs, &|b| {
        let used = le64(b, 40) as usize;
        b.truncate(used - 1);
    });
    out
}

#[test]
#[ignore = "rewrites fuzz/corpus/fs_probe/seed-* and corrupt-*; needs mkfs.ext4 and mksquashfs"]
fn regenerate_seed_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = fuzz_corpus_dir("fs_probe");
    fs::create_dir_all(&corpus).unwrap();
    for old in sorted_files(&corpus) {
        let name = file_name_of(&old);
        if name.starts_with("seed-") || name.starts_with("corrupt-") {
            fs::remove_file(&old).unwrap();
        }
    }
    let src = tree(dir.path());
    let ext4 = mkfs_ext4(dir.path(), &src, "csum.img", &["-L", "seed"]);
    let squashfs = mksquashfs(dir.path(), &src, "zstd.sqfs", &["-comp", "zstd"]);
    let mut inputs = vec![
        ("seed-ext4-1k-csum.img".to_string(), ext4.clone()),
        (
            "seed-ext4-no-csum.img".into(),
            mkfs_ext4(
                dir.path(),
                &src,
                "plain.img",
                &["-O", "^metadata_csum,^64bit"],
            ),
        ),
        (
            "seed-ext4-ext2.img".into(),
            mkfs_ext4(dir.path(), &src, "ext2.img", &["-t", "ext2"]),
        ),
        ("seed-squashfs-zstd.img".into(), squashfs.clone()),
        (
            "seed-squashfs-gzip-4k-no-fragments.img".into(),
            mksquashfs(
                dir.path(),
                &src,
                "gzip.sqfs",
                &["-comp", "gzip", "-b", "4K", "-no-fragments"],
            ),
        ),
        (
            "seed-squashfs-uncompressed.img".into(),
            mksquashfs(
                dir.path(),
                &src,
                "plain.sqfs",
                &["-noI", "-noD", "-noF", "-noX", "-no-exports"],
            ),
        ),
        (
            "seed-squashfs-xz-options.img".into(),
            mksquashfs(
                dir.path(),
                &src,
                "xz.sqfs",
                &["-comp", "xz", "-Xdict-size", "50%"],
            ),
        ),
    ];
    inputs.extend(damaged(&ext4, &squashfs));
    for (name, bytes) in inputs {
        let (kind, code) = promise(&name).unwrap();
        let findings = findings_of(&bytes, kind).unwrap_or_else(|| panic!("{name}: no {kind}"));
        let codes: Vec<_> = findings.iter().map(|f| f.code.as_str()).collect();
        eprintln!("{name}: {} bytes, {codes:?}", bytes.len());
        match code {
            Some(code) => assert!(codes.contains(&code.as_str()), "{name}: {codes:?}"),
            None => assert_eq!(codes, Vec::<&str>::new(), "{name}"),
        }
        fs::write(corpus.join(name), bytes).unwrap();
    }
}
