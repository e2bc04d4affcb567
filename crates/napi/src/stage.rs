//! Source trees of filesystems built by outside tools (mkfs.ext4, mksquashfs): the scan, what it
//! takes, and staging it as one folder of links.

use imgforge_stage::{check_readable, scan, stage, usage, Kind};
use imgforge_tree::{Source, Tree};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{invalid, FilesystemSource};

/// What a tree takes in an ext4 filesystem of 4 KiB blocks (see imgforge_stage::Usage).
#[napi(object)]
pub struct TreeUsage {
    pub inodes: f64,
    pub files: f64,
    pub file_bytes: f64,
    pub file_blocks: f64,
    pub directories: f64,
    pub directory_blocks: f64,
    pub symlink_blocks: f64,
}

/// A node staged as a new inode and the owner its source has.
#[napi(object)]
pub struct CreatedNode {
    pub path: String,
    pub uid: u32,
    pub gid: u32,
}

#[napi(object)]
pub struct StageOutcome {
    pub linked: f64,
    pub reflinked: f64,
    pub copied: f64,
    pub created: Vec<CreatedNode>,
}

/// A scanned source tree for ext4 or squashfs: symlinks, special files and hard links kept.
#[napi]
pub struct ToolTree {
    tree: Tree,
}

#[napi]
impl ToolTree {
    /// `kind` is "ext4" or "squashfs" (for the wording of errors).
    #[napi(factory)]
    pub fn scan(sources: Vec<FilesystemSource>, kind: String) -> Result<Self> {
        let kind = match kind.as_str() {
            "ext4" => Kind::Ext4,
            "squashfs" => Kind::Squashfs,
            other => {
                return Err(invalid(format!(
                    "kind must be ext4 or squashfs, got {other:?}"
                )))
            }
        };
        let sources: Vec<Source> = sources.into_iter().map(Source::from).collect();
        Ok(ToolTree {
            tree: scan(&sources, kind).map_err(invalid)?,
        })
    }

    /// Every entry of the scanned tree, for `verify` to compare the image with: the root first,
    /// then each directory's entries, a directory's contents after it.
    #[napi]
    pub fn entries(&self) -> Vec<crate::source_listing::SourceEntry> {
        crate::source_listing::entries(&self.tree)
    }

    /// Whether the scan read the file or directory with this device and inode number.
    #[napi]
    pub fn reads(&self, dev: BigInt, ino: BigInt) -> bool {
        crate::reads(&self.tree.source_ids, dev, ino)
    }

    #[napi(getter)]
    pub fn usage(&self) -> TreeUsage {
        let u = usage(&self.tree);
        TreeUsage {
            inodes: u.inodes as f64,
            files: u.files as f64,
            file_bytes: u.file_bytes as f64,
            file_blocks: u.file_blocks as f64,
            directories: u.directories as f64,
            directory_blocks: u.directory_blocks as f64,
            symlink_blocks: u.symlink_blocks as f64,
        }
    }

    /// Throws, naming the file, when a regular file of the tree cannot be opened for reading.
    #[napi]
    pub fn check_readable(&self) -> Result<()> {
        check_readable(&self.tree).map_err(invalid)
    }

    /// Stages the tree into `root`, an empty folder that becomes the filesystem's root.
    #[napi]
    pub fn stage(&self, root: String) -> Result<StageOutcome> {
        let staged = stage(&self.tree, std::path::Path::new(&root))
            .map_err(|e| Error::new(Status::GenericFailure, e))?;
        Ok(StageOutcome {
            linked: staged.linked as f64,
            reflinked: staged.reflinked as f64,
            copied: staged.copied as f64,
            created: staged
                .created
                .into_iter()
                .map(|c| CreatedNode {
                    path: c.path,
                    uid: c.uid,
                    gid: c.gid,
                })
                .collect(),
        })
    }
}

/// The ranges of `[offset, offset + length)` of the file at `path` that hold data (SEEK_DATA and
/// SEEK_HOLE, aligned to 4 KiB): the data map of what mkfs.ext4 wrote into the image.
#[napi]
pub fn data_ranges_in(path: String, offset: f64, length: f64) -> Result<Vec<crate::DataRange>> {
    let start = crate::to_u64(offset, "offset")?;
    let end = start + crate::to_u64(length, "length")?;
    let file = std::fs::File::open(&path)
        .map_err(|e| Error::new(Status::GenericFailure, format!("{path}: {e}")))?;
    let mut sys = imgforge_copy::DefaultSyscalls::default();
    Ok(
        imgforge_copy::data_ranges(&mut sys, &file, start, end, 4096)
            .into_iter()
            .map(crate::DataRange::from)
            .collect(),
    )
}
