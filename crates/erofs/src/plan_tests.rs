use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use imgforge_tree::{Dir, FileNode, LinkId, Meta, Node, SourceIds, SymlinkNode, Tree, Xattr};

use super::*;
use crate::ondisk::SLOT;

fn meta(mode: u32, mtime: i64) -> Meta {
    Meta {
        mode,
        uid: 0,
        gid: 0,
        mtime,
        mtime_nsec: 0,
        xattrs: Vec::new(),
    }
}

fn file(name: &str, size: u64, mtime: i64) -> Node {
    Node::File(FileNode {
        name: name.into(),
        source: PathBuf::from("/src").join(name),
        size,
        meta: meta(0o100644, mtime),
        link: None,
    })
}

fn dir(name: &str, entries: Vec<Node>) -> Dir {
    Dir {
        name: name.into(),
        source: Some(PathBuf::from("/src")),
        meta: meta(0o40755, 100),
        entries,
    }
}

fn tree(entries: Vec<Node>) -> Arc<Tree> {
    Arc::new(Tree {
        root: dir("", entries),
        source_ids: SourceIds::default(),
    })
}

fn options(timestamp: Option<i64>) -> FormatOptions {
    FormatOptions {
        uuid: [1; 16],
        label: None,
        ownership: Ownership::Source,
        timestamp,
    }
}

#[test]
fn the_root_is_nid_0_and_inodes_follow_in_32_byte_slots() {
    let plan = plan(
        tree(vec![file("a", 10, 100), file("b", 5000, 100)]),
        &options(None),
    )
    .unwrap();
    // The root: compact (32) + its inline entries ".", "..", "a", "b" (13 + 14 + 13 + 13).
    assert_eq!(plan.superblock.root_nid, 0);
    assert_eq!(plan.placed[0].fields.layout, DataLayout::FlatInline);
    assert_eq!(plan.placed[0].fields.size, 53);
    assert_eq!(plan.placed[1].offset, (32 + 53u64).next_multiple_of(SLOT));
    // "a" (10 bytes) is all inline after its inode; "b" (5000) has one whole block and its
    // 904-byte tail inline.
    assert_eq!(plan.placed[1].fields.layout, DataLayout::FlatInline);
    assert_eq!((plan.placed[1].whole_blocks, plan.placed[1].tail), (0, 10));
    assert_eq!(plan.placed[2].offset, plan.placed[1].offset + 64);
    assert_eq!(plan.placed[2].fields.layout, DataLayout::FlatInline);
    assert_eq!((plan.placed[2].whole_blocks, plan.placed[2].tail), (1, 904));
    // Meta area: block 1; file blocks from block 2: "b"'s one.
    assert_eq!(plan.placed[2].fields.i_u, 2);
    assert_eq!(plan.size(), 3 * 4096);
    assert_eq!(plan.superblock.inodes, 3);
    let offsets: Vec<u64> = plan.file_placements().map(|f| f.3).collect();
    assert_eq!(offsets, vec![2 * 4096]);
    assert_eq!(plan.summary().files, 2);
    assert_eq!(plan.summary().file_bytes, 5010);
}

#[test]
fn a_tail_that_does_not_fit_after_its_inode_gets_a_block_of_its_own() {
    // 4095 bytes after a 32-byte inode would cross the inode's block: FLAT_PLAIN.
    let plan = plan(
        tree(vec![file("a", 4095, 100), file("b", 4096, 100)]),
        &options(None),
    )
    .unwrap();
    assert_eq!(plan.placed[1].fields.layout, DataLayout::FlatPlain);
    assert_eq!((plan.placed[1].whole_blocks, plan.placed[1].tail), (1, 0));
    // Exactly one block: no tail at all.
    assert_eq!(plan.placed[2].fields.layout, DataLayout::FlatPlain);
    assert_eq!((plan.placed[2].whole_blocks, plan.placed[2].tail), (1, 0));
    assert_eq!(plan.file_placements().count(), 2);
}

#[test]
fn empty_files_take_no_block() {
    let plan = plan(tree(vec![file("empty", 0, 100)]), &options(None)).unwrap();
    assert_eq!(plan.placed[1].whole_blocks, 0);
    assert_eq!(plan.placed[1].fields.i_u, 0);
    assert_eq!(plan.size(), 2 * 4096);
    assert_eq!(plan.file_placements().count(), 0);
}

#[test]
fn compact_only_where_the_mtime_is_the_build_time_and_fields_fit() {
    let mut owned = file("owned", 1, 100);
    if let Node::File(f) = &mut owned {
        f.meta.uid = 70_000;
    }
    let entries = vec![
        file("a", 1, 100),
        file("b", 1, 100),
        file("other", 1, 7),
        owned,
    ];
    let plan = plan(tree(entries.clone()), &options(None)).unwrap();
    assert_eq!(plan.superblock.build_time, 100, "the most common mtime");
    let extended: Vec<bool> = plan.placed.iter().map(|p| p.fields.extended).collect();
    assert_eq!(extended, vec![false, false, false, true, true]);
    let fixed = super::plan(tree(entries), &options(Some(5))).unwrap();
    assert_eq!(fixed.superblock.build_time, 5);
    let extended: Vec<bool> = fixed.placed.iter().map(|p| p.fields.extended).collect();
    assert_eq!(
        extended,
        vec![false, false, false, false, true],
        "only the 32-bit uid"
    );
}

