//! qcow2 version 3 layout (QEMU's docs/interop/qcow2.txt): planned from the virtual size and
//! the data ranges alone, then encoded piece by piece by the writer.
//!
//! Host file, in 64 KiB clusters: the header (cluster 0), the L1 table, the refcount table,
//! the refcount blocks, one L2 table per 512 MiB of guest space that holds data, then the data
//! clusters in guest order. A data cluster's host offset is a multiple of 64 KiB, as is the
//! guest offset of its bytes, so copy_file_range can reflink them from the raw image. Every
//! cluster up to the end of the file is in use exactly once: all refcounts are 1.

use crate::error::VdiskError;
use crate::ranges::{check_ranges, touched_units, unit_count, DataRange, UnitRun};

pub const CLUSTER_BITS: u32 = 16;
pub const CLUSTER_SIZE: u64 = 1 << CLUSTER_BITS;
/// 8-byte entries per L2 table (one cluster), so one table maps 512 MiB.
pub const L2_ENTRIES: u64 = CLUSTER_SIZE / 8;
/// refcount_order 4: 16-bit refcounts, the default of QEMU and the only width every reader
/// of version 2 understands.
pub const REFCOUNT_ORDER: u32 = 4;
/// 16-bit refcounts per refcount block (one cluster): one block covers 2 GiB of host file.
pub const REFCOUNTS_PER_BLOCK: u64 = CLUSTER_SIZE * 8 / (1 << REFCOUNT_ORDER);
/// QEMU refuses L1 tables above 32 MiB (QCOW_MAX_L1_SIZE): 4 Mi entries, 2 PiB of guest.
pub const MAX_L1_BYTES: u64 = 32 << 20;
/// Header fields up to and including the compression type byte (spec "Header"), padded to a
/// multiple of 8 as version 3 requires.
pub const HEADER_LENGTH: u32 = 112;
/// L1 and L2 entries, bit 63 ("COPIED"): the cluster's refcount is exactly 1.
const COPIED: u64 = 1 << 63;

/// An L2 table: which L1 entry points to it and where it is in the host file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2Table {
    pub l1_index: u64,
    pub host_offset: u64,
}

/// Where everything goes in the qcow2 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qcow2Plan {
    pub virtual_size: u64,
    pub l1_entries: u64,
    pub l1_offset: u64,
    pub refcount_table_offset: u64,
    pub refcount_table_clusters: u64,
    pub refcount_blocks_offset: u64,
    pub refcount_blocks: u64,
    /// Sorted by `l1_index`.
    pub l2_tables: Vec<L2Table>,
    /// Runs of guest clusters that hold data; the data clusters follow each other on the host
    /// in this order from `data_offset`.
    pub data_runs: Vec<UnitRun>,
    pub data_offset: u64,
    /// Clusters in the file, all of them in use: the file is this many clusters long.
    pub host_clusters: u64,
    pub ranges: Vec<DataRange>,
}

impl Qcow2Plan {
    pub fn file_length(&self) -> u64 {
        self.host_clusters * CLUSTER_SIZE
    }

    pub fn data_clusters(&self) -> u64 {
        unit_count(&self.data_runs)
    }
}

/// Plans a qcow2 file of `virtual_size` bytes (a multiple of 512) whose data is `ranges`.
pub fn plan_qcow2(virtual_size: u64, ranges: &[DataRange]) -> Result<Qcow2Plan, VdiskError> {
    if virtual_size == 0 || !virtual_size.is_multiple_of(512) {
        return Err(VdiskError::VirtualSize(format!(
            "{virtual_size} bytes is not a positive multiple of 512 (a disk is whole sectors)"
        )));
    }
    check_ranges(virtual_size, ranges)?;
    let guest_clusters = virtual_size.div_ceil(CLUSTER_SIZE);
    let l1_entries = guest_clusters.div_ceil(L2_ENTRIES);
    if l1_entries * 8 > MAX_L1_BYTES {
        return Err(VdiskError::VirtualSize(format!(
            "{virtual_size} bytes is more than qcow2 with 64 KiB clusters can address (2 PiB)"
        )));
    }
    let l1_clusters = (l1_entries * 8).div_ceil(CLUSTER_SIZE);
    let data_runs = touched_units(ranges, CLUSTER_SIZE);
    let l1_indices = l2_table_indices(&data_runs);
    let data_clusters = unit_count(&data_runs);
    let (refcount_blocks, refcount_table_clusters) =
        refcount_structures(1 + l1_clusters + l1_indices.len() as u64 + data_clusters);

    let l1_offset = CLUSTER_SIZE;
    let refcount_table_offset = l1_offset + l1_clusters * CLUSTER_SIZE;
    let refcount_blocks_offset = refcount_table_offset + refcount_table_clusters * CLUSTER_SIZE;
    let l2_offset = refcount_blocks_offset + refcount_blocks * CLUSTER_SIZE;
    let l2_tables: Vec<L2Table> = l1_indices
        .iter()
        .enumerate()
        .map(|(n, &l1_index)| L2Table {
            l1_index,
            host_offset: l2_offset + n as u64 * CLUSTER_SIZE,
        })
        .collect();
    let data_offset = l2_offset + l2_tables.len() as u64 * CLUSTER_SIZE;
    let host_clusters = data_offset / CLUSTER_SIZE + data_clusters;
    Ok(Qcow2Plan {
        virtual_size,
        l1_entries,
        l1_offset,
        refcount_table_offset,
        refcount_table_clusters,
        refcount_blocks_offset,
        refcount_blocks,
        l2_tables,
        data_runs,
        data_offset,
        host_clusters,
        ranges: ranges.to_vec(),
    })
}

