use super::*;

const C: u64 = CLUSTER_SIZE;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn range(offset: u64, length: u64) -> DataRange {
    DataRange { offset, length }
}

fn be64(bytes: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Every L2 entry of the plan, as (guest cluster, host offset), table by table.
fn mapping(plan: &Qcow2Plan) -> Vec<(u64, u64)> {
    let mut cursor = RunCursor::default();
    let mut out = Vec::new();
    for table in &plan.l2_tables {
        let (first, bytes) = encode_l2_span(plan, table, &mut cursor).expect("used table");
        for (n, entry) in bytes.chunks(8).enumerate() {
            let entry = u64::from_be_bytes(entry.try_into().unwrap());
            if entry != 0 {
                assert_eq!(entry & COPIED, COPIED);
                out.push((
                    table.l1_index * L2_ENTRIES + first + n as u64,
                    entry & !COPIED,
                ));
            }
        }
    }
    out
}

#[test]
fn an_empty_image_is_header_l1_and_refcounts_only() {
    let plan = plan_qcow2(MIB, &[]).unwrap();
    assert_eq!(plan.l1_entries, 1);
    assert!(plan.l2_tables.is_empty());
    assert_eq!(plan.data_clusters(), 0);
    assert_eq!(
        (
            plan.l1_offset,
            plan.refcount_table_offset,
            plan.refcount_blocks_offset
        ),
        (C, 2 * C, 3 * C)
    );
    assert_eq!(plan.host_clusters, 4);
    assert_eq!(plan.file_length(), 4 * C);
    assert_eq!(encode_refcount_block(&plan, 0), [0, 1].repeat(4));
    assert_eq!(encode_refcount_table(&plan), (3 * C).to_be_bytes());
}

#[test]
fn the_header_holds_the_plan() {
    let plan = plan_qcow2(64 * GIB, &[range(0, MIB), range(40 * GIB, 3 * MIB)]).unwrap();
    let header = encode_header(&plan);
    assert_eq!(&header[..4], b"QFI\xfb");
    assert_eq!(be32(&header, 4), 3);
    assert_eq!(be64(&header, 8), 0, "no backing file");
    assert_eq!(be32(&header, 20), 16);
    assert_eq!(be64(&header, 24), 64 * GIB);
    assert_eq!(be32(&header, 36), 128, "one L1 entry per 512 MiB");
    assert_eq!(be64(&header, 40), plan.l1_offset);
    assert_eq!(be64(&header, 48), plan.refcount_table_offset);
    assert_eq!(be32(&header, 56), 1);
    assert_eq!(be64(&header, 72), 0, "no incompatible features");
    assert_eq!(be32(&header, 96), 4);
    assert_eq!(be32(&header, 100), 112);
    assert_eq!(&header[112..120], &[0; 8], "end of header extensions");
    assert_eq!(plan.l2_tables.len(), 2);
    assert_eq!(plan.l2_tables[1].l1_index, 80);
    assert_eq!(plan.data_clusters(), 16 + 48);
}

#[test]
fn data_in_the_last_partial_cluster_gets_a_cluster() {
    let size = 10 * C + 512;
    let plan = plan_qcow2(size, &[range(size - 512, 512)]).unwrap();
    assert_eq!(
        plan.data_runs,
        vec![UnitRun {
            first: 10,
            count: 1
        }]
    );
    assert_eq!(mapping(&plan), vec![(10, plan.data_offset)]);
    assert_eq!(plan.data_offset % C, 0);
    assert_eq!(plan.file_length(), plan.data_offset + C);
}

#[test]
fn ranges_straddling_clusters_map_each_touched_cluster_once_in_guest_order() {
    let plan = plan_qcow2(
        MIB,
        &[
            range(C - 4096, 8192),
            range(5 * C + 1, 10),
            range(5 * C + 100, 1),
        ],
    )
    .unwrap();
    let d = plan.data_offset;
    assert_eq!(mapping(&plan), vec![(0, d), (1, d + C), (5, d + 2 * C)]);
}

#[test]
fn a_range_covering_everything_of_an_odd_size_maps_every_cluster() {
    let size = GIB + 512; // 16385 clusters: three L2 tables, the last with one entry
    let plan = plan_qcow2(size, &[range(0, size)]).unwrap();
    assert_eq!(plan.l1_entries, 3);
    assert_eq!(plan.l2_tables.len(), 3);
    assert_eq!(plan.data_clusters(), 16385);
    let map = mapping(&plan);
    assert_eq!(map.len(), 16385);
    assert!(map
        .iter()
        .enumerate()
        .all(|(n, &(guest, host))| guest == n as u64 && host == plan.data_offset + n as u64 * C));
    // Every cluster of the file has a refcount, none beyond it.
    let counted: usize = (0..plan.refcount_blocks)
        .map(|n| encode_refcount_block(&plan, n).len() / 2)
        .sum();
    assert_eq!(counted as u64, plan.host_clusters);
    assert_eq!(plan.file_length(), plan.data_offset + 16385 * C);
}

#[test]
fn a_run_crossing_an_l2_table_boundary_continues_in_the_next_table() {
    let start = (L2_ENTRIES - 2) * C;
    let plan = plan_qcow2(2 * GIB, &[range(start, 4 * C)]).unwrap();
    let d = plan.data_offset;
    assert_eq!(
        plan.l2_tables
            .iter()
            .map(|t| t.l1_index)
            .collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(
        mapping(&plan),
        vec![
            (L2_ENTRIES - 2, d),
            (L2_ENTRIES - 1, d + C),
            (L2_ENTRIES, d + 2 * C),
            (L2_ENTRIES + 1, d + 3 * C)
        ]
    );
}

#[test]
fn refcount_structures_cover_themselves() {
    for other in [
        1,
        100,
        REFCOUNTS_PER_BLOCK - 2,
        REFCOUNTS_PER_BLOCK - 1,
        REFCOUNTS_PER_BLOCK,
        5 << 20,
        1 << 30,
    ] {
        let (blocks, table) = refcount_structures(other);
        let total = other + blocks + table;
        assert!(blocks * REFCOUNTS_PER_BLOCK >= total, "{other}");
        assert!(
            (blocks - 1) * REFCOUNTS_PER_BLOCK < total,
            "{other}: no spare block"
        );
        assert!(table * C / 8 >= blocks);
    }
    // 32767 other clusters + 1 block + 1 table cluster = 32769: a second block is needed.
    assert_eq!(refcount_structures(REFCOUNTS_PER_BLOCK - 1), (2, 1));
}

#[test]
fn sizes_qcow2_cannot_hold_are_refused() {
    assert!(plan_qcow2(0, &[])
        .unwrap_err()
        .to_string()
        .starts_with("virtualSize: 0 bytes"));
    assert!(plan_qcow2(MIB + 1, &[]).is_err());
    assert!(plan_qcow2(4 << 50, &[])
        .unwrap_err()
        .to_string()
        .contains("2 PiB"));
    assert!(plan_qcow2(2 << 50, &[]).is_ok());
    assert!(plan_qcow2(MIB, &[range(MIB - 1, 2)])
        .unwrap_err()
        .to_string()
        .starts_with("dataRanges[0]"));
}
