use super::*;
use crate::read::test_image::{sample, TinyImage};

fn detected(change: impl Fn(&mut BootSector)) -> bool {
    let mut boot = sample().boot();
    change(&mut boot);
    detect(&boot.encode(512)).is_some()
}

#[test]
fn detection_needs_the_fields_the_layout_depends_on() {
    assert!(detected(|_| {}));
    assert!(!detected(|b| b.bytes_per_sector = 256));
    assert!(!detected(|b| b.bytes_per_sector = 8192));
    assert!(!detected(|b| b.bytes_per_sector = 1000));
    assert!(detected(|b| b.bytes_per_sector = 4096));
    assert!(!detected(|b| b.sectors_per_cluster = 0));
    assert!(!detected(|b| b.sectors_per_cluster = 3));
    assert!(detected(|b| b.sectors_per_cluster = 128));
    assert!(!detected(|b| b.reserved_sectors = 0));
    assert!(!detected(|b| b.fat_count = 0));
    assert!(!detected(|b| b.fat_size_16 = 1));
    assert!(!detected(|b| b.fat_size_32 = 0));
    assert!(!detected(|b| b.total_sectors_32 = 0));
    assert!(
        detected(|b| b.media = 0x12),
        "a finding, not a reason to stop"
    );
    let mut bytes = sample().boot().encode(512);
    bytes[511] = 0;
    assert!(detect(&bytes).is_none());
}

fn layout_of(change: impl Fn(&mut BootSector), len: u64) -> (Layout, Vec<String>) {
    let mut boot = TinyImage::new(100).boot();
    change(&mut boot);
    let mut findings = Findings::default();
    let layout = layout(&boot, len, &mut findings);
    let codes = findings
        .finish()
        .into_iter()
        .map(|f| f.code.as_str().to_string())
        .filter(|c| c != "TOO_FEW_CLUSTERS")
        .collect();
    (layout, codes)
}

#[test]
fn the_layout_follows_the_boot_sector() {
    let (layout, codes) = layout_of(|_| {}, 1 << 20);
    assert_eq!(codes, Vec::<String>::new());
    assert_eq!(layout.clusters, 100);
    assert_eq!(layout.fat_offset(1), 8 * 512 + 512);
    assert_eq!(layout.data_start, 10 * 512);
    assert_eq!(layout.cluster_offset(2), 10 * 512);
    assert_eq!(layout.cluster_offset(3), 11 * 512);
    assert!(layout.is_data_cluster(101) && !layout.is_data_cluster(102));
    assert!(!layout.is_data_cluster(1));
}

#[test]
fn impossible_fields_become_findings_and_the_clusters_shrink_to_fit() {
    // A FAT of one sector numbers 126 clusters, not the 10,000 the sector count gives.
    let (layout, codes) = layout_of(|b| b.total_sectors_32 = 10_000, 1 << 30);
    assert_eq!(layout.clusters, 126);
    assert_eq!(codes, ["BOOT_SECTOR_INVALID"]);
    let (layout, codes) = layout_of(|b| b.total_sectors_32 = 9, 1 << 20);
    assert_eq!(layout.clusters, 0);
    assert_eq!(layout.data_range(), "none: the volume has no data clusters");
    assert_eq!(codes, ["BOOT_SECTOR_INVALID"]);
    let (_, codes) = layout_of(
        |b| {
            b.root_entries = 512;
            b.total_sectors_16 = 110;
            b.media = 0x12;
            b.fs_version = 0x0100;
        },
        1 << 20,
    );
    assert_eq!(codes, ["BOOT_SECTOR_INVALID"; 4]);
    let (_, codes) = layout_of(|_| {}, 4096);
    assert_eq!(codes, ["PARTITION_TRUNCATED"]);
    let (layout, codes) = layout_of(|b| b.ext_flags = 0x80 | 1, 1 << 20);
    assert_eq!((layout.active_fat, layout.mirrored), (1, false));
    assert!(codes.is_empty());
    let (layout, codes) = layout_of(|b| b.ext_flags = 0x80 | 5, 1 << 20);
    assert_eq!(layout.active_fat, 0);
    assert_eq!(codes, ["BOOT_SECTOR_INVALID"]);
}
