//! A minimal FAT32 reader written from Microsoft's FAT specification (fatgen103), sharing no
//! code with the crate. It walks the tree through the first FAT and checks what mtools and
//! fsck.fat cannot show: long names decoded exactly (surrogate pairs too), LFN order and
//! checksums, short names unique, ASCII and upper case, chains exactly as long as the sizes.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: bool,
    pub size: u32,
    pub first_cluster: u32,
    pub short: [u8; 11],
    /// Last modification, decoded from the FAT date and time fields as UTC.
    pub mtime: i64,
}

pub struct Fs {
    pub label: Option<[u8; 11]>,
    pub entries: BTreeMap<String, Entry>,
}

const LFN_OFFSETS: [usize; 13] = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
const END_OF_CHAIN: u32 = 0x0FFF_FFF8;

fn le16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn checksum(short: &[u8]) -> u8 {
    short
        .iter()
        .fold(0u8, |s, &b| (s >> 1 | (s & 1) << 7).wrapping_add(b))
}

struct Reader {
    file: File,
    data_start: u64,
    cluster_size: u64,
    fat: Vec<u32>,
    used: Vec<bool>,
}

impl Reader {
    fn chain(&mut self, first: u32, what: &str) -> Vec<u32> {
        let mut chain = Vec::new();
        let mut cluster = first;
        loop {
            assert!(
                (2..self.fat.len() as u32).contains(&cluster),
                "{what}: cluster {cluster} out of range"
            );
            assert!(
                !self.used[cluster as usize],
                "{what}: cluster {cluster} is cross-linked"
            );
            self.used[cluster as usize] = true;
            chain.push(cluster);
            let next = self.fat[cluster as usize];
            if next >= END_OF_CHAIN {
                return chain;
            }
            cluster = next;
        }
    }

    fn read_chain(&mut self, first: u32, what: &str) -> Vec<u8> {
        let chain = self.chain(first, what);
        let mut out = vec![0u8; chain.len() * self.cluster_size as usize];
        for (piece, &cluster) in out.chunks_mut(self.cluster_size as usize).zip(&chain) {
            let at = self.data_start + u64::from(cluster - 2) * self.cluster_size;
            self.file.read_exact_at(piece, at).unwrap();
        }
        out
    }
}

/// Reads the FAT32 filesystem at byte `offset` of `image`; panics on any structural problem.
pub fn read(image: &Path, offset: u64) -> Fs {
    let file = File::open(image).unwrap();
    let mut boot = [0u8; 512];
    file.read_exact_at(&mut boot, offset).unwrap();
    assert_eq!(boot[510..512], [0x55, 0xAA], "boot signature");
    let bps = u64::from(le16(&boot, 11));
    let spc = u64::from(boot[13]);
    let reserved = u64::from(le16(&boot, 14));
    let fat_sectors = u64::from(le32(&boot, 36));
    let total = u64::from(le32(&boot, 32));
    assert_eq!(boot[16], 2, "number of FATs");
    assert_eq!(
        (le16(&boot, 17), le16(&boot, 19), le16(&boot, 22)),
        (0, 0, 0),
        "FAT12/16 fields"
    );
    let fat_bytes = (fat_sectors * bps) as usize;
    let mut fats = [vec![0u8; fat_bytes], vec![0u8; fat_bytes]];
    for (copy, fat) in fats.iter_mut().enumerate() {
        let at = offset + (reserved + copy as u64 * fat_sectors) * bps;
        file.read_exact_at(fat, at).unwrap();
    }
    assert!(fats[0] == fats[1], "the two FATs differ");
    let clusters = (total - reserved - 2 * fat_sectors) / spc;
    let entries = clusters as usize + 2;
    assert!(
        entries * 4 <= fat_bytes,
        "{clusters} clusters do not fit the FAT"
    );
    assert!(
        fats[0][entries * 4..].iter().all(|&b| b == 0),
        "FAT entries past the last cluster are not zero"
    );
    let fat: Vec<u32> = fats[0][..entries * 4]
        .chunks_exact(4)
        .map(|c| le32(c, 0) & 0x0FFF_FFFF)
        .collect();
    assert_eq!(
        fat[0],
        0x0FFF_FF00 | u32::from(boot[21]),
        "FAT[0] holds the media byte"
    );
    check_reserved_sectors(&file, offset, bps, &boot, &fat);
    let mut reader = Reader {
        file,
        data_start: offset + (reserved + 2 * fat_sectors) * bps,
        cluster_size: spc * bps,
        used: vec![false; fat.len()],
        fat,
    };
    let mut fs = Fs {
        label: None,
        entries: BTreeMap::new(),
    };
    // (directory's first cluster, its path, its parent's cluster as ".." stores it)
    let mut stack = vec![(le32(&boot, 44), String::new(), None::<u32>)];
    while let Some((cluster, path, parent)) = stack.pop() {
        let what = if path.is_empty() { "/" } else { path.as_str() };
        let bytes = reader.read_chain(cluster, what);
        for (name, entry) in parse_dir(&bytes, what, cluster, parent, &mut fs.label) {
            let child = format!("{path}/{name}");
            if entry.dir {
                let dotdot = if path.is_empty() { 0 } else { cluster };
                stack.push((entry.first_cluster, child.clone(), Some(dotdot)));
            } else if entry.size == 0 {
                assert_eq!(entry.first_cluster, 0, "{child}: empty file with a cluster");
            } else {
                let chain = reader.chain(entry.first_cluster, &child);
                let want = u64::from(entry.size).div_ceil(reader.cluster_size);
                assert_eq!(
                    chain.len() as u64,
                    want,
                    "{child}: chain length for {} bytes",
                    entry.size
                );
            }
            assert!(
                fs.entries.insert(child.clone(), entry).is_none(),
                "{child} twice"
            );
        }
    }
    let in_fat = reader.fat[2..].iter().filter(|&&v| v != 0).count();
    let reached = reader.used.iter().filter(|&&u| u).count();
    assert_eq!(
        in_fat, reached,
        "clusters allocated in the FAT but not reachable"
    );
    fs
}

