//! Temp files and test data.

use std::fs::{File, OpenOptions};
use std::io::Seek;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub const MIB: u64 = 1 << 20;

/// Bytes that differ from their neighbours and from zeros, so misplaced or dropped ranges show
/// up in comparisons.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
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

/// Fast, position-dependent test data: every MiB differs (its index is stamped in), so
/// misplaced MiBs are caught.
pub fn stamped_data(len: u64, seed: u8) -> Vec<u8> {
    let block: Vec<u8> = (0..MIB as usize)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect();
    let mut data = block.repeat(len.div_ceil(MIB) as usize);
    data.truncate(len as usize);
    for (index, chunk) in data.chunks_mut(MIB as usize).enumerate() {
        let stamp = (index as u64).to_le_bytes();
        let n = stamp.len().min(chunk.len());
        chunk[..n].copy_from_slice(&stamp[..n]);
    }
    data
}

/// A new, empty, readable and writable file (truncated if it exists).
pub fn create_image(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap_or_else(|error| panic!("create {}: {error}", path.display()))
}

/// A new file of `len` bytes: sparse, or `fill` repeated from its first byte.
pub fn sized_image(path: &Path, len: u64, fill: Option<&[u8]>) -> File {
    let file = create_image(path);
    file.set_len(len).expect("size image");
    if let Some(block) = fill {
        let mut offset = 0;
        while offset < len {
            let n = (len - offset).min(block.len() as u64) as usize;
            write_all_at(&file, &block[..n], offset);
            offset += n as u64;
        }
    }
    file
}

/// Copies `size` bytes at `offset` of `image` into a new sparse file `out`, skipping the
/// source's holes (a partition of several GiB is mostly holes): for tools that read a
/// filesystem from its own file and have no offset option.
#[cfg(target_os = "linux")]
pub fn extract_region(image: &Path, offset: u64, size: u64, out: &Path) {
    use nix::unistd::{lseek, Whence};
    use std::os::unix::fs::FileExt;
    let source = File::open(image).expect("open image");
    let dest = sized_image(out, size, None);
    let end = offset + size;
    let mut pos = offset;
    let mut buf = vec![0u8; MIB as usize];
    while pos < end {
        let data = match lseek(&source, pos as i64, Whence::SeekData) {
            Ok(data) => data as u64,
            Err(nix::errno::Errno::ENXIO) => break,
            Err(error) => panic!("SEEK_DATA {}: {error}", image.display()),
        };
        if data >= end {
            break;
        }
        let hole =
            (lseek(&source, data as i64, Whence::SeekHole).expect("SEEK_HOLE") as u64).min(end);
        let mut at = data;
        while at < hole {
            let n = (hole - at).min(buf.len() as u64) as usize;
            source.read_exact_at(&mut buf[..n], at).expect("read image");
            dest.write_all_at(&buf[..n], at - offset)
                .expect("write region");
            at += n as u64;
        }
        pos = hole;
    }
}

/// Writes `data[range]` for each `(start, len)` range into a new sparse file of `data.len()`
/// bytes; the rest of `data` must be zeros for comparisons to hold.
pub fn write_sparse(path: &Path, data: &[u8], islands: &[(u64, u64)]) -> File {
    let file = create_image(path);
    file.set_len(data.len() as u64).expect("size sparse file");
    for &(start, len) in islands {
        write_all_at(&file, &data[start as usize..(start + len) as usize], start);
    }
    file.sync_all().expect("sync sparse file");
    file
}

/// Zeroes everything in `data` outside the (non-overlapping) islands, so it matches the
/// sparse file [`write_sparse`] makes of it.
pub fn keep_islands(mut data: Vec<u8>, islands: &[(u64, u64)]) -> Vec<u8> {
    let mut islands = islands.to_vec();
    islands.sort_unstable();
    let mut pos = 0;
    for (start, len) in islands {
        data[pos..start as usize].fill(0);
        pos = (start + len) as usize;
    }
    data[pos..].fill(0);
    data
}

fn write_all_at(file: &File, bytes: &[u8], offset: u64) {
    #[cfg(unix)]
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset).expect("write at offset");
    #[cfg(not(unix))]
    {
        use std::io::{SeekFrom, Write};
        let mut file = file;
        file.seek(SeekFrom::Start(offset)).expect("seek");
        file.write_all(bytes).expect("write at offset");
    }
}

/// The file's offset as lseek(fd, 0, SEEK_CUR) reports it (asking does not move it).
pub fn file_offset(mut file: &File) -> u64 {
    file.stream_position().expect("lseek")
}

