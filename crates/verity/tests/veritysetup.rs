//! The tree matches `veritysetup format` byte for byte (superblock included), over data of
//! several shapes: one block, exact powers of the fan-out, one past, zero runs, SHA-512, 512-byte
//! hash blocks; and `veritysetup verify` rejects the data after a byte flips, as `verify` does.

use std::fs::{File, OpenOptions};
use std::path::Path;

use imgforge_testkit::{find_tool, pattern, run_status};
use imgforge_verity::{format, hash_area_size, verify, Control, HashAlgorithm, Params, Region};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uuid_text(u: &[u8; 16]) -> String {
    let h = hex(u);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap()
}

/// Our tree and root hash in `ours`, veritysetup's in `theirs`; compares both.
fn compare(name: &str, data: &[u8], params: &Params) {
    let Some(veritysetup) = find_tool("veritysetup") else {
        eprintln!("skipped {name}: veritysetup is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data_path = dir.path().join("data");
    std::fs::write(&data_path, data).unwrap();
    let size = hash_area_size(data.len() as u64, params).unwrap();
    let ours = dir.path().join("ours");
    File::create(&ours).unwrap().set_len(size).unwrap();
    let data_file = File::open(&data_path).unwrap();
    let blocks = data.len() as u64 / u64::from(params.data_block_size);
    let data_region = Region {
        file: &data_file,
        offset: 0,
        blocks,
        size: 0,
    };
    let hash_file = open_rw(&ours);
    let outcome = format(
        &data_region,
        &Region {
            file: &hash_file,
            offset: 0,
            blocks: 0,
            size,
        },
        params,
        &Control::default(),
    )
    .unwrap();

    let theirs = dir.path().join("theirs");
    let salt = hex(&params.salt);
    let (dbs, hbs) = (
        params.data_block_size.to_string(),
        params.hash_block_size.to_string(),
    );
    let uuid = params.uuid.map(|u| uuid_text(&u));
    let mut args = vec![
        "format",
        "--hash",
        params.algorithm.name(),
        "--salt",
        &salt,
        "--data-block-size",
        &dbs,
        "--hash-block-size",
        &hbs,
    ];
    match &uuid {
        Some(uuid) => args.extend(["--uuid", uuid.as_str()]),
        None => args.push("--no-superblock"),
    }
    let (d, t) = (data_path.to_str().unwrap(), theirs.to_str().unwrap());
    args.extend([d, t]);
    let (ok, stdout, stderr) = run_status(&veritysetup, &args);
    assert!(ok, "{name}: veritysetup format failed: {stderr}");
    let root_line = stdout
        .lines()
        .find(|l| l.starts_with("Root hash:"))
        .unwrap();
    assert_eq!(
        root_line.split_whitespace().last().unwrap(),
        hex(&outcome.root_hash),
        "{name}: root hash"
    );
    let theirs_bytes = std::fs::read(&theirs).unwrap();
    let ours_bytes = std::fs::read(&ours).unwrap();
    assert_eq!(
        ours_bytes.len(),
        theirs_bytes.len(),
        "{name}: hash area size"
    );
    assert!(ours_bytes == theirs_bytes, "{name}: hash areas differ");

    // verify accepts the tree, then rejects data with one flipped byte, as veritysetup does.
    let checked = verify(
        &data_region,
        &Region {
            file: &hash_file,
            offset: 0,
            blocks: 0,
            size,
        },
        params,
        &Control::default(),
    )
    .unwrap();
    assert_eq!(checked.mismatch, None, "{name}");
    assert_eq!(checked.root_hash, outcome.root_hash);
    let mut flipped = data.to_vec();
    let at = flipped.len() - 1;
    flipped[at] ^= 1;
    std::fs::write(&data_path, &flipped).unwrap();
    let data_file = File::open(&data_path).unwrap();
    let changed = verify(
        &Region {
            file: &data_file,
            offset: 0,
            blocks,
            size: 0,
        },
        &Region {
            file: &hash_file,
            offset: 0,
            blocks: 0,
            size,
        },
        params,
        &Control::default(),
    )
    .unwrap();
    assert!(
        changed.mismatch.is_some() || changed.root_hash != outcome.root_hash,
        "{name}: a flipped byte went unnoticed"
    );
    let root = hex(&outcome.root_hash);
    let mut args = vec!["verify", d, ours.to_str().unwrap(), root.as_str()];
    let blocks_text = blocks.to_string();
    if uuid.is_none() {
        args.extend([
            "--no-superblock",
            "--hash",
            params.algorithm.name(),
            "--salt",
            &salt,
            "--data-block-size",
            &dbs,
            "--hash-block-size",
            &hbs,
            "--data-blocks",
            &blocks_text,
        ]);
    }
    let (ok, _, _) = run_status(&veritysetup, &args);
    assert!(!ok, "{name}: veritysetup verify accepted a flipped byte");
}

fn params(algorithm: HashAlgorithm, hash_block_size: u32, superblock: bool) -> Params {
    Params {
        algorithm,
        data_block_size: 4096,
        hash_block_size,
        salt: (0..32).map(|i| i as u8 * 7 + 1).collect(),
        uuid: superblock.then_some([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ]),
    }
}

#[test]
fn one_block() {
    compare(
        "one block",
        &pattern(4096, 1),
        &params(HashAlgorithm::Sha256, 4096, true),
    );
}

#[test]
fn exact_fan_out_and_one_past() {
    compare(
        "128 blocks",
        &pattern(128 * 4096, 2),
        &params(HashAlgorithm::Sha256, 4096, true),
    );
    compare(
        "129 blocks",
        &pattern(129 * 4096, 3),
        &params(HashAlgorithm::Sha256, 4096, true),
    );
}

#[test]
fn three_levels_with_small_hash_blocks_and_zero_runs() {
    // 512-byte hash blocks hold 16 digests: 300 blocks make levels of 19, 2 and 1 blocks.
    let mut data = pattern(300 * 4096, 4);
    data[10 * 4096..200 * 4096].fill(0);
    compare(
        "three levels",
        &data,
        &params(HashAlgorithm::Sha256, 512, true),
    );
}

#[test]
fn without_superblock() {
    compare(
        "no superblock",
        &pattern(1000 * 4096, 5),
        &params(HashAlgorithm::Sha256, 4096, false),
    );
}

#[test]
fn sha512() {
    compare(
        "sha512",
        &pattern(70 * 4096, 6),
        &params(HashAlgorithm::Sha512, 4096, true),
    );
}

#[test]
fn empty_salt() {
    let mut p = params(HashAlgorithm::Sha256, 4096, true);
    p.salt.clear();
    compare("empty salt", &pattern(3 * 4096, 7), &p);
}

#[test]
fn several_chunks_hashed_in_parallel() {
    // 2100 blocks: two whole 4 MiB chunks and a partial one, split between threads, with a zero run.
    let mut data = pattern(2100 * 4096, 8);
    data[1500 * 4096..1700 * 4096].fill(0);
    compare(
        "several chunks",
        &data,
        &params(HashAlgorithm::Sha256, 4096, true),
    );
}
