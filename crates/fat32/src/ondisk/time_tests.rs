use super::*;

#[test]
fn decoding_inverts_encoding_at_two_second_precision() {
    for t in [
        FAT_EPOCH,
        FAT_EPOCH + 1,
        951_782_399, // 2000-02-28T23:59:59Z
        951_782_400, // 2000-02-29
        1_709_214_317,
        4_107_542_400, // 2100-03-01: 2100 is not a leap year
        FAT_END,
    ] {
        let (date, time) = fat_timestamp(t);
        assert_eq!(unix_from_fat(date, time), Some(t - t.rem_euclid(2)), "{t}");
    }
}

#[test]
fn impossible_dates_and_times_decode_to_none() {
    let date = |y: u16, m: u16, d: u16| ((y - 1980) << 9) | (m << 5) | d;
    assert_eq!(unix_from_fat(0, 0), None, "month 0 day 0: never set");
    assert_eq!(unix_from_fat(date(2001, 2, 29), 0), None);
    assert_eq!(unix_from_fat(date(2100, 2, 29), 0), None);
    assert!(unix_from_fat(date(2000, 2, 29), 0).is_some());
    assert_eq!(unix_from_fat(date(2001, 13, 1), 0), None);
    assert_eq!(unix_from_fat(date(2001, 4, 31), 0), None);
    assert_eq!(unix_from_fat(date(2001, 1, 1), 24 << 11), None);
    assert_eq!(unix_from_fat(date(2001, 1, 1), 60 << 5), None);
    assert_eq!(unix_from_fat(date(2001, 1, 1), 30), None);
    assert_eq!(unix_from_fat(date(2001, 1, 1), 29), Some(978_307_258));
}
