//! One partition entry of the GPT entry array.

use crate::format::{entry as at, read_u16, read_u64, write_bytes, write_u64};
use crate::format::{GPT_ENTRY_SIZE, GPT_NAME_UNITS};
use crate::guid::Guid;

/// The defined fields of an entry (its first 128 bytes; larger entries have reserved bytes after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// [`Guid::NIL`] marks an unused entry.
    pub type_guid: Guid,
    pub unique_guid: Guid,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
    pub attributes: u64,
    /// UTF-16 code units, NUL-padded.
    pub name: [u16; GPT_NAME_UNITS],
}

impl Entry {
    pub fn is_used(&self) -> bool {
        !self.type_guid.is_nil()
    }

    /// The 128 bytes of this entry.
    pub fn encode(&self) -> [u8; GPT_ENTRY_SIZE as usize] {
        let mut bytes = [0u8; GPT_ENTRY_SIZE as usize];
        write_bytes(&mut bytes, at::TYPE_GUID, &self.type_guid.to_bytes());
        write_bytes(&mut bytes, at::UNIQUE_GUID, &self.unique_guid.to_bytes());
        write_u64(&mut bytes, at::FIRST_LBA, self.first_lba);
        write_u64(&mut bytes, at::LAST_LBA, self.last_lba);
        write_u64(&mut bytes, at::ATTRIBUTES, self.attributes);
        for (i, unit) in self.name.iter().enumerate() {
            write_bytes(&mut bytes, at::NAME + 2 * i, &unit.to_le_bytes());
        }
        bytes
    }

    /// The entry at the start of `bytes`; None when fewer than 128 bytes are there.
    pub fn decode(bytes: &[u8]) -> Option<Entry> {
        let mut name = [0u16; GPT_NAME_UNITS];
        for (i, unit) in name.iter_mut().enumerate() {
            *unit = read_u16(bytes, at::NAME + 2 * i)?;
        }
        Some(Entry {
            type_guid: Guid::read(bytes.get(at::TYPE_GUID..)?)?,
            unique_guid: Guid::read(bytes.get(at::UNIQUE_GUID..)?)?,
            first_lba: read_u64(bytes, at::FIRST_LBA)?,
            last_lba: read_u64(bytes, at::LAST_LBA)?,
            attributes: read_u64(bytes, at::ATTRIBUTES)?,
            name,
        })
    }

    /// The name up to its first NUL, with invalid UTF-16 (lone surrogates) replaced by U+FFFD.
    pub(crate) fn name_lossy(&self) -> String {
        name_lossy(&self.name)
    }
}

/// Decodes UTF-16 name units up to the first NUL, replacing lone surrogates by U+FFFD.
pub(crate) fn name_lossy(units: &[u16]) -> String {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end])
}

/// A name as the fixed field stores it; None when it has more than 36 code units.
pub fn name_units(name: &[u16]) -> Option<[u16; GPT_NAME_UNITS]> {
    let mut units = [0u16; GPT_NAME_UNITS];
    units.get_mut(..name.len())?.copy_from_slice(name);
    Some(units)
}

#[cfg(test)]
#[path = "entry_tests.rs"]
mod tests;
