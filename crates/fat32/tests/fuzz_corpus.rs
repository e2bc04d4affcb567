//! The fuzz corpus (fuzz/corpus/fat32_read/) replayed through `read_slice`, the function the
//! fuzz target calls: no input may panic or take long. Seeds (`seed-*`) must read as FAT32;
//! corrupted seeds (`corrupt-<code>`) must report their finding. Files with other names are
//! inputs libFuzzer found interesting (or crashers since fixed) and only have to be survived.
//!
//! The seeds are made by `regenerate_seed_corpus` (ignored; needs mkfs.fat and mtools):
//! `cargo test -p imgforge-fat32 --test fuzz_corpus -- --ignored`.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::surgery::{shrink, BootSector};
use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{read_slice, volume_label, EntryKind, FormatOptions, Volume};
use imgforge_testkit::{file_name_of, fuzz_corpus_dir, sorted_files};

const SLOW: Duration = Duration::from_secs(5);

#[test]
fn the_corpus_replays_without_panics() {
    let files = sorted_files(&fuzz_corpus_dir("fat32_read"));
    let seeds = files
        .iter()
        .filter(|p| file_name_of(p).starts_with("seed-"))
        .count();
    assert!(
        seeds >= 3,
        "{seeds} seeds in {}",
        fuzz_corpus_dir("fat32_read").display()
    );
    let mut total = 0u64;
    for path in &files {
        let bytes = fs::read(path).unwrap();
        total += bytes.len() as u64;
        let name = file_name_of(path);
        let started = Instant::now();
        let report = read_slice(&bytes);
        assert!(started.elapsed() < SLOW, "{name}: {:?}", started.elapsed());
        if name.starts_with("seed-") || name.starts_with("corrupt-") {
            let report = report.unwrap_or_else(|| panic!("{name} is not read as FAT32"));
            assert!(
                report.entries > 0 || !name.contains("-tree"),
                "{name}: no entries"
            );
        }
        if let Some(code) = name
            .strip_prefix("corrupt-")
            .and_then(|n| n.strip_suffix(".img"))
        {
            let code = code.to_uppercase();
            let findings = read_slice(&bytes).unwrap().findings;
            assert!(
                findings.iter().any(|f| f.code.as_str() == code),
                "{name}: no {code} in {findings:#?}"
            );
        }
    }
    eprintln!("{} inputs, {total} bytes", files.len());
}

/// The tree every seed holds: long and short names, a non-ASCII name, nesting, an empty
/// file, and chains of several clusters.
fn seed_tree(root: &Path) {
    fs::create_dir_all(root.join("Sub/Deeper")).unwrap();
    fs::write(root.join("hello.txt"), b"hello\n").unwrap();
    fs::write(
        root.join("A long name with spaces.txt"),
        random_bytes(1, 1500),
    )
    .unwrap();
    fs::write(root.join("README"), random_bytes(2, 100)).unwrap();
    fs::write(root.join("Sub/EMPTY"), b"").unwrap();
    fs::write(root.join("Sub/Deeper/Ünïcödé.bin"), random_bytes(3, 3000)).unwrap();
    fs::write(root.join("Sub/Deeper/x"), random_bytes(4, 700)).unwrap();
}

/// mkfs.fat's smallest proper FAT32 with `sector`-byte sectors and `cluster_sectors`-sector
/// clusters, filled by mcopy, cut to `keep` clusters.
fn mtools_seed(dir: &Path, label: &str, geometry: (u32, u32), fill: bool, keep: u32) -> Vec<u8> {
    let (sector, cluster_sectors) = geometry;
    let image = dir.join(format!("{label}.img"));
    let _ = fs::remove_file(&image);
    // 65,525 clusters and a little more for the FATs and the reserved area, in KiB.
    let kib = (66_600 * u64::from(sector * cluster_sectors)).div_ceil(1024);
    let output = run(tool("mkfs.fat")
        .args(["-F", "32", "-R", "8", "-i", "5EED0001", "-n", label, "-C"])
        .args([
            "-S",
            &sector.to_string(),
            "-s",
            &cluster_sectors.to_string(),
        ])
        .arg(&image)
        .arg(kib.to_string()));
    assert!(output.status.success(), "{}", output_text(&output));
    if fill {
        let src = dir.join(format!("{label}-src"));
        seed_tree(&src);
        let mut copy = tool("mcopy");
        copy.args(["-s", "-m", "-i"]).arg(&image);
        for entry in fs::read_dir(&src).unwrap() {
            copy.arg(entry.unwrap().path());
        }
        let output = run(copy.arg("::/"));
        assert!(output.status.success(), "{}", output_text(&output));
    }
    shrink(&fs::read(&image).unwrap(), keep)
}

