use std::fs;
use std::process::Command;

use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_fat32::{
    minimum_size, plan, scan, volume_label, write, FormatOptions, Source, Target,
};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("EFI/BOOT")).unwrap();
    fs::write(src.join("EFI/BOOT/BOOTX64.EFI"), vec![7u8; 100_000]).unwrap();
    fs::write(src.join("EFI/readme.txt"), b"hello").unwrap();
    fs::write(src.join("Long File Name.conf"), b"x = 1\n").unwrap();
    fs::write(src.join("empty"), b"").unwrap();
    let tree = scan(&[Source {
        source: src.clone(),
        target: "/".into(),
    }])
    .unwrap();
    let options = FormatOptions {
        partition_offset: 1 << 20,
        bytes_per_sector: 512,
        cluster_size: None,
        label: Some(volume_label("esp").unwrap()),
        volume_id: 0x1234_abcd,
        timestamp: Some(1_700_000_000),
        min_free: 0,
    };
    let min = minimum_size(&tree, &options).unwrap();
    eprintln!("min {min}");
    let layout = plan(&tree, &options, 64 << 20).unwrap();
    eprintln!("{:?}", layout.summary());
    let image_path = dir.path().join("disk.img");
    let image = fs::File::create(&image_path).unwrap();
    image.set_len(65 << 20).unwrap();
    let target = Target {
        image: &image,
        image_name: "disk.img",
        state: Destination::Zeroed,
    };
    write(
        &layout,
        &target,
        &mut CopyEngine::new(CopyMode::Auto),
        &mut |_| true,
    )
    .unwrap();
    let out = Command::new("mdir")
        .args(["-/", "-i"])
        .arg(format!("{}@@1M", image_path.display()))
        .arg("::")
        .output()
        .unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let part = dir.path().join("part.img");
    let status = Command::new("dd")
        .arg(format!("if={}", image_path.display()))
        .arg(format!("of={}", part.display()))
        .args(["bs=1M", "skip=1", "count=64", "status=none"])
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("fsck.fat")
        .args(["-n", "-V"])
        .arg(&part)
        .output()
        .unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    panic!("show");
}
