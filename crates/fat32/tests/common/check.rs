//! The reader checks: fsck.fat, mtools (mcopy, mdir, minfo) and the spec-based `fatread`,
//! each compared with the source tree read back from disk.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::Path;

use imgforge_fat32::Plan;

use super::{expected_tree, extract_region, fat_time, fatread, output_text, run, tool, Want};

/// mtools 4.0 decodes long names one UTF-16 unit at a time, so each half of a surrogate pair
/// (every character outside the BMP) comes out as '_'. fsck.fat likewise prints ":XXXX"
/// escapes; only `fatread` checks those names exactly.
pub fn mtools_name(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c > '\u{FFFF}' {
                "__".to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// mtools 4.0 converts FAT dates with a leap day every 4 years, 2100 included, so it reports
/// dates from 2100-03-01 one day late (fatread checks those dates exactly).
pub fn mtools_time(fat_time: i64) -> i64 {
    const MARCH_2100: i64 = 4_107_542_400;
    fat_time + if fat_time >= MARCH_2100 { 86_400 } else { 0 }
}

/// Runs every reader check on the filesystem at `offset` of `image` (`size` bytes), planned
/// by `plan` from the source tree at `source_root` (placed at "/").
pub fn check_readers(image: &Path, size: u64, plan: &Plan, source_root: &Path) {
    check_expected(image, size, plan, &expected_tree(source_root), ALL_READERS);
}

/// Which readers `check_expected` runs; mdir, minfo, fatread and the placements always run.
#[derive(Clone, Copy)]
pub struct Readers {
    pub fsck: bool,
    /// Extracting every file: too slow for files of gigabytes.
    pub mcopy: bool,
}

pub const ALL_READERS: Readers = Readers {
    fsck: true,
    mcopy: true,
};

/// The readers against an expected tree (see `expected_from_sources`).
pub fn check_expected(
    image: &Path,
    size: u64,
    plan: &Plan,
    expected: &BTreeMap<String, Want>,
    readers: Readers,
) {
    let offset = plan.partition_offset();
    let label_entries = usize::from(plan.options().label.is_some());
    if readers.fsck {
        check_fsck(image, offset, size, plan, expected.len() + label_entries);
    }
    if readers.mcopy {
        check_mcopy(image, offset, plan, expected);
    }
    check_mdir(image, offset, plan, expected);
    check_minfo(image, offset, size, plan);
    check_fatread(image, offset, plan, expected);
    let nonempty = expected
        .values()
        .filter(|w| matches!(w, Want::File { size, .. } if *size > 0));
    check_placements(image, plan, nonempty.count());
}

/// (a) fsck.fat -n -V on the extracted partition: exit 0 and nothing but the expected lines.
pub fn check_fsck(image: &Path, offset: u64, size: u64, plan: &Plan, entries: usize) {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("partition.img");
    // fsck.fat has no offset option: it gets the partition in a file of its own.
    extract_region(image, offset, size, &part);
    let output = run(tool("fsck.fat").args(["-n", "-V"]).arg(&part));
    let text = output_text(&output);
    let summary = plan.summary();
    let last = format!(
        "{}: {entries} files, {}/{} clusters",
        part.display(),
        summary.used_clusters,
        summary.clusters
    );
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|line| {
            !(line.starts_with("fsck.fat ") && line.ends_with(')')
                || *line == "Starting check/repair pass."
                || *line == "Starting verification pass."
                || *line == last)
        })
        .collect();
    assert!(
        output.status.success() && unexpected.is_empty() && text.lines().any(|l| l == last),
        "fsck.fat -n -V (status {}) reported {} unexpected lines, first {:?}; expected the summary \
         {last:?}; output:\n{text}",
        output.status,
        unexpected.len(),
        &unexpected[..unexpected.len().min(6)]
    );
}

fn image_arg(image: &Path, offset: u64) -> String {
    format!("{}@@{offset}", image.display())
}

/// What the mtools command `program` prints for the volume at `offset` of `image` (`::`).
fn whole_volume(program: &str, image: &Path, offset: u64) -> String {
    let output = run(tool(program)
        .arg("-i")
        .arg(image_arg(image, offset))
        .arg("::"));
    let text = output_text(&output);
    assert!(output.status.success(), "{program} failed: {text}");
    text
}

/// (b) mcopy -s of the whole filesystem: the same paths (names exact up to mtools' non-BMP
/// limitation), the same bytes, and modification times from the sources or the timestamp.
pub fn check_mcopy(image: &Path, offset: u64, plan: &Plan, expected: &BTreeMap<String, Want>) {
    let out = tempfile::tempdir().unwrap();
    let output = run(tool("mcopy")
        .args(["-s", "-n", "-m", "-i"])
        .arg(image_arg(image, offset))
        .arg("::/")
        .arg(out.path()));
    assert!(
        output.status.success(),
        "mcopy failed: {}",
        output_text(&output)
    );
    let got = expected_tree(out.path());
    let want: BTreeMap<String, &Want> = expected.iter().map(|(p, w)| (mtools_name(p), w)).collect();
    assert_same_paths("mcopy -s", got.keys(), want.keys());
    for (path, want) in want {
        let (
            Want::File {
                source,
                size,
                mtime,
            },
            Want::File {
                source: copy,
                size: got_size,
                mtime: got_mtime,
            },
        ) = (want, &got[&path])
        else {
            let both_dirs = matches!((want, &got[&path]), (Want::Dir { .. }, Want::Dir { .. }));
            assert!(
                both_dirs,
                "{path}: want {want:?}, mcopy gave {:?}",
                got[&path]
            );
            continue;
        };
        assert_eq!(got_size, size, "{path}: size");
        assert!(
            fs::read(source).unwrap() == fs::read(copy).unwrap(),
            "{path}: bytes differ"
        );
        let want_time = mtools_time(fat_time(plan.options().timestamp.unwrap_or(*mtime)));
        assert_eq!(
            *got_mtime, want_time,
            "{path}: modification time (source {mtime})"
        );
    }
}

fn assert_same_paths<'a>(
    what: &str,
    got: impl Iterator<Item = &'a String>,
    want: impl Iterator<Item = &'a String>,
) {
    let got: BTreeSet<&String> = got.collect();
    let want: BTreeSet<&String> = want.collect();
    let missing: Vec<_> = want.difference(&got).take(20).collect();
    let extra: Vec<_> = got.difference(&want).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, unexpected {extra:?} ({} vs {} paths)",
        got.len(),
        want.len()
    );
}

