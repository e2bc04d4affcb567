//! Scanning sources for a FAT filesystem: the shared scanner ([`imgforge_tree::scan`]) with
//! FAT's policy (symlinks followed, special files refused, FAT long names folded for case,
//! 256 levels, files under 4 GiB), then FAT's own check that every directory's entries fit.

use imgforge_tree::{Names, Policy, Specials, Symlinks, Wording};

use crate::names::{assign_short_names, child_entries, fold_case, validate_long_name};
use crate::read::MAX_DEPTH;
use crate::tree::{Dir, FileNode, Node, ScanError, Source, Tree};

/// A FAT directory entry stores the size in 32 bits.
const MAX_FILE_SIZE: u64 = u32::MAX as u64;
/// Directory entry indices are 16 bits wide (FAT spec), so 65,536 32-byte entries per directory.
const MAX_DIR_ENTRIES: usize = 65_536;

pub fn scan(sources: &[Source]) -> Result<Tree, ScanError> {
    let tree = imgforge_tree::scan(sources, &policy())?;
    let root = fat_dir(tree.root, "/")?;
    Ok(Tree {
        root,
        source_ids: tree.source_ids,
    })
}

/// What a FAT32 volume imgforge writes can hold, and how its limits are worded.
fn policy() -> Policy {
    Policy {
        symlinks: Symlinks::Follow,
        specials: Specials::Refuse,
        xattrs: false,
        // The reader (inspect, verify) stops there: refuse what it cannot read.
        max_depth: MAX_DEPTH,
        max_file_size: MAX_FILE_SIZE,
        names: Names {
            check: check_name,
            key: Some(fold_case),
        },
        wording: Wording {
            a_name: "a FAT name",
            unicode: "FAT names are Unicode",
            same_key: "differ only in case; FAT names are case-insensitive",
            specials: "only regular files and directories can go into a FAT filesystem",
            depth: "a FAT32 volume imgforge writes holds at most",
            file_size: "a FAT file holds at most",
        },
    }
}

fn check_name(name: &str) -> Result<(), String> {
    validate_long_name(name).map_err(|e| e.to_string())
}

/// The FAT view of a scanned directory at `path`, its subdirectories first checked for their
/// number of entries. Recursion is bounded by the policy's depth.
fn fat_dir(dir: imgforge_tree::Dir, path: &str) -> Result<Dir, ScanError> {
    let mut entries = Vec::with_capacity(dir.entries.len());
    for node in dir.entries {
        entries.push(match node {
            imgforge_tree::Node::Dir(sub) => {
                let sub_path = match path {
                    "/" => format!("/{}", sub.name),
                    _ => format!("{path}/{}", sub.name),
                };
                Node::Dir(fat_dir(sub, &sub_path)?)
            }
            imgforge_tree::Node::File(file) => Node::File(FileNode {
                name: file.name,
                source: file.source,
                size: file.size,
                mtime: file.meta.mtime,
            }),
            imgforge_tree::Node::Symlink(_) | imgforge_tree::Node::Special(_) => {
                unreachable!("the FAT policy follows symlinks and refuses special files")
            }
        });
    }
    let names: Vec<&str> = entries.iter().map(Node::name).collect();
    let count = dir_entry_count(&names);
    if count > MAX_DIR_ENTRIES {
        return Err(ScanError {
            message: format!(
                "{path} needs {count} directory entries (long names take several each); a FAT directory holds at most {MAX_DIR_ENTRIES}"
            ),
        });
    }
    Ok(Dir {
        name: dir.name,
        mtime: dir.meta.mtime,
        entries,
    })
}

/// The 32-byte entries a directory with these (sorted) names takes: "." and ".." (the root
/// has a volume label instead, but counting 2 keeps one rule), then per name its short entry
/// and, unless it is a plain 8.3 name, its long-name entries.
fn dir_entry_count(names: &[&str]) -> usize {
    2 + child_entries(names, &assign_short_names(names)) as usize
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
