//! Directory blocks from untrusted bytes: 12-byte entries (nid, nameoff, file_type) at the
//! front, their names packed after them; nameoff of the first entry counts the entries; the
//! last name of a block ends at the block's end or its first NUL (EROFS on-disk format,
//! "Directories").

use crate::ondisk::DIRENT;

/// EROFS_NAME_LEN.
pub(crate) const MAX_NAME: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dirent {
    pub(crate) nid: u64,
    pub(crate) file_type: u8,
    pub(crate) name: Vec<u8>,
}

/// The entries of one directory block of `block.len()` bytes (the last block of a directory
/// is as long as what remains of its size), or why it cannot be parsed.
pub(crate) fn parse_block(block: &[u8]) -> Result<Vec<Dirent>, String> {
    let len = block.len();
    if len < DIRENT as usize {
        return Err(format!("a directory block of {len} bytes holds no entry"));
    }
    let nameoff =
        |i: usize| usize::from(u16::from_le_bytes([block[i * 12 + 8], block[i * 12 + 9]]));
    let first = nameoff(0);
    if first < DIRENT as usize || first % DIRENT as usize != 0 || first > len {
        return Err(format!(
            "the first entry's nameoff is {first}, not a multiple of 12 within the block"
        ));
    }
    let count = first / DIRENT as usize;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let start = nameoff(i);
        let end = if i + 1 < count { nameoff(i + 1) } else { len };
        if start < first || end < start || end > len {
            return Err(format!(
                "entry {i}'s name lies at bytes {start}..{end} of a {len}-byte block"
            ));
        }
        let mut name = &block[start..end];
        if i + 1 == count {
            // The last name ends at the first NUL, if any (the block's rest is padding).
            name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
        }
        let at = i * DIRENT as usize;
        out.push(Dirent {
            nid: u64::from_le_bytes(block[at..at + 8].try_into().unwrap()),
            file_type: block[at + 10],
            name: name.to_vec(),
        });
    }
    Ok(out)
}

/// Why a name cannot be a name, if it cannot.
pub(crate) fn name_problem(name: &[u8]) -> Option<String> {
    if name.is_empty() {
        Some("an empty name".to_string())
    } else if name.len() > MAX_NAME {
        Some(format!(
            "a name of {} bytes; EROFS names hold at most {MAX_NAME}",
            name.len()
        ))
    } else if name.contains(&b'/') || name.contains(&0) {
        Some(format!(
            "the name {:?} contains '/' or NUL",
            String::from_utf8_lossy(name)
        ))
    } else {
        None
    }
}

#[cfg(test)]
#[path = "dir_tests.rs"]
mod tests;
