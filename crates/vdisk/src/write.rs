//! Writing a planned container: the output file created at its final length (sparse), the
//! metadata the plan encodes written where it goes, each data piece copied from the raw image
//! with the copy engine (reflinked where the filesystem can), then fsync.

use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::path::Path;

use imgforge_copy::{open_source, CopyEngine, CopyError, CopyStats, Destination, OpenedCopy};

use crate::error::VdiskError;
use crate::placement::{for_each_piece, UnitPlacement};
use crate::plan::VirtualDiskPlan;
use crate::qcow2::{self, Qcow2Plan, RunCursor, CLUSTER_SIZE, REFCOUNTS_PER_BLOCK};
use crate::ranges::{DataRange, UnitRun};
use crate::vhd::VhdFixedPlan;
use crate::vhd_dynamic::{self, BatCursor, VhdDynamicPlan, BITMAP_SIZE, BLOCK_STRIDE};

/// BAT entries encoded per write: 64 KiB of table.
const BAT_CHUNK: u64 = 16 * 1024;

/// What a write produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    /// The output's length (holes included).
    pub file_size: u64,
    /// Data units allocated: qcow2 clusters, dynamic VHD blocks, or for a fixed VHD the
    /// data ranges.
    pub data_units: u64,
    /// Bytes of the data ranges.
    pub data_bytes: u64,
    /// Bytes of container metadata written (headers, tables, bitmaps, footers).
    pub metadata_bytes: u64,
    /// How the data was moved (copy_file_range, which reflinks where it can; read/write;
    /// holes inside ranges skipped).
    pub copy: CopyStats,
}

/// The open files of one write and what it has done so far.
struct Output<'a> {
    image: File,
    image_name: String,
    file: File,
    name: String,
    engine: &'a mut CopyEngine,
    progress: &'a mut dyn FnMut(u64) -> bool,
    virtual_size: u64,
    metadata_bytes: u64,
}

impl Output<'_> {
    fn put(&mut self, bytes: &[u8], offset: u64) -> Result<(), VdiskError> {
        self.engine
            .write_all_at(&self.file, &self.name, bytes, offset)?;
        self.metadata_bytes += bytes.len() as u64;
        Ok(())
    }

    fn copy(&mut self, source: Range<u64>, dest_offset: u64) -> Result<(), VdiskError> {
        let job = OpenedCopy {
            source: &self.image,
            source_name: &self.image_name,
            dest: &self.file,
            dest_name: &self.name,
            dest_offset,
            dest_capacity: source.end - source.start,
            dest_state: Destination::Zeroed,
            planned_length: Some(self.virtual_size),
        };
        self.engine.copy_data_range(&job, source, self.progress)?;
        Ok(())
    }

    /// Copies each range to where `placement` puts the units of `runs` (the plan's).
    fn copy_pieces(
        &mut self,
        ranges: &[DataRange],
        runs: &[UnitRun],
        placement: UnitPlacement,
    ) -> Result<(), VdiskError> {
        for_each_piece(ranges, runs, placement, |source, host| {
            self.copy(source, host)
        })
    }
}

/// Writes `plan` to `output` (created, or truncated if it exists) with the data of the raw
/// `image`, whose length must be the plan's virtual size. On failure the output is removed.
pub fn write_virtual_disk(
    plan: &VirtualDiskPlan,
    image: &Path,
    output: &Path,
    engine: &mut CopyEngine,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<WriteSummary, VdiskError> {
    if is_same_file(image, output) {
        // Checked before anything is opened: the output is truncated, and removed on failure.
        return Err(VdiskError::Image(format!(
            "output: {} is the image itself",
            output.display()
        )));
    }
    let stats_before = engine.stats();
    let result = write_all(plan, image, output, engine, progress);
    if result.is_err() {
        let _ = std::fs::remove_file(output);
    }
    let metadata_bytes = result?;
    let mut copy = engine.stats();
    copy.copy_file_range_bytes -= stats_before.copy_file_range_bytes;
    copy.read_write_bytes -= stats_before.read_write_bytes;
    copy.hole_bytes -= stats_before.hole_bytes;
    Ok(WriteSummary {
        file_size: plan.file_length(),
        data_units: plan.data_units(),
        data_bytes: plan.ranges().iter().map(|range| range.length).sum(),
        metadata_bytes,
        copy,
    })
}

/// Whether both paths name one existing file (hard links and symlinks included).
fn is_same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
    }
}

