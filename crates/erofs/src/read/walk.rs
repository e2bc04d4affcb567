//! The whole tree, breadth first from the root: every directory's blocks parsed, every entry's
//! inode read and checked, each finding recorded with its path. A directory reached twice is
//! a loop and is not entered again, so the walk ends on every input.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use super::dir::{name_problem, parse_block, Dirent};
use super::findings::{FindingCode, Findings};
use super::inode::{Inode, Problem};
use super::superblock::Superblock;
use super::{EntryKind, VolumeEntry, MAX_DEPTH, MAX_ENTRIES};
use crate::ondisk::file_type;
use imgforge_partition_read::Disk;

pub(crate) struct Walk<'a, R> {
    pub(crate) disk: &'a mut Disk<R>,
    pub(crate) sb: &'a Superblock,
    pub(crate) findings: &'a mut Findings,
    pub(crate) entries: Vec<VolumeEntry>,
    /// Directory bytes parsed so far, over all directories.
    pub(crate) dir_bytes: u64,
}

/// The path of entry `index`, from its parents' names.
pub(crate) fn path_of(entries: &[VolumeEntry], index: usize) -> String {
    if index == 0 {
        return "/".to_string();
    }
    let mut names = Vec::new();
    let mut at = index;
    while at != 0 {
        names.push(String::from_utf8_lossy(&entries[at].name).into_owned());
        at = entries[at].parent;
    }
    names.reverse();
    format!("/{}", names.join("/"))
}

