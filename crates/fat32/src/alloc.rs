//! Cluster allocation. Directories come first, packed from the first data cluster; then files in
//! tree order, each contiguous. A file of 4 KiB or more starts on a cluster that begins a 4 KiB
//! block of the image; smaller files fill the gaps that alignment leaves, so the waste stays
//! below one block per file. Depends on the cluster size only, not on the partition's size.

use crate::geometry::{FIRST_CLUSTER, SHARE_ALIGNMENT};

/// A contiguous run of clusters; `clusters == 0` (an empty file) has `first == 0`, as FAT stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Extent {
    pub first: u32,
    pub clusters: u32,
}

impl Extent {
    pub(crate) fn end(&self) -> u32 {
        self.first + self.clusters
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Allocation {
    pub dirs: Vec<Extent>,
    pub files: Vec<Extent>,
    /// One past the highest cluster in use.
    pub end: u32,
    /// Clusters in use (the gaps between them are free).
    pub used: u32,
}

impl Allocation {
    /// Data clusters the filesystem needs to hold this allocation.
    pub(crate) fn span(&self) -> u32 {
        self.end - FIRST_CLUSTER
    }
}

pub(crate) fn clusters_for(bytes: u64, cluster_size: u32) -> Option<u32> {
    u32::try_from(bytes.div_ceil(u64::from(cluster_size))).ok()
}

/// Gaps left before aligned files, bucketed by length so a small file takes the shortest
/// gap it fits in, in O(stride).
struct Gaps {
    by_length: Vec<Vec<u32>>,
}

impl Gaps {
    fn new(stride: u32) -> Self {
        Gaps {
            by_length: vec![Vec::new(); stride as usize],
        }
    }

    fn add(&mut self, first: u32, clusters: u32) {
        if clusters > 0 {
            self.by_length[clusters as usize].push(first);
        }
    }

    fn take(&mut self, clusters: u32) -> Option<u32> {
        let length =
            (clusters as usize..self.by_length.len()).find(|&l| !self.by_length[l].is_empty())?;
        // Any deterministic choice works; the most recent gap of the shortest length that fits
        // is the cheapest to find.
        let first = self.by_length[length].pop()?;
        self.add(first + clusters, length as u32 - clusters);
        Some(first)
    }
}

/// Lays out directories (sizes in clusters, at least 1 each) and files (sizes in bytes).
/// Returns None when the clusters do not fit in 32-bit cluster numbers.
pub(crate) fn allocate(
    cluster_size: u32,
    dir_clusters: &[u32],
    file_sizes: &[u64],
) -> Option<Allocation> {
    let stride = (SHARE_ALIGNMENT / u64::from(cluster_size)).max(1) as u32;
    let mut cursor = FIRST_CLUSTER;
    let mut used = 0u32;
    let mut dirs = Vec::with_capacity(dir_clusters.len());
    for &clusters in dir_clusters {
        dirs.push(Extent {
            first: cursor,
            clusters,
        });
        cursor = cursor.checked_add(clusters)?;
        used = used.checked_add(clusters)?;
    }
    let mut gaps = Gaps::new(stride);
    let mut files = Vec::with_capacity(file_sizes.len());
    for &size in file_sizes {
        let clusters = clusters_for(size, cluster_size)?;
        if clusters == 0 {
            files.push(Extent::default());
            continue;
        }
        let first = if size >= SHARE_ALIGNMENT {
            // The data region starts on a block, so block starts are every stride-th cluster.
            let offset = (cursor - FIRST_CLUSTER) % stride;
            let pad = (stride - offset) % stride;
            gaps.add(cursor, pad);
            cursor.checked_add(pad)?
        } else {
            match gaps.take(clusters) {
                Some(first) => {
                    files.push(Extent { first, clusters });
                    used = used.checked_add(clusters)?;
                    continue;
                }
                None => cursor,
            }
        };
        files.push(Extent { first, clusters });
        cursor = first.checked_add(clusters)?;
        used = used.checked_add(clusters)?;
    }
    Some(Allocation {
        dirs,
        files,
        end: cursor,
        used,
    })
}

#[cfg(test)]
#[path = "alloc_tests.rs"]
mod tests;
