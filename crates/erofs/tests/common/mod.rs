//! Helpers for the EROFS integration tests (the generic ones come from imgforge-testkit):
//! building an image from a source folder through the public API, checking it with
//! erofs-utils (which share no code with this crate), mounting it with the kernel's driver,
//! and comparing two trees entry by entry.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgforge_copy::{write_into_image, CopyEngine, CopyMode, Destination};
use imgforge_erofs::{plan_at, write, FormatOptions, Ownership, Plan, WriteError};
use imgforge_testkit::{find_tool, loop_unavailable, path_str, run_status, try_run};
use imgforge_tree::{Source, Tree};

/// `src` scanned as the product scans an EROFS filesystem's sources (imgforge_erofs::scan).
pub fn scan_dir(src: &Path) -> Arc<Tree> {
    let sources = [Source {
        source: src.to_path_buf(),
        target: "/".into(),
    }];
    Arc::new(imgforge_erofs::scan(&sources).expect("scan"))
}

pub fn options(ownership: Ownership, timestamp: Option<i64>) -> FormatOptions {
    FormatOptions {
        uuid: *b"imgforge-erofs-t",
        label: Some("test".into()),
        ownership,
        timestamp,
    }
}

/// Plans `src` and writes it into a fresh sparse `image` at `offset`; returns the plan.
pub fn build_at(src: &Path, options: &FormatOptions, image: &Path, offset: u64) -> Plan {
    build_tree_at(scan_dir(src), options, image, offset)
}

/// Plans a scanned `tree` and writes it into a fresh sparse `image` at `offset`.
pub fn build_tree_at(tree: Arc<Tree>, options: &FormatOptions, image: &Path, offset: u64) -> Plan {
    let plan = plan_at(tree, options, offset).expect("plan");
    let file = File::create(image).expect("create image");
    file.set_len(offset + plan.size()).expect("size image");
    write_plan(&plan, image, Destination::Zeroed).expect("write");
    plan
}

/// Writes `plan` into the existing file `image` (not truncated).
pub fn write_plan(plan: &Plan, image: &Path, state: Destination) -> Result<(), WriteError> {
    write_into_image(image, state, |target| {
        write(
            plan,
            target,
            &mut CopyEngine::new(CopyMode::Auto),
            &mut |_| true,
        )
    })
}

pub fn build(src: &Path, options: &FormatOptions, image: &Path) -> Plan {
    build_at(src, options, image, 0)
}

/// fsck.erofs, or None (after saying why) when it is missing.
pub fn fsck_erofs() -> Option<PathBuf> {
    let tool = find_tool("fsck.erofs");
    if tool.is_none() {
        imgforge_testkit::skip(
            "fsck.erofs is missing (scripts/install-system-deps.sh installs erofs-utils)",
        );
    }
    tool
}

/// Runs fsck.erofs with `args` and the image; fails the test unless it exits 0.
pub fn fsck_ok(tool: &Path, args: &[&str], image: &Path) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.push(path_str(image));
    let (ok, out, err) = run_status(tool, &all);
    assert!(ok, "fsck.erofs {all:?} failed:\n{out}{err}");
    format!("{out}{err}")
}

/// The image mounted read-only by the kernel's EROFS driver; unmounted on drop.
pub struct ErofsMount {
    pub dir: tempfile::TempDir,
}

impl ErofsMount {
    pub fn new(image: &Path) -> Result<Self, String> {
        Self::at(image, 0)
    }

