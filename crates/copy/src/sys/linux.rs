use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use nix::errno::Errno;
use nix::fcntl::{self, FallocateFlags};
use nix::unistd::{self, Whence};

use super::portable::kind_of;
use super::{FileInfo, FileKind, Syscalls, ZeroMethod};

/// The real system calls, through nix.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscalls;

// BLKGETSIZE64 is _IOR(0x12, 114, size_t) in the kernel headers although it stores a u64, so
// the request number must be built with size_t's size, not u64's.
nix::ioctl_read_bad!(
    block_device_size,
    nix::request_code_read!(0x12, 114, std::mem::size_of::<usize>()),
    u64
);

fn to_off_t(offset: u64) -> io::Result<i64> {
    i64::try_from(offset).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("offset {offset} exceeds i64"),
        )
    })
}

/// SEEK_DATA/SEEK_HOLE are the only way to ask for extents on tmpfs and friends, but lseek
/// moves the shared file offset. Callers rely on the engine never moving it, so put it back.
fn seek_preserving_offset(file: &File, offset: u64, whence: Whence) -> Result<u64, Errno> {
    let saved = unistd::lseek(file, 0, Whence::SeekCur)?;
    let result = to_off_t(offset)
        .map_err(|_| Errno::EINVAL)
        .and_then(|offset| unistd::lseek(file, offset, whence));
    unistd::lseek(file, saved, Whence::SeekSet)?;
    result.map(|position| position as u64)
}

impl Syscalls for LinuxSyscalls {
    fn copy_file_range(
        &mut self,
        source: &File,
        source_offset: u64,
        dest: &File,
        dest_offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        let mut off_in = to_off_t(source_offset)?;
        let mut off_out = to_off_t(dest_offset)?;
        Ok(fcntl::copy_file_range(
            source,
            Some(&mut off_in),
            dest,
            Some(&mut off_out),
            len,
        )?)
    }

    fn read_at(&mut self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        file.read_at(buf, offset)
    }

    fn read_stream(&mut self, mut file: &File, buf: &mut [u8]) -> io::Result<usize> {
        file.read(buf)
    }

    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        file.write_at(buf, offset)
    }

    fn seek_data(&mut self, file: &File, offset: u64) -> io::Result<Option<u64>> {
        match seek_preserving_offset(file, offset, Whence::SeekData) {
            Ok(position) => Ok(Some(position)),
            Err(Errno::ENXIO) => Ok(None),
            Err(errno) => Err(errno.into()),
        }
    }

    fn seek_hole(&mut self, file: &File, offset: u64) -> io::Result<u64> {
        Ok(seek_preserving_offset(file, offset, Whence::SeekHole)?)
    }

    fn fallocate(
        &mut self,
        file: &File,
        method: ZeroMethod,
        offset: u64,
        len: u64,
    ) -> io::Result<()> {
        let flags = FallocateFlags::FALLOC_FL_KEEP_SIZE
            | match method {
                ZeroMethod::ZeroRange => FallocateFlags::FALLOC_FL_ZERO_RANGE,
                ZeroMethod::PunchHole => FallocateFlags::FALLOC_FL_PUNCH_HOLE,
            };
        Ok(fcntl::fallocate(
            file,
            flags,
            to_off_t(offset)?,
            to_off_t(len)?,
        )?)
    }

    fn file_info(&mut self, file: &File) -> io::Result<FileInfo> {
        let metadata = file.metadata()?;
        let kind = kind_of(&metadata);
        let len = match kind {
            FileKind::Regular => metadata.len(),
            FileKind::BlockDevice => {
                let mut size = 0u64;
                // SAFETY: the fd is valid for the call and `size` is a u64 the ioctl fills.
                unsafe { block_device_size(std::os::fd::AsRawFd::as_raw_fd(file), &mut size) }?;
                size
            }
            FileKind::Stream | FileKind::Other => 0,
        };
        Ok(FileInfo {
            kind,
            len,
            allocated: Some(std::os::unix::fs::MetadataExt::blocks(&metadata) * 512),
        })
    }

    fn set_len(&mut self, file: &File, len: u64) -> io::Result<()> {
        file.set_len(len)
    }
}
