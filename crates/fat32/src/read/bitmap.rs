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
    pub(super) fn new(end: u32) -> Self {
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

    pub(super) fn get(&self, cluster: u32) -> bool {
        let (page, word, mask) = Self::locate(cluster);
        match self.pages.get(page) {
            Some(Some(bits)) => bits[word] & mask != 0,
            _ => false,
        }
    }

    /// Sets the bit; returns whether it was clear. Clusters past `end` are ignored (false).
    pub(super) fn insert(&mut self, cluster: u32) -> bool {
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
#[path = "bitmap_tests.rs"]
mod tests;
