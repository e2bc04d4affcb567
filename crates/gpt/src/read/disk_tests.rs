use super::*;
use std::io::Cursor;

#[test]
fn reads_only_whole_sectors_on_the_disk() {
    let bytes: Vec<u8> = (0..=255).cycle().take(1536 + 100).collect();
    let mut cursor = Cursor::new(bytes);
    let mut disk = Disk::new(&mut cursor, 1636, 512);
    assert_eq!(disk.total_sectors(), 3);
    assert_eq!(disk.last_lba(), Some(2));
    assert_eq!(disk.read_sectors(2, 1).unwrap().unwrap()[0], 0);
    assert_eq!(disk.read_sectors(2, 2).unwrap(), None);
    assert_eq!(disk.read_sectors(u64::MAX, 1).unwrap(), None);
    assert_eq!(disk.read_sectors(0, u64::MAX).unwrap(), None);
    assert_eq!(disk.read_at(1600, 36).unwrap().unwrap().len(), 36);
    assert_eq!(disk.read_at(1600, 37).unwrap(), None);
    assert_eq!(disk.read_at(u64::MAX, 1).unwrap(), None);
}

#[test]
fn a_disk_shorter_than_its_size_is_an_error() {
    let mut cursor = Cursor::new(vec![0u8; 512]);
    let mut disk = Disk::new(&mut cursor, 1024, 512);
    let error = disk.read_sectors(1, 1).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    assert!(error.to_string().contains("ends before byte 1024"));
}

#[test]
fn a_tiny_disk_has_no_last_lba() {
    let mut cursor = Cursor::new(vec![0u8; 100]);
    let disk = Disk::new(&mut cursor, 100, 512);
    assert_eq!(disk.last_lba(), None);
    assert!(!disk.holds(0, 1));
    assert!(disk.holds(0, 0));
}
