use super::*;
use std::io::Cursor;

#[test]
fn reads_stay_inside_the_partition_and_short_images_are_errors() {
    let image: Vec<u8> = (0..=255).collect();
    let mut disk = Disk::new(Cursor::new(image), 16, 300);
    let mut buf = [0u8; 4];
    disk.read_at(0, &mut buf).unwrap();
    assert_eq!(buf, [16, 17, 18, 19]);
    disk.read_at(4, &mut buf).unwrap();
    assert_eq!(buf, [20, 21, 22, 23]);
    assert!(matches!(
        disk.read_at(238, &mut buf),
        Err(ReadError::ImageEnds { at: 240 })
    ));
    assert!(matches!(
        disk.read_at(297, &mut buf),
        Err(ReadError::BeyondPartition { end: 300 })
    ));
    assert!(matches!(
        disk.read_at(u64::MAX - 1, &mut buf),
        Err(ReadError::BeyondPartition { .. })
    ));
    disk.read_at(0, &mut buf).unwrap();
    assert_eq!(buf, [16, 17, 18, 19], "reads after an error seek again");
}
