//! Temp files and the partitioning tools the tests check the reader against.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::json::Json;

/// The tool's path, searching PATH and the sbin folders (root's tools live there).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Says why a test is skipped, on stderr itself: libtest hides what eprintln! prints.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// The tools, or None after saying which is missing (the test then passes as skipped).
pub fn tools_or_skip<const N: usize>(test: &str, names: [&str; N]) -> Option<[PathBuf; N]> {
    let found = names.map(find_tool);
    if let Some(missing) = names.iter().zip(&found).find(|(_, path)| path.is_none()) {
        skip(
            test,
            &format!("{} is not installed (Debian: gdisk, fdisk)", missing.0),
        );
        return None;
    }
    Some(found.map(Option::unwrap))
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// Runs a tool; panics with its output when it fails.
pub fn run(tool: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = run_status(tool, args);
    assert!(
        ok,
        "{} {args:?} failed:\n{stdout}\n{stderr}",
        tool.display()
    );
    stdout
}

/// Runs a tool: (succeeded, stdout, stderr).
pub fn run_status(tool: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        output.status.success(),
        text(output.stdout),
        text(output.stderr),
    )
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

/// A folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("imgforge-gpt-{test}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A sparse file of `size` bytes in the folder.
    pub fn file(&self, name: &str, size: u64) -> String {
        let path = self.0.join(name);
        std::fs::File::create(&path).unwrap().set_len(size).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loop device over a file, detached on drop.
pub struct Loop(pub String);

impl Loop {
    /// Attaches `file` with the given logical sector size; Err says why it cannot.
    pub fn attach(file: &str, sector_size: u32) -> Result<Loop, String> {
        if !is_root() {
            return Err("not running as root".into());
        }
        let losetup = find_tool("losetup").ok_or("losetup is not installed")?;
        let size = sector_size.to_string();
        let (ok, stdout, stderr) =
            run_status(&losetup, &["--sector-size", &size, "-f", "--show", file]);
        if !ok {
            return Err(format!("losetup failed: {}", stderr.trim()));
        }
        Ok(Loop(stdout.trim().to_string()))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(losetup) = find_tool("losetup") {
            let _ = Command::new(losetup).args(["-d", &self.0]).status();
        }
    }
}
