//! The tree walk: every directory read once, without recursion, every file's chain followed
//! and checked against its size, each problem reported with the path it concerns.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};
use std::ops::Range;

use super::dir::{parse_directory, DirProblem, DotEntry, RawChild};
use super::fat::{Chain, ChainEnd, Chains};
use super::findings::{FindingCode, Findings, MAX_FINDINGS_PER_CODE};
use crate::names::fold_case;
use crate::ondisk::dirent::ENTRY_BYTES;

/// FAT's limit on a directory: entry indices are 16 bits wide.
pub(crate) const MAX_DIR_ENTRIES: u64 = 65_536;
/// Nesting the walk follows. Paths this deep already exceed every OS's path limit; the bound
/// keeps each path (and the listing of a hostile volume) from growing without end.
pub const MAX_DEPTH: u32 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
}

/// A file or directory of the volume. Entry 0 is the root, its own parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeEntry {
    /// The long name when there is a valid one, else the 8.3 name ("" for the root).
    pub name: String,
    /// The 8.3 name as stored ("LONGNA~1.TXT"), with the case flags applied.
    pub short_name: String,
    pub kind: EntryKind,
    /// Bytes, from the directory entry (0 for directories).
    pub size: u32,
    pub first_cluster: u32,
    /// Last modification, seconds since the Unix epoch, the FAT time read as UTC; None when
    /// the stored date is not a date.
    pub modified: Option<i64>,
    pub attributes: u8,
    /// Index of the parent directory's entry.
    pub parent: usize,
    pub(crate) depth: u32,
    /// Entries of this directory: a range of indices (empty for files and unread directories).
    pub(crate) children: Range<usize>,
    /// Clusters of the chain this entry holds by itself, from its first cluster on.
    pub(crate) clusters: u32,
}

pub(crate) struct Walk<'a, R> {
    pub chains: Chains<'a, R>,
    pub findings: &'a mut Findings,
    pub entries: Vec<VolumeEntry>,
    /// The root's volume-label entry.
    pub label: Option<String>,
    /// Entries in the order their chains were followed (the owner of a cluster is the first).
    order: Vec<usize>,
    /// Entries that ran into clusters another chain held: (entry, from cluster, into cluster).
    cross_links: Vec<(usize, Option<u32>, u32)>,
}

/// The root directory's entry, before it is read: no children yet.
pub(crate) fn root_entry(first_cluster: u32) -> VolumeEntry {
    VolumeEntry {
        name: String::new(),
        short_name: String::new(),
        kind: EntryKind::Directory,
        size: 0,
        first_cluster,
        modified: None,
        attributes: crate::ondisk::dirent::ATTR_DIRECTORY,
        parent: 0,
        depth: 0,
        children: 0..0,
        clusters: 0,
    }
}

impl<'a, R: Read + Seek> Walk<'a, R> {
    pub(super) fn new(chains: Chains<'a, R>, findings: &'a mut Findings) -> Self {
        let root = root_entry(chains.layout.root_cluster);
        Walk {
            chains,
            findings,
            entries: vec![root],
            label: None,
            order: Vec::new(),
            cross_links: Vec::new(),
        }
    }

    pub(super) fn run(&mut self) {
        let mut pending = vec![0usize];
        while let Some(dir) = pending.pop() {
            let bytes = self.read_directory(dir);
            let parsed = parse_directory(&bytes);
            if dir == 0 {
                self.label = parsed.label;
            }
            // A directory not read (a loop, a read error) has no entries to judge.
            if !bytes.is_empty() {
                self.check_dots(dir, &parsed.dots);
            }
            self.report_problems(dir, &parsed.problems);
            let start = self.entries.len();
            self.add_children(dir, parsed.children);
            self.entries[dir].children = start..self.entries.len();
            for child in (start..self.entries.len()).rev() {
                match self.entries[child].kind {
                    EntryKind::File => self.claim_file(child),
                    EntryKind::Directory if self.entries[child].depth > MAX_DEPTH => {
                        if !self.wanted(FindingCode::DirectoryTooDeep) {
                            continue;
                        }
                        let message = format!(
                            "{} is nested more than {MAX_DEPTH} directories deep; it is not \
                             read, and its clusters count as lost",
                            self.path(child)
                        );
                        self.add(FindingCode::DirectoryTooDeep, child, message);
                    }
                    EntryKind::Directory => pending.push(child),
                }
            }
        }
        self.resolve_cross_links();
    }

