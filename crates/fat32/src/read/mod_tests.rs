//! The reader on tiny hand-built volumes: a clean one read back exactly, then one corruption
//! at a time, each giving its finding.

use super::walk::MAX_DIR_ENTRIES;
use super::*;
use crate::ondisk::boot::FSINFO_UNKNOWN;
use crate::ondisk::fat_entry::{BAD_CLUSTER, END_OF_CHAIN};
use crate::test_fixtures::*;
use std::io::Cursor;

type TestVolume = Volume<Cursor<Vec<u8>>>;

fn open(image: &TinyImage) -> TestVolume {
    let len = image.bytes.len() as u64;
    Volume::open(Cursor::new(image.bytes.clone()), 0, len)
        .unwrap()
        .expect("a FAT32 volume")
}

/// Codes found, without TOO_FEW_CLUSTERS, which every tiny volume has.
fn codes(volume: &TestVolume) -> Vec<&'static str> {
    volume
        .findings()
        .iter()
        .map(|f| f.code.as_str())
        .filter(|&c| c != "TOO_FEW_CLUSTERS")
        .collect()
}

fn message(volume: &TestVolume, code: FindingCode) -> String {
    let found = volume.findings().iter().find(|f| f.code == code);
    found
        .unwrap_or_else(|| panic!("no {code}: {:?}", volume.findings()))
        .message
        .clone()
}

fn read_all(volume: &mut TestVolume, path: &str) -> io::Result<Vec<u8>> {
    let index = volume
        .tree_order()
        .into_iter()
        .find(|&i| volume.path(i) == path)
        .unwrap_or_else(|| panic!("{path} not found"));
    let mut out = Vec::new();
    volume.open_file(index)?.read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn a_clean_volume_reads_back_exactly() {
    let mut volume = open(&sample());
    assert_eq!(
        codes(&volume),
        Vec::<&str>::new(),
        "{:?}",
        volume.findings()
    );
    assert_eq!(
        message(&volume, FindingCode::TooFewClusters),
        "40 clusters: FAT32 needs at least 65525, or drivers that go by the cluster count \
         (Windows, some firmware) take it for FAT12 or FAT16"
    );
    let summary = volume.summary().clone();
    assert_eq!(
        summary,
        VolumeSummary {
            label: None,
            volume_id: 0xCAFE_F00D,
            bytes_per_sector: 512,
            cluster_size: 512,
            clusters: 40,
            used_clusters: 5,
            free_clusters: 35,
            bad_clusters: 0,
            fsinfo_free_clusters: Some(35),
            fsinfo_next_free: None,
            directories: 1,
            files: 3,
            file_bytes: 1112,
        }
    );
    let listing: Vec<(String, EntryKind, u32)> = volume
        .listing()
        .into_iter()
        .map(|e| (e.path, e.kind, e.size))
        .collect();
    assert_eq!(
        listing,
        [
            ("/hello.txt".to_string(), EntryKind::File, 600),
            ("/Sub Dir".to_string(), EntryKind::Directory, 0),
            ("/Sub Dir/INNER.BIN".to_string(), EntryKind::File, 512),
            ("/EMPTY".to_string(), EntryKind::File, 0),
        ]
    );
    assert_eq!(volume.listing()[0].modified, Some(TIME));
    let hello = read_all(&mut volume, "/hello.txt").unwrap();
    assert_eq!(hello.len(), 600);
    assert!(hello[..512].iter().all(|&b| b == b'h') && hello[512..].iter().all(|&b| b == b'H'));
    assert_eq!(
        read_all(&mut volume, "/Sub Dir/INNER.BIN").unwrap(),
        vec![b'i'; 512]
    );
    assert_eq!(read_all(&mut volume, "/EMPTY").unwrap(), Vec::<u8>::new());
    assert!(volume.open_file(2).is_err(), "a directory");
    assert_eq!(volume.entries()[2].short_name, "SUBDIR~1");
}

#[test]
fn files_are_read_in_runs_across_small_buffers() {
    let mut image = sample();
    // hello.txt: 3 clusters, not consecutive: 3, 4, 9.
    let mut root = file(Some("hello.txt"), b"HELLO   TXT", 3, 1500);
    root.extend(dir(Some("Sub Dir"), b"SUBDIR~1   ", 5));
    image.put_entries(2, &root);
    image.chain(&[3, 4, 9]);
    image.fill_cluster(9, b'9');
    image.fix_fsinfo();
    let mut volume = open(&image);
    let index = volume.children(0).start;
    let mut reader = volume.open_file(index).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 100];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got.len(), 1500);
    assert_eq!(
        (got[511], got[512], got[1023], got[1024]),
        (b'h', b'H', b'H', b'9')
    );
}

