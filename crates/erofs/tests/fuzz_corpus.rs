//! The fuzz corpus (fuzz/corpus/erofs_read/) replayed through `read_slice`, the function the
//! fuzz target calls: no input may panic or take long. The names follow fuzz/corpus/fat32_read/:
//! seeds (`seed-*`) must read as EROFS with no findings; damaged seeds
//! (`corrupt-<code>[-<what>].img`, the code in lower case) must report that finding. Files with
//! other names (`found-*`) are inputs libFuzzer found that reach code the hand-made ones do not
//! (merged with `-merge=1 -use_counters=0 -max_len=4096`, so each is at most 4 KiB), or crashers
//! since fixed, and only have to be survived.
//!
//! The seeds and damaged seeds are made by `regenerate_seed_corpus` (ignored; needs
//! mkfs.erofs): `cargo test -p imgforge-erofs --test fuzz_corpus -- --ignored`. They come from
//! imgforge's own writer, from mkfs.erofs (plain, chunk-based, lz4, shared xattrs) and from a
//! hand-made image with 512-byte blocks that is small enough for the fuzzer to mutate well.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::io::Cursor;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use imgforge_erofs::{read_slice, Ownership, Volume};
use imgforge_testkit::{
    file_name_of, find_tool, fuzz_corpus_dir, path_str, random_bytes, sorted_files, try_run,
};

const SLOW: Duration = Duration::from_secs(5);
/// The whole corpus stays near the others' size (fat32_read and gpt_read are about 1 MB).
const MAX_CORPUS_BYTES: u64 = 1_200_000;

/// The finding code a damaged seed's name promises: `corrupt-data_out_of_range-chunk.img`
/// gives DATA_OUT_OF_RANGE.
fn promised_code(name: &str) -> Option<String> {
    let rest = name.strip_prefix("corrupt-")?;
    let rest = rest.strip_suffix(".img").unwrap_or(rest);
    Some(rest.split('-').next().unwrap().to_uppercase())
}