    /// "/a/b" of entry `index` ("/" for the root).
    pub(super) fn path(&self, index: usize) -> String {
        entry_path(&self.entries, index)
    }

    fn add(&mut self, code: FindingCode, index: usize, message: String) {
        let path = self.path(index);
        self.findings.add(code, Some(path), message);
    }

    /// Whether a finding of `code` would be kept; see `Findings::accepts`.
    fn wanted(&mut self, code: FindingCode) -> bool {
        self.findings.wants(code)
    }

    fn add_children(&mut self, dir: usize, children: Vec<RawChild>) {
        let depth = self.entries[dir].depth + 1;
        let mut seen = HashSet::with_capacity(children.len());
        for child in children {
            if !seen.insert(fold_case(&child.name)) && self.wanted(FindingCode::DuplicateName) {
                let message = format!(
                    "{} holds more than one entry named \"{}\" (names compare without case)",
                    self.path(dir),
                    child.name
                );
                self.add(FindingCode::DuplicateName, dir, message);
            }
            let is_dir = child.is_dir();
            let kind = if is_dir {
                EntryKind::Directory
            } else {
                EntryKind::File
            };
            self.entries.push(VolumeEntry {
                name: child.name,
                short_name: child.short_name,
                kind,
                size: if is_dir { 0 } else { child.size },
                first_cluster: child.first_cluster,
                modified: child.modified,
                attributes: child.attributes,
                parent: dir,
                depth,
                children: 0..0,
                clusters: 0,
            });
        }
    }

    /// Claims the directory's chain and reads its entries (at most MAX_DIR_ENTRIES).
    fn read_directory(&mut self, dir: usize) -> Vec<u8> {
        let first = self.entries[dir].first_cluster;
        if dir != 0 && self.is_ancestor_cluster(dir, first) {
            let message = format!(
                "{} starts at cluster {first}, which is a directory that contains it",
                self.path(dir)
            );
            self.add(FindingCode::DirectoryLoop, dir, message);
            return Vec::new();
        }
        let cluster_size = u64::from(self.chains.layout.cluster_size);
        let limit = (MAX_DIR_ENTRIES * ENTRY_BYTES as u64).div_ceil(cluster_size);
        let mut clusters = Vec::new();
        let chain = self.chains.follow(first, &mut |c| {
            if (clusters.len() as u64) < limit {
                clusters.push(c);
            }
        });
        self.claimed(dir, &chain);
        if u64::from(chain.clusters) > limit {
            let message = format!(
                "{} takes {} clusters, more than FAT's {MAX_DIR_ENTRIES} entries; the entries \
                 after the first {MAX_DIR_ENTRIES} are not read",
                self.path(dir),
                chain.clusters
            );
            self.add(FindingCode::DirectoryTooLarge, dir, message);
        }
        self.report_chain(dir, chain);
        self.read_clusters(dir, &clusters)
    }

    /// Whether a directory containing `dir` starts at `cluster`.
    fn is_ancestor_cluster(&self, dir: usize, cluster: u32) -> bool {
        let mut at = self.entries[dir].parent;
        loop {
            if self.entries[at].first_cluster == cluster {
                return true;
            }
            if at == 0 {
                return false;
            }
            at = self.entries[at].parent;
        }
    }

