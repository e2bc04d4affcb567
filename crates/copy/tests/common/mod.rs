//! Support for integration tests that need root: loop devices and loop-mounted XFS.
//! Tests call a constructor and skip (print "skipped: <reason>" and return) when it fails,
//! unless IMGFORGE_REQUIRE_ROOT_TESTS=1 asks for failures instead.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use imgforge_copy::{FileInfo, LinuxSyscalls, Syscalls, ZeroMethod};
use tempfile::TempDir;

pub const MIB: u64 = 1 << 20;

/// Unwraps a fixture, or skips the test with the reason.
#[macro_export]
macro_rules! fixture_or_skip {
    ($fixture:expr) => {
        match $fixture {
            Ok(fixture) => fixture,
            Err(reason) => {
                if std::env::var_os("IMGFORGE_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
                    panic!("required fixture unavailable: {reason}");
                }
                eprintln!("skipped: {reason}");
                return;
            }
        }
    };
}

/// losetup and mount -o loop pick "the first free loop device" racily when tests run in
/// parallel threads; setting up and tearing down one at a time avoids EBUSY.
fn loop_setup_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| format!("{program} not runnable: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn has_program(program: &str) -> bool {
    Command::new(program)
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Why loop devices cannot be used here, if they cannot.
pub fn loop_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root for loop devices".into());
    }
    if !Path::new("/dev/loop-control").exists() {
        return Some("/dev/loop-control is missing".into());
    }
    None
}

/// A sparse backing file in its own temp dir.
fn sparse_backing(dir: &TempDir, len: u64) -> Result<PathBuf, String> {
    let path = dir.path().join("backing.img");
    File::create(&path)
        .and_then(|file| file.set_len(len))
        .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    Ok(path)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A fresh XFS with reflink support, loop-mounted on a temp dir; unmounted and detached on
/// drop (also when the test panics).
pub struct XfsMount {
    mountpoint: PathBuf,
    backing: PathBuf,
    _dir: TempDir,
}

impl XfsMount {
    pub fn new(len: u64) -> Result<Self, String> {
        if let Some(reason) = loop_unavailable() {
            return Err(reason);
        }
        for program in ["mkfs.xfs", "xfs_io"] {
            if !has_program(program) {
                return Err(format!("{program} is missing"));
            }
        }
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let backing = sparse_backing(&dir, len)?;
        run("mkfs.xfs", &["-q", "-m", "reflink=1", path_str(&backing)])?;
        let mountpoint = dir.path().join("mnt");
        std::fs::create_dir(&mountpoint).map_err(|error| error.to_string())?;
        {
            let _lock = loop_setup_lock();
            run(
                "mount",
                &["-o", "loop", path_str(&backing), path_str(&mountpoint)],
            )
            .map_err(|error| format!("cannot mount XFS: {error}"))?;
        }
        Ok(XfsMount {
            mountpoint,
            backing,
            _dir: dir,
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.mountpoint.join(name)
    }
}

impl Drop for XfsMount {
    fn drop(&mut self) {
        let _lock = loop_setup_lock();
        if let Err(error) = run("umount", &[path_str(&self.mountpoint)]) {
            eprintln!("cleanup: {error}");
        }
        // mount -o loop sets autoclear, so this only matters if that did not happen.
        if let Ok(attached) = run("losetup", &["-j", path_str(&self.backing)]) {
            for device in attached.lines().filter_map(|line| line.split(':').next()) {
                let _ = run("losetup", &["-d", device]);
            }
        }
    }
}

/// A loop device over a backing file in a temp dir; detached on drop.
pub struct LoopDevice {
    pub device: PathBuf,
    pub backing: PathBuf,
    _dir: TempDir,
}

impl LoopDevice {
    /// A device of `len` bytes, every byte `fill`.
    pub fn filled(len: u64, fill: u8) -> Result<Self, String> {
        if let Some(reason) = loop_unavailable() {
            return Err(reason);
        }
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let backing = sparse_backing(&dir, len)?;
        let file = OpenOptions::new()
            .write(true)
            .open(&backing)
            .map_err(|error| error.to_string())?;
        let block = vec![fill; MIB as usize];
        for offset in (0..len).step_by(MIB as usize) {
            let piece = (len - offset).min(MIB) as usize;
            file.write_all_at(&block[..piece], offset)
                .map_err(|error| error.to_string())?;
        }
        let device = {
            let _lock = loop_setup_lock();
            run("losetup", &["--find", "--show", path_str(&backing)])?
        };
        Ok(LoopDevice {
            device: PathBuf::from(device.trim()),
            backing,
            _dir: dir,
        })
    }

    pub fn open(&self) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.device)
            .expect("open loop device")
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _lock = loop_setup_lock();
        if let Err(error) = run("losetup", &["-d", path_str(&self.device)]) {
            eprintln!("cleanup: {error}");
        }
    }
}

/// Extents of a file as `xfs_io -c 'fiemap -v'` reports them, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiemapExtent {
    pub start: u64,
    pub len: u64,
    pub hole: bool,
    pub flags: u64,
}

