//! Reads arbitrary bytes as a disk, with the sector size detected and given: any panic, hang or
//! runaway allocation is a bug (a plain MBR's EBR chain included). Then reads the same bytes as a
//! recipe for a GPT layout and for an MBR layout (primary and logical partitions): whatever the
//! encoders accept must read back with no findings and the same partitions.
//! `crates/gpt/tests/fuzz_corpus.rs` replays fuzz/corpus/gpt_read/ through the same reader.
#![no_main]

use imgforge_gpt::{
    encode_image, encode_mbr, read_bytes, Guid, Layout, LayoutPartition, MbrLayout,
    MbrLayoutPartition, PartitionType,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = read_bytes(data, None).expect("a slice has no I/O errors");
    assert!(detected.sector_size == 512 || detected.sector_size == 4096);
    let given = if data.first().is_some_and(|b| b & 1 == 1) {
        4096
    } else {
        512
    };
    let report = read_bytes(data, Some(given)).expect("a valid sector size");
    assert_eq!(report.sector_size, given);
    for finding in detected.findings.iter().chain(&report.findings) {
        assert!(!finding.message.is_empty());
    }
    round_trip(data);
    mbr_round_trip(data);
});

/// Takes bytes from the input, zeros once it runs out.
struct Recipe<'a>(&'a [u8]);

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    fn guid(&mut self) -> Guid {
        Guid::from_bytes(self.bytes())
    }
}

/// A small layout: up to 8 partitions of 1 or 2 sectors, entry numbers, names (any UTF-16,
/// NULs and lone surrogates included), GUIDs and attributes from the input; and, when the input
/// says so, one field knocked out of line to exercise the refusals.
fn layout_from(recipe: &mut Recipe) -> Layout {
    let flags = recipe.byte();
    let sector_size = if flags & 1 == 0 { 512 } else { 4096 };
    let array_sectors = 16384 / u64::from(sector_size);
    let first_usable = 2 + array_sectors;
    let mut next = first_usable + u64::from(recipe.byte() % 4);
    let partitions: Vec<LayoutPartition> = (0..recipe.byte() % 9)
        .map(|_| {
            let first_lba = next;
            let last_lba = first_lba + u64::from(recipe.byte() % 2);
            next = last_lba + 1 + u64::from(recipe.byte() % 2);
            let index = u32::from(recipe.byte() % 130);
            let name_units = recipe.byte() % 40;
            let name = (0..name_units)
                .map(|_| u16::from_le_bytes(recipe.bytes()))
                .collect();
            LayoutPartition {
                index,
                name,
                type_guid: recipe.guid(),
                guid: recipe.guid(),
                attributes: u64::from_le_bytes(recipe.bytes()),
                first_lba,
                last_lba,
            }
        })
        .collect();
    let last_usable = next + u64::from(recipe.byte() % 4);
    let total_sectors = last_usable + 2 + array_sectors;
    let mut layout = Layout {
        sector_size,
        disk_size: total_sectors * u64::from(sector_size),
        total_sectors,
        disk_guid: recipe.guid(),
        first_usable_lba: first_usable,
        last_usable_lba: last_usable,
        partitions,
    };
    let nudge = u64::from(recipe.byte());
    match flags >> 1 & 7 {
        1 => layout.first_usable_lba = layout.first_usable_lba.wrapping_sub(nudge % 4),
        2 => layout.last_usable_lba += nudge % 4,
        3 => layout.disk_size += nudge,
        4 => layout.sector_size = nudge as u32 * 512,
        _ => {}
    }
    layout
}

