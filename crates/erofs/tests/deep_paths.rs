//! Deep nesting and long paths. The scan EROFS uses (imgforge_erofs::scan, the tree crate's
//! default Policy) has no depth limit (max_depth is u32::MAX): what bounds a source tree is
//! the operating system's PATH_MAX, since the scan reads each source by its full path. So the
//! tree here is over 100 directories deep with a file whose source path is exactly 4095
//! bytes (PATH_MAX with its NUL) and, placed under a long target, image paths of over 5,000
//! bytes: it must build, pass fsck.erofs and mount as its sources. One byte more in the
//! source must be a scan error naming the path. An explicit Policy::max_depth is checked
//! right at its limit and one past it too.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use imgforge_erofs::Ownership;
use imgforge_testkit::{path_str, skip_fixture, source_dir};
use imgforge_tree::Source;

/// The longest path the kernel takes, without its NUL.
const PATH_MAX: usize = 4095;
const DIR_NAME: usize = 29;

/// A directory name of exactly DIR_NAME bytes, multi-byte characters included.
fn dir_name(level: usize) -> String {
    let mut name = format!("深{level:03}-");
    while name.len() + 2 <= DIR_NAME {
        name.push('é');
    }
    while name.len() < DIR_NAME {
        name.push('x');
    }
    name
}

/// A file name of exactly `len` bytes.
fn file_name(len: usize) -> String {
    let mut name = String::new();
    while name.len() + 3 <= len {
        name.push('語');
    }
    while name.len() < len {
        name.push('f');
    }
    name
}

/// A chain of directories in `src`, as deep as leaves a file name of at most 200 bytes, and
/// in the deepest the file whose path is PATH_MAX bytes. Returns the deepest directory's path
/// below `src`, the file's name and the number of levels.
fn deep_tree(src: &Path) -> (PathBuf, String, usize) {
    let mut rel = PathBuf::new();
    let mut levels = 0;
    while PATH_MAX - (src.join(&rel).as_os_str().len() + 1 + DIR_NAME) - 1 > 200 {
        levels += 1;
        rel.push(dir_name(levels));
        fs::create_dir(src.join(&rel)).unwrap();
        if levels % 20 == 0 {
            // Something besides the next directory at some levels.
            fs::write(src.join(&rel).join("level"), format!("{levels}")).unwrap();
            symlink("../".repeat(levels) + "nowhere", src.join(&rel).join("up")).unwrap();
        }
    }
    let deepest = src.join(&rel);
    let name = file_name(PATH_MAX - deepest.as_os_str().len() - 1);
    let file = deepest.join(&name);
    assert_eq!(file.as_os_str().len(), PATH_MAX);
    fs::write(&file, b"at the bottom").unwrap();
    // A hard link from the top to the bottom of the tree.
    fs::hard_link(&file, src.join("top-link")).unwrap();
    assert!(set_user_xattr(&deepest, "user.deep", b"yes") || !imgforge_testkit::is_root());
    (rel, name, levels)
}

/// The sources placed under four directories of 255-byte names: image paths 1,024 bytes
/// longer than the sources'.
fn long_target() -> String {
    (1..=4)
        .map(|i| format!("/{i}{}", "t".repeat(254)))
        .collect()
}

