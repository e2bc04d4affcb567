//! The unit tests' FAT32 fixtures: tiny images built in memory for the reader's tests: 512-byte sectors and
//! clusters, few clusters (so TOO_FEW_CLUSTERS is expected), chains and entries set by hand.

use crate::encode::{short_entry, ATTR_ARCHIVE, ATTR_DIRECTORY, DOT, DOT_DOT, END_OF_CHAIN};
use crate::names::{encode_lfn_entries, ShortName};
use crate::ondisk::boot::{BootSector, FsInfo, FSINFO_UNKNOWN, NO_NAME};
use crate::ondisk::fat_entry::{FAT0, FAT1};

pub(crate) const SECTOR: usize = 512;
pub(crate) const RESERVED: usize = 8;
pub(crate) const TIME: i64 = 1_600_000_000;

/// The boot sector of a [`TinyImage`] of `total_sectors` with FATs of `fat_sectors`; other
/// tests take its ordinary FAT32 values and set their own geometry.
pub(crate) fn tiny_boot(total_sectors: u32, fat_sectors: u32) -> BootSector {
    BootSector {
        oem_name: *b"TINYTEST",
        bytes_per_sector: SECTOR as u16,
        sectors_per_cluster: 1,
        reserved_sectors: RESERVED as u16,
        fat_count: 2,
        root_entries: 0,
        total_sectors_16: 0,
        media: 0xF8,
        fat_size_16: 0,
        sectors_per_track: 63,
        heads: 255,
        hidden_sectors: 0,
        total_sectors_32: total_sectors,
        fat_size_32: fat_sectors,
        ext_flags: 0,
        fs_version: 0,
        root_cluster: 2,
        fsinfo_sector: 1,
        backup_boot_sector: 6,
        drive_number: 0x80,
        extended_signature: 0x29,
        volume_id: 0xCAFE_F00D,
        volume_label: *NO_NAME,
        fs_type: *b"FAT32   ",
    }
}

pub(crate) struct TinyImage {
    pub(crate) bytes: Vec<u8>,
    pub(crate) clusters: u32,
    pub(crate) fat_sectors: usize,
}

impl TinyImage {
    /// A volume of `clusters` 512-byte clusters, root directory in cluster 2, nothing else.
    pub(crate) fn new(clusters: u32) -> Self {
        let fat_sectors = ((clusters as usize + 2) * 4).div_ceil(SECTOR);
        let total = RESERVED + 2 * fat_sectors + clusters as usize;
        let mut image = TinyImage {
            bytes: vec![0; total * SECTOR],
            clusters,
            fat_sectors,
        };
        image.put_boot(&tiny_boot(total as u32, fat_sectors as u32));
        image.set_fat(0, FAT0);
        image.set_fat(1, FAT1);
        image.set_fat(2, END_OF_CHAIN);
        image.put_fsinfo(clusters - 1, FSINFO_UNKNOWN);
        image
    }

    pub(crate) fn boot(&self) -> BootSector {
        BootSector::parse(&self.bytes[..SECTOR]).unwrap()
    }

    /// Writes the boot sector and its backup.
    pub(crate) fn put_boot(&mut self, boot: &BootSector) {
        let bytes = boot.encode(SECTOR);
        self.bytes[..SECTOR].copy_from_slice(&bytes);
        self.bytes[6 * SECTOR..7 * SECTOR].copy_from_slice(&bytes);
    }

    pub(crate) fn put_fsinfo(&mut self, free: u32, next_free: u32) {
        let info = FsInfo {
            free_clusters: free,
            next_free,
        }
        .encode(SECTOR);
        self.bytes[SECTOR..2 * SECTOR].copy_from_slice(&info);
    }

    pub(crate) fn fat_entry_offset(&self, copy: usize, cluster: u32) -> usize {
        (RESERVED + copy * self.fat_sectors) * SECTOR + cluster as usize * 4
    }

