//! Positioned read/write: the path for everything copy_file_range cannot do.

use std::fs::File;
use std::io;

use crate::sys::Syscalls;

/// One buffer per engine. Big enough that a pread/pwrite pair costs little next to the data
/// it moves; small enough to never matter for memory.
pub(crate) const BUFFER_SIZE: usize = 4 << 20;

/// The engine's only data buffer, allocated on first use: jobs that reflink or only skip holes
/// never pay for it.
#[derive(Default)]
pub(crate) struct TransferBuffer {
    bytes: Option<Box<[u8]>>,
    holds_only_zeros: bool,
}

impl TransferBuffer {
    /// For reading file data into; afterwards the buffer no longer holds zeros.
    pub(crate) fn for_data(&mut self) -> &mut [u8] {
        self.holds_only_zeros = false;
        self.bytes.get_or_insert_with(new_buffer)
    }

    /// A buffer of zeros, for clearing destinations that cannot punch holes.
    pub(crate) fn zeros(&mut self) -> &[u8] {
        let was_dirty = self.bytes.is_some() && !self.holds_only_zeros;
        let bytes = self.bytes.get_or_insert_with(new_buffer);
        if was_dirty {
            bytes.fill(0);
        }
        self.holds_only_zeros = true;
        bytes
    }
}

fn new_buffer() -> Box<[u8]> {
    vec![0u8; BUFFER_SIZE].into_boxed_slice()
}

/// Retries a call the kernel interrupted before it did anything.
pub(crate) fn retry_interrupted<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// pwrite until everything is written: short writes are normal on some devices and after
/// signals.
pub(crate) fn write_all_at<S: Syscalls>(
    sys: &mut S,
    file: &File,
    mut bytes: &[u8],
    mut offset: u64,
) -> io::Result<()> {
    while !bytes.is_empty() {
        match retry_interrupted(|| sys.write_at(file, bytes, offset))? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "write returned 0 bytes",
                ));
            }
            written => {
                bytes = &bytes[written..];
                offset += written as u64;
            }
        }
    }
    Ok(())
}
