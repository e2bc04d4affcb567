//! dm-verity hash partitions: sizing, writing and checking a tree (imgforge_verity) over a
//! partition of an image, and reading a hash partition's superblock.

use std::fs::OpenOptions;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use imgforge_verity::{
    Control, HashAlgorithm, Params, Region, Superblock, VerityError, SUPERBLOCK_SIZE,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::{invalid, open_image, to_u64, CopyProgress};

#[napi(object)]
pub struct VerityOptions {
    /// "sha256" or "sha512".
    pub hash_algorithm: String,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    /// Hexadecimal, at most 256 bytes.
    pub salt: String,
    /// The superblock's UUID (32 hexadecimal digits, dashes allowed); absent: no superblock.
    pub uuid: Option<String>,
}

/// A stretch of the image in bytes.
#[napi(object)]
pub struct VerityArea {
    pub offset: f64,
    pub size: f64,
}

#[napi(object)]
pub struct VerityTree {
    /// Lower-case hexadecimal.
    pub root_hash: String,
    pub data_blocks: f64,
    /// Bytes of the hash area the tree (and superblock) use.
    pub hash_area_size: f64,
    /// verify: the first hash block (or the superblock) that differs from the recomputed one.
    pub mismatch: Option<String>,
}

#[napi(object, js_name = "VeritySuperblock")]
pub struct VeritySuperblockJs {
    /// RFC 4122 text, lower case.
    pub uuid: String,
    pub hash_algorithm: String,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: f64,
    pub salt: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str, what: &str) -> Result<Vec<u8>> {
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    if !digits.len().is_multiple_of(2) || !digits.is_ascii() {
        return Err(invalid(format!(
            "{what} must be hexadecimal digits, got {text:?}"
        )));
    }
    (0..digits.len() / 2)
        .map(|i| {
            u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| invalid(format!("{what} must be hexadecimal digits, got {text:?}")))
        })
        .collect()
}

fn params(options: &VerityOptions) -> Result<Params> {
    let algorithm = HashAlgorithm::from_name(&options.hash_algorithm).ok_or_else(|| {
        invalid(format!(
            "hashAlgorithm must be sha256 or sha512, got {:?}",
            options.hash_algorithm
        ))
    })?;
    let uuid =
        match &options.uuid {
            Some(text) => Some(<[u8; 16]>::try_from(from_hex(text, "uuid")?).map_err(|_| {
                invalid(format!("uuid must be 32 hexadecimal digits, got {text:?}"))
            })?),
            None => None,
        };
    Ok(Params {
        algorithm,
        data_block_size: options.data_block_size,
        hash_block_size: options.hash_block_size,
        salt: from_hex(&options.salt, "salt")?,
        uuid,
    })
}

fn verity_error(error: VerityError) -> Error {
    match error {
        VerityError::Cancelled => Error::new(Status::Cancelled, "cancelled"),
        other => Error::from_reason(other.to_string()),
    }
}

/// Bytes the hash area needs for `dataSize` bytes of data (whole data blocks).
#[napi]
pub fn verity_hash_area_size(data_size: f64, options: VerityOptions) -> Result<f64> {
    let size = imgforge_verity::hash_area_size(to_u64(data_size, "dataSize")?, &params(&options)?)
        .map_err(verity_error)?;
    Ok(size as f64)
}

pub struct VerityTask {
    image: String,
    data: (u64, u64),
    hash: (u64, u64),
    params: Params,
    check: bool,
    progress: Option<(Arc<AtomicU64>, Arc<AtomicBool>)>,
}

impl Task for VerityTask {
    type Output = VerityTree;
    type JsValue = VerityTree;

