//! A scanned ext4 or squashfs source tree as a flat list (`ToolTree.entries()`), so that `verify`
//! compares the image, read back with debugfs or unsquashfs, with the tree the build staged.
//! Values are converted here; the resolution (merging, targets, hard links, symlinks kept)
//! lives in the crates.

use imgforge_tree::{Node, SpecialKind};
use napi_derive::napi;

/// One entry of a resolved source tree.
#[napi(object)]
pub struct SourceEntry {
    /// The path in the filesystem, "/etc/hostname" ("/" for the root).
    pub path: String,
    #[napi(
        ts_type = "'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket'"
    )]
    pub kind: String,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    /// The source's owner (the spec's `ownership` decides whether it counts).
    pub uid: u32,
    pub gid: u32,
    /// A regular file's size as scanned; 0 for others.
    pub size: f64,
    /// The source file or directory; absent for a directory made only to hold targets.
    pub source: Option<String>,
    /// A symlink's target (bytes that are not UTF-8 shown as U+FFFD).
    pub target: Option<String>,
    /// Equal on the names of one source inode (hard links); absent for single names.
    pub link: Option<u32>,
}

fn special_name(kind: SpecialKind) -> &'static str {
    match kind {
        SpecialKind::Fifo => "fifo",
        SpecialKind::Socket => "socket",
        SpecialKind::CharDevice => "char-device",
        SpecialKind::BlockDevice => "block-device",
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Lists a scanned tree (for `ToolTree.entries()`): the root first, then each
/// directory's entries, a directory's contents after it.
pub(crate) fn entries(tree: &imgforge_tree::Tree) -> Vec<SourceEntry> {
    let entry = |path: String, kind: &str, meta: &imgforge_tree::Meta| SourceEntry {
        path,
        kind: kind.to_string(),
        mode: meta.mode & 0o7777,
        uid: meta.uid,
        gid: meta.gid,
        size: 0.0,
        source: None,
        target: None,
        link: None,
    };
    let mut out = vec![SourceEntry {
        source: tree.root.source.as_ref().map(|s| s.display().to_string()),
        ..entry("/".to_string(), "directory", &tree.root.meta)
    }];
    let mut pending: Vec<(String, &imgforge_tree::Dir)> = vec![("/".to_string(), &tree.root)];
    while let Some((path, dir)) = pending.pop() {
        for node in &dir.entries {
            let here = join(&path, node.name());
            out.push(match node {
                Node::Dir(child) => {
                    pending.push((here.clone(), child));
                    SourceEntry {
                        source: child.source.as_ref().map(|s| s.display().to_string()),
                        ..entry(here, "directory", &child.meta)
                    }
                }
                Node::File(file) => SourceEntry {
                    size: file.size as f64,
                    source: Some(file.source.display().to_string()),
                    link: file.link.map(|l| l.0),
                    ..entry(here, "file", &file.meta)
                },
                Node::Symlink(link) => SourceEntry {
                    source: Some(link.source.display().to_string()),
                    target: Some(link.target.to_string_lossy().into_owned()),
                    link: link.link.map(|l| l.0),
                    ..entry(here, "symlink", &link.meta)
                },
                Node::Special(special) => SourceEntry {
                    source: Some(special.source.display().to_string()),
                    link: special.link.map(|l| l.0),
                    ..entry(here, special_name(special.kind), &special.meta)
                },
            });
        }
    }
    out
}