/// The L1 indices (512 MiB guest regions) that data runs touch, sorted and unique.
fn l2_table_indices(runs: &[UnitRun]) -> Vec<u64> {
    let mut indices: Vec<u64> = Vec::new();
    for run in runs {
        let first = run.first / L2_ENTRIES;
        let last = (run.end() - 1) / L2_ENTRIES;
        let start = match indices.last() {
            Some(&previous) if previous >= first => previous + 1,
            _ => first,
        };
        indices.extend(start..=last);
    }
    indices
}

/// Refcount blocks and refcount-table clusters for a file of `other_clusters` clusters plus
/// these structures themselves, which need refcounts too: the least fixed point.
pub fn refcount_structures(other_clusters: u64) -> (u64, u64) {
    let (mut blocks, mut table_clusters) = (0, 0);
    loop {
        let total = other_clusters + blocks + table_clusters;
        let needed_blocks = total.div_ceil(REFCOUNTS_PER_BLOCK);
        let needed_table = (needed_blocks * 8).div_ceil(CLUSTER_SIZE);
        if (needed_blocks, needed_table) == (blocks, table_clusters) {
            return (blocks, table_clusters);
        }
        (blocks, table_clusters) = (needed_blocks, needed_table);
    }
}

/// The header (spec "Header", all fields big-endian) followed by the end-of-extensions marker
/// (type 0, length 0): no backing file, no encryption, no snapshots, no feature bits.
pub fn encode_header(plan: &Qcow2Plan) -> Vec<u8> {
    let mut header = vec![0u8; HEADER_LENGTH as usize + 8];
    let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, b"QFI\xfb");
    put(4, &3u32.to_be_bytes()); // version
                                 // 8: backing_file_offset, 16: backing_file_size: 0.
    put(20, &CLUSTER_BITS.to_be_bytes());
    put(24, &plan.virtual_size.to_be_bytes());
    // 32: crypt_method 0.
    put(36, &(plan.l1_entries as u32).to_be_bytes());
    put(40, &plan.l1_offset.to_be_bytes());
    put(48, &plan.refcount_table_offset.to_be_bytes());
    put(56, &(plan.refcount_table_clusters as u32).to_be_bytes());
    // 60: nb_snapshots, 64: snapshots_offset, 72/80/88: incompatible, compatible and
    // autoclear features: 0.
    put(96, &REFCOUNT_ORDER.to_be_bytes());
    put(100, &HEADER_LENGTH.to_be_bytes());
    // 104: compression_type 0 (zlib; no compressed clusters are written), 105..112 padding,
    // 112..120 the end-of-extensions marker.
    header
}

/// The L1 entry pointing to an L2 table.
pub fn l1_entry(table: &L2Table) -> [u8; 8] {
    (table.host_offset | COPIED).to_be_bytes()
}

/// Entries `[first, first + n)` of one L2 table that point to data clusters, as
/// `(first entry index, encoded entries)`: only that span is written, the rest of the
/// table stays a hole (zero entries: unallocated). `None` when no entry of the table is used.
/// Tables must be encoded in order with one `cursor`, which walks the data runs.
pub fn encode_l2_span(
    plan: &Qcow2Plan,
    table: &L2Table,
    cursor: &mut RunCursor,
) -> Option<(u64, Vec<u8>)> {
    let table_first = table.l1_index * L2_ENTRIES;
    let table_end = table_first + L2_ENTRIES;
    let mut span: Option<(u64, Vec<u8>)> = None;
    while let Some(run) = plan.data_runs.get(cursor.run) {
        if run.first >= table_end {
            break;
        }
        let first = run.first.max(table_first);
        let end = run.end().min(table_end);
        if first < end {
            let (span_first, bytes) = span.get_or_insert_with(|| (first - table_first, Vec::new()));
            // Entries between two runs stay zero (unallocated).
            let gap = (first - table_first) - (*span_first + bytes.len() as u64 / 8);
            bytes.resize(bytes.len() + gap as usize * 8, 0);
            for guest in first..end {
                let host =
                    plan.data_offset + (cursor.allocated_before + guest - run.first) * CLUSTER_SIZE;
                bytes.extend_from_slice(&(host | COPIED).to_be_bytes());
            }
        }
        if run.end() > table_end {
            break; // the run goes on in the next table
        }
        cursor.allocated_before += run.count;
        cursor.run += 1;
    }
    span
}

/// Position in the data runs while encoding L2 tables in order.
#[derive(Debug, Default)]
pub struct RunCursor {
    run: usize,
    allocated_before: u64,
}

/// The refcount table: one 8-byte entry per refcount block.
pub fn encode_refcount_table(plan: &Qcow2Plan) -> Vec<u8> {
    (0..plan.refcount_blocks)
        .flat_map(|n| (plan.refcount_blocks_offset + n * CLUSTER_SIZE).to_be_bytes())
        .collect()
}

/// Refcount block `n`: refcount 1 for each cluster of the file it covers, up to the file's
/// end (the rest of the block stays a hole: refcount 0).
pub fn encode_refcount_block(plan: &Qcow2Plan, n: u64) -> Vec<u8> {
    let first = n * REFCOUNTS_PER_BLOCK;
    let covered = plan
        .host_clusters
        .saturating_sub(first)
        .min(REFCOUNTS_PER_BLOCK);
    1u16.to_be_bytes().repeat(covered as usize)
}

#[cfg(test)]
#[path = "qcow2_tests.rs"]
mod tests;
