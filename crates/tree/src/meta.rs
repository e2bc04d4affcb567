//! Reading one source's metadata: identity, kind, mode, owner, times, extended attributes.

use std::fs::Metadata;
use std::io;
use std::path::Path;

use crate::tree::{Meta, SpecialKind, Xattr};

/// The metadata the filesystem keeps, without extended attributes.
pub(crate) fn meta_of(meta: &Metadata) -> Meta {
    let (mtime, mtime_nsec) = mtime_of(meta);
    let (mode, uid, gid) = owner_and_mode(meta);
    Meta {
        mode,
        uid,
        gid,
        mtime,
        mtime_nsec,
        xattrs: Vec::new(),
    }
}

/// The metadata of a directory made only to hold targets; its mtime is set when finished.
pub(crate) fn implicit_dir_meta() -> Meta {
    Meta {
        mode: 0o40755,
        uid: 0,
        gid: 0,
        mtime: 0,
        mtime_nsec: 0,
        xattrs: Vec::new(),
    }
}

#[cfg(unix)]
fn owner_and_mode(meta: &Metadata) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.mode(), meta.uid(), meta.gid())
}

#[cfg(not(unix))]
fn owner_and_mode(meta: &Metadata) -> (u32, u32, u32) {
    let mode = if meta.is_dir() { 0o40755 } else { 0o100644 };
    (mode, 0, 0)
}

/// Whole seconds since the epoch, rounded down so times before 1970 stay ordered, and the
/// nanoseconds after them.
#[cfg(unix)]
fn mtime_of(meta: &Metadata) -> (i64, u32) {
    use std::os::unix::fs::MetadataExt;
    let nsec = u32::try_from(meta.mtime_nsec())
        .unwrap_or(0)
        .min(999_999_999);
    (meta.mtime(), nsec)
}

#[cfg(not(unix))]
fn mtime_of(meta: &Metadata) -> (i64, u32) {
    let Ok(t) = meta.modified() else {
        return (0, 0);
    };
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => ((-secs).saturating_sub(1), 1_000_000_000 - n),
            }
        }
    }
}

#[cfg(unix)]
pub(crate) fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub(crate) fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// The kind of a FIFO, socket or device, and its device number; None for anything else.
#[cfg(unix)]
pub(crate) fn special_kind(meta: &Metadata) -> Option<(SpecialKind, u64)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let t = meta.file_type();
    let kind = if t.is_socket() {
        SpecialKind::Socket
    } else if t.is_fifo() {
        SpecialKind::Fifo
    } else if t.is_block_device() {
        SpecialKind::BlockDevice
    } else if t.is_char_device() {
        SpecialKind::CharDevice
    } else {
        return None;
    };
    let rdev = match kind {
        SpecialKind::BlockDevice | SpecialKind::CharDevice => meta.rdev(),
        _ => 0,
    };
    Some((kind, rdev))
}

#[cfg(not(unix))]
pub(crate) fn special_kind(_meta: &Metadata) -> Option<(SpecialKind, u64)> {
    None
}

/// "a socket", "a FIFO", ...: what a source that is neither a file nor a directory is.
pub(crate) fn kind_of(meta: &Metadata) -> &'static str {
    match special_kind(meta) {
        Some((SpecialKind::Socket, _)) => "a socket",
        Some((SpecialKind::Fifo, _)) => "a FIFO",
        Some((SpecialKind::BlockDevice, _)) => "a block device",
        Some((SpecialKind::CharDevice, _)) => "a character device",
        None => "not a regular file",
    }
}

/// The extended attributes of `path`, sorted by name: of what it points to if `follow`, of
/// a symlink itself otherwise. A filesystem without them has none.
#[cfg(target_os = "linux")]
pub(crate) fn read_xattrs(path: &Path, follow: bool) -> io::Result<Vec<Xattr>> {
    use std::ffi::{CString, OsStr};
    use std::os::unix::ffi::OsStrExt;

    let c_path = CString::new(path.as_os_str().as_bytes())?;
    let list = |buf: &mut [u8]| {
        let (ptr, len) = (buf.as_mut_ptr().cast(), buf.len());
        // SAFETY: c_path is NUL-terminated; the kernel writes at most `len` bytes to `ptr`.
        let n = unsafe {
            if follow {
                libc::listxattr(c_path.as_ptr(), ptr, len)
            } else {
                libc::llistxattr(c_path.as_ptr(), ptr, len)
            }
        };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    };
    let Some(names) = sized_read(list).or_else(unsupported)? else {
        return Ok(Vec::new());
    };
    let mut xattrs = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let c_name = CString::new(name)?;
        let get = |buf: &mut [u8]| {
            let (ptr, len) = (buf.as_mut_ptr().cast(), buf.len());
            // SAFETY: both strings are NUL-terminated; at most `len` bytes land at `ptr`.
            let n = unsafe {
                if follow {
                    libc::getxattr(c_path.as_ptr(), c_name.as_ptr(), ptr, len)
                } else {
                    libc::lgetxattr(c_path.as_ptr(), c_name.as_ptr(), ptr, len)
                }
            };
            usize::try_from(n).map_err(|_| io::Error::last_os_error())
        };
        match sized_read(get) {
            Ok(value) => xattrs.push(Xattr {
                name: OsStr::from_bytes(name).to_os_string(),
                value: value.unwrap_or_default(),
            }),
            // Removed between listing and reading.
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => {}
            Err(e) => return Err(e),
        }
    }
    xattrs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(xattrs)
}

/// Asks for the size, then reads; again if it grew meanwhile (ERANGE). None when empty.
#[cfg(target_os = "linux")]
fn sized_read(mut call: impl FnMut(&mut [u8]) -> io::Result<usize>) -> io::Result<Option<Vec<u8>>> {
    loop {
        let size = call(&mut [])?;
        if size == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; size];
        match call(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(e) if e.raw_os_error() == Some(libc::ERANGE) => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(target_os = "linux")]
fn unsupported(e: io::Error) -> io::Result<Option<Vec<u8>>> {
    match e.raw_os_error() {
        Some(libc::ENOTSUP) => Ok(None),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn read_xattrs(_path: &Path, _follow: bool) -> io::Result<Vec<Xattr>> {
    Ok(Vec::new())
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;
