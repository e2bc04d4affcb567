//! Replays fuzz/corpus/gpt_read/ through `read_bytes`, the function the fuzzer calls: no input
//! may panic; `valid-*` files must read with no findings, `finding-<CODE>-*` files must report
//! CODE. Other names only have to be read: `fuzzed-*` are inputs the fuzzer found that reach
//! code the hand-made ones do not (merged with `-use_counters=0 -max_len=4096`).
//!
//! `cargo test -p imgforge-gpt --test fuzz_corpus -- --ignored` rewrites the hand-made inputs.

mod common;

use std::fs;
use std::path::PathBuf;

use common::disks::{codes, compact_disk, layout, mbr_disk, mbr_record, Disk};
use imgforge_gpt::{encode_mbr, read_bytes, MbrLayout, MbrLayoutPartition, MbrPartition};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/gpt_read")
}

#[test]
fn every_corpus_input_reads_without_panicking() {
    let entries = imgforge_testkit::sorted_files(&corpus());
    let (mut valid, mut damaged) = (0, 0);
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(path).unwrap();
        for sector_size in [None, Some(512), Some(4096)] {
            read_bytes(&bytes, sector_size).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let report = read_bytes(&bytes, None).unwrap();
        let codes = codes(&report);
        if name.starts_with("valid-") {
            assert_eq!(codes, Vec::<&str>::new(), "{name}: {:#?}", report.findings);
            valid += 1;
        } else if let Some(rest) = name.strip_prefix("finding-") {
            let code = rest.split('-').next().unwrap();
            assert!(
                codes.contains(&code),
                "{name}: expected {code}, got {codes:?}"
            );
            damaged += 1;
        }
    }
    assert!(
        valid >= 6 && damaged >= 8,
        "{valid} valid and {damaged} damaged inputs: the corpus is incomplete"
    );
    let total: u64 = entries.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    assert!(
        total < 1_200_000,
        "the corpus grew to {total} bytes; keep it near 1 MB"
    );
}

/// The hand-made inputs: (file name, disk).
fn hand_made() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    for sector_size in [512, 4096] {
        for count in [1, 3, 128] {
            let disk = Disk::new(&layout(sector_size, count, 1, 0));
            inputs.push((
                format!("valid-{count}-partitions-{sector_size}"),
                disk.bytes,
            ));
        }
    }
    // Damage on compact tables (4 entries), so that each input is a few KiB.
    let small = || compact_disk(2);
    let mut damaged = vec![("compact", small())];
    let mut disk = small();
    disk.bytes[512 + 60] ^= 0x01;
    damaged.push(("GPT_HEADER_CRC-primary", disk));
    let mut disk = small();
    disk.bytes[1024 + 150] ^= 0x80;
    damaged.push(("GPT_ENTRIES_CRC-primary", disk));
    let mut disk = small();
    let last = disk.last_lba();
    disk.bytes.truncate(disk.offset(last));
    damaged.push(("GPT_DISK_TRUNCATED-no-backup", disk));
    let mut disk = small();
    disk.bytes.extend_from_slice(&[0; 4 * 512]);
    damaged.push(("GPT_DISK_GROWN", disk));
    let mut disk = small();
    disk.patch_header(1, |h| h.entry_count = 1 << 30);
    damaged.push(("GPT_ENTRY_ARRAY_TOO_LARGE", disk));
    let mut disk = small();
    disk.patch_entries(|e| e[1].first_lba = e[0].last_lba);
    damaged.push(("PARTITIONS_OVERLAP", disk));
    let mut disk = small();
    let first = disk.header(1).first_usable_lba as u32;
    disk.set_mbr_record(1, mbr_record(0x0C, first, 1, true));
    damaged.push(("hybrid-mbr", disk));
    let mut disk = small();
    disk.set_mbr_record(2, mbr_record(0x83, 4, 2, false));
    damaged.push(("MBR_HYBRID_MISMATCH", disk));
    for (name, disk) in damaged {
        let prefix = if name.starts_with(|c: char| c.is_ascii_uppercase()) {
            "finding-"
        } else {
            "valid-"
        };
        inputs.push((format!("{prefix}{name}"), disk.bytes));
    }
    let plain = [
        mbr_record(0x0C, 2, 3, true),
        MbrPartition::default(),
        mbr_record(0x83, 5, 3, false),
    ];
    inputs.push(("valid-plain-mbr".into(), mbr_disk(8, &plain)));
    inputs.push((
        "finding-PARTITION_OUTSIDE_DISK-plain-mbr".into(),
        mbr_disk(6, &plain),
    ));
    inputs.push((
        "finding-MBR_INVALID-boot-sector".into(),
        mbr_disk(
            1,
            &[
                mbr_record(0x83, 1, 1, false),
                MbrPartition {
                    boot_indicator: 0x4C,
                    ..MbrPartition::default()
                },
            ],
        ),
    ));
    inputs.push(("finding-NO_PARTITION_TABLE-blank".into(), vec![0; 1024]));
    inputs.extend(ebr_chains());
    inputs
}

