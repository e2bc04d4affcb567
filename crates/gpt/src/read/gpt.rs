//! Finds both GPT headers, picks the one to read partitions from, and compares them.

use std::io::{self, Read, Seek};

use super::disk::Disk;
use super::findings::{Code, Finding, Findings};
use super::header::{check_header, describe, HeaderCheck};
use super::report::{GptReport, HeaderKind, HeaderStatus};
use crate::header::Header;

/// A GPT as read through one of its headers.
pub(crate) struct GptRead {
    pub report: GptReport,
    /// The entry array of the header used: `entry_count * entry_size` bytes.
    pub entries: Vec<u8>,
}

pub(crate) enum GptOutcome {
    /// Neither header is there.
    Absent,
    /// A header is there, but neither gives readable entries.
    Unusable,
    Read(GptRead),
}

/// Reads the GPT of `disk`, adding what is wrong with it to `findings`.
pub(crate) fn read_gpt<R: Read + Seek>(
    disk: &mut Disk<'_, R>,
    findings: &mut Findings,
) -> io::Result<GptOutcome> {
    let Some(last_lba) = disk.last_lba() else {
        return Ok(GptOutcome::Absent);
    };
    let primary = check_header(disk, HeaderKind::Primary, 1)?;
    let backup_lba = backup_location(&primary, last_lba, findings);
    let mut backup = check_header(disk, HeaderKind::Backup, backup_lba)?;
    if primary.status == HeaderStatus::Missing && backup.status == HeaderStatus::Missing {
        return Ok(GptOutcome::Absent);
    }
    check_backup_points_back(&mut backup);
    for check in [&primary, &backup] {
        report_header(check, last_lba, findings);
    }
    if primary.status == HeaderStatus::Valid && backup.status == HeaderStatus::Valid {
        compare(&primary, &backup, findings);
    }
    let Some(chosen) = choose(&primary, &backup) else {
        return Ok(GptOutcome::Unusable);
    };
    if chosen.kind == HeaderKind::Backup {
        let state = if primary.status == HeaderStatus::Missing {
            "missing"
        } else {
            "damaged"
        };
        findings.add(
            Code::GptBackupUsed,
            format!(
                "the primary GPT header is {state}; the partitions were read from {}",
                chosen.describe()
            ),
        );
    }
    let report = report_of(chosen, primary.status, backup.status);
    let entries = match chosen.kind {
        HeaderKind::Primary => primary.entries,
        HeaderKind::Backup => backup.entries,
    };
    match (report, entries) {
        (Some(report), Some(entries)) => Ok(GptOutcome::Read(GptRead { report, entries })),
        _ => Ok(GptOutcome::Unusable), // not reached: choose() returns usable headers only
    }
}

/// Where to look for the backup header: where a sound primary header says it is, else the last
/// sector. Says so when the primary places it elsewhere than the last sector.
fn backup_location(primary: &HeaderCheck, last_lba: u64, findings: &mut Findings) -> u64 {
    let trusted = primary.header.filter(|_| {
        !primary
            .problems
            .iter()
            .any(|p| matches!(p.code, Code::GptHeaderCrc | Code::GptHeaderSize))
    });
    let Some(Header { alternate_lba, .. }) = trusted else {
        return last_lba;
    };
    let who = primary.describe();
    if alternate_lba == last_lba {
        last_lba
    } else if alternate_lba > last_lba {
        findings.add(
            Code::GptDiskTruncated,
            format!(
                "{who} places the backup header at LBA {alternate_lba}, past the last LBA {last_lba}: \
                 the disk was truncated or its sector size is not the table's"
            ),
        );
        last_lba
    } else if alternate_lba <= 1 {
        findings.add(
            Code::GptAlternateLba,
            format!("{who} places the backup header at LBA {alternate_lba}, which is not the end of the disk"),
        );
        last_lba
    } else {
        findings.add(
            Code::GptDiskGrown,
            format!(
                "{who} places the backup header at LBA {alternate_lba}, before the last LBA {last_lba}: \
                 the disk grew, and the space after LBA {alternate_lba} is unusable until the GPT is moved \
                 to the end (sgdisk -e)"
            ),
        );
        alternate_lba
    }
}

