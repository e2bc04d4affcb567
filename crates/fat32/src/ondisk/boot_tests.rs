use super::*;
use crate::test_fixtures::tiny_boot;

fn sample() -> BootSector {
    BootSector {
        oem_name: *b"MSWIN4.1",
        bytes_per_sector: 4096,
        sectors_per_cluster: 8,
        reserved_sectors: 32,
        hidden_sectors: 2048,
        ext_flags: 0x81,
        volume_id: 0xDEAD_BEEF,
        volume_label: *b"LABEL      ",
        ..tiny_boot(0x0123_4567, 0x89AB)
    }
}

#[test]
fn boot_sectors_round_trip_through_their_bytes() {
    let boot = sample();
    let bytes = boot.encode(4096);
    assert_eq!(bytes.len(), 4096);
    assert!(BootSector::has_signature(&bytes));
    assert_eq!(BootSector::parse(&bytes), Some(boot.clone()));
    assert_eq!(BootSector::parse(&bytes[..512]), Some(boot));
    assert_eq!(BootSector::parse(&bytes[..511]), None);
    assert!(!BootSector::has_signature(&bytes[..511]));
}

#[test]
fn the_16_bit_sector_count_wins_when_set() {
    let mut boot = sample();
    assert_eq!(boot.total_sectors(), 0x0123_4567);
    boot.total_sectors_16 = 100;
    assert_eq!(boot.total_sectors(), 100);
}

#[test]
fn fsinfo_needs_all_three_signatures() {
    let info = FsInfo {
        free_clusters: 12,
        next_free: FSINFO_UNKNOWN,
    };
    let bytes = info.encode(512);
    assert_eq!(FsInfo::parse(&bytes), Some(info));
    for at in [0, 484, 508] {
        let mut broken = bytes.clone();
        broken[at] ^= 1;
        assert_eq!(FsInfo::parse(&broken), None, "signature at {at}");
    }
    assert_eq!(FsInfo::parse(&bytes[..500]), None);
}
