use super::*;

const ESP: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const ESP_DISK: [u8; 16] = [
    0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
];

#[test]
fn stored_mixed_endian() {
    let guid: Guid = ESP.parse().unwrap();
    assert_eq!(guid.to_bytes(), ESP_DISK);
    assert_eq!(guid, ESP.to_lowercase().parse().unwrap());
    assert_eq!(Guid::from_bytes(ESP_DISK).to_string(), ESP);
}

#[test]
fn reads_at_the_start_of_a_slice() {
    let mut bytes = ESP_DISK.to_vec();
    bytes.push(0xFF);
    assert_eq!(Guid::read(&bytes).unwrap().to_string(), ESP);
    assert_eq!(Guid::read(&ESP_DISK[..15]), None);
}

#[test]
fn round_trips_every_byte_position() {
    for i in 0..16 {
        let mut bytes = [0u8; 16];
        bytes[i] = 0xA5;
        let guid = Guid::from_bytes(bytes);
        assert_eq!(guid.to_string().parse::<Guid>().unwrap(), guid);
    }
}

#[test]
fn nil() {
    assert!(Guid::NIL.is_nil());
    assert_eq!(
        Guid::NIL.to_string(),
        "00000000-0000-0000-0000-000000000000"
    );
    assert!(!Guid::from_bytes(ESP_DISK).is_nil());
}

#[test]
fn refuses_malformed_text() {
    for bad in [
        "",
        "{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}",
        "C12A7328F81F11D2BA4B00A0C93EC93B",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93",
        "G12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "C12A7328-F81F-11D2-BA4B_00A0C93EC93B",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93BB",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC9é",
    ] {
        let error = bad.parse::<Guid>().unwrap_err();
        assert_eq!(error.to_string(), format!("not a GUID: {bad:?}"));
    }
}