/// imgforge's own writer, 512-byte clusters, cut to `keep` clusters.
fn imgforge_seed(dir: &Path, keep: u32) -> Vec<u8> {
    let src = dir.join("imgforge-src");
    seed_tree(&src);
    let tree = scan_root(&src);
    let options = FormatOptions {
        bytes_per_sector: 512,
        cluster_size: Some(512),
        label: Some(volume_label("IMGFORGE").unwrap()),
        volume_id: 0x5EED_0002,
        timestamp: Some(1_700_000_000),
        min_free: 0,
    };
    let size = tree.minimum_size(&options).unwrap();
    let layout = tree.plan(&options, 0, size).unwrap();
    let image = dir.join("imgforge.img");
    sized_image(&image, size, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::ReadWrite);
    let mut bytes = fs::read(&image).unwrap();
    // shrink() copies the reserved area as it is; the writer's is 32 sectors and more.
    bytes = shrink(&bytes, keep);
    bytes
}

/// Where things are in a tiny seed, found with the reader.
struct Seed {
    bytes: Vec<u8>,
    boot: BootSector,
}

impl Seed {
    fn new(bytes: Vec<u8>) -> Self {
        let boot = BootSector::parse(&bytes[..512]).unwrap();
        Seed { bytes, boot }
    }

    fn first_cluster(&self, path: &str) -> u32 {
        let volume = Volume::open(
            std::io::Cursor::new(&self.bytes),
            0,
            self.bytes.len() as u64,
        )
        .unwrap()
        .unwrap();
        let index = volume
            .tree_order()
            .into_iter()
            .find(|&i| volume.path(i) == path);
        let entry = &volume.entries()[index.unwrap_or_else(|| panic!("{path}"))];
        assert!(entry.kind == EntryKind::File || path.starts_with("/Sub"));
        entry.first_cluster
    }

    fn fat_at(&self, copy: u32, cluster: u32) -> usize {
        self.boot.fat_entry_offset(copy, cluster) as usize
    }

    fn fat(&self, cluster: u32) -> u32 {
        let at = self.fat_at(0, cluster);
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap())
    }

    fn set_fat_copy(&mut self, copy: u32, cluster: u32, value: u32) {
        let at = self.fat_at(copy, cluster);
        self.bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn set_fat(&mut self, cluster: u32, value: u32) {
        self.set_fat_copy(0, cluster, value);
        self.set_fat_copy(1, cluster, value);
    }

    fn chain(&self, first: u32) -> Vec<u32> {
        let mut chain = vec![first];
        while self.fat(*chain.last().unwrap()) < 0x0FFF_FFF8 {
            chain.push(self.fat(*chain.last().unwrap()));
        }
        chain
    }

    fn cluster_at(&self, cluster: u32) -> usize {
        self.boot.cluster_offset(cluster) as usize
    }

    /// Offset of the short entry in directory cluster `dir` whose first cluster is `cluster`.
    fn entry_pointing_to(&self, dir: u32, cluster: u32) -> usize {
        let at = self.cluster_at(dir);
        (0..16)
            .map(|i| at + i * 32)
            .find(|&e| {
                let b = &self.bytes[e..e + 32];
                b[11] != 0x0F
                    && u32::from(u16::from_le_bytes([b[26], b[27]])) == cluster
                    && b[0] != b'.'
            })
            .unwrap()
    }
}