/// The backup boot sector equals the boot sector, and FSInfo (and its backup) carries its
/// signatures and the true free-cluster count.
fn check_reserved_sectors(file: &File, offset: u64, bps: u64, boot: &[u8], fat: &[u32]) {
    let sector = |n: u32| {
        let mut buf = vec![0u8; bps as usize];
        file.read_exact_at(&mut buf, offset + u64::from(n) * bps)
            .unwrap();
        buf
    };
    let (info, backup) = (le16(boot, 48), le16(boot, 50));
    assert_eq!(sector(backup)[..512], boot[..], "backup boot sector");
    let free = fat[2..].iter().filter(|&&v| v == 0).count() as u32;
    for n in [info, backup + info] {
        let s = sector(n);
        let signatures = (le32(&s, 0), le32(&s, 484), le32(&s, 508));
        assert_eq!(
            signatures,
            (0x4161_5252, 0x6141_7272, 0xAA55_0000),
            "FSInfo {n}"
        );
        assert_eq!(le32(&s, 488), free, "FSInfo {n}: free clusters");
    }
}

fn parse_dir(
    bytes: &[u8],
    path: &str,
    own: u32,
    parent: Option<u32>,
    label: &mut Option<[u8; 11]>,
) -> Vec<(String, Entry)> {
    let mut out = Vec::new();
    let mut shorts = HashSet::new();
    let mut lfn: Vec<[u16; 13]> = Vec::new();
    let (mut next_ord, mut lfn_sum) = (0u8, 0u8);
    for (index, e) in bytes.chunks_exact(32).enumerate() {
        if e[0] == 0 {
            // Every entry after the end marker is free too: all zeros here.
            let rest = &bytes[index * 32..];
            assert!(
                rest.iter().all(|&b| b == 0),
                "{path}: bytes after the end marker"
            );
            break;
        }
        assert_ne!(
            e[0], 0xE5,
            "{path}: deleted entry {index} in a fresh filesystem"
        );
        if e[11] & 0x3F == 0x0F {
            if e[0] & 0x40 != 0 {
                assert!(lfn.is_empty(), "{path}: entry {index}: LFN chain restarted");
                (next_ord, lfn_sum) = (e[0] & 0x1F, e[13]);
            }
            assert!(
                e[0] & 0x1F == next_ord && next_ord > 0,
                "{path}: entry {index}: LFN order"
            );
            assert_eq!(
                e[13], lfn_sum,
                "{path}: entry {index}: LFN checksums differ"
            );
            assert_eq!(
                (e[12], le16(e, 26)),
                (0, 0),
                "{path}: entry {index}: LFN type/cluster"
            );
            lfn.push(LFN_OFFSETS.map(|at| le16(e, at) as u16));
            next_ord -= 1;
            continue;
        }
        let short: [u8; 11] = e[..11].try_into().unwrap();
        let shown = String::from_utf8_lossy(&short).into_owned();
        if e[11] & 0x08 != 0 {
            assert!(
                parent.is_none() && index == 0 && lfn.is_empty(),
                "{path}: label entry {index}"
            );
            *label = Some(short);
            continue;
        }
        if &short == b".          " || &short == b"..         " {
            assert!(parent.is_some(), "{path}: dot entry in the root");
            let (want_index, want_cluster) = if short[1] == b'.' {
                (1, parent)
            } else {
                (0, Some(own))
            };
            assert_eq!(
                (index, Some(le16(e, 26) | le16(e, 20) << 16)),
                (want_index, want_cluster),
                "{path}: {shown:?}"
            );
            continue;
        }
        assert!(
            short
                .iter()
                .all(|&b| (0x20..0x7F).contains(&b) && !b.is_ascii_lowercase()),
            "{path}: short name {shown:?} is not upper-case ASCII"
        );
        assert!(
            shorts.insert(short),
            "{path}: short name {shown:?} used twice"
        );
        let name = if lfn.is_empty() {
            let part = |p: &[u8]| String::from_utf8_lossy(p).trim_end().to_string();
            let (base, ext) = (part(&short[..8]), part(&short[8..]));
            if ext.is_empty() {
                base
            } else {
                format!("{base}.{ext}")
            }
        } else {
            assert_eq!(next_ord, 0, "{path}: {shown:?}: incomplete LFN chain");
            assert_eq!(lfn_sum, checksum(&short), "{path}: {shown:?}: LFN checksum");
            let units: Vec<u16> = lfn.drain(..).rev().flatten().collect();
            let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
            assert!(
                units[end..].iter().skip(1).all(|&u| u == 0xFFFF),
                "{path}: {shown:?}: LFN padding"
            );
            assert!(
                units.len() - end < 13,
                "{path}: {shown:?}: an LFN entry too many"
            );
            String::from_utf16(&units[..end])
                .unwrap_or_else(|_| panic!("{path}: {shown:?}: long name is not valid UTF-16"))
        };
        let entry = Entry {
            dir: e[11] & 0x10 != 0,
            size: le32(e, 28),
            first_cluster: le16(e, 26) | le16(e, 20) << 16,
            short,
            mtime: fat_to_unix(le16(e, 24), le16(e, 22)),
        };
        assert!(
            !entry.dir || entry.size == 0,
            "{path}/{name}: directory with a size"
        );
        out.push((name, entry));
    }
    assert!(lfn.is_empty(), "{path}: LFN entries without a short entry");
    out
}

/// Seconds since the epoch of a FAT date (years since 1980, month, day) and time (hours,
/// minutes, 2-second units), read as UTC.
fn fat_to_unix(date: u32, time: u32) -> i64 {
    let (year, month, day) = (
        i64::from(date >> 9) + 1980,
        i64::from(date >> 5 & 15),
        i64::from(date & 31),
    );
    assert!(
        (1..=12).contains(&month) && day >= 1,
        "FAT date {date:#06x}"
    );
    // Days from 1970-01-01 by counting: whole years, then whole months of this year.
    let leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let mut days: i64 = (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    assert!(day <= lengths[month as usize - 1], "FAT date {date:#06x}");
    days += lengths[..month as usize - 1].iter().sum::<i64>() + day - 1;
    let (h, m, s2) = (
        i64::from(time >> 11),
        i64::from(time >> 5 & 63),
        i64::from(time & 31),
    );
    assert!(h < 24 && m < 60 && s2 < 30, "FAT time {time:#06x}");
    days * 86_400 + h * 3600 + m * 60 + s2 * 2
}
