//! Loop devices and loop-mounted XFS, for tests that need root. Constructors return why they
//! cannot work (no root, no /dev/loop-control, a missing tool) instead of failing the test.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tempfile::TempDir;

use crate::files::{path_str, MIB};
use crate::tools::{has_program, is_root, try_run};

/// losetup and mount -o loop pick "the first free loop device" racily when tests run in
/// parallel threads; setting up and tearing down one at a time avoids EBUSY.
fn loop_setup_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why loop devices cannot be used here, if they cannot.
pub fn loop_unavailable() -> Option<String> {
    if !is_root() {
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
        try_run("mkfs.xfs", &["-q", "-m", "reflink=1", path_str(&backing)])?;
        let mountpoint = dir.path().join("mnt");
        std::fs::create_dir(&mountpoint).map_err(|error| error.to_string())?;
        {
            let _lock = loop_setup_lock();
            try_run(
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
        if let Err(error) = try_run("umount", &[path_str(&self.mountpoint)]) {
            eprintln!("cleanup: {error}");
        }
        // mount -o loop sets autoclear, so this only matters if that did not happen.
        if let Ok(attached) = try_run("losetup", &["-j", path_str(&self.backing)]) {
            for device in attached.lines().filter_map(|line| line.split(':').next()) {
                let _ = try_run("losetup", &["-d", device]);
            }
        }
    }
}

/// A loop device over a backing file; detached on drop.
pub struct LoopDevice {
    pub device: PathBuf,
    pub backing: PathBuf,
    _dir: Option<TempDir>,
}

impl LoopDevice {
    /// Attaches `backing`, with the given logical sector size (losetup's default otherwise).
    pub fn attach(backing: &Path, sector_size: Option<u32>) -> Result<Self, String> {
        if let Some(reason) = loop_unavailable() {
            return Err(reason);
        }
        let size = sector_size.map(|size| size.to_string());
        let mut args = Vec::new();
        if let Some(size) = &size {
            args.extend(["--sector-size", size]);
        }
        args.extend(["--find", "--show", path_str(backing)]);
        let device = {
            let _lock = loop_setup_lock();
            try_run("losetup", &args)?
        };
        Ok(LoopDevice {
            device: PathBuf::from(device.trim()),
            backing: backing.to_path_buf(),
            _dir: None,
        })
    }

    /// A device of `len` bytes over a backing file of its own, every byte `fill`.
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
            std::os::unix::fs::FileExt::write_all_at(&file, &block[..piece], offset)
                .map_err(|error| error.to_string())?;
        }
        let mut device = Self::attach(&backing, None)?;
        device._dir = Some(dir);
        Ok(device)
    }

    /// The device's path as text, for command lines.
    pub fn device_str(&self) -> &str {
        path_str(&self.device)
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
        if let Err(error) = try_run("losetup", &["-d", path_str(&self.device)]) {
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

/// Bytes of `[start, end)` of a file that extents flagged shared (reflinked) cover.
pub fn shared_bytes_in(extents: &[FiemapExtent], start: u64, end: u64) -> u64 {
    extents
        .iter()
        .filter(|e| !e.hole && e.flags & FIEMAP_EXTENT_SHARED != 0)
        .map(|e| {
            (e.start + e.len)
                .min(end)
                .saturating_sub(e.start.max(start))
        })
        .sum()
}

pub fn fiemap(path: &Path) -> Vec<FiemapExtent> {
    let output = try_run("xfs_io", &["-c", "fiemap -v", path_str(path)]).expect("xfs_io fiemap");
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