    /// The filesystem at byte `offset` of `image` (a partition).
    pub fn at(image: &Path, offset: u64) -> Result<Self, String> {
        if let Some(reason) = loop_unavailable() {
            return Err(reason);
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let options = format!("loop,ro,offset={offset}");
        let args = [
            "-t",
            "erofs",
            "-o",
            &options,
            path_str(image),
            path_str(dir.path()),
        ];
        try_run("mount", &args)?;
        Ok(ErofsMount { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ErofsMount {
    fn drop(&mut self) {
        if let Err(error) = try_run("umount", &[path_str(self.dir.path())]) {
            eprintln!("cleanup: {error}");
        }
    }
}

/// What a comparison looks at for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, i64),
    pub nlink: u64,
    /// File bytes, symlink target, or device number.
    pub content: Vec<u8>,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// (dev, ino), to find hard links.
    pub id: (u64, u64),
}

/// Every entry below `root` (relative paths; "" is the root), with its metadata.
pub fn walk(root: &Path) -> BTreeMap<PathBuf, Entry> {
    walk_tree(root, true)
}

/// Like [`walk`]; with `keep_bytes` false a regular file's content is only its size (as 8
/// little-endian bytes), for trees too big to hold in memory: compare their bytes with
/// [`same_bytes`]. Entries are reached through their directory's descriptor
/// (/proc/self/fd/N/name), so paths longer than PATH_MAX (4096 bytes) are walked too.
pub fn walk_tree(root: &Path, keep_bytes: bool) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let top = entry(root, keep_bytes);
    let is_dir = top.mode & 0o170000 == 0o040000;
    out.insert(PathBuf::new(), top);
    if is_dir {
        let dir = File::open(root).unwrap_or_else(|e| panic!("open {}: {e}", root.display()));
        walk_dir(&dir, &PathBuf::new(), keep_bytes, &mut out);
    }
    out
}

/// Adds the entries below the open directory `dir` (at `rel`), depth first.
fn walk_dir(dir: &File, rel: &Path, keep_bytes: bool, out: &mut BTreeMap<PathBuf, Entry>) {
    use std::os::fd::AsRawFd;
    let fd_path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    let mut names: Vec<_> = fs::read_dir(&fd_path)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", rel.display()))
        .map(|child| child.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let path = fd_path.join(&name);
        let child = entry(&path, keep_bytes);
        let is_dir = child.mode & 0o170000 == 0o040000;
        out.insert(rel.join(&name), child);
        if is_dir {
            let sub = File::open(&path).unwrap_or_else(|e| panic!("open {name:?}: {e}"));
            walk_dir(&sub, &rel.join(&name), keep_bytes, out);
        }
    }
}

/// One entry's metadata (not following a symlink at `path`).
fn entry(path: &Path, keep_bytes: bool) -> Entry {
    let meta = fs::symlink_metadata(path).unwrap_or_else(|e| panic!("lstat {path:?}: {e}"));
    let kind = meta.mode() & 0o170000;
    let content = match kind {
        0o100000 if keep_bytes => fs::read(path).expect("read"),
        0o100000 => meta.len().to_le_bytes().to_vec(),
        0o120000 => fs::read_link(path).unwrap().as_os_str().as_bytes().to_vec(),
        0o020000 | 0o060000 => meta.rdev().to_le_bytes().to_vec(),
        _ => Vec::new(),
    };
    Entry {
        mode: meta.mode(),
        uid: meta.uid(),
        gid: meta.gid(),
        mtime: (meta.mtime(), meta.mtime_nsec()),
        nlink: meta.nlink(),
        content,
        xattrs: xattrs(path),
        id: (meta.dev(), meta.ino()),
    }
}

/// Whether two files hold the same bytes, read a MiB at a time (for trees too big to hold).
pub fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let open = |p: &Path| File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
    let (mut a, mut b) = (open(a), open(b));
    let (mut buf_a, mut buf_b) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut a, &mut buf_a);
        if n != read_full(&mut b, &mut buf_b) || buf_a[..n] != buf_b[..n] {
            return false;
        }
        if n == 0 {
            return true;
        }
    }

    fn read_full(file: &mut File, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match file.read(&mut buf[n..]).expect("read") {
                0 => break,
                k => n += k,
            }
        }
        n
    }
}

