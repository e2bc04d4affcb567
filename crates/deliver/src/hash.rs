use std::path::Path;

use sha2::{Digest, Sha256};

use crate::output::{hex, Artifact};
use crate::ranges::ImageMap;
use crate::{ByteRange, DeliverError, Progress};

/// The size and SHA-256 of the file at `image`, whose data lies in `ranges` (the rest reads as
/// zeros): data is read, holes are hashed as zeros without being read.
pub fn hash_image(
    image: &Path,
    ranges: &[ByteRange],
    progress: Progress,
) -> Result<Artifact, DeliverError> {
    let map = ImageMap::open(image, ranges)?;
    let mut hasher = Sha256::new();
    map.stream(0, map.size(), progress, &mut |bytes| {
        hasher.update(bytes);
        Ok(())
    })?;
    Ok(Artifact {
        size: map.size(),
        sha256: Some(hex(&hasher.finalize())),
    })
}
