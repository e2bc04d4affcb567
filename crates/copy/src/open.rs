//! Opening a source for copying without ever blocking on it.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::error::CopyError;

/// Opens `path` for reading. A FIFO (or a device) swapped in for a planned file would block a
/// plain open(2) until some writer appears, and no signal handler of Node's can end that wait;
/// O_NONBLOCK makes the open return at once, so the engine can see what the file is and refuse
/// it. For regular files O_NONBLOCK changes nothing. O_NOCTTY keeps a terminal swapped in from
/// becoming the process's controlling terminal. A failure names the file ("cannot open ...").
pub fn open_source(path: &Path) -> Result<File, CopyError> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        #[cfg(target_os = "linux")]
        options.custom_flags(
            nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_NOCTTY.bits(),
        );
    }
    options.open(path).map_err(|source| CopyError::Io {
        context: format!("cannot open {}", path.display()),
        source,
    })
}
