//! Copying several files into one image: the unit of work of a build, so that callers (the
//! Node binding) only convert values.

use std::fs::OpenOptions;
use std::path::Path;

use crate::{open_source, CopyEngine, CopyError, CopyJob, Destination, Syscalls};

/// One source file and where it goes in the image.
#[derive(Debug, Clone)]
pub struct FileCopy<'a> {
    pub source: &'a Path,
    /// Byte offset in the image of the source's first byte.
    pub dest_offset: u64,
    /// Bytes available at `dest_offset` (the partition's size).
    pub dest_capacity: u64,
    /// The source's length when the copy was planned (see [`CopyJob::planned_len`]).
    pub planned_len: u64,
}

/// A failed batch: which file (by index into the batch) failed, if the failure belongs to one.
#[derive(Debug)]
pub struct BatchError {
    pub file: Option<usize>,
    pub error: CopyError,
}

/// Opens `image` for writing (never creating or truncating it) and copies every file into it in
/// order with `engine`. Stops at the first failure. `progress` is called as in [`CopyEngine::copy`],
/// with the bytes of all files counted together.
pub fn copy_files_into<S: Syscalls>(
    engine: &mut CopyEngine<S>,
    image: &Path,
    files: &[FileCopy],
    dest_state: Destination,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), BatchError> {
    let image_name = image.display().to_string();
    let dest = OpenOptions::new()
        .write(true)
        .open(image)
        .map_err(|e| BatchError {
            file: None,
            error: CopyError::Io {
                context: format!("cannot open {image_name} for writing"),
                source: e,
            },
        })?;
    for (index, file) in files.iter().enumerate() {
        let fail = |error| BatchError {
            file: Some(index),
            error,
        };
        let source_name = file.source.display().to_string();
        let source = open_source(file.source).map_err(fail)?;
        let job = CopyJob {
            source: &source,
            source_name: &source_name,
            dest: &dest,
            dest_name: &image_name,
            dest_offset: file.dest_offset,
            dest_capacity: file.dest_capacity,
            dest_state,
            planned_len: Some(file.planned_len),
        };
        engine.copy(&job, progress).map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CopyMode;
    use std::fs;

    #[test]
    fn copies_every_file_at_its_offset_and_names_the_one_that_fails() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("disk.img");
        fs::write(&image, vec![0u8; 64 << 10]).unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, b"first").unwrap();
        fs::write(&b, b"second").unwrap();
        let missing = dir.path().join("missing");

        let mut engine = CopyEngine::new(CopyMode::Auto);
        let mut advanced = 0;
        let files = [
            FileCopy {
                source: &a,
                dest_offset: 4096,
                dest_capacity: 4096,
                planned_len: 5,
            },
            FileCopy {
                source: &b,
                dest_offset: 8192,
                dest_capacity: 4096,
                planned_len: 6,
            },
        ];
        copy_files_into(&mut engine, &image, &files, Destination::Zeroed, &mut |n| {
            advanced += n;
            true
        })
        .unwrap();
        let bytes = fs::read(&image).unwrap();
        assert_eq!(&bytes[4096..4101], b"first");
        assert_eq!(&bytes[8192..8198], b"second");
        assert_eq!(
            bytes.len(),
            64 << 10,
            "the image is neither truncated nor grown"
        );
        assert_eq!(advanced, 11);

        let files = [
            FileCopy {
                source: &a,
                dest_offset: 0,
                dest_capacity: 4096,
                planned_len: 5,
            },
            FileCopy {
                source: &missing,
                dest_offset: 4096,
                dest_capacity: 4096,
                planned_len: 5,
            },
        ];
        let failure = copy_files_into(
            &mut engine,
            &image,
            &files,
            Destination::Zeroed,
            &mut |_| true,
        )
        .unwrap_err();
        assert_eq!(failure.file, Some(1));
        assert_eq!(failure.error.code(), "IO");
        assert!(
            failure.error.to_string().contains("missing"),
            "{}",
            failure.error
        );
    }

    #[test]
    fn a_missing_image_is_an_error_of_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = CopyEngine::new(CopyMode::Auto);
        let failure = copy_files_into(
            &mut engine,
            &dir.path().join("nope.img"),
            &[],
            Destination::Zeroed,
            &mut |_| true,
        )
        .unwrap_err();
        assert_eq!(failure.file, None);
        assert!(failure.error.to_string().contains("nope.img"));
    }
}
