//! The raw image as a compressed stream: zstd (multi-threaded), xz (multi-threaded) or gzip.
//! Data ranges are read; holes are never read. A short hole is fed to the compressor as zeros;
//! a long one ends the current frame and is written as copies of one precompressed frame of
//! [`ZERO_SPAN`] zeros: all three formats define a file of concatenated frames (zstd frames, xz
//! streams, gzip members) as the concatenation of their contents, which every decompressor
//! gives back, so a mostly empty disk costs no compression time for its empty part.

use std::io::Write;
use std::path::Path;

use crate::output::{Artifact, HashingWriter};
use crate::ranges::{ImageMap, CHUNK};
use crate::{ByteRange, DeliverError, Progress};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Xz,
    Gzip,
}

impl std::str::FromStr for Compression {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "zstd" => Ok(Compression::Zstd),
            "xz" => Ok(Compression::Xz),
            "gzip" => Ok(Compression::Gzip),
            other => Err(format!(
                "compression must be zstd, xz or gzip; got \"{other}\""
            )),
        }
    }
}

/// zstd's and xz's command-line default levels; gzip's default, 6.
const ZSTD_LEVEL: i32 = 3;
const XZ_PRESET: u32 = 6;
/// Bytes per zstd job (ZSTD_c_jobSize), each compressed by one worker. libzstd 1.6's default for
/// level 3 made its buffers ~110 MiB with two workers; 2 MiB jobs take ~33 MiB (measured, RSS
/// above the process's own) and compress within 0.05% of it on disk images.
const ZSTD_JOB_SIZE: u32 = 2 << 20;
/// What the zstd workers may hold, counted as four jobs per worker (its input, its output, the
/// overlap it reads and its context): at most 10 workers of 2 MiB jobs.
const ZSTD_MEMORY_BUDGET: u64 = 80 << 20;

/// zstd's workers: one per CPU, as many as [`ZSTD_MEMORY_BUDGET`] holds.
pub(crate) fn zstd_workers(cpus: u32) -> u32 {
    let per_worker = 4 * u64::from(ZSTD_JOB_SIZE);
    cpus.clamp(1, (ZSTD_MEMORY_BUDGET / per_worker) as u32)
}

/// What liblzma may allocate for the xz encoder (its own worst-case estimate, `lzma_stream_encoder_mt_memusage`).
/// Preset 6 as xz uses it (8 MiB dictionary, 24 MiB blocks) takes 165 MiB per thread; the
/// issue's bound is 150 MiB for the whole process, of which Node holds ~65 MiB.
pub(crate) const XZ_MEMORY_BUDGET: u64 = 80 << 20;
/// Dictionary sizes tried, largest first: preset 6's 8 MiB down to 1 MiB (preset 1's).
const XZ_DICT_SIZES: [u32; 4] = [8 << 20, 4 << 20, 2 << 20, 1 << 20];

/// How the xz stream is encoded: preset 6 with this dictionary, in blocks of `block_size` bytes
/// (each compressed on its own, `threads` at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct XzSettings {
    pub threads: u32,
    pub dict_size: u32,
    pub block_size: u64,
}

/// The xz settings that fit `budget` bytes by `memusage`: as many threads as `cpus` first (speed),
/// then the largest dictionary; blocks of twice the dictionary (xz's default is three times:
/// a block is compressed on its own, and from its second dictionary's worth on, the whole
/// dictionary is in use). When nothing fits, one thread with the smallest dictionary.
pub(crate) fn xz_settings(
    cpus: u32,
    budget: u64,
    memusage: impl Fn(XzSettings) -> u64,
) -> XzSettings {
    let with = |threads, dict_size: u32| XzSettings {
        threads,
        dict_size,
        block_size: 2 * u64::from(dict_size),
    };
    (1..=cpus.max(1))
        .rev()
        .flat_map(|threads| XZ_DICT_SIZES.map(|dict| with(threads, dict)))
        .find(|&settings| memusage(settings) <= budget)
        .unwrap_or_else(|| with(1, XZ_DICT_SIZES[XZ_DICT_SIZES.len() - 1]))
}

/// Preset 6's LZMA2 filter with `dict_size`.
fn xz_filters(dict_size: u32) -> std::io::Result<liblzma::stream::Filters> {
    let mut options = liblzma::stream::LzmaOptions::new_preset(XZ_PRESET)?;
    options.dict_size(dict_size);
    let mut filters = liblzma::stream::Filters::new();
    filters.lzma2(&options);
    Ok(filters)
}

fn xz_builder(settings: XzSettings) -> std::io::Result<liblzma::stream::MtStreamBuilder> {
    let mut builder = liblzma::stream::MtStreamBuilder::new();
    builder
        .threads(settings.threads)
        .filters(xz_filters(settings.dict_size)?)
        .block_size(settings.block_size)
        .check(liblzma::stream::Check::Crc64);
    Ok(builder)
}

