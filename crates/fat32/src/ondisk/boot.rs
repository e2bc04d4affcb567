//! The boot sector (with FAT32's BIOS parameter block) and the FSInfo sector: one struct each,
//! encoded by the writer and parsed by the reader, so both agree on every field's offset.

use super::{le16, le32, put16, put32};

/// Byte offsets of the boot sector's fields (Microsoft's FAT specification, fatgen103).
pub(crate) mod offset {
    pub(crate) const JUMP: usize = 0;
    pub(crate) const OEM_NAME: usize = 3;
    pub(crate) const BYTES_PER_SECTOR: usize = 11;
    pub(crate) const SECTORS_PER_CLUSTER: usize = 13;
    pub(crate) const RESERVED_SECTORS: usize = 14;
    pub(crate) const FAT_COUNT: usize = 16;
    pub(crate) const ROOT_ENTRIES: usize = 17;
    pub(crate) const TOTAL_SECTORS_16: usize = 19;
    pub(crate) const MEDIA: usize = 21;
    pub(crate) const FAT_SIZE_16: usize = 22;
    pub(crate) const SECTORS_PER_TRACK: usize = 24;
    pub(crate) const HEADS: usize = 26;
    pub(crate) const HIDDEN_SECTORS: usize = 28;
    pub(crate) const TOTAL_SECTORS_32: usize = 32;
    pub(crate) const FAT_SIZE_32: usize = 36;
    pub(crate) const EXT_FLAGS: usize = 40;
    pub(crate) const FS_VERSION: usize = 42;
    pub(crate) const ROOT_CLUSTER: usize = 44;
    pub(crate) const FSINFO_SECTOR: usize = 48;
    pub(crate) const BACKUP_BOOT_SECTOR: usize = 50;
    pub(crate) const DRIVE_NUMBER: usize = 64;
    pub(crate) const EXTENDED_SIGNATURE: usize = 66;
    pub(crate) const VOLUME_ID: usize = 67;
    pub(crate) const VOLUME_LABEL: usize = 71;
    pub(crate) const FS_TYPE: usize = 82;
    pub(crate) const BOOT_CODE: usize = 90;
    /// 0x55 0xAA, at 510 whatever the sector size.
    pub(crate) const SIGNATURE: usize = 510;
}

/// The smallest sector: every field, the signature included, lies in its first 512 bytes.
pub(crate) const MIN_SECTOR_BYTES: usize = 512;
pub(crate) const BOOT_SIGNATURE: [u8; 2] = [0x55, 0xAA];
/// `extended_signature` when `volume_id`, `volume_label` and `fs_type` are present.
pub(crate) const EXTENDED_BOOT_SIGNATURE: u8 = 0x29;
/// The label field of a volume without a label.
pub(crate) const NO_NAME: &[u8; 11] = b"NO NAME    ";
/// ext_flags bit 7: only the FAT in bits 0-3 is active; the others are not kept in sync.
pub(crate) const MIRRORING_DISABLED: u16 = 0x80;
pub(crate) const ACTIVE_FAT_MASK: u16 = 0x0F;

/// A short jump over the BPB to the boot code, as every FAT implementation expects.
const JUMP_INSTRUCTION: [u8; 3] = [0xEB, 0x58, 0x90];
/// Boot code for a BIOS that boots this partition anyway: wait forever (cli; hlt; jmp $-1).
const HALT_BOOT_CODE: [u8; 4] = [0xFA, 0xF4, 0xEB, 0xFD];

/// The fields of a FAT32 boot sector. Parsing keeps every field as stored, however invalid:
/// judging them is the reader's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootSector {
    pub oem_name: [u8; 8],
    pub bytes_per_sector: u16,
    pub sectors_per_cluster: u8,
    pub reserved_sectors: u16,
    pub fat_count: u8,
    /// 0 on FAT32 (FAT12/16 keep a fixed-size root directory).
    pub root_entries: u16,
    /// 0 on FAT32, which uses `total_sectors_32`.
    pub total_sectors_16: u16,
    pub media: u8,
    /// 0 on FAT32, which uses `fat_size_32`: the field that tells FAT32 apart.
    pub fat_size_16: u16,
    pub sectors_per_track: u16,
    pub heads: u16,
    /// Sectors before the partition on its disk.
    pub hidden_sectors: u32,
    pub total_sectors_32: u32,
    pub fat_size_32: u32,
    pub ext_flags: u16,
    pub fs_version: u16,
    pub root_cluster: u32,
    pub fsinfo_sector: u16,
    pub backup_boot_sector: u16,
    pub drive_number: u8,
    pub extended_signature: u8,
    pub volume_id: u32,
    pub volume_label: [u8; 11],
    pub fs_type: [u8; 8],
}

