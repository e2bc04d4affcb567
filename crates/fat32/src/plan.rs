//! Planning: from the source tree alone (names and sizes), the whole layout of the filesystem:
//! cluster size, geometry, and where every directory and file goes. Nothing is read or written.

use std::fmt;
use std::sync::Arc;

use crate::alloc::{clusters_for, Allocation};
use crate::flat_tree::FlatTree;
use crate::geometry::{geometry, size_for_clusters, Geometry, GeometryError, MIN_CLUSTERS};
use crate::tree::{FileNode, Tree};

/// Cluster sizes tried when none is given, in order of preference: 4 KiB clusters are exactly
/// the blocks reflinks share; larger ones for partitions too big for 4 KiB; smaller ones for
/// partitions too small for 65,525 clusters of 4 KiB.
const CLUSTER_SIZES: [u32; 7] = [4096, 8192, 16384, 32768, 2048, 1024, 512];

#[derive(Debug, Clone, PartialEq, Eq)]
/// What the filesystem is, not where it goes: the partition's place is given to
/// [`PreparedTree::plan`].
pub struct FormatOptions {
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
pub(crate) fn describe_size(bytes: u64) -> String {
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

/// A scanned tree made ready for planning: flattened, every directory's short names assigned
/// and its entries counted. That work depends on the tree alone, so it is done once, here;
/// [`PreparedTree::minimum_size`] and [`PreparedTree::plan`] (for any options, offset and
/// size) reuse it. Cloning is cheap (the prepared tree is shared).
#[derive(Debug, Clone)]
pub struct PreparedTree {
    flat: Arc<FlatTree>,
}

impl From<Tree> for PreparedTree {
    fn from(tree: Tree) -> Self {
        PreparedTree::new(Arc::new(tree))
    }
}

impl PreparedTree {
    pub fn new(tree: Arc<Tree>) -> Self {
        PreparedTree {
            flat: Arc::new(FlatTree::new(tree)),
        }
    }

    /// The scanned tree.
    pub fn tree(&self) -> &Arc<Tree> {
        self.flat.tree()
    }

    /// The smallest partition (bytes, a whole number of sectors) that holds the tree with
    /// `min_free` bytes to spare, over every allowed cluster size, for a partition that starts
    /// on a 4 KiB block of the image (any such start needs the same size). A start between
    /// blocks can need up to 7 more reserved sectors: see [`PreparedTree::minimum_size_at`].
    pub fn minimum_size(&self, options: &FormatOptions) -> Result<u64, PlanError> {
        self.minimum_size_at(options, 0)
    }

    /// The smallest partition that holds the tree at byte `partition_offset` of the image.
    pub fn minimum_size_at(
        &self,
        options: &FormatOptions,
        partition_offset: u64,
    ) -> Result<u64, PlanError> {
        self.minimum_of(options, partition_offset)
            .map(|(size, _)| size)
    }

    fn minimum_of(
        &self,
        options: &FormatOptions,
        partition_offset: u64,
    ) -> Result<(u64, u32), PlanError> {
        let flat = &self.flat;
        let has_label = options.label.is_some();
        let fail = |error, cluster_size, size| {
            geometry_error(error, options, partition_offset, cluster_size, size)
        };
        let mut best: Option<(u64, u32)> = None;
        for cluster_size in cluster_sizes(options) {
            let Some(needed) = flat
                .allocate(cluster_size, has_label)
                .and_then(|a| needed_clusters(&a, options.min_free, cluster_size))
            else {
                continue;
            };
            match size_for_clusters(
                partition_offset,
                needed,
                options.bytes_per_sector,
                cluster_size,
            ) {
                Ok(size) if best.is_none_or(|(b, _)| size < b) => best = Some((size, cluster_size)),
                Ok(_) | Err(GeometryError::TooLarge) => {}
                Err(error) => return Err(fail(error, cluster_size, 0)),
            }
        }
        // No cluster size addresses the files: report what they need.
        let needed = || flat.file_bytes().saturating_add(options.min_free);
        best.ok_or_else(|| PlanError::TooLarge { size: needed() })
    }

    /// Lays the tree out in the `partition_size` bytes at byte `partition_offset` of the image
    /// (file data is aligned relative to the image).
    pub fn plan(
        &self,
        options: &FormatOptions,
        partition_offset: u64,
        partition_size: u64,
    ) -> Result<Plan, PlanError> {
        let has_label = options.label.is_some();
        let fail = |error, cluster_size, size| {
            geometry_error(error, options, partition_offset, cluster_size, size)
        };
        for cluster_size in cluster_sizes(options) {
            let geometry = match geometry(
                partition_offset,
                partition_size,
                options.bytes_per_sector,
                cluster_size,
            ) {
                Ok(geometry) => geometry,
                Err(GeometryError::TooFewClusters { .. } | GeometryError::TooLarge) => continue,
                Err(error) => return Err(fail(error, cluster_size, partition_size)),
            };
            let Some(allocation) = self.flat.allocate(cluster_size, has_label) else {
                continue;
            };
            let Some(needed) = needed_clusters(&allocation, options.min_free, cluster_size) else {
                continue;
            };
            if geometry.clusters >= needed {
                return Ok(Plan {
                    geometry,
                    flat: self.flat.clone(),
                    allocation,
                    options: options.clone(),
                });
            }
        }
        let (minimum, cluster_size) = self.minimum_of(options, partition_offset)?;
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
}

/// A planned filesystem: where it goes in the image and where everything goes in it. It owns
/// (shares) the tree it was planned from, so it can be kept and written later, on any thread.
#[derive(Debug, Clone)]
pub struct Plan {
    pub geometry: Geometry,
    pub(crate) flat: Arc<FlatTree>,
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

impl Plan {
    pub fn summary(&self) -> Summary {
        Summary {
            cluster_size: self.geometry.cluster_size() as u32,
            clusters: self.geometry.clusters,
            used_clusters: self.allocation.used,
            free_clusters: self.geometry.clusters - self.allocation.used,
            // Folders inside the filesystem: the root is not counted.
            directories: self.flat.dirs.len() as u32 - 1,
            files: self.flat.files.len() as u32,
            file_bytes: self.flat.file_bytes(),
        }
    }

    pub fn options(&self) -> &FormatOptions {
        &self.options
    }

    /// Byte offset of the partition in the image.
    pub fn partition_offset(&self) -> u64 {
        self.geometry.partition_offset
    }

    /// Bytes of the partition (whole sectors).
    pub fn partition_size(&self) -> u64 {
        u64::from(self.geometry.total_sectors) * u64::from(self.geometry.bytes_per_sector)
    }

    /// The tree the plan was made from.
    pub fn tree(&self) -> &Arc<Tree> {
        self.flat.tree()
    }

    /// Where each file's data goes: (file index, file, image byte offset), in the order the
    /// files were planned. Empty files are left out.
    pub fn file_placements(&self) -> impl Iterator<Item = (usize, &FileNode, u64)> + '_ {
        self.allocation
            .files
            .iter()
            .enumerate()
            .filter(|(_, extent)| extent.clusters > 0)
            .map(|(i, extent)| {
                (
                    i,
                    self.flat.file(i),
                    self.geometry.cluster_offset(extent.first),
                )
            })
    }

    /// Files that take no cluster (their planned size is 0), numbered as in file_placements.
    pub fn empty_files(&self) -> impl Iterator<Item = (usize, &FileNode)> + '_ {
        self.allocation
            .files
            .iter()
            .enumerate()
            .filter(|(_, extent)| extent.clusters == 0)
            .map(|(i, _)| (i, self.flat.file(i)))
    }

    /// The path of a file inside the filesystem ("/EFI/BOOT/BOOTX64.EFI"), for messages.
    pub fn file_path(&self, file: usize) -> String {
        let mut parts = vec![self.flat.file(file).name.as_str()];
        let mut dir = self.flat.files[file].dir;
        while dir != 0 {
            parts.push(&self.flat.dir(dir).name);
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
    partition_offset: u64,
    cluster_size: u32,
    size: u64,
) -> PlanError {
    match error {
        GeometryError::BadClusterSize => PlanError::BadClusterSize {
            cluster_size,
            bytes_per_sector: options.bytes_per_sector,
        },
        GeometryError::Misaligned => PlanError::Misaligned {
            partition_offset,
            bytes_per_sector: options.bytes_per_sector,
        },
        GeometryError::TooLarge | GeometryError::TooFewClusters { .. } => {
            PlanError::TooLarge { size }
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