fn corruptions(seed: &Seed) -> Vec<(&'static str, Vec<u8>)> {
    let hello = seed.first_cluster("/hello.txt");
    let long = seed.first_cluster("/A long name with spaces.txt");
    let unicode = seed.chain(seed.first_cluster("/Sub/Deeper/Ünïcödé.bin"));
    let (sub, deeper) = (
        seed.first_cluster("/Sub"),
        seed.first_cluster("/Sub/Deeper"),
    );
    let root = seed.cluster_at(2);
    let lfn = (0..16)
        .map(|i| root + i * 32)
        .find(|&e| seed.bytes[e + 11] == 0x0F)
        .unwrap();
    let mut out = Vec::new();
    let mut with = |name: &'static str, change: &dyn Fn(&mut Seed)| {
        let mut copy = Seed::new(seed.bytes.clone());
        change(&mut copy);
        out.push((name, copy.bytes));
    };
    with("fats_differ", &|s| {
        s.set_fat_copy(1, unicode[1], 0x0FFF_FFFF)
    });
    with("chain_loop", &|s| {
        s.set_fat(*unicode.last().unwrap(), unicode[0])
    });
    with("cross_linked", &|s| {
        s.set_fat(*s.chain(long).last().unwrap(), unicode[2])
    });
    with("chain_length_mismatch", &|s| {
        s.set_fat(unicode[2], 0x0FFF_FFFF)
    });
    with("chain_out_of_range", &|s| s.set_fat(hello, 0x0FFF_FFF0));
    with("chain_free_cluster", &|s| s.set_fat(unicode[0], 40));
    with("lost_clusters", &|s| s.set_fat(45, 0x0FFF_FFFF));
    with("fsinfo_free_count_wrong", &|s| {
        s.bytes[512 + 488..512 + 492].copy_from_slice(&3u32.to_le_bytes())
    });
    with("lfn_checksum_mismatch", &|s| s.bytes[lfn + 13] ^= 0x55);
    with("invalid_name", &|s| {
        s.bytes[lfn + 1..lfn + 3].copy_from_slice(&u16::from(b'/').to_le_bytes())
    });
    with("directory_loop", &|s| {
        let at = s.entry_pointing_to(sub, deeper);
        s.bytes[at + 26..at + 28].copy_from_slice(&(sub as u16).to_le_bytes());
    });
    with("dot_entry_invalid", &|s| {
        let at = s.cluster_at(deeper) + 32; // ".." of /Sub/Deeper
        s.bytes[at + 26..at + 28].copy_from_slice(&7u16.to_le_bytes());
    });
    with("boot_sector_invalid", &|s| {
        s.bytes[21] = 0x12;
        s.bytes[6 * 512 + 21] = 0x12;
    });
    with("backup_boot_sector_differs", &|s| {
        s.bytes[6 * 512 + 3] ^= 0x20
    });
    with("partition_truncated", &|s| {
        let keep = s.cluster_at(unicode[1]);
        s.bytes.truncate(keep);
    });
    out
}

#[test]
#[ignore = "rewrites fuzz/corpus/fat32_read/seed-* and corrupt-*; needs mkfs.fat and mtools"]
fn regenerate_seed_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = fuzz_corpus_dir("fat32_read");
    fs::create_dir_all(&corpus).unwrap();
    let tree = Seed::new(mtools_seed(dir.path(), "SEEDVOL", (512, 1), true, 48));
    let seeds = [
        ("seed-mtools-tree.img", tree.bytes.clone()),
        (
            "seed-mtools-label-only.img",
            mtools_seed(dir.path(), "ONLYLABEL", (512, 1), false, 8),
        ),
        (
            "seed-mtools-4k-sector-tree.img",
            mtools_seed(dir.path(), "BIGSECTOR", (4096, 1), true, 14),
        ),
        (
            "seed-mtools-2k-cluster-tree.img",
            mtools_seed(dir.path(), "QUADSECTOR", (512, 4), true, 16),
        ),
        ("seed-imgforge-tree.img", imgforge_seed(dir.path(), 64)),
        ("seed-boot-sector-only.img", tree.bytes[..512].to_vec()),
    ];
    let corrupted = corruptions(&tree)
        .into_iter()
        .map(|(code, bytes)| (format!("corrupt-{code}.img"), bytes));
    for (name, bytes) in seeds
        .into_iter()
        .map(|(n, b)| (n.to_string(), b))
        .chain(corrupted)
    {
        let report = read_slice(&bytes).unwrap_or_else(|| panic!("{name}: not FAT32"));
        eprintln!(
            "{name}: {} bytes, {} entries, {:?}",
            bytes.len(),
            report.entries,
            report
                .findings
                .iter()
                .map(|f| f.code.as_str())
                .collect::<Vec<_>>()
        );
        fs::write(corpus.join(name), bytes).unwrap();
    }
}