#[test]
fn the_root_label_entry_wins_over_the_boot_sector() {
    let mut image = sample();
    let mut boot = image.boot();
    boot.volume_label = *b"EFI SYSTEM ";
    image.put_boot(&boot);
    assert_eq!(open(&image).summary().label.as_deref(), Some("EFI SYSTEM"));
    let label = crate::encode::short_entry(b"ROOT LABEL ", 0x08, 0, 0, TIME);
    let mut root = vec![label];
    root.extend(file(None, b"EMPTY      ", 0, 0));
    image.put_entries(2, &root);
    assert_eq!(open(&image).summary().label.as_deref(), Some("ROOT LABEL"));
}

#[test]
fn a_differing_fat_copy_is_reported_with_its_cluster() {
    let mut image = sample();
    image.set_fat_copy(1, 30, 31);
    let volume = open(&image);
    assert_eq!(codes(&volume), ["FATS_DIFFER"]);
    assert_eq!(
        message(&volume, FindingCode::FatsDiffer),
        "FAT 2 differs from FAT 1 in 1 entries; the first is the entry of cluster 30: \
         0x00000000 in FAT 1, 0x0000001F in FAT 2"
    );
}

#[test]
fn a_loop_is_reported_and_the_file_still_reads_as_far_as_its_size() {
    let mut image = sample();
    image.set_fat(4, 3);
    let mut volume = open(&image);
    assert_eq!(codes(&volume), ["CHAIN_LOOP"]);
    assert_eq!(
        message(&volume, FindingCode::ChainLoop),
        "the chain of /hello.txt loops: cluster 4 leads back to cluster 3"
    );
    assert_eq!(read_all(&mut volume, "/hello.txt").unwrap().len(), 600);
}

#[test]
fn cross_linked_files_name_each_other() {
    let mut image = sample();
    let mut sub = dots(5, 0);
    sub.extend(file(None, b"INNER   BIN", 4, 512));
    image.put_entries(5, &sub);
    let volume = open(&image);
    assert_eq!(codes(&volume), ["CROSS_LINKED", "LOST_CLUSTERS"]);
    assert_eq!(
        message(&volume, FindingCode::CrossLinked),
        "/Sub Dir/INNER.BIN starts at cluster 4, which belongs to /hello.txt: they share clusters"
    );
    assert!(message(&volume, FindingCode::LostClusters).ends_with("clusters 6"));
}

#[test]
fn chain_problems_each_have_their_code() {
    let cases: [(u32, u32, &str, &str); 4] = [
        (3, 10, "CHAIN_FREE_CLUSTER", "the chain of /hello.txt reaches cluster 10, which the FAT marks free"),
        (3, 1000, "CHAIN_OUT_OF_RANGE", "the chain of /hello.txt leads from cluster 3 to 1000, outside the data region (clusters 2 to 41)"),
        (4, BAD_CLUSTER, "CHAIN_BAD_CLUSTER", "the chain of /hello.txt reaches cluster 4, which the FAT marks bad"),
        (3, END_OF_CHAIN, "CHAIN_LENGTH_MISMATCH", "/hello.txt is 600 bytes, which takes 2 clusters, but its chain from cluster 3 has 1"),
    ];
    for (cluster, value, code, text) in cases {
        let mut image = sample();
        image.set_fat(cluster, value);
        image.fix_fsinfo();
        let volume = open(&image);
        let found = volume.findings().iter().find(|f| f.code.as_str() == code);
        assert_eq!(
            found.map(|f| f.message.as_str()),
            Some(text),
            "{:?}",
            volume.findings()
        );
        assert_eq!(found.unwrap().path.as_deref(), Some("/hello.txt"));
    }
}

