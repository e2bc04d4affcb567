use super::*;

const MIB: u64 = 1 << 20;

fn identity() -> VhdIdentity {
    VhdIdentity {
        unique_id: [7; 16],
        timestamp: 0x1234_5678,
    }
}

#[test]
fn geometry_follows_the_spec_appendix() {
    // 127 MiB = 260096 sectors: 17 sectors per track gives 15299 cylinders x heads, so
    // ceil(15299 / 1024) = 15 heads and 1019 cylinders.
    let g = geometry(127 * MIB / 512);
    assert_eq!((g.cylinders, g.heads, g.sectors_per_track), (1019, 15, 17));
    // Small disks still have 4 heads.
    assert_eq!(
        geometry(2048),
        Geometry {
            cylinders: 30,
            heads: 4,
            sectors_per_track: 17
        }
    );
    // 1 GiB: 17 sectors would need 121 heads, so 63 sectors and 16 heads.
    assert_eq!(
        geometry(2 << 20),
        Geometry {
            cylinders: 2080,
            heads: 16,
            sectors_per_track: 63
        }
    );
    // From 65535 x 16 x 63 sectors on, 255 sectors per track; capped at 65535 x 16 x 255.
    assert_eq!(
        geometry(65535 * 16 * 63),
        Geometry {
            cylinders: 16191,
            heads: 16,
            sectors_per_track: 255
        }
    );
    assert_eq!(
        geometry(u64::MAX / 512),
        Geometry {
            cylinders: 65535,
            heads: 16,
            sectors_per_track: 255
        }
    );
    for sectors in [1u64, 1000, 100_000, 5_000_000, 60_000_000] {
        let g = geometry(sectors);
        let chs = g.cylinders as u64 * g.heads as u64 * g.sectors_per_track as u64;
        assert!(
            chs <= sectors,
            "{sectors}: the geometry never exceeds the disk"
        );
    }
}

#[test]
fn the_footer_has_every_field_and_a_valid_checksum() {
    let footer = encode_footer(64 * MIB, DiskType::Fixed, None, &identity());
    assert_eq!(&footer[..8], b"conectix");
    assert_eq!(&footer[8..12], &[0, 0, 0, 2]);
    assert_eq!(&footer[12..16], &[0, 1, 0, 0]);
    assert_eq!(&footer[16..24], &[0xff; 8]);
    assert_eq!(&footer[24..28], &[0x12, 0x34, 0x56, 0x78]);
    assert_eq!(&footer[28..32], b"qem2");
    assert_eq!(&footer[36..40], b"Wi2k");
    assert_eq!(
        u64::from_be_bytes(footer[40..48].try_into().unwrap()),
        64 * MIB
    );
    assert_eq!(
        u64::from_be_bytes(footer[48..56].try_into().unwrap()),
        64 * MIB
    );
    // 131072 sectors / 17 = 7710 cylinders x heads: 8 heads, 963 cylinders.
    assert_eq!(&footer[56..60], &[0x03, 0xc3, 8, 17][..]);
    assert_eq!(&footer[60..64], &[0, 0, 0, 2]);
    assert_eq!(&footer[68..84], &[7; 16]);
    assert!(footer[84..].iter().all(|&b| b == 0));
    // The checksum: one's complement of the byte sum without the field.
    let sum: u32 = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .map(|(_, &b)| b as u32)
        .sum();
    assert_eq!(u32::from_be_bytes(footer[64..68].try_into().unwrap()), !sum);
}

#[test]
fn fixed_vhds_are_whole_mib() {
    let plan = plan_vhd_fixed(3 * MIB, &[], &identity()).unwrap();
    assert_eq!(plan.file_length(), 3 * MIB + 512);
    let error = plan_vhd_fixed(3 * MIB + 512, &[], &identity())
        .unwrap_err()
        .to_string();
    assert_eq!(error, format!("virtualSize: a fixed VHD must be a whole number of MiB (Azure requires it), and {} bytes is not: make the disk 4 MiB", 3 * MIB + 512));
    assert!(plan_vhd_fixed(0, &[], &identity()).is_err());
}
