//! The small public types: modes, errors, stats.

use std::error::Error;
use std::io;

use imgforge_copy::{CopyError, CopyMode, CopyStats};

#[test]
fn modes_parse_and_print() {
    for mode in [CopyMode::Auto, CopyMode::CopyFileRange, CopyMode::ReadWrite] {
        assert_eq!(mode.as_str().parse::<CopyMode>(), Ok(mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
    assert_eq!(CopyMode::default(), CopyMode::Auto);
    let message = "reflink".parse::<CopyMode>().unwrap_err();
    for valid in ["\"reflink\"", "auto", "copy-file-range", "read-write"] {
        assert!(message.contains(valid), "{message}");
    }
}

#[test]
fn errors_have_codes_messages_and_sources() {
    let io_error = CopyError::Io {
        context: "copy_file_range into /x/disk.img at offset 1048576".into(),
        source: io::Error::from(io::ErrorKind::StorageFull),
    };
    assert_eq!(io_error.code(), "IO");
    assert!(io_error
        .to_string()
        .starts_with("copy_file_range into /x/disk.img at offset 1048576: "));
    assert!(io_error.source().is_some());

    let too_large = CopyError::TooLarge {
        source_len: 10,
        capacity: 9,
    };
    assert_eq!(too_large.code(), "TOO_LARGE");
    assert!(too_large.to_string().contains("10") && too_large.to_string().contains('9'));
    let changed = CopyError::SourceChanged {
        before: 1,
        after: 2,
    };
    assert_eq!(changed.code(), "SOURCE_CHANGED");
    assert_eq!(CopyError::Cancelled.code(), "ABORTED");
    assert!(changed.source().is_none());
}

#[test]
fn stats_add_up() {
    let mut total = CopyStats {
        copy_file_range_bytes: 1,
        read_write_bytes: 2,
        hole_bytes: 3,
    };
    total += CopyStats {
        copy_file_range_bytes: 10,
        read_write_bytes: 20,
        hole_bytes: 30,
    };
    assert_eq!(
        total,
        CopyStats {
            copy_file_range_bytes: 11,
            read_write_bytes: 22,
            hole_bytes: 33
        }
    );
}
