//! FAT32 layout arithmetic: where the reserved area, the two FATs and the data region go in a
//! partition, and how many clusters fit. Pure functions, so the edge cases are unit-tested.

/// The spec's minimum for FAT32; below it, drivers that go by cluster count read FAT16.
pub(crate) const MIN_CLUSTERS: u32 = 65_525;
/// Cluster numbers 0x0FFFFFF7 and up are reserved (bad cluster, end of chain).
pub(crate) const MAX_CLUSTERS: u32 = 0x0FFF_FFF5;
/// The first cluster of the data region; 0 and 1 are reserved FAT entries.
pub(crate) const FIRST_CLUSTER: u32 = 2;
/// mkfs.fat's default: room for the boot sector (0), FSInfo (1) and their backups (6, 7).
pub(crate) const MIN_RESERVED_SECTORS: u32 = 32;
pub(crate) const FAT_COUNT: u32 = 2;
/// Reflinks share whole 4 KiB blocks, so data meant to be shared must start on one.
pub(crate) const SHARE_ALIGNMENT: u64 = 4096;
pub(crate) const FAT_ENTRY_BYTES: u64 = 4;

pub(crate) const BACKUP_BOOT_SECTOR: u32 = 6;
pub(crate) const FSINFO_SECTOR: u32 = 1;

/// A FAT32 layout inside one partition. All sector numbers are relative to the partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Byte offset of the partition in the image; data alignment is relative to the image.
    pub partition_offset: u64,
    pub bytes_per_sector: u32,
    pub sectors_per_cluster: u32,
    pub reserved_sectors: u32,
    pub sectors_per_fat: u32,
    pub total_sectors: u32,
    /// Data clusters: numbered FIRST_CLUSTER ..= FIRST_CLUSTER + clusters - 1.
    pub clusters: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GeometryError {
    /// Fewer than MIN_CLUSTERS clusters fit.
    TooFewClusters {
        clusters: u64,
    },
    /// More sectors than a 32-bit sector count holds, or more than MAX_CLUSTERS clusters.
    TooLarge,
    BadClusterSize,
    /// The partition does not start on a sector boundary.
    Misaligned,
}

impl Geometry {
    pub fn cluster_size(&self) -> u64 {
        u64::from(self.sectors_per_cluster) * u64::from(self.bytes_per_sector)
    }

    pub fn fat_start_sector(&self, copy: u32) -> u32 {
        self.reserved_sectors + copy * self.sectors_per_fat
    }

    pub fn data_start_sector(&self) -> u32 {
        self.reserved_sectors + FAT_COUNT * self.sectors_per_fat
    }

    pub fn sector_offset(&self, sector: u32) -> u64 {
        self.partition_offset + u64::from(sector) * u64::from(self.bytes_per_sector)
    }

    /// Image byte offset of a data cluster's first byte.
    pub fn cluster_offset(&self, cluster: u32) -> u64 {
        debug_assert!(cluster >= FIRST_CLUSTER);
        self.sector_offset(self.data_start_sector())
            + u64::from(cluster - FIRST_CLUSTER) * self.cluster_size()
    }

    pub fn fat_bytes(&self) -> u64 {
        u64::from(self.sectors_per_fat) * u64::from(self.bytes_per_sector)
    }

    /// One past the last data cluster number.
    pub fn end_cluster(&self) -> u32 {
        FIRST_CLUSTER + self.clusters
    }

    /// Clusters per 4 KiB block when clusters are smaller than one (else 1): only every
    /// `cluster_stride()`-th cluster starts on a shareable block.
    pub fn cluster_stride(&self) -> u32 {
        (SHARE_ALIGNMENT / self.cluster_size()).max(1) as u32
    }

    /// Whether a file starting at `cluster` starts on a 4 KiB block of the image.
    pub fn is_share_aligned(&self, cluster: u32) -> bool {
        self.cluster_offset(cluster).is_multiple_of(SHARE_ALIGNMENT)
    }
}

/// Sectors of one FAT with entries for `clusters` data clusters (plus the two reserved ones).
pub(crate) fn fat_sectors(clusters: u64, bytes_per_sector: u32) -> u64 {
    ((clusters + u64::from(FIRST_CLUSTER)) * FAT_ENTRY_BYTES).div_ceil(u64::from(bytes_per_sector))
}

/// Reserved sectors: at least MIN_RESERVED_SECTORS, plus whatever brings the data region to a
/// 4 KiB boundary of the image (sectors smaller than 4 KiB only).
pub(crate) fn reserved_sectors(
    partition_offset: u64,
    bytes_per_sector: u32,
    sectors_per_fat: u32,
) -> u32 {
    let sector = u64::from(bytes_per_sector);
    let per_block = (SHARE_ALIGNMENT / sector).max(1);
    let start = partition_offset / sector
        + u64::from(MIN_RESERVED_SECTORS)
        + u64::from(FAT_COUNT) * u64::from(sectors_per_fat);
    let pad = (per_block - start % per_block) % per_block;
    MIN_RESERVED_SECTORS + pad as u32
}