/// A 24-sector MBR disk with a primary partition and three logical ones (EBRs at 8, 12, 16),
/// as imgforge writes it, and that chain broken in each way the reader reports.
fn ebr_chains() -> Vec<(String, Vec<u8>)> {
    let partition = |index: u32, ebr: Option<u64>, first: u64| MbrLayoutPartition {
        index,
        name: format!("p{index}"),
        os_type: 0x83,
        bootable: index == 1,
        first_lba: first,
        last_lba: first + 1,
        ebr_lba: ebr,
    };
    let layout = MbrLayout {
        sector_size: 512,
        disk_size: 24 * 512,
        total_sectors: 24,
        disk_id: 0x0BAD_F00D,
        boot_code: Vec::new(),
        extended_slot: Some(2),
        partitions: vec![
            partition(1, None, 2),
            partition(5, Some(8), 9),
            partition(6, Some(12), 13),
            partition(7, Some(16), 17),
        ],
    };
    let mut disk = vec![0u8; 24 * 512];
    for region in encode_mbr(&layout).unwrap() {
        let at = region.offset as usize;
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    // The second record of an EBR: the link to the next one (start relative to LBA 8).
    let link = |lba: usize| lba * 512 + 462 + 8;
    let mut looped = disk.clone();
    looped[link(16) - 4] = 0x05;
    looped[link(16)..link(16) + 8].copy_from_slice(&[4, 0, 0, 0, 2, 0, 0, 0]);
    let mut outside = disk.clone();
    outside[link(12)] = 200;
    let mut unsigned = disk.clone();
    unsigned[12 * 512 + 510] = 0;
    let mut escaped = disk.clone();
    escaped[12 * 512 + 446 + 8] = 30; // the logical partition starts past the extended one
    vec![
        ("valid-mbr-logical".into(), disk),
        ("finding-MBR_EBR_LOOP".into(), looped),
        ("finding-MBR_EBR_CHAIN-outside".into(), outside),
        ("finding-MBR_EBR_CHAIN-no-signature".into(), unsigned),
        ("finding-MBR_LOGICAL_OUTSIDE_EXTENDED".into(), escaped),
    ]
}

#[test]
#[ignore = "rewrites the hand-made corpus inputs"]
fn regenerate_hand_made_inputs() {
    fs::create_dir_all(corpus()).unwrap();
    for (name, bytes) in hand_made() {
        fs::write(corpus().join(name), bytes).unwrap();
    }
}

#[test]
fn hand_made_inputs_are_current() {
    for (name, bytes) in hand_made() {
        let stored = fs::read(corpus().join(&name))
            .unwrap_or_else(|_| panic!("{name} is missing: run the ignored regenerate test"));
        assert!(
            stored == bytes,
            "{name} differs from what the generator makes: run the ignored regenerate test"
        );
    }
}
