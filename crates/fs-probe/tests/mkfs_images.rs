//! The probes against images the real tools make, compared field by field with what the tools'
//! own readers say: `dumpe2fs -h` for mkfs.ext4 (e2fsprogs), `unsquashfs -s` for mksquashfs
//! (squashfs-tools). Each image must give no findings; damage made with the tools' own
//! programs (tune2fs) or by cutting the partition must give the finding it promises.

#![cfg(target_os = "linux")]

use std::fs::{self, File};
use std::os::unix::fs::symlink;
use std::path::Path;

use imgforge_fs_probe::{read_ext4, read_squashfs, uuid_text, Ext4Report, SquashfsReport};
use imgforge_testkit::{find_tool, path_str, random_bytes, run, skip};

/// A small tree: a text file, a binary one, a symlink, a nested folder.
fn tree(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    fs::create_dir_all(src.join("sub/deeper")).unwrap();
    fs::write(src.join("a.txt"), b"hello\n").unwrap();
    fs::write(src.join("sub/b.bin"), random_bytes(7, 20_000)).unwrap();
    fs::write(src.join("sub/deeper/c"), b"c").unwrap();
    symlink("a.txt", src.join("link")).unwrap();
    src
}

/// `Key:   value` lines of dumpe2fs -h or unsquashfs -s, by key.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(key)
                .map(|rest| rest.trim_start_matches(':').trim())
        })
        .unwrap_or_else(|| panic!("no {key:?} in\n{text}"))
}

fn probe_ext4(image: &Path, offset: u64, length: u64) -> Ext4Report {
    read_ext4(File::open(image).unwrap(), offset, length)
        .unwrap()
        .unwrap_or_else(|| panic!("{} holds no ext4 at {offset}", image.display()))
}

fn probe_squashfs(image: &Path, length: u64) -> SquashfsReport {
    read_squashfs(File::open(image).unwrap(), 0, length)
        .unwrap()
        .unwrap_or_else(|| panic!("{} holds no squashfs", image.display()))
}

/// The probe's summary agrees with dumpe2fs -h on every field both show.
fn assert_like_dumpe2fs(report: &Ext4Report, dumpe2fs: &str) {
    let s = &report.summary;
    let label = field(dumpe2fs, "Filesystem volume name");
    assert_eq!(s.label.as_deref().unwrap_or("<none>"), label);
    assert_eq!(
        uuid_text(&s.uuid),
        field(dumpe2fs, "Filesystem UUID").to_uppercase()
    );
    assert_eq!(s.block_size.to_string(), field(dumpe2fs, "Block size"));
    assert_eq!(s.blocks.to_string(), field(dumpe2fs, "Block count"));
    assert_eq!(s.free_blocks.to_string(), field(dumpe2fs, "Free blocks"));
    assert_eq!(
        s.reserved_blocks.to_string(),
        field(dumpe2fs, "Reserved block count")
    );
    assert_eq!(s.inodes.to_string(), field(dumpe2fs, "Inode count"));
    assert_eq!(s.free_inodes.to_string(), field(dumpe2fs, "Free inodes"));
    assert_eq!(s.inode_size.to_string(), field(dumpe2fs, "Inode size"));
    assert_eq!(s.features.join(" "), field(dumpe2fs, "Filesystem features"));
    assert_eq!(s.hash_version, field(dumpe2fs, "Default directory hash"));
    assert_eq!(
        uuid_text(&s.hash_seed),
        field(dumpe2fs, "Directory Hash Seed").to_uppercase()
    );
    assert_eq!(s.clean, field(dumpe2fs, "Filesystem state") == "clean");
}

fn mkfs_ext4(
    dir: &Path,
    name: &str,
    size: u64,
    args: &[&str],
) -> Option<(std::path::PathBuf, String)> {
    let (Some(mkfs), Some(dumpe2fs)) = (find_tool("mkfs.ext4"), find_tool("dumpe2fs")) else {
        skip("mkfs.ext4 or dumpe2fs is not installed (e2fsprogs)");
        return None;
    };
    let src = dir.join("src");
    if !src.exists() {
        tree(dir);
    }
    let image = dir.join(name);
    File::create(&image).unwrap().set_len(size).unwrap();
    let mut all = vec!["-q", "-F", "-d", path_str(&src)];
    all.extend_from_slice(args);
    all.push(path_str(&image));
    run(&mkfs, &all);
    // dumpe2fs reads a filesystem at byte 0 only.
    let header = if args.iter().any(|a| a.starts_with("offset=")) {
        String::new()
    } else {
        run(&dumpe2fs, &["-h", path_str(&image)])
    };
    Some((image, header))
}

#[test]
fn ext4_images_of_every_common_shape_read_as_dumpe2fs_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let shapes: [(&str, u64, &[&str]); 7] = [
        (
            "4k-64bit-csum",
            64 << 20,
            &[
                "-L",
                "data",
                "-U",
                "0f0e0d0c-0b0a-4908-8706-050403020100",
                "-E",
                "hash_seed=11111111-2222-4333-8444-555555555555",
            ],
        ),
        ("1k-small", 16 << 20, &["-L", "sixteen-bytes-ok"]),
        (
            "no-csum-no-64bit",
            48 << 20,
            &["-O", "^metadata_csum,^64bit"],
        ),
        ("two-groups", 200 << 20, &["-N", "3000"]),
        ("ext2", 8 << 20, &["-t", "ext2"]),
        ("ext3", 24 << 20, &["-t", "ext3", "-b", "2048"]),
        ("bigalloc", 64 << 20, &["-O", "bigalloc", "-C", "16384"]),
    ];
    for (name, size, args) in shapes {
        let Some((image, header)) = mkfs_ext4(dir.path(), name, size, args) else {
            return;
        };
        let report = probe_ext4(&image, 0, size);
        assert_eq!(report.findings, [], "{name}");
        assert_like_dumpe2fs(&report, &header);
        assert_eq!(report.summary.size_bytes(), size, "{name}");
        eprintln!(
            "{name}: {} {:?}",
            report.summary.kind, report.summary.features
        );
    }
}

