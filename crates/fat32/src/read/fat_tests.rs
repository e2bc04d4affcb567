use super::*;
use crate::ondisk::fat_entry::{BAD_CLUSTER, END_OF_CHAIN};
use crate::read::findings::Findings;
use crate::read::layout::layout;
use crate::test_fixtures::TinyImage;
use std::io::Cursor;

/// Follows chains from `firsts` in order, on a volume with `links` (cluster, value) set.
fn follow_all(links: &[(u32, u32)], firsts: &[u32]) -> Vec<(u32, String)> {
    let mut image = TinyImage::new(20_000);
    for &(cluster, value) in links {
        image.set_fat(cluster, value);
    }
    let len = image.bytes.len() as u64;
    let layout = layout(&image.boot(), len, &mut Findings::default());
    let mut disk = Disk::new(Cursor::new(image.bytes), 0, len);
    let mut fat = FatReader::new(&layout);
    let mut used = ClusterBitmap::new(layout.end_cluster());
    let mut chains = Chains {
        disk: &mut disk,
        fat: &mut fat,
        used: &mut used,
        layout: &layout,
    };
    firsts
        .iter()
        .map(|&first| {
            let chain = chains.follow(first, &mut |_| {});
            (chain.clusters, format!("{:?}", chain.end))
        })
        .collect()
}

#[test]
fn chains_end_at_their_marker_or_at_the_first_problem() {
    let eoc = END_OF_CHAIN;
    // Cluster 2 is the root (end of chain); 19,000 is in another FAT window.
    let links = [(3, 4), (4, 19_000), (19_000, eoc)];
    assert_eq!(follow_all(&links, &[3]), [(3, "Complete".into())]);
    assert_eq!(
        follow_all(&[(3, 0x1000_0004), (4, 0xFFFF_FFF8)], &[3]),
        [(2, "Complete".into())]
    );
    assert_eq!(follow_all(&[(3, 4)], &[3]), [(2, "Free { at: 4 }".into())]);
    assert_eq!(
        follow_all(&[(3, BAD_CLUSTER)], &[3]),
        [(1, "Bad { at: 3 }".into())]
    );
    assert_eq!(
        follow_all(&[(3, 1)], &[3]),
        [(1, "OutOfRange { from: Some(3), to: 1 }".into())]
    );
    assert_eq!(
        follow_all(&[(3, 20_002)], &[3, 20_002, 0]),
        [
            (1, "OutOfRange { from: Some(3), to: 20002 }".into()),
            (0, "OutOfRange { from: None, to: 20002 }".into()),
            (0, "OutOfRange { from: None, to: 0 }".into()),
        ]
    );
}

#[test]
fn loops_and_cross_links_are_told_apart() {
    let loop_links = [(3, 4), (4, 5), (5, 4)];
    assert_eq!(
        follow_all(&loop_links, &[3]),
        [(3, "Loop { from: 5, to: 4 }".into())]
    );
    assert_eq!(
        follow_all(&[(3, 3)], &[3]),
        [(1, "Loop { from: 3, to: 3 }".into())]
    );
    let shared = [(3, 4), (4, END_OF_CHAIN), (7, 4)];
    assert_eq!(
        follow_all(&shared, &[3, 7, 4]),
        [
            (2, "Complete".into()),
            (1, "CrossLinked { from: Some(7), to: 4 }".into()),
            (0, "CrossLinked { from: None, to: 4 }".into()),
        ]
    );
}

#[test]
fn a_fat_cut_short_by_the_partition_is_unreadable_past_its_end() {
    let mut image = TinyImage::new(20_000);
    image.set_fat(3, 19_000);
    let fat_end = image.fat_entry_offset(0, 10_000);
    let len = image.bytes.len() as u64;
    let layout = layout(&image.boot(), len, &mut Findings::default());
    image.bytes.truncate(fat_end);
    let mut disk = Disk::new(Cursor::new(image.bytes), 0, len);
    let mut fat = FatReader::new(&layout);
    assert_eq!(fat.entry(&mut disk, 3).unwrap(), FatEntry::Next(19_000));
    assert_eq!(fat.entry(&mut disk, 9_999).unwrap(), FatEntry::Free);
    assert!(matches!(
        fat.entry(&mut disk, 10_000),
        Err(ReadError::ImageEnds { .. })
    ));
    assert!(matches!(
        fat.entry(&mut disk, 20_002),
        Err(ReadError::BeyondPartition { .. })
    ));
}
