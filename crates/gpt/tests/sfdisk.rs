//! Tables made by sfdisk (util-linux), GPT and MBR ("dos") labels: the reader's partitions
//! equal, field by field, what `sfdisk --json` lists. Skips, saying why, without sfdisk.

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

#[test]
fn a_missing_tool_skips_the_test() {
    assert!(tools_or_skip("a_missing_tool_skips_the_test", ["imgforge-no-such-tool"]).is_none());
}
