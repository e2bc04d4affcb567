//! Does a volume hold exactly what a plan asks for? The expected values come from the plan's
//! tree and format options alone (never from the layout the planner chose), so a planner bug
//! shows up here: names, kinds, permission bits, owners, times, link counts and hard links,
//! xattrs, symlink targets, device numbers, sizes, and every file's bytes, streamed from the
//! source and the image side by side.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::ffi::OsStrExt;

use imgforge_tree::{Dir, FileNode, LinkId, Meta, Node, SpecialKind, Tree};

use super::{uuid_text, EntryKind, FindingCode, Volume};
use crate::ondisk::encode_rdev;
use crate::plan::{Ownership, Plan};

/// Bytes compared at a time, from each side.
const COMPARE_CHUNK: usize = 1 << 20;

/// One way the volume differs from the plan, or a problem the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The path in the filesystem ("/" for the filesystem as a whole).
    pub path: String,
    pub message: String,
    /// For a reader finding, its code (the message starts with it too).
    pub code: Option<FindingCode>,
}

/// Whether the volume UUID is part of what is verified: a spec without a seed or a `uuid`
/// gets a random UUID on every plan, so comparing it would always report a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidCheck {
    Compare,
    Ignore,
}

/// Every difference between `plan` and the EROFS in the `length` bytes at `offset` of
/// `reader`, or a single one when there is none. Err only when reading the superblock fails.
pub fn verify_partition<R: Read + Seek>(
    plan: &Plan,
    reader: R,
    offset: u64,
    length: u64,
    uuid: UuidCheck,
) -> io::Result<Vec<Difference>> {
    match Volume::open(reader, offset, length)? {
        Some(mut volume) => Ok(verify(plan, &mut volume, uuid)),
        None => Ok(vec![differs(
            "/",
            "the partition holds no EROFS filesystem".into(),
        )]),
    }
}

fn differs(path: &str, message: String) -> Difference {
    Difference {
        path: path.to_string(),
        message,
        code: None,
    }
}

/// Every difference between `plan` and `volume`, then the reader's findings.
pub fn verify<R: Read + Seek>(
    plan: &Plan,
    volume: &mut Volume<R>,
    uuid: UuidCheck,
) -> Vec<Difference> {
    let mut check = Check {
        plan,
        uuid,
        out: Vec::new(),
        links: link_counts(plan.tree()),
        nids: HashMap::new(),
        by_link: HashMap::new(),
    };
    check.superblock(volume);
    if volume.entries().is_empty() {
        check
            .out
            .push(differs("/", "the filesystem's root cannot be read".into()));
    } else {
        check.tree(volume);
    }
    for finding in volume.findings() {
        let path = finding.path.clone().unwrap_or_else(|| "/".to_string());
        check.out.push(Difference {
            path,
            message: finding.to_string(),
            code: Some(finding.code),
        });
    }
    check.out
}

/// Names per hard-linked source inode.
fn link_counts(tree: &Tree) -> HashMap<LinkId, u32> {
    let mut counts = HashMap::new();
    let mut pending = vec![&tree.root];
    while let Some(dir) = pending.pop() {
        for node in &dir.entries {
            let link = match node {
                Node::Dir(sub) => {
                    pending.push(sub);
                    None
                }
                Node::File(f) => f.link,
                Node::Symlink(s) => s.link,
                Node::Special(s) => s.link,
            };
            if let Some(link) = link {
                *counts.entry(link).or_insert(0) += 1;
            }
        }
    }
    counts
}

struct Check<'p> {
    plan: &'p Plan,
    uuid: UuidCheck,
    out: Vec<Difference>,
    links: HashMap<LinkId, u32>,
    /// nid -> (link id, path) of the first name verified with it.
    nids: HashMap<u64, (Option<LinkId>, String)>,
    /// link id -> (nid, path) of its first name.
    by_link: HashMap<LinkId, (u64, String)>,
}

