//! Helpers for the FAT32 integration tests (the generic ones come from imgforge-testkit):
//! random source trees, images built through the public API, and the
//! reader checks, which judge an image with tools that share no code with this crate
//! (fsck.fat from dosfstools, mtools) plus a small spec-based reader (`fatread`) for what
//! those tools cannot show (names outside the BMP).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

mod check;
pub mod fatread;
pub mod gen;
pub mod surgery;

pub use check::*;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_fat32::{scan, write, Plan, PreparedTree, Source, Target};
pub use imgforge_testkit::{
    command_output, extract_region, output_text, random_bytes, sized_image, Rng, MIB,
};

/// FAT timestamps cover 1980-01-01T00:00:00Z ..= 2107-12-31T23:59:58Z, in 2-second steps.
pub const FAT_MIN_TIME: i64 = 315_532_800;
pub const FAT_MAX_TIME: i64 = 4_354_819_198;

/// A command for a reader tool, with UTF-8 names and UTC times, and no stdin to wait on.
pub fn tool(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        // The images must pass mtools' own sanity checks.
        .env_remove("MTOOLS_SKIP_CHECK")
        .stdin(Stdio::null());
    command
}

/// Runs a reader; a missing tool fails the test (scripts/test.sh installs them).
pub fn run(command: &mut Command) -> Output {
    command_output(
        command,
        "scripts/test.sh installs dosfstools, mtools and xfsprogs",
    )
}

/// Fails the test unless `program -V` runs.
pub fn require_tool(program: &str) {
    let output = run(tool(program).arg("-V"));
    assert!(
        output.status.success(),
        "{program} -V: {}",
        output_text(&output)
    );
}

/// Writes a planned filesystem into the image at `path` (already created and sized).
pub fn write_plan(plan: &Plan, path: &Path, state: Destination, mode: CopyMode) {
    let image = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let target = Target {
        image: &image,
        image_name: path.to_str().unwrap(),
        state,
    };
    write(plan, &target, &mut CopyEngine::new(mode), &mut |_| true)
        .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

/// What the filesystem must hold: the source tree read back from disk (not from the plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    Dir {
        mtime: i64,
    },
    File {
        source: PathBuf,
        size: u64,
        mtime: i64,
    },
}

/// Every path below `root` ("/a/b", "/a/b/file"), as the filesystem must show it.
pub fn expected_tree(root: &Path) -> BTreeMap<String, Want> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().expect("UTF-8 source names");
            let path = format!("{prefix}/{name}");
            let meta = fs::metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push((entry.path(), path.clone()));
                out.insert(
                    path,
                    Want::Dir {
                        mtime: meta.mtime(),
                    },
                );
            } else {
                let (size, mtime) = (meta.len(), meta.mtime());
                let source = entry.path();
                out.insert(
                    path,
                    Want::File {
                        source,
                        size,
                        mtime,
                    },
                );
            }
        }
    }
    out
}

/// The expected tree for several sources, placed as scan places them: a directory's contents
/// at its target, a file at its target (inside it, keeping its own name, when the target ends
/// in '/'), and directories that only hold targets dated by the newest time below them.
/// Sources must not overlap except through such directories.
pub fn expected_from_sources(sources: &[Source]) -> BTreeMap<String, Want> {
    let mut out = BTreeMap::new();
    let mut implied = Vec::new();
    for source in sources {
        let target = source.target.trim_end_matches('/');
        let meta = fs::metadata(&source.source).unwrap();
        let path = if meta.is_dir() {
            for (below, want) in expected_tree(&source.source) {
                out.insert(format!("{target}{below}"), want);
            }
            let mtime = meta.mtime();
            if !target.is_empty() {
                out.insert(target.to_string(), Want::Dir { mtime });
            }
            target.to_string()
        } else {
            let path = if source.target.ends_with('/') {
                let name = source.source.file_name().unwrap().to_str().unwrap();
                format!("{target}/{name}")
            } else {
                target.to_string()
            };
            let (size, mtime) = (meta.len(), meta.mtime());
            let file = source.source.clone();
            out.insert(
                path.clone(),
                Want::File {
                    source: file,
                    size,
                    mtime,
                },
            );
            path
        };
        let mut parent = path.as_str();
        while let Some(slash) = parent.rfind('/').filter(|&i| i > 0) {
            parent = &parent[..slash];
            implied.push(parent.to_string());
        }
    }
    for dir in implied {
        if out.contains_key(&dir) {
            continue;
        }
        let prefix = format!("{dir}/");
        let newest = out
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .map(|(_, want)| match want {
                Want::Dir { mtime } | Want::File { mtime, .. } => *mtime,
            })
            .max();
        out.insert(
            dir,
            Want::Dir {
                mtime: newest.unwrap_or(0),
            },
        );
    }
    out
}

/// The FAT modification time of a file whose source time is `mtime`, as a reader reports it.
pub fn fat_time(mtime: i64) -> i64 {
    let t = mtime.clamp(FAT_MIN_TIME, FAT_MAX_TIME);
    t - t.rem_euclid(2)
}

/// A temp dir holding `src/`, filled with a random tree from `seed`, and its scan.
pub fn random_source(seed: u64, shape: &gen::Shape) -> (tempfile::TempDir, PathBuf, PreparedTree) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    gen::generate(&mut Rng::new(seed), &src, shape);
    let tree = scan_root(&src);
    (dir, src, tree)
}

/// The scan of `src` as the filesystem's root, prepared for planning.
pub fn scan_root(src: &Path) -> PreparedTree {
    PreparedTree::from(
        scan(&[Source {
            source: src.to_path_buf(),
            target: "/".into(),
        }])
        .unwrap(),
    )
}

/// A modest tree shape for tests that are not about the tree.
pub fn small_shape(cluster_size: u64) -> gen::Shape {
    gen::Shape {
        entries: 60,
        max_depth: 3,
        deep_chain: None,
        big_dir: None,
        cluster_size,
        max_file: 2 * MIB,
        random_mtimes: true,
    }
}
