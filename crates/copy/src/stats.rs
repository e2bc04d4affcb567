use std::ops::AddAssign;

/// Bytes handled per method. `copy_file_range_bytes + read_write_bytes` is the data that was
/// copied; `hole_bytes` is what was skipped (fresh destination) or zeroed (dirty destination).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CopyStats {
    pub copy_file_range_bytes: u64,
    pub read_write_bytes: u64,
    pub hole_bytes: u64,
}

impl AddAssign for CopyStats {
    fn add_assign(&mut self, other: Self) {
        self.copy_file_range_bytes += other.copy_file_range_bytes;
        self.read_write_bytes += other.read_write_bytes;
        self.hole_bytes += other.hole_bytes;
    }
}
