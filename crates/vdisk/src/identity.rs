//! What makes one VHD differ from another of the same content: its unique id and its
//! timestamp. Both can be given, so that seeded builds are reproducible.

use crate::error::VdiskError;

/// Seconds from the Unix epoch to the VHD epoch, 2000-01-01T00:00:00Z.
const VHD_EPOCH_UNIX: u64 = 946_684_800;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VhdIdentity {
    /// "Unique Id", stored in the order the UUID's text reads (RFC 4122).
    pub unique_id: [u8; 16],
    /// "Time Stamp": seconds since 2000-01-01T00:00:00Z.
    pub timestamp: u32,
}

impl VhdIdentity {
    /// The identity from the options: `uuid` as text (random when absent), `unix_time` in
    /// seconds (when absent: SOURCE_DATE_EPOCH if set, else now). Times before 2000 become
    /// the VHD epoch itself.
    pub fn resolve(uuid: Option<&str>, unix_time: Option<u64>) -> Result<Self, VdiskError> {
        let unique_id = match uuid {
            Some(text) => parse_uuid(text)?,
            None => random_uuid()?,
        };
        let unix_time = match unix_time {
            Some(time) => time,
            None => default_unix_time()?,
        };
        Ok(VhdIdentity {
            unique_id,
            timestamp: vhd_timestamp(unix_time)?,
        })
    }
}

/// Seconds since the VHD epoch; an error past its 32 bits (year 2136).
pub fn vhd_timestamp(unix_time: u64) -> Result<u32, VdiskError> {
    u32::try_from(unix_time.saturating_sub(VHD_EPOCH_UNIX)).map_err(|_| {
        VdiskError::Identity(format!(
            "timestamp: {unix_time} is past the last time a VHD can hold (2136-02-07)"
        ))
    })
}

fn default_unix_time() -> Result<u64, VdiskError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text.trim().parse().map_err(|_| {
            VdiskError::Identity(format!(
                "SOURCE_DATE_EPOCH must be whole seconds since 1970, got {text:?}"
            ))
        }),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())),
    }
}

/// A UUID as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex digits, either case).
pub fn parse_uuid(text: &str) -> Result<[u8; 16], VdiskError> {
    let invalid = || {
        VdiskError::Identity(format!(
            "uuid: {text:?} is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        ))
    };
    let groups: Vec<&str> = text.split('-').collect();
    if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
        return Err(invalid());
    }
    let hex: String = groups.concat();
    if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let mut bytes = [0u8; 16];
    for (n, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * n..2 * n + 2).ok_or_else(invalid)?, 16)
            .map_err(|_| invalid())?;
    }
    Ok(bytes)
}

/// A random (version 4) UUID.
fn random_uuid() -> Result<[u8; 16], VdiskError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        VdiskError::Identity(format!(
            "cannot get random bytes for a VHD unique id: {error}"
        ))
    })?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_parse_in_text_order_and_bad_ones_name_the_option() {
        assert_eq!(
            parse_uuid("00112233-4455-6677-8899-AABBCCDDEEFF").unwrap(),
            [
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]
        );
        for bad in [
            "",
            "00112233445566778899aabbccddeeff",
            "0011223-34455-6677-8899-aabbccddeeff",
            "g0112233-4455-6677-8899-aabbccddeeff",
            "+0112233-4455-6677-8899-aabbccddeeff",
        ] {
            let error = parse_uuid(bad).unwrap_err().to_string();
            assert!(error.starts_with("uuid: "), "{bad}: {error}");
        }
        let random = VhdIdentity::resolve(None, Some(0)).unwrap().unique_id;
        assert_eq!(random[6] >> 4, 4, "version 4");
        assert_ne!(
            random,
            VhdIdentity::resolve(None, Some(0)).unwrap().unique_id
        );
    }

    #[test]
    fn timestamps_count_from_2000_and_clamp_before_it() {
        assert_eq!(vhd_timestamp(946_684_800).unwrap(), 0);
        assert_eq!(vhd_timestamp(946_684_801).unwrap(), 1);
        assert_eq!(vhd_timestamp(0).unwrap(), 0);
        assert_eq!(
            vhd_timestamp(946_684_800 + u32::MAX as u64).unwrap(),
            u32::MAX
        );
        assert!(vhd_timestamp(946_684_800 + u32::MAX as u64 + 1).is_err());
    }
}
