//! EROFS partitions: a scanned source tree held in Rust, and the plan made from it, so the
//! build writes exactly the plan it made.

use std::sync::Arc;

use imgforge_erofs::{
    plan, scan, verify_partition, write, FormatOptions, Ownership, Plan, UuidCheck,
};
use imgforge_tree::{Source, Tree};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{difference, invalid, to_u64, CopyProgress, CopyTask, FilesystemSource, VerifyTask};

#[napi(object)]
pub struct ErofsOptions {
    /// The volume UUID as 32 hexadecimal digits (dashes allowed), stored in text order.
    pub uuid: String,
    /// At most 16 bytes.
    pub label: Option<String>,
    /// "root" (every inode 0:0) or "source" (the sources' uid and gid).
    pub ownership: String,
    /// Seconds since the epoch for every inode (SOURCE_DATE_EPOCH).
    pub timestamp: Option<f64>,
}

#[napi(object)]
pub struct ErofsSummary {
    /// The filesystem's exact size in bytes (a multiple of 4096).
    pub size: f64,
    pub inodes: f64,
    /// Regular files with data.
    pub files: f64,
    pub file_bytes: f64,
}

fn uuid_bytes(text: &str) -> Result<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let mut bytes = [0u8; 16];
    if hex.len() != 32 || !hex.is_ascii() {
        return Err(invalid(format!(
            "uuid must be 32 hexadecimal digits, got {text:?}"
        )));
    }
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| invalid(format!("uuid must be 32 hexadecimal digits, got {text:?}")))?;
    }
    Ok(bytes)
}

fn format_options(options: &ErofsOptions) -> Result<FormatOptions> {
    let ownership = match options.ownership.as_str() {
        "root" => Ownership::Root,
        "source" => Ownership::Source,
        other => {
            return Err(invalid(format!(
                "ownership must be root or source, got {other:?}"
            )))
        }
    };
    let timestamp = match options.timestamp {
        Some(t) if t.is_finite() && t.fract() == 0.0 => Some(t as i64),
        Some(t) => return Err(invalid(format!("timestamp must be whole seconds, got {t}"))),
        None => None,
    };
    Ok(FormatOptions {
        uuid: uuid_bytes(&options.uuid)?,
        label: options.label.clone(),
        ownership,
        timestamp,
    })
}

/// A scanned source tree for an EROFS filesystem: symlinks, special files, hard links and
/// extended attributes kept. Scanning reads metadata only; errors name the path.
#[napi]
pub struct ErofsTree {
    tree: Arc<Tree>,
}

#[napi]
impl ErofsTree {
    #[napi(factory)]
    pub fn scan(sources: Vec<FilesystemSource>) -> Result<Self> {
        let sources: Vec<Source> = sources.into_iter().map(Source::from).collect();
        let tree = scan(&sources).map_err(invalid)?;
        Ok(ErofsTree {
            tree: Arc::new(tree),
        })
    }

    /// Whether the scan read the file or directory with this device and inode number.
    #[napi]
    pub fn reads(&self, dev: BigInt, ino: BigInt) -> bool {
        crate::reads(&self.tree.source_ids, dev, ino)
    }

    /// Lays the filesystem out (its size is `summary.size`); `ErofsPlan.at` places it.
    #[napi]
    pub fn plan(&self, options: ErofsOptions) -> Result<ErofsPlan> {
        let plan = plan(self.tree.clone(), &format_options(&options)?).map_err(invalid)?;
        Ok(ErofsPlan {
            plan: Arc::new(plan),
        })
    }
}

/// A planned EROFS filesystem, kept until it is written.
#[napi]
pub struct ErofsPlan {
    plan: Arc<Plan>,
}

#[napi]
impl ErofsPlan {
    #[napi(getter)]
    pub fn summary(&self) -> ErofsSummary {
        let s = self.plan.summary();
        ErofsSummary {
            size: s.size as f64,
            inodes: s.inodes as f64,
            files: s.files as f64,
            file_bytes: s.file_bytes as f64,
        }
    }

    /// The same layout for the partition at byte `offset` of the image (a multiple of 4096);
    /// throws a plain Error otherwise.
    #[napi]
    pub fn at(&self, offset: f64) -> Result<ErofsPlan> {
        let plan = (*self.plan)
            .clone()
            .at(to_u64(offset, "offset")?)
            .map_err(invalid)?;
        Ok(ErofsPlan {
            plan: Arc::new(plan),
        })
    }

    /// Every difference between the EROFS in the `length` bytes at byte `offset` of `image` and
    /// this plan (tree, metadata and every file's bytes against the sources), then the
    /// reader's findings; on a worker thread. `compareUuid` false leaves the volume UUID out
    /// (a spec without a seed or a uuid plans a random one).
    #[napi(ts_return_type = "Promise<Array<FilesystemDifference>>")]
    pub fn verify(
        &self,
        image: String,
        offset: f64,
        length: f64,
        compare_uuid: bool,
    ) -> Result<AsyncTask<VerifyTask>> {
        let plan = self.plan.clone();
        let (offset, length) = (to_u64(offset, "offset")?, to_u64(length, "length")?);
        let uuid = if compare_uuid {
            UuidCheck::Compare
        } else {
            UuidCheck::Ignore
        };
        Ok(VerifyTask::new(image, move |file| {
            let differences = verify_partition(&plan, file, offset, length, uuid)?;
            Ok(differences
                .into_iter()
                .map(|d| difference(d.path, d.message, d.code.map(|c| c.as_str())))
                .collect())
        }))
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