#[test]
fn a_tree_over_100_levels_deep_with_paths_over_4096_bytes_reads_back() {
    let (tmp, src) = source_dir();
    let (rel, name, levels) = deep_tree(&src);
    assert!(
        levels >= 100,
        "only {levels} levels fit in {}",
        src.display()
    );
    let target = long_target();
    let sources = [Source {
        source: src.clone(),
        target: target.clone(),
    }];
    let longest = target.len() + 1 + rel.join(&name).as_os_str().len();
    eprintln!("{levels} levels; source path of {PATH_MAX} bytes; image path of {longest} bytes");
    assert!(longest > 5000);
    for (ownership, timestamp) in [(Ownership::Source, None), (Ownership::Root, Some(86_400))] {
        let context = format!("{levels} levels ({ownership:?}, timestamp {timestamp:?})");
        let tree = Arc::new(imgforge_erofs::scan(&sources).expect("scan"));
        let image = tmp.path().join("deep.erofs");
        build_tree_at(tree, &options(ownership, timestamp), &image, 0);
        if let Some(fsck) = fsck_erofs() {
            // Plain fsck.erofs walks every directory. erofs-utils 1.5's --extract creates
            // each entry by its full path and fails past PATH_MAX ("failed to create
            // directory", once even "free(): invalid size"), so the extraction is checked on
            // the same tree without the long target, below.
            fsck_ok(&fsck, &[], &image);
        }
        let mount = match ErofsMount::new(&image) {
            Ok(mount) => mount,
            Err(reason) => return skip_fixture(&reason),
        };
        // The walk reaches entries through directory descriptors: their paths pass PATH_MAX.
        let (source, mounted) = (walk(&src), walk(&mount.path().join(&target[1..])));
        compare(
            &context,
            &source,
            &mounted,
            Some(ownership),
            Some(timestamp),
        );
        let bottom = &mounted[&rel.join(&name)];
        assert_eq!(bottom.nlink, 2, "{context}");
        assert_eq!(bottom.id, mounted[Path::new("top-link")].id, "{context}");
    }
    if let Some(fsck) = fsck_erofs() {
        let image = tmp.path().join("deep-at-root.erofs");
        build(&src, &options(Ownership::Source, None), &image);
        let out = tmp.path().join("x");
        fsck_ok(&fsck, &[&format!("--extract={}", out.display())], &image);
        let extracted = walk(&out);
        let source = walk(&src);
        assert_eq!(
            source.keys().collect::<Vec<_>>(),
            extracted.keys().collect::<Vec<_>>()
        );
        for (path, entry) in &source {
            assert!(extracted[path].content == entry.content, "{path:?}");
        }
    }
}

#[test]
fn a_source_path_one_byte_past_path_max_is_an_error_naming_it() {
    let (_tmp, src) = source_dir();
    let (rel, name, _) = deep_tree(&src);
    let deepest = src.join(&rel);
    // At the limit the scan succeeds (the test above builds it); one byte more cannot even be
    // created by its path, only relative to its directory.
    let dir = fs::File::open(&deepest).unwrap();
    let longer = format!("{name}+");
    let by_fd = PathBuf::from(format!("/proc/self/fd/{}/{longer}", dir.as_raw_fd()));
    fs::write(&by_fd, b"one byte too far").unwrap();
    let sources = [Source {
        source: src.clone(),
        target: "/".into(),
    }];
    let error = imgforge_erofs::scan(&sources).expect_err("a source path past PATH_MAX");
    let message = error.to_string();
    let tail: String = message
        .chars()
        .rev()
        .take(120)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    eprintln!("{} bytes: ...{tail}", message.len());
    let image_path = format!("/{}", rel.join(&longer).display());
    assert!(message.contains(&image_path), "names the path: {message}");
    assert!(
        message.contains(path_str(&src)),
        "names the source: {message}"
    );
    assert!(message.contains("File name too long"), "{message}");
}

/// imgforge's EROFS holds directories MAX_DEPTH deep, as its scan checks and its reader
/// follows: a tree exactly that deep builds, reads back with no finding and verifies; one level
/// more is a scan error naming the deepest folder.
#[test]
fn max_depth_holds_right_at_its_limit_and_not_one_past_it() {
    let (tmp, src) = source_dir();
    let depth = imgforge_erofs::MAX_DEPTH as usize;
    let deepest = src.join(vec!["d"; depth].join("/"));
    fs::create_dir_all(&deepest).unwrap();
    fs::write(deepest.join("leaf"), b"at the bottom").unwrap();
    let image = tmp.path().join("deep.img");
    let plan = build(&src, &options(Ownership::Root, Some(0)), &image);
    let len = fs::metadata(&image).unwrap().len();
    let file = fs::File::open(&image).unwrap();
    let differences =
        imgforge_erofs::verify_partition(&plan, file, 0, len, imgforge_erofs::UuidCheck::Compare)
            .unwrap();
    assert_eq!(differences, vec![]);
    fs::create_dir(deepest.join("d")).unwrap();
    let sources = [Source {
        source: src.clone(),
        target: "/".into(),
    }];
    let message = imgforge_erofs::scan(&sources)
        .expect_err("one level too deep")
        .to_string();
    let path = format!("/{}", vec!["d"; depth + 1].join("/"));
    assert!(
        message.starts_with(&format!("{path} (from ")),
        "names the path: {message}"
    );
    assert!(
        message.ends_with(&format!(
            "is nested {} directories deep; an EROFS imgforge writes holds at most {depth} levels",
            depth + 1
        )),
        "{message}"
    );
}
