//! Property tests over seeded random trees (a failure prints its seed; IMGFORGE_SEED=N replays
//! one): Unicode names (multi-byte, combining characters, NFC and NFD spellings of one name
//! side by side, emoji and ZWJ sequences, up to 255 bytes), empty files and files of 4095,
//! 4096, 4097 bytes and more, hard links across folders (of files, FIFOs and symlinks),
//! symlinks to nowhere, user. and (as root) trusted. xattrs, varied modes, owners and mtimes
//! (nanoseconds, before the epoch); and one folder of 10,000 entries. Every image must pass
//! fsck.erofs; what `fsck.erofs --extract` writes and, as root, what the kernel mounts must
//! match the sources: bytes, modes, owners (Ownership::Root: 0:0; Source: the sources'),
//! symlink targets, link counts and shared inodes, xattrs and mtimes (timestamp Some(t): every
//! inode has t; None: the sources').

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{is_root, random_bytes, skip, skip_fixture, source_dir, Rng};

/// Pieces names are made of: ASCII, precomposed and combining accents, CJK, Hebrew, emoji
/// (one code point, a ZWJ family, a flag, a keycap with a variation selector).
const PIECES: [&str; 20] = [
    "a",
    "Z",
    "0",
    "-",
    "_",
    " ",
    ".",
    "é",
    "ß",
    "語",
    "深",
    "ש",
    "e\u{301}",
    "\u{301}",
    "\u{308}",
    "🦀",
    "👨\u{200d}👩\u{200d}👧",
    "🇫🇷",
    "1\u{fe0f}\u{20e3}",
    "Ω",
];

const SIZES: [u64; 10] = [0, 0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 12_289];
const FILE_MODES: [u32; 8] = [0o644, 0o600, 0o755, 0o444, 0o4755, 0o2755, 0o640, 0o777];
const DIR_MODES: [u32; 5] = [0o755, 0o700, 0o1777, 0o2775, 0o750];
/// 16-bit ids fit a compact inode; the others need an extended one (u32::MAX is chown's -1).
const IDS: [u32; 6] = [0, 1, 1000, 65_534, 100_000, 4_294_967_294];

/// A name of 1 to 255 bytes that is not yet in `taken`.
fn name(rng: &mut Rng, taken: &mut Vec<String>) -> String {
    loop {
        let bytes = match rng.below(5) {
            0 => 1 + rng.below(6),
            1 => 230 + rng.below(26),
            _ => 1 + rng.below(50),
        };
        let mut name = String::new();
        while (name.len() as u64) < bytes {
            name.push_str(rng.pick(&PIECES));
        }
        while name.len() > 255 {
            name.pop();
        }
        if !name.is_empty() && name != "." && name != ".." && !taken.contains(&name) {
            taken.push(name.clone());
            return name;
        }
    }
}

/// What a random tree has, for hard links and the final checks.
#[derive(Default)]
struct Made {
    /// Directories (with the names in each) and non-directories, in creation order.
    dirs: Vec<(PathBuf, Vec<String>)>,
    leaves: Vec<PathBuf>,
    xattrs: bool,
    xattrs_set: bool,
}

