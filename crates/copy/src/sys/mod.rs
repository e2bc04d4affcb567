//! The replaceable system-call layer. The engine decides *what* to do; an implementation of
//! [`Syscalls`] only performs single calls, so tests can wrap the real one and inject faults.

use std::fs::File;
use std::io;

#[cfg(target_os = "linux")]
mod linux;
mod portable;

#[cfg(target_os = "linux")]
pub use linux::LinuxSyscalls;
pub use portable::PortableSyscalls;

/// The implementation [`CopyEngine::new`](crate::CopyEngine::new) uses on this platform.
#[cfg(target_os = "linux")]
pub type DefaultSyscalls = LinuxSyscalls;
/// The implementation [`CopyEngine::new`](crate::CopyEngine::new) uses on this platform.
#[cfg(not(target_os = "linux"))]
pub type DefaultSyscalls = PortableSyscalls;

/// What kind of file a descriptor refers to, as far as copying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    BlockDevice,
    /// Pipes and sockets: no offsets, so they can only be read sequentially.
    Stream,
    /// Character devices, directories and anything else.
    Other,
}

/// Result of [`Syscalls::file_info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: FileKind,
    /// st_size for regular files, the device size for block devices, 0 when unknown.
    /// procfs/sysfs files report 0 although they have content, so the engine treats 0 as
    /// "unknown, read until end of file".
    pub len: u64,
    /// Bytes the file system allocated to the file (st_blocks × 512), where the platform says.
    /// A regular file with at least `len` bytes allocated cannot have holes worth finding.
    pub allocated: Option<u64>,
}

/// fallocate(2) operations that leave zeros in a range without changing the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroMethod {
    /// FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE
    ZeroRange,
    /// FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    PunchHole,
}

/// Single system calls the copy engine needs. Every offset is explicit: no method may leave
/// a file's offset (lseek position) moved.
///
/// Errors are returned as they come (including `EINTR`); the engine retries interrupted
/// calls and decides which errors mean "fall back".
pub trait Syscalls {
    /// copy_file_range(2) with explicit input and output offsets. `Ok(0)` means end of file
    /// or "this file cannot be copied this way" (procfs); the engine tells them apart.
    fn copy_file_range(
        &mut self,
        source: &File,
        source_offset: u64,
        dest: &File,
        dest_offset: u64,
        len: usize,
    ) -> io::Result<usize>;

    /// pread(2).
    fn read_at(&mut self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// read(2), for [`FileKind::Stream`] sources, which have no offsets.
    fn read_stream(&mut self, file: &File, buf: &mut [u8]) -> io::Result<usize>;

    /// pwrite(2).
    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64) -> io::Result<usize>;

    /// lseek(SEEK_DATA): the start of the next data at or after `offset`, `None` when there
    /// is none (ENXIO). Any error means the file system cannot tell holes from data.
    fn seek_data(&mut self, file: &File, offset: u64) -> io::Result<Option<u64>>;

    /// lseek(SEEK_HOLE): the start of the next hole at or after `offset` (the end of the file
    /// counts as a hole).
    fn seek_hole(&mut self, file: &File, offset: u64) -> io::Result<u64>;

    /// fallocate(2) with `method`; the file's size stays unchanged.
    fn fallocate(
        &mut self,
        file: &File,
        method: ZeroMethod,
        offset: u64,
        len: u64,
    ) -> io::Result<()>;

    /// fstat(2), plus BLKGETSIZE64 for block devices.
    fn file_info(&mut self, file: &File) -> io::Result<FileInfo>;

    /// ftruncate(2).
    fn set_len(&mut self, file: &File, len: u64) -> io::Result<()>;
}
