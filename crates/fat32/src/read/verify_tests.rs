use super::*;
use crate::scan::scan;
use crate::test_fixtures::sample;
use crate::tree::Source;
use std::fs;
use std::io::Cursor;
use std::path::Path;

/// The sample volume's tree as source files.
fn sources(root: &Path) {
    let mut hello = vec![b'h'; 512];
    hello.extend_from_slice(&[b'H'; 88]);
    fs::write(root.join("hello.txt"), hello).unwrap();
    fs::create_dir(root.join("Sub Dir")).unwrap();
    fs::write(root.join("Sub Dir/INNER.BIN"), [b'i'; 512]).unwrap();
    fs::write(root.join("EMPTY"), b"").unwrap();
}

/// The differences between the sample volume and the sources after `change`, without the
/// tiny volume's TOO_FEW_CLUSTERS.
fn differences(change: impl Fn(&Path)) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    sources(dir.path());
    change(dir.path());
    let tree = scan(&[Source {
        source: dir.path().to_path_buf(),
        target: "/".into(),
    }])
    .unwrap();
    let image = sample();
    let len = image.bytes.len() as u64;
    let mut volume = Volume::open(Cursor::new(image.bytes), 0, len)
        .unwrap()
        .unwrap();
    verify(&tree, &mut volume)
        .into_iter()
        .filter(|d| !d.message.starts_with("TOO_FEW_CLUSTERS"))
        .map(|d| {
            (
                d.path,
                d.message.replace(&dir.path().display().to_string(), "SRC"),
            )
        })
        .collect()
}

fn one(path: &str, message: &str) -> Vec<(String, String)> {
    vec![(path.to_string(), message.to_string())]
}

#[test]
fn the_sources_of_a_volume_verify_clean() {
    assert_eq!(differences(|_| {}), vec![]);
}

#[test]
fn a_changed_byte_is_found_at_its_offset() {
    let changed = differences(|root| {
        let mut bytes = fs::read(root.join("hello.txt")).unwrap();
        bytes[550] = b'x';
        fs::write(root.join("hello.txt"), bytes).unwrap();
    });
    assert_eq!(
        changed,
        one(
            "/hello.txt",
            "bytes differ from the source SRC/hello.txt, first at offset 550"
        )
    );
}

#[test]
fn missing_extra_resized_and_retyped_entries_are_named() {
    assert_eq!(
        differences(|root| fs::write(root.join("new.txt"), b"new").unwrap()),
        one(
            "/new.txt",
            "is missing: the spec has a file of 3 bytes here"
        )
    );
    assert_eq!(
        differences(|root| fs::remove_file(root.join("Sub Dir/INNER.BIN")).unwrap()),
        one(
            "/Sub Dir/INNER.BIN",
            "is a file (512 bytes) the spec does not have"
        )
    );
    assert_eq!(
        differences(|root| fs::write(root.join("hello.txt"), [b'h'; 601]).unwrap()),
        one("/hello.txt", "is 600 bytes; the spec's file is 601 bytes")
    );
    assert_eq!(
        differences(|root| {
            fs::remove_file(root.join("EMPTY")).unwrap();
            fs::create_dir(root.join("EMPTY")).unwrap();
        }),
        one("/EMPTY", "is a file; the spec makes it a directory")
    );
    assert_eq!(
        differences(|root| fs::remove_dir_all(root.join("Sub Dir")).unwrap()),
        one("/Sub Dir", "is a directory the spec does not have")
    );
}

#[test]
fn names_compare_exactly() {
    let renamed = differences(|root| {
        fs::rename(root.join("hello.txt"), root.join("Hello.txt")).unwrap();
    });
    assert_eq!(
        renamed,
        vec![
            (
                "/Hello.txt".to_string(),
                "is missing: the spec has a file of 600 bytes here".to_string()
            ),
            (
                "/hello.txt".to_string(),
                "is a file (600 bytes) the spec does not have".to_string()
            ),
        ]
    );
}
