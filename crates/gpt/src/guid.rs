//! GUIDs as GPT stores them: the first three fields little-endian, the last two (clock sequence
//! and node) in textual order, so the bytes of "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" on disk
//! begin 28 73 2A C1.

use std::fmt;
use std::str::FromStr;

/// A GUID held as its 16 on-disk bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid([u8; 16]);

/// Where the textual form of the GUID's bytes sits in the on-disk form: byte `i` of the text
/// order is on disk at `TEXT_TO_DISK[i]`.
const TEXT_TO_DISK: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/// Positions of the dashes in "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX".
const DASHES: [usize; 4] = [8, 13, 18, 23];
const TEXT_LEN: usize = 36;

impl Guid {
    /// The all-zero GUID: as a partition type it marks an unused entry.
    pub const NIL: Guid = Guid([0; 16]);

    pub const fn from_bytes(bytes: [u8; 16]) -> Guid {
        Guid(bytes)
    }

    /// The 16 bytes in on-disk (mixed-endian) order.
    pub(crate) const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Reads the on-disk bytes at the start of `bytes`; None when fewer than 16 are there.
    pub(crate) fn read(bytes: &[u8]) -> Option<Guid> {
        bytes.get(..16)?.try_into().ok().map(Guid)
    }

    pub(crate) fn is_nil(self) -> bool {
        self == Guid::NIL
    }

    fn text_order(self) -> [u8; 16] {
        let mut text = [0u8; 16];
        for (i, &disk) in TEXT_TO_DISK.iter().enumerate() {
            text[i] = self.0[disk];
        }
        text
    }

    fn from_text_order(text: [u8; 16]) -> Guid {
        let mut disk = [0u8; 16];
        for (i, &at) in TEXT_TO_DISK.iter().enumerate() {
            disk[at] = text[i];
        }
        Guid(disk)
    }
}

/// A string that is not of the form XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (hex digits, any case,
/// no braces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidParseError(pub String);

impl fmt::Display for GuidParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a GUID: {:?}", self.0)
    }
}

impl std::error::Error for GuidParseError {}

impl FromStr for Guid {
    type Err = GuidParseError;

    fn from_str(text: &str) -> Result<Guid, GuidParseError> {
        let fail = || GuidParseError(text.to_string());
        let bytes = text.as_bytes();
        if bytes.len() != TEXT_LEN {
            return Err(fail());
        }
        let mut digits = Vec::with_capacity(32);
        for (i, &c) in bytes.iter().enumerate() {
            if DASHES.contains(&i) {
                if c != b'-' {
                    return Err(fail());
                }
            } else {
                digits.push(hex_value(c).ok_or_else(fail)?);
            }
        }
        let mut text_order = [0u8; 16];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            text_order[i] = pair[0] << 4 | pair[1];
        }
        Ok(Guid::from_text_order(text_order))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Upper case, as imgforge and most partitioning tools print GUIDs.
impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.text_order();
        for (i, byte) in t.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

#[cfg(test)]
#[path = "guid_tests.rs"]
mod tests;
