//! Containers written from real sparse raw images, checked by QEMU: `qemu-img check` (qcow2;
//! QEMU has no checker for VHD, so its footer and headers are checked here by their spec),
//! `qemu-img compare` against the raw image, and `qemu-img info` for the virtual size, the
//! format, and for qcow2 an allocation close to the data written.

#![cfg(target_os = "linux")]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use imgforge_copy::{CopyEngine, CopyMode};
use imgforge_testkit::{find_tool, path_str, pattern, run_status, skip, Rng, Scratch, MIB};
use imgforge_vdisk::{
    plan_virtual_disk, write_virtual_disk, DataRange, VhdIdentity, VirtualDiskFormat, WriteSummary,
};

const GIB: u64 = 1 << 30;
const FORMATS: [VirtualDiskFormat; 3] = [
    VirtualDiskFormat::Qcow2,
    VirtualDiskFormat::Vhd,
    VirtualDiskFormat::VhdDynamic,
];

fn qemu_img() -> Option<PathBuf> {
    let found = find_tool("qemu-img");
    if found.is_none() {
        skip("qemu-img is not installed (apt-get install qemu-utils)");
    }
    found
}

/// A sparse raw image of `size` bytes with pattern data exactly on `ranges`.
fn raw_image(path: &Path, size: u64, ranges: &[DataRange]) {
    let file = File::create(path).unwrap();
    file.set_len(size).unwrap();
    for (n, range) in ranges.iter().enumerate() {
        let mut offset = range.offset;
        while offset < range.end() {
            let piece = (range.end() - offset).min(4 * MIB);
            let bytes = pattern(piece as usize, (n as u64) << 32 | offset);
            file.write_all_at(&bytes, offset).unwrap();
            offset += piece;
        }
    }
    file.sync_all().unwrap();
}

fn range(offset: u64, length: u64) -> DataRange {
    DataRange { offset, length }
}

fn identity() -> VhdIdentity {
    VhdIdentity::resolve(
        Some("6f1c1b9e-2d43-4b7a-9a51-0c7f3e2d1a55"),
        Some(1_700_000_000),
    )
    .unwrap()
}

fn convert(
    format: VirtualDiskFormat,
    raw: &Path,
    size: u64,
    ranges: &[DataRange],
    out: &Path,
) -> WriteSummary {
    convert_with(CopyMode::Auto, format, raw, size, ranges, out)
}

fn convert_with(
    mode: CopyMode,
    format: VirtualDiskFormat,
    raw: &Path,
    size: u64,
    ranges: &[DataRange],
    out: &Path,
) -> WriteSummary {
    let plan = plan_virtual_disk(format, size, ranges, &identity()).unwrap();
    let mut engine = CopyEngine::new(mode);
    write_virtual_disk(&plan, raw, out, &mut engine, &mut |_| true).unwrap()
}

fn qemu_format(format: VirtualDiskFormat) -> &'static str {
    match format {
        VirtualDiskFormat::Qcow2 => "qcow2",
        _ => "vpc",
    }
}

