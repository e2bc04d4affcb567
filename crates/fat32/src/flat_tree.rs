//! The tree as planning sees it: flattened in depth-first pre-order, every directory's short
//! names assigned and its 32-byte entries counted, and the clusters it all takes.

use std::sync::Arc;

use crate::alloc::{allocate, clusters_for, Allocation};
use crate::names::{assign_short_names, child_entries, DirName};
use crate::tree::{Dir, FileNode, Node, Tree};

/// Bytes per directory entry.
pub(crate) const DIR_ENTRY_BYTES: u64 = crate::ondisk::dirent::ENTRY_BYTES as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Child {
    Dir(usize),
    File(usize),
}

#[derive(Debug)]
pub(crate) struct PlannedDir {
    /// Index of the parent directory; the root is its own parent.
    pub(crate) parent: usize,
    /// Position among the parent's entries (0 for the root).
    pub(crate) position: usize,
    /// One per entry of the directory, in that order.
    pub(crate) children: Vec<Child>,
    pub(crate) names: Vec<DirName>,
    /// 32-byte entries, counting ".", ".." and long-name entries; not the root's volume label,
    /// which depends on the options (see `FlatTree::entries`).
    pub(crate) entries: u64,
}

#[derive(Debug)]
pub(crate) struct PlannedFile {
    /// The directory the file is in.
    pub(crate) dir: usize,
    /// Position among that directory's entries.
    pub(crate) position: usize,
    pub(crate) size: u64,
}

/// The tree in depth-first pre-order: directories (the root first) and files, with every
/// directory's short names and entry count. Owns the tree it indexes, so plans made from it
/// can outlive the caller's borrow (and cross threads).
#[derive(Debug)]
pub(crate) struct FlatTree {
    tree: Arc<Tree>,
    pub(crate) dirs: Vec<PlannedDir>,
    pub(crate) files: Vec<PlannedFile>,
}

impl FlatTree {
    pub(crate) fn new(tree: Arc<Tree>) -> Self {
        let mut flat = FlatTree {
            tree,
            dirs: Vec::new(),
            files: Vec::new(),
        };
        let tree = flat.tree.clone();
        flat.visit(&tree.root, 0, 0);
        flat
    }

    fn visit(&mut self, dir: &Dir, parent: usize, position: usize) -> usize {
        let index = self.dirs.len();
        let names: Vec<&str> = dir.entries.iter().map(Node::name).collect();
        let assigned = assign_short_names(&names);
        let own = if index == 0 { 0 } else { 2 };
        let entries = own + child_entries(&names, &assigned);
        self.dirs.push(PlannedDir {
            parent,
            position,
            children: Vec::new(),
            names: assigned,
            entries,
        });
        let children = dir
            .entries
            .iter()
            .enumerate()
            .map(|(position, node)| match node {
                Node::Dir(sub) => Child::Dir(self.visit(sub, index, position)),
                Node::File(file) => {
                    self.files.push(PlannedFile {
                        dir: index,
                        position,
                        size: file.size,
                    });
                    Child::File(self.files.len() - 1)
                }
            })
            .collect();
        self.dirs[index].children = children;
        index
    }

    /// The tree it indexes.
    pub(crate) fn tree(&self) -> &Arc<Tree> {
        &self.tree
    }

    /// Directory `index` of the tree.
    pub(crate) fn dir(&self, index: usize) -> &Dir {
        if index == 0 {
            return &self.tree.root;
        }
        let planned = &self.dirs[index];
        match &self.dir(planned.parent).entries[planned.position] {
            Node::Dir(dir) => dir,
            Node::File(_) => unreachable!("a planned directory is a directory of the tree"),
        }
    }

    /// File `index` of the tree.
    pub(crate) fn file(&self, index: usize) -> &FileNode {
        let planned = &self.files[index];
        match &self.dir(planned.dir).entries[planned.position] {
            Node::File(file) => file,
            Node::Dir(_) => unreachable!("a planned file is a file of the tree"),
        }
    }

    /// The 32-byte entries of directory `index`, with the volume label's entry in the root.
    pub(crate) fn entries(&self, index: usize, has_label: bool) -> u64 {
        self.dirs[index].entries + u64::from(index == 0 && has_label)
    }

    pub(crate) fn allocate(&self, cluster_size: u32, has_label: bool) -> Option<Allocation> {
        let dir_clusters = (0..self.dirs.len())
            .map(|i| {
                let bytes = self.entries(i, has_label) * DIR_ENTRY_BYTES;
                clusters_for(bytes, cluster_size).map(|c| c.max(1))
            })
            .collect::<Option<Vec<u32>>>()?;
        let sizes: Vec<u64> = self.files.iter().map(|f| f.size).collect();
        allocate(cluster_size, &dir_clusters, &sizes)
    }

    pub(crate) fn file_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}
