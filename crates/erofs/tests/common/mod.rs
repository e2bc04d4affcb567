//! Helpers for the EROFS integration tests (the generic ones come from imgforge-testkit):
//! building an image from a source folder through the public API, checking it with
//! erofs-utils (which share no code with this crate), mounting it with the kernel's driver,
//! and comparing two trees entry by entry.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgforge_copy::{write_into_image, CopyEngine, CopyMode, Destination};
use imgforge_erofs::{plan_at, write, FormatOptions, Ownership, Plan, WriteError};
use imgforge_testkit::{find_tool, loop_unavailable, path_str, run_status, try_run};
use imgforge_tree::{scan, Policy, Source, Tree};

pub fn scan_dir(src: &Path) -> Arc<Tree> {
    let sources = [Source {
        source: src.to_path_buf(),
        target: "/".into(),
    }];
    Arc::new(scan(&sources, &Policy::default()).expect("scan"))
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
    let plan = plan_at(scan_dir(src), options, offset).expect("plan");
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
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).expect("lstat");
        let kind = meta.mode() & 0o170000;
        let content = match kind {
            0o100000 => fs::read(&path).expect("read"),
            0o120000 => fs::read_link(&path)
                .unwrap()
                .as_os_str()
                .as_bytes()
                .to_vec(),
            0o020000 | 0o060000 => meta.rdev().to_le_bytes().to_vec(),
            _ => Vec::new(),
        };
        if kind == 0o040000 {
            for child in fs::read_dir(&path).unwrap() {
                stack.push(rel.join(child.unwrap().file_name()));
            }
        }
        out.insert(
            rel,
            Entry {
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                nlink: meta.nlink(),
                content,
                xattrs: xattrs(&path),
                id: (meta.dev(), meta.ino()),
            },
        );
    }
    out
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
