//! The partitioning tools the tests check the reader against, on imgforge-testkit's runners.

use std::path::{Path, PathBuf};

pub use imgforge_testkit::{run, run_status, skip};

use super::json::Json;

/// The tools, or None after saying which is missing (the test then passes as skipped).
pub fn tools_or_skip<const N: usize>(test: &str, names: [&str; N]) -> Option<[PathBuf; N]> {
    match imgforge_testkit::find_tools(names) {
        Ok(found) => Some(found),
        Err(missing) => {
            skip(format!("{test}: {missing} (Debian: gdisk, fdisk)"));
            None
        }
    }
}

/// `sfdisk --json` (plus `extra` arguments) on `target`: its "partitiontable" object.
pub fn sfdisk_json(sfdisk: &Path, target: &str, extra: &[&str]) -> Json {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    args.push(target);
    let out = run(sfdisk, &args);
    Json::parse(&out)
        .unwrap_or_else(|e| panic!("sfdisk --json: {e}:\n{out}"))
        .get("partitiontable")
        .clone()
}
