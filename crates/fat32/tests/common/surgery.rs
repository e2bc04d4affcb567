//! Finding and patching a FAT32's structures inside an image: for the corruption tests and
//! the fuzz seeds. Offsets come from the boot sector's fields alone, read here by their
//! offsets in the spec, never from the crate under test.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The boot sector fields the tests need, read by their offsets (fatgen103).
#[derive(Debug, Clone)]
pub struct BootSector {
    pub bytes_per_sector: u16,
    pub sectors_per_cluster: u8,
    pub reserved_sectors: u16,
    pub fat_size_32: u32,
    pub root_cluster: u32,
    pub fsinfo_sector: u16,
    pub backup_boot_sector: u16,
}

impl BootSector {
    pub fn parse(sector: &[u8]) -> Option<Self> {
        let le16 = |at: usize| u16::from_le_bytes([sector[at], sector[at + 1]]);
        let le32 = |at: usize| u32::from_le_bytes(sector[at..at + 4].try_into().unwrap());
        (sector.len() >= 512 && sector[510..512] == [0x55, 0xAA]).then(|| BootSector {
            bytes_per_sector: le16(11),
            sectors_per_cluster: sector[13],
            reserved_sectors: le16(14),
            fat_size_32: le32(36),
            root_cluster: le32(44),
            fsinfo_sector: le16(48),
            backup_boot_sector: le16(50),
        })
    }

    /// Byte offset, in the partition, of `cluster`'s entry in FAT `copy`.
    pub fn fat_entry_offset(&self, copy: u32, cluster: u32) -> u64 {
        let fat = u64::from(self.reserved_sectors) + u64::from(copy) * u64::from(self.fat_size_32);
        fat * u64::from(self.bytes_per_sector) + u64::from(cluster) * 4
    }

    /// Byte offset, in the partition, of data cluster `cluster`.
    pub fn cluster_offset(&self, cluster: u32) -> u64 {
        let data = u64::from(self.reserved_sectors) + 2 * u64::from(self.fat_size_32);
        let cluster_size = u64::from(self.bytes_per_sector) * u64::from(self.sectors_per_cluster);
        data * u64::from(self.bytes_per_sector) + u64::from(cluster - 2) * cluster_size
    }
}

pub struct Surgery {
    pub file: File,
    /// Byte offset of the partition in the image.
    pub offset: u64,
    pub boot: BootSector,
}

impl Surgery {
    pub fn open(image: &Path, offset: u64) -> Self {
        let file = File::options().read(true).write(true).open(image).unwrap();
        let mut sector = [0u8; 512];
        file.read_exact_at(&mut sector, offset).unwrap();
        let boot = BootSector::parse(&sector).unwrap();
        Surgery { file, offset, boot }
    }

    pub fn sector_size(&self) -> u64 {
        u64::from(self.boot.bytes_per_sector)
    }

    pub fn cluster_size(&self) -> u64 {
        self.sector_size() * u64::from(self.boot.sectors_per_cluster)
    }

    /// Image offset of sector `n` of the partition.
    pub fn sector_at(&self, n: u64) -> u64 {
        self.offset + n * self.sector_size()
    }

    pub fn fat_entry_at(&self, copy: u32, cluster: u32) -> u64 {
        self.offset + self.boot.fat_entry_offset(copy, cluster)
    }

    pub fn cluster_at(&self, cluster: u32) -> u64 {
        self.offset + self.boot.cluster_offset(cluster)
    }

