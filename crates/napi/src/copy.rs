//! Raw partition contents: whole files copied to partition offsets.

use std::path::PathBuf;

use imgforge_copy::{copy_files_into, CopyEngine, CopyMode, Destination, FileCopy};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{
    destination, parse_mode, to_u64, CopyFailure, CopyOutcome, CopyProgress, ProgressTracker,
};

#[napi(object)]
pub struct CopyJobSpec {
    /// Path of the source file.
    pub source: String,
    /// Byte offset in the image where the source's first byte goes.
    pub offset: f64,
    /// Bytes available at `offset` (the partition size).
    pub capacity: f64,
    /// The source's size when it was planned: a source of another size, or no longer a
    /// regular file, fails with SOURCE_CHANGED.
    pub length: f64,
}

struct PreparedCopy {
    source: PathBuf,
    offset: u64,
    capacity: u64,
    length: u64,
}

pub struct CopyTask {
    image: PathBuf,
    files: Vec<PreparedCopy>,
    mode: CopyMode,
    destination: Destination,
    progress: ProgressTracker,
}

impl Task for CopyTask {
    type Output = CopyOutcome;
    type JsValue = CopyOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        let files: Vec<FileCopy> = self
            .files
            .iter()
            .map(|f| FileCopy {
                source: &f.source,
                dest_offset: f.offset,
                dest_capacity: f.capacity,
                planned_len: f.length,
            })
            .collect();
        let mut engine = CopyEngine::new(self.mode);
        let result = copy_files_into(
            &mut engine,
            &self.image,
            &files,
            self.destination,
            &mut |n| self.progress.advance(n),
        );
        Ok(CopyOutcome {
            stats: engine.stats().into(),
            error: result
                .err()
                .map(|failure| {
                    let source = failure.file.map(|index| self.files[index].source.as_path());
                    CopyFailure::new(&failure.error, failure.file, None, source)
                }),
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
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
    let files = jobs
        .into_iter()
        .map(|job| {
            Ok(PreparedCopy {
                offset: to_u64(job.offset, "offset")?,
                capacity: to_u64(job.capacity, "capacity")?,
                length: to_u64(job.length, "length")?,
                source: job.source.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(AsyncTask::new(CopyTask {
        image: image.into(),
        files,
        mode: parse_mode(&mode)?,
        destination: destination(destination_zeroed),
        progress: progress.tracker(),
    }))
}
