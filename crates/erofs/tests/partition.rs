//! A filesystem inside a larger image: at a 4 KiB-aligned offset, over old bytes
//! (Destination::Dirty), it touches nothing outside its planned size, leaves no old byte in
//! it (the same bytes as when written alone) and reads back as the sources (fsck.erofs on the extracted region, the kernel at the offset).

#![cfg(target_os = "linux")]

mod common;

use std::fs;

use common::*;
use imgforge_copy::Destination;
use imgforge_erofs::{plan_at, Ownership};
use imgforge_testkit::{extract_region, random_bytes, skip_fixture, source_dir, MIB};

#[test]
fn a_partition_over_old_bytes_reads_back_and_leaves_the_rest_alone() {
    let (tmp, src) = source_dir();
    for (i, size) in [1u64, 4095, 4097, 70_000].into_iter().enumerate() {
        fs::write(src.join(format!("f{i}")), random_bytes(i as u64, size)).unwrap();
    }
    fs::create_dir(src.join("dir")).unwrap();
    std::os::unix::fs::symlink("../f0", src.join("dir/link")).unwrap();
    let offset = MIB;
    let plan = plan_at(scan_dir(&src), &options(Ownership::Root, Some(1)), offset).unwrap();
    let image = tmp.path().join("disk.img");
    let total = offset + plan.size() + MIB;
    fs::write(&image, vec![0xAA; total as usize]).unwrap();
    write_plan(&plan, &image, Destination::Dirty).unwrap();
    let bytes = fs::read(&image).unwrap();
    let end = (offset + plan.size()) as usize;
    assert!(
        bytes[..offset as usize].iter().all(|&b| b == 0xAA),
        "before"
    );
    assert!(bytes[end..].iter().all(|&b| b == 0xAA), "after");
    // Inside: exactly the bytes of the same filesystem written alone into a fresh image.
    let alone = tmp.path().join("alone.erofs");
    build(&src, &options(Ownership::Root, Some(1)), &alone);
    assert!(
        bytes[offset as usize..end] == fs::read(&alone).unwrap()[..],
        "inside"
    );

    if let Some(fsck) = fsck_erofs() {
        let region = tmp.path().join("region.erofs");
        extract_region(&image, offset, plan.size(), &region);
        fsck_ok(&fsck, &[], &region);
    }
    let mount = match ErofsMount::at(&image, offset) {
        Ok(mount) => mount,
        Err(reason) => return skip_fixture(&reason),
    };
    let (want, got) = (walk(&src), walk(mount.path()));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (path, entry) in &want {
        assert_eq!(got[path].content, entry.content, "{}", path.display());
    }
}

#[test]
fn a_partition_off_a_4k_boundary_is_refused() {
    let (_tmp, src) = source_dir();
    let error = plan_at(scan_dir(&src), &options(Ownership::Root, None), MIB + 512).unwrap_err();
    assert!(
        error.to_string().contains("not on a 4096-byte boundary"),
        "{error}"
    );
}