    fn compute(&mut self) -> Result<VerityTree> {
        let file = if self.check {
            open_image(&self.image)?
        } else {
            // Opened for writing, never created: the build made the image.
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.image)
                .map_err(|e| Error::from_reason(format!("cannot open {}: {e}", self.image)))?
        };
        let blocks = self.data.1 / u64::from(self.params.data_block_size);
        let data = Region {
            file: &file,
            offset: self.data.0,
            blocks,
            size: 0,
        };
        let hash = Region {
            file: &file,
            offset: self.hash.0,
            blocks: 0,
            size: self.hash.1,
        };
        let control = Control {
            progress: self.progress.as_ref().map(|(bytes, _)| bytes.as_ref()),
            cancelled: self.progress.as_ref().map(|(_, flag)| flag.as_ref()),
        };
        let outcome = if self.check {
            imgforge_verity::verify(&data, &hash, &self.params, &control)
        } else {
            imgforge_verity::format(&data, &hash, &self.params, &control)
        }
        .map_err(verity_error)?;
        Ok(VerityTree {
            root_hash: hex(&outcome.root_hash),
            data_blocks: blocks as f64,
            hash_area_size: outcome.geometry.hash_area_size() as f64,
            mismatch: outcome.mismatch,
        })
    }

    fn resolve(&mut self, _env: Env, output: VerityTree) -> Result<VerityTree> {
        Ok(output)
    }
}

fn task(
    image: String,
    data: VerityArea,
    hash: VerityArea,
    options: &VerityOptions,
    check: bool,
    progress: Option<&CopyProgress>,
) -> Result<AsyncTask<VerityTask>> {
    Ok(AsyncTask::new(VerityTask {
        image,
        data: (
            to_u64(data.offset, "data.offset")?,
            to_u64(data.size, "data.size")?,
        ),
        hash: (
            to_u64(hash.offset, "hash.offset")?,
            to_u64(hash.size, "hash.size")?,
        ),
        params: params(options)?,
        check,
        progress: progress.map(|p| (p.bytes.clone(), p.cancelled.clone())),
    }))
}

/// Writes the tree of the data area into the hash area of `image` (on a worker thread) and
/// returns the root hash.
#[napi(ts_return_type = "Promise<VerityTree>")]
pub fn verity_format(
    image: String,
    data: VerityArea,
    hash: VerityArea,
    options: VerityOptions,
    progress: &CopyProgress,
) -> Result<AsyncTask<VerityTask>> {
    task(image, data, hash, &options, false, Some(progress))
}

/// Recomputes the tree of the data area and compares it with the hash area (on a worker thread).
#[napi(ts_return_type = "Promise<VerityTree>")]
pub fn verity_verify(
    image: String,
    data: VerityArea,
    hash: VerityArea,
    options: VerityOptions,
) -> Result<AsyncTask<VerityTask>> {
    task(image, data, hash, &options, true, None)
}

/// The verity superblock at byte `offset` of `image`, or null when there is none; a damaged one
/// is an error naming its field.
#[napi]
pub fn read_verity_superblock(image: String, offset: f64) -> Result<Option<VeritySuperblockJs>> {
    use std::os::unix::fs::FileExt;
    let file = open_image(&image)?;
    let mut bytes = [0u8; SUPERBLOCK_SIZE];
    let read = file
        .read_at(&mut bytes, to_u64(offset, "offset")?)
        .map_err(|e| Error::from_reason(format!("cannot read {image}: {e}")))?;
    decode_verity_superblock(Buffer::from(&bytes[..read]))
}

/// The verity superblock at the start of `bytes` (a partition's first bytes), or null when there
/// is none; a damaged one is an error naming its field.
#[napi]
pub fn decode_verity_superblock(bytes: Buffer) -> Result<Option<VeritySuperblockJs>> {
    let Some(sb) = Superblock::decode(&bytes).map_err(verity_error)? else {
        return Ok(None);
    };
    let u = hex(&sb.uuid);
    Ok(Some(VeritySuperblockJs {
        uuid: format!(
            "{}-{}-{}-{}-{}",
            &u[0..8],
            &u[8..12],
            &u[12..16],
            &u[16..20],
            &u[20..32]
        ),
        hash_algorithm: sb.algorithm.name().to_string(),
        data_block_size: sb.data_block_size,
        hash_block_size: sb.hash_block_size,
        data_blocks: sb.data_blocks as f64,
        salt: hex(&sb.salt),
    }))
}