    /// The bytes of `clusters`, read in runs of consecutive clusters; stops at a failed read.
    fn read_clusters(&mut self, dir: usize, clusters: &[u32]) -> Vec<u8> {
        let layout = self.chains.layout;
        let size = layout.cluster_size as usize;
        let mut bytes = vec![0u8; clusters.len() * size];
        let mut start = 0;
        while start < clusters.len() {
            let mut end = start + 1;
            while end < clusters.len() && clusters[end] == clusters[end - 1] + 1 {
                end += 1;
            }
            let at = layout.cluster_offset(clusters[start]);
            let buf = &mut bytes[start * size..end * size];
            if let Err(error) = self.chains.disk.read_at(at, buf) {
                let message = format!(
                    "cannot read the directory {} at cluster {}: {error}",
                    self.path(dir),
                    clusters[start]
                );
                self.add(FindingCode::ReadFailed, dir, message);
                bytes.truncate(start * size);
                break;
            }
            start = end;
        }
        bytes
    }

    fn claim_file(&mut self, file: usize) {
        let entry = &self.entries[file];
        let (first, size) = (entry.first_cluster, u64::from(entry.size));
        let needed = size.div_ceil(u64::from(self.chains.layout.cluster_size));
        if first == 0 {
            if size > 0 {
                let message = format!("{} is {size} bytes but has no clusters", self.path(file));
                self.add(FindingCode::ChainLengthMismatch, file, message);
            }
            return;
        }
        let chain = self.chains.follow(first, &mut |_| {});
        self.claimed(file, &chain);
        if matches!(chain.end, ChainEnd::Complete) && u64::from(chain.clusters) != needed {
            let message = format!(
                "{} is {size} bytes, which takes {needed} clusters, but its chain from cluster \
                 {first} has {}",
                self.path(file),
                chain.clusters
            );
            self.add(FindingCode::ChainLengthMismatch, file, message);
        }
        self.report_chain(file, chain);
    }

    /// Records the chain an entry holds; reads go no further than its sound part, which
    /// ends before a cluster the FAT marks free or bad.
    fn claimed(&mut self, index: usize, chain: &Chain) {
        let unsound = matches!(chain.end, ChainEnd::Free { .. } | ChainEnd::Bad { .. });
        self.entries[index].clusters = chain.clusters - u32::from(unsound);
        self.order.push(index);
    }

    fn report_chain(&mut self, index: usize, chain: Chain) {
        if let ChainEnd::CrossLinked { from, to } = chain.end {
            // Reported once the walk is over and the other owner is known.
            self.cross_links.push((index, from, to));
            return;
        }
        let Some(code) = chain.end.finding_code() else {
            return;
        };
        if self.wanted(code) {
            let path = self.path(index);
            let message = chain.end.describe(&path, &self.chains.layout.data_range());
            self.findings.add(code, Some(path), message);
        }
    }

    /// Names the entry whose chain holds each cross-linked cluster, with one more pass over
    /// the chains (only when there are cross-links).
    fn resolve_cross_links(&mut self) {
        if self.cross_links.is_empty() {
            return;
        }
        // Beyond what the findings keep, owners are not worth another lookup: those are only
        // counted, after the kept ones are added.
        let beyond = self.cross_links.len().saturating_sub(MAX_FINDINGS_PER_CODE);
        self.cross_links.truncate(MAX_FINDINGS_PER_CODE);
        let mut owners: HashMap<u32, Option<usize>> = self
            .cross_links
            .iter()
            .map(|&(_, _, c)| (c, None))
            .collect();
        for &index in &self.order {
            let entry = &self.entries[index];
            self.chains
                .prefix(entry.first_cluster, entry.clusters, &mut |c| {
                    if let Some(owner @ None) = owners.get_mut(&c) {
                        *owner = Some(index);
                    }
                });
        }
        for (index, from, cluster) in std::mem::take(&mut self.cross_links) {
            let path = self.path(index);
            let how = match from {
                None => format!("{path} starts at cluster {cluster}"),
                Some(from) => format!("the chain of {path} leads from cluster {from} to {cluster}"),
            };
            let message = match owners.get(&cluster).copied().flatten() {
                Some(owner) => format!(
                    "{how}, which belongs to {}: they share clusters",
                    self.path(owner)
                ),
                None => format!("{how}, which another chain holds"),
            };
            self.add(FindingCode::CrossLinked, index, message);
        }
        for _ in 0..beyond {
            self.wanted(FindingCode::CrossLinked);
        }
    }

