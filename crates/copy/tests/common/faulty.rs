//! A syscall layer that delegates to the real one, records what happened, and injects faults
//! on demand.

use std::fs::File;
use std::io;

use imgforge_copy::{DefaultSyscalls, FileInfo, Syscalls, ZeroMethod};

pub type Hook = Box<dyn FnMut(usize)>;

#[derive(Default)]
pub struct Faulty {
    pub real: DefaultSyscalls,
    /// copy_file_range fails with this errno once it has copied at least this many bytes.
    pub kernel_copy_error: Option<(i32, u64)>,
    /// copy_file_range copies at most this many bytes per call.
    pub kernel_copy_limit: Option<usize>,
    /// copy_file_range returns 0 once it has copied at least this many bytes.
    pub kernel_copy_zero_after: Option<u64>,
    /// read_at reads at most this many bytes per call.
    pub read_limit: Option<usize>,
    /// read_at returns 0 once it has read at least this many bytes.
    pub read_zero_after: Option<u64>,
    /// fallocate methods that fail with EOPNOTSUPP.
    pub failing_zero_methods: Vec<ZeroMethod>,
    /// SEEK_DATA/SEEK_HOLE fail with this errno.
    pub seek_error: Option<i32>,
    /// Runs before every data call (copy_file_range, read_at), with the number of data calls
    /// made so far.
    pub before_data_call: Option<Hook>,

    pub kernel_copy_calls: usize,
    pub kernel_copied: u64,
    pub read_calls: usize,
    pub read_bytes: u64,
    pub write_calls: usize,
    pub zero_calls: Vec<ZeroMethod>,
    pub seek_calls: usize,
    pub info_calls: usize,
    /// The errno of every failed copy_file_range call, to tell which fallback fired.
    pub kernel_copy_errors: Vec<i32>,
    /// copy_file_range calls that returned 0.
    pub kernel_copy_zero_returns: usize,
    /// fallocate methods that succeeded.
    pub zero_methods_ok: Vec<ZeroMethod>,
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl Faulty {
    /// The injected result of the next copy_file_range call, if a fault is due.
    fn kernel_copy_fault(&self) -> Option<io::Result<usize>> {
        if let Some((code, after)) = self.kernel_copy_error {
            if self.kernel_copied >= after {
                return Some(Err(errno(code)));
            }
        }
        let zero_due = self
            .kernel_copy_zero_after
            .is_some_and(|after| self.kernel_copied >= after);
        zero_due.then_some(Ok(0))
    }

    fn data_call(&mut self) {
        let calls = self.kernel_copy_calls + self.read_calls;
        if let Some(hook) = self.before_data_call.as_mut() {
            hook(calls);
        }
    }
}

impl Syscalls for Faulty {
    fn copy_file_range(
        &mut self,
        source: &File,
        source_offset: u64,
        dest: &File,
        dest_offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        self.data_call();
        self.kernel_copy_calls += 1;
        let result = self.kernel_copy_fault().unwrap_or_else(|| {
            let len = self.kernel_copy_limit.map_or(len, |limit| len.min(limit));
            self.real
                .copy_file_range(source, source_offset, dest, dest_offset, len)
        });
        match &result {
            Ok(0) => self.kernel_copy_zero_returns += 1,
            Ok(copied) => self.kernel_copied += *copied as u64,
            Err(error) => self
                .kernel_copy_errors
                .push(error.raw_os_error().unwrap_or(-1)),
        }
        result
    }

    fn read_at(&mut self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.data_call();
        self.read_calls += 1;
        if self
            .read_zero_after
            .is_some_and(|after| self.read_bytes >= after)
        {
            return Ok(0);
        }
        let len = self
            .read_limit
            .map_or(buf.len(), |limit| buf.len().min(limit));
        let read = self.real.read_at(file, &mut buf[..len], offset)?;
        self.read_bytes += read as u64;
        Ok(read)
    }

    fn read_stream(&mut self, file: &File, buf: &mut [u8]) -> io::Result<usize> {
        self.read_calls += 1;
        self.real.read_stream(file, buf)
    }

    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.write_calls += 1;
        self.real.write_at(file, buf, offset)
    }

    fn seek_data(&mut self, file: &File, offset: u64) -> io::Result<Option<u64>> {
        self.seek_calls += 1;
        match self.seek_error {
            Some(code) => Err(errno(code)),
            None => self.real.seek_data(file, offset),
        }
    }

    fn seek_hole(&mut self, file: &File, offset: u64) -> io::Result<u64> {
        self.seek_calls += 1;
        match self.seek_error {
            Some(code) => Err(errno(code)),
            None => self.real.seek_hole(file, offset),
        }
    }

    fn fallocate(
        &mut self,
        file: &File,
        method: ZeroMethod,
        offset: u64,
        len: u64,
    ) -> io::Result<()> {
        self.zero_calls.push(method);
        if self.failing_zero_methods.contains(&method) {
            return Err(errno(nix::errno::Errno::EOPNOTSUPP as i32));
        }
        let result = self.real.fallocate(file, method, offset, len);
        if result.is_ok() {
            self.zero_methods_ok.push(method);
        }
        result
    }

    fn file_info(&mut self, file: &File) -> io::Result<FileInfo> {
        self.info_calls += 1;
        self.real.file_info(file)
    }

    fn set_len(&mut self, file: &File, len: u64) -> io::Result<()> {
        self.real.set_len(file, len)
    }
}
