//! Streaming a file's bytes: its chain followed cluster by cluster, consecutive clusters read
//! together, never further than the part of the chain the walk found sound.

use std::io::{self, Read, Seek};

use super::Volume;
use crate::ondisk::fat_entry::FatEntry;

/// A file's contents as `Read`. Created by [`Volume::open_file`].
pub struct FileReader<'v, R> {
    volume: &'v mut Volume<R>,
    path: String,
    cluster: u32,
    /// Bytes of `cluster` already read; the cluster size once it is used up.
    offset: u32,
    /// Sound clusters left, `cluster` included.
    clusters_left: u32,
    remaining: u64,
}

impl<'v, R: Read + Seek> FileReader<'v, R> {
    pub(crate) fn new(volume: &'v mut Volume<R>, index: usize) -> Self {
        let entry = &volume.entries[index];
        let path = volume.path(index);
        FileReader {
            path,
            cluster: entry.first_cluster,
            offset: 0,
            clusters_left: entry.clusters,
            remaining: u64::from(entry.size),
            volume,
        }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    fn broken(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: its cluster chain ends or is broken with {} bytes still to read (see the findings)",
                self.path, self.remaining
            ),
        )
    }

    fn next_cluster(&mut self, cluster: u32) -> io::Result<Option<u32>> {
        let volume = &mut *self.volume;
        match volume.fat.entry(&mut volume.disk, cluster)? {
            FatEntry::Next(next) if volume.layout.is_data_cluster(next) => Ok(Some(next)),
            _ => Ok(None),
        }
    }
}

impl<R: Read + Seek> Read for FileReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let cluster_size = self.volume.layout.cluster_size;
        if self.clusters_left == 0 {
            return Err(self.broken());
        }
        if self.offset == cluster_size {
            if self.clusters_left <= 1 {
                return Err(self.broken());
            }
            self.cluster = self
                .next_cluster(self.cluster)?
                .ok_or_else(|| self.broken())?;
            self.offset = 0;
            self.clusters_left -= 1;
        }
        let wanted = self.remaining.min(buf.len() as u64);
        // Extend the read over the clusters that follow this one on disk.
        let (mut last, mut run) = (self.cluster, 1u32);
        let mut available = u64::from(cluster_size - self.offset);
        while available < wanted && run < self.clusters_left {
            match self.next_cluster(last)? {
                Some(next) if next == last + 1 => {
                    (last, run) = (next, run + 1);
                    available += u64::from(cluster_size);
                }
                _ => break,
            }
        }
        let n = wanted.min(available) as usize;
        let volume = &mut *self.volume;
        let at = volume.layout.cluster_offset(self.cluster) + u64::from(self.offset);
        volume.disk.read_at(at, &mut buf[..n])?;
        // Move within the run; a cluster read to its end stays current until the next read.
        let consumed = u64::from(self.offset) + n as u64;
        let whole = (consumed - 1) / u64::from(cluster_size);
        self.cluster += whole as u32;
        self.clusters_left -= whole as u32;
        self.offset = (consumed - whole * u64::from(cluster_size)) as u32;
        self.remaining -= n as u64;
        Ok(n)
    }
}