fn round_trip(data: &[u8]) {
    let layout = layout_from(&mut Recipe(data));
    let Ok(disk) = encode_image(&layout) else {
        return;
    };
    let report = read_bytes(&disk, None).expect("a slice has no I/O errors");
    assert_eq!(report.findings, [], "{layout:?}");
    assert_eq!(report.sector_size, layout.sector_size);
    let gpt = report.gpt.expect("a GPT");
    assert_eq!(
        (gpt.disk_guid, gpt.first_usable_lba, gpt.last_usable_lba),
        (
            layout.disk_guid,
            layout.first_usable_lba,
            layout.last_usable_lba
        )
    );
    let mut expected = layout.partitions.clone();
    expected.sort_by_key(|p| p.index);
    assert_eq!(report.partitions.len(), expected.len());
    for (read, planned) in report.partitions.iter().zip(&expected) {
        assert_eq!(read.index, planned.index);
        assert_eq!(read.partition_type, PartitionType::Gpt(planned.type_guid));
        assert_eq!(read.guid, Some(planned.guid));
        assert_eq!(read.name, String::from_utf16_lossy(&planned.name));
        assert_eq!(
            (read.first_lba, read.last_lba, read.attributes),
            (planned.first_lba, planned.last_lba, planned.attributes)
        );
    }
}

/// An MBR layout: up to 8 partitions of 1 or 2 sectors; with more than 4, the fourth on are
/// logical, each after its EBR; types, active flags and a little boot code from the input.
fn mbr_layout_from(recipe: &mut Recipe) -> MbrLayout {
    let flags = recipe.byte();
    let sector_size = if flags & 1 == 0 { 512 } else { 4096 };
    let count = u32::from(recipe.byte() % 9);
    let mut next = 1 + u64::from(recipe.byte() % 4);
    let partitions = (0..count)
        .map(|i| {
            let logical = count > 4 && i >= 3;
            let ebr_lba = logical.then(|| {
                let ebr = next;
                next += 1 + u64::from(recipe.byte() % 2);
                ebr
            });
            let first_lba = next;
            let last_lba = first_lba + u64::from(recipe.byte() % 2);
            next = last_lba + 1 + u64::from(recipe.byte() % 2);
            MbrLayoutPartition {
                index: if logical { 5 + i - 3 } else { i + 1 },
                name: format!("p{i}"),
                os_type: recipe.byte(),
                bootable: recipe.byte() & 1 == 1,
                first_lba,
                last_lba,
                ebr_lba,
            }
        })
        .collect();
    let total_sectors = next + u64::from(recipe.byte() % 4);
    let boot_code = (0..recipe.byte() % 8).map(|_| recipe.byte()).collect();
    MbrLayout {
        sector_size,
        disk_size: total_sectors * u64::from(sector_size),
        total_sectors,
        disk_id: u32::from_le_bytes(recipe.bytes()),
        boot_code,
        extended_slot: (count > 4).then_some(4),
        partitions,
    }
}

fn mbr_round_trip(data: &[u8]) {
    let layout = mbr_layout_from(&mut Recipe(data));
    let Ok(regions) = encode_mbr(&layout) else {
        return;
    };
    let mut disk = vec![0u8; layout.disk_size as usize];
    for region in regions {
        let at = region.offset as usize;
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    let report = read_bytes(&disk, Some(layout.sector_size)).expect("a slice has no I/O errors");
    assert_eq!(report.findings, [], "{layout:?}");
    assert_eq!(report.mbr.disk_id, layout.disk_id);
    let mut expected = layout.partitions.clone();
    expected.sort_by_key(|p| p.index);
    let read: Vec<_> = report
        .partitions
        .iter()
        .map(|p| {
            (
                p.index,
                p.partition_type,
                p.first_lba,
                p.last_lba,
                p.bootable,
                p.logical,
            )
        })
        .collect();
    let planned: Vec<_> = expected
        .iter()
        .map(|p| {
            let kind = PartitionType::Mbr(p.os_type);
            (
                p.index,
                kind,
                p.first_lba,
                p.last_lba,
                p.bootable,
                p.ebr_lba.is_some(),
            )
        })
        .collect();
    assert_eq!(read, planned, "{layout:?}");
}
