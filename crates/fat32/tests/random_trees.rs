//! Property tests: many seeded random trees (names of every kind, deep nesting, empty files
//! and directories, sizes around clusters and 4 KiB blocks, a directory of thousands of
//! files), each planned with random options, written into a fresh sparse image and judged by
//! fsck.fat, mtools and the spec-based reader. Rerun one seed with FAT32_SEED=<n>.

#![cfg(target_os = "linux")]

mod common;

use std::time::Instant;

use common::gen::{generate, Shape};
use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{scan, volume_label, FormatOptions, PreparedTree, Source};

const SECTOR_SIZES: [u32; 2] = [512, 4096];
const CLUSTER_SIZES: [Option<u32>; 9] = [
    None,
    Some(512),
    Some(1024),
    Some(2048),
    Some(4096),
    Some(8192),
    Some(16384),
    Some(32768),
    Some(65536),
];
const OFFSETS: [u64; 4] = [0, MIB, MIB + 512, 17 * 512];

/// Random options valid together, and a partition offset: cluster sizes at least a sector,
/// offsets on a sector.
fn random_options(rng: &mut Rng) -> (FormatOptions, u64) {
    let sector = rng.pick(&SECTOR_SIZES);
    let cluster_size = loop {
        let c = rng.pick(&CLUSTER_SIZES);
        // 64 KiB clusters need a 4 GiB partition: rare, to keep the run short.
        if c.is_none_or(|c| c >= sector && (c < 65536 || rng.chance(1, 6))) {
            break c;
        }
    };
    let partition_offset = loop {
        let o = rng.pick(&OFFSETS);
        if o.is_multiple_of(u64::from(sector)) {
            break o;
        }
    };
    let labels = [
        "ESP",
        "EFI SYSTEM",
        "A",
        "NO_NAME-2",
        "BOOT 1",
        "X1234567890",
    ];
    let options = FormatOptions {
        bytes_per_sector: sector,
        cluster_size,
        label: rng
            .chance(2, 3)
            .then(|| volume_label(rng.pick(&labels)).unwrap()),
        volume_id: rng.next_u64() as u32,
        timestamp: rng
            .chance(1, 2)
            .then(|| rng.pick(&[0, 1_700_000_001, 4_000_000_000, 5_000_000_000])),
        min_free: if rng.chance(1, 4) {
            rng.below(20 * MIB)
        } else {
            0
        },
    };
    (options, partition_offset)
}

struct Case {
    deep_chain: Option<usize>,
    big_dir: Option<usize>,
}

fn run_seed(seed: u64, case: &Case) {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let (options, offset) = random_options(&mut rng);
    let sector = u64::from(options.bytes_per_sector);
    let shape = Shape {
        entries: 20 + rng.below(80) as usize,
        max_depth: 1 + rng.below(4) as usize,
        deep_chain: case.deep_chain.or_else(|| rng.chance(1, 5).then_some(30)),
        big_dir: case.big_dir,
        cluster_size: u64::from(options.cluster_size.unwrap_or(rng.pick(&[512, 4096]))),
        max_file: 3 * MIB,
        random_mtimes: options.timestamp.is_none() || rng.chance(1, 2),
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let (files, bytes) = generate(&mut rng, &src, &shape);
    let tree = PreparedTree::from(
        scan(&[Source {
            source: src.clone(),
            target: "/".into(),
        }])
        .unwrap_or_else(|e| panic!("seed {seed}: scan: {e}")),
    );

    let min = tree.minimum_size_at(&options, offset).unwrap();
    let size = match rng.below(4) {
        0 => min,
        1 => min + rng.below(64) * sector,
        // With no cluster size given, a larger partition gets 4 KiB clusters instead of 512.
        2 if options.cluster_size.is_none() => min.max(300 * MIB) + rng.below(1024) * sector,
        _ => min + rng.below(256 * MIB / sector) * sector,
    };
    let layout = tree
        .plan(&options, offset, size)
        .unwrap_or_else(|e| panic!("seed {seed}: plan: {e}"));
    let summary = layout.summary();
    if let Some(cluster_size) = options.cluster_size {
        assert_eq!(summary.cluster_size, cluster_size, "seed {seed}");
    }
    assert!(
        u64::from(summary.free_clusters) * u64::from(summary.cluster_size) >= options.min_free,
        "seed {seed}: {summary:?} leaves less than {} bytes free",
        options.min_free
    );
    let tail = rng.pick(&[0, 512, MIB]);
    let len = offset + size + tail;
    let image = dir.path().join("disk.img");
    sized_image(&image, len, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    check_outside(&image, offset, size, len, &[0]);
    check_readers(&image, size, &layout, &src);
    eprintln!(
        "seed {seed}: {files} files, {bytes} bytes, {} dirs; {options:?}; size {size} (min {min}); \
         clusters {} x {}; {:.2?}",
        summary.directories,
        summary.clusters,
        summary.cluster_size,
        started.elapsed()
    );
}

/// Seeds `range`, or only FAT32_SEED when set.
fn run_seeds(range: std::ops::Range<u64>, case: &Case) {
    let only: Option<u64> = std::env::var("FAT32_SEED").ok().map(|s| s.parse().unwrap());
    for seed in range.filter(|s| only.is_none_or(|o| o == *s)) {
        run_seed(seed, case);
    }
}

const PLAIN: Case = Case {
    deep_chain: None,
    big_dir: None,
};

#[test]
fn random_trees_a() {
    run_seeds(0..11, &PLAIN);
}

#[test]
fn random_trees_b() {
    run_seeds(11..22, &PLAIN);
}

#[test]
fn random_trees_c() {
    run_seeds(22..33, &PLAIN);
}

#[test]
fn random_trees_d() {
    run_seeds(33..44, &PLAIN);
}

#[test]
fn thirty_levels_deep() {
    run_seeds(
        100..102,
        &Case {
            deep_chain: Some(30),
            big_dir: None,
        },
    );
}

#[test]
fn three_thousand_files_in_one_directory() {
    run_seeds(
        200..202,
        &Case {
            deep_chain: None,
            big_dir: Some(3000),
        },
    );
}

/// FAT32_EXTRA_SEEDS=<n> runs n more seeds (from 1000), for hunting; none by default.
#[test]
fn random_trees_extra() {
    let extra: u64 = std::env::var("FAT32_EXTRA_SEEDS").map_or(0, |n| n.parse().unwrap());
    run_seeds(1000..1000 + extra, &PLAIN);
}
