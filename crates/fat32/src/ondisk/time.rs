//! FAT timestamps: a 16-bit date (years since 1980, month, day) and a 16-bit time (hours,
//! minutes, 2-second units). The spec says local time; imgforge writes and reads UTC, as
//! reproducible builds need a fixed zone.

/// 1980-01-01T00:00:00Z, the first instant FAT can store.
pub(crate) const FAT_EPOCH: i64 = 315_532_800;
/// 2107-12-31T23:59:58Z, the last.
pub(crate) const FAT_END: i64 = 4_354_819_198;

/// FAT date and time for seconds since the Unix epoch, clamped to FAT's 1980-2107 range.
pub(crate) fn fat_timestamp(unix_seconds: i64) -> (u16, u16) {
    let t = unix_seconds.clamp(FAT_EPOCH, FAT_END);
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let date = (((year - 1980) << 9) | (month << 5) | day) as u16;
    let (hours, minutes, seconds) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let time = ((hours << 11) | (minutes << 5) | (seconds / 2)) as u16;
    (date, time)
}

/// Seconds since the Unix epoch of a FAT date and time read as UTC; None when a field is out
/// of range (month 0, February 30, hour 24, ...), as in entries no one ever dated.
pub(crate) fn unix_from_fat(date: u16, time: u16) -> Option<i64> {
    let year = 1980 + i64::from(date >> 9);
    let month = i64::from((date >> 5) & 0x0F);
    let day = i64::from(date & 0x1F);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (hours, minutes, halves) = (time >> 11, (time >> 5) & 0x3F, time & 0x1F);
    if hours > 23 || minutes > 59 || halves > 29 {
        return None;
    }
    let seconds = i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(halves) * 2;
    Some(days_from_civil(year, month, day) * 86_400 + seconds)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of civil_from_days.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
