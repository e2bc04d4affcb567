//! The 512-byte on-disk superblock of a verity hash area (cryptsetup's lib/verity/verity.c,
//! `struct verity_sb`), little endian. It fills the first hash block; the tree starts at the next.
//! systemd-repart writes it for the hash partitions of the Discoverable Partitions Specification
//! (it formats with CRYPT_VERITY_CREATE_HASH and without CRYPT_VERITY_NO_HEADER), so imgforge does too.

use crate::geometry::{block_size_ok, MAX_SALT_SIZE};
use crate::{HashAlgorithm, VerityError};

pub const SUPERBLOCK_SIZE: usize = 512;
const SIGNATURE: &[u8; 8] = b"verity\0\0";
/// Superblock version 1 and hash type 1 ("normal": salt first, digests in power-of-two slots).
const VERSION: u32 = 1;
const HASH_TYPE: u32 = 1;

/// What a superblock records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    pub uuid: [u8; 16],
    pub algorithm: HashAlgorithm,
    pub data_block_size: u32,
    pub hash_block_size: u32,
    pub data_blocks: u64,
    pub salt: Vec<u8>,
}

impl Superblock {
    pub fn encode(&self) -> [u8; SUPERBLOCK_SIZE] {
        let mut out = [0u8; SUPERBLOCK_SIZE];
        out[0..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&HASH_TYPE.to_le_bytes());
        out[16..32].copy_from_slice(&self.uuid);
        let name = self.algorithm.name().as_bytes();
        out[32..32 + name.len()].copy_from_slice(name);
        out[64..68].copy_from_slice(&self.data_block_size.to_le_bytes());
        out[68..72].copy_from_slice(&self.hash_block_size.to_le_bytes());
        out[72..80].copy_from_slice(&self.data_blocks.to_le_bytes());
        out[80..82].copy_from_slice(&(self.salt.len() as u16).to_le_bytes());
        out[88..88 + self.salt.len()].copy_from_slice(&self.salt);
        out
    }

    /// Reads untrusted bytes: `Ok(None)` when they hold no verity superblock at all, an error
    /// naming the first field that is out of range when they hold a damaged or unsupported one.
    pub fn decode(bytes: &[u8]) -> Result<Option<Superblock>, VerityError> {
        if bytes.len() < SUPERBLOCK_SIZE || &bytes[0..8] != SIGNATURE {
            return Ok(None);
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let bad = |what: String| Err(VerityError::Invalid(format!("verity superblock: {what}")));
        if u32_at(8) != VERSION {
            return bad(format!("version {} (only 1 exists)", u32_at(8)));
        }
        if u32_at(12) != HASH_TYPE {
            return bad(format!("hash type {} (imgforge reads type 1)", u32_at(12)));
        }
        let name_field = &bytes[32..64];
        let name_len = name_field
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name_field.len());
        let name = String::from_utf8_lossy(&name_field[..name_len]).into_owned();
        let Some(algorithm) = HashAlgorithm::from_name(&name) else {
            return bad(format!(
                "hash algorithm {name:?} (imgforge reads sha256 and sha512)"
            ));
        };
        let data_block_size = u32_at(64);
        let hash_block_size = u32_at(68);
        if !block_size_ok(data_block_size) {
            return bad(format!("data block size {data_block_size}"));
        }
        if !block_size_ok(hash_block_size) {
            return bad(format!("hash block size {hash_block_size}"));
        }
        let data_blocks = u64::from_le_bytes(bytes[72..80].try_into().unwrap());
        if data_blocks == 0 {
            return bad("0 data blocks".into());
        }
        let salt_size = usize::from(u16::from_le_bytes([bytes[80], bytes[81]]));
        if salt_size > MAX_SALT_SIZE {
            return bad(format!(
                "salt of {salt_size} bytes (at most {MAX_SALT_SIZE})"
            ));
        }
        Ok(Some(Superblock {
            uuid: bytes[16..32].try_into().unwrap(),
            algorithm,
            data_block_size,
            hash_block_size,
            data_blocks,
            salt: bytes[88..88 + salt_size].to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Superblock {
        Superblock {
            uuid: [7; 16],
            algorithm: HashAlgorithm::Sha256,
            data_block_size: 4096,
            hash_block_size: 4096,
            data_blocks: 12345,
            salt: vec![0xab; 32],
        }
    }

    #[test]
    fn round_trips() {
        let bytes = sample().encode();
        assert_eq!(&bytes[32..39], b"sha256\0");
        assert_eq!(Superblock::decode(&bytes).unwrap(), Some(sample()));
    }

    #[test]
    fn other_bytes_are_no_superblock() {
        assert_eq!(Superblock::decode(&[0u8; 512]).unwrap(), None);
        assert_eq!(Superblock::decode(b"verity").unwrap(), None);
    }

    #[test]
    fn damaged_fields_are_named() {
        let mut bytes = sample().encode();
        bytes[80] = 0xff;
        bytes[81] = 0xff;
        let message = Superblock::decode(&bytes).unwrap_err().to_string();
        assert!(message.contains("salt"), "{message}");
        let mut bytes = sample().encode();
        bytes[64..68].copy_from_slice(&1000u32.to_le_bytes());
        assert!(Superblock::decode(&bytes)
            .unwrap_err()
            .to_string()
            .contains("data block size"));
    }
}
