//! The raw image as one compressed stream: zstd (multi-threaded), xz (multi-threaded) or
//! gzip. Data ranges are read; holes are fed to the compressor as zeros without being read.

use std::io::Write;
use std::path::Path;

use crate::output::{Artifact, HashingWriter};
use crate::ranges::ImageMap;
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

/// zstd's and xz's default levels (the command-line tools' defaults), gzip's 6.
const ZSTD_LEVEL: i32 = 3;
const XZ_PRESET: u32 = 6;

fn threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
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
    let out = HashingWriter::create(output)?;
    let name = output.display().to_string();
    let failed = |e: std::io::Error| DeliverError::io(format!("cannot write {name}"), e);
    let mut encoder: Box<dyn Encoder> = match compression {
        Compression::Zstd => {
            let mut e = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL).map_err(failed)?;
            e.multithread(threads()).map_err(failed)?;
            // The decompressed size in the frame header lets `zstd -l` and readers size buffers.
            e.set_pledged_src_size(Some(map.size())).map_err(failed)?;
            Box::new(e)
        }
        Compression::Xz => {
            let stream = liblzma::stream::MtStreamBuilder::new()
                .threads(threads())
                .preset(XZ_PRESET)
                .check(liblzma::stream::Check::Crc64)
                .encoder()
                .map_err(|e| failed(e.into()))?;
            Box::new(liblzma::write::XzEncoder::new_stream(out, stream))
        }
        Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        )),
    };
    map.stream(0, map.size(), progress, &mut |bytes| {
        encoder.write_all(bytes).map_err(failed)
    })?;
    encoder.end().map_err(failed)?.finish()
}

/// The three crates' encoders, ended the same way: the compressed stream closed, the output
/// given back to be flushed.
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
