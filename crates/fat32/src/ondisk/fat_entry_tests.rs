use super::*;

#[test]
fn entries_are_classified_on_their_low_28_bits() {
    assert_eq!(FatEntry::from_raw(0), FatEntry::Free);
    assert_eq!(FatEntry::from_raw(0xF000_0000), FatEntry::Free);
    assert_eq!(FatEntry::from_raw(1), FatEntry::Next(1));
    assert_eq!(FatEntry::from_raw(0x1000_0005), FatEntry::Next(5));
    assert_eq!(FatEntry::from_raw(0x0FFF_FFF6), FatEntry::Next(0x0FFF_FFF6));
    assert_eq!(FatEntry::from_raw(BAD_CLUSTER), FatEntry::Bad);
    assert_eq!(FatEntry::from_raw(0xFFFF_FFF7), FatEntry::Bad);
    for raw in [END_OF_CHAIN_MIN, 0x0FFF_FFFC, END_OF_CHAIN, u32::MAX] {
        assert_eq!(FatEntry::from_raw(raw), FatEntry::EndOfChain);
    }
}
