//! Planning: from the source tree alone (names and sizes), the whole layout of the filesystem:
//! cluster size, geometry, and where every directory and file goes. Nothing is read or written.

use std::fmt;

use crate::alloc::{allocate, clusters_for, Allocation};
use crate::geometry::{geometry, size_for_clusters, Geometry, GeometryError, MIN_CLUSTERS};
use crate::names::{assign_short_names, child_entries, DirName};
use crate::tree::{Dir, FileNode, Node, Tree};

/// Bytes per directory entry.
pub const DIR_ENTRY_BYTES: u64 = crate::ondisk::dirent::ENTRY_BYTES as u64;

/// Cluster sizes tried when none is given, in order of preference: 4 KiB clusters are exactly
/// the blocks reflinks share; larger ones for partitions too big for 4 KiB; smaller ones for
/// partitions too small for 65,525 clusters of 4 KiB.
const CLUSTER_SIZES: [u32; 7] = [4096, 8192, 16384, 32768, 2048, 1024, 512];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// Byte offset of the partition in the image (file data is aligned relative to the image).
    pub partition_offset: u64,
    /// The disk's logical sector size: 512 or 4096.
    pub bytes_per_sector: u32,
    /// None: the first of CLUSTER_SIZES that fits.
    pub cluster_size: Option<u32>,
    /// Space-padded upper-case label, or None for "NO NAME" and no label entry.
    pub label: Option<[u8; 11]>,
    pub volume_id: u32,
    /// SOURCE_DATE_EPOCH: every timestamp in the filesystem, instead of the sources' times.
    pub timestamp: Option<i64>,
    /// Bytes that must stay free after the files are placed.
    pub min_free: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The partition is smaller than the files (or FAT32 itself) need.
    TooSmall {
        size: u64,
        minimum: u64,
        cluster_size: u32,
    },
    /// More than FAT32 can address with the allowed cluster sizes.
    TooLarge { size: u64 },
    BadClusterSize {
        cluster_size: u32,
        bytes_per_sector: u32,
    },
    Misaligned {
        partition_offset: u64,
        bytes_per_sector: u32,
    },
}

