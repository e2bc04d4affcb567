//! The formats and their plans, behind one type the writer consumes.

use std::fmt;
use std::str::FromStr;

use crate::error::VdiskError;
use crate::identity::VhdIdentity;
use crate::qcow2::{plan_qcow2, Qcow2Plan};
use crate::ranges::DataRange;
use crate::vhd::{plan_vhd_fixed, VhdFixedPlan};
use crate::vhd_dynamic::{plan_vhd_dynamic, VhdDynamicPlan};

/// A virtual-disk container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtualDiskFormat {
    /// qcow2 version 3, 64 KiB clusters.
    Qcow2,
    /// Fixed VHD (disk type 2), as Azure takes it.
    Vhd,
    /// Dynamic VHD (disk type 3), 2 MiB blocks.
    VhdDynamic,
}

impl VirtualDiskFormat {
    pub fn as_str(&self) -> &'static str {
        match self {
            VirtualDiskFormat::Qcow2 => "qcow2",
            VirtualDiskFormat::Vhd => "vhd",
            VirtualDiskFormat::VhdDynamic => "vhd-dynamic",
        }
    }
}

impl fmt::Display for VirtualDiskFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VirtualDiskFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "qcow2" => Ok(VirtualDiskFormat::Qcow2),
            "vhd" => Ok(VirtualDiskFormat::Vhd),
            "vhd-dynamic" => Ok(VirtualDiskFormat::VhdDynamic),
            other => Err(format!(
                "format: {other:?} is not a virtual-disk format (qcow2, vhd, vhd-dynamic)"
            )),
        }
    }
}

/// Where everything goes in the output: what [`write_virtual_disk`](crate::write_virtual_disk)
/// consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VirtualDiskPlan {
    Qcow2(Qcow2Plan),
    VhdFixed(VhdFixedPlan),
    VhdDynamic(VhdDynamicPlan),
}

/// Plans a `format` container for a raw image of `virtual_size` bytes whose data is `ranges`
/// (sorted, non-overlapping). `identity` is used by the VHD formats only. Touches no file.
pub fn plan_virtual_disk(
    format: VirtualDiskFormat,
    virtual_size: u64,
    ranges: &[DataRange],
    identity: &VhdIdentity,
) -> Result<VirtualDiskPlan, VdiskError> {
    Ok(match format {
        VirtualDiskFormat::Qcow2 => VirtualDiskPlan::Qcow2(plan_qcow2(virtual_size, ranges)?),
        VirtualDiskFormat::Vhd => {
            VirtualDiskPlan::VhdFixed(plan_vhd_fixed(virtual_size, ranges, identity)?)
        }
        VirtualDiskFormat::VhdDynamic => {
            VirtualDiskPlan::VhdDynamic(plan_vhd_dynamic(virtual_size, ranges, identity)?)
        }
    })
}

impl VirtualDiskPlan {
    pub fn virtual_size(&self) -> u64 {
        match self {
            VirtualDiskPlan::Qcow2(plan) => plan.virtual_size,
            VirtualDiskPlan::VhdFixed(plan) => plan.virtual_size,
            VirtualDiskPlan::VhdDynamic(plan) => plan.virtual_size,
        }
    }

    pub fn file_length(&self) -> u64 {
        match self {
            VirtualDiskPlan::Qcow2(plan) => plan.file_length(),
            VirtualDiskPlan::VhdFixed(plan) => plan.file_length(),
            VirtualDiskPlan::VhdDynamic(plan) => plan.file_length(),
        }
    }

    /// qcow2 data clusters, dynamic VHD blocks, or a fixed VHD's data ranges.
    pub fn data_units(&self) -> u64 {
        match self {
            VirtualDiskPlan::Qcow2(plan) => plan.data_clusters(),
            VirtualDiskPlan::VhdFixed(plan) => plan.ranges.len() as u64,
            VirtualDiskPlan::VhdDynamic(plan) => plan.allocated_blocks(),
        }
    }

    pub fn ranges(&self) -> &[DataRange] {
        match self {
            VirtualDiskPlan::Qcow2(plan) => &plan.ranges,
            VirtualDiskPlan::VhdFixed(plan) => &plan.ranges,
            VirtualDiskPlan::VhdDynamic(plan) => &plan.ranges,
        }
    }
}
