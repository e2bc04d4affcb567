//! Node.js binding for imgforge's Rust crates. It only converts values between JavaScript and the
//! crates' APIs; every decision lives in the crates or in the TypeScript layer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use imgforge_copy::{copy_files_into, CopyEngine, CopyMode, CopyStats, Destination, FileCopy};
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

#[napi(object)]
pub struct CopyJobSpec {
    /// Path of the source file.
    pub source: String,
    /// Byte offset in the image where the source's first byte goes.
    pub offset: f64,
    /// Bytes available at `offset` (the partition size).
    pub capacity: f64,
}

#[napi(object)]
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
    /// Stable code: IO, TOO_LARGE, SOURCE_CHANGED or ABORTED.
    pub code: String,
    pub message: String,
    /// Index of the job that failed, when one did.
    pub job: Option<u32>,
}

/// Rejections would lose the code and job index, so failures are resolved as values.
#[napi(object)]
pub struct CopyOutcome {
    pub stats: CopyStatsJs,
    pub error: Option<CopyFailure>,
}

struct PreparedCopy {
    source: PathBuf,
    offset: u64,
    capacity: u64,
}

pub struct CopyTask {
    image: PathBuf,
    files: Vec<PreparedCopy>,
    mode: CopyMode,
    destination: Destination,
    bytes: Arc<AtomicU64>,
    cancelled: Arc<AtomicBool>,
}

impl CopyTask {
    fn run(&self) -> CopyOutcome {
        let files: Vec<FileCopy> = self
            .files
            .iter()
            .map(|f| FileCopy {
                source: &f.source,
                dest_offset: f.offset,
                dest_capacity: f.capacity,
            })
            .collect();
        let mut engine = CopyEngine::new(self.mode);
        let mut on_progress = |advanced: u64| {
            self.bytes.fetch_add(advanced, Ordering::Relaxed);
            !self.cancelled.load(Ordering::Relaxed)
        };
        let result = copy_files_into(
            &mut engine,
            &self.image,
            &files,
            self.destination,
            &mut on_progress,
        );
        CopyOutcome {
            stats: engine.stats().into(),
            error: result.err().map(|failure| CopyFailure {
                code: failure.error.code().to_string(),
                message: failure.error.to_string(),
                job: failure.file.map(|index| index as u32),
            }),
        }
    }
}

impl Task for CopyTask {
    type Output = CopyOutcome;
    type JsValue = CopyOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.run())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

fn to_u64(value: f64, what: &str) -> Result<u64> {
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

/// Copies each job's source into `image` at its offset on a worker thread. `destinationZeroed`
/// says the image is a fresh sparse file, so source holes need not be written.
#[napi]
pub fn copy_into_image(
    image: String,
    jobs: Vec<CopyJobSpec>,
    mode: String,
    destination_zeroed: bool,
    progress: &CopyProgress,
) -> Result<AsyncTask<CopyTask>> {
    let mode: CopyMode = mode
        .parse()
        .map_err(|e: String| Error::new(Status::InvalidArg, e))?;
    let files = jobs
        .into_iter()
        .map(|job| {
            Ok(PreparedCopy {
                offset: to_u64(job.offset, "offset")?,
                capacity: to_u64(job.capacity, "capacity")?,
                source: job.source.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AsyncTask::new(CopyTask {
        image: image.into(),
        files,
        mode,
        destination: if destination_zeroed {
            Destination::Zeroed
        } else {
            Destination::Dirty
        },
        bytes: progress.bytes.clone(),
        cancelled: progress.cancelled.clone(),
    }))
}
