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