#[test]
fn an_ext4_written_at_an_offset_reads_there_and_its_cut_partition_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let offset = 1 << 20;
    let size = 32u64 << 20;
    let Some((image, _)) = mkfs_ext4(
        dir.path(),
        "offset.img",
        offset + size + 4096,
        &["-E", &format!("offset={offset}"), "-L", "inner"],
    ) else {
        return;
    };
    // mkfs sized it to the file past the offset, rounded down to whole blocks.
    let report = probe_ext4(&image, offset, size + 4096);
    assert_eq!(report.findings, []);
    assert_eq!(report.summary.label.as_deref(), Some("inner"));
    assert!(read_ext4(File::open(&image).unwrap(), 0, offset)
        .unwrap()
        .is_none());
    let cut = probe_ext4(&image, offset, size - 4096);
    let codes: Vec<_> = cut.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["PARTITION_TRUNCATED"]);
}

#[test]
fn ext4_damage_made_with_e2fsprogs_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let Some((image, _)) = mkfs_ext4(dir.path(), "damaged.img", 32 << 20, &[]) else {
        return;
    };
    let tune2fs = find_tool("tune2fs").expect("tune2fs (e2fsprogs)");
    // tune2fs -E force_fsck marks the filesystem as having errors, checksum kept right.
    run(&tune2fs, &["-E", "force_fsck", path_str(&image)]);
    let report = probe_ext4(&image, 0, 32 << 20);
    let codes: Vec<_> = report.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["NOT_CLEAN"], "{:?}", report.findings);
    // One byte of the label changed behind e2fsprogs' back: the crc32c no longer matches.
    let mut bytes = fs::read(&image).unwrap();
    bytes[1024 + 0x78] ^= 0x20;
    fs::write(&image, &bytes).unwrap();
    let report = probe_ext4(&image, 0, 32 << 20);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code.as_str() == "SUPERBLOCK_CHECKSUM_WRONG"),
        "{:?}",
        report.findings
    );
}

/// The probe's summary agrees with unsquashfs -s.
fn assert_like_unsquashfs(report: &SquashfsReport, stats: &str) {
    let s = &report.summary;
    let size = field(stats, "Filesystem size");
    assert!(
        size.starts_with(&format!("{} bytes", s.bytes_used)),
        "{size}"
    );
    assert_eq!(s.compression, field(stats, "Compression"));
    assert_eq!(s.block_size.to_string(), field(stats, "Block size"));
    assert_eq!(s.inodes.to_string(), field(stats, "Number of inodes"));
    assert_eq!(s.ids.to_string(), field(stats, "Number of ids"));
    assert_eq!(s.fragments.to_string(), field(stats, "Number of fragments"));
    assert_eq!(
        s.flags.iter().any(|f| f == "exportable"),
        stats.contains("Filesystem is exportable via NFS")
    );
    assert_eq!((s.major, s.minor), (4, 0));
}

#[test]
fn squashfs_images_of_every_compressor_and_option_read_as_unsquashfs_reads_them() {
    let (Some(mksquashfs), Some(unsquashfs)) = (find_tool("mksquashfs"), find_tool("unsquashfs"))
    else {
        skip("mksquashfs or unsquashfs is not installed (squashfs-tools)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    let shapes: [(&str, &[&str]); 9] = [
        ("zstd", &["-comp", "zstd"]),
        ("gzip", &["-comp", "gzip"]),
        ("xz", &["-comp", "xz"]),
        ("lz4", &["-comp", "lz4"]),
        ("lzo", &["-comp", "lzo"]),
        (
            "uncompressed",
            &["-noI", "-noD", "-noF", "-noX", "-no-exports"],
        ),
        (
            "small-blocks-no-fragments",
            &["-b", "4K", "-no-fragments", "-no-xattrs"],
        ),
        (
            "big-blocks-all-root",
            &["-b", "1M", "-all-root", "-always-use-fragments"],
        ),
        (
            "zstd-options",
            &["-comp", "zstd", "-Xcompression-level", "19"],
        ),
    ];
    for (name, args) in shapes {
        let image = dir.path().join(format!("{name}.sqfs"));
        let mut all = vec![
            path_str(&src),
            path_str(&image),
            "-quiet",
            "-noappend",
            "-mkfs-time",
            "1700000000",
        ];
        all.extend_from_slice(args);
        run(&mksquashfs, &all);
        let stats = run(&unsquashfs, &["-s", path_str(&image)]);
        let length = fs::metadata(&image).unwrap().len();
        let report = probe_squashfs(&image, length);
        assert_eq!(report.findings, [], "{name}");
        assert_like_unsquashfs(&report, &stats);
        assert_eq!(report.summary.created, 1_700_000_000);
        // mksquashfs pads to 4 KiB; bytes_used is the exact length before the padding.
        assert!(report.summary.bytes_used <= length && length - report.summary.bytes_used < 4096);
        let cut = probe_squashfs(&image, report.summary.bytes_used - 1);
        let codes: Vec<_> = cut.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["PARTITION_TRUNCATED"], "{name}");
    }
}
