//! The limits the writer and the reader share, so that every EROFS imgforge writes reads back.

/// Directories below the root a directory may be at, in what imgforge writes (its scan
/// refuses deeper sources) and in what it reads (deeper ones are a DIRECTORY_TOO_DEEP finding
/// and are not entered). The scan keeps each directory's path, so the bound also bounds that.
pub const MAX_DEPTH: u32 = 512;
/// Entries (names, the root included) imgforge writes into one EROFS, and reads from one.
pub const MAX_ENTRIES: usize = 1 << 24;
