//! Whatever the encoder accepts reads back with no findings and the same partitions: a few
//! thousand random layouts (a fixed seed, so failures repeat), including awkward names, sparse
//! entry numbers and both sector sizes. The fuzzer's gpt_read target checks the same property
//! on layouts it derives from its input.

mod common;

use common::disks::guid;
use imgforge_gpt::{
    encode_image, entry_array_sectors, read_bytes, Guid, Layout, LayoutPartition, PartitionType,
};

/// xorshift64*: deterministic and dependency-free.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn guid(&mut self) -> Guid {
        let (a, b) = (self.next().to_le_bytes(), self.next().to_le_bytes());
        Guid::from_bytes(std::array::from_fn(|i| if i < 8 { a[i] } else { b[i - 8] }))
    }
}

/// Names of 1 to 36 code units, from ASCII to astral characters, lone surrogates included.
fn random_name(random: &mut Random) -> Vec<u16> {
    let length = 1 + random.below(36) as usize;
    (0..length)
        .map(|_| match random.below(4) {
            0 => 0x20 + random.below(0x5F) as u16,
            1 => 0xD800 + random.below(0x800) as u16,
            2 => 0x0100 + random.below(0xD700) as u16,
            _ => 0xE000 + random.below(0x2000) as u16,
        })
        .collect()
}

fn random_layout(random: &mut Random) -> Layout {
    let sector_size = if random.below(2) == 0 { 512 } else { 4096 };
    let tables = 1 + entry_array_sectors(sector_size);
    let first_usable = 1 + tables;
    let count = [0, 1, 2, 3, 5, 17, 128][random.below(7) as usize];
    let mut numbers: Vec<u32> = (1..=128).collect();
    for i in (1..numbers.len()).rev() {
        numbers.swap(i, random.below(i as u64 + 1) as usize);
    }
    let mut next = first_usable + random.below(3);
    let partitions = (0..count)
        .map(|i| {
            let first_lba = next;
            let last_lba = first_lba + random.below(3);
            next = last_lba + 1 + random.below(2);
            LayoutPartition {
                index: numbers[i],
                name: random_name(random),
                type_guid: random.guid(),
                guid: guid(0xB0 + (i / 256) as u8, i as u8),
                attributes: random.next(),
                first_lba,
                last_lba,
            }
        })
        .collect();
    let last_usable = next + random.below(3);
    let total_sectors = last_usable + 1 + tables;
    Layout {
        sector_size,
        disk_size: total_sectors * u64::from(sector_size),
        total_sectors,
        disk_guid: random.guid(),
        first_usable_lba: first_usable,
        last_usable_lba: last_usable,
        partitions,
    }
}

#[test]
fn random_layouts_read_back_unchanged() {
    let mut random = Random(0x1D6F_0E5A_77C3_9B21);
    for round in 0..1500 {
        let layout = random_layout(&mut random);
        let disk = encode_image(&layout).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let report = read_bytes(&disk, None).unwrap();
        assert_eq!(report.findings, [], "round {round}");
        assert_eq!(report.sector_size, layout.sector_size);
        let gpt = report.gpt.unwrap();
        assert_eq!(gpt.disk_guid, layout.disk_guid);
        let mut expected = layout.partitions.clone();
        expected.sort_by_key(|p| p.index);
        let read: Vec<_> = report
            .partitions
            .iter()
            .map(|p| {
                (
                    p.index,
                    p.partition_type,
                    p.guid,
                    p.name.clone(),
                    p.first_lba,
                    p.last_lba,
                    p.attributes,
                )
            })
            .collect();
        let planned: Vec<_> = expected
            .iter()
            .map(|p| {
                let name = String::from_utf16_lossy(&p.name);
                (
                    p.index,
                    PartitionType::Gpt(p.type_guid),
                    Some(p.guid),
                    name,
                    p.first_lba,
                    p.last_lba,
                    p.attributes,
                )
            })
            .collect();
        assert_eq!(read, planned, "round {round}");
    }
}
