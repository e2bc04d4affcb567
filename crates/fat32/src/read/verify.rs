//! Does a volume hold exactly the tree a spec asks for? Names compare exactly (long names),
//! sizes from the directory entries, bytes by streaming the source file and the volume's file
//! side by side in large chunks, never a whole file in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek};

use super::walk::{join_path, EntryKind};
use super::{FindingCode, Volume};
use crate::tree::{Dir, FileNode, Node, Tree};

/// Bytes compared at a time, from each side.
pub(crate) const COMPARE_CHUNK_BYTES: usize = 1 << 20;

/// One way the volume differs from the tree, or a problem the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The path in the filesystem ("/" for the volume as a whole).
    pub path: String,
    pub message: String,
    /// For a reader finding, its code (the message starts with it too); None for the
    /// differences from the tree.
    pub code: Option<FindingCode>,
}

/// Every difference between `tree` and the FAT32 filesystem in the `length` bytes at `offset`
/// of `reader` (see [`verify`]), or a single one when the partition holds no FAT32. Err only
/// when reading the boot sector fails.
pub fn verify_partition<R: Read + Seek>(
    tree: &Tree,
    reader: R,
    offset: u64,
    length: u64,
) -> io::Result<Vec<Difference>> {
    let Some(mut volume) = Volume::open(reader, offset, length)? else {
        return Ok(vec![Difference {
            path: "/".to_string(),
            message: "the partition holds no FAT32 filesystem".to_string(),
            code: None,
        }]);
    };
    Ok(verify(tree, &mut volume))
}

/// Every difference between `tree` (what the spec asks for) and `volume`: missing and
/// unexpected entries, a file where a directory should be (or the reverse), sizes and bytes
/// (the first differing offset), then the reader's findings.
pub fn verify<R: Read + Seek>(tree: &Tree, volume: &mut Volume<R>) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut buffers = (
        vec![0u8; COMPARE_CHUNK_BYTES],
        vec![0u8; COMPARE_CHUNK_BYTES],
    );
    let mut pending: Vec<(&Dir, usize, String)> = vec![(&tree.root, 0, "/".to_string())];
    while let Some((dir, index, path)) = pending.pop() {
        let children = volume.children(index);
        let mut on_disk: HashMap<&str, usize> = HashMap::with_capacity(children.len());
        for child in children.clone() {
            on_disk
                .entry(volume.entries[child].name.as_str())
                .or_insert(child);
        }
        let mut matched = vec![false; children.len()];
        let mut files = Vec::new();
        for node in &dir.entries {
            let child_path = join_path(&path, node.name());
            let Some(&child) = on_disk.get(node.name()) else {
                out.push(missing(child_path, node));
                continue;
            };
            matched[child - children.start] = true;
            match (node, volume.entries[child].kind) {
                (Node::Dir(sub), EntryKind::Directory) => pending.push((sub, child, child_path)),
                (Node::File(file), EntryKind::File) => files.push((file, child, child_path)),
                (Node::Dir(_), EntryKind::File) => out.push(differs(
                    child_path,
                    "is a file; the spec makes it a directory",
                )),
                (Node::File(_), EntryKind::Directory) => out.push(differs(
                    child_path,
                    "is a directory; the spec makes it a file",
                )),
            }
        }
        for child in children.clone() {
            if !matched[child - children.start] {
                out.push(unexpected(volume, child, &path));
            }
        }
        for (file, child, child_path) in files {
            if let Some(message) = compare_file(volume, file, child, &mut buffers) {
                out.push(differs(child_path, message));
            }
        }
    }
    out.extend(volume.findings().iter().map(|finding| Difference {
        path: finding.path.clone().unwrap_or_else(|| "/".to_string()),
        message: format!("{}: {}", finding.code, finding.message),
        code: Some(finding.code),
    }));
    out
}

fn differs(path: String, message: impl Into<String>) -> Difference {
    Difference {
        path,
        message: message.into(),
        code: None,
    }
}

fn missing(path: String, node: &Node) -> Difference {
    let message = match node {
        Node::Dir(_) => "is missing: the spec has a directory here".to_string(),
        Node::File(file) => format!(
            "is missing: the spec has a file of {} bytes here",
            file.size
        ),
    };
    differs(path, message)
}

fn unexpected<R>(volume: &Volume<R>, index: usize, dir: &str) -> Difference {
    let entry = &volume.entries[index];
    let message = match entry.kind {
        EntryKind::Directory => "is a directory the spec does not have".to_string(),
        EntryKind::File => format!("is a file ({} bytes) the spec does not have", entry.size),
    };
    differs(join_path(dir, &entry.name), message)
}

/// What differs between the source file and the volume's file, if anything.
fn compare_file<R: Read + Seek>(
    volume: &mut Volume<R>,
    file: &FileNode,
    index: usize,
    (want, got): &mut (Vec<u8>, Vec<u8>),
) -> Option<String> {
    let size = u64::from(volume.entries[index].size);
    if size != file.size {
        return Some(format!(
            "is {size} bytes; the spec's file is {} bytes",
            file.size
        ));
    }
    let source_name = file.source.display();
    let mut source = match File::open(&file.source) {
        Ok(source) => source,
        Err(error) => return Some(format!("cannot open the source {source_name}: {error}")),
    };
    let mut reader = match volume.open_file(index) {
        Ok(reader) => reader,
        Err(error) => return Some(format!("cannot read it from the image: {error}")),
    };
    let mut offset = 0u64;
    loop {
        let n = match read_full(&mut source, want) {
            Ok(n) => n,
            Err(error) => return Some(format!("cannot read the source {source_name}: {error}")),
        };
        let expected = (file.size - offset).min(want.len() as u64) as usize;
        if n != expected {
            return Some(format!(
                "its source {source_name} changed since the scan: it is no longer {} bytes",
                file.size
            ));
        }
        if n == 0 {
            return None;
        }
        if let Err(error) = reader.read_exact(&mut got[..n]) {
            return Some(format!(
                "cannot read it from the image at byte {offset}: {error}"
            ));
        }
        if let Some(at) = (0..n).find(|&i| want[i] != got[i]) {
            return Some(format!(
                "bytes differ from the source {source_name}, first at offset {}",
                offset + at as u64
            ));
        }
        offset += n as u64;
    }
}

/// Fills `buf` unless the reader ends first; the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