/// "33.25 MiB (34865152 bytes)": the readable size and the exact one.
pub fn describe_size(bytes: u64) -> String {
    let units = [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    let readable = units
        .iter()
        .find(|(_, size)| bytes >= *size)
        .map(|(unit, size)| format!("{:.2} {unit}", bytes as f64 / *size as f64))
        .unwrap_or_else(|| format!("{bytes} B"));
    format!("{readable} ({bytes} bytes)")
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::TooSmall { size, minimum, cluster_size } => write!(
                f,
                "a FAT32 filesystem of {} is too small: {} missing; it needs at least {} \
                 (with {cluster_size}-byte clusters; FAT32 also needs at least {MIN_CLUSTERS} clusters)",
                describe_size(*size),
                describe_size(minimum - size),
                describe_size(*minimum)
            ),
            PlanError::TooLarge { size } => write!(
                f,
                "{} is more than FAT32 can address (at most 2^32 - 1 sectors and 268,435,445 clusters; \
                 a larger clusterSize reaches further)",
                describe_size(*size)
            ),
            PlanError::BadClusterSize { cluster_size, bytes_per_sector } => write!(
                f,
                "cluster size {cluster_size} is not a power of two from the sector size ({bytes_per_sector}) to 65536 bytes \
                 (and at most 128 sectors)"
            ),
            PlanError::Misaligned { partition_offset, bytes_per_sector } => write!(
                f,
                "the partition starts at byte {partition_offset}, not on a {bytes_per_sector}-byte sector"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_are_described_in_the_largest_fitting_unit() {
        assert_eq!(super::describe_size(512), "512 B (512 bytes)");
        assert_eq!(
            super::describe_size(34_865_152),
            "33.25 MiB (34865152 bytes)"
        );
        assert_eq!(
            super::describe_size(3 << 40),
            "3.00 TiB (3298534883328 bytes)"
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Child {
    Dir(usize),
    File(usize),
}

#[derive(Debug)]
pub(crate) struct PlannedDir<'t> {
    pub dir: &'t Dir,
    /// Index of the parent directory; the root is its own parent.
    pub parent: usize,
    /// One per entry of `dir.entries`, in that order.
    pub children: Vec<Child>,
    pub names: Vec<DirName>,
    /// 32-byte entries, counting ".", ".." (or the volume label) and long-name entries.
    pub entries: u64,
}

/// The tree in depth-first pre-order: directories (the root first) and files.
#[derive(Debug)]
pub(crate) struct FlatTree<'t> {
    pub dirs: Vec<PlannedDir<'t>>,
    pub files: Vec<&'t FileNode>,
    /// The directory each file is in.
    pub file_dirs: Vec<usize>,
}

impl<'t> FlatTree<'t> {
    pub fn new(tree: &'t Tree, has_label: bool) -> Self {
        let mut flat = FlatTree {
            dirs: Vec::new(),
            files: Vec::new(),
            file_dirs: Vec::new(),
        };
        flat.visit(&tree.root, 0, has_label);
        flat
    }

    fn visit(&mut self, dir: &'t Dir, parent: usize, has_label: bool) -> usize {
        let index = self.dirs.len();
        let names: Vec<&str> = dir.entries.iter().map(Node::name).collect();
        let assigned = assign_short_names(&names);
        let own = if index == 0 { u64::from(has_label) } else { 2 };
        let entries = own + child_entries(&names, &assigned);
        self.dirs.push(PlannedDir {
            dir,
            parent,
            children: Vec::new(),
            names: assigned,
            entries,
        });
        let children = dir
            .entries
            .iter()
            .map(|node| match node {
                Node::Dir(sub) => Child::Dir(self.visit(sub, index, has_label)),
                Node::File(file) => {
                    self.files.push(file);
                    self.file_dirs.push(index);
                    Child::File(self.files.len() - 1)
                }
            })
            .collect();
        self.dirs[index].children = children;
        index
    }

    fn allocate(&self, cluster_size: u32) -> Option<Allocation> {
        let dir_clusters = self
            .dirs
            .iter()
            .map(|d| clusters_for(d.entries * DIR_ENTRY_BYTES, cluster_size).map(|c| c.max(1)))
            .collect::<Option<Vec<u32>>>()?;
        let sizes: Vec<u64> = self.files.iter().map(|f| f.size).collect();
        allocate(cluster_size, &dir_clusters, &sizes)
    }
}

/// Data clusters an allocation needs, with `min_free` bytes left free.
fn needed_clusters(allocation: &Allocation, min_free: u64, cluster_size: u32) -> Option<u32> {
    let free = clusters_for(min_free, cluster_size)?;
    Some(
        allocation
            .span()
            .max(allocation.used.checked_add(free)?)
            .max(MIN_CLUSTERS),
    )
}

/// A planned filesystem, borrowing the tree it was planned from.
#[derive(Debug)]
pub struct Plan<'t> {
    pub geometry: Geometry,
    pub(crate) flat: FlatTree<'t>,
    pub(crate) allocation: Allocation,
    pub(crate) options: FormatOptions,
}

/// What a plan holds, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub cluster_size: u32,
    pub clusters: u32,
    pub used_clusters: u32,
    pub free_clusters: u32,
    pub directories: u32,
    pub files: u32,
    pub file_bytes: u64,
}

impl Plan<'_> {
    pub fn summary(&self) -> Summary {
        Summary {
            cluster_size: self.geometry.cluster_size() as u32,
            clusters: self.geometry.clusters,
            used_clusters: self.allocation.used,
            free_clusters: self.geometry.clusters - self.allocation.used,
            // Folders inside the filesystem: the root is not counted.
            directories: self.flat.dirs.len() as u32 - 1,
            files: self.flat.files.len() as u32,
            file_bytes: self.flat.files.iter().map(|f| f.size).sum(),
        }
    }

    pub fn options(&self) -> &FormatOptions {
        &self.options
    }

    /// Where each file's data goes: (file index, file, image byte offset), in the order the
    /// files were planned. Empty files are left out.
    pub fn file_placements(&self) -> impl Iterator<Item = (usize, &FileNode, u64)> + '_ {
        self.flat
            .files
            .iter()
            .zip(&self.allocation.files)
            .enumerate()
            .filter(|(_, (_, extent))| extent.clusters > 0)
            .map(|(i, (file, extent))| (i, *file, self.geometry.cluster_offset(extent.first)))
    }

    /// Files that take no cluster (their planned size is 0), numbered as in file_placements.
    pub fn empty_files(&self) -> impl Iterator<Item = (usize, &FileNode)> + '_ {
        self.flat
            .files
            .iter()
            .zip(&self.allocation.files)
            .enumerate()
            .filter(|(_, (_, extent))| extent.clusters == 0)
            .map(|(i, (file, _))| (i, *file))
    }

    /// The path of a file inside the filesystem ("/EFI/BOOT/BOOTX64.EFI"), for messages.
    pub fn file_path(&self, file: usize) -> String {
        let mut parts = vec![self.flat.files[file].name.as_str()];
        let mut dir = self.flat.file_dirs[file];
        while dir != 0 {
            parts.push(&self.flat.dirs[dir].dir.name);
            dir = self.flat.dirs[dir].parent;
        }
        parts
            .iter()
            .rev()
            .fold(String::new(), |path, part| path + "/" + part)
    }
}

