//! Random source trees with the names, sizes and shapes FAT makes hard. Names never clash
//! case-insensitively (scan rejects that; tree_tests.rs covers it), nor after mtools' mapping
//! of non-BMP characters, so that every reader can be compared path by path.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{mtools_name, random_bytes, Rng, FAT_MAX_TIME, FAT_MIN_TIME};

pub struct Shape {
    /// Files and directories in the random part of the tree.
    pub entries: usize,
    pub max_depth: usize,
    /// A chain of this many nested directories below the root.
    pub deep_chain: Option<usize>,
    /// One directory with this many files.
    pub big_dir: Option<usize>,
    /// Sizes around one cluster are generated for this cluster size.
    pub cluster_size: u64,
    /// Largest size of the occasional big file.
    pub max_file: u64,
    /// Give files arbitrary modification times (before 1980, after 2107, odd seconds).
    pub random_mtimes: bool,
}

pub struct Gen<'a> {
    rng: &'a mut Rng,
    shape: &'a Shape,
    counter: u64,
    pub files: usize,
    pub bytes: u64,
}

/// Fills `root` (an existing, empty directory) with a random tree.
pub fn generate(rng: &mut Rng, root: &Path, shape: &Shape) -> (usize, u64) {
    let mut gen = Gen {
        rng,
        shape,
        counter: 0,
        files: 0,
        bytes: 0,
    };
    let mut taken = HashSet::new();
    let mut budget = shape.entries;
    gen.fill(root, 0, &mut budget, &mut taken);
    // At least one empty directory and one empty file in every tree.
    fs::create_dir(root.join(gen.name(&mut taken, true))).unwrap();
    let name = gen.name(&mut taken, true);
    gen.write(&root.join(name), 0);
    if let Some(levels) = shape.deep_chain {
        let mut dir = root.join(gen.name(&mut taken, true));
        fs::create_dir(&dir).unwrap();
        for level in 1..levels {
            let mut here = HashSet::new();
            if gen.rng.chance(1, 3) {
                let name = gen.name(&mut here, true);
                gen.file(&dir.join(name));
            }
            dir = dir.join(gen.name(&mut here, true));
            fs::create_dir(&dir).unwrap();
            if level + 1 == levels {
                let mut bottom = HashSet::new();
                fs::create_dir(dir.join(gen.name(&mut bottom, true))).unwrap();
                let name = gen.name(&mut bottom, true);
                gen.file(&dir.join(name));
            }
        }
    }
    if let Some(count) = shape.big_dir {
        let dir = root.join(gen.name(&mut taken, true));
        fs::create_dir(&dir).unwrap();
        let mut here = HashSet::new();
        for i in 0..count {
            let name = format!("longname-{i}.txt");
            let name = if gen.rng.chance(7, 10) && here.insert(name.to_uppercase()) {
                name
            } else {
                gen.name(&mut here, false)
            };
            let size = gen.rng.below(64);
            gen.write(&dir.join(name), size);
        }
    }
    (gen.files, gen.bytes)
}

