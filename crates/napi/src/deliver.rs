//! Delivery artifacts of a built image (imgforge_deliver), on worker threads.

use std::path::PathBuf;

use imgforge_deliver::{Artifact, ByteRange, Compression, DeliverError};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{invalid, parse_mode, to_u64, CopyProgress, DataRange, ProgressTracker};

/// An artifact written, or why not (failures resolve as values, to keep their code).
#[napi(object)]
pub struct DeliverOutcome {
    /// Bytes written.
    pub size: f64,
    /// SHA-256 of the bytes written, hex, when it was computed.
    pub sha256: Option<String>,
    pub error: Option<DeliverFailure>,
}

#[napi(object)]
pub struct DeliverFailure {
    /// Stable code: ABORTED, RANGES or IO.
    pub code: String,
    pub message: String,
}

fn ranges(ranges: Vec<DataRange>) -> Result<Vec<ByteRange>> {
    ranges
        .into_iter()
        .map(|r| {
            Ok(ByteRange {
                offset: to_u64(r.offset, "dataRanges[].offset")?,
                length: to_u64(r.length, "dataRanges[].length")?,
            })
        })
        .collect()
}

type Work = Box<
    dyn FnOnce(&mut dyn FnMut(u64) -> bool) -> std::result::Result<Artifact, DeliverError> + Send,
>;

/// One artifact written on a worker thread, reporting to a CopyProgress (which also cancels).
pub struct DeliverTask {
    progress: ProgressTracker,
    work: Option<Work>,
}

impl DeliverTask {
    fn new(progress: &CopyProgress, work: Work) -> AsyncTask<Self> {
        AsyncTask::new(DeliverTask {
            progress: progress.tracker(),
            work: Some(work),
        })
    }
}

impl Task for DeliverTask {
    type Output = DeliverOutcome;
    type JsValue = DeliverOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("a delivery task ran twice"))?;
        Ok(match work(&mut |n| self.progress.advance(n)) {
            Ok(artifact) => DeliverOutcome {
                size: artifact.size as f64,
                sha256: artifact.sha256,
                error: None,
            },
            Err(error) => DeliverOutcome {
                size: 0.0,
                sha256: None,
                error: Some(DeliverFailure {
                    code: error.code().to_string(),
                    message: error.to_string(),
                }),
            },
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// Writes the Android sparse image of the raw `image` (its data in `dataRanges`, sorted and
/// apart; the rest zeros) to `output`, which must not exist.
#[napi(ts_return_type = "Promise<DeliverOutcome>")]
pub fn write_android_sparse(
    image: String,
    data_ranges: Vec<DataRange>,
    output: String,
    progress: &CopyProgress,
) -> Result<AsyncTask<DeliverTask>> {
    let ranges = ranges(data_ranges)?;
    Ok(DeliverTask::new(
        progress,
        Box::new(move |progress| {
            imgforge_deliver::write_android_sparse(
                image.as_ref(),
                &ranges,
                output.as_ref(),
                progress,
            )
        }),
    ))
}

/// Writes the bmap (format 2.0, SHA-256) of the raw `image` to `output`, which must not exist.
#[napi(ts_return_type = "Promise<DeliverOutcome>")]
pub fn write_bmap(
    image: String,
    data_ranges: Vec<DataRange>,
    output: String,
    progress: &CopyProgress,
) -> Result<AsyncTask<DeliverTask>> {
    let ranges = ranges(data_ranges)?;
    Ok(DeliverTask::new(
        progress,
        Box::new(move |progress| {
            imgforge_deliver::write_bmap(image.as_ref(), &ranges, output.as_ref(), progress)
        }),
    ))
}

/// Writes the raw `image` compressed with `compression` (zstd, xz or gzip) to `output`, which
/// must not exist; holes are fed as zeros without being read.
#[napi(ts_return_type = "Promise<DeliverOutcome>")]
pub fn write_compressed(
    compression: String,
    image: String,
    data_ranges: Vec<DataRange>,
    output: String,
    progress: &CopyProgress,
) -> Result<AsyncTask<DeliverTask>> {
    let compression: Compression = compression.parse().map_err(invalid)?;
    let ranges = ranges(data_ranges)?;
    Ok(DeliverTask::new(
        progress,
        Box::new(move |progress| {
            imgforge_deliver::write_compressed(
                compression,
                image.as_ref(),
                &ranges,
                output.as_ref(),
                progress,
            )
        }),
    ))
}

/// A partition file to write: bytes `[offset, offset + size)` of the image into the new file
/// `output`, hashed when `checksum` is set.
#[napi(object)]
pub struct PartitionFile {
    pub offset: f64,
    pub size: f64,
    pub output: String,
    pub checksum: bool,
}

/// Writes `file` from `image` through the copy engine in `mode` (reflinked on XFS/btrfs).
#[napi(ts_return_type = "Promise<DeliverOutcome>")]
pub fn split_partition(
    image: String,
    data_ranges: Vec<DataRange>,
    file: PartitionFile,
    mode: String,
    progress: &CopyProgress,
) -> Result<AsyncTask<DeliverTask>> {
    let ranges = ranges(data_ranges)?;
    let offset = to_u64(file.offset, "offset")?;
    let size = to_u64(file.size, "size")?;
    let mode = parse_mode(&mode)?;
    let output = PathBuf::from(file.output);
    let checksum = file.checksum;
    Ok(DeliverTask::new(
        progress,
        Box::new(move |progress| {
            let file = imgforge_deliver::PartitionFile {
                offset,
                size,
                output: &output,
                checksum,
            };
            imgforge_deliver::split_partition(image.as_ref(), &ranges, file, mode, progress)
        }),
    ))
}

/// The size and SHA-256 of the file `image` whose data lies in `dataRanges` (holes are hashed
/// as zeros without being read).
#[napi(ts_return_type = "Promise<DeliverOutcome>")]
pub fn hash_image(
    image: String,
    data_ranges: Vec<DataRange>,
    progress: &CopyProgress,
) -> Result<AsyncTask<DeliverTask>> {
    let ranges = ranges(data_ranges)?;
    Ok(DeliverTask::new(
        progress,
        Box::new(move |progress| imgforge_deliver::hash_image(image.as_ref(), &ranges, progress)),
    ))
}