/// Fills `dir` (index `at` in `made.dirs`) with at most `budget` entries in all.
fn fill(at: usize, rng: &mut Rng, depth: u32, made: &mut Made, budget: &mut u32) {
    let entries = match rng.below(6) {
        _ if depth == 0 => 20 + rng.below(40),
        0 => 0,
        1 => 40 + rng.below(80),
        _ => rng.below(25),
    };
    let dir = made.dirs[at].0.clone();
    if rng.chance(1, 4) {
        // One name in its NFC and its NFD spelling: two different names to EROFS.
        for nfx in ["\u{e4}-nf", "a\u{308}-nf"] {
            fs::write(dir.join(nfx), nfx).unwrap();
            made.dirs[at].1.push(nfx.to_string());
            made.leaves.push(dir.join(nfx));
        }
    }
    for _ in 0..entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let path = dir.join(name(rng, &mut made.dirs[at].1));
        let root = is_root();
        match rng.below(20) {
            0..=3 if depth < 5 => {
                fs::create_dir(&path).unwrap();
                made.dirs.push((path.clone(), Vec::new()));
                fill(made.dirs.len() - 1, rng, depth + 1, made, budget);
                fs::set_permissions(&path, mode(rng.pick(&DIR_MODES))).unwrap();
            }
            4..=6 => {
                // To nowhere (relative, absolute, Unicode, long), or now and then to a sibling.
                let target = match rng.below(5) {
                    0 => "/nonexistent/🦀/target".to_string(),
                    1 => "../".repeat(1 + rng.below(8) as usize) + "gone",
                    2 => "x".repeat(1 + rng.below(4000) as usize),
                    3 => made.dirs[at].1[0].clone(),
                    _ => format!("nowhere/{}", name(rng, &mut Vec::new())),
                };
                symlink(target, &path).unwrap();
                made.leaves.push(path.clone());
            }
            7 => {
                assert!(mknod(&path, libc::S_IFIFO | 0o640, 0), "mkfifo {path:?}");
                made.leaves.push(path.clone());
            }
            _ => {
                let size = match rng.below(4) {
                    0 => rng.below(20_000),
                    1 => rng.below(64),
                    _ => rng.pick(&SIZES),
                };
                fs::write(&path, random_bytes(rng.next_u64(), size)).unwrap();
                fs::set_permissions(&path, mode(rng.pick(&FILE_MODES))).unwrap();
                made.leaves.push(path.clone());
            }
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        if root && rng.chance(1, 3) {
            // chown clears setuid and setgid: restore the mode after it.
            let (uid, gid) = (rng.pick(&IDS), rng.pick(&IDS));
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).unwrap();
            if !meta.file_type().is_symlink() {
                fs::set_permissions(&path, meta.permissions()).unwrap();
            }
        }
        let plain = meta.is_file() || meta.is_dir();
        if made.xattrs && plain && rng.chance(1, 5) {
            for k in 0..1 + rng.below(3) {
                let len = rng.pick(&[0, 3, 100, 300, 1200]);
                let value = random_bytes(rng.next_u64(), len);
                let set = set_user_xattr(&path, &format!("user.k{k}-é"), &value);
                // Refused at the first try: the filesystem has no user. xattrs. Later
                // (ENOSPC: ext4 keeps about 4 KiB of them) the source just has fewer.
                made.xattrs &= set || made.xattrs_set;
                made.xattrs_set |= set;
            }
        }
        if root && rng.chance(1, 10) {
            // trusted. xattrs can be on symlinks and FIFOs too (user. ones cannot).
            assert!(set_xattr(
                &path,
                "trusted.t",
                &random_bytes(rng.next_u64(), 40)
            ));
        }
    }
}

fn mode(bits: u32) -> fs::Permissions {
    fs::Permissions::from_mode(bits)
}

/// Links `n` random non-directories into random directories under new names.
fn hard_links(rng: &mut Rng, made: &mut Made, n: usize) {
    for _ in 0..n.min(made.leaves.len()) {
        let from = made.leaves[rng.below(made.leaves.len() as u64) as usize].clone();
        let at = rng.below(made.dirs.len() as u64) as usize;
        let new = name(rng, &mut made.dirs[at].1);
        let to = made.dirs[at].0.join(new);
        fs::hard_link(&from, &to).unwrap();
    }
}

/// Sets a random mtime (before the epoch too, with nanoseconds) on every entry, symlinks
/// themselves included; last, since adding entries changes their directory's mtime. In half
/// the trees the times come from a pool of three, so a most common time (the build time of
/// compact inodes) is shared by many inodes and close to others.
fn random_mtimes(rng: &mut Rng, root: &Path) {
    let pool = rng.chance(1, 2).then(|| {
        // Before the epoch too: the superblock's build time is then negative as well.
        let secs = rng.below(3_000_000_000) as i64 - 1_000_000_000;
        [(secs, 0), (secs, 1 + rng.below(999_999_999)), (secs + 1, 0)]
    });
    for path in walk(root).keys() {
        let c_path = CString::new(root.join(path).as_os_str().as_bytes()).unwrap();
        let (secs, nsec) = match pool {
            Some(pool) => rng.pick(&pool),
            None => (
                rng.below(3_000_000_000) as i64 - 500_000_000,
                rng.below(1_000_000_000),
            ),
        };
        let time = libc::timespec {
            tv_sec: secs as libc::time_t,
            tv_nsec: nsec as libc::c_long,
        };
        // SAFETY: c_path is NUL-terminated; the array holds atime and mtime.
        let done = unsafe {
            libc::utimensat(
                libc::AT_FDCWD,
                c_path.as_ptr(),
                [time, time].as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        assert_eq!(done, 0, "utimensat {}", path.display());
    }
}

/// Prints the seed when the test fails (panics) while it is alive.
struct Seed(String);

impl Drop for Seed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("FAILED: {}", self.0);
        }
    }
}

