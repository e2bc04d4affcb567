//! Helpers for the FAT32 integration tests: a deterministic PRNG, image building, and the
//! reader checks, which judge an image with tools that share no code with this crate
//! (fsck.fat from dosfstools, mtools) plus a small spec-based reader (`fatread`) for what
//! those tools cannot show (names outside the BMP).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod fatread;
pub mod gen;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use imgforge_copy::{CopyEngine, CopyMode, Destination};
use imgforge_fat32::{write, Plan, Target};

pub const MIB: u64 = 1 << 20;
/// FAT timestamps cover 1980-01-01T00:00:00Z ..= 2107-12-31T23:59:58Z, in 2-second steps.
pub const FAT_MIN_TIME: i64 = 315_532_800;
pub const FAT_MAX_TIME: i64 = 4_354_819_198;

/// SplitMix64: tiny, fast and good enough to drive the generators deterministically.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability num/den.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `len` deterministic pseudo-random bytes; different seeds give different data everywhere.
pub fn data(seed: u64, len: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut out = Vec::with_capacity(len as usize + 8);
    while (out.len() as u64) < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len as usize);
    out
}

/// A command for a reader tool, with UTF-8 names and UTC times, and no stdin to wait on.
pub fn tool(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .stdin(Stdio::null());
    command
}

/// Runs a reader; a missing tool fails the test (scripts/test.sh installs them).
pub fn run(command: &mut Command) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    command.output().unwrap_or_else(|error| {
        panic!("cannot run {program} ({error}); install dosfstools and mtools")
    })
}

pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A new sparse image file of `len` bytes (or every byte `fill`, when given).
pub fn create_image(path: &Path, len: u64, fill: Option<&[u8]>) -> File {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .expect("create image");
    file.set_len(len).expect("size image");
    if let Some(block) = fill {
        let mut offset = 0;
        while offset < len {
            let n = (len - offset).min(block.len() as u64) as usize;
            file.write_all_at(&block[..n], offset).expect("fill image");
            offset += n as u64;
        }
    }
    file
}

/// Writes a planned filesystem into the image at `path` (already created and sized).
pub fn write_plan(plan: &Plan, path: &Path, state: Destination, mode: CopyMode) {
    let image = OpenOptions::new().read(true).write(true).open(path).unwrap();
    let target = Target {
        image: &image,
        image_name: path.to_str().unwrap(),
        state,
    };
    write(plan, &target, &mut CopyEngine::new(mode), &mut |_| true)
        .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

/// What the filesystem must hold: the source tree read back from disk (not from the plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    Dir,
    File { source: PathBuf, size: u64, mtime: i64 },
}

/// Every path below `root` ("/a/b", "/a/b/file"), as the filesystem must show it.
pub fn expected_tree(root: &Path) -> BTreeMap<String, Want> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().expect("UTF-8 source names");
            let path = format!("{prefix}/{name}");
            let meta = fs::metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push((entry.path(), path.clone()));
                out.insert(path, Want::Dir);
            } else {
                let (size, mtime) = (meta.len(), meta.mtime());
                let source = entry.path();
                out.insert(path, Want::File { source, size, mtime });
            }
        }
    }
    out
}

/// mtools 4.0 decodes long names one UTF-16 unit at a time, so each half of a surrogate pair
/// (every character outside the BMP) comes out as '_'. fsck.fat likewise prints ":XXXX"
/// escapes; only `fatread` checks those names exactly.
pub fn mtools_name(path: &str) -> String {
    path.chars()
        .map(|c| if c > '\u{FFFF}' { "__".to_string() } else { c.to_string() })
        .collect()
}

/// The FAT modification time of a file whose source time is `mtime`, as a reader reports it.
pub fn fat_time(mtime: i64) -> i64 {
    let t = mtime.clamp(FAT_MIN_TIME, FAT_MAX_TIME);
    t - t.rem_euclid(2)
}

/// The partition region, copied into its own sparse file (fsck.fat has no offset option).
pub fn extract_partition(image: &Path, offset: u64, size: u64, out: &Path) {
    use nix::unistd::{lseek, Whence};
    let source = File::open(image).unwrap();
    let dest = create_image(out, size, None);
    let end = offset + size;
    let mut pos = offset;
    let mut buf = vec![0u8; MIB as usize];
    while pos < end {
        // Skip holes: partitions of several GiB are mostly holes.
        let data = match lseek(&source, pos as i64, Whence::SeekData) {
            Ok(data) => data as u64,
            Err(nix::errno::Errno::ENXIO) => break,
            Err(error) => panic!("SEEK_DATA {}: {error}", image.display()),
        };
        if data >= end {
            break;
        }
        let hole = (lseek(&source, data as i64, Whence::SeekHole).unwrap() as u64).min(end);
        let mut at = data;
        while at < hole {
            let n = (hole - at).min(buf.len() as u64) as usize;
            source.read_exact_at(&mut buf[..n], at).unwrap();
            dest.write_all_at(&buf[..n], at - offset).unwrap();
            at += n as u64;
        }
        pos = hole;
    }
}

/// Runs every reader check on the filesystem at `offset` of `image` (`size` bytes), planned
/// by `plan` from the source tree at `source_root` (placed at "/").
pub fn check_readers(image: &Path, size: u64, plan: &Plan, source_root: &Path) {
    let expected = expected_tree(source_root);
    let offset = plan.options().partition_offset;
    let label_entries = usize::from(plan.options().label.is_some());
    check_fsck(image, offset, size, plan, expected.len() + label_entries);
    check_mcopy(image, offset, plan, &expected);
    check_mdir(image, offset, plan, &expected);
    check_minfo(image, offset, size, plan);
    check_fatread(image, offset, plan, &expected);
    let nonempty = expected.values().filter(|w| matches!(w, Want::File { size, .. } if *size > 0));
    check_placements(image, plan, nonempty.count());
}

