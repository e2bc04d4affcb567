//! Test fixtures shared by the imgforge crates' unit and integration tests, so no test folder
//! keeps its own copy: temp files and test data ([`files`], [`random`]), running external tools and
//! skipping a test that cannot run ([`tools`]), loop devices and loop-mounted XFS
//! ([`mounts`], Linux). Dev-only: a `[dev-dependencies]` entry, never published, and it
//! depends on no imgforge crate, so every crate can use it.

pub mod files;
#[cfg(target_os = "linux")]
pub mod mounts;
pub mod random;
pub mod tools;

pub use files::*;
#[cfg(target_os = "linux")]
pub use mounts::*;
pub use random::*;
pub use tools::*;