/// (c) mdir -/ -b lists exactly the expected paths (directories with a trailing '/'); (d) its
/// header names the volume label and serial.
pub fn check_mdir(image: &Path, offset: u64, plan: &Plan, expected: &BTreeMap<String, Want>) {
    let output = run(tool("mdir")
        .args(["-/", "-b", "-i"])
        .arg(image_arg(image, offset))
        .arg("::"));
    let text = output_text(&output);
    // mtools 4.0.32 answers an empty root (also one made by mformat) this way.
    let empty_root = expected.is_empty() && text.trim_end() == "mdir: File \"::\" not found";
    assert!(
        output.status.success() || empty_root,
        "mdir -/ -b failed: {text}"
    );
    let lines: Vec<String> = text
        .lines()
        .filter(|_| !empty_root)
        .map(|l| l.strip_prefix("::").unwrap_or(l).to_string())
        .collect();
    let want: Vec<String> = expected
        .iter()
        .map(|(path, w)| {
            mtools_name(path)
                + if matches!(w, Want::Dir { .. }) {
                    "/"
                } else {
                    ""
                }
        })
        .collect();
    assert_eq!(
        lines.len(),
        want.len(),
        "mdir -/ -b printed {} lines for {} paths",
        lines.len(),
        want.len()
    );
    assert_same_paths("mdir -/ -b", lines.iter(), want.iter());

    let text = whole_volume("mdir", image, offset);
    let options = plan.options();
    let label_line = match &options.label {
        Some(label) => format!(
            " Volume in drive : is {}",
            String::from_utf8_lossy(label).trim_end()
        ),
        None => " Volume in drive : has no label".to_string(),
    };
    let id = options.volume_id;
    let serial_line = format!(
        " Volume Serial Number is {:04X}-{:04X}",
        id >> 16,
        id & 0xFFFF
    );
    let mut head = text.lines().take(2).map(str::trim_end);
    assert_eq!(
        head.next(),
        Some(label_line.as_str()),
        "mdir header:\n{text}"
    );
    assert_eq!(
        head.next(),
        Some(serial_line.as_str()),
        "mdir header:\n{text}"
    );
}

