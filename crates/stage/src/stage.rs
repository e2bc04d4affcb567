//! Putting a scanned tree down as one folder for a tool to read, without copying file data.
//!
//! Regular files, symlinks and special files are hard links to their sources where the kernel
//! allows it (same filesystem, and fs.protected_hardlinks satisfied): the tool then reads the
//! source's own inode, with its mode, owner and times. Elsewhere a regular file is a reflink
//! (FICLONE) or, last, a copy, and a symlink or special file is made anew. Folders are always
//! made anew. Nodes made anew are owned by whoever runs imgforge: [`Staged::created`] lists
//! them with the owner they should have, for the tool's ownership fix-up.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use imgforge_tree::{Dir, LinkId, Meta, Node, SpecialKind, Tree};

/// A node staged as a new inode, with the owner the filesystem should give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its path in the filesystem ("/" for the root).
    pub path: String,
    pub uid: u32,
    pub gid: u32,
}

/// What staging did: how each non-directory got there, and the nodes made anew.
#[derive(Debug, Default, Clone)]
pub struct Staged {
    pub linked: u64,
    pub reflinked: u64,
    pub copied: u64,
    pub created: Vec<Created>,
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))
}

/// linkat(2): `follow` links what a symlink `from` points to, else the symlink itself.
fn hard_link(from: &Path, to: &Path, follow: bool) -> io::Result<()> {
    let (from, to) = (cstring(from)?, cstring(to)?);
    let flags = if follow { libc::AT_SYMLINK_FOLLOW } else { 0 };
    // SAFETY: both are valid NUL-terminated paths.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets a staged node's mtime (and atime) to the source's, not following a symlink.
fn set_times(path: &Path, meta: &Meta) -> io::Result<()> {
    let path = cstring(path)?;
    let time = libc::timespec {
        tv_sec: meta.mtime as libc::time_t,
        tv_nsec: meta.mtime_nsec as libc::c_long,
    };
    let times = [time, time];
    // SAFETY: a valid path and two timespecs.
    let rc = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            path.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// FICLONE: `to` shares `from`'s blocks (XFS, btrfs); an error where the filesystem cannot.
fn reflink(from: &Path, to: &Path) -> io::Result<()> {
    let source = fs::File::open(from)?;
    let target = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    // FICLONE is _IOW(0x94, 9, int).
    const FICLONE: libc::c_ulong = 0x4004_9409;
    use std::os::fd::AsRawFd;
    // SAFETY: two open file descriptors.
    let rc = unsafe { libc::ioctl(target.as_raw_fd(), FICLONE as _, source.as_raw_fd()) };
    if rc == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    drop(target);
    let _ = fs::remove_file(to);
    Err(error)
}

fn mknod(path: &Path, kind: SpecialKind, mode: u32, rdev: u64) -> io::Result<()> {
    let type_bits = match kind {
        SpecialKind::Fifo => libc::S_IFIFO,
        SpecialKind::CharDevice => libc::S_IFCHR,
        SpecialKind::BlockDevice => libc::S_IFBLK,
        SpecialKind::Socket => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a socket can only be hard-linked, and that failed",
            ))
        }
    };
    let c = cstring(path)?;
    // SAFETY: a valid path.
    let rc = unsafe { libc::mknod(c.as_ptr(), type_bits | (mode & 0o7777), rdev as libc::dev_t) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

struct Stager {
    /// The first staged path of each hard-linked inode.
    links: HashMap<LinkId, PathBuf>,
    staged: Staged,
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl Stager {
    fn created(&mut self, path: &str, meta: &Meta) {
        self.staged.created.push(Created {
            path: path.to_string(),
            uid: meta.uid,
            gid: meta.gid,
        });
    }

    /// A node made anew: its permission bits and times as the source's.
    fn finish_new(&mut self, at: &Path, path: &str, meta: &Meta, symlink: bool) -> io::Result<()> {
        if !symlink {
            fs::set_permissions(at, fs::Permissions::from_mode(meta.mode & 0o7777))?;
        }
        set_times(at, meta)?;
        self.created(path, meta);
        Ok(())
    }

    fn leaf(&mut self, node: &Node, at: &Path, path: &str) -> Result<(), String> {
        let (link, source) = match node {
            Node::File(f) => (f.link, &f.source),
            Node::Symlink(s) => (s.link, &s.source),
            Node::Special(s) => (s.link, &s.source),
            Node::Dir(_) => unreachable!("directories are staged by stage_dir"),
        };
        let fail = |what: &str, e: io::Error| {
            format!(
                "{path} (from {}): cannot stage it ({what}): {e}",
                source.display()
            )
        };
        if let Some(id) = link {
            if let Some(first) = self.links.get(&id) {
                hard_link(first, at, false).map_err(|e| fail("a hard link of the tree", e))?;
                return Ok(());
            }
            self.links.insert(id, at.to_path_buf());
        }
        let follow = matches!(node, Node::File(_));
        if hard_link(source, at, follow).is_ok() {
            self.staged.linked += 1;
            return Ok(());
        }
        match node {
            Node::File(f) => {
                if reflink(&f.source, at).is_ok() {
                    self.staged.reflinked += 1;
                } else {
                    fs::copy(&f.source, at).map_err(|e| fail("copy", e))?;
                    self.staged.copied += 1;
                }
                self.finish_new(at, path, &f.meta, false)
                    .map_err(|e| fail("metadata", e))
            }
            Node::Symlink(s) => {
                std::os::unix::fs::symlink(&s.target, at).map_err(|e| fail("symlink", e))?;
                self.finish_new(at, path, &s.meta, true)
                    .map_err(|e| fail("metadata", e))
            }
            Node::Special(s) => {
                mknod(at, s.kind, s.meta.mode, s.rdev).map_err(|e| fail("mknod", e))?;
                self.finish_new(at, path, &s.meta, false)
                    .map_err(|e| fail("metadata", e))
            }
            Node::Dir(_) => unreachable!(),
        }
    }

    /// Stages `dir`'s entries into the existing folder `at`, then gives `at` its mode and times
    /// (last: adding entries changes a folder's mtime, and a read-only mode would refuse them).
    fn dir(&mut self, dir: &Dir, at: &Path, path: &str) -> Result<(), String> {
        for node in &dir.entries {
            let child_at = at.join(node.name());
            let child = child_path(path, node.name());
            match node {
                Node::Dir(sub) => {
                    fs::create_dir(&child_at).map_err(|e| {
                        format!(
                            "{child}: cannot create its staging folder {}: {e}",
                            child_at.display()
                        )
                    })?;
                    self.dir(sub, &child_at, &child)?;
                }
                leaf => self.leaf(leaf, &child_at, &child)?,
            }
        }
        self.finish_new(at, path, &dir.meta, false)
            .map_err(|e| format!("{path}: cannot set its staging folder's metadata: {e}"))
    }
}

/// Stages `tree` into `root`, an empty folder that becomes the filesystem's root. On an error
/// the caller removes `root` (and what was staged in it).
pub fn stage(tree: &Tree, root: &Path) -> Result<Staged, String> {
    let mut stager = Stager {
        links: HashMap::new(),
        staged: Staged::default(),
    };
    stager.dir(&tree.root, root, "/")?;
    Ok(stager.staged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn stages_files_as_hard_links_and_merges_sources_at_their_targets() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir_all(a.join("etc")).unwrap();
        std::fs::write(a.join("etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
        std::fs::hard_link(a.join("etc/hosts"), a.join("etc/hosts2")).unwrap();
        std::os::unix::fs::symlink("hosts", a.join("etc/link")).unwrap();
        std::fs::set_permissions(a.join("etc"), fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::write(dir.path().join("motd"), b"hello\n").unwrap();
        let sources = [
            imgforge_tree::Source {
                source: a.clone(),
                target: "/".into(),
            },
            imgforge_tree::Source {
                source: dir.path().join("motd"),
                target: "/etc/motd".into(),
            },
        ];
        let tree = crate::scan(&sources, crate::Kind::Ext4).unwrap();
        let root = dir.path().join("stage");
        std::fs::create_dir(&root).unwrap();
        let staged = stage(&tree, &root).unwrap();
        // hosts, hosts2 (the tree's own link: one source link), link, motd.
        assert_eq!(staged.linked, 3);
        let hosts = std::fs::metadata(root.join("etc/hosts")).unwrap();
        assert_eq!(
            hosts.ino(),
            std::fs::metadata(a.join("etc/hosts")).unwrap().ino()
        );
        assert_eq!(
            hosts.ino(),
            std::fs::metadata(root.join("etc/hosts2")).unwrap().ino()
        );
        assert_eq!(
            std::fs::read_link(root.join("etc/link")).unwrap(),
            PathBuf::from("hosts")
        );
        assert_eq!(std::fs::read(root.join("etc/motd")).unwrap(), b"hello\n");
        let etc = std::fs::metadata(root.join("etc")).unwrap();
        assert_eq!(etc.mode() & 0o7777, 0o750);
        assert_eq!(
            etc.mtime(),
            std::fs::metadata(a.join("etc"))
                .unwrap()
                .mtime()
                .max(tree_mtime(&tree, "etc"))
        );
        let paths: Vec<_> = staged.created.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/etc", "/"]);
    }

    fn tree_mtime(tree: &Tree, name: &str) -> i64 {
        tree.root
            .entries
            .iter()
            .find(|n| n.name() == name)
            .unwrap()
            .meta()
            .mtime
    }
}
