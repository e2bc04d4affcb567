//! Raw partition contents: whole files copied to partition offsets.

use imgforge_copy::copy_into_image as copy_jobs_into_image;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{to_u64, CopyFailure, CopyProgress, CopyTask};

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
    CopyTask::new(
        image,
        &mode,
        destination_zeroed,
        progress,
        move |engine, image, destination, progress| {
            let failure =
                copy_jobs_into_image(engine, image, &jobs, destination, progress).err()?;
            let source = failure.job.map(|index| jobs[index].source.as_path());
            Some(CopyFailure::new(&failure.error, failure.job, None, source))
        },
    )
}
