//! Copying a source of known length extent by extent, so holes stay holes.

use crate::error::CopyError;
use crate::fallback::{retry_interrupted, write_all_at, BUFFER_SIZE};
use crate::opened::Destination;
use crate::run::Run;
use crate::sys::{FileKind, Syscalls, ZeroMethod};

/// Largest range zeroed in one go on a dirty destination: zeroing a block device range really
/// writes, so pieces keep progress and cancellation responsive.
const ZERO_CHUNK: u64 = 64 << 20;

/// Where the next data starts and ends, as far as the file system says.
struct Extent {
    start: u64,
    end: u64,
}

impl<S: Syscalls> Run<'_, '_, S> {
    /// Copies source bytes [0, len): data extents at their own offsets, holes skipped or
    /// zeroed. Errors with `SourceChanged` if the source ends before `len`.
    pub(crate) fn copy_extents(&mut self, len: u64) -> Result<(), CopyError> {
        let mut pos = 0;
        let mut holes_detectable = self.may_have_holes;
        let mut ends_in_hole = false;
        while pos < len {
            let extent = self.next_data(pos, len, &mut holes_detectable);
            if extent.start > pos {
                self.fill_hole(pos, extent.start)?;
                ends_in_hole = true;
            }
            if extent.start >= len {
                break;
            }
            self.copy_data(extent.start, extent.end, len)?;
            ends_in_hole = false;
            pos = extent.end;
        }
        if ends_in_hole {
            self.extend_dest_to(self.job.dest_offset + len)?;
        }
        Ok(())
    }

    /// File systems without SEEK_DATA/SEEK_HOLE (or errors from them) make the rest of the
    /// file one data extent: copying zeros is slower than skipping them, never wrong.
    fn next_data(&mut self, pos: u64, len: u64, holes_detectable: &mut bool) -> Extent {
        if !*holes_detectable {
            return Extent {
                start: pos,
                end: len,
            };
        }
        let source = self.job.source;
        let base = self.source_offset;
        let start = match self.sys.seek_data(source, base + pos) {
            Ok(Some(start)) => start.saturating_sub(base).clamp(pos, len),
            // No data after `pos` (ENXIO): the rest is a hole, or the file shrank, which the
            // final length check reports.
            Ok(None) => len,
            Err(_) => {
                *holes_detectable = false;
                return Extent {
                    start: pos,
                    end: len,
                };
            }
        };
        if start >= len {
            return Extent { start, end: len };
        }
        let end = match self.sys.seek_hole(source, base + start) {
            Ok(end) if end > base + start => (end - base).min(len),
            _ => {
                *holes_detectable = false;
                len
            }
        };
        Extent { start, end }
    }

    fn copy_data(&mut self, start: u64, end: u64, len: u64) -> Result<(), CopyError> {
        let mut pos = start;
        while pos < end {
            let moved = self.copy_step(pos, end)?;
            if moved == 0 {
                // `len` may be a prefix of the source: the change is told against its length.
                let before = self.source_len.unwrap_or(len);
                let now = self.source_len_now()?;
                let after = if now != before { now } else { pos };
                return Err(CopyError::SourceChanged { before, after });
            }
            pos += moved;
            self.progress.advance(moved)?;
        }
        Ok(())
    }

    fn fill_hole(&mut self, start: u64, end: u64) -> Result<(), CopyError> {
        if self.job.dest_state == Destination::Zeroed {
            self.stats.hole_bytes += end - start;
            return self.progress.advance(end - start);
        }
        let mut pos = start;
        while pos < end {
            let piece = (end - pos).min(ZERO_CHUNK);
            self.zero_dest(self.job.dest_offset + pos, piece)?;
            self.stats.hole_bytes += piece;
            self.progress.advance(piece)?;
            pos += piece;
        }
        Ok(())
    }

    /// Zeroes a destination range: ZERO_RANGE (block devices and most file systems), then
    /// PUNCH_HOLE, then plain writes. A method that fails once is not tried again in this job,
    /// so a destination without fallocate costs one failed call, not one per hole.
    fn zero_dest(&mut self, offset: u64, len: u64) -> Result<(), CopyError> {
        let dest = self.job.dest;
        while let Some(method) = self.zero_method {
            match retry_interrupted(|| self.sys.fallocate(dest, method, offset, len)) {
                Ok(()) => return Ok(()),
                // Whatever the reason, writing zeros still works or reports the real error.
                Err(_) => {
                    self.zero_method = match method {
                        ZeroMethod::ZeroRange => Some(ZeroMethod::PunchHole),
                        ZeroMethod::PunchHole => None,
                    }
                }
            }
        }
        let zeros = self.buffer.zeros();
        let mut pos = offset;
        let end = offset + len;
        while pos < end {
            let piece = (end - pos).min(BUFFER_SIZE as u64) as usize;
            write_all_at(self.sys, dest, &zeros[..piece], pos).map_err(|error| {
                CopyError::io(
                    format!("write zeros to {} at offset {pos}", self.job.dest_name),
                    error,
                )
            })?;
            pos += piece as u64;
        }
        Ok(())
    }

    /// A skipped trailing hole leaves a regular destination file short; readers of the image
    /// must still see zeros there.
    fn extend_dest_to(&mut self, required_len: u64) -> Result<(), CopyError> {
        let job = self.job;
        let info = retry_interrupted(|| self.sys.file_info(job.dest))
            .map_err(|error| CopyError::io(format!("stat {}", job.dest_name), error))?;
        if info.kind != FileKind::Regular || info.len >= required_len {
            return Ok(());
        }
        retry_interrupted(|| self.sys.set_len(job.dest, required_len)).map_err(|error| {
            CopyError::io(
                format!("extend {} to {required_len} bytes", job.dest_name),
                error,
            )
        })
    }
}
