use crate::error::CopyError;

/// How many bytes may pass between two progress reports (a skipped hole is reported at once,
/// since skipping it takes no time).
pub(crate) const PROGRESS_INTERVAL: u64 = 64 << 20;

/// Batches byte counts so the callback (possibly a JavaScript function behind napi) runs
/// about once per [`PROGRESS_INTERVAL`], not once per 4 MiB buffer.
pub(crate) struct Progress<'p> {
    callback: &'p mut dyn FnMut(u64) -> bool,
    pending: u64,
}

impl<'p> Progress<'p> {
    pub(crate) fn new(callback: &'p mut dyn FnMut(u64) -> bool) -> Self {
        Progress {
            callback,
            pending: 0,
        }
    }

    pub(crate) fn advance(&mut self, bytes: u64) -> Result<(), CopyError> {
        if self.pending > 0 && self.pending + bytes > PROGRESS_INTERVAL {
            self.flush()?;
        }
        self.pending += bytes;
        if self.pending >= PROGRESS_INTERVAL {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> Result<(), CopyError> {
        if self.pending == 0 {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.pending);
        if (self.callback)(bytes) {
            Ok(())
        } else {
            Err(CopyError::Cancelled)
        }
    }
}
