//! bmaptool's block map, format 2.0 (bmap-tools' BmapCreate.py and BmapCopy.py): XML listing
//! the image's size, its block size, the mapped block ranges with the SHA-256 of each, and the
//! SHA-256 of the bmap file itself computed with that field's value as 64 ASCII zeros.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::blocks::{block_runs, BlockRun};
use crate::output::{hex, Artifact, HashingWriter};
use crate::ranges::ImageMap;
use crate::{ByteRange, DeliverError, Progress};

/// bmaptool's block size, and the filesystem block size holes are counted in.
const BLOCK_SIZE: u64 = 4096;
const ZERO_CHECKSUM: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Blocks per `<Range>` at most: longer runs are cut (bmaptool reads any list of ranges) so that
/// their checksums are computed on every CPU at once; hashing is what a bmap costs.
const MAX_RANGE_BLOCKS: u64 = (16 << 20) / BLOCK_SIZE;

/// The runs cut to at most `max` blocks each.
pub(crate) fn cut_runs(runs: &[BlockRun], max: u64) -> Vec<BlockRun> {
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let mut first = run.first;
        let end = run.first + run.count;
        while first < end {
            let count = (end - first).min(max);
            out.push(BlockRun { first, count });
            first += count;
        }
    }
    out
}

/// What a hashing thread tells the thread that owns the progress callback.
enum Hashed {
    Progress(u64),
    Done(usize, [u8; 32]),
    Failed(DeliverError),
}

/// The SHA-256 of each piece's bytes (up to the image's end), computed on as many threads as
/// there are CPUs; `progress` is called on this thread, and stops them all when it says so.
fn hash_pieces(
    map: &ImageMap,
    pieces: &[BlockRun],
    progress: Progress,
) -> Result<Vec<[u8; 32]>, DeliverError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pieces.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut digests = vec![None; pieces.len()];
    let mut failure = None;
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (tx, next, stop) = (tx.clone(), &next, &stop);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= pieces.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                let piece = pieces[index];
                let start = piece.first * BLOCK_SIZE;
                let end = ((piece.first + piece.count) * BLOCK_SIZE).min(map.size());
                let mut hasher = Sha256::new();
                let hashed = map.stream(
                    start,
                    end,
                    &mut |n| tx.send(Hashed::Progress(n)).is_ok() && !stop.load(Ordering::Relaxed),
                    &mut |bytes| {
                        hasher.update(bytes);
                        Ok(())
                    },
                );
                let message = match hashed {
                    Ok(()) => Hashed::Done(index, hasher.finalize().into()),
                    Err(error) => Hashed::Failed(error),
                };
                if tx.send(message).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for message in rx {
            match message {
                Hashed::Progress(n) => {
                    if !progress(n) {
                        stop.store(true, Ordering::Relaxed);
                        failure.get_or_insert(DeliverError::Cancelled);
                    }
                }
                Hashed::Done(index, digest) => digests[index] = Some(digest),
                Hashed::Failed(error) => {
                    stop.store(true, Ordering::Relaxed);
                    // A worker stopped by another's failure reports Cancelled: keep the cause.
                    if !matches!(error, DeliverError::Cancelled) || failure.is_none() {
                        failure = Some(error);
                    }
                }
            }
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(digests
        .into_iter()
        .map(|d| d.expect("every piece hashed"))
        .collect())
}

/// Writes the bmap of the raw `image` (data in `ranges`) to `output`. Mapped blocks are the
/// blocks that hold any byte the build wrote; each range's checksum covers its blocks' bytes
/// (up to the image's end when its last block is partial), read from the image.
pub fn write_bmap(
    image: &Path,
    ranges: &[ByteRange],
    output: &Path,
    progress: Progress,
) -> Result<Artifact, DeliverError> {
    let map = ImageMap::open(image, ranges)?;
    let size = map.size();
    let runs = cut_runs(&block_runs(ranges, BLOCK_SIZE, size), MAX_RANGE_BLOCKS);
    let digests = hash_pieces(&map, &runs, progress)?;
    let mut block_map = String::new();
    for (run, digest) in runs.iter().zip(&digests) {
        let last = run.first + run.count - 1;
        let blocks = if run.count == 1 {
            run.first.to_string()
        } else {
            format!("{}-{last}", run.first)
        };
        let _ = writeln!(
            block_map,
            "        <Range chksum=\"{}\"> {blocks} </Range>",
            hex(digest)
        );
    }
    let mapped: u64 = runs.iter().map(|r| r.count).sum();
    let text = document(size, mapped, ZERO_CHECKSUM, &block_map);
    let checksum = hex(&Sha256::digest(text.as_bytes()));
    let text = document(size, mapped, &checksum, &block_map);
    let mut out = HashingWriter::create(output)?;
    out.put(text.as_bytes())?;
    out.finish()
}