fn codes_of(bytes: &[u8]) -> Vec<&'static str> {
    read_slice(bytes)
        .map(|r| r.findings.iter().map(|f| f.code.as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn the_corpus_replays_without_panics() {
    let files = sorted_files(&fuzz_corpus_dir("erofs_read"));
    let (mut seeds, mut damaged, mut total) = (0, 0, 0u64);
    for path in &files {
        let bytes = fs::read(path).unwrap();
        total += bytes.len() as u64;
        let name = file_name_of(path);
        let started = Instant::now();
        let report = read_slice(&bytes);
        assert!(started.elapsed() < SLOW, "{name}: {:?}", started.elapsed());
        if name.starts_with("seed-") {
            let report = report.unwrap_or_else(|| panic!("{name} is not read as EROFS"));
            assert_eq!(report.findings, [], "{name}");
            assert!(report.entries > 1, "{name}: no entries");
            seeds += 1;
        } else if let Some(code) = promised_code(name) {
            let report = report.unwrap_or_else(|| panic!("{name} is not read as EROFS"));
            assert!(
                report.findings.iter().any(|f| f.code.as_str() == code),
                "{name}: no {code} in {:#?}",
                report.findings
            );
            damaged += 1;
        }
    }
    assert!(
        seeds >= 6 && damaged >= 15,
        "{seeds} seeds and {damaged} damaged seeds in {}: the corpus is incomplete",
        fuzz_corpus_dir("erofs_read").display()
    );
    assert!(
        total < MAX_CORPUS_BYTES,
        "the corpus grew to {total} bytes; keep it near 1 MB"
    );
    eprintln!("{} inputs, {total} bytes", files.len());
}

// ---- reading the few on-disk fields the damage needs, little-endian ----

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// An image and where things are in it, found with the reader itself.
struct Image {
    bytes: Vec<u8>,
}

impl Image {
    fn block(&self) -> usize {
        1 << self.bytes[1024 + 12]
    }

    /// The nid of `path`.
    fn nid(&self, path: &str) -> u64 {
        let volume = Volume::open(Cursor::new(&self.bytes), 0, self.bytes.len() as u64)
            .unwrap()
            .unwrap();
        let index = (0..volume.entries().len())
            .find(|&i| volume.path(i) == path)
            .unwrap_or_else(|| panic!("no {path}"));
        volume.entries()[index].nid()
    }

    /// Byte offset of inode `path`.
    fn inode(&self, path: &str) -> usize {
        let meta = le32(&self.bytes, 1024 + 40) as usize * self.block();
        meta + self.nid(path) as usize * 32
    }

    fn extended(&self, inode: usize) -> bool {
        le16(&self.bytes, inode) & 1 != 0
    }

    fn inode_bytes(&self, inode: usize) -> usize {
        if self.extended(inode) {
            64
        } else {
            32
        }
    }

    /// Byte offset of the first block of directory `path` (its inline tail when that is all).
    fn dir_data(&self, path: &str) -> usize {
        let at = self.inode(path);
        let b = &self.bytes;
        let layout = (le16(b, at) >> 1) & 7;
        let size = le32(b, at + 8) as usize; // the low half for extended inodes: small dirs
        let icount = le16(b, at + 2) as usize;
        if layout == 2 && size < self.block() {
            let xattrs = if icount == 0 {
                0
            } else {
                12 + 4 * (icount - 1)
            };
            at + self.inode_bytes(at) + xattrs
        } else {
            le32(b, at + 16) as usize * self.block()
        }
    }

    /// The first block of directory `path`: (dirent offset, name) per entry.
    fn dirents(&self, path: &str) -> Vec<(usize, Vec<u8>)> {
        let at = self.dir_data(path);
        let b = &self.bytes;
        let count = le16(b, at + 8) as usize / 12;
        (0..count)
            .map(|i| {
                let start = at + le16(b, at + i * 12 + 8) as usize;
                let end = if i + 1 < count {
                    at + le16(b, at + (i + 1) * 12 + 8) as usize
                } else {
                    let limit = (start + 256).min(b.len());
                    start + b[start..limit].iter().position(|c| *c == 0).unwrap()
                };
                (at + i * 12, b[start..end].to_vec())
            })
            .collect()
    }

    /// The dirent of `name` in directory `dir`.
    fn dirent(&self, dir: &str, name: &str) -> (usize, usize) {
        let entries = self.dirents(dir);
        let i = entries
            .iter()
            .position(|(_, n)| n == name.as_bytes())
            .unwrap_or_else(|| panic!("no {name} in {dir}"));
        // (dirent offset, name offset)
        let base = self.dir_data(dir);
        (
            entries[i].0,
            base + le16(&self.bytes, entries[i].0 + 8) as usize,
        )
    }
}

/// With SB_CHKSUM (mkfs.erofs sets it), stores the crc32c of the superblock's block from byte
/// 1024 again, so that a damaged copy reports only its own finding.
fn fix_checksum(b: &mut [u8]) {
    if le32(b, 1024 + 8) & 1 == 0 {
        return;
    }
    let end = (1usize << b[1024 + 12]).min(b.len());
    put32(b, 1024 + 4, 0);
    let crc = b[1024..end].iter().fold(!0u32, |mut crc, byte| {
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
    put32(b, 1024 + 4, crc);
}

// ---- the seeds ----

/// A hand-made EROFS with 512-byte blocks in 2 KiB: the root (inline), a file with an inline
/// xattr and an inline tail, a symlink, a FIFO and an empty directory.
fn tiny_512() -> Vec<u8> {
    let mut b = vec![0u8; 2048];
    let sb = 1024;
    put32(&mut b, sb, 0xE0F5_E1E2);
    b[sb + 12] = 9; // blkszbits
    put16(&mut b, sb + 14, 0); // root nid
    b[sb + 16] = 5; // inodes
    b[sb + 24..sb + 32].copy_from_slice(&1_700_000_000u64.to_le_bytes());
    put32(&mut b, sb + 36, 4); // blocks
    put32(&mut b, sb + 40, 3); // meta_blkaddr: nid 0 is byte 1536
    b[sb + 48..sb + 64].copy_from_slice(b"tiny-erofs-uuid!");
    b[sb + 64..sb + 68].copy_from_slice(b"tiny");
    // A compact inode at nid: format, xattr icount, mode, nlink, size, i_u.
    let inode = |b: &mut Vec<u8>, nid: usize, format: u16, icount: u16, mode: u16, size: u32| {
        let at = 1536 + nid * 32;
        put16(b, at, format);
        put16(b, at + 2, icount);
        put16(b, at + 4, mode);
        put16(b, at + 6, if mode & 0o170000 == 0o040000 { 2 } else { 1 });
        put32(b, at + 8, size);
        put32(b, at + 20, nid as u32); // i_ino
        at + 32
    };
    // Directory entries (nid, type, name), names sorted, packed after the 12-byte records.
    let dir = |b: &mut Vec<u8>, at: usize, entries: &[(u64, u8, &str)]| -> u32 {
        let mut name_at = entries.len() * 12;
        for (i, (nid, kind, name)) in entries.iter().enumerate() {
            let e = at + i * 12;
            b[e..e + 8].copy_from_slice(&nid.to_le_bytes());
            put16(b, e + 8, name_at as u16);
            b[e + 10] = *kind;
            b[at + name_at..at + name_at + name.len()].copy_from_slice(name.as_bytes());
            name_at += name.len();
        }
        name_at as u32
    };
    const INLINE: u16 = 2 << 1;
    let root: &[(u64, u8, &str)] = &[
        (0, 2, "."),
        (0, 2, ".."),
        (9, 2, "d"),
        (4, 1, "f"),
        (6, 7, "l"),
        (8, 5, "p"),
    ];
    let tail = inode(&mut b, 0, INLINE, 0, 0o40755, 79);
    assert_eq!(dir(&mut b, tail, root), 79);
    // nid 4: "hello", with user.a = "1" inline (header 12 bytes, entry 4 + 1 + 1, padded to 8).
    let xattrs = inode(&mut b, 4, INLINE, 3, 0o100644, 5);
    b[xattrs + 12..xattrs + 18].copy_from_slice(&[1, 1, 1, 0, b'a', b'1']);
    b[xattrs + 20..xattrs + 25].copy_from_slice(b"hello");
    let tail = inode(&mut b, 6, INLINE, 0, 0o120777, 1);
    b[tail] = b'f';
    inode(&mut b, 8, 0, 0, 0o10644, 0);
    let tail = inode(&mut b, 9, INLINE, 0, 0o40755, 27);
    assert_eq!(dir(&mut b, tail, &[(9, 2, "."), (0, 2, "..")]), 27);
    b
}

// Variants of the hand-made image that once crashed or hung the reader under the fuzzer.

/// Byte offset of entry `i` of the hand-made root directory (".", "..", d, f, l, p).
const TINY_ROOT_DIRENT: usize = 1568;

/// The file (nid 4) an extended chunk-based inode of 1 TiB, one hole, with "l" a second name
/// for it: a valid image whose data is nothing but zeros. read_slice once read all of it.
fn tiny_sparse_1tib() -> Vec<u8> {
    let mut b = tiny_512();
    let at = 1536 + 4 * 32;
    b[at..at + 64].fill(0);
    put16(&mut b, at, 1 | 4 << 1); // extended, CHUNK_BASED
    put16(&mut b, at + 4, 0o100644);
    b[at + 8..at + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    put32(&mut b, at + 16, 31); // chunks of 2^(9 + 31) bytes: one
    put32(&mut b, at + 44, 2); // nlink
    put32(&mut b, at + 64, u32::MAX); // its chunk index: a hole (over the old symlink)
    let l = TINY_ROOT_DIRENT + 4 * 12;
    b[l..l + 8].copy_from_slice(&4u64.to_le_bytes());
    b[l + 10] = 1;
    b
}

/// The root's entry "d" with nid 2^59 - 49: its inode would be at byte 2^64 - 32, where adding
/// the inode's 32 bytes overflowed.
fn tiny_nid_at_end_of_u64() -> Vec<u8> {
    let mut b = tiny_512();
    let d = TINY_ROOT_DIRENT + 2 * 12;
    let nid: u64 = ((1u128 << 64) - 32 - 1536) as u64 / 32;
    b[d..d + 8].copy_from_slice(&nid.to_le_bytes());
    b
}

/// 64 KiB where directory "d" (nid 9) is chunk-based with 15,000 chunk indexes that all name
/// the last block, a directory block of 35 names: 500,000 entries from 64 KiB before the
/// walk stopped at the filesystem's size in directory bytes.
fn tiny_shared_dir_blocks() -> Vec<u8> {
    let mut b = tiny_512();
    b.resize(65536, 0);
    put32(&mut b, 1024 + 36, 128); // blocks
    let at = 1536 + 9 * 32;
    let count = 15_000u32;
    put16(&mut b, at, 4 << 1); // compact, CHUNK_BASED
    put32(&mut b, at + 8, count * 512);
    put32(&mut b, at + 16, 0); // one block per chunk, 4-byte block addresses
    for i in 0..count as usize {
        put32(&mut b, at + 32 + 4 * i, 127);
    }
    let block = 127 * 512;
    let mut names: Vec<Vec<u8>> = vec![b".".to_vec(), b"..".to_vec()];
    names.extend((b'A'..=b'Z').chain(b'a'..=b'i').map(|c| vec![c]));
    let mut name_at = names.len() * 12;
    for (i, name) in names.iter().enumerate() {
        let (nid, kind) = match i {
            0 => (9u64, 2),
            1 => (0, 2),
            _ => (8, 5), // the FIFO
        };
        let e = block + i * 12;
        b[e..e + 8].copy_from_slice(&nid.to_le_bytes());
        put16(&mut b, e + 8, name_at as u16);
        b[e + 10] = kind;
        b[block + name_at..block + name_at + name.len()].copy_from_slice(name);
        name_at += name.len();
    }
    assert!(name_at <= 512);
    b
}

/// The tree the imgforge seed holds: files with and without whole blocks, a user xattr, a
/// symlink, a hard link, a FIFO and nesting.
fn imgforge_tree(src: &Path) {
    fs::write(src.join("hello.txt"), b"hello\n").unwrap();
    fs::write(src.join("big.bin"), random_bytes(1, 5000)).unwrap();
    fs::create_dir_all(src.join("Sub/Deeper")).unwrap();
    fs::write(src.join("Sub/inner.txt"), b"inner").unwrap();
    fs::write(src.join("Sub/Deeper/x"), random_bytes(2, 300)).unwrap();
    fs::hard_link(src.join("big.bin"), src.join("Sub/hard")).unwrap();
    symlink("hello.txt", src.join("link")).unwrap();
    assert!(mknod(&src.join("fifo"), libc::S_IFIFO | 0o640, 0));
    assert!(
        set_user_xattr(&src.join("hello.txt"), "user.comment", b"hi"),
        "the temp folder refuses user xattrs"
    );
}

fn imgforge_seed(dir: &Path) -> Vec<u8> {
    let src = dir.join("imgforge-src");
    fs::create_dir(&src).unwrap();
    imgforge_tree(&src);
    let image = dir.join("imgforge.img");
    build(&src, &options(Ownership::Root, Some(1_700_000_000)), &image);
    fs::read(&image).unwrap()
}

/// The tree of the mkfs.erofs seeds: a chunked or compressible file, xattrs two files share.
fn mkfs_tree(src: &Path) {
    fs::write(src.join("a.txt"), b"alpha\n").unwrap();
    fs::write(src.join("b.bin"), random_bytes(3, 9000)).unwrap();
    fs::write(src.join("c.txt"), "all work and no play\n".repeat(500)).unwrap();
    fs::create_dir(src.join("dir")).unwrap();
    fs::write(src.join("dir/d.txt"), b"delta").unwrap();
    symlink("../a.txt", src.join("dir/up")).unwrap();
    for path in ["a.txt", "dir/d.txt"] {
        assert!(set_user_xattr(
            &src.join(path),
            "user.shared",
            b"same value"
        ));
    }
}

fn mkfs_seed(dir: &Path, src: &Path, label: &str, extra: &[&str]) -> Vec<u8> {
    let mkfs = find_tool("mkfs.erofs").expect("mkfs.erofs (erofs-utils)");
    let image = dir.join(format!("{label}.img"));
    let _ = fs::remove_file(&image);
    let mut args = vec![
        "-T1700000000",
        "-Uc5f2a5a2-bf0d-4bbf-a2d4-8c6b0a8f3e11",
        "--all-root",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    args.extend([path_str(&image), path_str(src)]);
    try_run(&mkfs, &args).unwrap();
    fs::read(&image).unwrap()
}

/// Directories nested `levels` deep below the root, each named "d", made by mkfs.erofs.
fn mkfs_deep(dir: &Path, levels: usize) -> Vec<u8> {
    let src = dir.join("deep-src");
    let mut path = src.clone();
    for _ in 0..levels {
        path.push("d");
    }
    fs::create_dir_all(&path).unwrap();
    mkfs_seed(dir, &src, "deep", &[])
}

// ---- the damage: one input per finding code ----

fn damaged(
    imgforge: &Image,
    plain: &Image,
    shared: &Image,
    chunked: &Image,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let mut with = |name: &'static str, seed: &Image, change: &dyn Fn(&Image, &mut Vec<u8>)| {
        let mut bytes = seed.bytes.clone();
        change(seed, &mut bytes);
        if name != "superblock_checksum_wrong" {
            fix_checksum(&mut bytes);
        }
        out.push((name, bytes));
    };
    with("superblock_invalid", imgforge, &|_, b| b[1024 + 12] = 8);
    // mkfs.erofs sets SB_CHKSUM; the byte is a reserved one, so only the checksum tells.
    with("superblock_checksum_wrong", plain, &|_, b| {
        assert_eq!(le32(b, 1024 + 8) & 1, 1, "no superblock checksum");
        b[1024 + 120] ^= 0x5a;
    });
    with("feature_unsupported", imgforge, &|_, b| {
        b[1024 + 80] |= 0x80
    });
    with("feature_unsupported-extra-devices", imgforge, &|_, b| {
        put16(b, 1024 + 86, 1)
    });
    with("inode_invalid", imgforge, &|s, b| {
        let at = s.inode("/hello.txt");
        b[at] |= 0x20; // a reserved i_format bit
    });
    with("inode_invalid-root-not-a-directory", imgforge, &|s, b| {
        let at = s.inode("/");
        put16(b, at + 4, 0o100644);
    });
    with("data_out_of_range", imgforge, &|s, b| {
        let at = s.inode("/big.bin");
        let blocks = le32(b, 1024 + 36);
        put32(b, at + 16, blocks); // raw_blkaddr: its whole block is past the end
    });
    with("data_out_of_range-chunk-indexes", chunked, &|s, b| {
        let at = s.inode("/b.bin");
        assert!(!s.extended(at));
        put32(b, at + 8, u32::MAX); // 4 GiB of 4 KiB chunks: their indexes do not fit
    });
    with("directory_invalid", imgforge, &|s, b| {
        let at = s.dir_data("/");
        put16(b, at + 8, 13); // the first nameoff: not a multiple of 12
    });
    with("directory_unsorted", imgforge, &|s, b| {
        let (_, name) = s.dirent("/", "big.bin");
        b[name] = b'z'; // "zig.bin" before "fifo"
    });
    with("dot_entry_invalid", imgforge, &|s, b| {
        let (dirent, _) = s.dirent("/Sub", "..");
        let sub = s.nid("/Sub");
        b[dirent..dirent + 8].copy_from_slice(&sub.to_le_bytes());
    });
    with("directory_loop", imgforge, &|s, b| {
        let (dirent, _) = s.dirent("/Sub", "Deeper");
        let root = s.nid("/");
        b[dirent..dirent + 8].copy_from_slice(&root.to_le_bytes());
    });
    with("name_invalid", imgforge, &|s, b| {
        let (_, name) = s.dirent("/", "hello.txt");
        b[name + 5] = b'/'; // "hello/txt"
    });
    with("file_type_mismatch", imgforge, &|s, b| {
        let (dirent, _) = s.dirent("/", "hello.txt");
        b[dirent + 10] = 2; // a directory
    });
    with("link_count_wrong", imgforge, &|s, b| {
        let at = s.inode("/hello.txt");
        if s.extended(at) {
            put32(b, at + 44, 3);
        } else {
            b[at] &= !0x10; // "nlink is 1" off, so i_nlink counts
            put16(b, at + 6, 3);
        }
    });
    with("xattr_invalid", imgforge, &|s, b| {
        let at = s.inode("/hello.txt");
        let body = at + s.inode_bytes(at);
        let shared = b[body + 4] as usize;
        b[body + 12 + 4 * shared + 1] = 9; // name index 9 is not defined
    });
    with("xattr_invalid-shared", shared, &|s, b| {
        let at = s.inode("/a.txt");
        let body = at + s.inode_bytes(at);
        assert!(b[body + 4] > 0, "mkfs.erofs -x1 shares no xattr");
        put32(b, body + 12, 0x4000_0000); // a shared xattr id far past the end
    });
    with("partition_truncated", imgforge, &|s, b| {
        let keep = b.len() - s.block();
        b.truncate(keep);
    });
    out
}

#[test]
#[ignore = "rewrites fuzz/corpus/erofs_read/seed-* and corrupt-*; needs mkfs.erofs"]
fn regenerate_seed_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = fuzz_corpus_dir("erofs_read");
    fs::create_dir_all(&corpus).unwrap();
    for old in sorted_files(&corpus) {
        let name = file_name_of(&old);
        if name.starts_with("seed-") || name.starts_with("corrupt-") {
            fs::remove_file(&old).unwrap();
        }
    }
    let src = dir.path().join("mkfs-src");
    fs::create_dir(&src).unwrap();
    mkfs_tree(&src);
    let imgforge = Image {
        bytes: imgforge_seed(dir.path()),
    };
    let plain = Image {
        bytes: mkfs_seed(dir.path(), &src, "plain", &[]),
    };
    let shared = Image {
        bytes: mkfs_seed(dir.path(), &src, "shared", &["-x1"]),
    };
    let chunked = Image {
        bytes: mkfs_seed(dir.path(), &src, "chunked", &["--chunksize=4096"]),
    };
    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        ("seed-tiny-512.img".into(), tiny_512()),
        ("seed-tiny-512-sparse-1tib.img".into(), tiny_sparse_1tib()),
        (
            "corrupt-inode_invalid-nid-at-end-of-u64.img".into(),
            tiny_nid_at_end_of_u64(),
        ),
        (
            "corrupt-directory_invalid-shared-dir-blocks.img".into(),
            tiny_shared_dir_blocks(),
        ),
        ("seed-imgforge.img".into(), imgforge.bytes.clone()),
        ("seed-mkfs-plain.img".into(), plain.bytes.clone()),
        ("seed-mkfs-shared-xattrs.img".into(), shared.bytes.clone()),
        ("seed-mkfs-chunked.img".into(), chunked.bytes.clone()),
        (
            "seed-mkfs-lz4.img".into(),
            mkfs_seed(dir.path(), &src, "lz4", &["-zlz4"]),
        ),
        (
            "corrupt-directory_too_deep.img".into(),
            mkfs_deep(dir.path(), imgforge_erofs::MAX_DEPTH as usize + 1),
        ),
    ];
    inputs.extend(
        damaged(&imgforge, &plain, &shared, &chunked)
            .into_iter()
            .map(|(name, bytes)| (format!("corrupt-{name}.img"), bytes)),
    );
    for (name, bytes) in inputs {
        let codes = codes_of(&bytes);
        eprintln!("{name}: {} bytes, {codes:?}", bytes.len());
        match promised_code(&name) {
            Some(code) => assert!(codes.contains(&code.as_str()), "{name}: {codes:?}"),
            None => assert_eq!(codes, Vec::<&str>::new(), "{name}"),
        }
        fs::write(corpus.join(name), bytes).unwrap();
    }
}
