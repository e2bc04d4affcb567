//! The copy engine: checks a job, then runs it extent by extent (see `run`).

use std::fs::File;
use std::io;
use std::ops::Range;

use crate::error::CopyError;
use crate::fallback::{retry_interrupted, write_all_at, TransferBuffer};
use crate::mode::CopyMode;
use crate::opened::OpenedCopy;
use crate::progress::Progress;
use crate::run::Run;
use crate::stats::CopyStats;
use crate::sys::{DefaultSyscalls, FileKind, Syscalls, ZeroMethod};
use crate::written::{ByteRange, WrittenRanges};

/// Which of the source's bytes a copy takes.
enum Portion {
    Whole,
    /// The first bytes, at most the whole source.
    Prefix(u64),
    /// Exactly these bytes, which must exist.
    Range(Range<u64>),
    /// As Range, known by the caller to hold data: not walked for holes.
    DataRange(Range<u64>),
}

/// Copies files into images. Reuse one engine for many files: it keeps one read/write
/// buffer and cumulative [`CopyStats`].
pub struct CopyEngine<S: Syscalls = DefaultSyscalls> {
    mode: CopyMode,
    sys: S,
    buffer: TransferBuffer,
    stats: CopyStats,
    written: WrittenRanges,
}

impl CopyEngine<DefaultSyscalls> {
    pub fn new(mode: CopyMode) -> Self {
        Self::with_syscalls(mode, DefaultSyscalls::default())
    }
}

impl<S: Syscalls> CopyEngine<S> {
    pub fn with_syscalls(mode: CopyMode, sys: S) -> Self {
        CopyEngine {
            mode,
            sys,
            buffer: TransferBuffer::default(),
            stats: CopyStats::default(),
            written: WrittenRanges::new(),
        }
    }

    /// The syscall layer, e.g. to read counters of an instrumented one.
    pub fn syscalls(&self) -> &S {
        &self.sys
    }

    pub fn syscalls_mut(&mut self) -> &mut S {
        &mut self.sys
    }

