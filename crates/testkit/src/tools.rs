//! Running external tools (mkfs, losetup, sfdisk, ...) and skipping a test that cannot run.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The tool's path, searching PATH and the sbin folders (root's tools live there).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Every tool's path, or which one is missing.
pub fn find_tools<const N: usize>(names: [&str; N]) -> Result<[PathBuf; N], String> {
    let found = names.map(find_tool);
    match names.iter().zip(&found).find(|(_, path)| path.is_none()) {
        Some((missing, _)) => Err(format!("{missing} is not installed")),
        None => Ok(found.map(Option::unwrap)),
    }
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

/// Runs a program: (succeeded, stdout, stderr). Panics when it cannot be started.
pub fn run_status(program: impl AsRef<OsStr>, args: &[&str]) -> (bool, String, String) {
    let program = program.as_ref();
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.to_string_lossy()));
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        output.status.success(),
        text(output.stdout),
        text(output.stderr),
    )
}

/// Runs a program: its stdout, or why it could not run or failed (with its stderr).
pub fn try_run(program: impl AsRef<OsStr>, args: &[&str]) -> Result<String, String> {
    let program = program.as_ref().to_string_lossy();
    let output = Command::new(program.as_ref())
        .args(args)
        .output()
        .map_err(|error| format!("{program} not runnable: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs a program; panics with its output when it fails.
pub fn run(program: impl AsRef<OsStr>, args: &[&str]) -> String {
    let program = program.as_ref();
    let (ok, stdout, stderr) = run_status(program, args);
    assert!(
        ok,
        "{} {args:?} failed:\n{stdout}\n{stderr}",
        program.to_string_lossy()
    );
    stdout
}

/// Whether `program -V` runs and succeeds.
pub fn has_program(program: &str) -> bool {
    Command::new(program)
        .arg("-V")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Says why a test is skipped, on stderr itself: libtest hides what eprintln! prints.
pub fn skip(why: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// Skips a test whose fixture (root, loop devices, a mounted file system) is unavailable, or
/// fails it when IMGFORGE_REQUIRE_ROOT_TESTS=1 asks for failures instead.
pub fn skip_fixture(reason: &str) {
    if std::env::var_os("IMGFORGE_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
        panic!("required fixture unavailable: {reason}");
    }
    skip(reason);
}

/// Runs a command for its output; a tool that cannot be started fails the test, with `hint`
/// saying how to install it.
pub fn command_output(command: &mut Command, hint: &str) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program} ({error}); {hint}"))
}

/// A command's stdout followed by its stderr, as text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
