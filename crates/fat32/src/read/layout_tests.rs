use super::*;
use crate::read::Volume;
use crate::test_fixtures::{sample, TinyImage};
use std::io::Cursor;

/// Takes FAT32's marks off a boot sector: boot code where the type string was (as FAT12/16
/// have there), no extended signature at 66.
fn unmarked(boot: &mut BootSector) {
    boot.fs_type = [0xCD; 8];
    boot.extended_signature = 0;
}

fn detected(change: impl Fn(&mut BootSector)) -> bool {
    let mut boot = sample().boot();
    unmarked(&mut boot);
    change(&mut boot);
    detect(&boot.encode(512)).is_some()
}

#[test]
fn detection_without_fat32_marks_needs_the_fields_the_layout_depends_on() {
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

/// A change to a boot sector.
type Change = fn(&mut BootSector);

/// Each broken geometry field, with the start of its finding's message.
fn broken_geometries() -> Vec<(&'static str, Change)> {
    vec![
        ("the bytes per sector are 0;", |b| b.bytes_per_sector = 0),
        ("the bytes per sector are 1000;", |b| {
            b.bytes_per_sector = 1000
        }),
        ("the bytes per sector are 8192;", |b| {
            b.bytes_per_sector = 8192
        }),
        ("the sectors per cluster are 0;", |b| {
            b.sectors_per_cluster = 0
        }),
        ("the sectors per cluster are 3;", |b| {
            b.sectors_per_cluster = 3
        }),
        ("the reserved sector count is 0;", |b| {
            b.reserved_sectors = 0
        }),
        ("the number of FATs is 0;", |b| b.fat_count = 0),
        ("the FAT size is 0 sectors;", |b| b.fat_size_32 = 0),
        ("the 16-bit FAT size is 9;", |b| b.fat_size_16 = 9),
        ("the sector count is 0 ", |b| b.total_sectors_32 = 0),
    ]
}

#[test]
fn a_fat32_boot_sector_with_broken_geometry_is_an_unreadable_fat32_volume() {
    for (problem, change) in broken_geometries() {
        let mut image = sample();
        let mut boot = image.boot();
        change(&mut boot);
        image.put_boot(&boot);
        let len = image.bytes.len() as u64;
        let volume = Volume::open(Cursor::new(image.bytes), 0, len)
            .unwrap()
            .unwrap_or_else(|| panic!("{problem} not read as FAT32"));
        let findings = volume.findings();
        assert_eq!(findings.len(), 1, "{problem} {findings:?}");
        assert_eq!(findings[0].code, FindingCode::BootSectorInvalid);
        assert!(findings[0].message.starts_with(problem), "{findings:?}");
        assert!(findings[0]
            .message
            .ends_with("; the volume cannot be read past its boot sector"));
        let summary = volume.summary();
        assert_eq!(summary.volume_id, 0xCAFE_F00D, "the boot sector's serial");
        assert_eq!(summary.bytes_per_sector, u32::from(boot.bytes_per_sector));
        assert_eq!((summary.clusters, summary.cluster_size), (0, 0));
        assert_eq!((summary.files, summary.directories), (0, 0));
        assert!(volume.listing().is_empty());
        assert_eq!(volume.entries().len(), 1, "the root alone");
    }
}

#[test]
fn every_broken_field_is_named() {
    let mut boot = sample().boot();
    boot.bytes_per_sector = 0;
    boot.sectors_per_cluster = 0;
    boot.reserved_sectors = 0;
    boot.fat_count = 0;
    boot.fat_size_32 = 0;
    boot.total_sectors_32 = 0;
    assert_eq!(geometry_problems(&boot).len(), 6);
    assert!(geometry_problems(&sample().boot()).is_empty());
}

#[test]
fn fat32_marks_are_its_type_string_or_its_jump_with_the_extended_signature() {
    let marked = |change: Change, patch: fn(&mut [u8])| {
        let mut boot = sample().boot();
        boot.bytes_per_sector = 0;
        change(&mut boot);
        let mut bytes = boot.encode(512);
        patch(&mut bytes);
        detect(&bytes).is_some()
    };
    assert!(marked(|_| {}, |_| {}), "both marks");
    assert!(marked(|b| b.extended_signature = 0, |_| {}), "type string");
    assert!(marked(|b| b.fs_type = [0xCD; 8], |_| {}), "jump and 0x29");
    assert!(!marked(unmarked, |_| {}), "the jump alone");
    assert!(
        !marked(|b| b.fs_type = [0xCD; 8], |s| s[1] = 0x3C),
        "FAT16's jump"
    );
    assert!(
        !marked(|b| b.fs_type = *b"FAT16   ", |s| s[1] = 0x3C),
        "another type string"
    );
    assert!(!marked(|_| {}, |s| s[511] = 0), "no boot signature");
}