impl BootSector {
    /// The sector's bytes: these fields, imgforge's jump and boot code, and the signature.
    pub(crate) fn encode(&self, sector_bytes: usize) -> Vec<u8> {
        use offset::*;
        let mut s = vec![0u8; sector_bytes.max(MIN_SECTOR_BYTES)];
        s[JUMP..JUMP + 3].copy_from_slice(&JUMP_INSTRUCTION);
        s[OEM_NAME..OEM_NAME + 8].copy_from_slice(&self.oem_name);
        put16(&mut s, BYTES_PER_SECTOR, self.bytes_per_sector);
        s[SECTORS_PER_CLUSTER] = self.sectors_per_cluster;
        put16(&mut s, RESERVED_SECTORS, self.reserved_sectors);
        s[FAT_COUNT] = self.fat_count;
        put16(&mut s, ROOT_ENTRIES, self.root_entries);
        put16(&mut s, TOTAL_SECTORS_16, self.total_sectors_16);
        s[MEDIA] = self.media;
        put16(&mut s, FAT_SIZE_16, self.fat_size_16);
        put16(&mut s, SECTORS_PER_TRACK, self.sectors_per_track);
        put16(&mut s, HEADS, self.heads);
        put32(&mut s, HIDDEN_SECTORS, self.hidden_sectors);
        put32(&mut s, TOTAL_SECTORS_32, self.total_sectors_32);
        put32(&mut s, FAT_SIZE_32, self.fat_size_32);
        put16(&mut s, EXT_FLAGS, self.ext_flags);
        put16(&mut s, FS_VERSION, self.fs_version);
        put32(&mut s, ROOT_CLUSTER, self.root_cluster);
        put16(&mut s, FSINFO_SECTOR, self.fsinfo_sector);
        put16(&mut s, BACKUP_BOOT_SECTOR, self.backup_boot_sector);
        s[DRIVE_NUMBER] = self.drive_number;
        s[EXTENDED_SIGNATURE] = self.extended_signature;
        put32(&mut s, VOLUME_ID, self.volume_id);
        s[VOLUME_LABEL..VOLUME_LABEL + 11].copy_from_slice(&self.volume_label);
        s[FS_TYPE..FS_TYPE + 8].copy_from_slice(&self.fs_type);
        s[BOOT_CODE..BOOT_CODE + 4].copy_from_slice(&HALT_BOOT_CODE);
        s[SIGNATURE..SIGNATURE + 2].copy_from_slice(&BOOT_SIGNATURE);
        s
    }

    /// The fields of `sector`, whatever they hold; None when it is shorter than 512 bytes.
    pub(crate) fn parse(sector: &[u8]) -> Option<BootSector> {
        use offset::*;
        if sector.len() < MIN_SECTOR_BYTES {
            return None;
        }
        let bytes = |at: usize, n: usize| &sector[at..at + n];
        Some(BootSector {
            oem_name: bytes(OEM_NAME, 8).try_into().ok()?,
            bytes_per_sector: le16(sector, BYTES_PER_SECTOR),
            sectors_per_cluster: sector[SECTORS_PER_CLUSTER],
            reserved_sectors: le16(sector, RESERVED_SECTORS),
            fat_count: sector[FAT_COUNT],
            root_entries: le16(sector, ROOT_ENTRIES),
            total_sectors_16: le16(sector, TOTAL_SECTORS_16),
            media: sector[MEDIA],
            fat_size_16: le16(sector, FAT_SIZE_16),
            sectors_per_track: le16(sector, SECTORS_PER_TRACK),
            heads: le16(sector, HEADS),
            hidden_sectors: le32(sector, HIDDEN_SECTORS),
            total_sectors_32: le32(sector, TOTAL_SECTORS_32),
            fat_size_32: le32(sector, FAT_SIZE_32),
            ext_flags: le16(sector, EXT_FLAGS),
            fs_version: le16(sector, FS_VERSION),
            root_cluster: le32(sector, ROOT_CLUSTER),
            fsinfo_sector: le16(sector, FSINFO_SECTOR),
            backup_boot_sector: le16(sector, BACKUP_BOOT_SECTOR),
            drive_number: sector[DRIVE_NUMBER],
            extended_signature: sector[EXTENDED_SIGNATURE],
            volume_id: le32(sector, VOLUME_ID),
            volume_label: bytes(VOLUME_LABEL, 11).try_into().ok()?,
            fs_type: bytes(FS_TYPE, 8).try_into().ok()?,
        })
    }

