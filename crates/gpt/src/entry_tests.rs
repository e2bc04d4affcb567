use super::*;

fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

fn sample() -> Entry {
    Entry {
        type_guid: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B".parse().unwrap(),
        unique_guid: "01234567-89AB-CDEF-0123-456789ABCDEF".parse().unwrap(),
        first_lba: 2048,
        last_lba: 4095,
        attributes: 1 << 63 | 1,
        name: name_units(&utf16("ÉFI 😀")).unwrap(),
    }
}

#[test]
fn encodes_pinned_bytes() {
    let bytes = sample().encode();
    assert_eq!(&bytes[..4], &[0x28, 0x73, 0x2A, 0xC1]);
    assert_eq!(&bytes[16..20], &[0x67, 0x45, 0x23, 0x01]);
    assert_eq!(&bytes[32..40], &2048u64.to_le_bytes());
    assert_eq!(&bytes[40..48], &4095u64.to_le_bytes());
    assert_eq!(&bytes[48..56], &[1, 0, 0, 0, 0, 0, 0, 0x80]);
    // É, F, I, space, then 😀 as the surrogate pair D83D DE00
    assert_eq!(
        &bytes[56..68],
        &[0xC9, 0, 0x46, 0, 0x49, 0, 0x20, 0, 0x3D, 0xD8, 0x00, 0xDE]
    );
    assert!(bytes[68..].iter().all(|&b| b == 0));
}

#[test]
fn decodes_what_it_encodes() {
    let entry = sample();
    assert_eq!(Entry::decode(&entry.encode()), Some(entry));
    assert_eq!(entry.name_lossy(), "ÉFI 😀");
    assert!(entry.is_used());
    assert_eq!(Entry::decode(&entry.encode()[..127]), None);
}

#[test]
fn names_stop_at_nul_and_survive_bad_utf16() {
    assert_eq!(name_lossy(&[0x61, 0, 0x62]), "a");
    assert_eq!(name_lossy(&[0xD800, 0x61]), "\u{FFFD}a");
    assert_eq!(name_lossy(&[]), "");
    let full: Vec<u16> = (0..36).map(|i| 0x41 + i).collect();
    assert_eq!(name_lossy(&full).chars().count(), 36);
}

#[test]
fn name_units_fit_36() {
    assert!(name_units(&[0x41; 36]).is_some());
    assert_eq!(name_units(&[0x41; 37]), None);
    assert_eq!(name_units(&[]), Some([0; 36]));
}

#[test]
fn unused_entries() {
    let entry = Entry {
        type_guid: Guid::NIL,
        ..sample()
    };
    assert!(!entry.is_used());
}
