//! FAT lookups through a small cache of the active FAT, and chains followed with a visited
//! bitmap, so that every chain ends: at its end marker, at a problem, or at a cluster already
//! seen (a loop, or clusters shared with another chain).

use super::bitmap::ClusterBitmap;
use super::findings::FindingCode;
use super::layout::Layout;
use crate::geometry::FIRST_CLUSTER;
use crate::ondisk::fat_entry::FatEntry;
use imgforge_partition_read::{Disk, ReadError};
use std::io::{Read, Seek};

/// FAT entries per cached window (32 KiB), and windows kept: enough for a few interleaved
/// chains without holding more than 128 KiB of a FAT that may be a gigabyte.
const WINDOW_ENTRIES: u64 = 8192;
const WINDOWS: usize = 4;

struct Window {
    first: u64,
    bytes: Vec<u8>,
}

/// Random access to the active FAT's entries 0..end_cluster.
pub(crate) struct FatReader {
    start: u64,
    entries: u64,
    windows: Vec<Window>,
    victim: usize,
}

impl FatReader {
    pub(super) fn new(layout: &Layout) -> Self {
        FatReader {
            start: layout.fat_offset(layout.active_fat),
            entries: u64::from(layout.end_cluster()),
            windows: Vec::with_capacity(WINDOWS),
            victim: 0,
        }
    }

    pub(super) fn entry<R: Read + Seek>(
        &mut self,
        disk: &mut Disk<R>,
        cluster: u32,
    ) -> Result<FatEntry, ReadError> {
        let index = u64::from(cluster);
        let hit = self
            .windows
            .iter()
            .position(|w| (w.first..w.first + w.bytes.len() as u64 / 4).contains(&index));
        let window = match hit {
            Some(window) => window,
            None => self.load(disk, index)?,
        };
        let w = &self.windows[window];
        let at = ((index - w.first) * 4) as usize;
        let raw = u32::from_le_bytes([
            w.bytes[at],
            w.bytes[at + 1],
            w.bytes[at + 2],
            w.bytes[at + 3],
        ]);
        Ok(FatEntry::from_raw(raw))
    }

    /// Reads the window holding entry `index`, as much of it as the partition and image hold.
    fn load<R: Read + Seek>(&mut self, disk: &mut Disk<R>, index: u64) -> Result<usize, ReadError> {
        let beyond = ReadError::BeyondPartition { end: disk.len() };
        if index >= self.entries {
            return Err(beyond);
        }
        let first = index / WINDOW_ENTRIES * WINDOW_ENTRIES;
        let offset = self.start + first * 4;
        let in_partition = disk.len().saturating_sub(offset) / 4;
        let count = (self.entries - first).min(WINDOW_ENTRIES).min(in_partition);
        if index >= first + count {
            return Err(beyond);
        }
        let mut bytes = vec![0u8; (count * 4) as usize];
        if let Err(error) = disk.read_at(offset, &mut bytes) {
            // A short image still gives the entries before its end.
            let ReadError::ImageEnds { at } = error else {
                return Err(error);
            };
            let readable = (at - offset) / 4;
            if index >= first + readable {
                return Err(error);
            }
            bytes.truncate((readable * 4) as usize);
            disk.read_at(offset, &mut bytes)?;
        }
        let window = Window { first, bytes };
        if self.windows.len() < WINDOWS {
            self.windows.push(window);
            Ok(self.windows.len() - 1)
        } else {
            let slot = self.victim;
            self.windows[slot] = window;
            self.victim = (slot + 1) % WINDOWS;
            Ok(slot)
        }
    }
}

/// How a followed chain ended.
#[derive(Debug)]
pub(crate) enum ChainEnd {
    /// At an end-of-chain marker.
    Complete,
    /// The first cluster (`from` None) or a link from `from` leads outside the data region.
    OutOfRange { from: Option<u32>, to: u32 },
    /// The FAT marks cluster `at`, part of the chain, free.
    Free { at: u32 },
    /// The FAT marks cluster `at`, part of the chain, bad.
    Bad { at: u32 },
    /// Cluster `from` leads back to `to`, earlier in the same chain.
    Loop { from: u32, to: u32 },
    /// The chain's first cluster (`from` None) or the link from `from` leads to `to`, which
    /// another chain already holds.
    CrossLinked { from: Option<u32>, to: u32 },
    /// The FAT entry of cluster `at` could not be read.
    Unreadable { at: u32, error: ReadError },
}

impl ChainEnd {
    /// The finding a chain's end calls for (None when it ended well, or for a cross-link, which
    /// is reported with both owners).
    pub(super) fn finding_code(&self) -> Option<FindingCode> {
        match self {
            ChainEnd::Complete | ChainEnd::CrossLinked { .. } => None,
            ChainEnd::OutOfRange { .. } => Some(FindingCode::ChainOutOfRange),
            ChainEnd::Free { .. } => Some(FindingCode::ChainFreeCluster),
            ChainEnd::Bad { .. } => Some(FindingCode::ChainBadCluster),
            ChainEnd::Loop { .. } => Some(FindingCode::ChainLoop),
            ChainEnd::Unreadable { .. } => Some(FindingCode::ReadFailed),
        }
    }

