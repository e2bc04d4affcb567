//! Tables made by sfdisk (util-linux), GPT and MBR ("dos") labels, logical partitions included:
//! the reader's partitions equal, field by field, what `sfdisk --json` lists; and sfdisk reads
//! the MBR (with its EBR chain) that encode_mbr writes. Skips, saying why, without sfdisk.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::compare::assert_matches_sfdisk;
use common::tools::{sfdisk_json, tools_or_skip};
use imgforge_gpt::{read_bytes, MbrKind, PartitionType, Report};
use imgforge_testkit::Scratch;

/// Feeds `script` to sfdisk to partition `file`.
fn sfdisk_script(sfdisk: &std::path::Path, file: &str, script: &str) {
    let mut child = Command::new(sfdisk)
        .args(["--no-reread", "--no-tell-kernel", file])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "sfdisk failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read_file(file: &str) -> Report {
    read_bytes(&std::fs::read(file).unwrap(), None).unwrap()
}

#[test]
fn a_gpt_made_by_sfdisk() {
    let Some([sfdisk]) = tools_or_skip("a_gpt_made_by_sfdisk", ["sfdisk"]) else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 16 << 20);
    let script = "label: gpt\n\
        label-id: 6A1C3E4B-1111-4222-8333-444455556666\n\
        start=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system\", attrs=\"RequiredPartition LegacyBIOSBootable GUID:63\"\n\
        size=4096, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=0F6B1C4E-2222-4333-8444-555566667777, name=\"root (slot a)\", attrs=\"GUID:59,60\"\n\
        size=1024, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n";
    sfdisk_script(&sfdisk, &file, script);
    let report = read_file(&file);
    assert_eq!(report.findings, []);
    assert_eq!(report.mbr.kind, MbrKind::Protective);
    assert_eq!(
        report.gpt.as_ref().unwrap().disk_guid.to_string(),
        "6A1C3E4B-1111-4222-8333-444455556666"
    );
    let names: Vec<&str> = report.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["EFI system", "root (slot a)", ""]); // sfdisk 2.38 drops non-ASCII names: sgdisk.rs has them
    assert_eq!(report.partitions[0].attributes, 1 | 1 << 2 | 1 << 63);
    assert_matches_sfdisk(&report, &sfdisk_json(&sfdisk, &file, &[]));
}

#[test]
fn a_full_gpt_made_by_sfdisk() {
    let Some([sfdisk]) = tools_or_skip("a_full_gpt_made_by_sfdisk", ["sfdisk"]) else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 4 << 20);
    let mut script = String::from("label: gpt\n");
    for i in 0..128 {
        script.push_str(&format!("size=8, type=linux, name=\"p{i}\"\n"));
    }
    sfdisk_script(&sfdisk, &file, &script);
    let report = read_file(&file);
    assert_eq!(report.findings, []);
    assert_eq!(report.partitions.len(), 128);
    assert_matches_sfdisk(&report, &sfdisk_json(&sfdisk, &file, &[]));
}

#[test]
fn an_mbr_made_by_sfdisk() {
    let Some([sfdisk]) = tools_or_skip("an_mbr_made_by_sfdisk", ["sfdisk"]) else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 16 << 20);
    let script = "label: dos\n\
        label-id: 0x12345678\n\
        start=2048, size=4096, type=c, bootable\n\
        start=6144, size=2048, type=83\n\
        start=10240, size=1024, type=82\n";
    sfdisk_script(&sfdisk, &file, script);
    let report = read_file(&file);
    assert_eq!(report.findings, []);
    assert_eq!(
        (report.mbr.kind, report.gpt.is_none()),
        (MbrKind::Plain, true)
    );
    let types: Vec<PartitionType> = report.partitions.iter().map(|p| p.partition_type).collect();
    assert_eq!(
        types,
        [
            PartitionType::Mbr(0x0C),
            PartitionType::Mbr(0x83),
            PartitionType::Mbr(0x82)
        ]
    );
    assert_eq!(report.mbr.entries[0].boot_indicator, 0x80);
    assert_eq!(
        (report.partitions[1].offset, report.partitions[1].size),
        (6144 * 512, 2048 * 512)
    );
    let table = sfdisk_json(&sfdisk, &file, &[]);
    assert_matches_sfdisk(&report, &table);
    let bootable: Vec<bool> = table
        .get("partitions")
        .array()
        .iter()
        .map(|p| p.get("bootable") == &common::json::Json::Bool(true))
        .collect();
    assert_eq!(bootable, [true, false, false]);
}

