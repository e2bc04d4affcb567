//! The reader on volumes others made: imgforge's writer (random trees and options) read back
//! exactly as the plan and the spec-based test reader (`fatread`) see them, and volumes made
//! by mkfs.fat and filled by `mcopy -s` read back as mdir, mcopy and fsck.fat show them.

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use common::*;
use imgforge_copy::{CopyMode, Destination};
use imgforge_fat32::{verify, volume_label, EntryKind, FormatOptions, Volume};

fn open(image: &Path, offset: u64, size: u64) -> Volume<File> {
    Volume::open(File::open(image).unwrap(), offset, size)
        .unwrap()
        .expect("a FAT32 volume")
}

/// The options and the partition offset.
fn random_options(rng: &mut Rng) -> (FormatOptions, u64) {
    let sector = rng.pick(&[512, 4096]);
    let cluster_size = match rng.pick(&[0, 512, 2048, 4096, 8192]) {
        0 => None,
        c => Some(c.max(sector)),
    };
    let offsets: &[u64] = if sector == 512 {
        &[0, MIB, 17 * 512]
    } else {
        &[0, MIB]
    };
    let offset = rng.pick(offsets);
    let options = FormatOptions {
        bytes_per_sector: sector,
        cluster_size,
        label: rng.chance(1, 2).then(|| volume_label("READ BACK").unwrap()),
        volume_id: rng.next_u64() as u32,
        timestamp: rng.chance(1, 3).then_some(1_700_000_001),
        min_free: 0,
    };
    (options, offset)
}

#[test]
fn imgforge_images_read_back_exactly() {
    for seed in 0..8 {
        let mut rng = Rng::new(seed + 300);
        let (options, offset) = random_options(&mut rng);
        let cluster = u64::from(options.cluster_size.unwrap_or(4096));
        let (dir, src, tree) = random_source(seed + 300, &small_shape(cluster));
        let size = tree.minimum_size_at(&options, offset).unwrap() + rng.below(64) * 4096;
        let layout = tree.plan(&options, offset, size).unwrap();
        let image = dir.path().join("disk.img");
        sized_image(&image, offset + size + MIB, None);
        write_plan(&layout, &image, Destination::Zeroed, CopyMode::Auto);

        let mut volume = open(&image, offset, size);
        assert_eq!(volume.findings(), [], "seed {seed}: {options:?}");
        let (got, want) = (volume.summary().clone(), layout.summary());
        assert_eq!(
            (
                got.cluster_size,
                got.clusters,
                got.used_clusters,
                got.free_clusters
            ),
            (
                want.cluster_size,
                want.clusters,
                want.used_clusters,
                want.free_clusters
            ),
            "seed {seed}"
        );
        assert_eq!(
            (got.directories, got.files, got.file_bytes),
            (want.directories, want.files, want.file_bytes),
            "seed {seed}"
        );
        assert_eq!(got.fsinfo_free_clusters, Some(want.free_clusters));
        assert_eq!(got.volume_id, options.volume_id);
        let label = options
            .label
            .map(|l| String::from_utf8_lossy(&l).trim_end().to_string());
        assert_eq!(got.label, label);

        // The listing is fatread's, entry for entry.
        let expected = fatread::read(&image, offset).entries;
        let listed: BTreeMap<String, (bool, u32, Option<i64>)> = volume
            .listing()
            .into_iter()
            .map(|e| (e.path, (e.kind == EntryKind::Directory, e.size, e.modified)))
            .collect();
        let from_fatread: BTreeMap<String, (bool, u32, Option<i64>)> = expected
            .into_iter()
            .map(|(path, e)| (path, (e.dir, e.size, Some(e.mtime))))
            .collect();
        assert_eq!(listed, from_fatread, "seed {seed}");
        assert_eq!(
            verify(tree.tree(), &mut volume),
            [],
            "seed {seed}: against {}",
            src.display()
        );
    }
}

/// A tree of names mtools writes exactly (it cannot encode characters outside the BMP).
fn mtools_tree(root: &Path) {
    let names = [
        "README.TXT",
        "readme.md",
        "Long file name with spaces.txt",
        "Ünïcödé and more.bin",
        "日本語のファイル",
        "a.b.c.d",
        "MiXeD.CaSe",
        "x",
    ];
    let sizes = [0u64, 1, 511, 512, 513, 4096, 20_000, 300_000];
    let mut dir = root.to_path_buf();
    for depth in 0..4 {
        fs::create_dir_all(&dir).unwrap();
        for (i, name) in names.iter().enumerate() {
            let size = sizes[(i + depth) % sizes.len()];
            fs::write(dir.join(name), random_bytes((depth * 10 + i) as u64, size)).unwrap();
        }
        fs::create_dir_all(dir.join("Empty Folder")).unwrap();
        dir = dir.join(format!("Level {depth} directory"));
    }
}

