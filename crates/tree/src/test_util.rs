//! Helpers shared by the unit tests: building source trees and scanning them.

use std::path::Path;

pub(crate) use imgforge_testkit::{
    sample_tree, set_mtime, set_mtime_ns, source_dir, write_dated as write,
};

use crate::policy::{Names, Policy, Specials, Symlinks};
use crate::tree::{Dir, Node, Source, Tree};

pub(crate) fn src(source: &Path, target: &str) -> Source {
    Source {
        source: source.to_path_buf(),
        target: target.to_string(),
    }
}

fn no_question_marks(name: &str) -> Result<(), String> {
    match name.contains('?') {
        true => Err("\"?\" is not allowed".to_string()),
        false => Ok(()),
    }
}

fn lower(name: &str) -> String {
    name.to_lowercase()
}

/// FAT32-like: follows symlinks, refuses special files, folds case, refuses "?".
pub(crate) fn follow_policy() -> Policy {
    let mut policy = Policy {
        symlinks: Symlinks::Follow,
        specials: Specials::Refuse,
        xattrs: false,
        ..Policy::default()
    };
    policy.names = Names {
        check: no_question_marks,
        key: Some(lower),
    };
    policy.wording.same_key = "differ only in case";
    policy
}

/// EROFS-like: keeps symlinks and special files, reads xattrs.
pub(crate) fn keep_policy() -> Policy {
    Policy::default()
}

pub(crate) fn scan_err(sources: &[Source], policy: &Policy) -> String {
    match crate::scan(sources, policy) {
        Ok(tree) => panic!("expected an error, got {tree:?}"),
        Err(e) => e.to_string(),
    }
}

/// The tree as (path, kind, mtime) lines, to compare without the machine's metadata.
pub(crate) fn outline(tree: &Tree) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &Dir)> = vec![(String::new(), &tree.root)];
    out.push(format!("/ d {}", tree.root.meta.mtime));
    while let Some((path, dir)) = stack.pop() {
        let mut subdirs = Vec::new();
        for node in &dir.entries {
            let p = format!("{path}/{}", node.name());
            let mtime = node.meta().mtime;
            match node {
                Node::Dir(d) => {
                    out.push(format!("{p} d {mtime}"));
                    subdirs.push((p, d));
                }
                Node::File(f) => {
                    out.push(format!("{p} f {mtime} {} {}", f.size, f.source.display()))
                }
                Node::Symlink(l) => out.push(format!("{p} l {}", l.target.to_string_lossy())),
                Node::Special(s) => out.push(format!("{p} s {:?}", s.kind)),
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out
}

#[cfg(unix)]
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