pub const FIEMAP_EXTENT_SHARED: u64 = 0x2000;

pub fn fiemap(path: &Path) -> Vec<FiemapExtent> {
    let output = run("xfs_io", &["-c", "fiemap -v", path_str(path)]).expect("xfs_io fiemap");
    // Lines look like "   1: [2048..18431]:   192..16575   16384 0x2001" (512-byte units),
    // holes like "   2: [18432..65535]:  hole   47104".
    output
        .lines()
        .filter_map(|line| {
            let range = line.split('[').nth(1)?.split(']').next()?;
            let (first, last) = range.split_once("..")?;
            let first: u64 = first.parse().ok()?;
            let last: u64 = last.parse().ok()?;
            let rest: Vec<&str> = line.split("]:").nth(1)?.split_whitespace().collect();
            let hole = rest.first() == Some(&"hole");
            let flags = if hole {
                0
            } else {
                u64::from_str_radix(rest.get(2)?.trim_start_matches("0x"), 16).ok()?
            };
            Some(FiemapExtent {
                start: first * 512,
                len: (last - first + 1) * 512,
                hole,
                flags,
            })
        })
        .collect()
}

/// A syscall layer that records what copy_file_range returned, to tell which fallback fired.
#[derive(Default)]
pub struct Recording {
    pub real: LinuxSyscalls,
    pub kernel_copy_errors: Vec<i32>,
    pub kernel_copy_zero_returns: usize,
    pub zero_methods_ok: Vec<ZeroMethod>,
}

impl Syscalls for Recording {
    fn copy_file_range(
        &mut self,
        source: &File,
        source_offset: u64,
        dest: &File,
        dest_offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        let result = self
            .real
            .copy_file_range(source, source_offset, dest, dest_offset, len);
        match &result {
            Ok(0) => self.kernel_copy_zero_returns += 1,
            Ok(_) => {}
            Err(error) => self
                .kernel_copy_errors
                .push(error.raw_os_error().unwrap_or(-1)),
        }
        result
    }
    fn read_at(&mut self, file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.real.read_at(file, buf, offset)
    }
    fn read_stream(&mut self, file: &File, buf: &mut [u8]) -> io::Result<usize> {
        self.real.read_stream(file, buf)
    }
    fn write_at(&mut self, file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
        self.real.write_at(file, buf, offset)
    }
    fn seek_data(&mut self, file: &File, offset: u64) -> io::Result<Option<u64>> {
        self.real.seek_data(file, offset)
    }
    fn seek_hole(&mut self, file: &File, offset: u64) -> io::Result<u64> {
        self.real.seek_hole(file, offset)
    }
    fn fallocate(
        &mut self,
        file: &File,
        method: ZeroMethod,
        offset: u64,
        len: u64,
    ) -> io::Result<()> {
        let result = self.real.fallocate(file, method, offset, len);
        if result.is_ok() {
            self.zero_methods_ok.push(method);
        }
        result
    }
    fn file_info(&mut self, file: &File) -> io::Result<FileInfo> {
        self.real.file_info(file)
    }
    fn set_len(&mut self, file: &File, len: u64) -> io::Result<()> {
        self.real.set_len(file, len)
    }
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

/// Writes `data[range]` for each range into a new sparse file of `data.len()` bytes; the
/// rest of `data` must be zeros for comparisons to hold.
pub fn write_sparse(path: &Path, data: &[u8], islands: &[(u64, u64)]) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("create sparse file");
    file.set_len(data.len() as u64).expect("size sparse file");
    for &(start, len) in islands {
        file.write_all_at(&data[start as usize..(start + len) as usize], start)
            .expect("write island");
    }
    file.sync_all().expect("sync");
    file
}

/// Zeroes everything in `data` outside the (non-overlapping) islands, so it matches the
/// sparse file.
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

/// A new, empty, readable and writable image file (tests size it and read it back).
pub fn create_image(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("create image")
}
