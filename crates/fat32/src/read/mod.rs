//! Reading FAT32 filesystems from untrusted bytes: inside a partition of an image file, a
//! block device or a byte slice.
//!
//! [`Volume::open`] detects the filesystem (None for anything else), walks its whole tree and
//! checks it; the result is a [`VolumeSummary`], the entries, and [`Finding`]s for every
//! problem. A boot sector marked as FAT32 whose geometry is broken still gives a volume: an
//! empty one, with BOOT_SECTOR_INVALID findings naming the fields. [`Volume::open_file`] streams a file's bytes. [`verify`] compares a volume with
//! the source tree a spec asks for.
//!
//! Robustness: no input makes it panic, loop or allocate without bound. Memory holds one bit
//! per cluster reached (in pages allocated on use), a 128 KiB FAT cache, one directory at a
//! time (at most FAT's 65,536 entries) and one small record per file; chains and directory
//! nesting are followed with that bitmap, so every loop ends. Findings are capped per code.
//!
//! ```no_run
//! use imgforge_fat32::Volume;
//! let image = std::fs::File::open("disk.img")?;
//! if let Some(volume) = Volume::open(image, 1 << 20, 512 << 20)? {
//!     println!("{:?}", volume.summary());
//!     for finding in volume.findings() {
//!         println!("{finding}");
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

mod bitmap;
mod check;
mod dir;
mod fat;
mod file;
mod findings;
mod layout;
mod slice;
mod verify;
mod walk;

use std::io::{self, Read, Seek};

pub use file::FileReader;
pub use findings::{Finding, FindingCode};
pub use slice::{read_slice, SliceReport};
pub use verify::{verify, verify_partition, Difference};
pub use walk::{EntryKind, VolumeEntry, MAX_DEPTH};

pub(crate) use layout::detect;

use bitmap::ClusterBitmap;
use fat::{Chains, FatReader};
use findings::Findings;
use imgforge_partition_read::{Disk, ReadError};
use layout::Layout;
use walk::Walk;

use crate::ondisk::boot::{BootSector, EXTENDED_BOOT_SIGNATURE, MIN_SECTOR_BYTES, NO_NAME};

/// What a volume holds, counted from its FAT and its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSummary {
    /// The root's volume-label entry, else the boot sector's label; None for "NO NAME".
    pub label: Option<String>,
    /// The serial number (0 when the boot sector has no extended signature).
    pub volume_id: u32,
    pub bytes_per_sector: u32,
    /// Bytes; 0 when the boot sector's geometry is broken (nothing past it is read).
    pub cluster_size: u32,
    /// Data clusters; 0 when the boot sector's geometry is broken.
    pub clusters: u32,
    /// Clusters the FAT marks allocated (neither free nor bad).
    pub used_clusters: u32,
    pub free_clusters: u32,
    pub bad_clusters: u32,
    /// FSInfo's free-cluster count, when FSInfo is valid and knows it.
    pub fsinfo_free_clusters: Option<u32>,
    /// FSInfo's hint where free clusters start, when FSInfo is valid and knows it.
    pub fsinfo_next_free: Option<u32>,
    /// Directories below the root (the root is not counted).
    pub directories: u32,
    pub files: u32,
    /// The files' sizes added up.
    pub file_bytes: u64,
}

impl VolumeSummary {
    /// What the boot sector and the layout tell, with nothing counted yet (an empty volume).
    fn of_boot(boot: &BootSector, root_label: Option<String>, layout: &Layout) -> Self {
        VolumeSummary {
            label: label(root_label, boot),
            volume_id: if boot.extended_signature == EXTENDED_BOOT_SIGNATURE {
                boot.volume_id
            } else {
                0
            },
            bytes_per_sector: u32::from(boot.bytes_per_sector),
            cluster_size: layout.cluster_size,
            clusters: layout.clusters,
            used_clusters: 0,
            free_clusters: 0,
            bad_clusters: 0,
            fsinfo_free_clusters: None,
            fsinfo_next_free: None,
            directories: 0,
            files: 0,
            file_bytes: 0,
        }
    }
}

/// One line of a listing: an entry with its full path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    /// "/EFI/BOOT/BOOTX64.EFI": long names when present, else 8.3 names.
    pub path: String,
    pub kind: EntryKind,
    pub size: u32,
    pub modified: Option<i64>,
}

/// A FAT32 filesystem read and checked. Reading file data needs `&mut`: it seeks.
pub struct Volume<R> {
    disk: Disk<R>,
    layout: Layout,
    fat: FatReader,
    summary: VolumeSummary,
    entries: Vec<VolumeEntry>,
    findings: Vec<Finding>,
}

