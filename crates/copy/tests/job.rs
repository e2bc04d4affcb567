//! Copy jobs by path: copy_into_image and open_source.

use std::fs;

use imgforge_copy::{copy_into_image, open_source, CopyEngine, CopyJob, CopyMode, Destination};

#[test]
fn copies_every_file_at_its_offset_and_names_the_one_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    fs::write(&image, vec![0u8; 64 << 10]).unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs::write(&a, b"first").unwrap();
    fs::write(&b, b"second").unwrap();
    let missing = dir.path().join("missing");

    let mut engine = CopyEngine::new(CopyMode::Auto);
    let mut advanced = 0;
    let files = [
        CopyJob {
            source: a.clone(),
            offset: 4096,
            capacity: 4096,
            planned_length: 5,
        },
        CopyJob {
            source: b.clone(),
            offset: 8192,
            capacity: 4096,
            planned_length: 6,
        },
    ];
    copy_into_image(&mut engine, &image, &files, Destination::Zeroed, &mut |n| {
        advanced += n;
        true
    })
    .unwrap();
    let bytes = fs::read(&image).unwrap();
    assert_eq!(&bytes[4096..4101], b"first");
    assert_eq!(&bytes[8192..8198], b"second");
    assert_eq!(
        bytes.len(),
        64 << 10,
        "the image is neither truncated nor grown"
    );
    assert_eq!(advanced, 11);

    let files = [
        CopyJob {
            source: a.clone(),
            offset: 0,
            capacity: 4096,
            planned_length: 5,
        },
        CopyJob {
            source: missing.clone(),
            offset: 4096,
            capacity: 4096,
            planned_length: 5,
        },
    ];
    let failure = copy_into_image(
        &mut engine,
        &image,
        &files,
        Destination::Zeroed,
        &mut |_| true,
    )
    .unwrap_err();
    assert_eq!(failure.job, Some(1));
    assert_eq!(failure.error.code(), "IO");
    assert!(
        failure.error.to_string().contains("missing"),
        "{}",
        failure.error
    );
}

#[test]
fn a_missing_image_is_an_error_of_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = CopyEngine::new(CopyMode::Auto);
    let failure = copy_into_image(
        &mut engine,
        &dir.path().join("nope.img"),
        &[],
        Destination::Zeroed,
        &mut |_| true,
    )
    .unwrap_err();
    assert_eq!(failure.job, None);
    assert!(failure.error.to_string().contains("nope.img"));
}

#[cfg(target_os = "linux")]
#[test]
fn a_fifo_without_a_writer_opens_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    // A plain open would block here forever.
    let file = open_source(&fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &file.metadata().unwrap().file_type()
    ));
}
