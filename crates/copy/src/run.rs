//! State of one `copy()` call and the step that moves one piece of data.

use std::io;

use crate::error::CopyError;
use crate::fallback::{retry_interrupted, write_all_at, TransferBuffer, BUFFER_SIZE};
use crate::mode::CopyMode;
use crate::opened::OpenedCopy;
use crate::progress::Progress;
use crate::stats::CopyStats;
use crate::sys::{FileKind, Syscalls, ZeroMethod};
use crate::written::WrittenRanges;

/// Bytes per copy_file_range call. The kernel caps a call at 0x7ffff000 bytes anyway; smaller
/// calls keep progress reports and cancellation timely, and remapping a 1 GiB file in 16
/// calls instead of one costs nothing measurable.
pub(crate) const KERNEL_COPY_CHUNK: u64 = 64 << 20;

/// Errors after which Go's standard library (and we) copy with read/write instead: no
/// syscall (ENOSYS), different file systems or old kernels (EXDEV), file types the kernel
/// cannot copy between, e.g. block devices (EINVAL), CIFS (EIO), NFS (EOPNOTSUPP), seccomp
/// filters in containers (EPERM).
#[cfg(target_os = "linux")]
pub(crate) fn is_fallback_error(error: &io::Error) -> bool {
    use nix::errno::Errno;
    match error.raw_os_error() {
        Some(errno) => [
            Errno::ENOSYS,
            Errno::EXDEV,
            Errno::EINVAL,
            Errno::EIO,
            Errno::EOPNOTSUPP,
            Errno::EPERM,
        ]
        .contains(&Errno::from_raw(errno)),
        None => error.kind() == io::ErrorKind::Unsupported,
    }
}

/// Without Linux errno values, only a syscall layer's own "unsupported" can mean fallback.
#[cfg(not(target_os = "linux"))]
pub(crate) fn is_fallback_error(error: &io::Error) -> bool {
    error.raw_os_error().is_none() && error.kind() == io::ErrorKind::Unsupported
}

pub(crate) enum KernelStep {
    Copied(u64),
    SwitchedToReadWrite,
    EndOfFile,
}

pub(crate) struct Run<'r, 'j, S: Syscalls> {
    pub(crate) sys: &'r mut S,
    pub(crate) buffer: &'r mut TransferBuffer,
    pub(crate) stats: &'r mut CopyStats,
    /// Where the job's data landed in the destination.
    pub(crate) written: &'r mut WrittenRanges,
    /// Data calls (copy_file_range, read) made for this job.
    pub(crate) data_steps: u32,
    pub(crate) progress: Progress<'r>,
    pub(crate) job: &'j OpenedCopy<'j>,
    pub(crate) mode: CopyMode,
    pub(crate) source_kind: FileKind,
    /// `None` while streaming a source whose size the kernel does not report.
    pub(crate) source_len: Option<u64>,
    /// The source offset that lands at `job.dest_offset` (0 unless copying a range).
    pub(crate) source_start: u64,
    pub(crate) use_copy_file_range: bool,
    /// Whether copy_file_range has copied anything in this job: a 0 before that means "cannot
    /// copy this file" (procfs), a 0 after it means end of file.
    pub(crate) kernel_copied_any: bool,
    /// Next fallocate method worth trying for zeroing holes; `None` once both failed.
    pub(crate) zero_method: Option<ZeroMethod>,
    /// False when the source is fully allocated: then it is copied as one data extent.
    pub(crate) may_have_holes: bool,
}

impl<S: Syscalls> Run<'_, '_, S> {
    /// Where source byte `pos` goes in the destination.
    pub(crate) fn dest_pos(&self, pos: u64) -> u64 {
        self.job.dest_offset + (pos - self.source_start)
    }

    /// Moves the next piece of [pos, end) with the current method. Returns the number of
    /// bytes moved; 0 means the source ended.
    pub(crate) fn copy_step(&mut self, pos: u64, end: u64) -> Result<u64, CopyError> {
        self.data_steps = self.data_steps.saturating_add(1);
        if self.use_copy_file_range {
            match self.kernel_copy_step(pos, end)? {
                KernelStep::Copied(bytes) => {
                    self.written.add(self.dest_pos(pos), bytes);
                    return Ok(bytes);
                }
                KernelStep::EndOfFile => return Ok(0),
                KernelStep::SwitchedToReadWrite => {}
            }
        }
        let moved = self.read_write_step(pos, end)?;
        self.written.add(self.dest_pos(pos), moved);
        Ok(moved)
    }

