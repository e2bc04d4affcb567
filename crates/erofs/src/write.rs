//! Writing a planned filesystem: the metadata (superblock, inodes with their inline xattrs and
//! tails, then the whole blocks of directories and symlinks, which follow the meta area) in
//! sequential writes of about a megabyte, then every regular file's whole blocks through the
//! copy engine at their image offset. Only files' inline tails (under 4 KiB each, read by the
//! engine with its checks of the source) pass through this code's memory.

use std::path::Path;

use imgforge_copy::{open_source, CopyEngine, CopyError, Destination, OpenedCopy, Syscalls};
pub use imgforge_copy::{Target, WriteError};

use crate::inodes::Kind;
use crate::ondisk::{encode_xattrs, file_type, BLOCK, DIRENT};
use crate::plan::{dir_listing, dir_packing, Plan, META_BLKADDR};

/// Metadata bytes gathered before one write.
const WRITE_CHUNK: usize = 1 << 20;

/// Writes the planned filesystem into `target` at the plan's partition offset. `progress` gets
/// the file bytes copied, as in [`CopyEngine::copy`]; returning false cancels.
pub fn write<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), WriteError> {
    write_metadata(plan, target, engine, progress)?;
    copy_files(plan, target, engine, progress)
}

/// Gathers bytes at increasing offsets of the filesystem (gaps read as zeros) and writes them
/// in runs of about [`WRITE_CHUNK`].
struct SequentialWriter<'a, 't, S: Syscalls> {
    target: &'a Target<'t>,
    engine: &'a mut CopyEngine<S>,
    partition_offset: u64,
    /// Filesystem offset of `buffer[0]`.
    start: u64,
    buffer: Vec<u8>,
}

