use super::*;
use std::io::Cursor;

/// A reader that counts the reads reaching the image, to see what the cache saves.
struct Counting {
    inner: Cursor<Vec<u8>>,
    reads: usize,
    seeks: usize,
}

impl Counting {
    fn new(bytes: Vec<u8>) -> Self {
        Counting {
            inner: Cursor::new(bytes),
            reads: 0,
            seeks: 0,
        }
    }
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        self.inner.read(buf)
    }
}

impl Seek for Counting {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.seeks += 1;
        self.inner.seek(to)
    }
}

fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

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
    assert_eq!(disk.len(), 300);
}

#[test]
fn a_read_that_crosses_the_partition_end_reads_nothing() {
    let mut disk = Disk::new(Counting::new(bytes(10_000)), 100, 5000);
    let mut buf = [0u8; 8];
    assert!(matches!(
        disk.read_at(4996, &mut buf),
        Err(ReadError::BeyondPartition { end: 5000 })
    ));
    assert!(matches!(
        disk.read(4999, 2),
        Err(ReadError::BeyondPartition { end: 5000 })
    ));
    assert!(matches!(
        disk.read(u64::MAX, 1),
        Err(ReadError::BeyondPartition { .. })
    ));
    assert_eq!(disk.inner.reads + disk.inner.seeks, 0, "nothing was read");
    // Up to the end exactly is inside.
    assert_eq!(disk.read(4992, 8).unwrap(), bytes(10_000)[5092..5100]);
    disk.read_at(4992, &mut buf).unwrap();
    assert_eq!(buf[..], bytes(10_000)[5092..5100]);
}

#[test]
fn cached_reads_of_a_short_image_keep_what_there_is_and_fail_past_it() {
    // The partition claims 3 pieces; the image holds 1.5 of them after the offset.
    let image = bytes(512 + 6144);
    let mut disk = Disk::new(Cursor::new(image.clone()), 512, 3 * 4096);
    assert_eq!(disk.read(4000, 2000).unwrap(), image[4512..6512]);
    assert!(matches!(
        disk.read(6000, 200),
        Err(ReadError::ImageEnds { at: 6144 })
    ));
    assert!(matches!(
        disk.read(8192, 1),
        Err(ReadError::ImageEnds { at: 8192 })
    ));
    let mut buf = [0u8; 200];
    assert!(matches!(
        disk.read_at(6000, &mut buf),
        Err(ReadError::ImageEnds { at: 6144 })
    ));
}

#[test]
fn the_cache_serves_repeats_and_starts_over_when_full() {
    let len = (CACHED_PIECES + 1) * PIECE as usize;
    let image = bytes(len);
    let mut disk = Disk::new(Counting::new(image.clone()), 0, len as u64);
    assert_eq!(disk.read(10, 20).unwrap(), image[10..30]);
    let after_first = disk.inner.reads;
    assert_eq!(disk.read(100, 4).unwrap(), image[100..104]);
    assert_eq!(
        disk.inner.reads, after_first,
        "a cached piece is not read again"
    );
    for piece in 1..CACHED_PIECES as u64 {
        disk.read(piece * PIECE, 1).unwrap();
    }
    assert_eq!(disk.pieces.len(), CACHED_PIECES);
    assert_eq!(disk.read(5, 1).unwrap(), image[5..6]);
    let full = disk.inner.reads;
    assert_eq!(
        full,
        after_first + CACHED_PIECES - 1,
        "piece 0 still cached"
    );
    // One piece more: the cache starts over, holding only it, and piece 0 is read again.
    let last = CACHED_PIECES as u64 * PIECE;
    assert_eq!(disk.read(last, 3).unwrap(), image[last as usize..][..3]);
    assert_eq!(disk.pieces.len(), 1);
    assert_eq!(disk.read(5, 1).unwrap(), image[5..6]);
    assert_eq!(disk.inner.reads, full + 2);
}

#[test]
fn sequential_reads_seek_once() {
    let mut disk = Disk::new(Counting::new(bytes(4096)), 0, 4096);
    let mut buf = [0u8; 512];
    for at in 0..8 {
        disk.read_at(at * 512, &mut buf).unwrap();
    }
    assert_eq!(disk.inner.seeks, 1);
    disk.read_at(0, &mut buf).unwrap();
    assert_eq!(disk.inner.seeks, 2);
}

#[test]
fn errors_become_io_errors_of_the_matching_kind() {
    let beyond: io::Error = ReadError::BeyondPartition { end: 9 }.into();
    assert_eq!(beyond.kind(), io::ErrorKind::InvalidData);
    assert_eq!(
        beyond.to_string(),
        "it lies past the end of the partition (9 bytes)"
    );
    let ends: io::Error = ReadError::ImageEnds { at: 7 }.into();
    assert_eq!(ends.kind(), io::ErrorKind::UnexpectedEof);
    assert_eq!(ends.to_string(), "the image ends at partition byte 7");
}
