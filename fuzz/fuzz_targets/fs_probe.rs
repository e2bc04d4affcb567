//! Probes arbitrary bytes as an ext2/3/4 and as a squashfs partition: detection, the summary,
//! every superblock check, the squashfs tables' positions, metadata headers and id index. Any
//! panic, hang or runaway allocation is a bug. `crates/fs-probe/tests/fuzz_corpus.rs` replays
//! fuzz/corpus/fs_probe/ through the same function.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imgforge_fs_probe::probe_slice(data);
});
