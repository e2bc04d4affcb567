//! The MBR in the first 512 bytes of LBA 0: four partition records and the 0x55AA signature.
//! GPT disks carry a protective MBR there: one record of type 0xEE covering the disk.

use crate::format::mbr as at;
use crate::format::{read_u32, write_bytes, write_u32};

/// One 16-byte partition record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MbrPartition {
    /// 0x80: bootable; 0x00: not; anything else: not an MBR.
    pub boot_indicator: u8,
    pub start_chs: [u8; 3],
    pub os_type: u8,
    pub end_chs: [u8; 3],
    pub starting_lba: u32,
    pub size_in_lba: u32,
}

impl MbrPartition {
    /// A record describes a partition when it has a type and a size.
    pub fn is_used(&self) -> bool {
        self.os_type != 0 && self.size_in_lba != 0
    }

    /// The record that protects a GPT disk of `total_sectors`: from LBA 1 to the end, or as far
    /// as 32 bits can say.
    pub(crate) fn protective(total_sectors: u64) -> MbrPartition {
        MbrPartition {
            boot_indicator: at::NOT_BOOTABLE,
            start_chs: [0x00, 0x02, 0x00], // CHS of LBA 1
            os_type: at::GPT_PROTECTIVE_TYPE,
            end_chs: [0xFF, 0xFF, 0xFF], // CHS "beyond 8 GiB"
            starting_lba: 1,
            size_in_lba: protective_size(total_sectors),
        }
    }

    pub fn encode(&self) -> [u8; at::PARTITION_SIZE] {
        let mut bytes = [0u8; at::PARTITION_SIZE];
        bytes[at::BOOT_INDICATOR] = self.boot_indicator;
        write_bytes(&mut bytes, at::START_CHS, &self.start_chs);
        bytes[at::OS_TYPE] = self.os_type;
        write_bytes(&mut bytes, at::END_CHS, &self.end_chs);
        write_u32(&mut bytes, at::STARTING_LBA, self.starting_lba);
        write_u32(&mut bytes, at::SIZE_IN_LBA, self.size_in_lba);
        bytes
    }

    /// The record at the start of `bytes`; None when fewer than 16 bytes are there.
    pub(crate) fn decode(bytes: &[u8]) -> Option<MbrPartition> {
        let record = bytes.get(..at::PARTITION_SIZE)?;
        let chs = |from: usize| [record[from], record[from + 1], record[from + 2]];
        Some(MbrPartition {
            boot_indicator: record[at::BOOT_INDICATOR],
            start_chs: chs(at::START_CHS),
            os_type: record[at::OS_TYPE],
            end_chs: chs(at::END_CHS),
            starting_lba: read_u32(record, at::STARTING_LBA)?,
            size_in_lba: read_u32(record, at::SIZE_IN_LBA)?,
        })
    }
}

/// The sector count a protective record gives a disk of `total_sectors`: all but LBA 0, capped
/// at 0xFFFFFFFF for disks beyond 2 TiB (with 512-byte sectors).
pub(crate) fn protective_size(total_sectors: u64) -> u32 {
    u32::try_from(total_sectors.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The MBR's records, its disk signature and whether it carries the 0x55AA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mbr {
    pub partitions: [MbrPartition; 4],
    /// The 32-bit disk signature at byte 440 (0 in a protective MBR, as gdisk writes it).
    pub disk_id: u32,
    pub has_signature: bool,
}

impl Mbr {
    /// LBA 0 as written to disk: the records and the signature, zero elsewhere (no boot code).
    pub fn encode(&self, sector_size: usize) -> Vec<u8> {
        let mut sector = vec![0u8; sector_size.max(at::SIZE)];
        write_u32(&mut sector, at::DISK_ID, self.disk_id);
        for (i, partition) in self.partitions.iter().enumerate() {
            write_bytes(
                &mut sector,
                at::PARTITIONS + i * at::PARTITION_SIZE,
                &partition.encode(),
            );
        }
        if self.has_signature {
            write_bytes(&mut sector, at::SIGNATURE, &at::SIGNATURE_BYTES);
        }
        sector
    }

    /// The MBR in the first 512 bytes of `sector`; None when fewer are there.
    pub(crate) fn decode(sector: &[u8]) -> Option<Mbr> {
        let sector = sector.get(..at::SIZE)?;
        let mut partitions = [MbrPartition::default(); 4];
        for (i, partition) in partitions.iter_mut().enumerate() {
            *partition = MbrPartition::decode(&sector[at::PARTITIONS + i * at::PARTITION_SIZE..])?;
        }
        let has_signature = sector[at::SIGNATURE..at::SIGNATURE + 2] == at::SIGNATURE_BYTES;
        Some(Mbr {
            partitions,
            disk_id: read_u32(sector, at::DISK_ID)?,
            has_signature,
        })
    }

    /// The MBR of a GPT disk of `total_sectors`: the protective record first, the others empty.
    pub fn protective(total_sectors: u64) -> Mbr {
        let mut partitions = [MbrPartition::default(); 4];
        partitions[0] = MbrPartition::protective(total_sectors);
        Mbr {
            partitions,
            disk_id: 0,
            has_signature: true,
        }
    }
}

/// The CHS address of `lba` in the geometry every modern tool assumes (255 heads, 63 sectors
/// per track), or the "beyond 8 GiB" value 1023/254/63 where cylinders run out. Firmware that
/// boots by CHS needs it; everything else reads the LBA fields.
pub(crate) fn chs(lba: u64) -> [u8; 3] {
    const HEADS: u64 = 255;
    const SECTORS: u64 = 63;
    let cylinder = lba / (HEADS * SECTORS);
    if cylinder > 1023 {
        return [0xFE, 0xFF, 0xFF];
    }
    let head = (lba / SECTORS) % HEADS;
    let sector = lba % SECTORS + 1;
    [
        head as u8,
        (sector as u8) | (((cylinder >> 8) as u8) << 6),
        cylinder as u8,
    ]
}

#[cfg(test)]
#[path = "mbr_tests.rs"]
mod tests;
