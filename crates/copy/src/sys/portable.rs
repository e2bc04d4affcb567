use std::fs::{File, Metadata};
use std::io::{self, Read};

use super::{FileInfo, FileKind, Syscalls, ZeroMethod};

/// A std-only implementation: no copy_file_range, no hole detection, no fallocate. The engine
/// then copies everything with positioned reads and writes (and writes zeros for holes).
///
/// On Windows, positioned I/O (`seek_read`/`seek_write`) does move the file offset; there is
/// no offset-free alternative in std.
#[derive(Debug, Default, Clone, Copy)]
pub struct PortableSyscalls;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} is not available on this platform"),
    )
}

#[cfg(unix)]
mod positioned {
    use std::os::unix::fs::FileExt;
    use std::{fs::File, io};

    pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        FileExt::read_at(file, buf, offset)
    }
    pub fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        FileExt::write_at(file, buf, offset)
    }
}

#[cfg(windows)]
mod positioned {
    use std::os::windows::fs::FileExt;
    use std::{fs::File, io};

    pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        file.seek_read(buf, offset)
    }
    pub fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        file.seek_write(buf, offset)
    }
}

#[cfg(not(any(unix, windows)))]
mod positioned {
    use std::{fs::File, io};

    pub fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
        Err(super::unsupported("positioned read"))
    }
    pub fn write_at(_file: &File, _buf: &[u8], _offset: u64) -> io::Result<usize> {
        Err(super::unsupported("positioned write"))
    }
}

pub(crate) fn kind_of(metadata: &Metadata) -> FileKind {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return FileKind::Regular;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_block_device() {
            return FileKind::BlockDevice;
        }
        if file_type.is_fifo() || file_type.is_socket() {
            return FileKind::Stream;
        }
    }
    FileKind::Other
}

impl Syscalls for PortableSyscalls {
    fn copy_file_range(
        &mut self,
        _source: &File,
        _source_offset: u64,
        _dest: &File,
        _dest_offset: u64,
        _len: usize,
    ) -> io::Result<usize> {
        Err(unsupported("copy_file_range"))
    }

    fn read_at(&mut self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        positioned::read_at(file, buf, offset)
    }

    fn read_stream(&mut self, mut file: &File, buf: &mut [u8]) -> io::Result<usize> {
        file.read(buf)
    }

    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        positioned::write_at(file, buf, offset)
    }

    fn seek_data(&mut self, _file: &File, _offset: u64) -> io::Result<Option<u64>> {
        Err(unsupported("SEEK_DATA"))
    }

    fn seek_hole(&mut self, _file: &File, _offset: u64) -> io::Result<u64> {
        Err(unsupported("SEEK_HOLE"))
    }

    fn fallocate(
        &mut self,
        _file: &File,
        _method: ZeroMethod,
        _offset: u64,
        _len: u64,
    ) -> io::Result<()> {
        Err(unsupported("fallocate"))
    }

    fn file_info(&mut self, file: &File) -> io::Result<FileInfo> {
        let metadata = file.metadata()?;
        let kind = kind_of(&metadata);
        let len = match kind {
            FileKind::Regular | FileKind::BlockDevice => metadata.len(),
            FileKind::Stream | FileKind::Other => 0,
        };
        Ok(FileInfo {
            kind,
            len,
            allocated: None,
        })
    }

    fn set_len(&mut self, file: &File, len: u64) -> io::Result<()> {
        file.set_len(len)
    }
}
