//! Compares the reader's report with what sfdisk and sgdisk say about the same disk.

use std::path::Path;

use super::json::Json;
use super::tools::run_status;
use imgforge_gpt::{PartitionType, Report};

/// sfdisk's spelling of an attribute mask: bits 0-2 by name, 48-63 as "GUID:n,m"; it does not
/// show bits 3-47.
pub fn sfdisk_attributes(mask: u64) -> Option<String> {
    let names = [
        "RequiredPartition",
        "NoBlockIOProtocol",
        "LegacyBIOSBootable",
    ];
    let mut parts: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask >> bit & 1 == 1)
        .map(|(_, n)| n.to_string())
        .collect();
    let guid_bits: Vec<String> = (48..64)
        .filter(|bit| mask >> bit & 1 == 1)
        .map(|bit: u32| bit.to_string())
        .collect();
    if !guid_bits.is_empty() {
        parts.push(format!("GUID:{}", guid_bits.join(",")));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The partition number at the end of sfdisk's node name ("disk.img12" → 12).
fn node_number(node: &str) -> u32 {
    let digits: String = node
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

/// Field by field: the table sfdisk --json printed and the reader's report.
pub fn assert_matches_sfdisk(report: &Report, table: &Json) {
    let listed = table.get("partitions").array();
    assert_eq!(listed.len(), report.partitions.len(), "partition count");
    if let Some(size) = table.get("sectorsize").u64() {
        assert_eq!(size, u64::from(report.sector_size));
    }
    match table.get("label").str() {
        Some("gpt") => {
            let gpt = report.gpt.as_ref().expect("a GPT");
            assert_eq!(
                table.get("id").str(),
                Some(gpt.disk_guid.to_string().as_str())
            );
            assert_eq!(table.get("firstlba").u64(), Some(gpt.first_usable_lba));
            assert_eq!(table.get("lastlba").u64(), Some(gpt.last_usable_lba));
        }
        Some("dos") => assert!(report.gpt.is_none()),
        other => panic!("unexpected label {other:?}"),
    }
    for (theirs, ours) in listed.iter().zip(&report.partitions) {
        let node = theirs.get("node").str().unwrap();
        assert_eq!(node_number(node), ours.index, "{node}");
        assert_eq!(
            theirs.get("start").u64(),
            Some(ours.first_lba),
            "{node} start"
        );
        assert_eq!(
            theirs.get("size").u64(),
            Some(ours.last_lba - ours.first_lba + 1),
            "{node} size"
        );
        match ours.partition_type {
            PartitionType::Gpt(type_guid) => {
                assert_eq!(
                    theirs.get("type").str(),
                    Some(type_guid.to_string().as_str()),
                    "{node} type"
                );
                assert_eq!(
                    theirs.get("uuid").str(),
                    ours.guid.map(|g| g.to_string()).as_deref(),
                    "{node} uuid"
                );
                let name = (!ours.name.is_empty()).then_some(ours.name.as_str());
                assert_eq!(theirs.get("name").str(), name, "{node} name");
                assert_eq!(
                    theirs.get("attrs").str(),
                    sfdisk_attributes(ours.attributes).as_deref(),
                    "{node} attrs"
                );
            }
            PartitionType::Mbr(byte) => {
                assert_eq!(
                    theirs.get("type").str(),
                    Some(format!("{byte:x}").as_str()),
                    "{node} type"
                );
            }
        }
    }
}

/// The MBR records sfdisk --label-nested dos lists, against the report's MBR entries.
pub fn assert_mbr_matches_sfdisk(report: &Report, table: &Json) {
    let listed = table.get("partitions").array();
    let used: Vec<_> = report
        .mbr
        .entries
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_used())
        .collect();
    assert_eq!(listed.len(), used.len());
    for (theirs, (slot, record)) in listed.iter().zip(used) {
        assert_eq!(
            node_number(theirs.get("node").str().unwrap()),
            slot as u32 + 1
        );
        assert_eq!(
            theirs.get("start").u64(),
            Some(u64::from(record.starting_lba))
        );
        assert_eq!(
            theirs.get("size").u64(),
            Some(u64::from(record.size_in_lba))
        );
        assert_eq!(
            theirs.get("type").str(),
            Some(format!("{:x}", record.os_type).as_str())
        );
        assert_eq!(
            theirs.get("bootable") == &Json::Bool(true),
            record.boot_indicator == 0x80
        );
    }
}

/// `sgdisk -v`: (no problem reported, its output).
pub fn sgdisk_verify(sgdisk: &Path, target: &str) -> (bool, String) {
    let (ok, stdout, stderr) = run_status(sgdisk, &["-v", target]);
    let out = format!("{stdout}{stderr}");
    let complains = ["Warning", "Caution", "Problem", "problems!", "Invalid"]
        .iter()
        .any(|w| out.contains(w));
    (ok && out.contains("No problems found") && !complains, out)
}
