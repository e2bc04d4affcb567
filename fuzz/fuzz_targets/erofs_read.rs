//! Reads arbitrary bytes as an EROFS volume, end to end: detection, the summary and findings,
//! every path, every file's data and symlink's target, every xattr, verification. Any panic,
//! hang or runaway allocation is a bug. `crates/erofs/tests/fuzz_corpus.rs` replays
//! fuzz/corpus/erofs_read/ through the same function.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imgforge_erofs::read_slice(data);
});
