//! FAT32 partitions: a scanned source tree held in Rust, and the plans made from it, so the
//! build writes exactly the plan it made (and notices files that changed since).

use std::sync::Arc;

use imgforge_fat32::{
    scan, verify_partition, volume_label, write, FormatOptions, Plan, PreparedTree, Source,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{difference, invalid, to_u64, CopyProgress, CopyTask, FilesystemSource, VerifyTask};

/// What the filesystem is, not where it goes (that is given to `Fat32Tree.plan`).
#[napi(object)]
pub struct Fat32Options {
    pub bytes_per_sector: u32,
    pub cluster_size: Option<u32>,
    pub label: Option<String>,
    pub volume_id: u32,
    /// Seconds since the epoch for every timestamp (SOURCE_DATE_EPOCH).
    pub timestamp: Option<f64>,
    pub min_free: f64,
}

#[napi(object)]
pub struct Fat32Summary {
    pub cluster_size: u32,
    pub clusters: u32,
    pub used_clusters: u32,
    pub free_clusters: u32,
    pub directories: u32,
    pub files: u32,
    pub file_bytes: f64,
}

fn format_options(options: &Fat32Options) -> Result<FormatOptions> {
    let timestamp = match options.timestamp {
        Some(t) if t.is_finite() && t.fract() == 0.0 => Some(t as i64),
        Some(t) => return Err(invalid(format!("timestamp must be whole seconds, got {t}"))),
        None => None,
    };
    Ok(FormatOptions {
        bytes_per_sector: options.bytes_per_sector,
        cluster_size: options.cluster_size,
        label: options
            .label
            .as_deref()
            .map(volume_label)
            .transpose()
            .map_err(invalid)?,
        volume_id: options.volume_id,
        timestamp,
        min_free: to_u64(options.min_free, "minFree")?,
    })
}

impl From<imgforge_fat32::Summary> for Fat32Summary {
    fn from(s: imgforge_fat32::Summary) -> Self {
        Fat32Summary {
            cluster_size: s.cluster_size,
            clusters: s.clusters,
            used_clusters: s.used_clusters,
            free_clusters: s.free_clusters,
            directories: s.directories,
            files: s.files,
            file_bytes: s.file_bytes as f64,
        }
    }
}

/// A scanned source tree, prepared for planning. Scanning reads metadata only; errors name the
/// path.
#[napi]
pub struct Fat32Tree {
    tree: PreparedTree,
}

#[napi]
impl Fat32Tree {
    #[napi(factory)]
    pub fn scan(sources: Vec<FilesystemSource>) -> Result<Self> {
        let sources: Vec<Source> = sources.into_iter().map(Source::from).collect();
        let tree = scan(&sources).map_err(invalid)?;
        Ok(Fat32Tree {
            tree: PreparedTree::from(tree),
        })
    }

    /// Whether the scan read the file or directory with this device and inode number (as
    /// `fs.statSync(path, { bigint: true })` gives them).
    #[napi]
    pub fn reads(&self, dev: BigInt, ino: BigInt) -> bool {
        crate::reads(&self.tree.tree().source_ids, dev, ino)
    }

    /// The smallest partition, in bytes, that holds the tree, for a partition that starts on a
    /// 4 KiB block of the image (a start between blocks can need up to 7 more sectors).
    #[napi]
    pub fn minimum_size(&self, options: Fat32Options) -> Result<f64> {
        let size = self
            .tree
            .minimum_size(&format_options(&options)?)
            .map_err(invalid)?;
        Ok(size as f64)
    }

    /// Lays the filesystem out at byte `offset` of the image in `size` bytes; throws a plain
    /// Error when it does not fit.
    #[napi]
    pub fn plan(&self, options: Fat32Options, offset: f64, size: f64) -> Result<Fat32Plan> {
        let plan = self
            .tree
            .plan(
                &format_options(&options)?,
                to_u64(offset, "offset")?,
                to_u64(size, "size")?,
            )
            .map_err(invalid)?;
        Ok(Fat32Plan {
            plan: Arc::new(plan),
        })
    }

    /// Compares the FAT32 filesystem in the `length` bytes at byte `offset` of `image` with
    /// this tree, on a worker thread: each file and directory missing, unexpected or of the
    /// other kind, each size and first differing byte (files are streamed, never held whole),
    /// then every problem the reader finds ("CODE: message"). Empty when the image holds
    /// exactly this tree. Rejects only when the image cannot be opened or read.
    #[napi(ts_return_type = "Promise<Array<FilesystemDifference>>")]
    pub fn verify(&self, image: String, offset: f64, length: f64) -> Result<AsyncTask<VerifyTask>> {
        let tree = self.tree.tree().clone();
        let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
        Ok(VerifyTask::new(image, move |file| {
            let differences = verify_partition(&tree, file, offset, length)?;
            Ok(differences
                .into_iter()
                .map(|d| difference(d.path, d.message, d.code.map(|c| c.as_str())))
                .collect())
        }))
    }
}

/// A planned filesystem: its place in the image and everything's place in it, kept until it is
/// written.
#[napi]
pub struct Fat32Plan {
    plan: Arc<Plan>,
}

#[napi]
impl Fat32Plan {
    #[napi(getter)]
    pub fn summary(&self) -> Fat32Summary {
        self.plan.summary().into()
    }

    /// Writes exactly this plan into `image` (opened for writing, never created) on a worker
    /// thread.
    #[napi(ts_return_type = "Promise<CopyOutcome>")]
    pub fn write(
        &self,
        image: String,
        mode: String,
        destination_zeroed: bool,
        progress: &CopyProgress,
    ) -> Result<AsyncTask<CopyTask>> {
        CopyTask::write_plan(
            self.plan.clone(),
            write,
            image,
            &mode,
            destination_zeroed,
            progress,
        )
    }
}
