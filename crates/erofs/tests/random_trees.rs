//! Random trees (fixed seeds, so a failure replays): directories whose entries end anywhere in
//! a block (inline tails that fit, that do not, whole blocks), names of 1 to 255 bytes,
//! symlink targets up to 4095 bytes, files of sizes around block boundaries, xattrs that push
//! inodes past their block's end. Each image must pass fsck.erofs and, as root, read back
//! through the kernel exactly as the sources.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{random_bytes, skip_fixture, source_dir, Rng};

const CHARS: [&str; 8] = ["a", "Z", "0", "-", "_", "é", "語", "."];

fn name(rng: &mut Rng, taken: &mut Vec<String>) -> String {
    loop {
        let len = match rng.below(4) {
            0 => 1 + rng.below(4),
            1 => 240 + rng.below(16),
            _ => 1 + rng.below(60),
        };
        let mut name = String::new();
        while (name.len() as u64) < len {
            name.push_str(rng.pick(&CHARS));
        }
        while name.len() > 255 {
            name.pop();
        }
        if name != "." && name != ".." && !taken.contains(&name) {
            taken.push(name.clone());
            return name;
        }
    }
}

/// Fills `dir` with at most `budget` entries in all (so a tree stays small).
fn fill(dir: &Path, rng: &mut Rng, depth: u32, xattrs: &mut bool, budget: &mut u32) {
    let entries = match rng.below(4) {
        0 if depth > 0 => rng.below(3),
        1 => 100 + rng.below(300),
        _ => rng.below(40),
    };
    let mut taken = Vec::new();
    for _ in 0..entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let path = dir.join(name(rng, &mut taken));
        match rng.below(10) {
            0 | 1 if depth < 3 && entries < 40 => {
                fs::create_dir(&path).unwrap();
                fill(&path, rng, depth + 1, xattrs, budget);
            }
            2 => {
                let len = 1 + rng.below(4095) as usize;
                symlink("t".repeat(len), &path).unwrap();
            }
            _ => {
                let size = match rng.below(3) {
                    0 => rng.below(3) * 4096 + rng.below(3),
                    1 => rng.below(20_000),
                    _ => rng.below(100),
                };
                fs::write(&path, random_bytes(rng.next_u64(), size)).unwrap();
            }
        }
        if *xattrs && rng.chance(1, 8) && !path.is_symlink() {
            let value = random_bytes(rng.next_u64(), rng.below(1500));
            *xattrs = set_user_xattr(&path, "user.random", &value);
        }
    }
}

#[test]
fn random_trees_pass_fsck_and_read_back() {
    let fsck = fsck_erofs();
    for seed in 1..=16u64 {
        let (tmp, src) = source_dir();
        let mut xattrs = true;
        fill(&src, &mut Rng::new(seed), 0, &mut xattrs, &mut 2500);
        let image = tmp.path().join("fs.erofs");
        let timestamp = (seed % 2 == 0).then_some(1_234_567_890);
        let plan = build(&src, &options(Ownership::Source, timestamp), &image);
        eprintln!(
            "seed {seed}: {} inodes, {} bytes",
            plan.inode_count(),
            plan.size()
        );
        if let Some(fsck) = &fsck {
            let out = tmp.path().join("extracted");
            fsck_ok(fsck, &[&format!("--extract={}", out.display())], &image);
            let (want, got) = (walk(&src), walk(&out));
            assert_eq!(
                want.keys().collect::<Vec<_>>(),
                got.keys().collect::<Vec<_>>()
            );
            for (path, entry) in &want {
                assert_eq!(got[path].content, entry.content, "seed {seed}: {path:?}");
            }
        }
        let mount = match ErofsMount::new(&image) {
            Ok(mount) => mount,
            Err(reason) => {
                // fsck.erofs still checks every seed.
                if seed == 1 {
                    skip_fixture(&reason);
                }
                continue;
            }
        };
        let (want, got) = (walk(&src), walk(mount.path()));
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>()
        );
        for (path, entry) in &want {
            let image_entry = &got[path];
            assert_eq!(image_entry.content, entry.content, "seed {seed}: {path:?}");
            assert_eq!(image_entry.mode, entry.mode, "seed {seed}: {path:?}");
            assert_eq!(image_entry.xattrs, entry.xattrs, "seed {seed}: {path:?}");
            assert_eq!(image_entry.nlink, entry.nlink, "seed {seed}: {path:?}");
            let mtime = timestamp.map_or(entry.mtime, |t| (t, 0));
            assert_eq!(image_entry.mtime, mtime, "seed {seed}: {path:?}");
        }
    }
}
