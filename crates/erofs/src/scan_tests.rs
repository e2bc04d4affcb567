use super::*;
use imgforge_testkit::source_dir;

#[test]
fn a_name_over_255_bytes_is_refused_with_its_source() {
    // Linux names are 255 bytes at most too, so only a target can name a longer one.
    let (_tmp, root) = source_dir();
    let file = root.join("file");
    std::fs::write(&file, b"x").unwrap();
    let at = |name: String| {
        [Source {
            source: file.clone(),
            target: format!("/{name}"),
        }]
    };
    scan(&at("é".repeat(127) + "a")).unwrap(); // 255 bytes
    let message = scan(&at("é".repeat(128))).unwrap_err().to_string(); // 256 bytes
    assert!(
        message.contains("256 bytes long; EROFS names hold at most 255"),
        "{message}"
    );
    assert!(message.starts_with("target /"), "{message}");
}

#[test]
fn symlinks_and_xattrs_are_kept() {
    let (_tmp, root) = source_dir();
    std::fs::write(root.join("file"), b"data").unwrap();
    std::os::unix::fs::symlink("nowhere", root.join("dangling")).unwrap();
    let tree = scan(&[Source {
        source: root,
        target: "/".into(),
    }])
    .unwrap();
    let names: Vec<&str> = tree.root.entries.iter().map(|n| n.name()).collect();
    assert_eq!(names, ["dangling", "file"]);
    assert!(matches!(
        tree.root.entries[0],
        imgforge_tree::Node::Symlink(_)
    ));
}