impl<R: Read + Seek> Walk<'_, R> {
    fn problem(&mut self, index: usize, (code, message): Problem) {
        if self.findings.wants(code) {
            let path = path_of(&self.entries, index);
            self.findings
                .add(code, Some(path.clone()), format!("{path}: {message}"));
        }
    }

    /// Reads the tree from the root inode.
    pub(crate) fn run(mut self) -> Vec<VolumeEntry> {
        let root = match Inode::read(self.disk, self.sb, u64::from(self.sb.root_nid)) {
            Ok(root) if EntryKind::of(root.mode) == EntryKind::Directory => root,
            Ok(_) => {
                let message = format!("the root inode {} is not a directory", self.sb.root_nid);
                self.findings.add(FindingCode::InodeInvalid, None, message);
                return self.entries;
            }
            Err((code, message)) => {
                self.findings
                    .add(code, None, format!("the root: {message}"));
                return self.entries;
            }
        };
        self.entries.push(VolumeEntry::new(Vec::new(), 0, 0, root));
        let mut entered: HashSet<u64> = HashSet::from([self.entries[0].inode.nid]);
        let mut next = 0;
        while next < self.entries.len() {
            let index = next;
            next += 1;
            if self.entries[index].kind != EntryKind::Directory
                || index > 0 && !self.enter(index, &mut entered)
            {
                continue;
            }
            let Some(dirents) = self.read_dir(index) else {
                continue;
            };
            let first_child = self.entries.len();
            for dirent in dirents {
                if self.entries.len() >= MAX_ENTRIES {
                    let message = format!("more than {MAX_ENTRIES} entries; the rest are not read");
                    self.findings
                        .add(FindingCode::TooManyEntries, None, message);
                    self.entries[index].children = first_child..self.entries.len();
                    return self.finish();
                }
                self.add_child(index, dirent);
            }
            self.entries[index].children = first_child..self.entries.len();
        }
        self.finish()
    }

    /// Whether directory `index` is entered: not when it was entered before or is too deep.
    fn enter(&mut self, index: usize, entered: &mut HashSet<u64>) -> bool {
        let nid = self.entries[index].inode.nid;
        if !entered.insert(nid) {
            self.problem(
                index,
                (
                    FindingCode::DirectoryLoop,
                    format!("directory inode {nid} is reached a second time"),
                ),
            );
            return false;
        }
        if self.entries[index].depth > MAX_DEPTH {
            self.problem(
                index,
                (
                    FindingCode::DirectoryTooDeep,
                    format!("deeper than {MAX_DEPTH} directories; not read"),
                ),
            );
            return false;
        }
        true
    }

    /// The directory's entries but "." and "..", checked for order, names and dots.
    fn read_dir(&mut self, index: usize) -> Option<Vec<Dirent>> {
        let inode = self.entries[index].inode.clone();
        let block = self.sb.block_size();
        let mut all: Vec<Dirent> = Vec::new();
        let mut pos = 0;
        while pos < inode.size {
            let len = block.min(inode.size - pos);
            // Directories own their blocks, so together they hold at most the filesystem's
            // bytes. Chunk indexes or block addresses that repeat one directory block would
            // otherwise turn a 64 KiB image into millions of entries (memory, time).
            self.dir_bytes += len;
            if self.dir_bytes > self.sb.span() {
                let why = "the directories hold more bytes than the filesystem: they share blocks";
                self.problem(index, (FindingCode::DirectoryInvalid, why.into()));
                break;
            }
            let bytes = match inode.read_data(self.disk, self.sb, pos, len) {
                Ok(bytes) => bytes,
                Err(problem) => {
                    self.problem(index, problem);
                    break;
                }
            };
            match parse_block(&bytes) {
                Ok(dirents) => all.extend(dirents),
                Err(why) => {
                    self.problem(
                        index,
                        (
                            FindingCode::DirectoryInvalid,
                            format!("block {}: {why}", pos / block),
                        ),
                    );
                    break;
                }
            }
            pos += len;
        }
        if all.windows(2).any(|w| w[0].name >= w[1].name) {
            self.problem(
                index,
                (
                    FindingCode::DirectoryUnsorted,
                    "its names are not in strictly increasing byte order".into(),
                ),
            );
        }
        let parent_nid = self.entries[self.entries[index].parent].inode.nid;
        for (dot, nid) in [(&b"."[..], inode.nid), (b"..", parent_nid)] {
            match all.iter().find(|d| d.name == dot) {
                Some(d) if d.nid == nid => {}
                Some(d) => self.problem(
                    index,
                    (
                        FindingCode::DotEntryInvalid,
                        format!(
                            "{:?} points to inode {}, not {nid}",
                            String::from_utf8_lossy(dot),
                            d.nid
                        ),
                    ),
                ),
                None => self.problem(
                    index,
                    (
                        FindingCode::DotEntryInvalid,
                        format!("it has no {:?} entry", String::from_utf8_lossy(dot)),
                    ),
                ),
            }
        }
        all.retain(|d| d.name != b"." && d.name != b"..");
        all.dedup_by(|b, a| a.name == b.name);
        Some(all)
    }

    fn add_child(&mut self, parent: usize, dirent: Dirent) {
        if let Some(why) = name_problem(&dirent.name) {
            self.problem(parent, (FindingCode::NameInvalid, why));
            return;
        }
        let depth = self.entries[parent].depth + 1;
        match Inode::read(self.disk, self.sb, dirent.nid) {
            Ok(inode) => {
                let stored = dirent.file_type;
                let entry = VolumeEntry::new(dirent.name, parent, depth, inode);
                self.entries.push(entry);
                let index = self.entries.len() - 1;
                let wanted = file_type(self.entries[index].inode.mode);
                if stored != wanted {
                    self.problem(index, (FindingCode::FileTypeMismatch, format!("the directory entry says file type {stored}; the inode's mode, {wanted}")));
                }
                if let Err(problem) = self.entries[index].inode.xattrs(self.disk, self.sb) {
                    self.problem(index, problem);
                }
            }
            Err(problem) => {
                let name = String::from_utf8_lossy(&dirent.name).into_owned();
                let (code, message) = problem;
                self.problem(parent, (code, format!("entry {name:?}: {message}")));
            }
        }
    }

    /// Checks every non-directory's link count against the names that reach it.
    fn finish(mut self) -> Vec<VolumeEntry> {
        let mut names: HashMap<u64, (u32, usize)> = HashMap::new();
        for (index, entry) in self.entries.iter().enumerate() {
            if entry.kind != EntryKind::Directory {
                names.entry(entry.inode.nid).or_insert((0, index)).0 += 1;
            }
        }
        let mut wrong: Vec<(usize, u32)> = names
            .into_values()
            .filter(|(n, i)| self.entries[*i].inode.nlink != *n)
            .map(|(n, i)| (i, n))
            .collect();
        wrong.sort_unstable();
        for (index, count) in wrong {
            let nlink = self.entries[index].inode.nlink;
            self.problem(
                index,
                (
                    FindingCode::LinkCountWrong,
                    format!("its link count is {nlink}; {count} names reach it"),
                ),
            );
        }
        self.entries
    }
}
