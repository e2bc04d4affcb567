//! A cheap stand-in for the fuzzer in every `cargo test`: each seed of fuzz/corpus/fs_probe/
//! with random bytes changed, many times over, through `probe_slice`. Nothing may panic; a seed
//! with a changed superblock byte mostly still reads as its filesystem, with or without findings.

use std::fs;

use imgforge_fs_probe::probe_slice;
use imgforge_testkit::{file_name_of, fuzz_corpus_dir, sorted_files, Rng};

/// Mutated copies per seed.
const ROUNDS: usize = 3000;

#[test]
fn mutated_seeds_never_panic() {
    let mut rng = Rng::new(14);
    let mut probed = 0;
    for path in sorted_files(&fuzz_corpus_dir("fs_probe")) {
        if !file_name_of(&path).starts_with("seed-") {
            continue;
        }
        let seed = fs::read(&path).unwrap();
        let ext4 = file_name_of(&path).starts_with("seed-ext4");
        // The bytes a probe reads: the ext4 superblock, or the squashfs superblock and tables.
        let (from, to) = if ext4 { (1024, 2048) } else { (0, seed.len()) };
        for _ in 0..ROUNDS {
            let mut bytes = seed.clone();
            for _ in 0..1 + rng.below(8) {
                let at = from + rng.below((to - from) as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
            }
            if rng.chance(1, 10) {
                bytes.truncate(rng.below(bytes.len() as u64) as usize);
            }
            let report = probe_slice(&bytes);
            probed += usize::from(report.ext4.is_some() || report.squashfs.is_some());
        }
    }
    assert!(
        probed > ROUNDS,
        "only {probed} mutated inputs still read as a filesystem"
    );
}