/// (a) fsck.fat -n -V on the extracted partition: exit 0 and nothing but the expected lines.
pub fn check_fsck(image: &Path, offset: u64, size: u64, plan: &Plan, entries: usize) {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("partition.img");
    extract_partition(image, offset, size, &part);
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
        "fsck.fat -n -V (status {}) reported {unexpected:?}; expected the summary {last:?}; output:\n{text}",
        output.status
    );
}

fn image_arg(image: &Path, offset: u64) -> String {
    format!("{}@@{offset}", image.display())
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
    assert!(output.status.success(), "mcopy failed: {}", output_text(&output));
    let got = expected_tree(out.path());
    let want: BTreeMap<String, &Want> = expected.iter().map(|(p, w)| (mtools_name(p), w)).collect();
    assert_same_paths("mcopy -s", got.keys(), want.keys());
    for (path, want) in want {
        let (Want::File { source, size, mtime }, Want::File { source: copy, size: got_size, mtime: got_mtime }) =
            (want, &got[&path])
        else {
            assert_eq!(got[&path], Want::Dir, "{path}: a file came out as a directory");
            continue;
        };
        assert_eq!(got_size, size, "{path}: size");
        assert!(fs::read(source).unwrap() == fs::read(copy).unwrap(), "{path}: bytes differ");
        let want_time = fat_time(plan.options().timestamp.unwrap_or(*mtime));
        assert_eq!(*got_mtime, want_time, "{path}: modification time (source {mtime})");
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
    let output = run(tool("mdir").args(["-/", "-b", "-i"]).arg(image_arg(image, offset)).arg("::"));
    let text = output_text(&output);
    assert!(output.status.success(), "mdir -/ -b failed: {text}");
    let lines: Vec<String> = text.lines().map(|l| l.strip_prefix("::").unwrap_or(l).to_string()).collect();
    let want: Vec<String> = expected
        .iter()
        .map(|(path, w)| mtools_name(path) + if *w == Want::Dir { "/" } else { "" })
        .collect();
    assert_eq!(lines.len(), want.len(), "mdir -/ -b printed {} lines for {} paths", lines.len(), want.len());
    assert_same_paths("mdir -/ -b", lines.iter(), want.iter());

    let output = run(tool("mdir").arg("-i").arg(image_arg(image, offset)).arg("::"));
    let text = output_text(&output);
    assert!(output.status.success(), "mdir failed: {text}");
    let options = plan.options();
    let label_line = match &options.label {
        Some(label) => format!(" Volume in drive : is {}", String::from_utf8_lossy(label).trim_end()),
        None => " Volume in drive : has no label".to_string(),
    };
    let id = options.volume_id;
    let serial_line = format!(" Volume Serial Number is {:04X}-{:04X}", id >> 16, id & 0xFFFF);
    let mut head = text.lines().take(2).map(str::trim_end);
    assert_eq!(head.next(), Some(label_line.as_str()), "mdir header:\n{text}");
    assert_eq!(head.next(), Some(serial_line.as_str()), "mdir header:\n{text}");
}

/// (d) minfo: the boot sector as mtools reads it, against the options and the plan.
pub fn check_minfo(image: &Path, offset: u64, size: u64, plan: &Plan) {
    let output = run(tool("minfo").arg("-i").arg(image_arg(image, offset)).arg("::"));
    let text = output_text(&output);
    assert!(output.status.success(), "minfo failed: {text}");
    let options = plan.options();
    let summary = plan.summary();
    let sector = options.bytes_per_sector;
    let label = options.label.as_ref().map_or("NO NAME    ".into(), |l| String::from_utf8_lossy(l).into_owned());
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
        assert!(text.lines().any(|l| l == want), "minfo lacks {want:?}:\n{text}");
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
            Want::Dir => assert!(got.dir, "{path}: not a directory"),
            Want::File { size, .. } => {
                assert!(!got.dir && u64::from(got.size) == *size, "{path}: {got:?}, want {size} bytes")
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
            assert_eq!(offset % 4096, 0, "{path} ({} bytes) starts at image offset {offset}", file.size);
        }
        let len = file.size.min(8192) as usize;
        let mut got = vec![0u8; len];
        image.read_exact_at(&mut got, offset).unwrap();
        let mut want = vec![0u8; len];
        File::open(&file.source).unwrap().read_exact_at(&mut want, 0).unwrap();
        assert!(got == want, "{path}: the image at {offset} does not hold its first bytes");
    }
    assert_eq!(files, nonempty_files, "placements (one per non-empty file)");
}

/// Every byte of the image outside [offset, offset + size) is still `fill`, and the image
/// kept its length.
pub fn check_outside(image: &Path, offset: u64, size: u64, len: u64, fill: u8) {
    let file = File::open(image).unwrap();
    assert_eq!(file.metadata().unwrap().len(), len, "the image changed length");
    for (start, end) in [(0, offset), (offset + size, len)] {
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut buf, start).unwrap();
        let stray = buf.iter().position(|&b| b != fill);
        assert!(stray.is_none(), "byte {} outside the partition was written", start + stray.unwrap_or(0) as u64);
    }
}
