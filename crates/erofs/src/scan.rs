//! What an EROFS filesystem holds of its sources: the shared scanner's defaults (symlinks, special
//! files, hard links and extended attributes kept as they are), with EROFS's name limit checked
//! while scanning so a bad name is reported with its source before anything is planned, and
//! the depth imgforge's EROFS reader follows ([`MAX_DEPTH`]).

use imgforge_tree::{Names, Policy, ScanError, Source, Tree};

use crate::limits::MAX_DEPTH;

/// EROFS names are 1 to 255 bytes (EROFS_NAME_LEN).
fn erofs_name(name: &str) -> Result<(), String> {
    match name.len() {
        0 => Err("an empty name".to_string()),
        n if n > 255 => Err(format!("{n} bytes long; EROFS names hold at most 255")),
        _ => Ok(()),
    }
}

/// Scans `sources` into the tree an EROFS filesystem is planned from.
pub fn scan(sources: &[Source]) -> Result<Tree, ScanError> {
    let defaults = Policy::default();
    let policy = Policy {
        names: Names {
            check: erofs_name,
            key: None,
        },
        max_depth: MAX_DEPTH,
        wording: imgforge_tree::Wording {
            a_name: "an EROFS name",
            depth: "an EROFS imgforge writes holds at most",
            ..defaults.wording
        },
        ..defaults
    };
    imgforge_tree::scan(sources, &policy)
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
