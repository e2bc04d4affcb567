//! Cluster allocation. Directories come first, packed from the first data cluster; then files in
//! tree order, each contiguous. A file of 4 KiB or more starts on a cluster that begins a 4 KiB
//! block of the image; smaller files fill the gaps that alignment leaves, so the waste stays
//! below one block per file. Depends on the cluster size only, not on the partition's size.

use crate::geometry::{FIRST_CLUSTER, SHARE_ALIGNMENT};

/// A contiguous run of clusters; `clusters == 0` (an empty file) has `first == 0`, as FAT stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    pub first: u32,
    pub clusters: u32,
}

impl Extent {
    pub fn end(&self) -> u32 {
        self.first + self.clusters
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub dirs: Vec<Extent>,
    pub files: Vec<Extent>,
    /// One past the highest cluster in use.
    pub end: u32,
    /// Clusters in use (the gaps between them are free).
    pub used: u32,
}

impl Allocation {
    /// Data clusters the filesystem needs to hold this allocation.
    pub fn span(&self) -> u32 {
        self.end - FIRST_CLUSTER
    }
}

pub fn clusters_for(bytes: u64, cluster_size: u32) -> Option<u32> {
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
pub fn allocate(cluster_size: u32, dir_clusters: &[u32], file_sizes: &[u64]) -> Option<Allocation> {
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
mod tests {
    use super::*;

    fn block_aligned(first: u32, cluster_size: u32) -> bool {
        u64::from(first - FIRST_CLUSTER) * u64::from(cluster_size) % SHARE_ALIGNMENT == 0
    }

    #[test]
    fn with_4k_clusters_everything_is_packed_and_aligned() {
        let a = allocate(4096, &[1, 2], &[0, 4096, 4097, 1, 10_000]).unwrap();
        assert_eq!(
            a.dirs,
            vec![
                Extent {
                    first: 2,
                    clusters: 1
                },
                Extent {
                    first: 3,
                    clusters: 2
                }
            ]
        );
        let firsts: Vec<u32> = a.files.iter().map(|e| e.first).collect();
        assert_eq!(firsts, vec![0, 5, 6, 8, 9]);
        assert_eq!(a.files[2].clusters, 2);
        assert_eq!(a.end, 12);
        assert_eq!(a.used, 10);
        assert_eq!(a.span(), 10);
    }

    #[test]
    fn with_small_clusters_large_files_start_on_blocks_and_small_ones_fill_gaps() {
        // 512-byte clusters: a block is 8 clusters.
        let sizes = [100, 4096, 5000, 512, 3000, 4095, 8192];
        let a = allocate(512, &[3], &sizes).unwrap();
        for (extent, &size) in a.files.iter().zip(&sizes) {
            assert_eq!(u64::from(extent.clusters), size.div_ceil(512));
            if size >= 4096 {
                assert!(block_aligned(extent.first, 512), "{size}: {extent:?}");
            }
        }
        // No two extents overlap.
        let mut all: Vec<Extent> = a
            .dirs
            .iter()
            .chain(&a.files)
            .copied()
            .filter(|e| e.clusters > 0)
            .collect();
        all.sort_by_key(|e| e.first);
        for pair in all.windows(2) {
            assert!(pair[0].end() <= pair[1].first, "{pair:?}");
        }
        assert_eq!(a.used, all.iter().map(|e| e.clusters).sum::<u32>());
        assert_eq!(a.end, all.last().unwrap().end());
        // The 100-byte file went right after the directory; the 512-byte one and the 3000-byte
        // one went into gaps before aligned files, not after the last file.
        assert_eq!(a.files[0].first, 5);
        assert!(a.files[3].first < a.files[2].first);
        assert!(a.files[4].end() <= a.files[6].first);
    }

    #[test]
    fn gaps_are_not_wasted_when_small_files_follow() {
        let mut sizes = Vec::new();
        for _ in 0..100 {
            sizes.push(4097); // 9 clusters of 512: leaves a 7-cluster gap before the next block
            sizes.push(1000); // 2 clusters
        }
        let a = allocate(512, &[1], &sizes).unwrap();
        // Every small file fits in the gap before the next block, so the span stays at the
        // directory plus 16 clusters (9 used, 7 padding) per large file; without gap filling
        // it would be 18 per pair.
        assert!(a.span() <= 1 + 100 * 16, "{}", a.span());
        assert_eq!(a.used, 1 + 100 * 11);
    }

    #[test]
    fn counts_overflow_is_none() {
        assert!(allocate(512, &[1], &[u64::MAX / 2]).is_none());
    }
}
