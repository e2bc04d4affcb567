//! Decoding one directory's bytes into its entries: long names assembled from their LFN
//! entries and checked against the short entry's checksum, short names decoded as Linux and
//! mtools show them. A pure function of the bytes; the walk turns its problems into findings.

use crate::names::{decode_long_name, LfnEntry, ShortName, MAX_LFN_ENTRIES, UNITS_PER_LFN};
use crate::ondisk::dirent::{
    is_long_name_entry, ShortEntry, ATTR_DIRECTORY, ATTR_VOLUME_ID, DELETED, DOT, DOT_DOT,
    END_OF_DIRECTORY, ENTRY_BYTES, ESCAPED_E5, LOWER_CASE_BASE, LOWER_CASE_EXTENSION,
};
use crate::ondisk::time::unix_from_fat;

/// A file or directory entry, with its name decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawChild {
    /// The long name when a valid one precedes the short entry, else the short name.
    pub name: String,
    pub short_name: String,
    pub attributes: u8,
    pub first_cluster: u32,
    pub size: u32,
    pub modified: Option<i64>,
    /// Index of the short entry in the directory, for messages.
    pub slot: usize,
}

impl RawChild {
    pub(super) fn is_dir(&self) -> bool {
        self.attributes & ATTR_DIRECTORY != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirProblem {
    /// Long-name entries whose checksum does not match the short entry that follows them.
    LfnChecksum {
        slot: usize,
        short_name: String,
        long_name: String,
    },
    /// Long-name entries (slots first..=last) out of sequence or followed by no short entry.
    LfnOrphaned { first: usize, last: usize },
    /// A name that cannot be a FAT name; `name` is what the reader shows instead.
    InvalidName {
        slot: usize,
        name: String,
        why: &'static str,
    },
}

/// A "." or ".." entry, wherever it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DotEntry {
    pub slot: usize,
    pub dot_dot: bool,
    pub cluster: u32,
}

#[derive(Debug, Default)]
pub(crate) struct ParsedDir {
    pub children: Vec<RawChild>,
    /// The first volume-label entry, trimmed.
    pub label: Option<String>,
    pub dots: Vec<DotEntry>,
    pub problems: Vec<DirProblem>,
}

/// Long-name entries seen so far, waiting for their short entry.
struct PendingLfn {
    first_slot: usize,
    /// The sequence number the next entry must carry; 0 once the name is complete.
    expected: u8,
    checksum: u8,
    /// In disk order: the end of the name first.
    parts: Vec<[u16; UNITS_PER_LFN]>,
}

impl PendingLfn {
    fn orphan(self, last_slot: usize, problems: &mut Vec<DirProblem>) {
        problems.push(DirProblem::LfnOrphaned {
            first: self.first_slot,
            last: last_slot,
        });
    }
}

pub(crate) fn parse_directory(bytes: &[u8]) -> ParsedDir {
    let mut dir = ParsedDir::default();
    let mut pending: Option<PendingLfn> = None;
    let mut slots_used = 0;
    for (slot, raw) in bytes.chunks_exact(ENTRY_BYTES).enumerate() {
        let raw: &[u8; ENTRY_BYTES] = raw.try_into().expect("chunks of ENTRY_BYTES");
        if raw[0] == END_OF_DIRECTORY {
            break;
        }
        slots_used = slot + 1;
        if raw[0] == DELETED {
            if let Some(p) = pending.take() {
                p.orphan(slot.saturating_sub(1), &mut dir.problems);
            }
            continue;
        }
        if is_long_name_entry(raw) {
            pending = add_lfn(pending, LfnEntry::parse(raw), slot, &mut dir.problems);
            continue;
        }
        let entry = ShortEntry::parse(raw);
        let long = pending
            .take()
            .and_then(|p| long_name_for(p, &entry, slot, &mut dir.problems));
        if entry.attributes & ATTR_VOLUME_ID != 0 && entry.attributes & ATTR_DIRECTORY == 0 {
            if dir.label.is_none() {
                dir.label = Some(decode_short_part(&entry.name, false).trim_end().to_string());
            }
            continue;
        }
        if &entry.name == DOT || &entry.name == DOT_DOT {
            dir.dots.push(DotEntry {
                slot,
                dot_dot: &entry.name == DOT_DOT,
                cluster: entry.first_cluster,
            });
            continue;
        }
        let short_name = short_name_string(&entry.name, entry.case_flags);
        let name = match long {
            Some(long) => long,
            None => short_name.clone(),
        };
        let name = checked_name(name, slot, &mut dir.problems);
        dir.children.push(RawChild {
            name,
            short_name,
            attributes: entry.attributes,
            first_cluster: entry.first_cluster,
            size: entry.size,
            modified: unix_from_fat(entry.write_date, entry.write_time),
            slot,
        });
    }
    if let Some(p) = pending {
        p.orphan(slots_used - 1, &mut dir.problems);
    }
    dir
}

/// Adds one LFN entry to what is pending; a break in the sequence orphans what came before.
fn add_lfn(
    pending: Option<PendingLfn>,
    lfn: LfnEntry,
    slot: usize,
    problems: &mut Vec<DirProblem>,
) -> Option<PendingLfn> {
    let valid_sequence = (1..=MAX_LFN_ENTRIES).contains(&lfn.sequence);
    if lfn.last {
        if let Some(p) = pending {
            p.orphan(slot - 1, problems);
        }
        if !valid_sequence {
            problems.push(DirProblem::LfnOrphaned {
                first: slot,
                last: slot,
            });
            return None;
        }
        return Some(PendingLfn {
            first_slot: slot,
            expected: lfn.sequence - 1,
            checksum: lfn.checksum,
            parts: vec![lfn.units],
        });
    }
    match pending {
        Some(mut p)
            if p.expected == lfn.sequence && p.checksum == lfn.checksum && valid_sequence =>
        {
            p.expected -= 1;
            p.parts.push(lfn.units);
            Some(p)
        }
        Some(p) => {
            p.orphan(slot, problems);
            None
        }
        None => {
            problems.push(DirProblem::LfnOrphaned {
                first: slot,
                last: slot,
            });
            None
        }
    }
}

/// The long name the pending entries spell for `entry`, if they are complete and belong to it.
fn long_name_for(
    p: PendingLfn,
    entry: &ShortEntry,
    slot: usize,
    problems: &mut Vec<DirProblem>,
) -> Option<String> {
    if p.expected != 0 {
        p.orphan(slot - 1, problems);
        return None;
    }
    let units: Vec<u16> = p.parts.iter().rev().flatten().copied().collect();
    let long = decode_long_name(&units).unwrap_or_else(|lossy| {
        problems.push(DirProblem::InvalidName {
            slot,
            name: lossy.clone(),
            why: "its long name is not valid UTF-16",
        });
        lossy
    });
    if p.checksum != ShortName(entry.name).checksum() {
        problems.push(DirProblem::LfnChecksum {
            slot,
            short_name: short_name_string(&entry.name, entry.case_flags),
            long_name: long,
        });
        return None;
    }
    if long.is_empty() {
        problems.push(DirProblem::InvalidName {
            slot,
            name: short_name_string(&entry.name, entry.case_flags),
            why: "its long name is empty",
        });
        return None;
    }
    Some(long)
}

/// `name`, or a stand-in when it could break paths: '/', NUL, control characters, "." and "..".
fn checked_name(name: String, slot: usize, problems: &mut Vec<DirProblem>) -> String {
    let bad = |c: char| c == '/' || (c as u32) < 0x20;
    let why = if name.is_empty() || name.chars().all(|c| c == ' ') {
        "it is empty"
    } else if name == "." || name == ".." {
        "it is reserved"
    } else if name.chars().any(bad) {
        "it contains '/' or a control character"
    } else {
        return name;
    };
    // Replacing the offending characters keeps the name recognisable; a name that has none
    // (empty, "." or "..") gets a replacement character appended instead.
    let mut shown: String = name
        .chars()
        .map(|c| if bad(c) { '\u{FFFD}' } else { c })
        .collect();
    if shown == name {
        shown.push('\u{FFFD}');
    }
    problems.push(DirProblem::InvalidName {
        slot,
        name: shown.clone(),
        why,
    });
    shown
}

/// "README.TXT", or "readme.txt" when the case flags say so; bytes above 0x7F in code page
/// 437, as Linux and mtools show them by default.
pub(crate) fn short_name_string(name: &[u8; 11], case_flags: u8) -> String {
    let mut raw = *name;
    if raw[0] == ESCAPED_E5 {
        raw[0] = DELETED;
    }
    let base = decode_short_part(&raw[..8], case_flags & LOWER_CASE_BASE != 0);
    let ext = decode_short_part(&raw[8..], case_flags & LOWER_CASE_EXTENSION != 0);
    let (base, ext) = (base.trim_end_matches(' '), ext.trim_end_matches(' '));
    if ext.is_empty() {
        base.to_string()
    } else {
        format!("{base}.{ext}")
    }
}

/// Bytes of a short name or label as characters (code page 437), lower-cased when `lower`.
pub(crate) fn decode_short_part(bytes: &[u8], lower: bool) -> String {
    bytes
        .iter()
        .map(|&b| {
            let b = if lower { b.to_ascii_lowercase() } else { b };
            cp437(b)
        })
        .collect()
}

/// Code page 437's upper half, 0x80-0xFF.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐\
    └┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}";

fn cp437(byte: u8) -> char {
    if byte < 0x80 {
        return char::from(byte);
    }
    CP437_HIGH
        .chars()
        .nth(usize::from(byte - 0x80))
        .unwrap_or('\u{FFFD}')
}

#[cfg(test)]
#[path = "dir_tests.rs"]
mod tests;
