//! CRC-32 as GPT uses it (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final
//! XOR 0xFFFFFFFF). Written here, table-driven, so the crate needs nothing but std.

const POLYNOMIAL: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                POLYNOMIAL ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32_continue(0, data)
}

/// Continues a checksum over a further buffer:
/// `crc32_continue(crc32(a), b) == crc32(a ++ b)`.
pub(crate) fn crc32_continue(previous: u32, data: &[u8]) -> u32 {
    let mut crc = !previous;
    for &byte in data {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
#[path = "crc32_tests.rs"]
mod tests;
