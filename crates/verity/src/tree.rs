//! Computing (or checking) a format-1 hash tree level by level, streaming: level 0 reads the data
//! area once in 1 MiB chunks (in one stripe per CPU) and writes its digests into the hash area as they fill; each higher
//! level reads the level below back (from the page cache, just written). Memory stays at two
//! chunk buffers whatever the data size. Digest of a block = H(salt || block) (hash type 1: salt
//! first, cryptsetup's verify_hash_block), stored in a power-of-two slot, the rest of a hash
//! block zero.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256, Sha512};

use crate::geometry::{digest_slot, geometry, Geometry};
use crate::superblock::{Superblock, SUPERBLOCK_SIZE};
use crate::{Control, HashAlgorithm, Params, Region, VerityError};

/// Bytes read at a time by each thread.
const CHUNK: usize = 1 << 20;
/// Levels of at least this many bytes are hashed by up to MAX_THREADS threads.
const MAX_THREADS: usize = 8;
const PARALLEL_MIN: u64 = 4 << 20;
/// Bytes read ahead of the chunk being hashed.
const PREFETCH: u64 = 8 << 20;

/// What one pass does with the hash blocks it computes.
#[derive(Clone, Copy)]
enum Mode {
    Write,
    /// Compare with the blocks already there; the first difference is kept.
    Check,
}

struct Pass<'a> {
    hash: &'a Region<'a>,
    block: usize,
    mode: Mode,
    mismatch: Option<String>,
}

