//! The source tree of a filesystem that an outside tool builds (`mkfs.ext4 -d`, `mksquashfs`):
//!
//! - [`scan`]: the shared scanner's tree with the tool's name limit (255 bytes), so a name the
//!   filesystem cannot hold is reported with its source before anything runs.
//! - [`usage`]: what the tree takes in the filesystem (inodes, data and directory blocks), from
//!   which imgforge sizes an ext4 before running mkfs.ext4.
//! - [`stage`]: the tree put down as one folder the tool reads, without copying file data:
//!   hard links to the sources where they are on the same filesystem, else a reflink (FICLONE),
//!   else a copy. Folders are created (they cannot be linked), and symlinks and special files
//!   are linked where they can be and recreated where they cannot.

#![warn(unreachable_pub)]

mod stage;
mod usage;

pub use stage::{stage, Created, Staged};
pub use usage::{usage, Usage};

use imgforge_tree::{Names, Policy, ScanError, Source, Tree, Wording};

/// The longest name ext4 (EXT4_NAME_LEN) and squashfs (SQUASHFS_NAME_LEN is 256, but Linux
/// names stop at 255) can hold, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Which filesystem the tree is for, for the scan's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ext4,
    Squashfs,
}

fn tool_name(name: &str) -> Result<(), String> {
    match name.len() {
        0 => Err("an empty name".to_string()),
        n if n > MAX_NAME_BYTES => Err(format!(
            "{n} bytes long; names hold at most {MAX_NAME_BYTES}"
        )),
        _ => Ok(()),
    }
}

/// Scans `sources` into the tree the filesystem is built from: symlinks, special files and hard
/// links kept (extended attributes are not read: neither filesystem gets them).
pub fn scan(sources: &[Source], kind: Kind) -> Result<Tree, ScanError> {
    let defaults = Policy::default();
    let (a_name, specials) = match kind {
        Kind::Ext4 => (
            "an ext4 name",
            "only regular files, directories, symlinks and special files can go into ext4",
        ),
        Kind::Squashfs => (
            "a squashfs name",
            "only regular files, directories, symlinks and special files can go into squashfs",
        ),
    };
    let policy = Policy {
        xattrs: false,
        names: Names {
            check: tool_name,
            key: None,
        },
        wording: Wording {
            a_name,
            specials,
            ..defaults.wording
        },
        ..defaults
    };
    imgforge_tree::scan(sources, &policy)
}

/// Opens every regular file of `tree` for reading and closes it again: a file the tool could
/// not read is reported with its path before anything is written, rather than as the tool's
/// own message without a name. Hard links are opened once.
pub fn check_readable(tree: &Tree) -> Result<(), String> {
    let mut stack: Vec<(&imgforge_tree::Dir, String)> = vec![(&tree.root, String::new())];
    let mut seen = std::collections::HashSet::new();
    while let Some((dir, path)) = stack.pop() {
        for node in &dir.entries {
            let here = format!("{path}/{}", node.name());
            match node {
                imgforge_tree::Node::Dir(sub) => stack.push((sub, here)),
                imgforge_tree::Node::File(file) => {
                    if file.link.is_some_and(|id| !seen.insert(id)) {
                        continue;
                    }
                    if let Err(e) = std::fs::File::open(&file.source) {
                        return Err(format!(
                            "{here} (from {}) cannot be read: {e}",
                            file.source.display()
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_of_256_bytes_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let long = "n".repeat(256);
        // Linux itself refuses names over 255 bytes, so the long name is a target.
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let sources = [Source {
            source: dir.path().join("f"),
            target: format!("/{long}"),
        }];
        let error = scan(&sources, Kind::Ext4).unwrap_err().to_string();
        assert!(
            error.contains("256 bytes long; names hold at most 255"),
            "{error}"
        );
        assert!(error.contains("an ext4 name"), "{error}");
        let ok = [Source {
            source: dir.path().join("f"),
            target: format!("/{}", "n".repeat(255)),
        }];
        assert!(scan(&ok, Kind::Squashfs).is_ok());
    }

    #[test]
    fn check_readable_names_a_file_that_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/ok"), b"x").unwrap();
        let sources = [Source {
            source: dir.path().to_path_buf(),
            target: "/".into(),
        }];
        let tree = scan(&sources, Kind::Ext4).unwrap();
        assert_eq!(check_readable(&tree), Ok(()));
        // The file goes away after the scan: opening it fails, and the error names it.
        std::fs::remove_file(dir.path().join("d/ok")).unwrap();
        let error = check_readable(&tree).unwrap_err();
        assert!(error.starts_with("/d/ok (from "), "{error}");
        assert!(error.contains("cannot be read"), "{error}");
    }
}
