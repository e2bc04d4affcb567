//! Replays fuzz/corpus/verity_superblock/ through `Superblock::decode`, the function the fuzzer
//! calls, with its property: no input panics; `valid-*` decode to a superblock that encodes back
//! to the same value; `damaged-<field>-*` are refused with a message naming the field; `none-*`
//! hold no superblock. Other names (`fuzzed-*`) only have to read: 33 inputs a 2-minute libFuzzer
//! run found (34 million executions, no failure), merged with `-merge=1 -use_counters=0`.
//!
//! `cargo test -p imgforge-verity --test fuzz_corpus -- --ignored` rewrites the hand-made inputs.

use std::fs;
use std::path::PathBuf;

use imgforge_testkit::{file_name_of, fuzz_corpus_dir, sorted_files};
use imgforge_verity::{HashAlgorithm, Superblock};

fn corpus() -> PathBuf {
    fuzz_corpus_dir("verity_superblock")
}

fn superblock(
    algorithm: HashAlgorithm,
    data_block_size: u32,
    hash_block_size: u32,
    salt: Vec<u8>,
) -> Superblock {
    Superblock {
        uuid: [0x5a; 16],
        algorithm,
        data_block_size,
        hash_block_size,
        data_blocks: 12_345,
        salt,
    }
}

/// The hand-made inputs: (file name, bytes).
fn hand_made() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    let plain = superblock(HashAlgorithm::Sha256, 4096, 4096, vec![0xab; 32]);
    inputs.push(("valid-sha256-4k".into(), plain.encode().to_vec()));
    inputs.push((
        "valid-sha512-512-no-salt".into(),
        superblock(HashAlgorithm::Sha512, 512, 512, vec![])
            .encode()
            .to_vec(),
    ));
    inputs.push((
        "valid-max-salt".into(),
        superblock(HashAlgorithm::Sha256, 65536, 1024, vec![7; 256])
            .encode()
            .to_vec(),
    ));
    // A whole first hash block, as a partition starts.
    let mut block = vec![0u8; 4096];
    block[..512].copy_from_slice(&plain.encode());
    inputs.push(("valid-in-a-block".into(), block));
    let damaged = |name: &str, at: usize, bytes: &[u8]| {
        let mut raw = plain.encode().to_vec();
        raw[at..at + bytes.len()].copy_from_slice(bytes);
        (format!("damaged-{name}"), raw)
    };
    inputs.push(damaged("version-2", 8, &2u32.to_le_bytes()));
    inputs.push(damaged("hash type-0", 12, &0u32.to_le_bytes()));
    inputs.push(damaged("hash algorithm-md5", 32, b"md5\0\0\0"));
    inputs.push(damaged("data block size-1000", 64, &1000u32.to_le_bytes()));
    inputs.push(damaged("hash block size-0", 68, &0u32.to_le_bytes()));
    inputs.push(damaged("data blocks-0", 72, &0u64.to_le_bytes()));
    inputs.push(damaged("salt-257", 80, &257u16.to_le_bytes()));
    inputs.push(("none-zeros".into(), vec![0u8; 512]));
    inputs.push(("none-short".into(), plain.encode()[..300].to_vec()));
    inputs.push(("none-empty".into(), Vec::new()));
    inputs
}

#[test]
fn every_corpus_input_reads_with_the_fuzzer_property() {
    let entries = sorted_files(&corpus());
    let (mut valid, mut damaged, mut none) = (0, 0, 0);
    for path in &entries {
        let name = file_name_of(path);
        let bytes = fs::read(path).unwrap();
        let decoded = Superblock::decode(&bytes);
        match &decoded {
            Ok(Some(sb)) => assert_eq!(
                Superblock::decode(&sb.encode()).unwrap().as_ref(),
                Some(sb),
                "{name}"
            ),
            Ok(None) => {}
            Err(e) => assert!(
                e.to_string().starts_with("verity superblock: "),
                "{name}: {e}"
            ),
        }
        if name.starts_with("valid-") {
            assert!(matches!(decoded, Ok(Some(_))), "{name}: {decoded:?}");
            valid += 1;
        } else if let Some(rest) = name.strip_prefix("damaged-") {
            let field = rest.rsplit_once('-').map_or(rest, |(field, _)| field);
            let message = decoded.expect_err(name).to_string();
            assert!(message.contains(field), "{name}: {message}");
            damaged += 1;
        } else if name.starts_with("none-") {
            assert!(matches!(decoded, Ok(None)), "{name}: {decoded:?}");
            none += 1;
        }
    }
    assert!(
        valid >= 4 && damaged >= 7 && none >= 3,
        "{valid} valid, {damaged} damaged, {none} none: the corpus is incomplete"
    );
}

#[test]
fn the_hand_made_inputs_are_current() {
    for (name, bytes) in hand_made() {
        let found = fs::read(corpus().join(&name))
            .unwrap_or_else(|_| panic!("{name} is missing: run the ignored regenerate test"));
        assert!(
            found == bytes,
            "{name} differs from what the generator makes: run the ignored regenerate test"
        );
    }
}

#[test]
#[ignore = "rewrites the hand-made corpus inputs"]
fn regenerate_hand_made_inputs() {
    fs::create_dir_all(corpus()).unwrap();
    for (name, bytes) in hand_made() {
        fs::write(corpus().join(name), bytes).unwrap();
    }
}
