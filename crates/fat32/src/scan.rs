//! Scanning sources into a [`Tree`]: following symlinks, merging directories, and rejecting
//! everything FAT cannot hold, with messages that name the image path and the source path.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::read::MAX_DEPTH;
use crate::names::{assign_short_names, child_entries, fold_case, validate_long_name};
use crate::tree::{Dir, FileNode, Node, ScanError, Source, Tree};

/// A FAT directory entry stores the size in 32 bits.
const MAX_FILE_SIZE: u64 = u32::MAX as u64;
/// Directory entry indices are 16 bits wide (FAT spec), so 65,536 32-byte entries per directory.
const MAX_DIR_ENTRIES: usize = 65_536;
/// Without inode numbers symlink loops cannot be told apart from deep trees; this bounds them.
#[cfg(not(unix))]
const MAX_DEPTH: usize = 1024;

fn fail<T>(message: String) -> Result<T, ScanError> {
    Err(ScanError { message })
}

pub fn scan(sources: &[Source]) -> Result<Tree, ScanError> {
    let mut builder = Builder {
        dirs: vec![BDir {
            name: String::new(),
            path: "/".to_string(),
            from: PathBuf::new(),
            mtime: None,
            depth: 0,
            children: HashMap::new(),
        }],
        source_ids: Vec::new(),
    };
    for source in sources {
        builder.add(source)?;
    }
    builder.finish()
}

/// Directories live in an arena so that walking and finishing need no recursion: a deep tree
/// cannot overflow the stack, and a child always has a larger index than its parent.
struct Builder {
    dirs: Vec<BDir>,
    /// (dev, ino) of every source file and directory read, for [`Tree::reads`].
    source_ids: Vec<(u64, u64)>,
}

struct BDir {
    name: String,
    /// The path in the filesystem, kept for error messages.
    path: String,
    /// The source directory, or for a directory made only to hold targets, the source needing it.
    from: PathBuf,
    /// Newest mtime of the source directories merged here; None while none has been.
    mtime: Option<i64>,
    /// Directories above it: 0 for the root, 1 for /EFI, ...
    depth: u32,
    /// Keyed by fold_case(name): FAT treats those as the same name.
    children: HashMap<String, Child>,
}

/// A directory being walked: its (dev, ino), and the visit of its parent directory.
type Visit = (Option<(u64, u64)>, Option<usize>);

/// What `insert` puts in place: a directory's mtime is None when it only holds a target.
#[derive(Clone, Copy)]
enum New {
    Dir(Option<i64>),
    File { size: u64, mtime: i64 },
}

fn what_dir(mtime: Option<i64>) -> &'static str {
    match mtime {
        Some(_) => "the directory",
        None => "a directory needed for",
    }
}

enum Child {
    Dir(usize),
    File(FileNode),
}