fn check_cluster_size(bytes_per_sector: u32, cluster_size: u32) -> Result<u32, GeometryError> {
    let valid_sector =
        bytes_per_sector.is_power_of_two() && (512..=4096).contains(&bytes_per_sector);
    if !valid_sector || !cluster_size.is_power_of_two() || cluster_size < bytes_per_sector {
        return Err(GeometryError::BadClusterSize);
    }
    let per_cluster = cluster_size / bytes_per_sector;
    if per_cluster > 128 || cluster_size > 65_536 {
        return Err(GeometryError::BadClusterSize);
    }
    Ok(per_cluster)
}

/// Lays a FAT32 out in `partition_size` bytes at `partition_offset` of the image.
pub(crate) fn geometry(
    partition_offset: u64,
    partition_size: u64,
    bytes_per_sector: u32,
    cluster_size: u32,
) -> Result<Geometry, GeometryError> {
    let sectors_per_cluster = check_cluster_size(bytes_per_sector, cluster_size)?;
    let sector = u64::from(bytes_per_sector);
    if !partition_offset.is_multiple_of(sector) {
        return Err(GeometryError::Misaligned);
    }
    let total = partition_size / sector;
    if total > u64::from(u32::MAX) {
        return Err(GeometryError::TooLarge);
    }
    let spc = u64::from(sectors_per_cluster);
    // The FAT size and the cluster count depend on each other; growing the FAT only shrinks
    // the cluster count, so iterating from below reaches a FAT that is large enough.
    let mut fat = 1u64;
    let mut reserved;
    let clusters = loop {
        reserved = u64::from(reserved_sectors(
            partition_offset,
            bytes_per_sector,
            fat as u32,
        ));
        let meta = reserved + u64::from(FAT_COUNT) * fat;
        let clusters = total.saturating_sub(meta) / spc;
        let needed = fat_sectors(clusters, bytes_per_sector);
        if needed <= fat {
            break clusters;
        }
        fat = needed;
        if fat > u64::from(u32::MAX) {
            return Err(GeometryError::TooLarge);
        }
    };
    // The climb can overshoot by a few sectors; give them back to the data region while the
    // smaller FAT still covers every cluster.
    let mut clusters = clusters;
    while fat > 1 {
        let smaller = fat - 1;
        let r = u64::from(reserved_sectors(
            partition_offset,
            bytes_per_sector,
            smaller as u32,
        ));
        let more = total.saturating_sub(r + u64::from(FAT_COUNT) * smaller) / spc;
        if fat_sectors(more, bytes_per_sector) > smaller {
            break;
        }
        (fat, reserved, clusters) = (smaller, r, more);
    }
    if clusters < u64::from(MIN_CLUSTERS) {
        return Err(GeometryError::TooFewClusters { clusters });
    }
    if clusters > u64::from(MAX_CLUSTERS) {
        return Err(GeometryError::TooLarge);
    }
    Ok(Geometry {
        partition_offset,
        bytes_per_sector,
        sectors_per_cluster,
        reserved_sectors: reserved as u32,
        sectors_per_fat: fat as u32,
        total_sectors: total as u32,
        clusters: clusters as u32,
    })
}

/// The smallest partition size (a whole number of sectors) whose geometry has at least
/// `clusters` data clusters.
pub(crate) fn size_for_clusters(
    partition_offset: u64,
    clusters: u32,
    bytes_per_sector: u32,
    cluster_size: u32,
) -> Result<u64, GeometryError> {
    let spc = u64::from(check_cluster_size(bytes_per_sector, cluster_size)?);
    let clusters = u64::from(clusters.max(MIN_CLUSTERS));
    if clusters > u64::from(MAX_CLUSTERS) {
        return Err(GeometryError::TooLarge);
    }
    let sector = u64::from(bytes_per_sector);
    let fat = fat_sectors(clusters, bytes_per_sector);
    let reserved = u64::from(reserved_sectors(
        partition_offset,
        bytes_per_sector,
        fat as u32,
    ));
    let mut total = reserved + u64::from(FAT_COUNT) * fat + clusters * spc;
    // The estimate can come up short by the alignment padding a larger FAT brings along;
    // step up a sector at a time until the real geometry agrees (a few steps at most).
    loop {
        match geometry(
            partition_offset,
            total * sector,
            bytes_per_sector,
            cluster_size,
        ) {
            Ok(g) if u64::from(g.clusters) >= clusters => return Ok(total * sector),
            Ok(_) | Err(GeometryError::TooFewClusters { .. }) => total += 1,
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
#[path = "geometry_tests.rs"]
mod tests;
