//! Writing a planned filesystem: the metadata in a few large sequential writes (reserved area,
//! both FATs chunk by chunk, the directories, which sit together at the start of the data
//! region), then every file's data through the copy engine at its cluster's image offset.
//! Memory holds metadata only: one FAT chunk and the directories, never file data.

use imgforge_copy::{open_source, CopyEngine, CopyError, Destination, OpenedCopy, Syscalls};
pub use imgforge_copy::{Target, WriteError};

use crate::alloc::Extent;
use crate::encode::{
    fill_fat_chunk, reserved_area, short_entry, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, DOT,
    DOT_DOT,
};
use crate::flat_tree::{Child, DIR_ENTRY_BYTES};
use crate::geometry::{FAT_COUNT, FAT_ENTRY_BYTES, FIRST_CLUSTER};
use crate::names::encode_lfn_entries;
use crate::plan::Plan;
use crate::tree::{FileNode, Node};

/// FAT bytes generated and written at a time.
const FAT_CHUNK_BYTES: usize = 1 << 20;

/// Writes the planned filesystem into `target`. `progress` gets the file bytes copied, as in
/// [`CopyEngine::copy`]; returning false cancels.
pub fn write<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), WriteError> {
    write_reserved_area(plan, target, engine)?;
    write_fats(plan, target, engine)?;
    write_directories(plan, target, engine)?;
    copy_files(plan, target, engine, progress)
}

fn write_reserved_area<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
) -> Result<(), WriteError> {
    let g = &plan.geometry;
    let free = g.clusters - plan.allocation.used;
    let next_free = if plan.allocation.end < g.end_cluster() {
        plan.allocation.end
    } else {
        u32::MAX
    };
    let area = reserved_area(
        g,
        plan.options.label.as_ref(),
        plan.options.volume_id,
        free,
        next_free,
    );
    engine.write_all_at(target.image, target.image_name, &area, g.sector_offset(0))?;
    Ok(())
}

fn write_fats<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
) -> Result<(), WriteError> {
    let g = &plan.geometry;
    let mut extents: Vec<Extent> = plan
        .allocation
        .dirs
        .iter()
        .chain(&plan.allocation.files)
        .copied()
        .filter(|e| e.clusters > 0)
        .collect();
    extents.sort_unstable_by_key(|e| e.first);
    let fat_bytes = g.fat_bytes();
    let mut chunk = vec![0u8; FAT_CHUNK_BYTES.min(fat_bytes as usize)];
    let mut cursor = 0;
    let mut done = 0u64;
    while done < fat_bytes {
        let len = (fat_bytes - done).min(chunk.len() as u64) as usize;
        let chunk = &mut chunk[..len];
        fill_fat_chunk(chunk, done / FAT_ENTRY_BYTES, &extents, &mut cursor);
        // Free clusters are zeros, which a fresh sparse image already reads as.
        if target.state == Destination::Dirty || chunk.iter().any(|&b| b != 0) {
            for copy in 0..FAT_COUNT {
                let offset = g.sector_offset(g.fat_start_sector(copy)) + done;
                engine.write_all_at(target.image, target.image_name, chunk, offset)?;
            }
        }
        done += len as u64;
    }
    Ok(())
}

fn entry_time(plan: &Plan, own: i64) -> i64 {
    plan.options.timestamp.unwrap_or(own)
}

