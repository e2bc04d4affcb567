//! One corruption at a time in an image imgforge wrote: each gives the reader's finding, with
//! the path and cluster in its message, and fsck.fat -n agrees that something is wrong.

#![cfg(target_os = "linux")]

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use common::surgery::Surgery;
use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{FindingCode, FormatOptions, Volume};

const OFFSET: u64 = MIB;

struct Base {
    _dir: tempfile::TempDir,
    image: PathBuf,
    size: u64,
    /// First clusters, by path, as the test-only reader finds them.
    clusters: std::collections::BTreeMap<String, u32>,
}

fn base() -> Base {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("Sub Dir")).unwrap();
    fs::write(src.join("hello.txt"), b"hello").unwrap();
    fs::write(src.join("A long name.bin"), random_bytes(1, 1700)).unwrap();
    fs::write(src.join("Sub Dir/inner file.txt"), random_bytes(2, 100)).unwrap();
    fs::write(src.join("Sub Dir/BIG.BIN"), random_bytes(3, 5000)).unwrap();
    let tree = scan_root(&src);
    let options = FormatOptions {
        bytes_per_sector: 512,
        cluster_size: Some(512),
        label: None,
        volume_id: 0xC0FF_EE00,
        timestamp: Some(1_700_000_000),
        min_free: 0,
    };
    let size = tree.minimum_size_at(&options, OFFSET).unwrap();
    let layout = tree.plan(&options, OFFSET, size).unwrap();
    let image = dir.path().join("clean.img");
    sized_image(&image, OFFSET + size, None);
    write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);
    let clusters = fatread::read(&image, OFFSET)
        .entries
        .into_iter()
        .map(|(path, e)| (path, e.first_cluster))
        .collect();
    Base {
        _dir: dir,
        image,
        size,
        clusters,
    }
}

impl Base {
    /// A copy of the clean image, changed by `corrupt`, truncated to `size` partition bytes.
    fn corrupted(&self, name: &str, size: u64, corrupt: impl Fn(&Surgery)) -> PathBuf {
        let image = self.image.with_file_name(format!("{name}.img"));
        fs::copy(&self.image, &image).unwrap();
        corrupt(&Surgery::open(&image, OFFSET));
        File::options()
            .write(true)
            .open(&image)
            .unwrap()
            .set_len(OFFSET + size)
            .unwrap();
        image
    }

    fn first(&self, path: &str) -> u32 {
        self.clusters[path]
    }
}

/// The reader's findings of `code` (the corruption must give one), and that fsck.fat -n
/// complains about the partition.
fn check(image: &Path, size: u64, code: FindingCode) -> Vec<String> {
    let volume = Volume::open(File::open(image).unwrap(), OFFSET, size)
        .unwrap()
        .unwrap();
    let messages: Vec<String> = volume
        .findings()
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.message.clone())
        .collect();
    assert!(
        !messages.is_empty(),
        "no {code} in {:#?}",
        volume.findings()
    );
    let part = image.with_extension("part");
    extract_region(image, OFFSET, size, &part);
    let output = run(tool("fsck.fat").args(["-n", "-V"]).arg(&part));
    let text = output_text(&output);
    // Some problems (a long name's checksum) fsck.fat reports without failing.
    let complaints = text
        .lines()
        .filter(|line| !is_routine_fsck_line(line))
        .count();
    assert!(
        !output.status.success() || complaints > 0,
        "fsck.fat -n found nothing wrong where the reader found {code}:\n{text}"
    );
    messages
}

/// The lines fsck.fat -n -V prints for a sound filesystem.
fn is_routine_fsck_line(line: &str) -> bool {
    line.starts_with("fsck.fat ") && line.ends_with(')')
        || line == "Starting check/repair pass."
        || line == "Starting verification pass."
        || line.contains(" files, ") && line.ends_with(" clusters")
}

