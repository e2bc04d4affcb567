//! Virtual-disk containers (qcow2, fixed and dynamic VHD) from a finished raw image and its
//! data ranges. Conversions only; crates/vdisk plans and writes.

use imgforge_copy::CopyEngine;
use imgforge_vdisk::{
    plan_virtual_disk, write_virtual_disk, DataRange, VdiskError, VhdIdentity, VirtualDiskFormat,
    VirtualDiskPlan,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{invalid, parse_mode, to_u64, CopyProgress, CopyStatsJs, ProgressTracker};

/// Bytes `[offset, offset + length)` of the raw image that hold data.
#[napi(object)]
pub struct VirtualDiskDataRange {
    pub offset: f64,
    pub length: f64,
}

#[napi(object)]
pub struct VirtualDiskOptions {
    #[napi(ts_type = "'qcow2' | 'vhd' | 'vhd-dynamic'")]
    pub format: String,
    /// The finished raw disk image.
    pub image: String,
    /// The raw image's size in bytes (a whole number of MiB for 'vhd', as Azure requires).
    pub virtual_size: f64,
    /// Sorted, non-overlapping ranges that hold data; the rest of the image is zeros and is
    /// never read.
    pub data_ranges: Vec<VirtualDiskDataRange>,
    /// The file to write (created, or truncated); removed again if the write fails.
    pub output: String,
    /// The VHD's unique id (random when absent).
    pub uuid: Option<String>,
    /// The VHD's time stamp, in seconds since 1970 (SOURCE_DATE_EPOCH, else now, when absent).
    pub timestamp: Option<f64>,
    /// How data is copied: "auto" (default), "copy-file-range" or "read-write".
    #[napi(ts_type = "'auto' | 'copy-file-range' | 'read-write'")]
    pub copy: Option<String>,
}

/// What `writeVirtualDisk` wrote (imgforge_vdisk::WriteSummary).
#[napi(object)]
pub struct VirtualDiskSummary {
    /// The output's length, holes included.
    pub file_size: f64,
    /// qcow2 data clusters, dynamic VHD blocks, or a fixed VHD's data ranges.
    pub data_units: f64,
    /// Bytes of the data ranges.
    pub data_bytes: f64,
    /// Bytes of headers, tables, bitmaps and footers written.
    pub metadata_bytes: f64,
    /// How the data moved: copyFileRangeBytes were shared by reflink where the filesystem can.
    #[napi(ts_type = "CopyStats")]
    pub copy: CopyStatsJs,
}

pub struct VirtualDiskTask {
    plan: VirtualDiskPlan,
    image: String,
    output: String,
    engine: Option<CopyEngine>,
    progress: Option<ProgressTracker>,
}

impl Task for VirtualDiskTask {
    type Output = VirtualDiskSummary;
    type JsValue = VirtualDiskSummary;

    fn compute(&mut self) -> Result<Self::Output> {
        let mut engine = self
            .engine
            .take()
            .ok_or_else(|| Error::from_reason("writeVirtualDisk ran twice"))?;
        let summary = write_virtual_disk(
            &self.plan,
            self.image.as_ref(),
            self.output.as_ref(),
            &mut engine,
            &mut |bytes| self.progress.as_ref().is_none_or(|p| p.advance(bytes)),
        )
        .map_err(|error| Error::from_reason(error.to_string()))?;
        Ok(VirtualDiskSummary {
            file_size: summary.file_size as f64,
            data_units: summary.data_units as f64,
            data_bytes: summary.data_bytes as f64,
            metadata_bytes: summary.metadata_bytes as f64,
            copy: summary.copy.into(),
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

fn plan_error(error: VdiskError) -> Error {
    invalid(error)
}

/// Writes a qcow2, fixed VHD or dynamic VHD of a raw image on a worker thread. Bad options
/// (format, sizes, ranges, uuid) throw at once; failures of the write reject. `progress`
/// counts the data ranges' bytes as they are copied, and can cancel.
#[napi(
    js_name = "writeVirtualDisk",
    ts_return_type = "Promise<VirtualDiskSummary>"
)]
pub fn write_virtual_disk_file(
    options: VirtualDiskOptions,
    progress: Option<&CopyProgress>,
) -> Result<AsyncTask<VirtualDiskTask>> {
    let format: VirtualDiskFormat = options.format.parse().map_err(invalid)?;
    let virtual_size = to_u64(options.virtual_size, "virtualSize")?;
    let ranges = options
        .data_ranges
        .iter()
        .enumerate()
        .map(|(index, range)| {
            Ok(DataRange {
                offset: to_u64(range.offset, &format!("dataRanges[{index}].offset"))?,
                length: to_u64(range.length, &format!("dataRanges[{index}].length"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let timestamp = options
        .timestamp
        .map(|time| to_u64(time, "timestamp"))
        .transpose()?;
    let identity = VhdIdentity::resolve(options.uuid.as_deref(), timestamp).map_err(plan_error)?;
    let plan = plan_virtual_disk(format, virtual_size, &ranges, &identity).map_err(plan_error)?;
    let mode = parse_mode(options.copy.as_deref().unwrap_or("auto"))?;
    Ok(AsyncTask::new(VirtualDiskTask {
        plan,
        image: options.image,
        output: options.output,
        engine: Some(CopyEngine::new(mode)),
        progress: progress.map(CopyProgress::tracker),
    }))
}
