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
    pub fn protective(total_sectors: u64) -> MbrPartition {
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
    pub fn decode(bytes: &[u8]) -> Option<MbrPartition> {
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
pub fn protective_size(total_sectors: u64) -> u32 {
    u32::try_from(total_sectors.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// The MBR's records and whether it carries the 0x55AA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mbr {
    pub partitions: [MbrPartition; 4],
    pub has_signature: bool,
}

impl Mbr {
    /// LBA 0 as written to disk: the records and the signature, zero elsewhere (no boot code).
    pub fn encode(&self, sector_size: usize) -> Vec<u8> {
        let mut sector = vec![0u8; sector_size.max(at::SIZE)];
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
    pub fn decode(sector: &[u8]) -> Option<Mbr> {
        let sector = sector.get(..at::SIZE)?;
        let mut partitions = [MbrPartition::default(); 4];
        for (i, partition) in partitions.iter_mut().enumerate() {
            *partition = MbrPartition::decode(&sector[at::PARTITIONS + i * at::PARTITION_SIZE..])?;
        }
        let has_signature = sector[at::SIGNATURE..at::SIGNATURE + 2] == at::SIGNATURE_BYTES;
        Some(Mbr {
            partitions,
            has_signature,
        })
    }

    /// The MBR of a GPT disk of `total_sectors`: the protective record first, the others empty.
    pub fn protective(total_sectors: u64) -> Mbr {
        let mut partitions = [MbrPartition::default(); 4];
        partitions[0] = MbrPartition::protective(total_sectors);
        Mbr {
            partitions,
            has_signature: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protective_record_pinned() {
        let sector = Mbr::protective(4096).encode(512);
        assert_eq!(
            &sector[446..462],
            &[0x00, 0x00, 0x02, 0x00, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xFF, 0x0F, 0, 0]
        );
        assert_eq!(&sector[510..], &[0x55, 0xAA]);
        assert!(sector[..446].iter().all(|&b| b == 0));
        assert!(sector[462..510].iter().all(|&b| b == 0));
    }

    #[test]
    fn protective_size_caps_at_32_bits() {
        assert_eq!(protective_size(0x1_0000_0000), 0xFFFF_FFFF);
        assert_eq!(protective_size(0x1_0000_0001), 0xFFFF_FFFF);
        assert_eq!(protective_size(u64::MAX), 0xFFFF_FFFF);
        assert_eq!(protective_size(0xFFFF_FFFF), 0xFFFF_FFFE);
        assert_eq!(protective_size(1), 0);
        assert_eq!(protective_size(0), 0);
    }

    #[test]
    fn a_4096_byte_lba0_has_the_mbr_in_its_first_512_bytes() {
        let sector = Mbr::protective(100).encode(4096);
        assert_eq!(sector.len(), 4096);
        assert_eq!(&sector[510..512], &[0x55, 0xAA]);
        assert!(sector[512..].iter().all(|&b| b == 0));
    }

    #[test]
    fn decodes_what_it_encodes() {
        let mut mbr = Mbr::protective(1 << 20);
        mbr.partitions[2] = MbrPartition {
            boot_indicator: 0x80,
            start_chs: [1, 2, 3],
            os_type: 0x83,
            end_chs: [4, 5, 6],
            starting_lba: 0xDEAD_BEEF,
            size_in_lba: 7,
        };
        assert_eq!(Mbr::decode(&mbr.encode(512)), Some(mbr));
        assert_eq!(Mbr::decode(&[0u8; 511]), None);
        let unsigned = Mbr {
            has_signature: false,
            ..mbr
        };
        assert_eq!(Mbr::decode(&unsigned.encode(512)), Some(unsigned));
    }

    #[test]
    fn used_records_have_a_type_and_a_size() {
        let record = MbrPartition {
            os_type: 0x83,
            size_in_lba: 1,
            ..Default::default()
        };
        assert!(record.is_used());
        assert!(!MbrPartition {
            os_type: 0,
            ..record
        }
        .is_used());
        assert!(!MbrPartition {
            size_in_lba: 0,
            ..record
        }
        .is_used());
    }
}
