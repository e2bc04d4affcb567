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
            e.multithread(threads())?;
            // As the zstd tool does: a checksum of each frame's content.
            e.include_checksum(true)?;
            Box::new(e)
        }
        Compression::Xz => {
            let stream = liblzma::stream::MtStreamBuilder::new()
                .threads(threads())
                .preset(XZ_PRESET)
                .check(liblzma::stream::Check::Crc64)
                .encoder()?;
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
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), XZ_PRESET);
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
