#[test]
fn sizes_are_described_in_the_largest_fitting_unit() {
    assert_eq!(super::describe_size(512), "512 B (512 bytes)");
    assert_eq!(
        super::describe_size(34_865_152),
        "33.25 MiB (34865152 bytes)"
    );
    assert_eq!(
        super::describe_size(3 << 40),
        "3.00 TiB (3298534883328 bytes)"
    );
}