impl Pass<'_> {
    fn emit(&mut self, at_block: u64, bytes: &[u8], what: &str) -> Result<(), VerityError> {
        let offset = self.hash.offset + at_block * self.block as u64;
        match self.mode {
            Mode::Write => self
                .hash
                .file
                .write_all_at(bytes, offset)
                .map_err(|e| VerityError::io("writing the hash tree", e)),
            Mode::Check => {
                if self.mismatch.is_some() {
                    return Ok(());
                }
                let mut found = vec![0u8; bytes.len()];
                self.hash
                    .file
                    .read_exact_at(&mut found, offset)
                    .map_err(|e| VerityError::io("reading the hash tree", e))?;
                if let Some(at) = found
                    .chunks(self.block)
                    .zip(bytes.chunks(self.block))
                    .position(|(a, b)| a != b)
                {
                    self.mismatch = Some(format!(
                        "hash block {} ({what}) differs",
                        at_block + at as u64
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Asks the kernel to start reading up to PREFETCH bytes from `offset` (at most `left`), so that a
/// cold data partition (reflinked into the image, so not in the page cache) streams from disk
/// while the chunk before is hashed. Advice only: a failure changes nothing but speed.
fn prefetch(file: &File, offset: u64, left: u64) {
    let len = left.min(PREFETCH);
    if len > 0 {
        let _ = nix::fcntl::posix_fadvise(
            file.as_fd(),
            offset as i64,
            len as i64,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_WILLNEED,
        );
    }
}

/// Hashes `count` blocks of `block_size` bytes read from `source` into the hash blocks from
/// `first_block` on: large levels (level 0, nearly all the work) in contiguous stripes, one per
/// CPU, each a whole number of hash blocks, so the threads never wait for each other until the
/// end (SHA-256 with the SHA extensions runs at about 1.2 GB/s per core; one core would bound it).
#[allow(clippy::too_many_arguments)]
fn hash_level<D: Digest + Clone + Sync>(
    salted: &D,
    source: &File,
    source_offset: u64,
    block_size: usize,
    count: u64,
    first_block: u64,
    pass: &mut Pass,
    control: &Control,
    what: &str,
) -> Result<(), VerityError> {
    let per_block = (pass.block / digest_slot(<D as Digest>::output_size())) as u64;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS) as u64;
    if threads < 2 || count * (block_size as u64) < PARALLEL_MIN {
        return hash_range(
            salted,
            source,
            source_offset,
            block_size,
            count,
            first_block,
            pass,
            control,
            what,
        );
    }
    // Stripe i: hash blocks [i * stripe, (i + 1) * stripe) of this level.
    let hash_blocks = count.div_ceil(per_block);
    let stripe = hash_blocks.div_ceil(threads);
    let (hash, block, mode) = (pass.hash, pass.block, pass.mode);
    let results: Vec<Result<Option<String>, VerityError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .filter(|i| i * stripe < hash_blocks)
            .map(|i| {
                scope.spawn(move || {
                    let first = i * stripe * per_block;
                    let n = (stripe * per_block).min(count - first);
                    let mut own = Pass {
                        hash,
                        block,
                        mode,
                        mismatch: None,
                    };
                    hash_range(
                        salted,
                        source,
                        source_offset + first * block_size as u64,
                        block_size,
                        n,
                        first_block + i * stripe,
                        &mut own,
                        control,
                        what,
                    )?;
                    Ok(own.mismatch)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hashing thread panicked"))
            .collect()
    });
    for result in results {
        // Stripes are in order, so the first mismatch found is the first on disk.
        if let Some(found) = result? {
            pass.mismatch.get_or_insert(found);
        }
    }
    Ok(())
}

/// hash_level on one thread. `zero` is the digest of an all-zero block, used without hashing such blocks
/// (unwritten parts of a filesystem are long runs of them).
#[allow(clippy::too_many_arguments)]
fn hash_range<D: Digest + Clone>(
    salted: &D,
    source: &File,
    source_offset: u64,
    block_size: usize,
    count: u64,
    first_block: u64,
    pass: &mut Pass,
    control: &Control,
    what: &str,
) -> Result<(), VerityError> {
    let digest_size = <D as Digest>::output_size();
    let slot = digest_slot(digest_size);
    let per_block = pass.block / slot;
    let zeros = vec![0u8; block_size];
    let zero: Vec<u8> = salted.clone().chain_update(&zeros).finalize().to_vec();
    let chunk_blocks = (CHUNK / block_size).max(1);
    let mut input = vec![0u8; chunk_blocks * block_size];
    // Output: whole hash blocks, flushed when a chunk's worth is full.
    let out_blocks = (CHUNK / pass.block).max(1);
    let mut output = vec![0u8; out_blocks * pass.block];
    let mut filled = 0usize; // digests in `output`
    let mut next_block = first_block;
    let mut done = 0u64;
    while done < count {
        if control
            .cancelled
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
        {
            return Err(VerityError::Cancelled);
        }
        let n = chunk_blocks.min((count - done) as usize);
        let at = source_offset + done * block_size as u64;
        prefetch(
            source,
            at + (n * block_size) as u64,
            (count - done - n as u64) * block_size as u64,
        );
        let buffer = &mut input[..n * block_size];
        source
            .read_exact_at(buffer, at)
            .map_err(|e| VerityError::io(&format!("reading {what}"), e))?;
        for block in buffer.chunks_exact(block_size) {
            let at = (filled / per_block) * pass.block + (filled % per_block) * slot;
            if block == zeros.as_slice() {
                output[at..at + digest_size].copy_from_slice(&zero);
            } else {
                output[at..at + digest_size]
                    .copy_from_slice(&salted.clone().chain_update(block).finalize());
            }
            filled += 1;
            if filled == out_blocks * per_block {
                pass.emit(next_block, &output, what)?;
                next_block += out_blocks as u64;
                output.fill(0);
                filled = 0;
            }
        }
        done += n as u64;
        if let Some(progress) = control.progress {
            progress.fetch_add((n * block_size) as u64, Ordering::Relaxed);
        }
    }
    if filled > 0 {
        let blocks = filled.div_ceil(per_block);
        pass.emit(next_block, &output[..blocks * pass.block], what)?;
    }
    Ok(())
}

/// Runs the whole tree: every level, then the root hash over the top block.
fn run<D: Digest + Clone + Sync>(
    data: &Region,
    hash: &Region,
    params: &Params,
    mode: Mode,
    control: &Control,
) -> Result<(Vec<u8>, Option<String>, Geometry), VerityError> {
    let digest_size = <D as Digest>::output_size();
    let g = geometry(
        data.blocks,
        params.hash_block_size,
        digest_size,
        params.uuid.is_some(),
    )?;
    let needed = g.hash_area_size();
    if needed > hash.size {
        return Err(VerityError::TooSmall {
            needed,
            available: hash.size,
        });
    }
    let salted = D::new().chain_update(&params.salt);
    let mut pass = Pass {
        hash,
        block: params.hash_block_size as usize,
        mode,
        mismatch: None,
    };
    if let Some(uuid) = params.uuid {
        let superblock = Superblock {
            uuid,
            algorithm: params.algorithm,
            data_block_size: params.data_block_size,
            hash_block_size: params.hash_block_size,
            data_blocks: data.blocks,
            salt: params.salt.clone(),
        };
        let mut block = vec![0u8; params.hash_block_size as usize];
        block[..SUPERBLOCK_SIZE].copy_from_slice(&superblock.encode());
        pass.emit(0, &block, "the superblock")?;
    }
    let data_block = params.data_block_size as usize;
    let hash_block = params.hash_block_size as usize;
    for (i, level) in g.levels.iter().enumerate() {
        let what = format!("level {i}");
        if i == 0 {
            hash_level(
                &salted,
                data.file,
                data.offset,
                data_block,
                data.blocks,
                level.first_block,
                &mut pass,
                control,
                "level 0, the digests of the data blocks",
            )?;
        } else {
            let below = g.levels[i - 1];
            // Checking reads the computed level below from the hash area too: a difference there
            // is reported already, and the levels above then differ as well.
            hash_level(
                &salted,
                hash.file,
                hash.offset + below.first_block * hash_block as u64,
                hash_block,
                below.blocks,
                level.first_block,
                &mut pass,
                control,
                &what,
            )?;
        }
    }
    // The root hash: the digest of the top block (the only data block when there are no levels).
    let (file, offset, size) = match g.levels.last() {
        Some(top) => (
            hash.file,
            hash.offset + top.first_block * hash_block as u64,
            hash_block,
        ),
        None => (data.file, data.offset, data_block),
    };
    let mut top = vec![0u8; size];
    file.read_exact_at(&mut top, offset)
        .map_err(|e| VerityError::io("reading the top hash block", e))?;
    let root = salted.chain_update(&top).finalize().to_vec();
    Ok((root, pass.mismatch, g))
}

/// What [crate::format] or [crate::verify] computed.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub root_hash: Vec<u8>,
    /// verify: the first hash block (or the superblock) that differs from the recomputed one.
    pub mismatch: Option<String>,
    pub geometry: Geometry,
}

pub(crate) fn compute(
    data: &Region,
    hash: &Region,
    params: &Params,
    check: bool,
    control: &Control,
) -> Result<Outcome, VerityError> {
    params.check()?;
    let mode = if check { Mode::Check } else { Mode::Write };
    let (root_hash, mismatch, geometry) = match params.algorithm {
        HashAlgorithm::Sha256 => run::<Sha256>(data, hash, params, mode, control)?,
        HashAlgorithm::Sha512 => run::<Sha512>(data, hash, params, mode, control)?,
    };
    Ok(Outcome {
        root_hash,
        mismatch,
        geometry,
    })
}