/// The settings of this machine's xz streams: its CPUs within [`XZ_MEMORY_BUDGET`].
fn xz_settings_here() -> XzSettings {
    xz_settings(threads(), XZ_MEMORY_BUDGET, |settings| {
        xz_builder(settings).map_or(u64::MAX, |b| b.memusage())
    })
}
/// Zeros per precompressed frame: holes of at least this many bytes skip the compressor.
pub(crate) const ZERO_SPAN: u64 = 64 << 20;

fn threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// A compressor writing into `out`: ended, it gives `out` back.
fn encoder(compression: Compression, out: HashingWriter) -> std::io::Result<Box<dyn Encoder>> {
    Ok(match compression {
        Compression::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
            e.multithread(zstd_workers(threads()))?;
            e.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB_SIZE))?;
            // As the zstd tool does: a checksum of each frame's content.
            e.include_checksum(true)?;
            Box::new(e)
        }
        Compression::Xz => {
            let stream = xz_builder(xz_settings_here())?.encoder()?;
            Box::new(liblzma::write::XzEncoder::new_stream(out, stream))
        }
        Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        )),
    })
}

/// One whole frame of [`ZERO_SPAN`] zeros, compressed in memory (a few KiB).
fn zero_frame(compression: Compression) -> std::io::Result<Vec<u8>> {
    let zeros = vec![0u8; CHUNK];
    // Single-threaded: the frame is made once, and it must not depend on the thread count.
    Ok(match compression {
        Compression::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
            e.include_checksum(true)?;
            for _ in 0..ZERO_SPAN / CHUNK as u64 {
                e.write_all(&zeros)?;
            }
            e.finish()?
        }
        Compression::Xz => {
            // The stream's dictionary, single-threaded: within the same budget.
            let filters = xz_filters(xz_settings_here().dict_size)?;
            let stream = liblzma::stream::Stream::new_stream_encoder(
                &filters,
                liblzma::stream::Check::Crc64,
            )?;
            let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
            for _ in 0..ZERO_SPAN / CHUNK as u64 {
                e.write_all(&zeros)?;
            }
            e.finish()?
        }
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            for _ in 0..ZERO_SPAN / CHUNK as u64 {
                e.write_all(&zeros)?;
            }
            e.finish()?
        }
    })
}

/// Writes the raw `image` (data in `ranges`) compressed with `compression` to `output`.
pub fn write_compressed(
    compression: Compression,
    image: &Path,
    ranges: &[ByteRange],
    output: &Path,
    progress: Progress,
) -> Result<Artifact, DeliverError> {
    let map = ImageMap::open(image, ranges)?;
    let name = output.display().to_string();
    let failed = |e: std::io::Error| DeliverError::io(format!("cannot write {name}"), e);
    let mut current = encoder(compression, HashingWriter::create(output)?).map_err(failed)?;
    let mut zeros_frame: Option<Vec<u8>> = None;
    let zeros = vec![0u8; CHUNK];
    let mut pos = 0;
    let holes_and_data = ranges
        .iter()
        .map(|r| (r.offset, r.end()))
        .chain(std::iter::once((map.size(), map.size())));
    for (data_start, data_end) in holes_and_data {
        // The hole before this range: its whole spans as precompressed frames, the rest as zeros.
        let hole = data_start - pos;
        let spans = hole / ZERO_SPAN;
        let mut fed = hole % ZERO_SPAN;
        if spans > 0 {
            let mut out = current.end().map_err(failed)?;
            let frame = match &zeros_frame {
                Some(frame) => frame,
                None => zeros_frame.insert(zero_frame(compression).map_err(failed)?),
            };
            for _ in 0..spans {
                out.put(frame)?;
                if !progress(ZERO_SPAN) {
                    return Err(DeliverError::Cancelled);
                }
            }
            current = encoder(compression, out).map_err(failed)?;
        }
        while fed > 0 {
            let n = fed.min(CHUNK as u64) as usize;
            current.write_all(&zeros[..n]).map_err(failed)?;
            fed -= n as u64;
            if !progress(n as u64) {
                return Err(DeliverError::Cancelled);
            }
        }
        map.stream(data_start, data_end, progress, &mut |bytes| {
            current.write_all(bytes).map_err(failed)
        })?;
        pos = data_end;
    }
    current.end().map_err(failed)?.finish()
}

/// The three crates' encoders, ended the same way: the compressed stream closed, the output
/// given back.
trait Encoder: Write {
    fn end(self: Box<Self>) -> std::io::Result<HashingWriter>;
}

impl Encoder for zstd::stream::write::Encoder<'static, HashingWriter> {
    fn end(self: Box<Self>) -> std::io::Result<HashingWriter> {
        (*self).finish()
    }
}