    pub(crate) fn set_fat_copy(&mut self, copy: usize, cluster: u32, value: u32) {
        let at = self.fat_entry_offset(copy, cluster);
        self.bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Sets the entry in both FATs.
    pub(crate) fn set_fat(&mut self, cluster: u32, value: u32) {
        self.set_fat_copy(0, cluster, value);
        self.set_fat_copy(1, cluster, value);
    }

    /// Links `clusters` into one chain.
    pub(crate) fn chain(&mut self, clusters: &[u32]) {
        for pair in clusters.windows(2) {
            self.set_fat(pair[0], pair[1]);
        }
        self.set_fat(*clusters.last().unwrap(), END_OF_CHAIN);
    }

    pub(crate) fn cluster_offset(&self, cluster: u32) -> usize {
        (RESERVED + 2 * self.fat_sectors + cluster as usize - 2) * SECTOR
    }

    pub(crate) fn fill_cluster(&mut self, cluster: u32, byte: u8) {
        let at = self.cluster_offset(cluster);
        self.bytes[at..at + SECTOR].fill(byte);
    }

    /// Writes directory entries from the start of `cluster` (and the clusters after it).
    pub(crate) fn put_entries(&mut self, cluster: u32, entries: &[[u8; 32]]) {
        let at = self.cluster_offset(cluster);
        for (i, entry) in entries.iter().enumerate() {
            self.bytes[at + i * 32..at + i * 32 + 32].copy_from_slice(entry);
        }
    }

    /// Free clusters as the FAT says, for a correct FSInfo.
    pub(crate) fn fix_fsinfo(&mut self) {
        let free = (2..self.clusters + 2)
            .filter(|&c| {
                let at = self.fat_entry_offset(0, c);
                self.bytes[at..at + 4] == [0; 4]
            })
            .count() as u32;
        self.put_fsinfo(free, FSINFO_UNKNOWN);
    }
}

/// A file's entries: its long name (when given) and its short entry.
pub(crate) fn file(long: Option<&str>, short: &[u8; 11], cluster: u32, size: u32) -> Vec<[u8; 32]> {
    named(long, short, ATTR_ARCHIVE, cluster, size)
}

pub(crate) fn dir(long: Option<&str>, short: &[u8; 11], cluster: u32) -> Vec<[u8; 32]> {
    named(long, short, ATTR_DIRECTORY, cluster, 0)
}

fn named(long: Option<&str>, short: &[u8; 11], attr: u8, cluster: u32, size: u32) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    if let Some(long) = long {
        encode_lfn_entries(long, &ShortName(*short), &mut out);
    }
    out.push(short_entry(short, attr, cluster, size, TIME));
    out
}

/// "." and ".." of a directory in `own` whose parent is in `parent` (0 for the root).
pub(crate) fn dots(own: u32, parent: u32) -> Vec<[u8; 32]> {
    vec![
        short_entry(DOT, ATTR_DIRECTORY, own, 0, TIME),
        short_entry(DOT_DOT, ATTR_DIRECTORY, parent, 0, TIME),
    ]
}

/// A small, valid volume: /hello.txt (600 bytes in 3-4), /Sub Dir (5) holding
/// /Sub Dir/INNER.BIN (512 bytes in 6) and an empty file /EMPTY.
pub(crate) fn sample() -> TinyImage {
    let mut image = TinyImage::new(40);
    let mut root = file(Some("hello.txt"), b"HELLO   TXT", 3, 600);
    root.extend(dir(Some("Sub Dir"), b"SUBDIR~1   ", 5));
    root.extend(file(None, b"EMPTY      ", 0, 0));
    image.put_entries(2, &root);
    image.chain(&[3, 4]);
    image.fill_cluster(3, b'h');
    image.fill_cluster(4, b'H');
    let mut sub = dots(5, 0);
    sub.extend(file(None, b"INNER   BIN", 6, 512));
    image.put_entries(5, &sub);
    image.chain(&[5]);
    image.chain(&[6]);
    image.fill_cluster(6, b'i');
    image.fix_fsinfo();
    image
}