fn write_all(
    plan: &VirtualDiskPlan,
    image: &Path,
    output: &Path,
    engine: &mut CopyEngine,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<u64, VdiskError> {
    let image_name = image.display().to_string();
    let source = open_source(image).map_err(|error| match error {
        CopyError::Io { source, .. } => {
            VdiskError::Image(format!("image: cannot open {image_name}: {source}"))
        }
        other => VdiskError::Copy(other),
    })?;
    let image_len = source
        .metadata()
        .map_err(|error| VdiskError::Image(format!("image: cannot stat {image_name}: {error}")))?
        .len();
    if image_len != plan.virtual_size() {
        return Err(VdiskError::Image(format!(
            "image: {image_name} is {image_len} bytes but virtualSize is {}: they must be equal",
            plan.virtual_size()
        )));
    }
    let name = output.display().to_string();
    let io_error = |what: &str, error| {
        VdiskError::Copy(CopyError::Io {
            context: format!("{what} {name}"),
            source: error,
        })
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(output)
        .map_err(|error| io_error("cannot create", error))?;
    file.set_len(plan.file_length())
        .map_err(|error| io_error("cannot size", error))?;
    let mut out = Output {
        image: source,
        image_name,
        file,
        name: name.clone(),
        engine,
        progress,
        virtual_size: plan.virtual_size(),
        metadata_bytes: 0,
    };
    match plan {
        VirtualDiskPlan::Qcow2(plan) => write_qcow2(plan, &mut out)?,
        VirtualDiskPlan::VhdFixed(plan) => write_vhd_fixed(plan, &mut out)?,
        VirtualDiskPlan::VhdDynamic(plan) => write_vhd_dynamic(plan, &mut out)?,
    }
    out.file
        .sync_all()
        .map_err(|error| io_error("cannot fsync", error))?;
    Ok(out.metadata_bytes)
}

fn write_qcow2(plan: &Qcow2Plan, out: &mut Output) -> Result<(), VdiskError> {
    out.put(&qcow2::encode_header(plan), 0)?;
    for table in &plan.l2_tables {
        out.put(&qcow2::l1_entry(table), plan.l1_offset + table.l1_index * 8)?;
    }
    out.put(
        &qcow2::encode_refcount_table(plan),
        plan.refcount_table_offset,
    )?;
    for n in 0..plan.refcount_blocks {
        let block = qcow2::encode_refcount_block(plan, n);
        out.put(&block, plan.refcount_blocks_offset + n * CLUSTER_SIZE)?;
    }
    debug_assert!(plan.refcount_blocks * REFCOUNTS_PER_BLOCK >= plan.host_clusters);
    let mut cursor = RunCursor::default();
    for table in &plan.l2_tables {
        if let Some((first, entries)) = qcow2::encode_l2_span(plan, table, &mut cursor) {
            out.put(&entries, table.host_offset + first * 8)?;
        }
    }
    out.copy_pieces(
        &plan.ranges,
        &plan.data_runs,
        UnitPlacement {
            unit: CLUSTER_SIZE,
            first_offset: plan.data_offset,
            stride: CLUSTER_SIZE,
        },
    )
}

fn write_vhd_fixed(plan: &VhdFixedPlan, out: &mut Output) -> Result<(), VdiskError> {
    for range in &plan.ranges {
        out.copy(range.offset..range.end(), range.offset)?;
    }
    out.put(&plan.footer(), plan.virtual_size)
}

fn write_vhd_dynamic(plan: &VhdDynamicPlan, out: &mut Output) -> Result<(), VdiskError> {
    let footer = plan.footer();
    out.put(&footer, 0)?;
    out.put(&plan.dynamic_header(), vhd_dynamic::DYNAMIC_HEADER_OFFSET)?;
    let mut cursor = BatCursor::default();
    let mut first = 0;
    while first < plan.bat_entries {
        let count = (plan.bat_entries - first).min(BAT_CHUNK);
        let entries = plan.encode_bat(first, count, &mut cursor);
        out.put(&entries, vhd_dynamic::BAT_OFFSET + first * 4)?;
        first += count;
    }
    let bitmap = vhd_dynamic::encode_bitmap();
    for k in 0..plan.allocated_blocks() {
        let data = plan.first_data_offset + k * BLOCK_STRIDE;
        out.put(&bitmap, data - BITMAP_SIZE)?;
    }
    out.copy_pieces(&plan.ranges, &plan.block_runs, plan.placement())?;
    out.put(&footer, plan.footer_offset())
}