    fn kernel_copy_step(&mut self, pos: u64, end: u64) -> Result<KernelStep, CopyError> {
        let job = self.job;
        let dest_pos = self.dest_pos(pos);
        let len = (end - pos).min(KERNEL_COPY_CHUNK) as usize;
        let result = retry_interrupted(|| {
            self.sys
                .copy_file_range(job.source, pos, job.dest, dest_pos, len)
        });
        match result {
            Ok(0) if !self.kernel_copied_any => match self.mode {
                CopyMode::CopyFileRange => self.kernel_copy_refused(pos),
                _ => Ok(self.switch_to_read_write()),
            },
            Ok(0) => Ok(KernelStep::EndOfFile),
            Ok(copied) => {
                self.kernel_copied_any = true;
                self.stats.copy_file_range_bytes += copied as u64;
                Ok(KernelStep::Copied(copied as u64))
            }
            Err(error) if self.mode == CopyMode::Auto && is_fallback_error(&error) => {
                Ok(self.switch_to_read_write())
            }
            Err(error) => Err(CopyError::io(
                format!(
                    "copy_file_range from {} at offset {pos} into {} at offset {dest_pos}",
                    job.source_name, job.dest_name
                ),
                error,
            )),
        }
    }

    fn switch_to_read_write(&mut self) -> KernelStep {
        self.use_copy_file_range = false;
        KernelStep::SwitchedToReadWrite
    }

    /// copy_file_range returned 0 before copying anything and falling back is not allowed.
    /// Either the source really ended (shrunk, or empty with unknown size) or the kernel
    /// cannot copy this file (procfs, sysfs); the caller asked for an error in the latter case.
    fn kernel_copy_refused(&mut self, pos: u64) -> Result<KernelStep, CopyError> {
        let has_data = match self.source_len {
            Some(len) => {
                let now = self.source_len_now()?;
                if now != len {
                    return Err(CopyError::SourceChanged {
                        before: len,
                        after: now,
                    });
                }
                true
            }
            None => self.probe_source(pos)? > 0,
        };
        if !has_data {
            return Ok(KernelStep::EndOfFile);
        }
        Err(CopyError::io(
            format!(
                "copy_file_range from {} at offset {pos} into {}",
                self.job.source_name, self.job.dest_name
            ),
            io::Error::new(
                io::ErrorKind::Unsupported,
                "copy_file_range copied nothing from a source that has data \
                 (procfs/sysfs?); use mode auto or read-write",
            ),
        ))
    }

    fn read_write_step(&mut self, pos: u64, end: u64) -> Result<u64, CopyError> {
        let job = self.job;
        let want = (end - pos).min(BUFFER_SIZE as u64) as usize;
        let dest_pos = self.dest_pos(pos);
        let buffer = &mut self.buffer.for_data()[..want];
        let sys = &mut *self.sys;
        let read = if self.source_kind == FileKind::Stream {
            retry_interrupted(|| sys.read_stream(job.source, buffer))
        } else {
            retry_interrupted(|| sys.read_at(job.source, buffer, pos))
        };
        let read = read.map_err(|error| {
            CopyError::io(format!("read {} at offset {pos}", job.source_name), error)
        })?;
        if read == 0 {
            return Ok(0);
        }
        write_all_at(sys, job.dest, &buffer[..read], dest_pos).map_err(|error| {
            CopyError::io(
                format!("write {} at offset {dest_pos}", job.dest_name),
                error,
            )
        })?;
        self.stats.read_write_bytes += read as u64;
        Ok(read as u64)
    }

    /// Reads (and discards) up to one byte at `pos`, to learn whether the source goes on.
    pub(crate) fn probe_source(&mut self, pos: u64) -> Result<u64, CopyError> {
        let mut byte = [0u8; 1];
        let job = self.job;
        let sys = &mut *self.sys;
        let read = if self.source_kind == FileKind::Stream {
            retry_interrupted(|| sys.read_stream(job.source, &mut byte))
        } else {
            retry_interrupted(|| sys.read_at(job.source, &mut byte, pos))
        };
        read.map(|bytes| bytes as u64).map_err(|error| {
            CopyError::io(format!("read {} at offset {pos}", job.source_name), error)
        })
    }

    pub(crate) fn source_len_now(&mut self) -> Result<u64, CopyError> {
        let job = self.job;
        retry_interrupted(|| self.sys.file_info(job.source))
            .map(|info| info.len)
            .map_err(|error| CopyError::io(format!("stat {}", job.source_name), error))
    }
}
