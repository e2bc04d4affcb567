use std::fs;
use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_fat32::*;

#[test]
fn explore() {
    let base = std::path::PathBuf::from(std::env::var("EXPLORE_DIR").unwrap());
    let src = base.join("src");
    let _ = fs::remove_dir_all(&src);
    fs::create_dir_all(src.join("empty dir")).unwrap();
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    let names = ["é.txt", "Straße", "日本語ファイル.txt", "emoji 😀 file.bin", ".hidden", "a.b.c.d", "with space .x", "UPPER.TXT", "lower.txt", "MiXeD.TxT", "longname-1.txt", "longname-2.txt", "Long Name 1.conf", " leading space", "LONGNA~1.TXT", "a+b,c;d=e[f]g.txt", "x(1)&'~!@#$%^{}`.txt", "😀", "😀😁.🎉", "..dots"];
    for (i, n) in names.iter().enumerate() {
        fs::write(src.join(n), vec![i as u8; i * 100]).unwrap();
    }
    fs::write(src.join("x".repeat(255)), b"255").unwrap();
    fs::write(src.join("a/b/c/deep"), b"deep").unwrap();
    let sector: u32 = std::env::var("SECTOR").map(|s| s.parse().unwrap()).unwrap_or(512);
    let tree = scan(&[Source { source: src.clone(), target: "/".into() }]).unwrap();
    let options = FormatOptions {
        partition_offset: 1 << 20,
        bytes_per_sector: sector,
        cluster_size: std::env::var("CLUSTER").ok().map(|s| s.parse().unwrap()),
        label: Some(volume_label("MyLabel").unwrap()),
        volume_id: 0xdeadbeef,
        timestamp: Some(1_700_000_001),
        min_free: 0,
    };
    let min = minimum_size(&tree, &options).unwrap();
    let layout = plan(&tree, &options, min).unwrap();
    eprintln!("{min} {:?}", layout.summary());
    let image_path = base.join("x.img");
    let image = fs::File::create(&image_path).unwrap();
    image.set_len((1 << 20) + min).unwrap();
    let target = Target { image: &image, image_name: "x.img", state: Destination::Zeroed };
    write(&layout, &target, &mut CopyEngine::new(CopyMode::Auto), &mut |_| true).unwrap();
}