#[test]
fn a_broken_chain_fails_reading_instead_of_inventing_bytes() {
    let mut image = sample();
    image.set_fat(3, 10); // the second cluster is free
    let mut volume = open(&image);
    let error = read_all(&mut volume, "/hello.txt").unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(
        error
            .to_string()
            .starts_with("/hello.txt: its cluster chain ends"),
        "{error}"
    );
}

#[test]
fn fsinfo_problems_are_reported() {
    let mut image = sample();
    image.put_fsinfo(7, FSINFO_UNKNOWN);
    assert_eq!(
        message(&open(&image), FindingCode::FsinfoFreeCountWrong),
        "FSInfo says 7 clusters are free; the FAT has 35 free"
    );
    image.put_fsinfo(35, 42);
    assert_eq!(codes(&open(&image)), ["FSINFO_NEXT_FREE_WRONG"]);
    image.bytes[512] ^= 0xFF;
    let volume = open(&image);
    assert_eq!(codes(&volume), ["FSINFO_INVALID"]);
    assert_eq!(volume.summary().fsinfo_free_clusters, None);
}

#[test]
fn long_name_problems_are_reported_and_the_short_name_used() {
    let mut image = sample();
    let root = image.cluster_offset(2);
    image.bytes[root + 13] ^= 1; // the LFN entry's checksum
    let volume = open(&image);
    assert_eq!(codes(&volume), ["LFN_CHECKSUM_MISMATCH"]);
    assert_eq!(volume.path(1), "/HELLO.TXT");
    assert_eq!(
        message(&volume, FindingCode::LfnChecksumMismatch),
        "in /, the long name \"hello.txt\" does not belong to the short entry HELLO.TXT after \
         it (checksum mismatch); /HELLO.TXT is shown by its short name"
    );
    let mut image = sample();
    let root = image.cluster_offset(2);
    image.bytes[root + 32] = crate::ondisk::dirent::DELETED;
    assert_eq!(codes(&open(&image)), ["LFN_ORPHANED", "LOST_CLUSTERS"]);
}

#[test]
fn directory_loops_end_the_walk() {
    let mut image = sample();
    let mut sub = dots(5, 0);
    sub.extend(dir(None, b"LOOP       ", 5));
    sub.extend(dir(None, b"ROOT       ", 2));
    image.put_entries(5, &sub);
    let volume = open(&image);
    assert_eq!(
        codes(&volume),
        ["DIRECTORY_LOOP", "DIRECTORY_LOOP", "LOST_CLUSTERS"]
    );
    assert_eq!(
        volume.findings()[1].message,
        "/Sub Dir/LOOP starts at cluster 5, which is a directory that contains it"
    );
}

#[test]
fn wrong_dot_entries_duplicates_and_odd_names_are_reported() {
    let mut image = sample();
    let mut sub = dots(5, 9);
    sub.extend(file(None, b"INNER   BIN", 6, 512));
    sub.extend(file(Some("inner.bin"), b"INNER~1 BIN", 0, 0));
    sub.extend(file(Some("a\u{1}b"), b"AB         ", 0, 0));
    image.put_entries(5, &sub);
    let volume = open(&image);
    assert_eq!(
        codes(&volume),
        ["DOT_ENTRY_INVALID", "INVALID_NAME", "DUPLICATE_NAME"]
    );
    assert_eq!(
        volume.findings()[1].message,
        "/Sub Dir: \"..\" points to cluster 9 instead of 0"
    );
}

