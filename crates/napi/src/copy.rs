//! Raw partition contents: whole files copied to partition offsets.

use std::path::PathBuf;

use imgforge_copy::{copy_into_image as copy_jobs_into_image, CopyMode, Destination};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{
    destination, parse_mode, to_u64, CopyFailure, CopyOutcome, CopyProgress, ProgressTracker,
};

/// One source file, where it goes in the image, the bytes available there, and its length
/// when planned: `imgforge_copy::CopyJob` as JavaScript passes it.
#[napi(object)]
pub struct CopyJob {
    /// Path of the source file.
    pub source: String,
    /// Byte offset in the image where the source's first byte goes.
    pub offset: f64,
    /// Bytes available at `offset` (the partition size).
    pub capacity: f64,
    /// The source's size when it was planned: a source of another size, or no longer a
    /// regular file, fails with SOURCE_CHANGED.
    pub planned_length: f64,
}

impl TryFrom<CopyJob> for imgforge_copy::CopyJob {
    type Error = Error;

    fn try_from(job: CopyJob) -> Result<Self> {
        Ok(imgforge_copy::CopyJob {
            offset: to_u64(job.offset, "offset")?,
            capacity: to_u64(job.capacity, "capacity")?,
            planned_length: to_u64(job.planned_length, "plannedLength")?,
            source: job.source.into(),
        })
    }
}

pub(crate) struct CopyTask {
    image: PathBuf,
    jobs: Vec<imgforge_copy::CopyJob>,
    mode: CopyMode,
    destination: Destination,
    progress: ProgressTracker,
}

impl Task for CopyTask {
    type Output = CopyOutcome;
    type JsValue = CopyOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(self.progress.run(self.mode, |engine, progress| {
            let failure =
                copy_jobs_into_image(engine, &self.image, &self.jobs, self.destination, progress)
                    .err()?;
            let source = failure.job.map(|index| self.jobs[index].source.as_path());
            Some(CopyFailure::new(&failure.error, failure.job, None, source))
        }))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Copies each job's source into `image` at its offset on a worker thread. `destinationZeroed`
/// says the image is a fresh sparse file, so source holes need not be written.
#[napi(ts_return_type = "Promise<CopyOutcome>")]
pub fn copy_into_image(
    image: String,
    jobs: Vec<CopyJob>,
    mode: String,
    destination_zeroed: bool,
    progress: &CopyProgress,
) -> Result<AsyncTask<CopyTask>> {
    let jobs = jobs
        .into_iter()
        .map(imgforge_copy::CopyJob::try_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(AsyncTask::new(CopyTask {
        image: image.into(),
        jobs,
        mode: parse_mode(&mode)?,
        destination: destination(destination_zeroed),
        progress: progress.tracker(),
    }))
}
