//! The tree as a list of inodes: the root first, then every directory's entries together
//! before the entries of its subdirectories (in tree order, which is sorted, so the numbering
//! does not depend on readdir order). Hard links (one `LinkId`) become one inode.

use std::collections::HashMap;
use std::path::PathBuf;

use imgforge_tree::{Dir, LinkId, Meta, Node, Tree};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir {
        /// The parent directory's inode; the root is its own parent.
        parent: usize,
        /// (name, inode) of every entry but "." and "..", sorted by name bytes.
        entries: Vec<(String, usize)>,
    },
    File {
        source: PathBuf,
        size: u64,
    },
    Symlink {
        target: Vec<u8>,
    },
    Special {
        rdev: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inode {
    /// The path inside the filesystem of its first link ("/" for the root).
    pub(crate) path: String,
    /// The source it was read from (None for a directory made only to hold targets).
    pub(crate) source: Option<PathBuf>,
    pub(crate) meta: Meta,
    /// Directories: 2 + subdirectories; others: links in the image.
    pub(crate) nlink: u32,
    pub(crate) kind: Kind,
}

/// The inodes of `tree`, root first. Walks with a queue, not recursion, so a deep tree cannot
/// overflow the stack.
pub(crate) fn flatten(tree: &Tree) -> Vec<Inode> {
    let mut inodes = vec![dir_inode("/".to_string(), &tree.root, 0)];
    let mut links: HashMap<LinkId, usize> = HashMap::new();
    let mut pending: Vec<(usize, &Dir)> = vec![(0, &tree.root)];
    let mut next = 0;
    while next < pending.len() {
        let (index, dir) = pending[next];
        next += 1;
        let mut entries = Vec::with_capacity(dir.entries.len());
        let mut subdirs = 0u32;
        for node in &dir.entries {
            let path = child_path(&inodes[index].path, node.name());
            let child = match node {
                Node::Dir(sub) => {
                    subdirs += 1;
                    inodes.push(dir_inode(path, sub, index));
                    pending.push((inodes.len() - 1, sub));
                    inodes.len() - 1
                }
                Node::File(file) => add_linked(&mut inodes, &mut links, file.link, || Inode {
                    path,
                    source: Some(file.source.clone()),
                    meta: file.meta.clone(),
                    nlink: 1,
                    kind: Kind::File {
                        source: file.source.clone(),
                        size: file.size,
                    },
                }),
                Node::Symlink(link) => add_linked(&mut inodes, &mut links, link.link, || Inode {
                    path,
                    source: Some(link.source.clone()),
                    meta: link.meta.clone(),
                    nlink: 1,
                    kind: Kind::Symlink {
                        target: os_bytes(&link.target),
                    },
                }),
                Node::Special(special) => {
                    add_linked(&mut inodes, &mut links, special.link, || Inode {
                        path,
                        source: Some(special.source.clone()),
                        meta: special.meta.clone(),
                        nlink: 1,
                        kind: Kind::Special { rdev: special.rdev },
                    })
                }
            };
            entries.push((node.name().to_string(), child));
        }
        inodes[index].nlink = 2 + subdirs;
        if let Kind::Dir { entries: slot, .. } = &mut inodes[index].kind {
            *slot = entries;
        }
    }
    inodes
}

fn dir_inode(path: String, dir: &Dir, parent: usize) -> Inode {
    Inode {
        path,
        source: dir.source.clone(),
        meta: dir.meta.clone(),
        nlink: 2,
        kind: Kind::Dir {
            parent,
            entries: Vec::new(),
        },
    }
}

/// A new inode, or one more link to the inode of `link` made before.
fn add_linked(
    inodes: &mut Vec<Inode>,
    links: &mut HashMap<LinkId, usize>,
    link: Option<LinkId>,
    make: impl FnOnce() -> Inode,
) -> usize {
    if let Some(&existing) = link.and_then(|id| links.get(&id)) {
        inodes[existing].nlink = inodes[existing].nlink.saturating_add(1);
        return existing;
    }
    inodes.push(make());
    let index = inodes.len() - 1;
    if let Some(id) = link {
        links.insert(id, index);
    }
    index
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The bytes of a name or link target as the filesystem stores them.
pub(crate) fn os_bytes(text: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        text.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        text.to_string_lossy().into_owned().into_bytes()
    }
}