fn cluster_sizes(options: &FormatOptions) -> Vec<u32> {
    match options.cluster_size {
        Some(size) => vec![size],
        None => CLUSTER_SIZES
            .into_iter()
            .filter(|&c| c >= options.bytes_per_sector)
            .collect(),
    }
}

fn geometry_error(
    error: GeometryError,
    options: &FormatOptions,
    cluster_size: u32,
    size: u64,
) -> PlanError {
    match error {
        GeometryError::BadClusterSize => PlanError::BadClusterSize {
            cluster_size,
            bytes_per_sector: options.bytes_per_sector,
        },
        GeometryError::Misaligned => PlanError::Misaligned {
            partition_offset: options.partition_offset,
            bytes_per_sector: options.bytes_per_sector,
        },
        GeometryError::TooLarge | GeometryError::TooFewClusters { .. } => {
            PlanError::TooLarge { size }
        }
    }
}

fn minimum_of(flat: &FlatTree, options: &FormatOptions) -> Result<(u64, u32), PlanError> {
    let mut best: Option<(u64, u32)> = None;
    for cluster_size in cluster_sizes(options) {
        let Some(needed) = flat
            .allocate(cluster_size)
            .and_then(|a| needed_clusters(&a, options.min_free, cluster_size))
        else {
            continue;
        };
        let bytes_per_sector = options.bytes_per_sector;
        match size_for_clusters(
            options.partition_offset,
            needed,
            bytes_per_sector,
            cluster_size,
        ) {
            Ok(size) if best.is_none_or(|(b, _)| size < b) => best = Some((size, cluster_size)),
            Ok(_) | Err(GeometryError::TooLarge) => {}
            Err(error) => return Err(geometry_error(error, options, cluster_size, 0)),
        }
    }
    // No cluster size addresses the files: report what they need.
    let needed = || {
        flat.files
            .iter()
            .map(|f| f.size)
            .sum::<u64>()
            .saturating_add(options.min_free)
    };
    best.ok_or_else(|| PlanError::TooLarge { size: needed() })
}

/// The smallest partition (bytes, a whole number of sectors) that holds the tree with
/// `min_free` bytes to spare, over every allowed cluster size.
pub fn minimum_size(tree: &Tree, options: &FormatOptions) -> Result<u64, PlanError> {
    minimum_of(&FlatTree::new(tree, options.label.is_some()), options).map(|(size, _)| size)
}

/// Lays the tree out in a partition of `partition_size` bytes.
pub fn plan<'t>(
    tree: &'t Tree,
    options: &FormatOptions,
    partition_size: u64,
) -> Result<Plan<'t>, PlanError> {
    let flat = FlatTree::new(tree, options.label.is_some());
    for cluster_size in cluster_sizes(options) {
        let geometry = match geometry(
            options.partition_offset,
            partition_size,
            options.bytes_per_sector,
            cluster_size,
        ) {
            Ok(geometry) => geometry,
            Err(GeometryError::TooFewClusters { .. } | GeometryError::TooLarge) => continue,
            Err(error) => return Err(geometry_error(error, options, cluster_size, partition_size)),
        };
        let Some(allocation) = flat.allocate(cluster_size) else {
            continue;
        };
        let Some(needed) = needed_clusters(&allocation, options.min_free, cluster_size) else {
            continue;
        };
        if geometry.clusters >= needed {
            return Ok(Plan {
                geometry,
                flat,
                allocation,
                options: options.clone(),
            });
        }
    }
    let (minimum, cluster_size) = minimum_of(&flat, options)?;
    if minimum <= partition_size {
        // Only a size too large for every cluster size that would fit the files gets here.
        return Err(PlanError::TooLarge {
            size: partition_size,
        });
    }
    Err(PlanError::TooSmall {
        size: partition_size,
        minimum,
        cluster_size,
    })
}