/// (d) minfo: the boot sector as mtools reads it, against the options and the plan.
pub fn check_minfo(image: &Path, offset: u64, size: u64, plan: &Plan) {
    let text = whole_volume("minfo", image, offset);
    let options = plan.options();
    let summary = plan.summary();
    let sector = options.bytes_per_sector;
    let label = options.label.as_ref().map_or("NO NAME    ".into(), |l| {
        String::from_utf8_lossy(l).into_owned()
    });
    for want in [
        format!("sector size: {sector} bytes"),
        format!("cluster size: {} sectors", summary.cluster_size / sector),
        "fats: 2".to_string(),
        format!("hidden sectors: {}", offset / u64::from(sector)),
        format!("big size: {} sectors", size / u64::from(sector)),
        format!("serial number: {:08X}", options.volume_id),
        format!("disk label=\"{label}\""),
        "disk type=\"FAT32   \"".to_string(),
        format!("free clusters={}", summary.free_clusters),
    ] {
        assert!(
            text.lines().any(|l| l == want),
            "minfo lacks {want:?}:\n{text}"
        );
    }
}

/// The spec-based reader: exact long names (surrogate pairs too), sizes and the label.
pub fn check_fatread(image: &Path, offset: u64, plan: &Plan, expected: &BTreeMap<String, Want>) {
    let fs = fatread::read(image, offset);
    assert_eq!(fs.label, plan.options().label, "volume label entry");
    assert_same_paths("fatread", fs.entries.keys(), expected.keys());
    for (path, want) in expected {
        let got = &fs.entries[path];
        match want {
            Want::Dir { mtime } => {
                assert!(got.dir, "{path}: not a directory");
                let want = fat_time(plan.options().timestamp.unwrap_or(*mtime));
                assert_eq!(got.mtime, want, "{path}: directory time (source {mtime})");
            }
            Want::File { size, mtime, .. } => {
                assert!(
                    !got.dir && u64::from(got.size) == *size,
                    "{path}: {got:?}, want {size} bytes"
                );
                let want = fat_time(plan.options().timestamp.unwrap_or(*mtime));
                assert_eq!(
                    got.mtime, want,
                    "{path}: modification time (source {mtime})"
                );
            }
        }
    }
}

/// Every file of 4 KiB or more starts at a 4096-aligned image offset, and each planned
/// placement holds the file's first bytes.
pub fn check_placements(image: &Path, plan: &Plan, nonempty_files: usize) {
    let image = File::open(image).unwrap();
    let mut files = 0;
    for (index, file, offset) in plan.file_placements() {
        files += 1;
        let path = plan.file_path(index);
        if file.size >= 4096 {
            assert_eq!(
                offset % 4096,
                0,
                "{path} ({} bytes) starts at image offset {offset}",
                file.size
            );
        }
        let len = file.size.min(8192) as usize;
        let mut got = vec![0u8; len];
        image.read_exact_at(&mut got, offset).unwrap();
        let mut want = vec![0u8; len];
        File::open(&file.source)
            .unwrap()
            .read_exact_at(&mut want, 0)
            .unwrap();
        assert!(
            got == want,
            "{path}: the image at {offset} does not hold its first bytes"
        );
    }
    assert_eq!(files, nonempty_files, "placements (one per non-empty file)");
}

/// Every byte of the image outside [offset, offset + size) is still what it was: `fill`
/// repeated from byte 0 of the image. The image kept its length.
pub fn check_outside(image: &Path, offset: u64, size: u64, len: u64, fill: &[u8]) {
    let file = File::open(image).unwrap();
    assert_eq!(
        file.metadata().unwrap().len(),
        len,
        "the image changed length"
    );
    for (start, end) in [(0, offset), (offset + size, len)] {
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut buf, start).unwrap();
        let stray = (start..end)
            .find(|&at| buf[(at - start) as usize] != fill[(at % fill.len() as u64) as usize]);
        assert!(
            stray.is_none(),
            "byte {stray:?} outside the partition [{offset}, {}) was written",
            offset + size
        );
    }
}