#[test]
fn the_clean_image_has_no_findings() {
    let base = base();
    let volume = Volume::open(File::open(&base.image).unwrap(), OFFSET, base.size)
        .unwrap()
        .unwrap();
    assert_eq!(volume.findings(), []);
}

#[test]
fn a_fat_entry_changed_in_one_copy() {
    let base = base();
    let cluster = base.first("/Sub Dir/BIG.BIN") + 2;
    let image = base.corrupted("fat", base.size, |s| {
        s.set_fat_copy(1, cluster, 0x0FFF_FFFF)
    });
    let messages = check(&image, base.size, FindingCode::FatsDiffer);
    assert_eq!(
        messages,
        [format!(
            "FAT 2 differs from FAT 1 in 1 entries; the first is the entry of cluster {cluster}: \
             0x{:08X} in FAT 1, 0x0FFFFFFF in FAT 2",
            cluster + 1
        )]
    );
}

#[test]
fn a_chain_that_loops() {
    let base = base();
    let first = base.first("/Sub Dir/BIG.BIN");
    let last = first + 9; // 5000 bytes: 10 clusters of 512
    let image = base.corrupted("loop", base.size, |s| s.set_fat(last, first + 3));
    assert_eq!(
        check(&image, base.size, FindingCode::ChainLoop),
        [format!(
            "the chain of /Sub Dir/BIG.BIN loops: cluster {last} leads back to cluster {}",
            first + 3
        )]
    );
}

#[test]
fn two_files_cross_linked() {
    let base = base();
    let (long, big) = (
        base.first("/A long name.bin"),
        base.first("/Sub Dir/BIG.BIN"),
    );
    let image = base.corrupted("cross", base.size, |s| {
        let last = *s.chain(long).last().unwrap();
        s.set_fat(last, big + 4);
    });
    // The root's files are claimed first, so BIG.BIN is the one that runs into the other.
    assert_eq!(
        check(&image, base.size, FindingCode::CrossLinked),
        [format!(
            "the chain of /Sub Dir/BIG.BIN leads from cluster {} to {}, which belongs to \
             /A long name.bin: they share clusters",
            big + 3,
            big + 4
        )]
    );
}

#[test]
fn a_wrong_fsinfo_free_count() {
    let base = base();
    let image = base.corrupted("fsinfo", base.size, |s| s.set_fsinfo_free(5));
    let messages = check(&image, base.size, FindingCode::FsinfoFreeCountWrong);
    assert!(messages[0].starts_with("FSInfo says 5 clusters are free; the FAT has "));
}

#[test]
fn a_broken_long_name_checksum() {
    let base = base();
    // Every long-name entry of the first name gets another checksum: they still agree with
    // each other, no longer with their short entry.
    let image = base.corrupted("lfn", base.size, |s| {
        let entries = s.root_entries();
        for (at, entry) in entries.iter().take_while(|(_, e)| e[11] == 0x0F) {
            s.write(at + 13, &[entry[13] ^ 0x5A]);
        }
    });
    let messages = check(&image, base.size, FindingCode::LfnChecksumMismatch);
    assert!(
        messages[0].starts_with("in /, the long name \"A long name.bin\""),
        "{messages:?}"
    );
}

#[test]
fn clusters_allocated_but_unused() {
    let base = base();
    let image = base.corrupted("lost", base.size, |s| {
        s.set_fat(60_000, 60_001);
        s.set_fat(60_001, 0x0FFF_FFFF);
    });
    assert_eq!(
        check(&image, base.size, FindingCode::LostClusters),
        [
            "2 clusters are allocated in the FAT but belong to no file or directory: clusters \
          60000-60001"
        ]
    );
}

#[test]
fn a_truncated_partition() {
    let base = base();
    let size = base.size / 2;
    let image = base.corrupted("short", size, |_| {});
    let messages = check(&image, size, FindingCode::PartitionTruncated);
    assert_eq!(
        messages,
        [format!(
            "the filesystem is {} bytes ({} sectors) but the partition holds only {size}",
            base.size,
            base.size / 512
        )]
    );
}
