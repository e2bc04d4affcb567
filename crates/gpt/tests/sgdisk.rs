//! Tables made by sgdisk (gdisk) read back exactly as sgdisk and sfdisk see them: 1, 3 and 128
//! partitions, a hybrid MBR, and 4096-byte sectors on a loop device. Each test skips, saying
//! why, when a tool (or root, for loop devices) is missing.

mod common;

use std::fs::File;
use std::path::Path;

use common::compare::{assert_matches_sfdisk, assert_mbr_matches_sfdisk, sgdisk_verify};
use common::disks::{layout, ESP, LINUX};
use common::tools::{run, sfdisk_json, skip, tools_or_skip};
use imgforge_gpt::{encode_image, read, HeaderKind, HeaderStatus, MbrKind, PartitionType, Report};
use imgforge_testkit::{LoopDevice, Scratch};

const ROOT_X86_64: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
const SWAP: &str = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
/// sgdisk type codes and the GUIDs they stand for.
const TYPES: [(&str, &str); 4] = [
    ("EF00", ESP),
    ("8300", LINUX),
    ("8304", ROOT_X86_64),
    ("8200", SWAP),
];

/// Reads a file or device through `read`, the sector size detected unless given.
fn read_path(path: &str, sector_size: Option<u32>) -> Report {
    let mut file = File::open(path).unwrap();
    let size = std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).unwrap();
    read(&mut file, size, sector_size).unwrap()
}

fn name_of(i: usize) -> String {
    if i % 5 == 1 {
        format!("röot {i} 😀")
    } else {
        format!("part-{i}")
    }
}

/// sgdisk arguments for `count` 16-sector partitions with types, names and some attributes.
fn create_args(count: usize) -> Vec<String> {
    let mut args = vec!["-a".to_string(), "8".to_string()];
    for i in 1..=count {
        args.extend([
            "-n".into(),
            format!("{i}:0:+16"),
            "-t".into(),
            format!("{i}:{}", TYPES[i % 4].0),
        ]);
        args.extend(["-c".into(), format!("{i}:{}", name_of(i))]);
        if i % 3 == 0 {
            args.extend([
                "-A".into(),
                format!("{i}:set:0"),
                "-A".into(),
                format!("{i}:set:60"),
            ]);
        }
    }
    args
}

fn sgdisk_create(sgdisk: &Path, target: &str, count: usize) {
    let args = create_args(count);
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.push(target);
    run(sgdisk, &all);
}

fn assert_as_created(report: &Report, count: usize) {
    assert_eq!(report.partitions.len(), count);
    for (i, p) in (1..).zip(&report.partitions) {
        assert_eq!(p.index, i as u32);
        assert_eq!(
            p.partition_type,
            PartitionType::Gpt(TYPES[i % 4].1.parse().unwrap())
        );
        assert_eq!(p.name, name_of(i));
        assert_eq!(p.last_lba - p.first_lba + 1, 16);
        assert_eq!(p.attributes, if i % 3 == 0 { 1 | 1 << 60 } else { 0 });
    }
}

#[test]
fn tables_made_by_sgdisk() {
    let Some([sgdisk, sfdisk]) = tools_or_skip("tables_made_by_sgdisk", ["sgdisk", "sfdisk"])
    else {
        return;
    };
    for count in [1, 3, 128] {
        let dir = Scratch::new();
        let file = dir.empty_file("disk.img", 4 << 20);
        sgdisk_create(&sgdisk, &file, count);
        assert!(sgdisk_verify(&sgdisk, &file).0);
        let report = read_path(&file, None);
        assert_eq!(report.findings, [], "{count} partitions");
        assert_eq!(
            (report.sector_size, report.mbr.kind),
            (512, MbrKind::Protective)
        );
        let gpt = report.gpt.as_ref().unwrap();
        assert_eq!(
            (gpt.header, gpt.primary, gpt.backup),
            (
                HeaderKind::Primary,
                HeaderStatus::Valid,
                HeaderStatus::Valid
            )
        );
        assert_as_created(&report, count);
        assert_matches_sfdisk(&report, &sfdisk_json(&sfdisk, &file, &[]));
    }
}

#[test]
fn a_hybrid_mbr_made_by_sgdisk() {
    let Some([sgdisk, sfdisk]) = tools_or_skip("a_hybrid_mbr_made_by_sgdisk", ["sgdisk", "sfdisk"])
    else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 4 << 20);
    sgdisk_create(&sgdisk, &file, 3);
    run(&sgdisk, &["-h", "2:3", &file]);
    let report = read_path(&file, None);
    assert_eq!(report.findings, []);
    assert_eq!(report.mbr.kind, MbrKind::Hybrid);
    assert_as_created(&report, 3);
    assert_mbr_matches_sfdisk(
        &report,
        &sfdisk_json(&sfdisk, &file, &["--label-nested", "dos"]),
    );
    let mirrored: Vec<u8> = report
        .mbr
        .entries
        .iter()
        .filter(|r| r.is_used())
        .map(|r| r.os_type)
        .collect();
    assert!(
        mirrored.contains(&0xEE) && mirrored.len() == 3,
        "{mirrored:x?}"
    );
}

#[test]
fn sgdisk_on_a_4096_byte_sector_loop_device() {
    let Some([sgdisk, sfdisk]) = tools_or_skip(
        "sgdisk_on_a_4096_byte_sector_loop_device",
        ["sgdisk", "sfdisk"],
    ) else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 8 << 20);
    let device = match LoopDevice::attach(Path::new(&file), Some(4096)) {
        Ok(device) => device,
        Err(why) => return skip(format!("sgdisk_on_a_4096_byte_sector_loop_device: {why}")),
    };
    sgdisk_create(&sgdisk, device.device_str(), 3);
    assert!(sgdisk_verify(&sgdisk, device.device_str()).0);
    let from_device = read_path(device.device_str(), Some(4096));
    let from_file = read_path(&file, None);
    assert_eq!(
        from_file, from_device,
        "the backing file, sector size detected, reads like the device"
    );
    assert_eq!(
        (from_file.sector_size, &from_file.findings),
        (4096, &vec![])
    );
    assert_as_created(&from_file, 3);
    assert_matches_sfdisk(&from_file, &sfdisk_json(&sfdisk, device.device_str(), &[]));
}

#[test]
fn imgforge_tables_with_4096_byte_sectors_pass_sgdisk() {
    let Some([sgdisk, sfdisk]) = tools_or_skip(
        "imgforge_tables_with_4096_byte_sectors_pass_sgdisk",
        ["sgdisk", "sfdisk"],
    ) else {
        return;
    };
    let dir = Scratch::new();
    let layout = layout(4096, 3, 8, 16);
    let file = dir.empty_file("disk.img", 0);
    std::fs::write(&file, encode_image(&layout).unwrap()).unwrap();
    let report = read_path(&file, None);
    assert_eq!((report.sector_size, &report.findings), (4096, &vec![]));
    let device = match LoopDevice::attach(Path::new(&file), Some(4096)) {
        Ok(device) => device,
        Err(why) => {
            return skip(format!(
                "the sgdisk half of imgforge_tables_with_4096_byte_sectors_pass_sgdisk: {why}"
            ))
        }
    };
    let (clean, out) = sgdisk_verify(&sgdisk, device.device_str());
    assert!(clean, "{out}");
    assert_matches_sfdisk(&report, &sfdisk_json(&sfdisk, device.device_str(), &[]));
    assert_eq!(read_path(device.device_str(), Some(4096)), report);
}
