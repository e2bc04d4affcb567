//! Shared by the integration tests: small disks made with the encoder, precise damage, temp
//! files, and running the partitioning tools (skipping, with the reason, when one is absent).
#![allow(dead_code)] // each test binary uses its own part

pub mod compare;
pub mod disks;
pub mod json;
pub mod tools;