impl<R: Read + Seek> Volume<R> {
    /// Reads the FAT32 filesystem in the `length` bytes at `offset` of `reader` (a whole disk
    /// image, a device, or `Cursor` over bytes): the boot sector, the whole tree and the FATs;
    /// file data only when asked. Ok(None) when the partition holds no FAT32 (or is shorter than
    /// a sector); Err only when reading the boot sector fails. A FAT32 boot sector whose
    /// geometry is broken gives an empty volume whose findings say what is broken.
    pub fn open(reader: R, offset: u64, length: u64) -> io::Result<Option<Volume<R>>> {
        let mut disk = Disk::new(reader, offset, length);
        let mut first = [0u8; MIN_SECTOR_BYTES];
        match disk.read_at(0, &mut first) {
            Ok(()) => {}
            Err(ReadError::Io(error)) => return Err(error),
            Err(_) => return Ok(None),
        }
        let Some(boot) = detect(&first) else {
            return Ok(None);
        };
        let problems = layout::geometry_problems(&boot);
        if !problems.is_empty() {
            return Ok(Some(Volume::unreadable(disk, boot, &problems)));
        }
        let mut boot_bytes = vec![0u8; usize::from(boot.bytes_per_sector)];
        if disk.read_at(0, &mut boot_bytes).is_err() {
            // A partition shorter than one of its sectors: compare what there is.
            boot_bytes.truncate(MIN_SECTOR_BYTES);
            boot_bytes.copy_from_slice(&first);
        }
        let mut findings = Findings::default();
        let layout = layout::layout(&boot, length, &mut findings);
        let mut fat = FatReader::new(&layout);
        let mut used = ClusterBitmap::new(layout.end_cluster());
        let chains = Chains {
            disk: &mut disk,
            fat: &mut fat,
            used: &mut used,
            layout: &layout,
        };
        let mut walk = Walk::new(chains, &mut findings);
        walk.run();
        let (entries, root_label) = (std::mem::take(&mut walk.entries), walk.label.take());
        let counts = check::scan_fats(&mut disk, &layout, &used, &mut findings);
        let fsinfo = check::check_fsinfo(&mut disk, &boot, &layout, &counts, &mut findings);
        check::check_backup_boot(&mut disk, &boot, &boot_bytes, &layout, &mut findings);
        let known = |value: u32| Some(value).filter(|&v| v != crate::ondisk::boot::FSINFO_UNKNOWN);
        let summary = VolumeSummary {
            used_clusters: counts.used,
            free_clusters: counts.free,
            bad_clusters: counts.bad,
            fsinfo_free_clusters: fsinfo.and_then(|i| known(i.free_clusters)),
            fsinfo_next_free: fsinfo.and_then(|i| known(i.next_free)),
            directories: count(&entries, EntryKind::Directory) - 1,
            files: count(&entries, EntryKind::File),
            file_bytes: entries
                .iter()
                .filter(|e| e.kind == EntryKind::File)
                .map(|e| u64::from(e.size))
                .sum(),
            ..VolumeSummary::of_boot(&boot, root_label, &layout)
        };
        Ok(Some(Volume {
            disk,
            layout,
            fat,
            summary,
            entries,
            findings: findings.finish(),
        }))
    }

    /// A FAT32 volume whose boot sector cannot be laid out (`problems` says why): nothing past
    /// the boot sector is read, since where the FATs and clusters lie is unknown. It has the
    /// boot sector's label and serial, an empty root and no clusters.
    fn unreadable(disk: Disk<R>, boot: BootSector, problems: &[String]) -> Volume<R> {
        let mut findings = Findings::default();
        for problem in problems {
            let message = format!("{problem}; the volume cannot be read past its boot sector");
            findings.add(FindingCode::BootSectorInvalid, None, message);
        }
        let layout = Layout::default();
        Volume {
            disk,
            fat: FatReader::new(&layout),
            summary: VolumeSummary::of_boot(&boot, None, &layout),
            layout,
            entries: vec![walk::root_entry(0)],
            findings: findings.finish(),
        }
    }

    /// A file's bytes as `Read`, following its chain as far as it is sound (an error after).
    pub fn open_file(&mut self, index: usize) -> io::Result<FileReader<'_, R>> {
        match self.entries.get(index) {
            Some(entry) if entry.kind == EntryKind::File => Ok(FileReader::new(self, index)),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a directory", self.path(index)),
            )),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such entry")),
        }
    }
}

impl<R> Volume<R> {
    pub fn summary(&self) -> &VolumeSummary {
        &self.summary
    }

    /// Every problem found, in the order found.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// All entries; index 0 is the root, and every entry's parent comes before it.
    pub fn entries(&self) -> &[VolumeEntry] {
        &self.entries
    }

    /// Indices of the entries of directory `dir` (0 for the root), in directory order.
    pub fn children(&self, dir: usize) -> std::ops::Range<usize> {
        self.entries.get(dir).map_or(0..0, |e| e.children.clone())
    }

    /// "/EFI/BOOT" for an entry ("/" for the root).
    pub fn path(&self, index: usize) -> String {
        walk::entry_path(&self.entries, index)
    }

    /// Indices of every entry below the root, each directory followed by its contents.
    pub fn tree_order(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.entries.len());
        let mut stack: Vec<usize> = self.children(0).rev().collect();
        while let Some(index) = stack.pop() {
            order.push(index);
            stack.extend(self.children(index).rev());
        }
        order
    }

    /// Every entry with its path, in tree order.
    pub fn listing(&self) -> Vec<ListedEntry> {
        self.tree_order()
            .into_iter()
            .map(|index| {
                let entry = &self.entries[index];
                ListedEntry {
                    path: self.path(index),
                    kind: entry.kind,
                    size: entry.size,
                    modified: entry.modified,
                }
            })
            .collect()
    }
}

fn count(entries: &[VolumeEntry], kind: EntryKind) -> u32 {
    entries.iter().filter(|e| e.kind == kind).count() as u32
}

/// The root's label entry wins over the boot sector's copy, as with Windows and mtools.
fn label(root_label: Option<String>, boot: &BootSector) -> Option<String> {
    let from_boot = (boot.extended_signature == EXTENDED_BOOT_SIGNATURE)
        .then(|| dir::decode_short_part(&boot.volume_label, false));
    let label = root_label.or(from_boot)?;
    let label = label.trim_end().to_string();
    let no_name = String::from_utf8_lossy(NO_NAME).trim_end().to_string();
    (!label.is_empty() && label != no_name).then_some(label)
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
