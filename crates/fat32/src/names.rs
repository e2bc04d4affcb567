//! FAT names: which long names are allowed, the 8.3 short aliases, and long-name (LFN) entries.
//!
//! Follows Microsoft's FAT specification (fatgen103) and what the Linux vfat driver accepts:
//! every entry has an 8.3 short entry; names that are not plain upper-case 8.3 names also get a
//! chain of LFN entries holding the name in UTF-16.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::ondisk::dirent::{offset::ATTRIBUTES, ATTR_LONG_NAME, ENTRY_BYTES};

/// Longest long name, in UTF-16 code units.
const MAX_LONG_UNITS: usize = 255;
/// UTF-16 code units held by one LFN entry.
pub(crate) const UNITS_PER_LFN: usize = 13;
/// LFN entries one name can take: 255 units in 13-unit entries.
pub(crate) const MAX_LFN_ENTRIES: u8 = 20;
/// Byte offsets inside an LFN entry; the attribute byte is where short entries keep theirs.
const LFN_ORDINAL: usize = 0;
const LFN_TYPE: usize = 12;
const LFN_CHECKSUM: usize = 13;
/// Byte offsets of the 13 name units inside an LFN entry.
pub(crate) const LFN_UNIT_OFFSETS: [usize; UNITS_PER_LFN] =
    [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
/// Flag on the ordinal of the last (first stored) LFN entry.
pub(crate) const LAST_LFN_FLAG: u8 = 0x40;

/// Why a long name cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    Empty,
    /// "." and "..".
    Reserved,
    /// More than 255 UTF-16 code units.
    TooLong {
        units: usize,
    },
    /// A character FAT forbids in long names (control characters and `"*/:<>?\|`).
    ForbiddenChar {
        ch: char,
    },
    /// Windows and FAT drivers strip trailing dots and spaces, so such a name would change.
    TrailingDotOrSpace,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("is empty"),
            NameError::Reserved => f.write_str("is reserved"),
            NameError::TooLong { units } => write!(
                f,
                "is {units} UTF-16 units long; FAT long names hold at most {MAX_LONG_UNITS}"
            ),
            NameError::ForbiddenChar { ch } => write!(
                f,
                "contains the character {} which FAT does not allow in names",
                describe_char(*ch)
            ),
            NameError::TrailingDotOrSpace => {
                f.write_str("ends with a dot or a space, which FAT drivers strip")
            }
        }
    }
}

/// `'?'` for printable characters, `U+0001` for control characters (which would garble output).
fn describe_char(ch: char) -> String {
    if ch.is_control() {
        format!("U+{:04X}", ch as u32)
    } else {
        format!("'{ch}'")
    }
}

/// An 8.3 name as stored in a directory entry: 8 + 3 bytes, space padded, ASCII only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ShortName(pub [u8; 11]);

impl ShortName {
    /// The checksum LFN entries carry to bind them to this short entry.
    pub(crate) fn checksum(&self) -> u8 {
        self.0.iter().fold(0u8, |sum, &b| {
            ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(b)
        })
    }

    /// Builds a short name from an ASCII base (at most 8 bytes) and extension (at most 3).
    fn from_parts(base: &[u8], ext: &[u8]) -> ShortName {
        debug_assert!(base.len() <= 8 && ext.len() <= 3);
        let mut bytes = [b' '; 11];
        bytes[..base.len()].copy_from_slice(base);
        bytes[8..8 + ext.len()].copy_from_slice(ext);
        ShortName(bytes)
    }
}

impl fmt::Display for ShortName {
    /// "README.TXT", "EFI", "LONGNA~1.EFI".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trim = |part: &[u8]| -> String {
            let end = part.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
            part[..end].iter().map(|&b| char::from(b)).collect()
        };
        let base = trim(&self.0[..8]);
        let ext = trim(&self.0[8..]);
        if ext.is_empty() {
            f.write_str(&base)
        } else {
            write!(f, "{base}.{ext}")
        }
    }
}

/// Checks that `name` can be a FAT long name.
pub(crate) fn validate_long_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameError::Reserved);
    }
    let units = name.encode_utf16().count();
    if units > MAX_LONG_UNITS {
        return Err(NameError::TooLong { units });
    }
    if let Some(ch) = name.chars().find(|&c| is_forbidden_in_long_name(c)) {
        return Err(NameError::ForbiddenChar { ch });
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Err(NameError::TrailingDotOrSpace);
    }
    Ok(())
}

fn is_forbidden_in_long_name(c: char) -> bool {
    (c as u32) < 0x20 || c == '\u{7F}' || "\"*/:<>?\\|".contains(c)
}

