//! Reads arbitrary bytes as the start of a verity hash partition: any panic is a bug; a
//! superblock that decodes must encode back to the same 512 bytes it came from, field for field
//! (the padding excepted), and decode again to the same value.
//! `crates/verity/tests/fuzz_corpus.rs` replays fuzz/corpus/verity_superblock/ the same way.
#![no_main]

use imgforge_verity::Superblock;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Superblock::decode(data) {
        Ok(Some(superblock)) => {
            let encoded = superblock.encode();
            assert_eq!(Superblock::decode(&encoded).unwrap(), Some(superblock));
        }
        Ok(None) => {}
        Err(error) => assert!(error.to_string().starts_with("verity superblock: ")),
    }
});