fn document(image_size: u64, mapped_blocks: u64, checksum: &str, block_map: &str) -> String {
    let blocks = image_size.div_ceil(BLOCK_SIZE);
    format!(
        r#"<?xml version="1.0" ?>
<!-- The block map of an image written by imgforge: the ranges of blocks that hold data.
     bmaptool copy reads and writes only these blocks. -->
<bmap version="2.0">
    <!-- Image size in bytes -->
    <ImageSize> {image_size} </ImageSize>

    <!-- Size of a block in bytes -->
    <BlockSize> {BLOCK_SIZE} </BlockSize>

    <!-- Count of blocks in the image file -->
    <BlocksCount> {blocks} </BlocksCount>

    <!-- Count of mapped blocks -->
    <MappedBlocksCount> {mapped_blocks} </MappedBlocksCount>

    <!-- Type of checksum used in this file -->
    <ChecksumType> sha256 </ChecksumType>

    <!-- The checksum of this bmap file, computed with this value as all ASCII "0" -->
    <BmapFileChecksum> {checksum} </BmapFileChecksum>

    <!-- The mapped block ranges, with the SHA-256 of each range's bytes -->
    <BlockMap>
{block_map}    </BlockMap>
</bmap>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_cut() {
        let run = |first, count| BlockRun { first, count };
        assert_eq!(
            cut_runs(&[run(0, 5), run(10, 2)], 2),
            vec![run(0, 2), run(2, 2), run(4, 1), run(10, 2)]
        );
        assert_eq!(cut_runs(&[], 2), vec![]);
    }

    #[test]
    fn a_cancelled_bmap_stops_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("img");
        std::fs::write(&image, vec![1u8; 64 << 20]).unwrap();
        let ranges = [ByteRange {
            offset: 0,
            length: 64 << 20,
        }];
        let error = write_bmap(&image, &ranges, &dir.path().join("b"), &mut |_| false).unwrap_err();
        assert!(matches!(error, DeliverError::Cancelled), "{error}");
    }

    #[test]
    fn lists_the_blocks_with_data_and_checks_itself() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("img");
        let mut bytes = vec![0u8; 10 * 4096 + 512];
        bytes[3 * 4096..5 * 4096].fill(1);
        bytes[10 * 4096 + 3] = 2;
        std::fs::write(&image, &bytes).unwrap();
        let ranges = [
            ByteRange {
                offset: 3 * 4096,
                length: 2 * 4096,
            },
            ByteRange {
                offset: 10 * 4096 + 3,
                length: 1,
            },
        ];
        let output = dir.path().join("img.bmap");
        write_bmap(&image, &ranges, &output, &mut |_| true).unwrap();
        let text = std::fs::read_to_string(&output).unwrap();
        // XML comments may not hold "--" (bmaptool's parser rejects the file).
        let comments: Vec<&str> = text
            .split("<!--")
            .skip(1)
            .map(|c| c.split("-->").next().unwrap())
            .collect();
        assert!(comments.iter().all(|c| !c.contains("--")));
        assert!(text.contains("<BlocksCount> 11 </BlocksCount>"));
        assert!(text.contains("<MappedBlocksCount> 3 </MappedBlocksCount>"));
        let first = hex(&Sha256::digest(&bytes[3 * 4096..5 * 4096]));
        assert!(text.contains(&format!("<Range chksum=\"{first}\"> 3-4 </Range>")));
        let last = hex(&Sha256::digest(&bytes[10 * 4096..]));
        assert!(text.contains(&format!("<Range chksum=\"{last}\"> 10 </Range>")));
        let checksum = text.split("<BmapFileChecksum> ").nth(1).unwrap()[..64].to_string();
        let zeroed = text.replace(&checksum, ZERO_CHECKSUM);
        assert_eq!(hex(&Sha256::digest(zeroed.as_bytes())), checksum);
    }
}