/// The key under which FAT treats two names as equal (case-insensitive).
///
/// FAT drivers compare names through per-character upcase tables (Windows' upcase table, the
/// one-to-one mappings of Linux's NLS tables), i.e. a simple one-char-to-one-char case mapping. `char::to_uppercase`
/// applies the full Unicode mapping, which may expand a character ("ß" → "SS"); no FAT driver
/// does that, so such a character is kept as it is and "Straße" stays distinct from "STRASSE".
pub(crate) fn fold_case(name: &str) -> String {
    name.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// The short entry and long-name need of one directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirName {
    pub short: ShortName,
    /// False only for plain upper-case ASCII 8.3 names, which are stored as their short name alone.
    pub needs_lfn: bool,
}

/// Whether `b` (already upper case) may appear in a short name: A-Z, 0-9 and
/// ``! # $ % & ' ( ) - @ ^ _ ` { } ~``.
fn is_short_name_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b"!#$%&'()-@^_`{}~".contains(&b)
}

/// The upper-cased short name of `name` if it already is a valid 8.3 name ignoring case.
fn exact_short_name(name: &str) -> Option<ShortName> {
    if !name.is_ascii() {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    let (base, ext) = match upper.split_once('.') {
        Some((base, ext)) => {
            if ext.is_empty() || ext.len() > 3 || ext.contains('.') {
                return None;
            }
            (base, ext)
        }
        None => (upper.as_str(), ""),
    };
    if base.is_empty() || base.len() > 8 {
        return None;
    }
    if !base.bytes().chain(ext.bytes()).all(is_short_name_byte) {
        return None;
    }
    Some(ShortName::from_parts(base.as_bytes(), ext.as_bytes()))
}

/// Maps one character of a long name into the short-name set: upper-cased, or '_' if it has no
/// place there (non-ASCII, `+ , ; = [ ]`, ...).
fn basis_byte(c: char) -> u8 {
    if c.is_ascii() {
        let b = (c as u8).to_ascii_uppercase();
        if is_short_name_byte(b) {
            return b;
        }
    }
    b'_'
}

/// The basis of a generated alias: the base (at most 8 bytes, never empty) and the extension
/// (at most 3 bytes), following the fatgen103 basis-name algorithm.
fn basis_name(name: &str) -> (Vec<u8>, Vec<u8>) {
    // Spaces go everywhere, then leading dots; the extension is what follows the last dot.
    let without_spaces: String = name.chars().filter(|&c| c != ' ').collect();
    let rest = without_spaces.trim_start_matches('.');
    let (base_part, ext_part) = match rest.rfind('.') {
        Some(dot) => (&rest[..dot], &rest[dot + 1..]),
        None => (rest, ""),
    };
    let mut base: Vec<u8> = base_part
        .chars()
        .filter(|&c| c != '.')
        .map(basis_byte)
        .take(8)
        .collect();
    if base.is_empty() {
        base.push(b'_');
    }
    let ext: Vec<u8> = ext_part.chars().map(basis_byte).take(3).collect();
    (base, ext)
}

/// The alias `base~n.ext`, with the base shortened so that base and tail fit in 8 bytes.
fn alias_with_tail(base: &[u8], ext: &[u8], n: u32) -> ShortName {
    let tail = format!("~{n}");
    // Directories hold at most 65,536 entries, so n never comes near 7 digits.
    assert!(
        tail.len() < 8,
        "numeric tail {tail} leaves no room for a base"
    );
    let keep = base.len().min(8 - tail.len());
    let mut alias = base[..keep].to_vec();
    alias.extend_from_slice(tail.as_bytes());
    ShortName::from_parts(&alias, ext)
}

/// Assigns short names to the entries of one directory, given in the order they are written.
/// Names are valid long names, distinct under fold_case. The short names are unique.
pub(crate) fn assign_short_names(names: &[&str]) -> Vec<DirName> {
    let mut result: Vec<Option<DirName>> = vec![None; names.len()];
    let mut used: HashSet<ShortName> = HashSet::with_capacity(names.len());

    // Pass 1: names that already are 8.3 names (ignoring case) keep them, so that no generated
    // alias can take the short name a user literally asked for.
    for (slot, name) in result.iter_mut().zip(names) {
        if let Some(short) = exact_short_name(name) {
            if used.insert(short) {
                let needs_lfn = name.bytes().any(|b| b.is_ascii_lowercase());
                *slot = Some(DirName { short, needs_lfn });
            }
        }
    }

    // Pass 2: generated aliases with a numeric tail. The alias for tail n depends only on the
    // first 6 bytes of the base and on the extension (the base is cut to at most 8 - len("~n")
    // <= 6 bytes), so one counter per such key lets each name resume where the previous name of
    // the same key stopped, instead of probing ~1, ~2, ... again: linear in practice.
    let mut next_tail: HashMap<ShortName, u32> = HashMap::new();
    for (slot, name) in result.iter_mut().zip(names) {
        if slot.is_some() {
            continue;
        }
        let (base, ext) = basis_name(name);
        let key = ShortName::from_parts(&base[..base.len().min(6)], &ext);
        let n = next_tail.entry(key).or_insert(1);
        let short = loop {
            let candidate = alias_with_tail(&base, &ext, *n);
            *n += 1;
            if used.insert(candidate) {
                break candidate;
            }
        };
        *slot = Some(DirName {
            short,
            needs_lfn: true,
        });
    }

    result
        .into_iter()
        .map(|d| d.expect("every name gets a short name in one of the passes"))
        .collect()
}

/// Number of LFN entries needed for `name` (13 UTF-16 units each).
pub(crate) fn lfn_entry_count(name: &str) -> usize {
    name.encode_utf16().count().div_ceil(UNITS_PER_LFN)
}

/// The 32-byte entries a directory's children take: a short entry each, plus the long-name
/// entries of the names `assigned` says need them.
pub(crate) fn child_entries(names: &[&str], assigned: &[DirName]) -> u64 {
    names
        .iter()
        .zip(assigned)
        .map(|(name, a)| {
            1 + if a.needs_lfn {
                lfn_entry_count(name) as u64
            } else {
                0
            }
        })
        .sum()
}

/// Appends the LFN entries of `name` in on-disk order (highest sequence number first, the
/// 0x40 flag on it), each bound to `short` by its checksum.
pub(crate) fn encode_lfn_entries(name: &str, short: &ShortName, out: &mut Vec<[u8; 32]>) {
    let units: Vec<u16> = name.encode_utf16().collect();
    let count = units.len().div_ceil(UNITS_PER_LFN);
    debug_assert!(count <= 20, "long name of {} units", units.len());
    let checksum = short.checksum();
    for seq in (1..=count).rev() {
        let mut entry = [0u8; ENTRY_BYTES];
        entry[LFN_ORDINAL] = seq as u8 | if seq == count { LAST_LFN_FLAG } else { 0 };
        entry[ATTRIBUTES] = ATTR_LONG_NAME;
        entry[LFN_TYPE] = 0;
        entry[LFN_CHECKSUM] = checksum;
        // Bytes 26-27 (first cluster) stay 0.
        let first = (seq - 1) * UNITS_PER_LFN;
        for (i, &offset) in LFN_UNIT_OFFSETS.iter().enumerate() {
            let pos = first + i;
            let unit = match pos.cmp(&units.len()) {
                std::cmp::Ordering::Less => units[pos],
                std::cmp::Ordering::Equal => 0x0000, // terminator, only when there is room
                std::cmp::Ordering::Greater => 0xFFFF,
            };
            entry[offset..offset + 2].copy_from_slice(&unit.to_le_bytes());
        }
        out.push(entry);
    }
}

/// One long-name entry as stored: which part of the name it holds and the short entry it
/// belongs to (by checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LfnEntry {
    /// 1 for the entry holding the name's first 13 units; valid ones go up to MAX_LFN_ENTRIES.
    pub sequence: u8,
    /// Set on the entry holding the end of the name, which is stored first.
    pub last: bool,
    pub checksum: u8,
    pub units: [u16; UNITS_PER_LFN],
}