impl Encoder for liblzma::write::XzEncoder<HashingWriter> {
    fn end(self: Box<Self>) -> std::io::Result<HashingWriter> {
        (*self).finish()
    }
}

impl Encoder for flate2::write::GzEncoder<HashingWriter> {
    fn end(self: Box<Self>) -> std::io::Result<HashingWriter> {
        (*self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn r(offset: u64, length: u64) -> ByteRange {
        ByteRange { offset, length }
    }

    #[test]
    fn zstd_workers_follow_the_cpus_within_the_budget() {
        assert_eq!(zstd_workers(0), 1);
        assert_eq!(zstd_workers(2), 2);
        assert_eq!(zstd_workers(64), 10);
    }

    #[test]
    fn xz_settings_keep_the_threads_and_shrink_the_dictionary_to_the_budget() {
        const MIB: u64 = 1 << 20;
        // A model of liblzma's estimate: ~10.5 dictionaries per thread plus its two blocks.
        let model = |s: XzSettings| {
            u64::from(s.threads) * (u64::from(s.dict_size) * 21 / 2 + 2 * s.block_size)
        };
        let pick = |cpus, budget| {
            let s = xz_settings(cpus, budget, model);
            (s.threads, s.dict_size as u64 / MIB, s.block_size / MIB)
        };
        assert_eq!(pick(2, 1000 * MIB), (2, 8, 16));
        assert_eq!(pick(2, 80 * MIB), (2, 2, 4));
        assert_eq!(pick(1, 80 * MIB), (1, 4, 8));
        // Many CPUs: the threads that fit at 1 MiB.
        assert_eq!(pick(16, 80 * MIB), (5, 1, 2));
        // Nothing fits: one thread, the smallest dictionary, however small the budget.
        assert_eq!(pick(4, 1), (1, 1, 2));
        assert_eq!(pick(0, 80 * MIB), (1, 4, 8));
    }

    #[test]
    fn xz_settings_fit_liblzmas_own_estimate() {
        for cpus in [1, 2, 4, 16, 64] {
            let settings = xz_settings(cpus, XZ_MEMORY_BUDGET, |s| {
                xz_builder(s).unwrap().memusage()
            });
            let used = xz_builder(settings).unwrap().memusage();
            assert!(
                used <= XZ_MEMORY_BUDGET,
                "{cpus} CPUs: {settings:?} takes {used}"
            );
            assert!(settings.threads >= cpus.min(2), "{cpus} CPUs: {settings:?}");
        }
    }

    /// Data, a short hole (fed as zeros), a long hole (precompressed frames plus zeros), data,
    /// and a long trailing hole: each codec's own decoder gives the image back.
    #[cfg(unix)]
    #[test]
    fn every_codec_round_trips_an_image_with_short_and_long_holes() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("img");
        let size = 3 * ZERO_SPAN + 5 * 4096;
        let file = std::fs::File::create(&image).unwrap();
        file.set_len(size).unwrap();
        use std::os::unix::fs::FileExt;
        let first = vec![7u8; 10_000];
        file.write_all_at(&first, 100).unwrap();
        let second: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let at = 2 * ZERO_SPAN + 12345;
        file.write_all_at(&second, at).unwrap();
        let ranges = [r(100, 10_000), r(at, second.len() as u64)];
        let mut expected = vec![0u8; size as usize];
        expected[100..10_100].copy_from_slice(&first);
        expected[at as usize..at as usize + second.len()].copy_from_slice(&second);
        for compression in [Compression::Zstd, Compression::Xz, Compression::Gzip] {
            let output = dir.path().join(format!("img.{compression:?}"));
            let mut seen = 0;
            let artifact = write_compressed(compression, &image, &ranges, &output, &mut |n| {
                seen += n;
                true
            })
            .unwrap();
            assert_eq!(seen, size, "{compression:?}: progress covers the image");
            let compressed = std::fs::read(&output).unwrap();
            assert_eq!(artifact.size, compressed.len() as u64);
            assert!(
                compressed.len() < 1 << 20,
                "{compression:?}: {} bytes",
                compressed.len()
            );
            let mut decoded = Vec::new();
            match compression {
                Compression::Zstd => {
                    zstd::stream::read::Decoder::new(&compressed[..])
                        .unwrap()
                        .read_to_end(&mut decoded)
                        .unwrap();
                }
                Compression::Xz => {
                    liblzma::read::XzDecoder::new_multi_decoder(&compressed[..])
                        .read_to_end(&mut decoded)
                        .unwrap();
                }
                Compression::Gzip => {
                    flate2::read::MultiGzDecoder::new(&compressed[..])
                        .read_to_end(&mut decoded)
                        .unwrap();
                }
            }
            assert!(
                decoded == expected,
                "{compression:?}: decoded image differs"
            );
        }
    }
}