/// The seeds to run: 1..=count, or only IMGFORGE_SEED.
fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("IMGFORGE_SEED") {
        Ok(seed) => vec![seed.parse().expect("IMGFORGE_SEED is a number")],
        Err(_) => (1..=count).collect(),
    }
}

/// The four combinations of owners and times, one per seed in turn.
fn settings(seed: u64) -> (Ownership, Option<i64>) {
    match seed % 4 {
        0 => (Ownership::Source, None),
        1 => (Ownership::Root, Some(1_234_567_890)),
        2 => (Ownership::Root, None),
        _ => (Ownership::Source, Some(0)),
    }
}

/// Builds `src` as EROFS and checks it: fsck.erofs, its extraction, and the kernel's mount.
/// Returns the walk of the sources.
fn check(
    context: &str,
    tmp: &Path,
    src: &Path,
    ownership: Ownership,
    timestamp: Option<i64>,
) -> BTreeMap<PathBuf, Entry> {
    let image = tmp.join("fs.erofs");
    let plan = build(src, &options(ownership, timestamp), &image);
    let source = walk(src);
    eprintln!(
        "{context}: {} entries, {} inodes, {} bytes",
        source.len(),
        plan.inode_count(),
        plan.size()
    );
    verify_clean(context, &plan, &image);
    if let Some(fsck) = fsck_erofs() {
        let out = tmp.join("extracted");
        fsck_ok(&fsck, &[&format!("--extract={}", out.display())], &image);
        compare_extracted(context, &source, &walk(&out), ownership);
        fs::remove_dir_all(&out).unwrap();
    }
    match ErofsMount::new(&image) {
        Ok(mount) => {
            let mounted = walk(mount.path());
            compare(context, &source, &mounted, Some(ownership), Some(timestamp));
        }
        Err(reason) => skip_fixture(&reason),
    }
    source
}

/// How many entries of each kind the property is about the trees held, so a generator that
/// stops making one shows up.
#[derive(Debug, Default)]
struct Coverage {
    multibyte_names: usize,
    combining_names: usize,
    emoji_names: usize,
    long_names: usize,
    empty_files: usize,
    files_4096: usize,
    files_4097: usize,
    hard_linked: usize,
    dangling_symlinks: usize,
    with_xattrs: usize,
    big_ids: usize,
}

impl Coverage {
    fn add(&mut self, src: &Path, walk: &BTreeMap<PathBuf, Entry>) {
        for (path, entry) in walk {
            let name = path.file_name().map_or("".into(), |n| n.to_string_lossy());
            let chars = |f: fn(char) -> bool| usize::from(name.chars().any(f));
            self.multibyte_names += chars(|c| c.len_utf8() > 1);
            self.combining_names += chars(|c| ('\u{300}'..='\u{36f}').contains(&c));
            self.emoji_names += chars(|c| c >= '\u{1f000}');
            self.long_names += usize::from(name.len() > 230);
            let file = entry.mode & 0o170000 == 0o100000;
            self.empty_files += usize::from(file && entry.content.is_empty());
            self.files_4096 += usize::from(file && entry.content.len() == 4096);
            self.files_4097 += usize::from(file && entry.content.len() == 4097);
            self.hard_linked += usize::from(entry.mode & 0o170000 != 0o040000 && entry.nlink > 1);
            let symlink = entry.mode & 0o170000 == 0o120000;
            self.dangling_symlinks += usize::from(symlink && fs::metadata(src.join(path)).is_err());
            self.with_xattrs += usize::from(!entry.xattrs.is_empty());
            self.big_ids += usize::from(entry.uid > 65_535 || entry.gid > 65_535);
        }
    }
}

