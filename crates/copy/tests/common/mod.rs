//! Support for the copy crate's integration tests: the shared fixtures of imgforge-testkit,
//! plus a syscall layer that records and injects faults ([`Faulty`]) and a builder of
//! [`OpenedCopy`] jobs. Tests that need root call a fixture constructor and skip (print
//! "skipped: <reason>" and return) when it fails, unless IMGFORGE_REQUIRE_ROOT_TESTS=1 asks for
//! failures instead. crates/fat32's tests include this file too (`#[path]`).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

mod faulty;

use std::fs::File;
use std::ops::{Deref, DerefMut};

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

/// An [`OpenedCopy`] with defaults (a fresh destination of almost unlimited capacity, no
/// planned length) that tests change field by field.
pub struct Copy<'a>(pub OpenedCopy<'a>);

impl<'a> Deref for Copy<'a> {
    type Target = OpenedCopy<'a>;
    fn deref(&self) -> &OpenedCopy<'a> {
        &self.0
    }
}

impl DerefMut for Copy<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<'a> Copy<'a> {
    pub fn new(source: &'a File, dest: &'a File, dest_offset: u64) -> Self {
        Copy(OpenedCopy {
            source,
            source_name: "/src/source.bin",
            dest,
            dest_name: "/dst/disk.img",
            dest_offset,
            dest_capacity: u64::MAX / 4,
            dest_state: Destination::Zeroed,
            planned_length: None,
        })
    }

    /// A copy of a source planned at `len` bytes.
    pub fn planned(source: &'a File, dest: &'a File, len: u64) -> Self {
        let mut copy = Copy::new(source, dest, 0);
        copy.planned_length = Some(len);
        copy
    }

    pub fn job(&self) -> OpenedCopy<'a> {
        self.0
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