/// Compares two walks: same paths, kinds, modes, contents, xattrs, link counts; owners as
/// `ownership` says (Root: 0:0; Source: the source's; None: not compared) and mtimes as
/// `timestamp` says (Some(Some(t)): every entry has t; Some(None): the source's; None: not
/// compared); names that share an inode in one share it in the other. `context` (a seed, a
/// tree's name) starts every failure message.
pub fn compare(
    context: &str,
    source: &BTreeMap<PathBuf, Entry>,
    image: &BTreeMap<PathBuf, Entry>,
    ownership: Option<Ownership>,
    timestamp: Option<Option<i64>>,
) {
    let missing: Vec<_> = source.keys().filter(|p| !image.contains_key(*p)).collect();
    let extra: Vec<_> = image.keys().filter(|p| !source.contains_key(*p)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{context}: not the same entries: missing {missing:?}, extra {extra:?}"
    );
    for (path, want) in source {
        let got = &image[path];
        let at = format!("{context}: {}", path.display());
        assert_eq!(got.mode, want.mode, "{at}: mode");
        assert!(got.content == want.content, "{at}: content differs");
        assert_eq!(got.xattrs, want.xattrs, "{at}: xattrs");
        match ownership {
            Some(Ownership::Root) => assert_eq!((got.uid, got.gid), (0, 0), "{at}: owner"),
            Some(Ownership::Source) => {
                assert_eq!((got.uid, got.gid), (want.uid, want.gid), "{at}: owner")
            }
            None => {}
        }
        match timestamp {
            Some(Some(t)) => assert_eq!(got.mtime, (t, 0), "{at}: mtime"),
            Some(None) => assert_eq!(got.mtime, want.mtime, "{at}: mtime"),
            None => {}
        }
        assert_eq!(got.nlink, want.nlink, "{at}: nlink");
    }
    assert_eq!(
        link_groups(source),
        link_groups(image),
        "{context}: hard links"
    );
}

/// Paths grouped by inode, for non-directories with several names.
pub fn link_groups(walk: &BTreeMap<PathBuf, Entry>) -> Vec<Vec<PathBuf>> {
    let mut groups: HashMap<(u64, u64), Vec<PathBuf>> = HashMap::new();
    for (path, entry) in walk.iter().filter(|(_, e)| e.mode & 0o170000 != 0o040000) {
        groups.entry(entry.id).or_default().push(path.clone());
    }
    let mut shared: Vec<Vec<PathBuf>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for group in &mut shared {
        group.sort();
    }
    shared.sort();
    shared
}

/// The extended attributes of `path` itself (not following symlinks), sorted.
pub fn xattrs(path: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut names = vec![0u8; 65536];
    // SAFETY: c_path is NUL-terminated and the buffer holds names.len() bytes.
    let n = unsafe { libc::llistxattr(c_path.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for name in names[..n as usize]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
    {
        let c_name = CString::new(name).unwrap();
        let mut value = vec![0u8; 65536];
        // SAFETY: both strings are NUL-terminated; the buffer holds value.len() bytes.
        let len = unsafe {
            libc::lgetxattr(
                c_path.as_ptr(),
                c_name.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        assert!(len >= 0, "lgetxattr {}", path.display());
        value.truncate(len as usize);
        out.push((name.to_vec(), value));
    }
    out.sort();
    out
}

/// Sets a `user.` xattr; false where the filesystem refuses them (tmpfs without user xattrs).
pub fn set_user_xattr(path: &Path, name: &str, value: &[u8]) -> bool {
    set_xattr(path, name, value)
}

/// Sets an xattr on `path` itself; false when refused.
pub fn set_xattr(path: &Path, name: &str, value: &[u8]) -> bool {
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let c_name = CString::new(name).unwrap();
    // SAFETY: both strings are NUL-terminated; value is a valid slice.
    unsafe {
        libc::lsetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

/// mknod as root: a FIFO always, a character device when allowed.
pub fn mknod(path: &Path, mode: u32, dev: u64) -> bool {
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: c_path is NUL-terminated.
    unsafe { libc::mknod(c_path.as_ptr(), mode, dev as libc::dev_t) == 0 }
}

/// imgforge's own reader on `image`: no findings, and `verify` against `plan` (tree, metadata,
/// hard links, xattrs, every file's bytes) finds no difference.
pub fn verify_clean(context: &str, plan: &Plan, image: &Path) {
    let len = fs::metadata(image).expect("image").len();
    let file = File::open(image).expect("open image");
    let differences =
        imgforge_erofs::verify_partition(plan, file, 0, len, imgforge_erofs::UuidCheck::Compare)
            .expect("read image");
    assert!(differences.is_empty(), "{context}: {differences:#?}");
}