impl<S: Syscalls> SequentialWriter<'_, '_, S> {
    fn put(&mut self, offset: u64, bytes: &[u8]) -> Result<(), CopyError> {
        self.pad_to(offset)?;
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    fn pad_to(&mut self, offset: u64) -> Result<(), CopyError> {
        let end = self.start + self.buffer.len() as u64;
        debug_assert!(offset >= end, "metadata is written in offset order");
        self.buffer
            .resize(self.buffer.len() + (offset - end) as usize, 0);
        if self.buffer.len() >= WRITE_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CopyError> {
        let t = self.target;
        let offset = self.partition_offset + self.start;
        self.engine
            .write_all_at(t.image, t.image_name, &self.buffer, offset)?;
        self.start += self.buffer.len() as u64;
        self.buffer.clear();
        Ok(())
    }
}

fn write_metadata<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), WriteError> {
    let mut out = SequentialWriter {
        target,
        engine,
        partition_offset: plan.partition_offset,
        start: 0,
        buffer: Vec::with_capacity(WRITE_CHUNK + BLOCK as usize),
    };
    out.put(0, &plan.superblock.encode_block())?;
    let meta_start = u64::from(META_BLKADDR) * BLOCK;
    let mut record = Vec::with_capacity(BLOCK as usize);
    for (index, placed) in plan.placed.iter().enumerate() {
        record.clear();
        placed.fields.encode(&mut record);
        encode_xattrs(&placed.xattrs, &mut record);
        if placed.tail > 0 {
            match &plan.inodes[index].kind {
                Kind::File { source, size } => {
                    let tail = read_tail(source, *size, placed.tail as usize, out.engine)
                        .map_err(|error| file_error(plan, index, error))?;
                    record.extend_from_slice(&tail);
                    if !progress(placed.tail) {
                        return Err(file_error(plan, index, CopyError::Cancelled));
                    }
                }
                _ => {
                    let data = inode_data(plan, index);
                    record.extend_from_slice(&data[data.len() - placed.tail as usize..]);
                }
            }
        }
        out.put(meta_start + placed.offset, &record)?;
    }
    for (index, placed) in plan.placed.iter().enumerate() {
        let is_file = matches!(plan.inodes[index].kind, Kind::File { .. });
        if is_file || placed.whole_blocks == 0 {
            continue;
        }
        let mut data = inode_data(plan, index);
        data.resize((placed.whole_blocks * BLOCK) as usize, 0);
        out.put(u64::from(placed.fields.i_u) * BLOCK, &data)?;
    }
    out.pad_to(plan.file_data_start * BLOCK)?;
    out.flush()?;
    Ok(())
}

/// The data of a directory (its entry blocks) or a symlink (its target), i_size bytes.
fn inode_data(plan: &Plan, index: usize) -> Vec<u8> {
    match &plan.inodes[index].kind {
        Kind::Dir { .. } => encode_dir(plan, index),
        Kind::Symlink { target } => target.clone(),
        Kind::File { .. } | Kind::Special { .. } => Vec::new(),
    }
}

/// A directory's blocks: in each, the 12-byte dirents (nid, nameoff, file_type), then the
/// names without NULs; full blocks padded with zeros, the last one cut at i_size.
pub(crate) fn encode_dir(plan: &Plan, index: usize) -> Vec<u8> {
    let listing = dir_listing(&plan.inodes, index);
    let packing = dir_packing(&listing);
    let mut out = Vec::with_capacity(packing.size as usize);
    let ends = packing.block_starts[1..]
        .iter()
        .copied()
        .chain([listing.len()]);
    for (start, end) in packing.block_starts.iter().copied().zip(ends) {
        let block_start = out.len();
        let entries = &listing[start..end];
        let mut nameoff = DIRENT * entries.len() as u64;
        for (name, child) in entries {
            let nid = plan.placed[*child].offset / crate::ondisk::SLOT;
            out.extend_from_slice(&nid.to_le_bytes());
            out.extend_from_slice(&(nameoff as u16).to_le_bytes());
            out.push(file_type(plan.inodes[*child].meta.mode));
            out.push(0);
            nameoff += name.len() as u64;
        }
        for (name, _) in entries {
            out.extend_from_slice(name);
        }
        if end < listing.len() {
            out.resize(block_start + BLOCK as usize, 0);
        }
    }
    debug_assert_eq!(out.len() as u64, packing.size);
    out
}

/// A file's inline tail, read from its source (checked against its planned size).
fn read_tail<S: Syscalls>(
    source_path: &Path,
    size: u64,
    tail: usize,
    engine: &mut CopyEngine<S>,
) -> Result<Vec<u8>, CopyError> {
    let source = open_source(source_path)?;
    engine.read_source_end(&source, &source_path.display().to_string(), size, tail)
}

/// A failure while writing regular file `index`, naming it (and its source, when the error is
/// about the source's own state, whose message does not name it).
fn file_error(plan: &Plan, index: usize, error: CopyError) -> WriteError {
    let inode = &plan.inodes[index];
    let source = match &inode.kind {
        Kind::File { source, .. } if error.is_about_source() => Some(source.clone()),
        _ => None,
    };
    WriteError {
        path: Some(inode.path.clone()),
        source,
        error,
    }
}

fn copy_files<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), WriteError> {
    for (index, (inode, placed)) in plan.inodes.iter().zip(&plan.placed).enumerate() {
        let Kind::File { source, size } = &inode.kind else {
            continue;
        };
        // A file held inline whole was read with the metadata.
        if placed.tail > 0 && placed.whole_blocks == 0 {
            continue;
        }
        let offset = plan.partition_offset + u64::from(placed.fields.i_u) * BLOCK;
        let failed = |error: CopyError| file_error(plan, index, error);
        // Empty files take no block, but the engine still checks that they are empty: a
        // procfs file reports size 0 and has data, which would be lost without a word. With an
        // inline tail, only the whole blocks before it are copied.
        let blocks = (placed.tail > 0).then_some(placed.whole_blocks * BLOCK);
        copy_file(source, *size, blocks, offset, target, engine, progress).map_err(failed)?;
        let tail = size % BLOCK;
        if target.state == Destination::Dirty && tail > 0 && placed.tail == 0 {
            // The rest of the last block reads as zeros in a fresh image only.
            let zeros = vec![0u8; (BLOCK - tail) as usize];
            engine
                .write_all_at(target.image, target.image_name, &zeros, offset + size)
                .map_err(failed)?;
        }
    }
    Ok(())
}

fn copy_file<S: Syscalls>(
    source_path: &Path,
    size: u64,
    prefix: Option<u64>,
    offset: u64,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), CopyError> {
    let source_name = source_path.display().to_string();
    let source = open_source(source_path)?;
    let job = OpenedCopy {
        source: &source,
        source_name: &source_name,
        dest: target.image,
        dest_name: target.image_name,
        dest_offset: offset,
        // The planned size exactly: a file that grew since planning must not spill into the
        // next file's blocks (the engine refuses it as changed before writing).
        dest_capacity: size,
        dest_state: target.state,
        planned_length: Some(size),
    };
    match prefix {
        Some(prefix) => engine.copy_prefix(&job, prefix, progress).map(drop),
        None => engine.copy(&job, progress).map(drop),
    }
}
