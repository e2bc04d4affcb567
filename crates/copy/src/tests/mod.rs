//! Unit tests: the engine against real files in a temp dir, through a syscall layer that can
//! inject faults.

mod api;
#[cfg(target_os = "linux")]
mod fallback;
#[cfg(target_os = "linux")]
mod faults;
#[cfg(target_os = "linux")]
mod limits;
#[cfg(target_os = "linux")]
mod planned;
#[cfg(target_os = "linux")]
mod sparse;

#[cfg(target_os = "linux")]
pub(crate) use support::*;

#[cfg(target_os = "linux")]
mod support {
    use std::fs::{File, OpenOptions};
    use std::os::unix::fs::FileExt;
    use std::path::PathBuf;

    use tempfile::TempDir;

    pub(crate) use super::faults::Faulty;
    use crate::{CopyEngine, CopyError, CopyJob, CopyMode, Destination, Syscalls};

    pub(crate) const MIB: u64 = 1 << 20;

    /// Bytes that differ from their neighbours and from zeros, so misplaced or dropped
    /// ranges show up in comparisons.
    pub(crate) fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8 | 1
            })
            .collect()
    }

    pub(crate) struct Scratch {
        pub(crate) dir: TempDir,
    }

    impl Scratch {
        pub(crate) fn new() -> Self {
            Scratch {
                dir: tempfile::tempdir().expect("temp dir"),
            }
        }

        pub(crate) fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }

        pub(crate) fn file(&self, name: &str, bytes: &[u8]) -> File {
            std::fs::write(self.path(name), bytes).expect("write source");
            File::open(self.path(name)).expect("open source")
        }

        /// A sparse file of `len` bytes with `pattern` data at each `(offset, len)`; returns
        /// the file and its full expected content.
        pub(crate) fn sparse(&self, name: &str, len: u64, data: &[(u64, u64)]) -> (File, Vec<u8>) {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(self.path(name))
                .expect("create sparse source");
            file.set_len(len).expect("size sparse source");
            let mut expected = vec![0u8; len as usize];
            for (index, &(offset, data_len)) in data.iter().enumerate() {
                let bytes = pattern(data_len as usize, index as u64 + 7);
                file.write_all_at(&bytes, offset)
                    .expect("write sparse data");
                expected[offset as usize..(offset + data_len) as usize].copy_from_slice(&bytes);
            }
            file.sync_all().expect("sync sparse source");
            (
                File::open(self.path(name)).expect("reopen sparse source"),
                expected,
            )
        }

        /// A destination of `len` bytes: sparse zeros, or every byte `fill`.
        pub(crate) fn dest(&self, name: &str, len: u64, fill: Option<u8>) -> File {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(self.path(name))
                .expect("create dest");
            match fill {
                None => file.set_len(len).expect("size dest"),
                Some(byte) => file
                    .write_all_at(&vec![byte; len as usize], 0)
                    .expect("fill dest"),
            }
            file
        }

        pub(crate) fn read(&self, name: &str) -> Vec<u8> {
            std::fs::read(self.path(name)).expect("read back")
        }
    }

    pub(crate) struct Copy<'a> {
        pub(crate) source: &'a File,
        pub(crate) dest: &'a File,
        pub(crate) dest_offset: u64,
        pub(crate) dest_capacity: u64,
        pub(crate) dest_state: Destination,
        pub(crate) planned_len: Option<u64>,
    }

    impl<'a> Copy<'a> {
        pub(crate) fn new(source: &'a File, dest: &'a File, dest_offset: u64) -> Self {
            Copy {
                source,
                dest,
                dest_offset,
                dest_capacity: u64::MAX / 4,
                dest_state: Destination::Zeroed,
                planned_len: None,
            }
        }

        /// A copy of a source planned at `len` bytes.
        pub(crate) fn planned(source: &'a File, dest: &'a File, len: u64) -> Self {
            Copy {
                planned_len: Some(len),
                ..Copy::new(source, dest, 0)
            }
        }

        pub(crate) fn job(&self) -> CopyJob<'a> {
            CopyJob {
                source: self.source,
                source_name: "/src/source.bin",
                dest: self.dest,
                dest_name: "/dst/disk.img",
                dest_offset: self.dest_offset,
                dest_capacity: self.dest_capacity,
                dest_state: self.dest_state,
                planned_len: self.planned_len,
            }
        }

        /// Runs the copy; returns the result and the sum of progress reports.
        pub(crate) fn run<S: Syscalls>(
            &self,
            engine: &mut CopyEngine<S>,
        ) -> (Result<u64, CopyError>, u64) {
            let mut reported = 0;
            let result = engine.copy(&self.job(), &mut |bytes| {
                reported += bytes;
                true
            });
            (result, reported)
        }
    }

    pub(crate) fn engine(mode: CopyMode, faulty: Faulty) -> CopyEngine<Faulty> {
        CopyEngine::with_syscalls(mode, faulty)
    }

    /// The file's offset as lseek(fd, 0, SEEK_CUR) reports it.
    pub(crate) fn file_offset(file: &File) -> i64 {
        nix::unistd::lseek(file, 0, nix::unistd::Whence::SeekCur).expect("lseek")
    }

    /// The image holds `expected` at `offset` and `outside` everywhere else.
    #[track_caller]
    pub(crate) fn assert_image(image: &[u8], offset: u64, expected: &[u8], outside: u8) {
        let offset = offset as usize;
        let end = offset + expected.len();
        assert!(
            image.len() >= end,
            "image is {} bytes, expected at least {end}",
            image.len()
        );
        // Slice equality is a memcmp; element-wise loops are slow in unoptimized test builds.
        if image[offset..end] != *expected {
            let at = (0..expected.len()).find(|&i| image[offset + i] != expected[i]);
            panic!("copied bytes differ from the source at source offset {at:?}");
        }
        let untouched = |region: &[u8]| region == vec![outside; region.len()].as_slice();
        assert!(
            untouched(&image[..offset]),
            "bytes before the copied region changed"
        );
        assert!(
            untouched(&image[end..]),
            "bytes after the copied region changed"
        );
    }

    pub(crate) fn errno(name: nix::errno::Errno) -> i32 {
        name as i32
    }
}
