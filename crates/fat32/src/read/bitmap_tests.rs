use super::*;

#[test]
fn bits_are_independent_across_words_and_pages() {
    let mut map = ClusterBitmap::new(3 * PAGE_BITS + 5);
    assert!(!map.get(0));
    for cluster in [0, 63, 64, PAGE_BITS - 1, PAGE_BITS, 3 * PAGE_BITS + 4] {
        assert!(map.insert(cluster), "{cluster}");
        assert!(map.get(cluster));
        assert!(!map.insert(cluster), "{cluster} twice");
    }
    assert!(!map.get(1) && !map.get(65) && !map.get(PAGE_BITS + 1));
    assert!(!map.insert(4 * PAGE_BITS), "past the end");
    assert!(!map.get(u32::MAX));
    assert_eq!(map.pages.iter().filter(|p| p.is_some()).count(), 3);
}
