//! Scanning sources into a [`Tree`]: placing each source at its target, merging directories,
//! and finishing the tree sorted, with hard links numbered.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::meta::{file_id, implicit_dir_meta, kind_of, meta_of, read_xattrs, special_kind};
use crate::policy::{Policy, Specials, Symlinks};
use crate::tree::{fail, Dir, LinkId, Meta, Node, ScanError, Source, SourceIds, Tree};

/// Reads the metadata of `sources` (never file data) into one tree, as `policy` says.
///
/// Each source is a file or a directory placed at its target: a target ending in "/" puts a
/// file under its own name in that directory, directories from several sources merge, and
/// two sources claiming one path are an error naming both. Directories are read once, in
/// byte order of their names, so the first problem reported does not depend on readdir order.
pub fn scan(sources: &[Source], policy: &Policy) -> Result<Tree, ScanError> {
    let mut builder = Builder {
        policy,
        dirs: vec![BDir {
            name: String::new(),
            path: "/".to_string(),
            from: PathBuf::new(),
            meta: None,
            mtime: None,
            depth: 0,
            children: HashMap::new(),
        }],
        source_ids: Vec::new(),
        links: HashMap::new(),
    };
    for source in sources {
        builder.add(source)?;
    }
    Ok(builder.finish())
}

/// Directories live in an arena so that walking and finishing need no recursion: a deep tree
/// cannot overflow the stack, and a child always has a larger index than its parent.
pub(crate) struct Builder<'p> {
    pub(crate) policy: &'p Policy,
    pub(crate) dirs: Vec<BDir>,
    /// (dev, ino) of every source file and directory read, for [`SourceIds::reads`].
    pub(crate) source_ids: Vec<(u64, u64)>,
    /// How many nodes each (dev, ino) of a non-directory became: more than one is a hard link.
    links: HashMap<(u64, u64), u32>,
}

pub(crate) struct BDir {
    name: String,
    /// The path in the filesystem, kept for error messages.
    pub(crate) path: String,
    /// The source directory, or for a directory made only to hold targets, the source needing it.
    from: PathBuf,
    /// The metadata of the first source directory merged here; None while none has been.
    meta: Option<Meta>,
    /// Newest (seconds, nanoseconds) mtime of the source directories merged here.
    mtime: Option<(i64, u32)>,
    /// Directories above it: 0 for the root, 1 for /EFI, ...
    depth: u32,
    /// Keyed by the policy's name key: names with one key are the same name.
    children: HashMap<String, Child>,
}

/// What `insert` puts in place: a directory with the metadata of its source directory (None
/// when it only holds a target), or a finished non-directory node with its (dev, ino).
pub(crate) enum New {
    Dir(Option<Meta>),
    Leaf(Node, Option<(u64, u64)>),
}

enum Child {
    Dir(usize),
    Leaf(Node, Option<(u64, u64)>),
}

fn what_dir(meta: &Option<Meta>) -> &'static str {
    match meta {
        Some(_) => "the directory",
        None => "a directory needed for",
    }
}

fn what_leaf(node: &Node) -> &'static str {
    match node {
        Node::Symlink(_) => "the symlink",
        Node::Special(_) => "the special file",
        _ => "the file",
    }
}

fn leaf_source(node: &Node) -> &Path {
    match node {
        Node::File(f) => &f.source,
        Node::Symlink(l) => &l.source,
        Node::Special(s) => &s.source,
        Node::Dir(_) => unreachable!("directories are never leaves"),
    }
}