#[test]
fn hard_links_share_one_inode_and_directories_count_subdirectories() {
    let linked = |name: &str| {
        let mut node = file(name, 3, 100);
        if let Node::File(f) = &mut node {
            f.link = Some(LinkId(0));
        }
        node
    };
    let entries = vec![
        Node::Dir(dir("x", vec![linked("one")])),
        Node::Dir(dir("y", vec![linked("two")])),
    ];
    let plan = plan(tree(entries), &options(None)).unwrap();
    assert_eq!(plan.inode_count(), 4, "root, x, y and one file");
    assert_eq!(plan.placed[0].fields.nlink, 4, "2 + 2 subdirectories");
    assert_eq!(plan.placed[3].fields.nlink, 2);
    let Kind::Dir { entries, .. } = &plan.inodes[2].kind else {
        panic!()
    };
    assert_eq!(entries, &vec![("two".to_string(), 3)]);
}

#[test]
fn a_directory_of_2000_entries_gets_whole_blocks_and_sorted_dirents() {
    let mut entries: Vec<Node> = (0..2000)
        .map(|i| file(&format!("entry-{i:05}"), 0, 100))
        .collect();
    entries.push(file("-first", 0, 100));
    let plan = plan(tree(entries), &options(None)).unwrap();
    let root = &plan.placed[0];
    assert!(
        root.whole_blocks >= 11,
        "{} whole blocks",
        root.whole_blocks
    );
    assert_eq!(
        u64::from(root.fields.i_u),
        1 + plan.placed.last().unwrap().offset / 4096 + 1
    );
    let bytes = crate::write::encode_dir(&plan, 0);
    assert_eq!(bytes.len() as u64, root.fields.size);
    // Read the blocks back: names sorted across blocks, "-first" before ".".
    let mut names = Vec::new();
    for block in bytes.chunks(4096) {
        let count = u16::from_le_bytes([block[8], block[9]]) as usize / 12;
        for i in 0..count {
            let off =
                |i: usize| u16::from_le_bytes([block[i * 12 + 8], block[i * 12 + 9]]) as usize;
            let end = if i + 1 < count {
                off(i + 1)
            } else {
                block.iter().rposition(|&b| b != 0).unwrap() + 1
            };
            names.push(String::from_utf8(block[off(i)..end].to_vec()).unwrap());
        }
    }
    assert_eq!(names.len(), 2003);
    assert_eq!(&names[..3], &["-first", ".", ".."]);
    assert!(names.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn errors_name_the_path_and_source() {
    let long = "n".repeat(256);
    let error = plan(tree(vec![file(&long, 1, 1)]), &options(None)).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("/{long} (from /src/{long}): the name is longer")),
        "{error}"
    );

    let mut odd = file("odd", 1, 1);
    if let Node::File(f) = &mut odd {
        f.meta.xattrs.push(Xattr {
            name: OsString::from("system.foo"),
            value: vec![1],
        });
    }
    let error = plan(tree(vec![odd]), &options(None)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "/odd (from /src/odd): the extended attribute \"system.foo\" is in a namespace EROFS cannot store \
         (user., trusted., security. and the POSIX ACLs only)"
    );

    let mut big = file("big", 1, 1);
    if let Node::File(f) = &mut big {
        f.meta.xattrs.push(Xattr {
            name: OsString::from("user.big"),
            value: vec![0; 5000],
        });
    }
    let error = plan(tree(vec![big]), &options(None)).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/big (from /src/big): its extended attributes take"),
        "{error}"
    );

    let mut labelled = options(None);
    labelled.label = Some("seventeen bytes!!".into());
    let error = plan(tree(vec![]), &labelled).unwrap_err();
    assert_eq!(
        error,
        PlanError::LabelTooLong {
            label: "seventeen bytes!!".into()
        }
    );

    let error = plan_at(tree(vec![]), &options(None), 512).unwrap_err();
    assert_eq!(
        error,
        PlanError::Misaligned {
            partition_offset: 512
        }
    );
}

#[test]
fn symlinks_are_inline_until_their_tail_does_not_fit() {
    let link = |name: &str, len: usize| {
        Node::Symlink(SymlinkNode {
            name: name.into(),
            source: PathBuf::from("/src").join(name),
            target: OsString::from("x".repeat(len)),
            meta: meta(0o120777, 100),
            link: None,
        })
    };
    let plan = plan(
        tree(vec![link("a", 10), link("b", 4064), link("c", 4065)]),
        &options(None),
    )
    .unwrap();
    let layouts: Vec<(DataLayout, u64)> = plan.placed[1..]
        .iter()
        .map(|p| (p.fields.layout, p.whole_blocks))
        .collect();
    assert_eq!(
        layouts,
        vec![
            (DataLayout::FlatInline, 0),
            (DataLayout::FlatInline, 0),
            (DataLayout::FlatPlain, 1)
        ]
    );
    assert_eq!(
        plan.placed[2].offset % 4096,
        0,
        "a full-block record starts a block"
    );
}

#[test]
fn a_plan_can_be_written_on_another_thread() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Plan>();
}