#[test]
fn a_truncated_partition_is_reported_and_read_as_far_as_it_goes() {
    let image = sample();
    let cut = image.cluster_offset(4) + 50;
    let mut volume = Volume::open(Cursor::new(image.bytes[..cut].to_vec()), 0, cut as u64)
        .unwrap()
        .unwrap();
    assert_eq!(
        codes(&volume),
        ["PARTITION_TRUNCATED", "READ_FAILED", "LOST_CLUSTERS"],
        "{:?}",
        volume.findings()
    );
    assert!(read_all(&mut volume, "/hello.txt").is_err());
    // The same bytes in a longer partition: the image ends first.
    let volume = Volume::open(Cursor::new(image.bytes[..cut].to_vec()), 0, 1 << 20)
        .unwrap()
        .unwrap();
    assert!(message(&volume, FindingCode::ReadFailed).contains("the image ends"));
}

#[test]
fn a_differing_backup_boot_sector_is_reported() {
    let mut image = sample();
    image.bytes[6 * 512 + 71] = b'X';
    assert_eq!(
        message(&open(&image), FindingCode::BackupBootSectorDiffers),
        "the backup boot sector (sector 6) differs from the boot sector in 1 bytes, the first at byte 71"
    );
}

#[test]
fn directories_deeper_than_the_limit_are_not_read() {
    let depth = MAX_DEPTH + 3;
    let mut image = TinyImage::new(depth + 10);
    image.put_entries(2, &dir(None, b"D          ", 3));
    for level in 0..depth {
        let own = 3 + level;
        let parent = if level == 0 { 0 } else { own - 1 };
        let mut entries = dots(own, parent);
        entries.extend(dir(None, b"D          ", own + 1));
        image.put_entries(own, &entries);
        image.chain(&[own]);
    }
    image.fix_fsinfo();
    let volume = open(&image);
    assert_eq!(codes(&volume), ["DIRECTORY_TOO_DEEP", "LOST_CLUSTERS"]);
    assert_eq!(volume.summary().directories, MAX_DEPTH + 1);
}

#[test]
fn directories_beyond_fats_limit_are_cut() {
    let clusters = (MAX_DIR_ENTRIES * 32 / 512) as u32 + 2;
    let mut image = TinyImage::new(clusters + 10);
    let chain: Vec<u32> = (2..2 + clusters).collect();
    image.chain(&chain);
    for &c in &chain {
        image.fill_cluster(c, 0xE5); // deleted entries, all of them
    }
    image.fix_fsinfo();
    let volume = open(&image);
    assert_eq!(codes(&volume), ["DIRECTORY_TOO_LARGE"]);
}

#[test]
fn other_contents_are_not_fat32() {
    let image = sample();
    assert!(Volume::open(Cursor::new(vec![0u8; 4096]), 0, 4096)
        .unwrap()
        .is_none());
    assert!(
        Volume::open(Cursor::new(image.bytes[..511].to_vec()), 0, 511)
            .unwrap()
            .is_none()
    );
    assert!(Volume::open(Cursor::new(image.bytes.clone()), 1, 100_000)
        .unwrap()
        .is_none());
    // FAT16 keeps boot code where FAT32 has its type string and extended signature.
    let mut fat16 = image.boot();
    fat16.fat_size_16 = 9;
    fat16.fs_type = [0xCD; 8];
    fat16.extended_signature = 0;
    assert!(detect(&fat16.encode(512)).is_none());
}

#[test]
fn a_huge_claimed_volume_in_a_few_bytes_is_read_quickly() {
    let mut image = sample();
    let mut boot = image.boot();
    boot.sectors_per_cluster = 1;
    boot.fat_size_32 = 2_200_000; // entries for 2^28 clusters
    boot.total_sectors_32 = u32::MAX;
    image.put_boot(&boot);
    let started = std::time::Instant::now();
    let volume = open(&image);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(volume.summary().clusters, crate::geometry::MAX_CLUSTERS);
    let found = codes(&volume);
    assert!(
        found.contains(&"PARTITION_TRUNCATED") && found.contains(&"READ_FAILED"),
        "{found:?}"
    );
}