impl Gen<'_> {
    fn fill(&mut self, dir: &Path, depth: usize, budget: &mut usize, taken: &mut HashSet<String>) {
        let count = self.rng.below(10) + if depth == 0 { 6 } else { 0 };
        let mut last_file = None;
        for _ in 0..count {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            let name = self.name(taken, false);
            let path = dir.join(&name);
            if depth < self.shape.max_depth && self.rng.chance(1, 4) {
                fs::create_dir(&path).unwrap();
                self.fill(&path, depth + 1, budget, &mut HashSet::new());
            } else if let Some(target) = last_file.as_ref().filter(|_| self.rng.chance(1, 10)) {
                // A symlink: the filesystem gets a copy of the file it points to.
                std::os::unix::fs::symlink(target, &path).unwrap();
            } else {
                self.file(&path);
                last_file = Some(name);
            }
        }
    }

    /// A fresh name, unique in `taken` (upper-cased keys after mtools' mapping). `short`
    /// names stay under about 30 bytes, for deep paths.
    pub fn name(&mut self, taken: &mut HashSet<String>, short: bool) -> String {
        loop {
            self.counter += 1;
            let name = self.candidate(self.counter, short);
            if taken.insert(mtools_name(&name).to_uppercase()) {
                return name;
            }
        }
    }

    fn candidate(&mut self, n: u64, short: bool) -> String {
        let r = &mut *self.rng;
        let letter = char::from(b'a' + r.below(26) as u8);
        let kind = r.below(if short { 10 } else { 13 });
        let choices: Vec<String> = match kind {
            0 => vec![
                format!("é{n}.txt"),
                format!("Straße {n}"),
                format!("日本語{n}.txt"),
                format!("Ünïcödé-{n}.dat"),
                format!("emoji😀{n}.bin"),
                format!("{n}🎉"),
                format!("😀😁🎉{n}"),
                format!("Ελληνικά{n}"),
                format!("Кириллица{n}.txt"),
                format!("de\u{301}compose\u{301}{n}"),
            ],
            1 => vec![
                format!("ReadMe{n}.Md"),
                format!("MiXeD{n}"),
                format!("x{n}.TXT"),
                format!("ABC{n}.txt"),
            ],
            2 => vec![
                format!("longname-{n}.txt"),
                format!("Long Name {n}.conf"),
                format!("abcdefgh{n}"),
                format!("abcdef{letter}{n}.dat"),
                format!("LONGNA~{}.TXT", r.below(4) + 1),
                format!("ABCDEF~{}", r.below(3) + 1),
            ],
            3 => vec![
                format!(".hidden{n}"),
                format!("..{n}dots"),
                format!(".{n}"),
                format!("...{n}.x"),
            ],
            4 => vec![
                format!("a.b.{n}.tar.gz"),
                format!("v1.2.{n}"),
                format!("{n}.x.y"),
            ],
            5 => vec![
                format!("with space {n}.txt"),
                format!(" lead{n}"),
                format!("a  b {n}"),
                format!("{n} .txt"),
            ],
            6 => vec![
                format!("F{n}.TXT"),
                format!("D{n}"),
                format!("X{n}.A"),
                format!("{n}"),
                format!("_{n}.$$$"),
                format!("A-{n}.~~~"),
            ],
            7 => vec![
                format!("file{n}.txt"),
                format!("f{n}"),
                format!("{letter}{n}.c"),
            ],
            8 => vec![
                format!("a+b,c;d=e[{n}]"),
                format!("-{n}"),
                format!("~{n}~"),
                format!("x(1)&'~!@#$%^{{}}`{n}.txt"),
            ],
            9 => vec![format!("ALLCAPSLONGNAME{n}.TEXT"), format!("UPPER{n}.JPEG")],
            10 => {
                // Lengths around LFN entry boundaries (13 units each), up to the 255 maximum.
                let len = r.pick(&[12, 13, 14, 25, 26, 27, 38, 39, 40, 250, 254, 255, 255]);
                let mut name = format!("n{n}-");
                let pad = b"abcXYZ0189 -_.+";
                while name.len() < len {
                    name.push(char::from(pad[r.below(pad.len() as u64) as usize]));
                }
                name.pop();
                name.push('z');
                vec![name]
            }
            11 => {
                // A surrogate pair inside one LFN entry, or split across two.
                let mut name = format!("s{n}");
                let units = r.pick(&[10, 11, 12, 24, 25]);
                while name.len() < units {
                    name.push('x');
                }
                vec![name + "😀end"]
            }
            _ => {
                // Non-ASCII long names: UTF-8 takes 2 bytes per 'é', Linux allows 255 bytes.
                let count = r.below(120) as usize + 1;
                vec![format!(
                    "{n}{}",
                    "é".repeat(count.min((250 - n.to_string().len()) / 2))
                )]
            }
        };
        choices[r.below(choices.len() as u64) as usize].clone()
    }

    fn size(&mut self) -> u64 {
        let (cluster, max_file) = (self.shape.cluster_size, self.shape.max_file);
        let r = &mut *self.rng;
        match r.below(16) {
            0 | 1 => 0,
            2 => 1,
            3 => r.below(512) + 1,
            4 => 4095,
            5 => 4096,
            6 => 4097,
            7 => cluster,
            8 => cluster + 1,
            9 => cluster - 1,
            10 => 2 * cluster + 1,
            15 => r.below(max_file) + 1,
            _ => r.below(20_000),
        }
    }

    fn file(&mut self, path: &Path) {
        let size = self.size();
        self.write(path, size);
    }

    fn write(&mut self, path: &Path, size: u64) {
        fs::write(path, random_bytes(self.rng.next_u64(), size)).unwrap();
        self.files += 1;
        self.bytes += size;
        if self.shape.random_mtimes {
            let r = &mut *self.rng;
            let t = match r.below(8) {
                0 => r.pick(&[
                    0,
                    -86_400 * 400,
                    FAT_MIN_TIME - 1,
                    FAT_MIN_TIME,
                    FAT_MAX_TIME,
                ]),
                1 => r.pick(&[
                    FAT_MAX_TIME + 1,
                    FAT_MAX_TIME + 2,
                    FAT_MAX_TIME + 10_000_000,
                ]),
                _ => FAT_MIN_TIME + r.below((FAT_MAX_TIME - FAT_MIN_TIME) as u64) as i64,
            };
            let time = if t >= 0 {
                UNIX_EPOCH + Duration::from_secs(t as u64)
            } else {
                UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
            };
            set_mtime(path, time);
        }
    }
}

pub fn set_mtime(path: &Path, time: SystemTime) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}
