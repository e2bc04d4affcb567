//! One bit per cluster, allocated in pages as bits are set: a volume that claims 2^28
//! clusters costs 64 KiB of page table until the walk actually reaches its clusters.

/// Clusters per page: 4 KiB of bits.
const PAGE_BITS: u32 = 1 << 15;
const WORDS_PER_PAGE: usize = PAGE_BITS as usize / 64;

pub(crate) struct ClusterBitmap {
    pages: Vec<Option<Box<[u64; WORDS_PER_PAGE]>>>,
}

impl ClusterBitmap {
    /// A bitmap for cluster numbers 0..end.
    pub fn new(end: u32) -> Self {
        let pages = end.div_ceil(PAGE_BITS) as usize;
        ClusterBitmap {
            pages: (0..pages).map(|_| None).collect(),
        }
    }

    fn locate(cluster: u32) -> (usize, usize, u64) {
        let page = (cluster / PAGE_BITS) as usize;
        let bit = cluster % PAGE_BITS;
        (page, bit as usize / 64, 1u64 << (bit % 64))
    }

    pub fn get(&self, cluster: u32) -> bool {
        let (page, word, mask) = Self::locate(cluster);
        match self.pages.get(page) {
            Some(Some(bits)) => bits[word] & mask != 0,
            _ => false,
        }
    }

    /// Sets the bit; returns whether it was clear. Clusters past `end` are ignored (false).
    pub fn insert(&mut self, cluster: u32) -> bool {
        let (page, word, mask) = Self::locate(cluster);
        let Some(slot) = self.pages.get_mut(page) else {
            return false;
        };
        let bits = slot.get_or_insert_with(|| Box::new([0; WORDS_PER_PAGE]));
        let was_clear = bits[word] & mask == 0;
        bits[word] |= mask;
        was_clear
    }
}

#[cfg(test)]
mod tests {
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
}
