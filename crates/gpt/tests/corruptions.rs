//! Damage to a table sgdisk made, one kind at a time: the reader reports the expected codes
//! (and still finds the partitions where it can), and `sgdisk -v` agrees there is a problem,
//! except where noted. Skips, saying why, without sgdisk.

mod common;

use common::compare::sgdisk_verify;
use common::disks::{codes, Disk};
use common::tools::{run, tools_or_skip};
use imgforge_gpt::{read_bytes, Entry, Header};
use imgforge_testkit::Scratch;

const DISK_SIZE: u64 = 2 << 20;
const LAST_LBA: u64 = DISK_SIZE / 512 - 1;

struct Damage {
    name: &'static str,
    change: fn(&mut Disk),
    codes: &'static [&'static str],
    /// Partitions the reader still reports.
    partitions: usize,
    /// sgdisk -v complains too; it does not check the MBR signature, the protective MBR size
    /// or duplicate partition GUIDs.
    sgdisk_agrees: bool,
}

fn flip(disk: &mut Disk, offset: u64) {
    disk.bytes[offset as usize] ^= 0x40;
}

fn backup_entries(disk: &Disk) -> u64 {
    disk.header(LAST_LBA).entries_lba * 512
}

fn in_both_headers(disk: &mut Disk, change: fn(&mut Header)) {
    disk.patch_header(1, change);
    disk.patch_header(LAST_LBA, change);
}

fn entries(disk: &mut Disk, change: fn(&mut [Entry])) {
    disk.patch_entries(change);
}

const DAMAGE: &[Damage] = &[
    Damage {
        name: "primary header byte",
        change: |d| flip(d, 512 + 60),
        codes: &["GPT_HEADER_CRC", "GPT_BACKUP_USED"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "primary signature",
        change: |d| flip(d, 512 + 7),
        codes: &["GPT_HEADER_MISSING", "GPT_BACKUP_USED"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "primary entries byte",
        change: |d| flip(d, 1024 + 128 + 20),
        codes: &["GPT_ENTRIES_CRC", "GPT_BACKUP_USED"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "backup header byte",
        change: |d| flip(d, LAST_LBA * 512 + 60),
        codes: &["GPT_HEADER_CRC"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "backup entries byte",
        change: |d| flip(d, backup_entries(d) + 20),
        codes: &["GPT_ENTRIES_CRC"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "both headers' entry size",
        change: |d| in_both_headers(d, |h| h.entry_size = 100),
        codes: &["GPT_ENTRY_SIZE", "GPT_ENTRY_SIZE"],
        partitions: 0,
        sgdisk_agrees: true,
    },
    Damage {
        name: "backup header's own LBA",
        change: |d| d.patch_header(LAST_LBA, |h| h.my_lba = 5),
        codes: &["GPT_HEADER_MY_LBA"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "usable range past the disk",
        change: |d| in_both_headers(d, |h| h.last_usable_lba = LAST_LBA + 100),
        codes: &[
            "GPT_USABLE_RANGE",
            "GPT_ENTRY_ARRAY_LOCATION",
            "GPT_USABLE_RANGE",
        ],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "last sector cut off",
        change: |d| d.bytes.truncate(d.bytes.len() - 512),
        codes: &[
            "MBR_PROTECTIVE_RANGE",
            "GPT_DISK_TRUNCATED",
            "GPT_HEADER_MISSING",
        ],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "disk grown",
        change: |d| d.bytes.resize(d.bytes.len() + (1 << 20), 0),
        codes: &["MBR_PROTECTIVE_RANGE", "GPT_DISK_GROWN"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "overlapping partitions",
        change: |d| entries(d, |e| e[1].first_lba = e[0].last_lba),
        codes: &["PARTITIONS_OVERLAP"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "partition past the usable LBAs",
        change: |d| entries(d, |e| e[2].last_lba = LAST_LBA - 1),
        codes: &["PARTITION_OUTSIDE_USABLE"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "partition ending before it starts",
        change: |d| entries(d, |e| e[2].last_lba = e[2].first_lba - 1),
        codes: &["PARTITION_FIRST_AFTER_LAST"],
        partitions: 3,
        sgdisk_agrees: true,
    },
    Damage {
        name: "duplicate partition GUIDs",
        change: |d| entries(d, |e| e[2].unique_guid = e[0].unique_guid),
        codes: &["PARTITION_GUID_DUPLICATE"],
        partitions: 3,
        sgdisk_agrees: false,
    },
    Damage {
        name: "MBR signature",
        change: |d| flip(d, 511),
        codes: &["MBR_NO_SIGNATURE"],
        partitions: 3,
        sgdisk_agrees: false,
    },
    Damage {
        name: "protective MBR size",
        change: |d| flip(d, 446 + 13),
        codes: &["MBR_PROTECTIVE_RANGE"],
        partitions: 3,
        sgdisk_agrees: false,
    },
];

#[test]
fn each_kind_of_damage_is_reported() {
    let Some([sgdisk]) = tools_or_skip("each_kind_of_damage_is_reported", ["sgdisk"]) else {
        return;
    };
    let dir = Scratch::new();
    let pristine = dir.empty_file("pristine.img", DISK_SIZE);
    run(
        &sgdisk,
        &[
            "-a", "8", "-n", "1:0:+64", "-n", "2:0:+64", "-n", "3:0:+64", &pristine,
        ],
    );
    let bytes = std::fs::read(&pristine).unwrap();
    assert_eq!(read_bytes(&bytes, None).unwrap().findings, []);
    for damage in DAMAGE {
        let mut disk = Disk {
            bytes: bytes.clone(),
            sector_size: 512,
        };
        (damage.change)(&mut disk);
        let report = read_bytes(&disk.bytes, None).unwrap();
        let codes = codes(&report);
        assert_eq!(
            codes, damage.codes,
            "{}: {:#?}",
            damage.name, report.findings
        );
        assert_eq!(
            report.partitions.len(),
            damage.partitions,
            "{}",
            damage.name
        );
        let damaged = dir.path("damaged.img");
        std::fs::write(&damaged, &disk.bytes).unwrap();
        let (clean, out) = sgdisk_verify(&sgdisk, damaged.to_str().unwrap());
        assert_eq!(
            !clean, damage.sgdisk_agrees,
            "{}: sgdisk -v says:\n{out}",
            damage.name
        );
    }
}
