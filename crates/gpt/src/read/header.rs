//! Checks one GPT header and reads its entry array, without trusting any of its fields.

use std::io::{self, Read, Seek};

use super::disk::Disk;
use super::findings::{Code, Finding};
use super::report::{HeaderKind, HeaderStatus};
use crate::crc32::crc32;
use crate::format::{sectors_for, GPT_ENTRY_SIZE, GPT_HEADER_SIZE, GPT_REVISION};
use crate::header::{has_signature, header_crc, stored_header_crc, Header};

/// The most entry-array bytes the reader will read (and allocate) for one header: 64 times
/// the standard 16 KiB. Larger arrays are reported, not read.
pub(crate) const MAX_ENTRY_ARRAY_BYTES: u64 = 1 << 20;

/// One header as found on disk.
#[derive(Debug)]
pub(crate) struct HeaderCheck {
    pub kind: HeaderKind,
    pub lba: u64,
    pub status: HeaderStatus,
    /// The decoded fields, when the signature is there.
    pub header: Option<Header>,
    /// The `entry_count * entry_size` bytes of its entry array, when they could be read.
    pub entries: Option<Vec<u8>>,
    pub problems: Vec<Finding>,
}

impl HeaderCheck {
    /// Partitions can be read through this header (whatever else is wrong with it).
    pub(crate) fn usable(&self) -> bool {
        self.header.is_some() && self.entries.is_some()
    }

    pub(crate) fn describe(&self) -> String {
        describe(self.kind, self.lba)
    }

    fn missing(kind: HeaderKind, lba: u64) -> HeaderCheck {
        HeaderCheck {
            kind,
            lba,
            status: HeaderStatus::Missing,
            header: None,
            entries: None,
            problems: vec![],
        }
    }

    fn problem(&mut self, code: Code, message: String) {
        self.problems.push(Finding { code, message });
    }
}

pub(crate) fn describe(kind: HeaderKind, lba: u64) -> String {
    format!("the {kind} GPT header (LBA {lba})")
}

/// Reads and checks the header at `lba`. Missing when the LBA is off the disk or holds no
/// "EFI PART"; otherwise every problem is listed in `problems`.
pub(crate) fn check_header<R: Read + Seek>(
    disk: &mut Disk<'_, R>,
    kind: HeaderKind,
    lba: u64,
) -> io::Result<HeaderCheck> {
    let Some(sector) = disk.read_sectors(lba, 1)? else {
        return Ok(HeaderCheck::missing(kind, lba));
    };
    let header = match Header::decode(&sector) {
        Some(header) if has_signature(&sector) => header,
        _ => return Ok(HeaderCheck::missing(kind, lba)),
    };
    let mut check = HeaderCheck {
        header: Some(header),
        ..HeaderCheck::missing(kind, lba)
    };
    check_fields(&mut check, &header, &sector);
    check_entry_geometry(&mut check, &header, disk);
    check_usable_range(&mut check, &header, disk.total_sectors());
    if check.entries_are_readable(&header, disk) {
        read_entries(&mut check, &header, disk)?;
    }
    check.status = if check.problems.is_empty() {
        HeaderStatus::Valid
    } else {
        HeaderStatus::Invalid
    };
    Ok(check)
}

fn check_fields(check: &mut HeaderCheck, header: &Header, sector: &[u8]) {
    let who = check.describe();
    if header.revision != GPT_REVISION {
        check.problem(
            Code::GptHeaderRevision,
            format!(
                "{who} has revision 0x{:08X}; UEFI defines only 0x{GPT_REVISION:08X} (1.0)",
                header.revision
            ),
        );
    }
    let size_ok =
        (GPT_HEADER_SIZE as usize..=sector.len()).contains(&(header.header_size as usize));
    if !size_ok {
        check.problem(
            Code::GptHeaderSize,
            format!(
                "{who} gives its size as {} bytes; it must be {GPT_HEADER_SIZE} to {} (its CRC cannot be checked)",
                header.header_size,
                sector.len()
            ),
        );
    } else if let (Some(stored), Some(computed)) = (
        stored_header_crc(sector),
        header_crc(sector, header.header_size),
    ) {
        if stored != computed {
            check.problem(
                Code::GptHeaderCrc,
                format!("{who} has CRC 0x{stored:08X}, but its contents give 0x{computed:08X}: it is damaged"),
            );
        }
    }
    if header.my_lba != check.lba {
        check.problem(
            Code::GptHeaderMyLba,
            format!("{who} says it is at LBA {}", header.my_lba),
        );
    }
}