impl Check<'_> {
    fn superblock<R: Read + Seek>(&mut self, volume: &Volume<R>) {
        let options = self.plan.options();
        let summary = volume.summary();
        if summary.used_bytes != self.plan.size() {
            self.out.push(differs(
                "/",
                format!(
                    "the filesystem spans {} bytes; the spec gives {}",
                    summary.used_bytes,
                    self.plan.size()
                ),
            ));
        }
        if self.uuid == UuidCheck::Compare && summary.uuid != options.uuid {
            self.out.push(differs(
                "/",
                format!(
                    "the UUID is {}; the spec gives {}",
                    uuid_text(&summary.uuid),
                    uuid_text(&options.uuid)
                ),
            ));
        }
        if summary.label != options.label {
            self.out.push(differs(
                "/",
                format!(
                    "the volume name is {:?}; the spec gives {:?}",
                    summary.label, options.label
                ),
            ));
        }
    }

    fn tree<R: Read + Seek>(&mut self, volume: &mut Volume<R>) {
        let tree = self.plan.tree().clone();
        self.meta(volume, 0, &tree.root.meta, 2 + subdirs(&tree.root));
        let mut pending: Vec<(&Dir, usize)> = vec![(&tree.root, 0)];
        let mut files: Vec<(&FileNode, usize)> = Vec::new();
        while let Some((dir, index)) = pending.pop() {
            let children = volume.entries()[index].children.clone();
            let mut on_disk: HashMap<Vec<u8>, usize> = children
                .map(|c| (volume.entries()[c].name.clone(), c))
                .collect();
            let mut subdirectories = Vec::new();
            for node in &dir.entries {
                let Some(child) = on_disk.remove(node.name().as_bytes()) else {
                    let path = join(&volume.path(index), node.name());
                    self.out.push(differs(&path, "is missing".into()));
                    continue;
                };
                let (kind, size) = (volume.entries()[child].kind, volume.entries()[child].size());
                let wanted = kind_of(node);
                if kind != wanted {
                    let path = volume.path(child);
                    self.out.push(differs(
                        &path,
                        format!(
                            "is {}; the spec makes it {}",
                            article(kind),
                            article(wanted)
                        ),
                    ));
                    continue;
                }
                match node {
                    Node::Dir(sub) => {
                        self.meta(volume, child, &sub.meta, 2 + subdirs(sub));
                        subdirectories.push((sub, child));
                    }
                    Node::File(file) => {
                        self.linked(volume, child, file.link, &file.meta);
                        if size != file.size {
                            let path = volume.path(child);
                            self.out.push(differs(
                                &path,
                                format!("has {size} bytes; the spec gives {}", file.size),
                            ));
                        } else {
                            files.push((file, child));
                        }
                    }
                    Node::Symlink(link) => {
                        self.linked(volume, child, link.link, &link.meta);
                        match volume.symlink_target(child) {
                            Ok(target) if target == link.target.as_bytes() => {}
                            Ok(target) => {
                                let message = format!(
                                    "points to {:?}; the spec gives {:?}",
                                    String::from_utf8_lossy(&target),
                                    link.target
                                );
                                self.out.push(differs(&volume.path(child), message));
                            }
                            Err(why) => self.out.push(differs(&volume.path(child), why)),
                        }
                    }
                    Node::Special(special) => {
                        self.linked(volume, child, special.link, &special.meta);
                        let wanted = match special.kind {
                            SpecialKind::CharDevice | SpecialKind::BlockDevice => {
                                encode_rdev(special.rdev)
                            }
                            _ => 0,
                        };
                        if volume.entries()[child].rdev() != wanted {
                            let message = format!(
                                "has device number {:#x}; the spec gives {wanted:#x}",
                                volume.entries()[child].rdev()
                            );
                            self.out.push(differs(&volume.path(child), message));
                        }
                    }
                }
            }
            // Depth first in name order, so differences come in the order of their paths.
            pending.extend(subdirectories.into_iter().rev());
            let mut extra: Vec<usize> = on_disk.into_values().collect();
            extra.sort_unstable();
            for child in extra {
                self.out.push(differs(
                    &volume.path(child),
                    "is in the image but not in the spec".into(),
                ));
            }
        }
        let mut buffers = (vec![0u8; COMPARE_CHUNK], vec![0u8; COMPARE_CHUNK]);
        for (file, index) in files {
            if let Some(message) = compare_bytes(volume, index, file, &mut buffers) {
                self.out.push(differs(&volume.path(index), message));
            }
        }
    }

    /// A non-directory: its metadata, link count, and whether it shares an inode with exactly
    /// the names the spec links to it.
    fn linked<R: Read + Seek>(
        &mut self,
        volume: &mut Volume<R>,
        index: usize,
        link: Option<LinkId>,
        meta: &Meta,
    ) {
        let names = link.map_or(1, |l| self.links[&l]);
        self.meta(volume, index, meta, names);
        let nid = volume.entries()[index].nid();
        let path = volume.path(index);
        if let Some(link) = link {
            match self.by_link.get(&link) {
                Some((first, first_path)) if *first != nid => {
                    let message = format!(
                        "is a separate inode; the spec makes it a hard link of {first_path}"
                    );
                    self.out.push(differs(&path, message));
                }
                Some(_) => {}
                None => {
                    self.by_link.insert(link, (nid, path.clone()));
                }
            }
        }
        match self.nids.get(&nid) {
            Some((first_link, first_path)) if link.is_none() || *first_link != link => {
                let message = format!(
                    "shares its inode with {first_path}; the spec makes them separate files"
                );
                self.out.push(differs(&path, message));
            }
            Some(_) => {}
            None => {
                self.nids.insert(nid, (link, path));
            }
        }
    }

    fn meta<R: Read + Seek>(
        &mut self,
        volume: &mut Volume<R>,
        index: usize,
        meta: &Meta,
        nlink: u32,
    ) {
        let entry = &volume.entries()[index];
        let options = self.plan.options();
        let (uid, gid) = match options.ownership {
            Ownership::Root => (0, 0),
            Ownership::Source => (meta.uid, meta.gid),
        };
        let mtime = match options.timestamp {
            Some(t) => (t, 0),
            None => (meta.mtime, meta.mtime_nsec),
        };
        let mut problems = Vec::new();
        if entry.permissions() != meta.mode & 0o7777 {
            problems.push(format!(
                "mode {:04o}; the spec gives {:04o}",
                entry.permissions(),
                meta.mode & 0o7777
            ));
        }
        if (entry.uid(), entry.gid()) != (uid, gid) {
            problems.push(format!(
                "owner {}:{}; the spec gives {uid}:{gid}",
                entry.uid(),
                entry.gid()
            ));
        }
        if entry.mtime() != mtime {
            problems.push(format!(
                "mtime {}.{:09}; the spec gives {}.{:09}",
                entry.mtime().0,
                entry.mtime().1,
                mtime.0,
                mtime.1
            ));
        }
        if entry.nlink() != nlink {
            problems.push(format!(
                "link count {}; the spec gives {nlink}",
                entry.nlink()
            ));
        }
        if !problems.is_empty() {
            self.out.push(differs(
                &volume.path(index),
                format!("has {}", problems.join(", ")),
            ));
        }
        self.xattrs(volume, index, meta);
    }

    fn xattrs<R: Read + Seek>(&mut self, volume: &mut Volume<R>, index: usize, meta: &Meta) {
        let wanted: Vec<(Vec<u8>, Vec<u8>)> = meta
            .xattrs
            .iter()
            .map(|x| (x.name.as_bytes().to_vec(), x.value.clone()))
            .collect();
        let found = match volume.xattrs(index) {
            Ok(mut found) => {
                found.sort();
                found
            }
            Err(why) => return self.out.push(differs(&volume.path(index), why)),
        };
        if found != wanted {
            let names = |list: &[(Vec<u8>, Vec<u8>)]| {
                list.iter()
                    .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let message = if names(&found) == names(&wanted) {
                format!(
                    "has xattrs {} with other values than the spec's",
                    names(&found)
                )
            } else {
                format!(
                    "has xattrs [{}]; the spec gives [{}]",
                    names(&found),
                    names(&wanted)
                )
            };
            self.out.push(differs(&volume.path(index), message));
        }
    }
}