impl Builder {
    fn add(&mut self, s: &Source) -> Result<(), ScanError> {
        let (comps, into_dir) = parse_target(&s.target)?;
        let meta = follow(&s.source, &s.target)?;
        self.source_ids.extend(file_id(&meta));
        if meta.is_dir() {
            let mut at = 0;
            for (k, comp) in comps.iter().enumerate() {
                let mtime = (k + 1 == comps.len()).then(|| mtime_of(&meta));
                at = self.insert(at, comp, &s.source, New::Dir(mtime))?;
            }
            if comps.is_empty() {
                let root = &mut self.dirs[0];
                root.mtime = root.mtime.max(Some(mtime_of(&meta)));
            }
            return self.walk(&s.source, at, &meta);
        }
        if !meta.is_file() {
            return fail(not_a_file(&meta, &s.source, &s.target));
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
                return fail(non_utf8(&s.source));
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
        check_name(name, &image, &s.source)?;
        check_size(&meta, &s.source, &image)?;
        self.insert(at, name, &s.source, new_file(&meta)).map(drop)
    }

    /// Puts the entries of the source directory `top` into directory node `node`.
    fn walk(&mut self, top: &Path, node: usize, top_meta: &Metadata) -> Result<(), ScanError> {
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
                    return fail(non_utf8(&path));
                };
                let image = join(&self.dirs[node].path, &name);
                check_name(&name, &image, &path)?;
                let meta = follow(&path, &image)?;
                self.source_ids.extend(file_id(&meta));
                if meta.is_dir() {
                    let id = file_id(&meta);
                    check_loop(&visits, visit, id, &path, &image)?;
                    let child = self.insert(node, &name, &path, New::Dir(Some(mtime_of(&meta))))?;
                    visits.push((id, Some(visit)));
                    stack.push((path, child, visits.len() - 1));
                } else if meta.is_file() {
                    check_size(&meta, &path, &image)?;
                    self.insert(node, &name, &path, new_file(&meta))?;
                } else {
                    return fail(not_a_file(&meta, &path, &image));
                }
            }
        }
        Ok(())
    }

    /// Finds or makes `name` in `parent`; returns the directory's index (0 for a file).
    fn insert(
        &mut self,
        parent: usize,
        name: &str,
        from: &Path,
        new: New,
    ) -> Result<usize, ScanError> {
        let key = fold_case(name);
        let path = join(&self.dirs[parent].path, name);
        let (old_name, old_from, old_what, old_dir) = match self.dirs[parent].children.get(&key) {
            None => {
                let (child, index) = match new {
                    New::File { size, mtime } => {
                        let (name, source) = (name.to_string(), from.to_path_buf());
                        (
                            Child::File(FileNode {
                                name,
                                source,
                                size,
                                mtime,
                            }),
                            0,
                        )
                    }
                    New::Dir(mtime) => {
                        let depth = self.dirs[parent].depth + 1;
                        if depth > MAX_DEPTH {
                            // The reader (inspect, verify) stops there: refuse what it cannot read.
                            return fail(format!(
                                "{path} (from {}) is nested {depth} directories deep; a FAT32 \
                                 volume imgforge writes holds at most {MAX_DEPTH} levels",
                                from.display()
                            ));
                        }
                        let (name, from, children) =
                            (name.to_string(), from.to_path_buf(), HashMap::new());
                        self.dirs.push(BDir {
                            name,
                            path,
                            from,
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
            Some(Child::File(f)) => (&f.name, &f.source, "the file", None),
            Some(Child::Dir(i)) => {
                let d = &self.dirs[*i];
                (&d.name, &d.from, what_dir(d.mtime), Some(*i))
            }
        };
        if old_name != name {
            let old_path = join(&self.dirs[parent].path, old_name);
            return fail(case_clash(&old_path, old_from, &path, from));
        }
        match (old_dir, new) {
            (Some(i), New::Dir(mtime)) => {
                let dir = &mut self.dirs[i];
                if dir.mtime.is_none() && mtime.is_some() {
                    dir.from = from.to_path_buf();
                }
                dir.mtime = dir.mtime.max(mtime);
                Ok(i)
            }
            (None, New::Dir(None)) => fail(format!(
                "{path} is the file {}, but {} needs it to be a directory",
                old_from.display(),
                from.display()
            )),
            (_, new) => {
                let new_what = match new {
                    New::File { .. } => "the file",
                    New::Dir(mtime) => what_dir(mtime),
                };
                let (old, new) = (old_from.display(), from.display());
                fail(format!(
                    "{path} comes from both {old_what} {old} and {new_what} {new}"
                ))
            }
        }
    }

    fn finish(self) -> Result<Tree, ScanError> {
        // Children have larger indices than their parents, so going backwards finishes every
        // child before its parent. Each slot holds the Dir and the newest mtime in its subtree.
        let mut done: Vec<Option<(Dir, i64)>> = (0..self.dirs.len()).map(|_| None).collect();
        for (i, bdir) in self.dirs.into_iter().enumerate().rev() {
            let mut entries = Vec::with_capacity(bdir.children.len());
            let mut newest: Option<i64> = None;
            for child in bdir.children.into_values() {
                match child {
                    Child::File(f) => {
                        newest = newest.max(Some(f.mtime));
                        entries.push(Node::File(f));
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
            let names: Vec<&str> = entries.iter().map(Node::name).collect();
            let count = dir_entry_count(&names);
            if count > MAX_DIR_ENTRIES {
                return fail(format!(
                    "{} needs {count} directory entries (long names take several each); a FAT directory holds at most {MAX_DIR_ENTRIES}",
                    bdir.path
                ));
            }
            let mtime = bdir.mtime.or(newest).unwrap_or(0);
            let dir = Dir {
                name: bdir.name,
                mtime,
                entries,
            };
            done[i] = Some((dir, newest.map_or(mtime, |n| n.max(mtime))));
        }
        let (root, _) = done[0].take().expect("the root is always there");
        let mut source_ids = self.source_ids;
        source_ids.sort_unstable();
        source_ids.dedup();
        Ok(Tree { root, source_ids })
    }
}

fn new_file(meta: &Metadata) -> New {
    New::File {
        size: meta.len(),
        mtime: mtime_of(meta),
    }
}

/// The 32-byte entries a directory with these (sorted) names takes: "." and ".." (the root
/// has a volume label instead, but counting 2 keeps one rule), then per name its short entry
/// and, unless it is a plain 8.3 name, its long-name entries.
fn dir_entry_count(names: &[&str]) -> usize {
    2 + child_entries(names, &assign_short_names(names)) as usize
}

/// The components of a target path, and whether it names a directory (ends in "/" or "/.").
fn parse_target(target: &str) -> Result<(Vec<&str>, bool), ScanError> {
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
        if let Err(e) = validate_long_name(comp) {
            return fail(format!(
                "target {target}: \"{comp}\" cannot be a FAT name: {e}"
            ));
        }
    }
    Ok((comps, into_dir))
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn check_name(name: &str, image: &str, source: &Path) -> Result<(), ScanError> {
    validate_long_name(name).or_else(|e| {
        fail(format!(
            "{image} (from {}) cannot be a FAT name: {e}",
            source.display()
        ))
    })
}

fn check_size(meta: &Metadata, source: &Path, image: &str) -> Result<(), ScanError> {
    if meta.len() > MAX_FILE_SIZE {
        return fail(format!(
            "{image} (from {}) is {} bytes; a FAT file holds at most {MAX_FILE_SIZE} bytes",
            source.display(),
            meta.len()
        ));
    }
    Ok(())
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
    if std::iter::successors(Some(at), |&i| visits[i].1).count() > MAX_DEPTH {
        return fail(format!(
            "{} (for {image}) is nested more than {MAX_DEPTH} directories deep; is there a symlink loop?",
            source.display()
        ));
    }
    Ok(())
}

/// Metadata with symlinks followed; a symlink that leads nowhere is reported as such.
fn follow(path: &Path, image: &str) -> Result<Metadata, ScanError> {
    fs::metadata(path).or_else(|e| {
        let symlink = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let what = if symlink {
            "is a dangling symlink"
        } else {
            "cannot be read"
        };
        fail(format!("{} (for {image}) {what}: {e}", path.display()))
    })
}

fn non_utf8(path: &Path) -> String {
    format!(
        "{} has a name that is not valid UTF-8; FAT names are Unicode",
        path.to_string_lossy()
    )
}

fn not_a_file(meta: &Metadata, source: &Path, image: &str) -> String {
    format!(
        "{} (for {image}) is {}; only regular files and directories can go into a FAT filesystem",
        source.display(),
        kind_of(meta)
    )
}

#[cfg(unix)]
fn kind_of(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kinds = [
        (t.is_socket(), "a socket"),
        (t.is_fifo(), "a FIFO"),
        (t.is_block_device(), "a block device"),
        (t.is_char_device(), "a character device"),
    ];
    kinds
        .into_iter()
        .find(|k| k.0)
        .map_or("not a regular file", |k| k.1)
}

#[cfg(not(unix))]
fn kind_of(_meta: &Metadata) -> &'static str {
    "not a regular file"
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

fn case_clash(a: &str, a_from: &Path, b: &str, b_from: &Path) -> String {
    format!(
        "{a} and {b} differ only in case; FAT names are case-insensitive (sources: {}, {})",
        a_from.display(),
        b_from.display()
    )
}

/// Whole seconds since the epoch, rounded down so times before 1970 stay ordered.
fn mtime_of(meta: &Metadata) -> i64 {
    let Ok(t) = meta.modified() else { return 0 };
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            (-secs).saturating_sub(i64::from(d.subsec_nanos() > 0))
        }
    }
}

#[cfg(test)]
#[path = "scan_tests/mod.rs"]
mod tests;
