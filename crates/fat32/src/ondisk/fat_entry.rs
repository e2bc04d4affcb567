//! FAT entries: 32 bits on disk, of which FAT32 uses the low 28.

/// The bits of an entry that hold a value; the top 4 are reserved and must be preserved.
pub(crate) const ENTRY_MASK: u32 = 0x0FFF_FFFF;
pub(crate) const FREE: u32 = 0;
/// Marks a cluster the medium cannot hold data in.
pub(crate) const BAD_CLUSTER: u32 = 0x0FFF_FFF7;
/// What writers store at the end of a chain; readers accept anything from END_OF_CHAIN_MIN.
pub(crate) const END_OF_CHAIN: u32 = 0x0FFF_FFFF;
pub(crate) const END_OF_CHAIN_MIN: u32 = 0x0FFF_FFF8;
/// The media descriptor of fixed disks, in the boot sector and in FAT[0].
pub(crate) const MEDIA_FIXED: u8 = 0xF8;
/// FAT[0]: the media byte (0xF8, fixed disk) in the low byte, all other bits set.
pub(crate) const FAT0: u32 = 0x0FFF_FFF8;
/// FAT[1]: end of chain with the "clean shutdown" and "no error" bits set.
pub(crate) const FAT1: u32 = 0x0FFF_FFFF;

/// What one FAT entry says about the cluster it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FatEntry {
    Free,
    /// The chain continues at this cluster number (which may be out of range: the caller checks).
    Next(u32),
    Bad,
    EndOfChain,
}

impl FatEntry {
    pub(crate) fn from_raw(raw: u32) -> FatEntry {
        match raw & ENTRY_MASK {
            FREE => FatEntry::Free,
            BAD_CLUSTER => FatEntry::Bad,
            value if value >= END_OF_CHAIN_MIN => FatEntry::EndOfChain,
            value => FatEntry::Next(value),
        }
    }
}

#[cfg(test)]
#[path = "fat_entry_tests.rs"]
mod tests;