impl Builder<'_> {
    fn add(&mut self, s: &Source) -> Result<(), ScanError> {
        let (comps, into_dir) = self.parse_target(&s.target)?;
        let meta = follow(&s.source, &s.target)?;
        self.source_ids.extend(file_id(&meta));
        if meta.is_dir() {
            let dir_meta = self.with_xattrs(meta_of(&meta), &s.source, &s.target, true)?;
            let mut at = 0;
            for (k, comp) in comps.iter().enumerate() {
                let new = New::Dir((k + 1 == comps.len()).then(|| dir_meta.clone()));
                at = self.insert(at, comp, &s.source, new)?;
            }
            if comps.is_empty() {
                self.merge_dir(0, &s.source, Some(dir_meta));
            }
            return self.walk(&s.source, at, &meta);
        }
        let keep_special = self.policy.specials == Specials::Keep && special_kind(&meta).is_some();
        if !meta.is_file() && !keep_special {
            return fail(self.not_a_file(&meta, &s.source, &s.target));
        }
        if comps.is_empty() {
            return fail(format!(
                "target {} for {}: a file needs a target path with a name",
                s.target,
                s.source.display()
            ));
        }
        let (parents, name) = if into_dir {
            let Some(own) = s.source.file_name() else {
                return fail(format!(
                    "{} has no file name to keep under target {}",
                    s.source.display(),
                    s.target
                ));
            };
            let Some(own) = own.to_str() else {
                return fail(self.non_utf8(&s.source));
            };
            (&comps[..], own)
        } else {
            (&comps[..comps.len() - 1], comps[comps.len() - 1])
        };
        let mut at = 0;
        for comp in parents {
            at = self.insert(at, comp, &s.source, New::Dir(None))?;
        }
        let image = join(&self.dirs[at].path, name);
        self.check_name(name, &image, &s.source)?;
        let node = self.leaf(name, &s.source, &image, &meta, true)?;
        self.insert(at, name, &s.source, New::Leaf(node, file_id(&meta)))
            .map(drop)
    }

    /// Finds or makes `name` in `parent`; returns the directory's index (0 for a leaf).
    pub(crate) fn insert(
        &mut self,
        parent: usize,
        name: &str,
        from: &Path,
        new: New,
    ) -> Result<usize, ScanError> {
        let key = match self.policy.names.key {
            Some(key) => key(name),
            None => name.to_string(),
        };
        let path = join(&self.dirs[parent].path, name);
        let (old_name, old_from, old_what, old_dir) = match self.dirs[parent].children.get(&key) {
            None => {
                let (child, index) = match new {
                    New::Leaf(node, id) => {
                        if let Some(id) = id {
                            *self.links.entry(id).or_default() += 1;
                        }
                        (Child::Leaf(node, id), 0)
                    }
                    New::Dir(meta) => {
                        let depth = self.dirs[parent].depth + 1;
                        let max = self.policy.max_depth;
                        if depth > max {
                            return fail(format!(
                                "{path} (from {}) is nested {depth} directories deep; {} {max} levels",
                                from.display(),
                                self.policy.wording.depth
                            ));
                        }
                        let mtime = meta.as_ref().map(|m| (m.mtime, m.mtime_nsec));
                        let (name, from) = (name.to_string(), from.to_path_buf());
                        let children = HashMap::new();
                        self.dirs.push(BDir {
                            name,
                            path,
                            from,
                            meta,
                            mtime,
                            depth,
                            children,
                        });
                        (Child::Dir(self.dirs.len() - 1), self.dirs.len() - 1)
                    }
                };
                self.dirs[parent].children.insert(key, child);
                return Ok(index);
            }
            Some(Child::Leaf(node, _)) => (node.name(), leaf_source(node), what_leaf(node), None),
            Some(Child::Dir(i)) => {
                let d = &self.dirs[*i];
                (
                    d.name.as_str(),
                    d.from.as_path(),
                    what_dir(&d.meta),
                    Some(*i),
                )
            }
        };
        if old_name != name {
            let old_path = join(&self.dirs[parent].path, old_name);
            return fail(format!(
                "{old_path} and {path} {} (sources: {}, {})",
                self.policy.wording.same_key,
                old_from.display(),
                from.display()
            ));
        }
        match (old_dir, new) {
            (Some(i), New::Dir(meta)) => {
                self.merge_dir(i, from, meta);
                Ok(i)
            }
            (None, New::Dir(None)) => fail(format!(
                "{path} is {old_what} {}, but {} needs it to be a directory",
                old_from.display(),
                from.display()
            )),
            (_, new) => {
                let new_what = match &new {
                    New::Leaf(node, _) => what_leaf(node),
                    New::Dir(meta) => what_dir(meta),
                };
                let (old, new) = (old_from.display(), from.display());
                fail(format!(
                    "{path} comes from both {old_what} {old} and {new_what} {new}"
                ))
            }
        }
    }

    /// Merges the source directory `from` (or, for `meta` None, a need for a directory) into
    /// directory `i`: the first source directory gives its metadata, the newest its mtime.
    fn merge_dir(&mut self, i: usize, from: &Path, meta: Option<Meta>) {
        let dir = &mut self.dirs[i];
        let Some(meta) = meta else { return };
        dir.mtime = dir.mtime.max(Some((meta.mtime, meta.mtime_nsec)));
        if dir.meta.is_none() {
            dir.from = from.to_path_buf();
            dir.meta = Some(meta);
        }
    }

    fn finish(self) -> Tree {
        // Hard links get provisional ids here, renumbered in tree order below.
        let mut provisional: HashMap<(u64, u64), u32> = HashMap::new();
        // Children have larger indices than their parents, so going backwards finishes every
        // child before its parent. Each slot holds the Dir and the newest mtime in its subtree.
        let mut done: Vec<Option<(Dir, (i64, u32))>> = (0..self.dirs.len()).map(|_| None).collect();
        for (i, bdir) in self.dirs.into_iter().enumerate().rev() {
            let mut entries = Vec::with_capacity(bdir.children.len());
            let mut newest: Option<(i64, u32)> = None;
            for child in bdir.children.into_values() {
                match child {
                    Child::Leaf(mut node, id) => {
                        let meta = node.meta();
                        newest = newest.max(Some((meta.mtime, meta.mtime_nsec)));
                        let shared = id.filter(|id| self.links.get(id).is_some_and(|&n| n > 1));
                        if let (Some(id), Some(link)) = (shared, node.link_mut()) {
                            let next = provisional.len() as u32;
                            *link = Some(LinkId(*provisional.entry(id).or_insert(next)));
                        }
                        entries.push(node);
                    }
                    Child::Dir(j) => {
                        let (dir, below) = done[j]
                            .take()
                            .expect("children are finished before their parent");
                        newest = newest.max(Some(below));
                        entries.push(Node::Dir(dir));
                    }
                }
            }
            entries.sort_unstable_by(|a, b| Node::name(a).cmp(Node::name(b)));
            let (mtime, mtime_nsec) = bdir.mtime.or(newest).unwrap_or((0, 0));
            let source = bdir.meta.is_some().then_some(bdir.from);
            let meta = Meta {
                mtime,
                mtime_nsec,
                ..bdir.meta.unwrap_or_else(implicit_dir_meta)
            };
            let dir = Dir {
                name: bdir.name,
                source,
                meta,
                entries,
            };
            let below = newest.map_or((mtime, mtime_nsec), |n| n.max((mtime, mtime_nsec)));
            done[i] = Some((dir, below));
        }
        let (mut root, _) = done[0].take().expect("the root is always there");
        number_links(&mut root, provisional.len());
        Tree {
            root,
            source_ids: SourceIds::new(self.source_ids),
        }
    }

    /// The metadata with the source's extended attributes, if the policy reads them.
    pub(crate) fn with_xattrs(
        &self,
        mut meta: Meta,
        path: &Path,
        image: &str,
        follow: bool,
    ) -> Result<Meta, ScanError> {
        if self.policy.xattrs {
            meta.xattrs = read_xattrs(path, follow).or_else(|e| {
                fail(format!(
                    "cannot read the extended attributes of {} (for {image}): {e}",
                    path.display()
                ))
            })?;
        }
        Ok(meta)
    }

    /// Whether symlinks below a source are followed.
    pub(crate) fn follows(&self) -> bool {
        self.policy.symlinks == Symlinks::Follow
    }

    /// The components of a target path, and whether it names a directory (ends in "/" or "/.").
    fn parse_target<'t>(&self, target: &'t str) -> Result<(Vec<&'t str>, bool), ScanError> {
        if !target.starts_with('/') {
            return fail(format!(
                "target {target} must start with /: it is a path inside the filesystem"
            ));
        }
        let raw: Vec<&str> = target.split('/').collect();
        // Not resolved: a ".." that stays inside is still almost certainly a mistake.
        if raw.contains(&"..") {
            return fail(format!("target {target} leaves the filesystem root"));
        }
        let into_dir = matches!(raw.last(), Some(&"" | &"."));
        let comps: Vec<&str> = raw
            .into_iter()
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        for comp in &comps {
            if let Err(e) = (self.policy.names.check)(comp) {
                return fail(format!(
                    "target {target}: \"{comp}\" cannot be {}: {e}",
                    self.policy.wording.a_name
                ));
            }
        }
        Ok((comps, into_dir))
    }

    pub(crate) fn check_name(
        &self,
        name: &str,
        image: &str,
        source: &Path,
    ) -> Result<(), ScanError> {
        (self.policy.names.check)(name).or_else(|e| {
            fail(format!(
                "{image} (from {}) cannot be {}: {e}",
                source.display(),
                self.policy.wording.a_name
            ))
        })
    }

    pub(crate) fn non_utf8(&self, path: &Path) -> String {
        format!(
            "{} has a name that is not valid UTF-8; {}",
            path.to_string_lossy(),
            self.policy.wording.unicode
        )
    }

    pub(crate) fn not_a_file(
        &self,
        meta: &std::fs::Metadata,
        source: &Path,
        image: &str,
    ) -> String {
        format!(
            "{} (for {image}) is {}; {}",
            source.display(),
            kind_of(meta),
            self.policy.wording.specials
        )
    }
}

/// Replaces the provisional link ids with ones counted in tree order.
fn number_links(root: &mut Dir, provisional: usize) {
    let mut renumbered: Vec<Option<u32>> = vec![None; provisional];
    let mut next = 0;
    let mut stack = vec![root.entries.iter_mut()];
    while let Some(top) = stack.last_mut() {
        let Some(node) = top.next() else {
            stack.pop();
            continue;
        };
        if let Node::Dir(dir) = node {
            stack.push(dir.entries.iter_mut());
        } else if let Some(Some(link)) = node.link_mut() {
            let id = renumbered[link.0 as usize].get_or_insert_with(|| {
                next += 1;
                next - 1
            });
            *link = LinkId(*id);
        }
    }
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Metadata with symlinks followed; a symlink that leads nowhere is reported as such.
pub(crate) fn follow(path: &Path, image: &str) -> Result<std::fs::Metadata, ScanError> {
    std::fs::metadata(path).or_else(|e| {
        let symlink = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let what = if symlink {
            "is a dangling symlink"
        } else {
            "cannot be read"
        };
        fail(format!("{} (for {image}) {what}: {e}", path.display()))
    })
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