/// What erofs-utils 1.5's extraction keeps: names, kinds, contents, modes (but it chowns
/// after chmod, which drops setuid and setgid from files) and, as root, owners. It writes no
/// xattrs or times, and each hard link as a separate copy.
fn compare_extracted(
    context: &str,
    source: &BTreeMap<PathBuf, Entry>,
    extracted: &BTreeMap<PathBuf, Entry>,
    ownership: Ownership,
) {
    let paths = |walk: &BTreeMap<PathBuf, Entry>| walk.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        paths(source),
        paths(extracted),
        "{context}: extracted entries"
    );
    for (path, want) in source {
        let got = &extracted[path];
        let at = format!("{context}: extracted {}", path.display());
        let mode = |e: &Entry| match e.mode & 0o170000 {
            0o100000 => e.mode & !0o6000,
            _ => e.mode,
        };
        assert_eq!(mode(got), mode(want), "{at}: mode");
        assert!(got.content == want.content, "{at}: content differs");
        if is_root() {
            let owner = match ownership {
                Ownership::Root => (0, 0),
                Ownership::Source => (want.uid, want.gid),
            };
            assert_eq!((got.uid, got.gid), owner, "{at}: owner");
        }
    }
}

#[test]
fn random_unicode_trees_with_links_and_xattrs_read_back() {
    let mut coverage = Coverage::default();
    for seed in seeds(24) {
        let (ownership, timestamp) = settings(seed);
        let context = format!("seed {seed} ({ownership:?}, timestamp {timestamp:?})");
        let _seed = Seed(format!("{context}; replay with IMGFORGE_SEED={seed}"));
        let (tmp, src) = source_dir();
        let rng = &mut Rng::new(seed);
        let mut made = Made {
            dirs: vec![(src.clone(), Vec::new())],
            xattrs: true,
            ..Made::default()
        };
        // The root's first name is a file: the target of the symlinks "to a sibling".
        fs::write(src.join("first"), b"first").unwrap();
        made.dirs[0].1.push("first".into());
        fill(0, rng, 0, &mut made, &mut 700);
        let links = 1 + rng.below(20) as usize;
        hard_links(rng, &mut made, links);
        if !made.xattrs && seed == 1 {
            skip("this filesystem refuses user. xattrs; the trees have none");
        }
        random_mtimes(rng, &src);
        let source = check(&context, tmp.path(), &src, ownership, timestamp);
        coverage.add(&src, &source);
    }
    eprintln!("{coverage:?}");
    if std::env::var_os("IMGFORGE_SEED").is_some() {
        return; // One tree need not have everything.
    }
    let c = &coverage;
    for (what, n) in [
        ("multi-byte names", c.multibyte_names),
        ("names with combining characters", c.combining_names),
        ("emoji names", c.emoji_names),
        ("names over 230 bytes", c.long_names),
        ("empty files", c.empty_files),
        ("4096-byte files", c.files_4096),
        ("4097-byte files", c.files_4097),
        ("hard links", c.hard_linked),
        ("dangling symlinks", c.dangling_symlinks),
    ] {
        assert!(n >= 5, "the trees had only {n} {what}");
    }
    if is_root() {
        assert!(c.with_xattrs >= 5 && c.big_ids >= 5, "{coverage:?}");
    }
}

#[test]
fn a_folder_of_10000_entries_reads_back() {
    const ENTRIES: usize = 10_000;
    let (tmp, src) = source_dir();
    let rng = &mut Rng::new(10_000);
    let big = src.join("big-📁");
    fs::create_dir(&big).unwrap();
    fs::create_dir(src.join("elsewhere")).unwrap();
    let mut taken = Vec::new();
    for i in 0..ENTRIES {
        // Distinct by the index in front, then 0 to ~200 bytes of random Unicode.
        let mut name = format!("{i:05}-");
        while name.len() < 6 + rng.below(200) as usize {
            name.push_str(rng.pick(&PIECES));
        }
        while name.len() > 255 {
            name.pop();
        }
        taken.push(name.clone());
        let path = big.join(&name);
        match i % 10 {
            0 => fs::create_dir(&path).unwrap(),
            1 => symlink(format!("../nowhere/{name}"), &path).unwrap(),
            2 => {
                fs::write(&path, random_bytes(i as u64, rng.pick(&SIZES))).unwrap();
                fs::hard_link(&path, src.join("elsewhere").join(&name)).unwrap();
            }
            _ => fs::write(&path, random_bytes(i as u64, rng.below(100))).unwrap(),
        }
    }
    assert!(set_user_xattr(&big, "user.many", b"10000") || !is_root());
    random_mtimes(rng, &src);
    check("10,000 entries", tmp.path(), &src, Ownership::Source, None);
    assert_eq!(fs::read_dir(&big).unwrap().count(), ENTRIES);
}