    pub fn read(&self, at: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, at).unwrap();
        buf
    }

    pub fn write(&self, at: u64, bytes: &[u8]) {
        self.file.write_all_at(bytes, at).unwrap();
    }

    pub fn fat(&self, copy: u32, cluster: u32) -> u32 {
        u32::from_le_bytes(
            self.read(self.fat_entry_at(copy, cluster), 4)
                .try_into()
                .unwrap(),
        )
    }

    pub fn set_fat_copy(&self, copy: u32, cluster: u32, value: u32) {
        self.write(self.fat_entry_at(copy, cluster), &value.to_le_bytes());
    }

    /// Sets the entry in both FATs, as a consistent (if wrong) change would.
    pub fn set_fat(&self, cluster: u32, value: u32) {
        self.set_fat_copy(0, cluster, value);
        self.set_fat_copy(1, cluster, value);
    }

    /// The clusters of the chain from `first`, by the first FAT.
    pub fn chain(&self, first: u32) -> Vec<u32> {
        let mut chain = vec![first];
        loop {
            let next = self.fat(0, *chain.last().unwrap()) & 0x0FFF_FFFF;
            if next >= 0x0FFF_FFF8 || chain.len() > 1 << 20 {
                return chain;
            }
            chain.push(next);
        }
    }

    /// Writes FSInfo's free count (and its backup's).
    pub fn set_fsinfo_free(&self, free: u32) {
        let info = u64::from(self.boot.fsinfo_sector);
        for sector in [info, u64::from(self.boot.backup_boot_sector) + info] {
            self.write(self.sector_at(sector) + 488, &free.to_le_bytes());
        }
    }

    /// Image offsets of the 32-byte entries in the root directory's first cluster, up to the
    /// end marker.
    pub fn root_entries(&self) -> Vec<(u64, [u8; 32])> {
        let at = self.cluster_at(self.boot.root_cluster);
        let bytes = self.read(at, self.cluster_size() as usize);
        bytes
            .chunks_exact(32)
            .enumerate()
            .take_while(|(_, e)| e[0] != 0)
            .map(|(i, e)| (at + i as u64 * 32, e.try_into().unwrap()))
            .collect()
    }
}

/// A copy of the FAT32 in `image` (a whole partition, nothing allocated past cluster
/// `keep + 1`) cut down to `keep` clusters: FATs, data region and sector count shrink, FSInfo
/// is recounted. mtools refuses FAT32s this small, so this is how tiny, valid
/// volumes with real contents are made.
pub fn shrink(image: &[u8], keep: u32) -> Vec<u8> {
    let boot = BootSector::parse(&image[..512]).unwrap();
    let cluster_sectors = usize::from(boot.sectors_per_cluster);
    let bps = usize::from(boot.bytes_per_sector);
    let reserved = usize::from(boot.reserved_sectors);
    let old_fat = boot.fat_size_32 as usize;
    let entries = keep as usize + 2;
    let fat_of = |copy: usize| {
        &image[(reserved + copy * old_fat) * bps..(reserved + (copy + 1) * old_fat) * bps]
    };
    assert!(
        fat_of(0)[entries * 4..].iter().all(|&b| b == 0),
        "clusters past {keep} are in use"
    );
    let new_fat = (entries * 4).div_ceil(bps);
    let total = reserved + 2 * new_fat + keep as usize * cluster_sectors;
    let mut out = vec![0u8; total * bps];
    out[..reserved * bps].copy_from_slice(&image[..reserved * bps]);
    let mut sector = image[..bps].to_vec();
    // Only the sector counts and the FAT size change: keep everything else as it was.
    sector[19..21].copy_from_slice(&0u16.to_le_bytes());
    sector[32..36].copy_from_slice(&(total as u32).to_le_bytes());
    sector[36..40].copy_from_slice(&(new_fat as u32).to_le_bytes());
    out[..bps].copy_from_slice(&sector);
    let backup = usize::from(boot.backup_boot_sector);
    out[backup * bps..(backup + 1) * bps].copy_from_slice(&sector);
    for copy in 0..2 {
        let at = (reserved + copy * new_fat) * bps;
        out[at..at + entries * 4].copy_from_slice(&fat_of(copy)[..entries * 4]);
    }
    let (old_data, new_data) = (
        (reserved + 2 * old_fat) * bps,
        (reserved + 2 * new_fat) * bps,
    );
    let data_bytes = keep as usize * cluster_sectors * bps;
    out[new_data..].copy_from_slice(&image[old_data..old_data + data_bytes]);
    let free = (2..entries)
        .filter(|&c| fat_of(0)[c * 4..c * 4 + 4] == [0; 4])
        .count() as u32;
    let info = usize::from(boot.fsinfo_sector);
    for sector in [info, backup + info] {
        let at = sector * bps;
        out[at + 488..at + 492].copy_from_slice(&free.to_le_bytes());
        out[at + 492..at + 496].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    out
}