    fn check_dots(&mut self, dir: usize, dots: &[DotEntry]) {
        let path = self.path(dir);
        if dir == 0 {
            if let Some(dot) = dots.first() {
                let message = format!(
                    "the root directory holds a \"{}\" entry (slot {})",
                    if dot.dot_dot { ".." } else { "." },
                    dot.slot
                );
                self.add(FindingCode::DotEntryInvalid, dir, message);
            }
            return;
        }
        let own = self.entries[dir].first_cluster;
        let parent = self.entries[dir].parent;
        // ".." of a directory in the root holds 0; Linux also accepts the root's cluster.
        let parent_cluster = self.entries[parent].first_cluster;
        let expected_parent = if parent == 0 { 0 } else { parent_cluster };
        let dot = dots.iter().find(|d| d.slot == 0 && !d.dot_dot);
        let dot_dot = dots.iter().find(|d| d.slot == 1 && d.dot_dot);
        let problem = match (dot, dot_dot) {
            (None, _) | (_, None) => {
                Some("its first two entries are not \".\" and \"..\"".to_string())
            }
            (Some(d), _) if d.cluster != own => Some(format!(
                "\".\" points to cluster {} instead of its own cluster {own}",
                d.cluster
            )),
            (_, Some(d))
                if d.cluster != expected_parent
                    && !(parent == 0 && d.cluster == parent_cluster) =>
            {
                Some(format!(
                    "\"..\" points to cluster {} instead of {expected_parent}",
                    d.cluster
                ))
            }
            _ => dots
                .get(2)
                .map(|extra| format!("it holds another dot entry at slot {}", extra.slot)),
        };
        if let Some(problem) = problem {
            self.add(
                FindingCode::DotEntryInvalid,
                dir,
                format!("{path}: {problem}"),
            );
        }
    }

    fn report_problems(&mut self, dir: usize, problems: &[DirProblem]) {
        let path = self.path(dir);
        let join = |name: &str| join_path(&path, name);
        for problem in problems {
            let code = match problem {
                DirProblem::LfnChecksum { .. } => FindingCode::LfnChecksumMismatch,
                DirProblem::LfnOrphaned { .. } => FindingCode::LfnOrphaned,
                DirProblem::InvalidName { .. } => FindingCode::InvalidName,
            };
            if !self.findings.wants(code) {
                continue;
            }
            let (at, message) = match problem {
                DirProblem::LfnChecksum {
                    short_name,
                    long_name,
                    ..
                } => (
                    join(short_name),
                    format!(
                        "in {path}, the long name \"{long_name}\" does not belong to the short \
                         entry {short_name} after it (checksum mismatch); {} is shown by its \
                         short name",
                        join(short_name)
                    ),
                ),
                DirProblem::LfnOrphaned { first, last } => (
                    path.clone(),
                    format!("in {path}, the long-name entries at slots {first} to {last} belong to no short entry"),
                ),
                DirProblem::InvalidName { slot, name, why } => (
                    join(name),
                    format!("in {path}, the name of entry {slot} is invalid: {why}; shown as \"{name}\""),
                ),
            };
            self.findings.add(code, Some(at), message);
        }
    }
}

pub(crate) fn join_path(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// "/a/b" of entry `index` in `entries` ("/" for the root).
pub(crate) fn entry_path(entries: &[VolumeEntry], index: usize) -> String {
    let mut names = Vec::new();
    let mut at = index;
    while at != 0 {
        names.push(entries[at].name.as_str());
        at = entries[at].parent;
    }
    if names.is_empty() {
        return "/".to_string();
    }
    names
        .iter()
        .rev()
        .fold(String::new(), |path, name| path + "/" + name)
}
