//! Reads arbitrary bytes as a FAT32 partition, end to end: detection, the summary and
//! findings, the whole tree, every file's data, verification. Any panic, hang or runaway
//! allocation is a bug. `crates/fat32/tests/fuzz_corpus.rs` replays fuzz/corpus/fat32_read/
//! through the same function.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imgforge_fat32::read_slice(data);
});