    /// Copies the whole source (offset 0 to its end) to dest at dest_offset. `progress` is
    /// called with the number of bytes advanced (copied or skipped as hole) since its previous
    /// call, at least every 64 MiB and at the end (a hole skipped in a fresh destination is
    /// reported in one call, however large); returning false cancels (CopyError::Cancelled).
    /// Returns the number of source bytes (its length).
    ///
    /// Neither file's offset is moved. Without a planned length, sources whose size the kernel
    /// reports as 0 (procfs, pipes, character devices) are read until end of file, up to
    /// `dest_capacity`; with one, see [`OpenedCopy::planned_length`].
    pub fn copy(
        &mut self,
        job: &OpenedCopy,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64, CopyError> {
        self.copy_up_to(job, Portion::Whole, progress)
    }

    /// As [`copy`](Self::copy), but only the source's first `prefix` bytes (at most its
    /// length), for a writer that stores the rest elsewhere (an EROFS inline tail): the source
    /// is still checked against its planned length, and reflinked whole blocks stay whole.
    /// Returns the bytes copied.
    pub fn copy_prefix(
        &mut self,
        job: &OpenedCopy,
        prefix: u64,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64, CopyError> {
        self.copy_up_to(job, Portion::Prefix(prefix), progress)
    }

    /// As [`copy`](Self::copy), but only the source's bytes `source_range`, whose first byte
    /// goes to `dest_offset`: for a writer that moves an image's data to other offsets (a
    /// virtual-disk container placing guest clusters in its own file). Reflinks need both
    /// offsets block-aligned, as for a whole copy; holes inside the range are skipped or zeroed
    /// as in a whole copy. The range must lie within the source ([`CopyError::SourceChanged`]
    /// before anything is written, with the range's end as the expected length) and fit
    /// `dest_capacity` ([`CopyError::TooLarge`]). Returns the bytes of the range.
    pub fn copy_range(
        &mut self,
        job: &OpenedCopy,
        source_range: Range<u64>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64, CopyError> {
        self.copy_up_to(job, Portion::Range(source_range), progress)
    }

    /// As [`copy_range`](Self::copy_range), for a range the caller knows holds data (the
    /// build's own map of what it wrote): it is copied as one extent, without SEEK_DATA and
    /// SEEK_HOLE, which on a file of thousands of shared extents (XFS) cost more than the copy.
    pub fn copy_data_range(
        &mut self,
        job: &OpenedCopy,
        source_range: Range<u64>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64, CopyError> {
        self.copy_up_to(job, Portion::DataRange(source_range), progress)
    }

    fn copy_up_to(
        &mut self,
        job: &OpenedCopy,
        portion: Portion,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<u64, CopyError> {
        let source_info = retry_interrupted(|| self.sys.file_info(job.source))
            .map_err(|error| CopyError::io(format!("stat {}", job.source_name), error))?;
        if let Some(planned) = job.planned_length {
            if source_info.kind != FileKind::Regular {
                return Err(CopyError::NoLongerRegular {
                    now: source_info.kind,
                });
            }
            if source_info.len != planned {
                return Err(CopyError::SourceChanged {
                    before: planned,
                    after: source_info.len,
                });
            }
        }
        let source_len = (source_info.len > 0).then_some(source_info.len);
        // The source bytes to copy: the whole source, its prefix, or a range of it.
        let known_data = matches!(portion, Portion::DataRange(_));
        let bounds = match (portion, source_len) {
            (Portion::Range(range) | Portion::DataRange(range), _) if range.start > range.end => {
                return Err(CopyError::io(
                    format!("copy from {}", job.source_name),
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("range {}..{} ends before it starts", range.start, range.end),
                    ),
                ));
            }
            (Portion::Range(range) | Portion::DataRange(range), len) => {
                let len = len.unwrap_or(0);
                if range.end > len {
                    return Err(CopyError::SourceChanged {
                        before: range.end,
                        after: len,
                    });
                }
                Some(range)
            }
            (_, None) => None,
            (Portion::Whole, Some(len)) => Some(0..len),
            (Portion::Prefix(prefix), Some(len)) => Some(0..prefix.min(len)),
        };
        if let Some(bounds) = &bounds {
            let len = bounds.end - bounds.start;
            if len > job.dest_capacity {
                return Err(CopyError::TooLarge {
                    source_len: len,
                    capacity: job.dest_capacity,
                });
            }
        }
        if job.dest_offset.checked_add(job.dest_capacity).is_none() {
            return Err(CopyError::io(
                format!("copy into {}", job.dest_name),
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "destination offset {} plus capacity {} overflows",
                        job.dest_offset, job.dest_capacity
                    ),
                ),
            ));
        }
        let mut run = Run {
            sys: &mut self.sys,
            buffer: &mut self.buffer,
            stats: &mut self.stats,
            written: &mut self.written,
            data_steps: 0,
            progress: Progress::new(progress),
            job,
            mode: self.mode,
            source_kind: source_info.kind,
            source_len,
            source_start: bounds.as_ref().map_or(0, |bounds| bounds.start),
            // Pipes have no offsets to pass; copy_file_range would only fail on them.
            use_copy_file_range: match self.mode {
                CopyMode::Auto => source_info.kind != FileKind::Stream,
                CopyMode::CopyFileRange => true,
                CopyMode::ReadWrite => false,
            },
            kernel_copied_any: false,
            zero_method: Some(ZeroMethod::ZeroRange),
            // As GNU cp decides: only a file with fewer bytes allocated than its length can
            // have holes, so only such files are walked with SEEK_DATA/SEEK_HOLE (two to six
            // lseeks per extent, which dominate copying thousands of small files); a range the
            // caller knows is data is not walked either.
            may_have_holes: !(known_data
                || source_info.kind == FileKind::Regular
                    && source_info
                        .allocated
                        .is_some_and(|allocated| allocated >= source_info.len)),
        };
        let copied = match (source_len, bounds) {
            (Some(len), Some(bounds)) => {
                let copied = bounds.end - bounds.start;
                run.copy_extents(bounds)?;
                // A copy made by one call is a snapshot of that moment: a change after it is
                // no different from one after the build, so only longer copies look again
                // (which saves an fstat per small file).
                if run.data_steps > 1 {
                    let after = run.source_len_now()?;
                    if after != len {
                        return Err(CopyError::SourceChanged { before: len, after });
                    }
                }
                copied
            }
            // Planned as empty: it must read as empty too (procfs files report 0 bytes).
            // An empty range of an empty source.
            (None, Some(_)) => 0,
            (None, None) if job.planned_length == Some(0) => match run.probe_source(0)? {
                0 => 0,
                _ => return Err(CopyError::UnsizedSource),
            },
            _ => run.copy_until_end()?,
        };
        run.progress.flush()?;
        Ok(copied)
    }

    /// The last `len` bytes of `source`, planned as a regular file of `planned_length` bytes,
    /// read into memory: for a writer that stores a file's tail among its metadata (EROFS
    /// inline data) and copies only the whole blocks before it. The same checks as a copy:
    /// [`CopyError::NoLongerRegular`] or [`CopyError::SourceChanged`] before reading, and
    /// SourceChanged when the read comes up short.
    pub fn read_source_end(
        &mut self,
        source: &File,
        source_name: &str,
        planned_length: u64,
        len: usize,
    ) -> Result<Vec<u8>, CopyError> {
        let info = retry_interrupted(|| self.sys.file_info(source))
            .map_err(|error| CopyError::io(format!("stat {source_name}"), error))?;
        if info.kind != FileKind::Regular {
            return Err(CopyError::NoLongerRegular { now: info.kind });
        }
        if info.len != planned_length {
            return Err(CopyError::SourceChanged {
                before: planned_length,
                after: info.len,
            });
        }
        let start = planned_length.saturating_sub(len as u64);
        let mut bytes = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match self
                .sys
                .read_at(source, &mut bytes[done..], start + done as u64)
            {
                Ok(0) => {
                    return Err(CopyError::SourceChanged {
                        before: planned_length,
                        after: start + done as u64,
                    })
                }
                Ok(n) => done += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(CopyError::io(
                        format!("read {len} bytes at offset {start} of {source_name}"),
                        error,
                    ))
                }
            }
        }
        Ok(bytes)
    }

    /// Writes all of `bytes` at `offset` of `dest` through the engine's system-call layer: the
    /// metadata callers put around copied data (partition tables, filesystem structures).
    pub fn write_all_at(
        &mut self,
        dest: &File,
        dest_name: &str,
        bytes: &[u8],
        offset: u64,
    ) -> Result<(), CopyError> {
        write_all_at(&mut self.sys, dest, bytes, offset).map_err(|error| {
            CopyError::io(
                format!(
                    "write {} bytes at offset {offset} of {dest_name}",
                    bytes.len()
                ),
                error,
            )
        })?;
        self.written.add(offset, bytes.len() as u64);
        Ok(())
    }

    /// The destination byte ranges this engine has written (data copied or metadata written;
    /// holes skipped or zeroed are not), sorted and merged: over all calls, failed ones too.
    pub fn written_ranges(&self) -> Vec<ByteRange> {
        self.written.ranges()
    }

    /// Cumulative over all `copy()` calls of this engine, including failed ones.
    pub fn stats(&self) -> CopyStats {
        self.stats
    }
}