/// A number field of qemu-img's JSON output.
fn json_number(json: &str, key: &str) -> u64 {
    let at = json
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} in {json}"));
    json[at + key.len() + 3..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The spec's checksum, computed independently of the crate: !(sum of bytes but the field).
fn sum_without(bytes: &[u8], field: usize) -> u32 {
    let mut sum = 0u32;
    for (at, &byte) in bytes.iter().enumerate() {
        if at < field || at >= field + 4 {
            sum = sum.wrapping_add(byte as u32);
        }
    }
    !sum
}

/// What QEMU does not check in a VHD: footers (and their copy) with valid checksums, the
/// dynamic header's checksum, BAT entries inside the file.
fn check_vhd(out: &Path, format: VirtualDiskFormat, size: u64) {
    let file = File::open(out).unwrap();
    let len = file.metadata().unwrap().len();
    let mut footer = [0u8; 512];
    file.read_exact_at(&mut footer, len - 512).unwrap();
    assert_eq!(&footer[..8], b"conectix");
    assert_eq!(
        be32(&footer, 64),
        sum_without(&footer, 64),
        "footer checksum"
    );
    assert_eq!(u64::from_be_bytes(footer[48..56].try_into().unwrap()), size);
    match format {
        VirtualDiskFormat::Vhd => {
            assert_eq!(len, size + 512);
            assert_eq!(be32(&footer, 60), 2);
        }
        _ => {
            assert_eq!(be32(&footer, 60), 3);
            let mut copy = [0u8; 512];
            file.read_exact_at(&mut copy, 0).unwrap();
            assert_eq!(copy, footer, "the footer copy at 0 equals the footer");
            let mut header = [0u8; 1024];
            file.read_exact_at(&mut header, 512).unwrap();
            assert_eq!(&header[..8], b"cxsparse");
            assert_eq!(
                be32(&header, 36),
                sum_without(&header, 36),
                "dynamic header checksum"
            );
            let entries = be32(&header, 28) as u64;
            assert_eq!(entries, size.div_ceil(2 * MIB));
            let mut bat = vec![0u8; entries as usize * 4];
            file.read_exact_at(&mut bat, 1536).unwrap();
            for entry in bat
                .chunks(4)
                .map(|e| u32::from_be_bytes(e.try_into().unwrap()))
            {
                if entry != u32::MAX {
                    let block = entry as u64 * 512;
                    assert!(block + 512 + 2 * MIB <= len - 512, "block inside the file");
                    assert_eq!((block + 512) % 4096, 0, "block data 4 KiB-aligned");
                }
            }
        }
    }
}

/// Bytes of the 4 KiB blocks the ranges touch.
fn touched_block_bytes(ranges: &[DataRange]) -> u64 {
    let mut total = 0;
    let mut last_block_end = 0;
    for range in ranges {
        let first = (range.offset / 4096 * 4096).max(last_block_end);
        let end = range.end().next_multiple_of(4096);
        total += end.saturating_sub(first);
        last_block_end = end;
    }
    total
}

/// Converts `raw` to every format and checks each result with QEMU.
fn check_all(scratch: &Scratch, name: &str, size: u64, ranges: &[DataRange]) {
    check_all_with(CopyMode::Auto, scratch, name, size, ranges)
}

fn check_all_with(mode: CopyMode, scratch: &Scratch, name: &str, size: u64, ranges: &[DataRange]) {
    let Some(qemu_img) = qemu_img() else { return };
    let raw = scratch.path(&format!("{name}.raw"));
    raw_image(&raw, size, ranges);
    let data_bytes: u64 = ranges.iter().map(|r| r.length).sum();
    for format in FORMATS {
        if format == VirtualDiskFormat::Vhd && !size.is_multiple_of(MIB) {
            continue;
        }
        let out = scratch.path(&format!("{name}.{format}"));
        let summary = convert_with(mode, format, &raw, size, ranges, &out);
        assert_eq!(summary.data_bytes, data_bytes);
        assert_eq!(summary.file_size, out.metadata().unwrap().len());
        let fmt = qemu_format(format);
        let out_str = path_str(&out);
        if format == VirtualDiskFormat::Qcow2 {
            let (ok, stdout, stderr) = run_status(&qemu_img, &["check", "-f", fmt, out_str]);
            assert!(ok, "{name} {format}: qemu-img check:\n{stdout}{stderr}");
            assert!(stdout.contains("No errors were found"), "{stdout}");
        } else {
            check_vhd(&out, format, size);
        }
        let (ok, stdout, stderr) = run_status(
            &qemu_img,
            &["compare", "-f", "raw", "-F", fmt, path_str(&raw), out_str],
        );
        assert!(ok, "{name} {format}: qemu-img compare:\n{stdout}{stderr}");
        assert!(stdout.contains("Images are identical"), "{stdout}");
        let (ok, info, stderr) =
            run_status(&qemu_img, &["info", "--output=json", "-f", fmt, out_str]);
        assert!(ok, "{stderr}");
        assert_eq!(
            json_number(&info, "virtual-size"),
            size,
            "{name} {format}: {info}"
        );
        assert!(info.contains(&format!("\"format\": \"{fmt}\"")), "{info}");
        if format == VirtualDiskFormat::Qcow2 {
            let actual = json_number(&info, "actual-size");
            eprintln!("{name} qcow2: {actual} bytes allocated for {data_bytes} bytes of data");
            // Data clusters keep their offset within 64 KiB, so they touch the same 4 KiB blocks
            // as in the raw image; the tables add a few blocks. No zero cluster is allocated.
            let blocks = touched_block_bytes(ranges);
            assert!(
                actual <= blocks + 16 * 4096,
                "{name}: {actual} bytes allocated for data in {blocks} bytes of blocks"
            );
            let aligned = ranges
                .iter()
                .all(|r| r.offset % 4096 == 0 && r.length % 4096 == 0);
            if aligned && data_bytes >= 4 * MIB {
                assert!(
                    actual.abs_diff(data_bytes) * 100 <= data_bytes,
                    "{name}: {actual} bytes allocated for {data_bytes} bytes of data"
                );
            }
        }
    }
}

#[test]
fn a_small_image_with_unaligned_ranges_converts_to_every_format() {
    let scratch = Scratch::new();
    let size = 21 * MIB + 3 * 512; // no multiple of a cluster, a block or a MiB
    let ranges = [
        range(0, 4096 + 100),       // the first cluster, partly
        range(MIB + 17, 70_000),    // straddles two clusters
        range(2 * MIB - 512, 1024), // straddles two VHD blocks
        range(20 * MIB, MIB),       // whole clusters
        range(size - 1000, 1000),   // the last, partial cluster and block
    ];
    check_all(&scratch, "small", size, &ranges);
}

#[test]
fn a_whole_mib_image_converts_to_every_format_including_fixed_vhd() {
    let scratch = Scratch::new();
    let size = 24 * MIB;
    let ranges = [
        range(0, 8 * MIB),
        range(9 * MIB + 4096, 3 * MIB),
        range(size - 4096, 4096),
    ];
    check_all(&scratch, "whole-mib", size, &ranges);
}

#[test]
fn an_image_with_no_data_converts_to_every_format() {
    let scratch = Scratch::new();
    check_all(&scratch, "empty", 8 * MIB, &[]);
}

#[test]
fn a_range_covering_everything_converts_to_every_format() {
    let scratch = Scratch::new();
    check_all(&scratch, "full", 6 * MIB, &[range(0, 6 * MIB)]);
}

#[test]
fn a_64_gib_sparse_image_with_a_few_mib_at_far_offsets_streams_in_bounded_memory() {
    let scratch = Scratch::new();
    let size = 64 * GIB;
    let ranges = [
        range(0, MIB),
        range(33 * GIB + 12_288, 2 * MIB), // 4 KiB- but not cluster-aligned
        range(size - MIB, MIB),
    ];
    check_all(&scratch, "far", size, &ranges);
    // Peak memory of this test process (the other tests of this binary included): the
    // writers hold tables of at most 64 KiB and the engine's 4 MiB buffer, never the image.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kib: u64 = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    eprintln!("peak RSS {peak_kib} KiB");
    assert!(peak_kib < 150 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn random_layouts_convert_exactly_by_either_copy_method() {
    if qemu_img().is_none() {
        return;
    }
    for seed in 0..12u64 {
        let scratch = Scratch::new();
        let mut rng = Rng::new(seed);
        // Mostly small disks; some past 512 MiB, so runs cross L2 tables. Whole MiB half
        // of the time, so that fixed VHDs are covered too.
        let mut size = if rng.chance(1, 4) {
            (1024 + rng.below(512)) * MIB
        } else {
            (1 + rng.below(40 * MIB / 512)) * 512
        };
        if rng.chance(1, 2) {
            size = size.next_multiple_of(MIB);
        }
        let mut ranges = Vec::new();
        let mut pos = 0;
        for _ in 0..rng.below(10) {
            pos += match rng.below(4) {
                0 => 0, // touching the previous range
                1 => rng.below(4096),
                2 => rng.below(MIB),
                _ => rng.below(size / 4 + 1),
            };
            let length = 1 + match rng.below(3) {
                0 => rng.below(512),
                1 => rng.below(200_000),
                _ => rng.below(3 * MIB),
            };
            if pos + length > size {
                break;
            }
            ranges.push(range(pos, length));
            pos += length;
        }
        let mode = if seed % 2 == 0 {
            CopyMode::Auto
        } else {
            CopyMode::ReadWrite
        };
        check_all_with(mode, &scratch, &format!("random-{seed}"), size, &ranges);
    }
}

#[test]
fn a_wrong_image_size_or_a_bad_footer_is_refused() {
    let Some(qemu_img) = qemu_img() else { return };
    let scratch = Scratch::new();
    let raw = scratch.path("disk.raw");
    raw_image(&raw, 4 * MIB, &[range(0, 4096)]);
    let plan = plan_virtual_disk(VirtualDiskFormat::Vhd, 8 * MIB, &[], &identity()).unwrap();
    let out = scratch.path("disk.vhd");
    let error = write_virtual_disk(
        &plan,
        &raw,
        &out,
        &mut CopyEngine::new(CopyMode::Auto),
        &mut |_| true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("is 4194304 bytes but virtualSize is 8388608"),
        "{error}"
    );
    assert!(!out.exists(), "nothing is left behind");
    // The image as its own output: refused, and the image is untouched.
    let plan = plan_virtual_disk(VirtualDiskFormat::Qcow2, 4 * MIB, &[], &identity()).unwrap();
    let link = scratch.path("link.qcow2");
    std::fs::hard_link(&raw, &link).unwrap();
    let error = write_virtual_disk(
        &plan,
        &raw,
        &link,
        &mut CopyEngine::new(CopyMode::Auto),
        &mut |_| true,
    )
    .unwrap_err()
    .to_string();
    assert!(error.ends_with("link.qcow2 is the image itself"), "{error}");
    assert_eq!(raw.metadata().unwrap().len(), 4 * MIB);
    assert!(link.exists());
    // A flipped footer byte: QEMU refuses the checksum, so its checks above mean something.
    convert(
        VirtualDiskFormat::Vhd,
        &raw,
        4 * MIB,
        &[range(0, 4096)],
        &out,
    );
    let file = std::fs::OpenOptions::new().write(true).open(&out).unwrap();
    file.write_all_at(&[1], 4 * MIB + 100).unwrap();
    let (ok, _, stderr) = run_status(&qemu_img, &["info", "-f", "vpc", path_str(&out)]);
    assert!(!ok, "qemu-img accepted a bad checksum");
    assert!(stderr.contains("checksum"), "{stderr}");
}