fn check_backup_points_back(backup: &mut HeaderCheck) {
    if let Some(header) = backup.header.filter(|h| h.alternate_lba != 1) {
        let who = backup.describe();
        backup.problems.push(Finding {
            code: Code::GptAlternateLba,
            message: format!(
                "{who} places the primary header at LBA {}, not 1",
                header.alternate_lba
            ),
        });
        backup.status = HeaderStatus::Invalid;
    }
}

fn report_header(check: &HeaderCheck, last_lba: u64, findings: &mut Findings) {
    if check.status == HeaderStatus::Missing {
        let place = match check.kind {
            HeaderKind::Primary => "LBA 1".to_string(),
            HeaderKind::Backup if check.lba == last_lba => {
                format!("LBA {} (the last sector)", check.lba)
            }
            HeaderKind::Backup => format!("LBA {}", check.lba),
        };
        findings.add(
            Code::GptHeaderMissing,
            format!(
                "there is no {} GPT header (\"EFI PART\") at {place}",
                check.kind
            ),
        );
    }
    for problem in &check.problems {
        findings.add(problem.code, problem.message.clone());
    }
}

/// A valid header first, the primary before the backup; failing that, a damaged one whose
/// entries could still be read.
fn choose<'a>(primary: &'a HeaderCheck, backup: &'a HeaderCheck) -> Option<&'a HeaderCheck> {
    let valid = |c: &&HeaderCheck| c.status == HeaderStatus::Valid && c.usable();
    let usable = |c: &&HeaderCheck| c.usable();
    [primary, backup]
        .into_iter()
        .find(valid)
        .or_else(|| [primary, backup].into_iter().find(usable))
}

/// Two valid headers must describe the same disk and entries.
fn compare(primary: &HeaderCheck, backup: &HeaderCheck, findings: &mut Findings) {
    let (Some(p), Some(b)) = (primary.header, backup.header) else {
        return;
    };
    let mut differences = Vec::new();
    if p.disk_guid != b.disk_guid {
        differences.push(format!("disk GUID {} vs {}", p.disk_guid, b.disk_guid));
    }
    if (p.first_usable_lba, p.last_usable_lba) != (b.first_usable_lba, b.last_usable_lba) {
        differences.push(format!(
            "usable LBAs {}-{} vs {}-{}",
            p.first_usable_lba, p.last_usable_lba, b.first_usable_lba, b.last_usable_lba
        ));
    }
    if (p.entry_count, p.entry_size) != (b.entry_count, b.entry_size) {
        differences.push(format!(
            "{} entries of {} bytes vs {} of {}",
            p.entry_count, p.entry_size, b.entry_count, b.entry_size
        ));
    }
    if !differences.is_empty() {
        findings.add(
            Code::GptHeadersDiffer,
            format!(
                "{} and {} disagree: {}",
                primary.describe(),
                describe(backup.kind, backup.lba),
                differences.join("; ")
            ),
        );
        return;
    }
    if let (Some(a), Some(b)) = (&primary.entries, &backup.entries) {
        compare_entries(a, b, p.entry_size as usize, findings);
    }
}

fn compare_entries(primary: &[u8], backup: &[u8], entry_size: usize, findings: &mut Findings) {
    let differing: Vec<usize> = primary
        .chunks(entry_size.max(1))
        .zip(backup.chunks(entry_size.max(1)))
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i + 1)
        .collect();
    if let Some(&first) = differing.first() {
        findings.add(
            Code::GptEntriesDiffer,
            format!(
                "the primary and backup entry arrays differ in {} entries, the first being entry {first}; \
                 the partitions were read from the primary",
                differing.len()
            ),
        );
    }
}

fn report_of(
    chosen: &HeaderCheck,
    primary: HeaderStatus,
    backup: HeaderStatus,
) -> Option<GptReport> {
    let header = chosen.header?;
    Some(GptReport {
        header: chosen.kind,
        header_lba: chosen.lba,
        disk_guid: header.disk_guid,
        first_usable_lba: header.first_usable_lba,
        last_usable_lba: header.last_usable_lba,
        alternate_lba: header.alternate_lba,
        entries_lba: header.entries_lba,
        entry_count: header.entry_count,
        entry_size: header.entry_size,
        primary,
        backup,
    })
}
