//! Node.js binding for imgforge's Rust crates. It only converts values between JavaScript and the
//! crates' APIs; every decision lives in the crates or in the TypeScript layer.

// napi-derive leaves the registration of exported items out of test builds, so in `cargo test`
// they look unused.
#![cfg_attr(test, allow(dead_code))]

mod copy;
mod deliver;
mod erofs;
mod erofs_read;
mod fat32;
mod fat32_read;
mod fs_probe;
mod gpt;
mod read_async;
mod source_listing;
mod stage;
mod vdisk;
mod verity;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use imgforge_copy::{CopyEngine, CopyError, CopyMode, CopyStats, Destination};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Shared between a running copy and JavaScript: JavaScript polls `bytes` for progress and calls
/// `cancel()`; the copy thread checks the flag between chunks. Polling avoids a threadsafe
/// function per progress tick.
#[napi]
pub struct CopyProgress {
    bytes: Arc<AtomicU64>,
    cancelled: Arc<AtomicBool>,
}

#[napi]
impl CopyProgress {
    #[napi(constructor)]
    pub fn new() -> Self {
        CopyProgress {
            bytes: Arc::new(AtomicU64::new(0)),
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Bytes advanced so far (copied, or skipped as holes).
    #[napi(getter)]
    pub fn bytes(&self) -> f64 {
        self.bytes.load(Ordering::Relaxed) as f64
    }

    #[napi]
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

impl Default for CopyProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes per copy method (`imgforge_copy::CopyStats`), as JavaScript numbers.
#[napi(object, js_name = "CopyStats")]
#[derive(Default)]
pub struct CopyStatsJs {
    pub copy_file_range_bytes: f64,
    pub read_write_bytes: f64,
    pub hole_bytes: f64,
}

impl From<CopyStats> for CopyStatsJs {
    fn from(stats: CopyStats) -> Self {
        CopyStatsJs {
            copy_file_range_bytes: stats.copy_file_range_bytes as f64,
            read_write_bytes: stats.read_write_bytes as f64,
            hole_bytes: stats.hole_bytes as f64,
        }
    }
}

#[napi(object)]
pub struct CopyFailure {
    /// Stable code: IO, TOO_LARGE, SOURCE_CHANGED, UNSIZED_SOURCE or ABORTED.
    pub code: String,
    pub message: String,
    /// Index of the job that failed, when one did.
    pub job: Option<u32>,
    /// The file inside a filesystem whose data failed, when one did.
    pub path: Option<String>,
    /// The source file the failure is about, when the message does not name it (a source that
    /// changed, or reports no size).
    pub source: Option<String>,
}

impl CopyFailure {
    pub(crate) fn new(
        error: &CopyError,
        job: Option<usize>,
        path: Option<String>,
        source: Option<&std::path::Path>,
    ) -> Self {
        CopyFailure {
            code: error.code().to_string(),
            message: error.to_string(),
            job: job.map(|index| index as u32),
            path,
            source: source
                .filter(|_| error.is_about_source())
                .map(|source| source.display().to_string()),
        }
    }
}

/// A byte range `[offset, offset + length)` of an image.
#[napi(object)]
pub struct DataRange {
    pub offset: f64,
    pub length: f64,
}

impl From<imgforge_copy::ByteRange> for DataRange {
    fn from(range: imgforge_copy::ByteRange) -> Self {
        DataRange {
            offset: range.offset as f64,
            length: range.length as f64,
        }
    }
}

/// Rejections would lose the code and job index, so failures are resolved as values.
#[napi(object)]
pub struct CopyOutcome {
    pub stats: CopyStatsJs,
    pub error: Option<CopyFailure>,
    /// The image's byte ranges this copy wrote (data and metadata; holes skipped or zeroed are
    /// not), sorted and merged: the build's map of what holds data.
    pub written: Vec<DataRange>,
}

/// One `files` entry of a filesystem: a file or folder and where it goes.
#[napi(object)]
pub struct FilesystemSource {
    /// Absolute path of a file or directory.
    pub source: String,
    /// Absolute path inside the filesystem ("/" is its root).
    pub target: String,
}

impl From<FilesystemSource> for imgforge_tree::Source {
    fn from(s: FilesystemSource) -> Self {
        imgforge_tree::Source {
            source: s.source.into(),
            target: s.target,
        }
    }
}

/// A problem a filesystem reader found.
#[napi(object)]
pub struct FilesystemFinding {
    /// A stable code (the reader's list: `Fat32Report.findings`, `ErofsReport.findings`).
    pub code: String,
    /// One line naming the path (and cluster or inode) concerned.
    pub message: String,
}

/// One difference between a filesystem and what the spec asks it to hold.
#[napi(object)]
pub struct FilesystemDifference {
    /// The path inside the filesystem ("/" for the filesystem as a whole).
    pub path: String,
    pub message: String,
    /// Set when the difference is a problem the reader found: its stable code (as in
    /// `readFat32`'s or `readErofs`'s findings), which also starts `message`.
    pub code: Option<String>,
}

/// Opens an image (file or block device) to read it.
pub(crate) fn open_image(image: &str) -> Result<std::fs::File> {
    std::fs::File::open(image).map_err(|e| Error::from_reason(format!("cannot open {image}: {e}")))
}

pub(crate) fn difference(
    path: String,
    message: String,
    code: Option<&str>,
) -> FilesystemDifference {
    FilesystemDifference {
        path,
        message,
        code: code.map(str::to_string),
    }
}

/// A comparison of an opened image with what a spec asks for: every difference.
type Compare = Box<dyn FnOnce(std::fs::File) -> std::io::Result<Vec<FilesystemDifference>> + Send>;

/// Compares a filesystem in an image with what a spec asks for, on a worker thread: `compare`
/// gets the opened image and gives every difference. `pub`: the return type of the napi
/// `verify` methods.
pub struct VerifyTask {
    image: String,
    compare: Option<Compare>,
}

impl VerifyTask {
    pub(crate) fn new(
        image: String,
        compare: impl FnOnce(std::fs::File) -> std::io::Result<Vec<FilesystemDifference>>
            + Send
            + 'static,
    ) -> AsyncTask<VerifyTask> {
        AsyncTask::new(VerifyTask {
            image,
            compare: Some(Box::new(compare)),
        })
    }
}

impl Task for VerifyTask {
    type Output = Vec<FilesystemDifference>;
    type JsValue = Vec<FilesystemDifference>;

    fn compute(&mut self) -> Result<Self::Output> {
        let file = open_image(&self.image)?;
        let compare = self
            .compare
            .take()
            .ok_or_else(|| Error::from_reason("verify ran twice"))?;
        compare(file).map_err(|e| Error::from_reason(format!("cannot read {}: {e}", self.image)))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Whether a scan read the file or directory with this device and inode number (as
/// `fs.statSync(path, { bigint: true })` gives them).
pub(crate) fn reads(ids: &imgforge_tree::SourceIds, dev: BigInt, ino: BigInt) -> bool {
    let (_, dev, dev_lossless) = dev.get_u64();
    let (_, ino, ino_lossless) = ino.get_u64();
    dev_lossless && ino_lossless && ids.reads((dev, ino))
}

pub(crate) fn invalid(message: impl ToString) -> Error {
    Error::new(Status::InvalidArg, message.to_string())
}

pub(crate) fn to_u64(value: f64, what: &str) -> Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as u64)
    } else {
        Err(Error::new(
            Status::InvalidArg,
            format!("{what} must be a non-negative safe integer, got {value}"),
        ))
    }
}

pub(crate) fn parse_mode(mode: &str) -> Result<CopyMode> {
    mode.parse()
        .map_err(|e: String| Error::new(Status::InvalidArg, e))
}

pub(crate) fn destination(zeroed: bool) -> Destination {
    if zeroed {
        Destination::Zeroed
    } else {
        Destination::Dirty
    }
}

impl CopyProgress {
    /// The callback the crates call: counts bytes and answers "keep going?".
    pub(crate) fn tracker(&self) -> ProgressTracker {
        ProgressTracker {
            bytes: self.bytes.clone(),
            cancelled: self.cancelled.clone(),
        }
    }
}

/// The half of a CopyProgress a worker thread holds.
pub(crate) struct ProgressTracker {
    bytes: Arc<AtomicU64>,
    cancelled: Arc<AtomicBool>,
}

impl ProgressTracker {
    pub(crate) fn advance(&self, bytes: u64) -> bool {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        !self.cancelled.load(Ordering::Relaxed)
    }

    /// Runs `copy` with a fresh engine in `mode` and this tracker as its progress callback:
    /// the engine's stats, and the failure `copy` returns, as values.
    pub(crate) fn run(
        &self,
        mode: CopyMode,
        copy: impl FnOnce(&mut CopyEngine, &mut dyn FnMut(u64) -> bool) -> Option<CopyFailure>,
    ) -> CopyOutcome {
        let mut engine = CopyEngine::new(mode);
        let error = copy(&mut engine, &mut |n| self.advance(n));
        CopyOutcome {
            stats: engine.stats().into(),
            error,
            written: engine
                .written_ranges()
                .into_iter()
                .map(DataRange::from)
                .collect(),
        }
    }
}

/// What a [`CopyTask`] writes: given the engine, the image, what it holds and the progress
/// callback, the failure, if any, as a value.
type CopyWork = Box<
    dyn Fn(&mut CopyEngine, &Path, Destination, &mut dyn FnMut(u64) -> bool) -> Option<CopyFailure>
        + Send,
>;

/// A copy into `image` on a worker thread, reporting to a [`CopyProgress`]. `pub`: napi
/// functions return it.
pub struct CopyTask {
    image: PathBuf,
    mode: CopyMode,
    destination: Destination,
    progress: ProgressTracker,
    work: CopyWork,
}

impl CopyTask {
    /// The task of JavaScript's arguments: `mode` as [`parse_mode`] reads it,
    /// `destination_zeroed` as [`destination`] does.
    pub(crate) fn new(
        image: String,
        mode: &str,
        destination_zeroed: bool,
        progress: &CopyProgress,
        work: impl Fn(
                &mut CopyEngine,
                &Path,
                Destination,
                &mut dyn FnMut(u64) -> bool,
            ) -> Option<CopyFailure>
            + Send
            + 'static,
    ) -> Result<AsyncTask<Self>> {
        Ok(AsyncTask::new(CopyTask {
            image: image.into(),
            mode: parse_mode(mode)?,
            destination: destination(destination_zeroed),
            progress: progress.tracker(),
            work: Box::new(work),
        }))
    }
}

/// How a filesystem crate writes a plan (`write` of fat32 and erofs).
pub(crate) type WritePlan<P> = fn(
    &P,
    &imgforge_copy::Target,
    &mut CopyEngine,
    &mut dyn FnMut(u64) -> bool,
) -> std::result::Result<(), imgforge_copy::WriteError>;

impl CopyTask {
    /// The task that writes a planned filesystem with its crate's `write`.
    pub(crate) fn write_plan<P: Send + Sync + 'static>(
        plan: Arc<P>,
        write: WritePlan<P>,
        image: String,
        mode: &str,
        destination_zeroed: bool,
        progress: &CopyProgress,
    ) -> Result<AsyncTask<Self>> {
        CopyTask::new(
            image,
            mode,
            destination_zeroed,
            progress,
            move |engine, image, destination, progress| {
                let failure = imgforge_copy::write_into_image(image, destination, |target| {
                    write(&plan, target, engine, progress)
                })
                .err()?;
                Some(CopyFailure::new(
                    &failure.error,
                    None,
                    failure.path,
                    failure.source.as_deref(),
                ))
            },
        )
    }
}

impl Task for CopyTask {
    type Output = CopyOutcome;
    type JsValue = CopyOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.progress.run(self.mode, |engine, progress| {
            (self.work)(engine, &self.image, self.destination, progress)
        }))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}