/// The bytes of directory `index`, padded to its clusters.
fn encode_directory(plan: &Plan, index: usize, out: &mut Vec<u8>) {
    let planned = &plan.flat.dirs[index];
    let dir = plan.flat.dir(index);
    let extent = plan.allocation.dirs[index];
    let start = out.len();
    let time = entry_time(plan, dir.mtime);
    if index == 0 {
        if let Some(label) = &plan.options.label {
            out.extend_from_slice(&short_entry(label, ATTR_VOLUME_ID, 0, 0, time));
        }
    } else {
        // ".." of a directory in the root points at cluster 0, not at the root's cluster.
        let parent = if planned.parent == 0 {
            0
        } else {
            plan.allocation.dirs[planned.parent].first
        };
        out.extend_from_slice(&short_entry(DOT, ATTR_DIRECTORY, extent.first, 0, time));
        out.extend_from_slice(&short_entry(DOT_DOT, ATTR_DIRECTORY, parent, 0, time));
    }
    let mut long_entries = Vec::new();
    for ((node, name), child) in dir
        .entries
        .iter()
        .zip(&planned.names)
        .zip(&planned.children)
    {
        if name.needs_lfn {
            long_entries.clear();
            encode_lfn_entries(node.name(), &name.short, &mut long_entries);
            long_entries.iter().for_each(|e| out.extend_from_slice(e));
        }
        let entry = match (*child, node) {
            (Child::Dir(i), Node::Dir(sub)) => short_entry(
                &name.short.0,
                ATTR_DIRECTORY,
                plan.allocation.dirs[i].first,
                0,
                entry_time(plan, sub.mtime),
            ),
            (Child::File(i), Node::File(file)) => {
                // Sizes were checked against 4 GiB - 1 by the scan.
                let size = u32::try_from(file.size).unwrap_or(u32::MAX);
                short_entry(
                    &name.short.0,
                    ATTR_ARCHIVE,
                    plan.allocation.files[i].first,
                    size,
                    entry_time(plan, file.mtime),
                )
            }
            _ => unreachable!("a planned child has its node's kind"),
        };
        out.extend_from_slice(&entry);
    }
    debug_assert_eq!(
        (out.len() - start) as u64,
        plan.flat.entries(index, plan.options.label.is_some()) * DIR_ENTRY_BYTES
    );
    out.resize(
        start + extent.clusters as usize * plan.geometry.cluster_size() as usize,
        0,
    );
}

/// Directories are allocated back to back from the first cluster, so they form one region;
/// it is written in pieces of about a megabyte.
fn write_directories<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
) -> Result<(), WriteError> {
    let g = &plan.geometry;
    let mut buffer = Vec::with_capacity(FAT_CHUNK_BYTES * 2);
    let mut offset = g.cluster_offset(FIRST_CLUSTER);
    for index in 0..plan.flat.dirs.len() {
        debug_assert_eq!(
            g.cluster_offset(plan.allocation.dirs[index].first),
            offset + buffer.len() as u64
        );
        encode_directory(plan, index, &mut buffer);
        if buffer.len() >= FAT_CHUNK_BYTES || index + 1 == plan.flat.dirs.len() {
            engine.write_all_at(target.image, target.image_name, &buffer, offset)?;
            offset += buffer.len() as u64;
            buffer.clear();
        }
    }
    Ok(())
}

fn copy_files<S: Syscalls>(
    plan: &Plan,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), WriteError> {
    let failed = |index: usize, file: &FileNode, error: CopyError| WriteError {
        path: Some(plan.file_path(index)),
        // The engine's words about a source's own state do not name it; its I/O errors do.
        source: error.is_about_source().then(|| file.source.clone()),
        error,
    };
    for (index, file, offset) in plan.file_placements() {
        copy_file(file, offset, target, engine, progress)
            .map_err(|error| failed(index, file, error))?;
    }
    // Empty files take no cluster and so copy nothing, but the engine still checks that they
    // are: a procfs file reports size 0 and has data, which would be lost without a word.
    for (index, file) in plan.empty_files() {
        copy_file(file, 0, target, engine, progress).map_err(|error| failed(index, file, error))?;
    }
    Ok(())
}

fn copy_file<S: Syscalls>(
    file: &FileNode,
    offset: u64,
    target: &Target,
    engine: &mut CopyEngine<S>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<(), CopyError> {
    let source_name = file.source.display().to_string();
    let source = open_source(&file.source)?;
    let job = OpenedCopy {
        source: &source,
        source_name: &source_name,
        dest: target.image,
        dest_name: target.image_name,
        dest_offset: offset,
        // The planned size exactly: a file that grew since planning must not spill into the
        // next file's clusters (the engine refuses it as changed).
        dest_capacity: file.size,
        dest_state: target.state,
        planned_length: Some(file.size),
    };
    engine.copy(&job, progress).map(drop)
}