/// Bytes of the entry array the header describes (u32 × u32 always fits a u64).
fn entry_array_bytes(header: &Header) -> u64 {
    u64::from(header.entry_count) * u64::from(header.entry_size)
}

fn is_valid_entry_size(size: u32) -> bool {
    size >= GPT_ENTRY_SIZE
        && size.is_multiple_of(GPT_ENTRY_SIZE)
        && (size / GPT_ENTRY_SIZE).is_power_of_two()
}

/// Entry size, array size and where the array lies.
fn check_entry_geometry<R>(check: &mut HeaderCheck, header: &Header, disk: &Disk<'_, R>) {
    let who = check.describe();
    if !is_valid_entry_size(header.entry_size) {
        check.problem(
            Code::GptEntrySize,
            format!(
                "{who} gives an entry size of {} bytes; it must be 128 × 2^n (128, 256, ...)",
                header.entry_size
            ),
        );
    }
    let bytes = entry_array_bytes(header);
    if bytes > MAX_ENTRY_ARRAY_BYTES {
        check.problem(
            Code::GptEntryArrayTooLarge,
            format!(
                "{who} describes {} entries of {} bytes ({bytes} bytes); more than {MAX_ENTRY_ARRAY_BYTES} bytes are not read",
                header.entry_count, header.entry_size
            ),
        );
        return;
    }
    let sectors = sectors_for(bytes, disk.sector_size);
    let first = header.entries_lba;
    let last = first.saturating_add(sectors.saturating_sub(1));
    let (from_to, covers) = (format!("LBAs {first}-{last}"), |lba: u64| {
        sectors > 0 && first <= lba && lba <= last
    });
    let problem = if !disk.holds(first, sectors) {
        Some(format!(
            "puts its entry array at {from_to}, past the end of the disk (last LBA {})",
            disk.total_sectors().saturating_sub(1)
        ))
    } else if covers(0) || covers(1) || covers(check.lba) {
        Some(format!(
            "puts its entry array at {from_to}, over the MBR or a header"
        ))
    } else if sectors > 0
        && header.first_usable_lba <= header.last_usable_lba
        && first <= header.last_usable_lba
        && header.first_usable_lba <= last
    {
        Some(format!(
            "puts its entry array at {from_to}, inside the usable LBAs {}-{}",
            header.first_usable_lba, header.last_usable_lba
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        check.problem(Code::GptEntryArrayLocation, format!("{who} {problem}"));
    }
}

impl HeaderCheck {
    fn entries_are_readable<R>(&self, header: &Header, disk: &Disk<'_, R>) -> bool {
        let bytes = entry_array_bytes(header);
        is_valid_entry_size(header.entry_size)
            && bytes <= MAX_ENTRY_ARRAY_BYTES
            && disk.holds(header.entries_lba, sectors_for(bytes, disk.sector_size))
    }
}

/// The usable LBAs must be a non-empty range on the disk that leaves the tables alone.
fn check_usable_range(check: &mut HeaderCheck, header: &Header, total_sectors: u64) {
    let (first, last) = (header.first_usable_lba, header.last_usable_lba);
    let inside = |lba: u64| first <= lba && lba <= last;
    let problem = if first > last {
        "an empty range".to_string()
    } else if last >= total_sectors {
        format!(
            "past the end of the disk (last LBA {})",
            total_sectors.saturating_sub(1)
        )
    } else if inside(0) || inside(1) || inside(check.lba) {
        "over the MBR or the header".to_string()
    } else if header.alternate_lba < total_sectors && inside(header.alternate_lba) {
        format!(
            "over the other header, which it places at LBA {}",
            header.alternate_lba
        )
    } else {
        return;
    };
    let who = check.describe();
    check.problem(
        Code::GptUsableRange,
        format!("{who} gives usable LBAs {first}-{last}: {problem}"),
    );
}

fn read_entries<R: Read + Seek>(
    check: &mut HeaderCheck,
    header: &Header,
    disk: &mut Disk<'_, R>,
) -> io::Result<()> {
    let bytes = entry_array_bytes(header);
    let offset = header.entries_lba * u64::from(disk.sector_size); // on the disk: fits
    let Some(entries) = disk.read_at(offset, bytes as usize)? else {
        return Ok(());
    };
    let computed = crc32(&entries);
    if computed != header.entries_crc {
        let who = check.describe();
        check.problem(
            Code::GptEntriesCrc,
            format!(
                "the entry array of {who} (LBA {}) has CRC 0x{computed:08X}, but the header expects 0x{:08X}: the entries are damaged",
                header.entries_lba, header.entries_crc
            ),
        );
    }
    check.entries = Some(entries);
    Ok(())
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