impl LfnEntry {
    /// Reads any entry as a long-name entry; the caller checks the attribute byte first.
    pub(crate) fn parse(entry: &[u8; ENTRY_BYTES]) -> LfnEntry {
        let ordinal = entry[LFN_ORDINAL];
        LfnEntry {
            sequence: ordinal & !LAST_LFN_FLAG,
            last: ordinal & LAST_LFN_FLAG != 0,
            checksum: entry[LFN_CHECKSUM],
            units: LFN_UNIT_OFFSETS.map(|at| u16::from_le_bytes([entry[at], entry[at + 1]])),
        }
    }
}

/// A long name from its UTF-16 units in name order: up to the first 0x0000 (the padding after
/// it is 0xFFFF). Err holds the name with U+FFFD for each unpaired surrogate.
pub(crate) fn decode_long_name(units: &[u16]) -> Result<String, String> {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16(&units[..end]).map_err(|_| String::from_utf16_lossy(&units[..end]))
}

/// Volume labels: at most 11 characters from the short-name character set; stored upper-case
/// and space padded.
pub fn volume_label(label: &str) -> Result<[u8; 11], String> {
    if label.is_empty() {
        return Err("is empty; a FAT volume label needs at least one character".to_string());
    }
    if let Some(c) = label.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "contains the character {}; a FAT volume label is ASCII only",
            describe_char(c)
        ));
    }
    if label.len() > 11 {
        return Err(format!(
            "is {} characters long; a FAT volume label holds at most 11",
            label.len()
        ));
    }
    if label.starts_with(' ') {
        return Err("starts with a space, which a FAT volume label cannot".to_string());
    }
    let mut bytes = [b' '; 11];
    for (slot, b) in bytes.iter_mut().zip(label.bytes()) {
        let upper = b.to_ascii_uppercase();
        if upper != b' ' && !is_short_name_byte(upper) {
            return Err(format!(
                "contains the character {} which a FAT volume label does not allow",
                describe_char(char::from(b))
            ));
        }
        *slot = upper;
    }
    Ok(bytes)
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
