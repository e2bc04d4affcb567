//! Copying a source whose size the kernel does not report (procfs, pipes, character devices):
//! read until end of file, never past the destination's capacity.

use crate::error::CopyError;
use crate::run::Run;
use crate::sys::Syscalls;

impl<S: Syscalls> Run<'_, '_, S> {
    /// Returns the number of bytes the source had.
    pub(crate) fn copy_until_end(&mut self) -> Result<u64, CopyError> {
        let capacity = self.job.dest_capacity;
        let mut pos = 0;
        loop {
            if pos == capacity {
                // Full: only a read tells whether the source has more, and that read must not
                // be written anywhere.
                return match self.probe_source(pos)? {
                    0 => Ok(pos),
                    more => Err(CopyError::TooLarge {
                        source_len: pos + more,
                        capacity,
                    }),
                };
            }
            let moved = self.copy_step(pos, capacity)?;
            if moved == 0 {
                return Ok(pos);
            }
            pos += moved;
            self.progress.advance(moved)?;
        }
    }
}
