//! Walking one source directory: reading each entry's metadata as the policy says (symlinks
//! followed or kept, special files refused or kept) and catching symlink loops.

use std::fs::{self, Metadata};
use std::path::Path;

use crate::meta::{file_id, meta_of, special_kind};
use crate::policy::Specials;
use crate::scan::{follow, join, Builder, New};
use crate::tree::{fail, FileNode, Node, ScanError, SpecialNode, SymlinkNode};

/// A directory being walked: its (dev, ino), and the visit of its parent directory.
type Visit = (Option<(u64, u64)>, Option<usize>);

/// Without inode numbers symlink loops cannot be told apart from deep trees; this bounds them.
#[cfg(not(unix))]
const LOOP_DEPTH: usize = 1024;

impl Builder<'_> {
    /// Puts the entries of the source directory `top` into directory node `node`.
    pub(crate) fn walk(
        &mut self,
        top: &Path,
        node: usize,
        top_meta: &Metadata,
    ) -> Result<(), ScanError> {
        // Each directory being walked, with its parent visit: the chain of a visit is the path
        // from `top`, and a directory that is on its own chain is a symlink loop.
        let mut visits: Vec<Visit> = vec![(file_id(top_meta), None)];
        let mut stack = vec![(top.to_path_buf(), node, 0usize)];
        while let Some((dir, node, visit)) = stack.pop() {
            let read_error = |e: std::io::Error| ScanError {
                message: format!(
                    "cannot read the directory {} (for {}): {e}",
                    dir.display(),
                    self.dirs[node].path
                ),
            };
            let mut entries = Vec::new();
            for entry in fs::read_dir(&dir).map_err(read_error)? {
                let entry = entry.map_err(read_error)?;
                entries.push((entry.file_name(), entry.path()));
            }
            // Sorted so that which error is reported first does not depend on readdir order.
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (name, path) in entries {
                let Ok(name) = name.into_string() else {
                    return fail(self.non_utf8(&path));
                };
                let image = join(&self.dirs[node].path, &name);
                self.check_name(&name, &image, &path)?;
                let meta = if self.follows() {
                    follow(&path, &image)?
                } else {
                    fs::symlink_metadata(&path).or_else(|e| {
                        fail(format!(
                            "{} (for {image}) cannot be read: {e}",
                            path.display()
                        ))
                    })?
                };
                self.source_ids.extend(file_id(&meta));
                if meta.is_dir() {
                    let id = file_id(&meta);
                    check_loop(&visits, visit, id, &path, &image)?;
                    let dir_meta =
                        self.with_xattrs(meta_of(&meta), &path, &image, self.follows())?;
                    let child = self.insert(node, &name, &path, New::Dir(Some(dir_meta)))?;
                    visits.push((id, Some(visit)));
                    stack.push((path, child, visits.len() - 1));
                } else {
                    let leaf = self.leaf(&name, &path, &image, &meta, self.follows())?;
                    self.insert(node, &name, &path, New::Leaf(leaf, file_id(&meta)))?;
                }
            }
        }
        Ok(())
    }

    /// The node of a source that is not a directory, checked against the policy; `followed`
    /// says whether `meta` is that of what a symlink at `path` points to.
    pub(crate) fn leaf(
        &self,
        name: &str,
        path: &Path,
        image: &str,
        meta: &Metadata,
        followed: bool,
    ) -> Result<Node, ScanError> {
        let (name, source) = (name.to_string(), path.to_path_buf());
        // Read last, once the node is known to be allowed.
        let node_meta = |follow| self.with_xattrs(meta_of(meta), path, image, follow);
        if meta.is_file() {
            let max = self.policy.max_file_size;
            if meta.len() > max {
                return fail(format!(
                    "{image} (from {}) is {} bytes; {} {max} bytes",
                    path.display(),
                    meta.len(),
                    self.policy.wording.file_size
                ));
            }
            return Ok(Node::File(FileNode {
                name,
                source,
                size: meta.len(),
                meta: node_meta(followed)?,
                link: None,
            }));
        }
        if meta.file_type().is_symlink() {
            let target = fs::read_link(path).or_else(|e| {
                fail(format!(
                    "the symlink {} (for {image}) cannot be read: {e}",
                    path.display()
                ))
            })?;
            return Ok(Node::Symlink(SymlinkNode {
                name,
                source,
                target: target.into_os_string(),
                meta: node_meta(false)?,
                link: None,
            }));
        }
        match special_kind(meta) {
            Some((kind, rdev)) if self.policy.specials == Specials::Keep => {
                Ok(Node::Special(SpecialNode {
                    name,
                    source,
                    kind,
                    rdev,
                    meta: node_meta(followed)?,
                    link: None,
                }))
            }
            _ => fail(self.not_a_file(meta, path, image)),
        }
    }
}

fn check_loop(
    visits: &[Visit],
    at: usize,
    id: Option<(u64, u64)>,
    source: &Path,
    image: &str,
) -> Result<(), ScanError> {
    let mut chain = std::iter::successors(Some(at), |&i| visits[i].1);
    if id.is_some() && chain.any(|i| visits[i].0 == id) {
        return fail(format!(
            "{} (for {image}) leads back to a directory that contains it: a symlink loop",
            source.display()
        ));
    }
    #[cfg(not(unix))]
    if std::iter::successors(Some(at), |&i| visits[i].1).count() > LOOP_DEPTH {
        return fail(format!(
            "{} (for {image}) is nested more than {LOOP_DEPTH} directories deep; is there a symlink loop?",
            source.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