    /// Whether `sector` ends its first 512 bytes with 0x55 0xAA.
    pub(crate) fn has_signature(sector: &[u8]) -> bool {
        sector.get(offset::SIGNATURE..offset::SIGNATURE + 2) == Some(&BOOT_SIGNATURE[..])
    }

    /// The sector count: the 16-bit field when set (as Linux reads it), else the 32-bit one.
    pub(crate) fn total_sectors(&self) -> u32 {
        if self.total_sectors_16 != 0 {
            u32::from(self.total_sectors_16)
        } else {
            self.total_sectors_32
        }
    }
}

/// Byte offsets inside the FSInfo sector.
pub(crate) mod fsinfo_offset {
    pub(crate) const LEAD_SIGNATURE: usize = 0;
    pub(crate) const STRUCT_SIGNATURE: usize = 484;
    pub(crate) const FREE_COUNT: usize = 488;
    pub(crate) const NEXT_FREE: usize = 492;
    pub(crate) const TRAIL_SIGNATURE: usize = 508;
}

pub(crate) const FSINFO_LEAD_SIGNATURE: u32 = 0x4161_5252;
pub(crate) const FSINFO_STRUCT_SIGNATURE: u32 = 0x6141_7272;
pub(crate) const FSINFO_TRAIL_SIGNATURE: u32 = 0xAA55_0000;
/// Free count or next-free hint not known.
pub(crate) const FSINFO_UNKNOWN: u32 = 0xFFFF_FFFF;

/// The FSInfo sector: the free-cluster count and where to look for free clusters first.
/// Both are hints; FSINFO_UNKNOWN stands for "not known".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FsInfo {
    pub free_clusters: u32,
    pub next_free: u32,
}

impl FsInfo {
    pub(crate) fn encode(&self, sector_bytes: usize) -> Vec<u8> {
        use fsinfo_offset::*;
        let mut s = vec![0u8; sector_bytes.max(MIN_SECTOR_BYTES)];
        put32(&mut s, LEAD_SIGNATURE, FSINFO_LEAD_SIGNATURE);
        put32(&mut s, STRUCT_SIGNATURE, FSINFO_STRUCT_SIGNATURE);
        put32(&mut s, FREE_COUNT, self.free_clusters);
        put32(&mut s, NEXT_FREE, self.next_free);
        put32(&mut s, TRAIL_SIGNATURE, FSINFO_TRAIL_SIGNATURE);
        s
    }

    /// The hints in `sector`; None unless it is 512 bytes or more with all three signatures.
    pub(crate) fn parse(sector: &[u8]) -> Option<FsInfo> {
        use fsinfo_offset::*;
        let signed = sector.len() >= MIN_SECTOR_BYTES
            && le32(sector, LEAD_SIGNATURE) == FSINFO_LEAD_SIGNATURE
            && le32(sector, STRUCT_SIGNATURE) == FSINFO_STRUCT_SIGNATURE
            && le32(sector, TRAIL_SIGNATURE) == FSINFO_TRAIL_SIGNATURE;
        signed.then(|| FsInfo {
            free_clusters: le32(sector, FREE_COUNT),
            next_free: le32(sector, NEXT_FREE),
        })
    }
}

#[cfg(test)]
#[path = "boot_tests.rs"]
mod tests;