/// The image holds `expected` at `offset` and `outside` everywhere else.
#[track_caller]
pub fn assert_image(image: &[u8], offset: u64, expected: &[u8], outside: u8) {
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

/// A temp dir, removed on drop, with ways to make the files tests need in it.
pub struct Scratch {
    pub dir: TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file holding `bytes`, opened for reading.
    pub fn file(&self, name: &str, bytes: &[u8]) -> File {
        std::fs::write(self.path(name), bytes).expect("write file");
        File::open(self.path(name)).expect("open file")
    }

    /// A sparse file of `len` bytes with [`pattern`] data at each `(offset, len)`; returns the
    /// file (opened for reading) and its full expected content.
    pub fn sparse(&self, name: &str, len: u64, data: &[(u64, u64)]) -> (File, Vec<u8>) {
        let mut expected = vec![0u8; len as usize];
        for (index, &(offset, data_len)) in data.iter().enumerate() {
            let bytes = pattern(data_len as usize, index as u64 + 7);
            expected[offset as usize..(offset + data_len) as usize].copy_from_slice(&bytes);
        }
        write_sparse(&self.path(name), &expected, data);
        (
            File::open(self.path(name)).expect("reopen sparse file"),
            expected,
        )
    }

    /// A destination of `len` bytes, readable and writable: sparse zeros, or every byte `fill`.
    pub fn dest(&self, name: &str, len: u64, fill: Option<u8>) -> File {
        let file = create_image(&self.path(name));
        match fill {
            None => file.set_len(len).expect("size dest"),
            Some(byte) => write_all_at(&file, &vec![byte; len as usize], 0),
        }
        file
    }

    /// A sparse file of `len` bytes; its path as text, for command lines.
    pub fn empty_file(&self, name: &str, len: u64) -> String {
        self.dest(name, len, None);
        path_str(&self.path(name)).to_string()
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read back")
    }
}

/// Writes a file (creating its parent directories) and sets its modification time.
pub fn write_dated(path: &Path, bytes: &[u8], mtime: i64) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent directories");
    }
    std::fs::write(path, bytes).expect("write file");
    set_mtime(path, mtime);
}

/// Sets a modification time in seconds since the epoch (negative: before it). Works for
/// directories too: set it after their contents are written.
pub fn set_mtime(path: &Path, secs: i64) {
    set_mtime_ns(path, secs, 0);
}

pub fn set_mtime_ns(path: &Path, secs: i64, nsec: u32) {
    use std::time::{Duration, UNIX_EPOCH};
    let t = if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsec)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nsec.into())
    };
    File::open(path)
        .and_then(|file| file.set_modified(t))
        .unwrap_or_else(|error| panic!("set mtime of {}: {error}", path.display()));
}

/// Temp paths as text, for command lines.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A temp dir (removed on drop) and its folder `src`, created, for a test's source tree.
pub fn source_dir() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).expect("create src");
    (tmp, src)
}

/// The sample source tree the scan tests compare: in `root`, the files `b.txt` (3 bytes,
/// mtime 100), `A.TXT` (1, 200), `_x` (0, 300), `Z` (2, 400), `sub/z` (4, 500) and
/// `sub/y.efi` (5, 600), the empty directory `empty` (700), `sub` at 50 and `root` itself at
/// -86400 (before the epoch).
pub fn sample_tree(root: &Path) {
    write_dated(&root.join("b.txt"), b"abc", 100);
    write_dated(&root.join("A.TXT"), b"x", 200);
    write_dated(&root.join("_x"), b"", 300);
    write_dated(&root.join("Z"), b"zz", 400);
    write_dated(&root.join("sub/z"), b"1234", 500);
    write_dated(&root.join("sub/y.efi"), b"12345", 600);
    std::fs::create_dir(root.join("empty")).expect("create empty directory");
    set_mtime(&root.join("empty"), 700);
    set_mtime(&root.join("sub"), 50);
    set_mtime(root, -86_400);
}

/// The files in `dir` (a fuzz corpus), sorted by path so failures name the same file each run.
pub fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    files
}

/// The corpus of cargo-fuzz target `target` (fuzz/corpus/<target>/), which the readers' tests
/// replay.
pub fn fuzz_corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// The file name of `path`, which must be UTF-8 (as the corpora's names are).
pub fn file_name_of(path: &Path) -> &str {
    let name = path.file_name().expect("a file name");
    name.to_str().expect("a UTF-8 file name")
}

/// Creates the empty file `bad\xffname` (not UTF-8) in `dir`; None, after saying so, where the
/// filesystem refuses such names.
#[cfg(target_os = "linux")]
pub fn non_utf8_file(dir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let bad = dir.join(std::ffi::OsStr::from_bytes(b"bad\xffname"));
    if File::create(&bad).is_err() {
        eprintln!("this filesystem refuses non-UTF-8 names; skipped");
        return None;
    }
    Some(bad)
}
