//! An artifact being written: created new, counted and hashed as it goes.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::DeliverError;

/// What was written: its size in bytes and its SHA-256 (hex), when it was computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub size: u64,
    pub sha256: Option<String>,
}

/// Creates `path`, which must not exist (the caller's temporary name).
pub(crate) fn create_new(path: &Path) -> Result<File, DeliverError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| DeliverError::io(format!("cannot create {}", path.display()), e))
}

/// A sequential output that counts and hashes every byte written to it.
pub(crate) struct HashingWriter {
    file: BufWriter<File>,
    name: String,
    hasher: Sha256,
    size: u64,
}

impl HashingWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, DeliverError> {
        Ok(HashingWriter {
            file: BufWriter::with_capacity(1 << 20, create_new(path)?),
            name: path.display().to_string(),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Flushes and fsyncs: the artifact is durable before it is renamed into place.
    pub(crate) fn finish(self) -> Result<Artifact, DeliverError> {
        let name = self.name;
        let file = self
            .file
            .into_inner()
            .map_err(|e| DeliverError::io(format!("cannot write {name}"), e.into_error()))?;
        file.sync_all()
            .map_err(|e| DeliverError::io(format!("cannot flush {name}"), e))?;
        Ok(Artifact {
            size: self.size,
            sha256: Some(hex(&self.hasher.finalize())),
        })
    }
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl HashingWriter {
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), DeliverError> {
        self.write_all(bytes)
            .map_err(|e| DeliverError::io(format!("cannot write {}", self.name), e))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