/// sfdisk's partitions other than extended containers, as (number, start, size, type, bootable).
fn sfdisk_dos_partitions(table: &common::json::Json) -> Vec<(u32, u64, u64, u8, bool)> {
    table
        .get("partitions")
        .array()
        .iter()
        .map(|p| {
            let node = p.get("node").str().unwrap();
            let number: u32 = node
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let os_type = u8::from_str_radix(p.get("type").str().unwrap(), 16).unwrap();
            let bootable = p.get("bootable") == &common::json::Json::Bool(true);
            (
                number,
                p.get("start").u64().unwrap(),
                p.get("size").u64().unwrap(),
                os_type,
                bootable,
            )
        })
        .filter(|p| ![0x05, 0x0F, 0x85].contains(&p.3))
        .collect()
}

fn ours(report: &Report) -> Vec<(u32, u64, u64, u8, bool)> {
    report
        .partitions
        .iter()
        .map(|p| {
            let PartitionType::Mbr(os_type) = p.partition_type else {
                panic!("not an MBR partition")
            };
            (
                p.index,
                p.first_lba,
                p.last_lba - p.first_lba + 1,
                os_type,
                p.bootable,
            )
        })
        .collect()
}

#[test]
fn logical_partitions_made_by_sfdisk() {
    let Some([sfdisk]) = tools_or_skip("logical_partitions_made_by_sfdisk", ["sfdisk"]) else {
        return;
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 32 << 20);
    let script = "label: dos\n\
        start=2048, size=4096, type=c, bootable\n\
        start=6144, size=2048, type=83\n\
        start=8192, type=5\n\
        start=10240, size=2048, type=83\n\
        start=14336, size=2048, type=82\n\
        start=18432, size=4096, type=7\n";
    sfdisk_script(&sfdisk, &file, script);
    let report = read_file(&file);
    assert_eq!(report.findings, []);
    let logical: Vec<bool> = report.partitions.iter().map(|p| p.logical).collect();
    assert_eq!(logical, [false, false, true, true, true]);
    assert_eq!(
        ours(&report),
        sfdisk_dos_partitions(&sfdisk_json(&sfdisk, &file, &[]))
    );
}

#[test]
fn sfdisk_reads_the_logical_partitions_imgforge_writes() {
    use imgforge_gpt::{encode_mbr, MbrLayout, MbrLayoutPartition};
    let Some([sfdisk]) = tools_or_skip(
        "sfdisk_reads_the_logical_partitions_imgforge_writes",
        ["sfdisk"],
    ) else {
        return;
    };
    let partition = |index: u32, os_type: u8, first: u64, ebr: Option<u64>| MbrLayoutPartition {
        index,
        name: format!("p{index}"),
        os_type,
        bootable: index == 6,
        first_lba: first,
        last_lba: first + 2047,
        ebr_lba: ebr,
    };
    let layout = MbrLayout {
        sector_size: 512,
        disk_size: 32 << 20,
        total_sectors: (32 << 20) / 512,
        disk_id: 0xC0FF_EE00,
        boot_code: Vec::new(),
        extended_slot: Some(2),
        partitions: vec![
            partition(1, 0x0C, 2048, None),
            partition(5, 0x83, 6144, Some(4096)),
            partition(6, 0x82, 10240, Some(8192)),
            partition(7, 0x8E, 14336, Some(12288)),
            partition(3, 0x83, 20480, None),
        ],
    };
    let dir = Scratch::new();
    let file = dir.empty_file("disk.img", 32 << 20);
    let mut disk = std::fs::read(&file).unwrap();
    for region in encode_mbr(&layout).unwrap() {
        let at = region.offset as usize;
        disk[at..at + region.data.len()].copy_from_slice(&region.data);
    }
    std::fs::write(&file, &disk).unwrap();
    let table = sfdisk_json(&sfdisk, &file, &[]);
    assert_eq!(table.get("label").str(), Some("dos"));
    assert_eq!(table.get("id").str(), Some("0xc0ffee00"));
    let mut expected: Vec<_> = layout
        .partitions
        .iter()
        .map(|p| (p.index, p.first_lba, 2048, p.os_type, p.bootable))
        .collect();
    expected.sort();
    let mut listed = sfdisk_dos_partitions(&table);
    listed.sort();
    assert_eq!(listed, expected);
    // and the extended container in record 2, from the first EBR to the last logical's end
    let extended = table
        .get("partitions")
        .array()
        .iter()
        .find(|p| p.get("type").str() == Some("f"))
        .map(|p| (p.get("start").u64(), p.get("size").u64()));
    assert_eq!(extended, Some((Some(4096), Some(14336 + 2048 - 4096))));
}

#[test]
fn a_missing_tool_skips_the_test() {
    assert!(tools_or_skip("a_missing_tool_skips_the_test", ["imgforge-no-such-tool"]).is_none());
}
