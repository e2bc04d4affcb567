use super::*;

#[test]
fn blocks_round_up_to_whole_4096_byte_blocks() {
    assert_eq!(blocks_for(0), 0);
    assert_eq!(blocks_for(1), 1);
    assert_eq!(blocks_for(4096), 1);
    assert_eq!(blocks_for(4097), 2);
    assert_eq!(blocks_for(1 << 20), 256);
}

#[test]
fn an_inline_tail_must_fit_after_the_inode_in_its_block() {
    assert_eq!(inline_tail(0, 32), None, "no data, no tail");
    assert_eq!(inline_tail(100, 32), Some(100));
    assert_eq!(inline_tail(4096, 32), None, "whole blocks only: plain");
    assert_eq!(inline_tail(4097, 32), Some(1));
    assert_eq!(inline_tail(4064, 32), Some(4064), "exactly fills the block");
    assert_eq!(inline_tail(4065, 32), None, "one byte too many");
    assert_eq!(inline_tail(4000, 64 + 100), None, "xattrs count too");
}

#[test]
fn records_take_32_byte_slots_and_never_cross_a_block() {
    let mut cursor = MetaCursor::default();
    assert_eq!(cursor.place(32), 0);
    assert_eq!(cursor.place(40), 32, "rounded up to two slots");
    assert_eq!(cursor.place(4000), 96, "96 + 4000 = 4096 still fits");
    assert_eq!(cursor.place(32), 4096);
    assert_eq!(
        cursor.place(4090),
        8192,
        "does not fit after 4128: next block"
    );
    assert_eq!(cursor.blocks(), 3);
    assert_eq!(MetaCursor::default().blocks(), 1, "at least one block");
}

#[test]
fn a_nid_counts_32_byte_slots_from_the_meta_area() {
    assert_eq!(nid_of(0), 0);
    assert_eq!(nid_of(96), 3);
    assert_eq!(nid_of(4096), 128);
}

#[test]
fn xattr_names_map_to_the_inline_prefixes() {
    assert_eq!(xattr_prefix(b"user.comment"), Some((1, &b"comment"[..])));
    assert_eq!(
        xattr_prefix(b"system.posix_acl_access"),
        Some((2, &b""[..]))
    );
    assert_eq!(
        xattr_prefix(b"system.posix_acl_default"),
        Some((3, &b""[..]))
    );
    assert_eq!(
        xattr_prefix(b"trusted.overlay.opaque"),
        Some((4, &b"overlay.opaque"[..]))
    );
    assert_eq!(
        xattr_prefix(b"security.selinux"),
        Some((6, &b"selinux"[..]))
    );
    assert_eq!(xattr_prefix(b"system.other"), None);
    assert_eq!(xattr_prefix(b"user"), None);
}

#[test]
fn xattr_bodies_are_a_header_and_4_byte_padded_entries() {
    // "comment" = "hello": 4 + 7 + 5 = 16.
    assert_eq!(xattr_entry_bytes(7, 5), 16);
    assert_eq!(xattr_entry_bytes(1, 0), 8);
    assert_eq!(xattr_entry_bytes(0, 28), 32, "an ACL: empty name");
    assert_eq!(xattr_icount(0), Some(0));
    assert_eq!(xattr_body_bytes(0), 0);
    // 12 + 16 = 28 = 12 + 4 * (5 - 1).
    assert_eq!(xattr_icount(16), Some(5));
    assert_eq!(xattr_body_bytes(5), 28);
    assert_eq!(xattr_icount(4 * 65534), Some(65535));
    assert_eq!(xattr_icount(4 * 65535), None);
}

#[test]
fn dirents_fill_a_block_exactly_then_start_the_next() {
    // ".", "..", "a": 13 + 14 + 13.
    let small = pack_dirents([1, 2, 1]);
    assert_eq!(small.block_starts, vec![0]);
    assert_eq!(small.size, 40);
    // 128 entries of 12 + 20 bytes fill one block; the 129th starts a second.
    let full = pack_dirents(vec![20; 128]);
    assert_eq!((full.block_starts.clone(), full.size), (vec![0], 4096));
    let spill = pack_dirents(vec![20; 129]);
    assert_eq!(
        (spill.block_starts.clone(), spill.size),
        (vec![0, 128], 4096 + 32)
    );
}

#[test]
fn a_directory_of_2000_entries_spans_several_blocks() {
    // ".", ".." and 2000 names of 11 bytes (23 bytes each): 178 per block.
    let lens = [1, 2].into_iter().chain(std::iter::repeat_n(11, 2000));
    let packing = pack_dirents(lens);
    assert_eq!(
        packing.block_starts[1],
        2 + 176,
        "13 + 14 + 176 * 23 = 4075; one more is 4098"
    );
    assert_eq!(packing.block_starts.len(), 12);
    let last = 2002 - packing.block_starts[11];
    assert_eq!(packing.size, 11 * 4096 + last as u64 * 23);
}
