//! Support for the copy crate's integration tests: the shared fixtures of imgforge-testkit,
//! plus a syscall layer that records and injects faults ([`Faulty`]) and a builder of
//! [`OpenedCopy`] jobs. Tests that need root call a fixture constructor and skip (print
//! "skipped: <reason>" and return) when it fails, unless IMGFORGE_REQUIRE_ROOT_TESTS=1 asks for
//! failures instead. crates/fat32's tests include this file too (`#[path]`).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

mod faulty;

use std::fs::File;

pub use faulty::Faulty;
use imgforge_copy::{CopyEngine, CopyError, CopyMode, Destination, OpenedCopy, Syscalls};
pub use imgforge_testkit::*;

/// Unwraps a fixture, or skips the test with the reason.
#[macro_export]
macro_rules! fixture_or_skip {
    ($fixture:expr) => {
        match $fixture {
            Ok(fixture) => fixture,
            Err(reason) => {
                imgforge_testkit::skip_fixture(&reason);
                return;
            }
        }
    };
}

/// An [`OpenedCopy`] with defaults: a fresh destination of (almost) unlimited capacity, no
/// planned length.
pub struct Copy<'a> {
    pub source: &'a File,
    pub dest: &'a File,
    pub dest_offset: u64,
    pub dest_capacity: u64,
    pub dest_state: Destination,
    pub planned_length: Option<u64>,
}

impl<'a> Copy<'a> {
    pub fn new(source: &'a File, dest: &'a File, dest_offset: u64) -> Self {
        Copy {
            source,
            dest,
            dest_offset,
            dest_capacity: u64::MAX / 4,
            dest_state: Destination::Zeroed,
            planned_length: None,
        }
    }

    /// A copy of a source planned at `len` bytes.
    pub fn planned(source: &'a File, dest: &'a File, len: u64) -> Self {
        Copy {
            planned_length: Some(len),
            ..Copy::new(source, dest, 0)
        }
    }

    pub fn job(&self) -> OpenedCopy<'a> {
        OpenedCopy {
            source: self.source,
            source_name: "/src/source.bin",
            dest: self.dest,
            dest_name: "/dst/disk.img",
            dest_offset: self.dest_offset,
            dest_capacity: self.dest_capacity,
            dest_state: self.dest_state,
            planned_length: self.planned_length,
        }
    }

    /// Runs the copy; returns the result and the sum of progress reports.
    pub fn run<S: Syscalls>(&self, engine: &mut CopyEngine<S>) -> (Result<u64, CopyError>, u64) {
        let mut reported = 0;
        let result = engine.copy(&self.job(), &mut |bytes| {
            reported += bytes;
            true
        });
        (result, reported)
    }
}

pub fn engine(mode: CopyMode, faulty: Faulty) -> CopyEngine<Faulty> {
    CopyEngine::with_syscalls(mode, faulty)
}

pub fn errno(name: nix::errno::Errno) -> i32 {
    name as i32
}
