use super::*;

#[test]
fn short_entries_round_trip_with_the_cluster_split_in_two_halves() {
    let entry = ShortEntry {
        name: *b"KERNEL  EFI",
        attributes: ATTR_ARCHIVE,
        case_flags: LOWER_CASE_BASE,
        create_tenths: 150,
        create_time: 0x1234,
        create_date: 0x5678,
        access_date: 0x9ABC,
        first_cluster: 0x0FED_CBA9,
        write_time: 0x1111,
        write_date: 0x2222,
        size: 0xFFFF_FFFF,
    };
    let bytes = entry.encode();
    assert_eq!(le16(&bytes, 20), 0x0FED);
    assert_eq!(le16(&bytes, 26), 0xCBA9);
    assert_eq!(ShortEntry::parse(&bytes), entry);
    assert!(!is_long_name_entry(&bytes));
}

#[test]
fn long_name_entries_are_told_by_their_low_six_attribute_bits() {
    let mut e = [0u8; ENTRY_BYTES];
    e[11] = 0x0F;
    assert!(is_long_name_entry(&e));
    e[11] = 0xCF; // the top two bits are reserved and ignored
    assert!(is_long_name_entry(&e));
    e[11] = 0x1F; // directory | the four LFN bits: not a long name
    assert!(!is_long_name_entry(&e));
}
