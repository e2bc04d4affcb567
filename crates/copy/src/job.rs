//! The copy job as callers plan it (a source path and where it goes in the image), and copying
//! a list of them into one image: the unit of work of a build, so that callers (the Node
//! binding) only convert values.

use std::path::{Path, PathBuf};

use crate::engine::CopyEngine;
use crate::error::CopyError;
use crate::open::open_source;
use crate::opened::{Destination, OpenedCopy};
use crate::sys::Syscalls;
use crate::target::open_image;

/// One source file, where it goes in the image, the bytes available there, and its length
/// when planned. [`copy_into_image`] opens it as an [`OpenedCopy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyJob {
    pub source: PathBuf,
    /// Byte offset in the image of the source's first byte.
    pub offset: u64,
    /// Bytes available at `offset` (the partition's size).
    pub capacity: u64,
    /// The source's length when the copy was planned (see [`OpenedCopy::planned_length`]).
    pub planned_length: u64,
}

/// A failed [`copy_into_image`]: which job (by index) failed, if the failure belongs to one.
#[derive(Debug)]
pub struct BatchError {
    pub job: Option<usize>,
    pub error: CopyError,
}

/// Opens `image` for writing (never creating or truncating it) and copies every job into it in
/// order with `engine`. Stops at the first failure. `progress` is called as in
/// [`CopyEngine::copy`], with the bytes of all jobs counted together.
pub fn copy_into_image<S: Syscalls>(
    engine: &mut CopyEngine<S>,
    image: &Path,
    jobs: &[CopyJob],
    dest_state: Destination,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), BatchError> {
    let image_name = image.display().to_string();
    let dest = open_image(image).map_err(|error| BatchError { job: None, error })?;
    for (index, job) in jobs.iter().enumerate() {
        let fail = |error| BatchError {
            job: Some(index),
            error,
        };
        let source_name = job.source.display().to_string();
        let source = open_source(&job.source).map_err(fail)?;
        let opened = OpenedCopy {
            source: &source,
            source_name: &source_name,
            dest: &dest,
            dest_name: &image_name,
            dest_offset: job.offset,
            dest_capacity: job.capacity,
            dest_state,
            planned_length: Some(job.planned_length),
        };
        engine.copy(&opened, progress).map_err(fail)?;
    }
    Ok(())
}
