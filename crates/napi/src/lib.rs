//! Node.js binding for imgforge's Rust crates. It only converts values between JavaScript and the
//! crates' APIs; every decision lives in the crates or in the TypeScript layer.

use std::fs::{File, OpenOptions};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use imgforge_copy::{CopyEngine, CopyError, CopyJob, CopyMode, CopyStats, Destination};
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
        CopyProgress { bytes: Arc::new(AtomicU64::new(0)), cancelled: Arc::new(AtomicBool::new(false)) }
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

struct PreparedJob {
    source: String,
    offset: u64,
    capacity: u64,
}

pub struct CopyTask {
    image: String,
    jobs: Vec<PreparedJob>,
    mode: CopyMode,
    destination: Destination,
    bytes: Arc<AtomicU64>,
    cancelled: Arc<AtomicBool>,
}

fn failure(code: &str, message: String, job: Option<usize>) -> CopyFailure {
    CopyFailure { code: code.to_string(), message, job: job.map(|j| j as u32) }
}

impl CopyTask {
    fn run(&self) -> CopyOutcome {
        let mut engine = CopyEngine::new(self.mode);
        let error = self.run_jobs(&mut engine).err();
        CopyOutcome { stats: engine.stats().into(), error }
    }

    fn run_jobs(&self, engine: &mut CopyEngine) -> std::result::Result<(), CopyFailure> {
        let image = OpenOptions::new()
            .write(true)
            .open(&self.image)
            .map_err(|e| failure("IO", format!("cannot open {} for writing: {e}", self.image), None))?;
        for (index, job) in self.jobs.iter().enumerate() {
            let source = File::open(&job.source)
                .map_err(|e| failure("IO", format!("cannot open {}: {e}", job.source), Some(index)))?;
            let copy_job = CopyJob {
                source: &source,
                source_name: &job.source,
                dest: &image,
                dest_name: &self.image,
                dest_offset: job.offset,
                dest_capacity: job.capacity,
                dest_state: self.destination,
            };
            let mut on_progress = |advanced: u64| {
                self.bytes.fetch_add(advanced, Ordering::Relaxed);
                !self.cancelled.load(Ordering::Relaxed)
            };
            engine
                .copy(&copy_job, &mut on_progress)
                .map_err(|e: CopyError| failure(e.code(), e.to_string(), Some(index)))?;
        }
        image
            .sync_data()
            .map_err(|e| failure("IO", format!("cannot flush {}: {e}", self.image), None))
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
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0 {
        Ok(value as u64)
    } else {
        Err(Error::new(Status::InvalidArg, format!("{what} must be a non-negative safe integer, got {value}")))
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
    let mode: CopyMode = mode.parse().map_err(|e: String| Error::new(Status::InvalidArg, e))?;
    let jobs = jobs
        .into_iter()
        .map(|job| {
            Ok(PreparedJob {
                offset: to_u64(job.offset, "offset")?,
                capacity: to_u64(job.capacity, "capacity")?,
                source: job.source,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AsyncTask::new(CopyTask {
        image,
        jobs,
        mode,
        destination: if destination_zeroed { Destination::Zeroed } else { Destination::Dirty },
        bytes: progress.bytes.clone(),
        cancelled: progress.cancelled.clone(),
    }))
}
