//! dm-verity hash trees over a partition of an image: the tree in format 1 exactly as
//! `veritysetup format` writes it (with its superblock, as systemd-repart writes the hash
//! partitions of the Discoverable Partitions Specification), computed in process without
//! device-mapper, and checked back by `verify`.
//!
//! [geometry] is the pure layout arithmetic; [format] writes a tree and returns the root hash;
//! [verify] recomputes one and reports the first difference; [Superblock] reads and writes the
//! on-disk header.

pub mod geometry;
mod superblock;
mod tree;

use std::fmt;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64};

pub use geometry::{geometry, Geometry, Level, MAX_SALT_SIZE};
pub use superblock::{Superblock, SUPERBLOCK_SIZE};
pub use tree::Outcome;

/// The digest a tree uses; the names are the superblock's (and veritysetup's `--hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha512,
}

impl HashAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    pub fn from_name(name: &str) -> Option<HashAlgorithm> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    pub fn digest_size(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha512 => 64,
        }
    }
}

/// How a tree is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub algorithm: HashAlgorithm,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub salt: Vec<u8>,
    /// The superblock's UUID (RFC 4122 byte order); `None` writes no superblock (the tree starts
    /// at the hash area's first byte, as `veritysetup --no-superblock`).
    pub uuid: Option<[u8; 16]>,
}

impl Params {
    fn check(&self) -> Result<(), VerityError> {
        for (what, size) in [
            ("data", self.data_block_size),
            ("hash", self.hash_block_size),
        ] {
            if !geometry::block_size_ok(size) {
                return Err(VerityError::Invalid(format!(
                    "{what} block size {size} is not a power of two from 512 to 524288"
                )));
            }
        }
        if self.salt.len() > MAX_SALT_SIZE {
            return Err(VerityError::Invalid(format!(
                "the salt is {} bytes; at most {MAX_SALT_SIZE}",
                self.salt.len()
            )));
        }
        Ok(())
    }
}

/// A stretch of a file: the data area (`blocks` data blocks from `offset`) or the hash area
/// (`size` bytes from `offset`). Both may be the same image file.
pub struct Region<'a> {
    pub file: &'a File,
    pub offset: u64,
    /// Data area: its blocks. Unused for the hash area.
    pub blocks: u64,
    /// Hash area: the bytes it may use. Unused for the data area.
    pub size: u64,
}

/// Progress (bytes of blocks hashed, all levels) and cancellation, polled between chunks.
#[derive(Default)]
pub struct Control<'a> {
    pub progress: Option<&'a AtomicU64>,
    pub cancelled: Option<&'a AtomicBool>,
}

#[derive(Debug)]
pub enum VerityError {
    Invalid(String),
    TooSmall {
        needed: u64,
        available: u64,
    },
    Io {
        what: String,
        source: std::io::Error,
    },
    Cancelled,
}

impl VerityError {
    fn io(what: &str, source: std::io::Error) -> VerityError {
        VerityError::Io {
            what: what.to_string(),
            source,
        }
    }
}

impl fmt::Display for VerityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerityError::Invalid(message) => f.write_str(message),
            VerityError::TooSmall { needed, available } => {
                write!(
                    f,
                    "the hash tree needs {needed} bytes but the hash partition holds {available}"
                )
            }
            VerityError::Io { what, source } => write!(f, "{what}: {source}"),
            VerityError::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for VerityError {}

/// Bytes the hash area needs for `data_size` bytes of data (whole data blocks; a partial last
/// block is not covered, as veritysetup counts them).
pub fn hash_area_size(data_size: u64, params: &Params) -> Result<u64, VerityError> {
    params.check()?;
    let blocks = data_size / u64::from(params.data_block_size);
    Ok(geometry(
        blocks,
        params.hash_block_size,
        params.algorithm.digest_size(),
        params.uuid.is_some(),
    )?
    .hash_area_size())
}

/// Writes the tree of `data` (and the superblock, if `params.uuid` is set) into `hash` and
/// returns the root hash. The rest of the hash area is left as it is (zeros in a fresh image).
pub fn format(
    data: &Region,
    hash: &Region,
    params: &Params,
    control: &Control,
) -> Result<Outcome, VerityError> {
    tree::compute(data, hash, params, false, control)
}

/// Recomputes the tree of `data` and compares it with what `hash` holds, block by block; the
/// caller compares the root hash with the expected one.
pub fn verify(
    data: &Region,
    hash: &Region,
    params: &Params,
    control: &Control,
) -> Result<Outcome, VerityError> {
    tree::compute(data, hash, params, true, control)
}