    /// The message for how the chain of `path` ended; `range` names the data region.
    pub(super) fn describe(&self, path: &str, range: &str) -> String {
        match self {
            ChainEnd::Complete => format!("the chain of {path} is complete"),
            ChainEnd::OutOfRange { from: None, to } => {
                format!("{path} starts at cluster {to}, outside the data region ({range})")
            }
            ChainEnd::OutOfRange {
                from: Some(from),
                to,
            } => format!(
                "the chain of {path} leads from cluster {from} to {to}, outside the data region \
                 ({range})"
            ),
            ChainEnd::Free { at } => {
                format!("the chain of {path} reaches cluster {at}, which the FAT marks free")
            }
            ChainEnd::Bad { at } => {
                format!("the chain of {path} reaches cluster {at}, which the FAT marks bad")
            }
            ChainEnd::Loop { from, to } => {
                format!("the chain of {path} loops: cluster {from} leads back to cluster {to}")
            }
            ChainEnd::CrossLinked { to, .. } => {
                format!("the chain of {path} runs into cluster {to}, which another chain holds")
            }
            ChainEnd::Unreadable { at, error } => {
                format!(
                    "cannot read the FAT entry of cluster {at} (in the chain of {path}): {error}"
                )
            }
        }
    }
}

/// A followed chain: the clusters it holds by itself (marked in the bitmap), and its end.
#[derive(Debug)]
pub(crate) struct Chain {
    pub clusters: u32,
    pub end: ChainEnd,
}

/// What following a chain needs: the partition, the FAT, and which clusters are taken.
pub(crate) struct Chains<'a, R> {
    pub disk: &'a mut Disk<R>,
    pub fat: &'a mut FatReader,
    pub used: &'a mut ClusterBitmap,
    pub layout: &'a Layout,
}

impl<R: Read + Seek> Chains<'_, R> {
    /// Follows the chain from `first`, marking each cluster used and handing it to `visit`.
    pub(super) fn follow(&mut self, first: u32, visit: &mut dyn FnMut(u32)) -> Chain {
        let end = |clusters, end| Chain { clusters, end };
        if !self.layout.is_data_cluster(first) {
            return end(
                0,
                ChainEnd::OutOfRange {
                    from: None,
                    to: first,
                },
            );
        }
        if !self.used.insert(first) {
            return end(
                0,
                ChainEnd::CrossLinked {
                    from: None,
                    to: first,
                },
            );
        }
        visit(first);
        let (mut current, mut clusters) = (first, 1u32);
        loop {
            let next = match self.fat.entry(self.disk, current) {
                Err(error) => return end(clusters, ChainEnd::Unreadable { at: current, error }),
                Ok(FatEntry::EndOfChain) => return end(clusters, ChainEnd::Complete),
                Ok(FatEntry::Free) => return end(clusters, ChainEnd::Free { at: current }),
                Ok(FatEntry::Bad) => return end(clusters, ChainEnd::Bad { at: current }),
                Ok(FatEntry::Next(next)) => next,
            };
            let from = current;
            if !self.layout.is_data_cluster(next) {
                return end(
                    clusters,
                    ChainEnd::OutOfRange {
                        from: Some(from),
                        to: next,
                    },
                );
            }
            if !self.used.insert(next) {
                let problem = if self.holds(first, clusters, next) {
                    ChainEnd::Loop { from, to: next }
                } else {
                    ChainEnd::CrossLinked {
                        from: Some(from),
                        to: next,
                    }
                };
                return end(clusters, problem);
            }
            visit(next);
            (current, clusters) = (next, clusters + 1);
        }
    }

    /// Whether the first `clusters` clusters of the chain from `first` include `wanted`.
    /// Only asked on a conflict, and each cluster belongs to one chain's prefix, so all the
    /// re-reading together costs at most one more pass over the used clusters.
    pub(super) fn holds(&mut self, first: u32, clusters: u32, wanted: u32) -> bool {
        let mut found = false;
        self.prefix(first, clusters, &mut |c| found |= c == wanted);
        found
    }

    /// Hands each of the first `clusters` clusters of an already followed chain to `visit`.
    pub(super) fn prefix(&mut self, first: u32, clusters: u32, visit: &mut dyn FnMut(u32)) {
        let mut current = first;
        for taken in 1..=clusters {
            visit(current);
            if taken == clusters {
                break;
            }
            match self.fat.entry(self.disk, current) {
                Ok(FatEntry::Next(next)) if next >= FIRST_CLUSTER => current = next,
                _ => break,
            }
        }
    }
}

#[cfg(test)]
#[path = "fat_tests.rs"]
mod tests;
