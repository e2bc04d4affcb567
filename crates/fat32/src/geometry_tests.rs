use super::*;

const MIB: u64 = 1 << 20;

fn check_invariants(g: &Geometry, partition_size: u64) {
    let sector = u64::from(g.bytes_per_sector);
    // The FAT has an entry for every cluster.
    assert!(g.fat_bytes() >= (u64::from(g.clusters) + 2) * 4, "{g:?}");
    // Everything fits in the partition.
    let used = u64::from(g.data_start_sector()) * sector + u64::from(g.clusters) * g.cluster_size();
    assert!(used <= partition_size, "{g:?}");
    // No whole cluster is left over at the end.
    assert!(
        partition_size - used < g.cluster_size() + g.fat_bytes() * 2 + 8 * sector,
        "{g:?}"
    );
    // The data region starts on a 4 KiB block of the image.
    assert_eq!(
        g.cluster_offset(FIRST_CLUSTER) % SHARE_ALIGNMENT,
        0,
        "{g:?}"
    );
    assert!(g.reserved_sectors >= MIN_RESERVED_SECTORS);
    assert!(g.reserved_sectors > BACKUP_BOOT_SECTOR + 1);
}

#[test]
fn a_512_mib_partition_with_4k_clusters() {
    let g = geometry(MIB, 512 * MIB, 512, 4096).unwrap();
    check_invariants(&g, 512 * MIB);
    assert_eq!(g.sectors_per_cluster, 8);
    // 131,072 blocks minus the FATs and reserved area: about 1 KiB of FAT per 256 clusters.
    assert!(
        g.clusters > 130_000 && g.clusters < 131_072,
        "{}",
        g.clusters
    );
    assert_eq!(
        g.sectors_per_fat as u64,
        fat_sectors(u64::from(g.clusters), 512)
    );
}

#[test]
fn the_data_region_is_block_aligned_for_every_partition_phase() {
    for offset_sectors in 0..16u64 {
        for cluster_size in [512, 1024, 2048, 4096, 8192, 32768] {
            let offset = MIB + offset_sectors * 512;
            let size = 70_000 * u64::from(cluster_size) + 4 * MIB;
            let g = geometry(offset, size, 512, cluster_size).unwrap();
            check_invariants(&g, size);
            assert!(g.reserved_sectors < MIN_RESERVED_SECTORS + 8);
        }
    }
}

#[test]
fn four_k_sectors() {
    let g = geometry(MIB, 1024 * MIB, 4096, 4096).unwrap();
    check_invariants(&g, 1024 * MIB);
    assert_eq!(g.sectors_per_cluster, 1);
    assert_eq!(g.reserved_sectors, MIN_RESERVED_SECTORS);
    assert_eq!(
        geometry(MIB, 1024 * MIB, 4096, 2048),
        Err(GeometryError::BadClusterSize)
    );
}

#[test]
fn too_few_clusters_is_an_error_and_the_boundary_is_exact() {
    for cluster_size in [512u32, 4096, 16384] {
        let min = size_for_clusters(MIB, MIN_CLUSTERS, 512, cluster_size).unwrap();
        let g = geometry(MIB, min, 512, cluster_size).unwrap();
        assert_eq!(g.clusters, MIN_CLUSTERS, "cluster size {cluster_size}");
        check_invariants(&g, min);
        assert!(matches!(
            geometry(MIB, min - 512, 512, cluster_size),
            Err(GeometryError::TooFewClusters { .. })
        ));
    }
    // 65,525 clusters of 512 bytes: 32 MiB of data plus two 256 KiB FATs.
    let min = size_for_clusters(0, MIN_CLUSTERS, 512, 512).unwrap();
    assert_eq!(min / 512, 32 + 2 * 512 + 65_525);
}

#[test]
fn size_for_clusters_is_the_smallest_size() {
    for clusters in [65_525u32, 70_000, 131_071, 1_000_003] {
        for cluster_size in [512u32, 2048, 4096] {
            let size = size_for_clusters(7 * 512, clusters, 512, cluster_size).unwrap();
            let g = geometry(7 * 512, size, 512, cluster_size).unwrap();
            assert!(g.clusters >= clusters);
            let smaller = geometry(7 * 512, size - 512, 512, cluster_size);
            assert!(
                !matches!(smaller, Ok(g) if g.clusters >= clusters),
                "{clusters} clusters of {cluster_size} fit in {} bytes",
                size - 512
            );
        }
    }
}

#[test]
fn the_fat_covers_exactly_its_sector_boundary() {
    // 126 clusters + 2 reserved entries fill one 512-byte FAT sector exactly; one more needs two.
    assert_eq!(fat_sectors(126, 512), 1);
    assert_eq!(fat_sectors(127, 512), 2);
    assert_eq!(fat_sectors(1022, 4096), 1);
    assert_eq!(fat_sectors(1023, 4096), 2);
}

#[test]
fn limits() {
    // More than 2^32 - 1 sectors cannot be counted.
    assert_eq!(
        geometry(0, (1u64 << 32) * 512, 512, 32768),
        Err(GeometryError::TooLarge)
    );
    // 1 TiB of 4 KiB clusters is 2^28 clusters: over the FAT32 maximum.
    assert_eq!(
        geometry(0, 2 << 40, 4096, 4096),
        Err(GeometryError::TooLarge)
    );
    assert!(geometry(0, 2 << 40, 4096, 16384).is_ok());
    assert_eq!(
        geometry(512, 64 * MIB, 4096, 4096),
        Err(GeometryError::Misaligned)
    );
    assert_eq!(
        geometry(0, 64 * MIB, 512, 3000),
        Err(GeometryError::BadClusterSize)
    );
    assert_eq!(
        geometry(0, 64 * MIB, 512, 128 * 1024),
        Err(GeometryError::BadClusterSize)
    );
}

#[test]
fn small_clusters_share_only_every_nth_cluster() {
    let g = geometry(MIB, 128 * MIB, 512, 1024).unwrap();
    assert_eq!(g.cluster_stride(), 4);
    assert!(g.is_share_aligned(2));
    assert!(!g.is_share_aligned(3));
    assert!(g.is_share_aligned(6));
    let g = geometry(MIB, 1024 * MIB, 512, 8192).unwrap();
    assert_eq!(g.cluster_stride(), 1);
    assert!((2..100).all(|c| g.is_share_aligned(c)));
}
