//! Little-endian fields of a decoded block. Callers pass offsets inside the block they read
//! (the structures' sizes are fixed), so these index without checks of their own.

pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A UUID as imgforge shows every GUID and UUID: "5C0E2F1A-8D4B-4E6F-9A3C-7B1D2E4F6A80", its
/// 16 bytes in stored order (ext4 keeps them in text order).
pub fn uuid_text(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    [
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32],
    ]
    .join("-")
}

/// A fixed-size name field up to its first NUL; None when empty.
pub(crate) fn name_field(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    (end > 0).then(|| String::from_utf8_lossy(&bytes[..end]).into_owned())
}