fn subdirs(dir: &Dir) -> u32 {
    dir.entries
        .iter()
        .filter(|n| matches!(n, Node::Dir(_)))
        .count() as u32
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn kind_of(node: &Node) -> EntryKind {
    match node {
        Node::Dir(_) => EntryKind::Directory,
        Node::File(_) => EntryKind::File,
        Node::Symlink(_) => EntryKind::Symlink,
        Node::Special(s) => match s.kind {
            SpecialKind::Fifo => EntryKind::Fifo,
            SpecialKind::Socket => EntryKind::Socket,
            SpecialKind::CharDevice => EntryKind::CharDevice,
            SpecialKind::BlockDevice => EntryKind::BlockDevice,
        },
    }
}

fn article(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Directory => "a directory",
        EntryKind::File => "a file",
        EntryKind::Symlink => "a symlink",
        EntryKind::CharDevice => "a character device",
        EntryKind::BlockDevice => "a block device",
        EntryKind::Fifo => "a FIFO",
        EntryKind::Socket => "a socket",
    }
}

/// Streams the source and the image's file side by side: None when equal, else what differs.
fn compare_bytes<R: Read + Seek>(
    volume: &mut Volume<R>,
    index: usize,
    file: &FileNode,
    (ours, theirs): &mut (Vec<u8>, Vec<u8>),
) -> Option<String> {
    let source_name = file.source.display();
    let mut source = match File::open(&file.source) {
        Ok(source) => source,
        Err(e) => return Some(format!("its source {source_name} cannot be read: {e}")),
    };
    let mut pos = 0u64;
    while pos < file.size {
        let want = COMPARE_CHUNK.min((file.size - pos) as usize);
        let mut filled = 0;
        while filled < want {
            match volume.read_at(index, pos + filled as u64, &mut ours[filled..want]) {
                Ok(0) => return Some(format!("ends at byte {}", pos + filled as u64)),
                Ok(n) => filled += n,
                Err(why) => return Some(why),
            }
        }
        if let Err(e) = source.read_exact(&mut theirs[..want]) {
            return Some(format!(
                "its source {source_name} cannot be read to byte {}: {e} (did it change?)",
                pos + want as u64
            ));
        }
        if ours[..want] != theirs[..want] {
            let at = ours[..want]
                .iter()
                .zip(&theirs[..want])
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Some(format!(
                "differs from {source_name} at byte {}",
                pos + at as u64
            ));
        }
        pos += want as u64;
    }
    None
}