#[test]
fn mkfs_fat_and_mcopy_volumes_read_back_as_mtools_shows_them() {
    for (sectors_per_cluster, kib) in [("1", "40000"), ("8", "300000")] {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        mtools_tree(&src);
        let image = dir.path().join("mkfs.img");
        let output = run(tool("mkfs.fat")
            .args([
                "-F",
                "32",
                "-s",
                sectors_per_cluster,
                "-n",
                "MKFS VOL",
                "-i",
                "1234ABCD",
                "-C",
            ])
            .arg(&image)
            .arg(kib));
        assert!(output.status.success(), "{}", output_text(&output));
        let mut copy = tool("mcopy");
        copy.args(["-s", "-m", "-i"]).arg(&image);
        for entry in fs::read_dir(&src).unwrap() {
            copy.arg(entry.unwrap().path());
        }
        let output = run(copy.arg("::/"));
        assert!(output.status.success(), "mcopy: {}", output_text(&output));

        let size = fs::metadata(&image).unwrap().len();
        let mut volume = open(&image, 0, size);
        assert_eq!(volume.findings(), [], "-s {sectors_per_cluster}");
        let summary = volume.summary().clone();
        assert_eq!(summary.label.as_deref(), Some("MKFS VOL"));
        assert_eq!(summary.volume_id, 0x1234_ABCD);
        assert_eq!(
            summary.cluster_size,
            512 * sectors_per_cluster.parse::<u32>().unwrap()
        );
        check_against_fsck(&image, size, &summary);
        check_against_mdir(&image, &volume);
        check_against_mcopy(&image, dir.path(), &mut volume);
        // Names, kinds, sizes and bytes as the sources have them; times as mcopy -m kept them.
        assert_eq!(verify(scan_root(&src).tree(), &mut volume), []);
        for (path, want) in expected_tree(&src) {
            if let Want::File { mtime, .. } = want {
                let index = volume
                    .tree_order()
                    .into_iter()
                    .find(|&i| volume.path(i) == path);
                let entry = &volume.entries()[index.unwrap()];
                assert_eq!(entry.modified, Some(fat_time(mtime)), "{path}");
            }
        }
    }
}

/// fsck.fat's last line: "<files> files, <used>/<total> clusters".
fn check_against_fsck(image: &Path, size: u64, summary: &imgforge_fat32::VolumeSummary) {
    let output = run(tool("fsck.fat").args(["-n"]).arg(image));
    let text = output_text(&output);
    assert!(output.status.success(), "fsck.fat: {text}");
    let want = format!(
        "{}: {{}} files, {}/{} clusters",
        image.display(),
        summary.used_clusters,
        summary.clusters
    );
    let last = text.lines().last().unwrap();
    let (head, tail) = want.split_once("{}").unwrap();
    assert!(
        last.starts_with(head) && last.ends_with(tail),
        "fsck.fat says {last:?}, we say {summary:?} ({size} bytes)"
    );
    let free = run(tool("minfo").arg("-i").arg(image).arg("::"));
    let free_line = format!("free clusters={}", summary.free_clusters);
    assert!(
        output_text(&free).lines().any(|l| l == free_line),
        "minfo lacks {free_line:?}"
    );
}

/// `mdir -/ -b` lists every path (directories with a trailing '/'), as the listing does.
fn check_against_mdir(image: &Path, volume: &Volume<File>) {
    let output = run(tool("mdir").args(["-/", "-b", "-i"]).arg(image).arg("::"));
    assert!(output.status.success(), "mdir: {}", output_text(&output));
    let mut from_mdir: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("::").unwrap_or(l).to_string())
        .collect();
    let mut listed: Vec<String> = volume
        .listing()
        .into_iter()
        .map(|e| {
            e.path
                + if e.kind == EntryKind::Directory {
                    "/"
                } else {
                    ""
                }
        })
        .collect();
    from_mdir.sort();
    listed.sort();
    assert_eq!(listed, from_mdir);
}

/// Every file read by the reader has the bytes `mcopy` extracts.
fn check_against_mcopy(image: &Path, dir: &Path, volume: &mut Volume<File>) {
    let out = dir.join("mcopy-out");
    fs::create_dir(&out).unwrap();
    let output = run(tool("mcopy")
        .args(["-s", "-n", "-i"])
        .arg(image)
        .arg("::/")
        .arg(&out));
    assert!(
        output.status.success(),
        "mcopy out: {}",
        output_text(&output)
    );
    let mut files = 0;
    for index in volume.tree_order() {
        if volume.entries()[index].kind != EntryKind::File {
            continue;
        }
        let path = volume.path(index);
        let mut got = Vec::new();
        volume
            .open_file(index)
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        let want = fs::read(out.join(&path[1..])).unwrap();
        assert!(got == want, "{path}: bytes differ from mcopy's");
        files += 1;
    }
    assert!(files > 20, "{files} files");
}
