/**
 * Reading FAT filesystems back with independent tools: mtools (mdir, mcopy) straight from the image
 * at the partition's offset, and fsck.fat on the partition extracted to a sparse file of its own
 * (fsck.fat has no offset option). The kernel here has no vfat driver, so nothing is mounted.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Fat32Summary } from '../../ts/types';

/**
 * mtools needs a UTF-8 locale to write long names as UTF-8, and TZ=UTC because FAT stores local
 * time: imgforge writes UTC. MTOOLS_SKIP_CHECK stays unset so mtools checks the boot sector.
 */
export function mtoolsEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' };
  delete env.MTOOLS_SKIP_CHECK;
  return env;
}

function tool(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: mtoolsEnv(), maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Copies bytes [offset, offset + size) of `image` into a new sparse file `dest`. */
export function extractPartition(image: string, offset: number, size: number, dest: string): string {
  const args = [`if=${image}`, `of=${dest}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${offset}`, `count=${size}`, 'conv=sparse', 'status=none'];
  const result = tool('dd', args);
  if (result.status !== 0) throw new Error(`dd ${args.join(' ')} failed: ${result.stderr}`);
  fs.truncateSync(dest, size); // a trailing hole is not written by conv=sparse
  return dest;
}

export interface FsckResult {
  status: number | null;
  output: string;
  /** Lines other than the banner, the pass announcements and the summary: what fsck complained about. */
  warnings: string[];
  /** From the summary line "<file>: N files, used/total clusters". */
  usedClusters: number | undefined;
  totalClusters: number | undefined;
}

/** `fsck.fat -n -V` (read-only, with a verification pass) on an extracted partition. */
export function fsckFat(partitionFile: string): FsckResult {
  const result = tool('fsck.fat', ['-n', '-V', partitionFile]);
  const output = `${result.stdout}${result.stderr}`;
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const expected = [/^fsck\.fat \d/, /^Starting check\/repair pass\.$/, /^Starting verification pass\.$/, /: \d+ files, \d+\/\d+ clusters$/];
  const summary = /: \d+ files, (\d+)\/(\d+) clusters$/m.exec(output);
  return {
    status: result.status,
    output,
    warnings: lines.filter((line) => !expected.some((re) => re.test(line))),
    usedClusters: summary ? Number(summary[1]) : undefined,
    totalClusters: summary ? Number(summary[2]) : undefined,
  };
}

const at = (image: string, offset: number) => `${image}@@${offset}`;

/** `mdir` of one folder (default the root); throws when mtools refuses the filesystem. */
export function mdir(image: string, offset: number, folder = '/', recursive = false): string {
  const result = tool('mdir', [...(recursive ? ['-s'] : []), '-i', at(image, offset), `::${folder}`]);
  if (result.status !== 0) throw new Error(`mdir failed (${result.status}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The volume label (undefined for "has no label") and serial number from mdir's header. */
export function mdirHeader(image: string, offset: number): { label: string | undefined; serial: string } {
  const out = mdir(image, offset);
  const label = /^ Volume in drive : (?:is (.*)|has no label)$/m.exec(out);
  const serial = /^ Volume Serial Number is ([0-9A-F]{4}-[0-9A-F]{4})$/m.exec(out);
  if (!label || !serial) throw new Error(`unexpected mdir header:\n${out}`);
  return { label: label[1]?.trimEnd(), serial: serial[1] };
}

/**
 * The date and time mdir shows for every entry except "." and "..": ["2023-11-14 22:13", ...].
 * Entries look like `NAME     EXT      size 2023-11-14  22:13  long name`.
 */
export function mdirDates(listing: string): string[] {
  const dates: string[] = [];
  for (const line of listing.split('\n')) {
    if (/^\.{1,2}\s/.test(line)) continue;
    const match = /\s(\d{4}-\d{2}-\d{2})\s+(\d{1,2}):(\d{2})(?:\s|$)/.exec(line);
    if (match) dates.push(`${match[1]} ${match[2].padStart(2, '0')}:${match[3]}`);
  }
  return dates;
}

/**
 * Copies the whole filesystem into the existing, empty folder `dest` with `mcopy -s -n -m`
 * (recursive, overwrite without asking, keep modification times). Throws on any complaint.
 */
export function mcopyAll(image: string, offset: number, dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  const result = tool('mcopy', ['-s', '-n', '-m', '-i', at(image, offset), '::/', dest]);
  if (result.status !== 0 || result.stderr.trim() !== '') {
    throw new Error(`mcopy failed (${result.status}): ${result.stderr}${result.stdout}`);
  }
}

export type TreeEntry = { kind: 'dir' } | { kind: 'file'; size: number; sha256: string };

export function fileEntry(file: string): TreeEntry {
  const bytes = fs.readFileSync(file);
  return { kind: 'file', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Every file and folder under `root` (not root itself), by path relative to it with a leading "/". */
export function treeOf(root: string): Map<string, TreeEntry> {
  const tree = new Map<string, TreeEntry>();
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const inside = `${rel}/${entry.name}`;
      const stats = fs.statSync(full); // sources may be symlinks; the filesystem holds what they point at
      if (stats.isDirectory()) {
        tree.set(inside, { kind: 'dir' });
        walk(full, inside);
      } else {
        tree.set(inside, fileEntry(full));
      }
    }
  };
  walk(root, '');
  return tree;
}

/** A tree as sorted lines, for deepEqual with a readable diff: "/EFI/ dir", "/a.txt 12 <sha>". */
export function treeLines(tree: ReadonlyMap<string, TreeEntry>): string[] {
  return [...tree]
    .map(([p, e]) => (e.kind === 'dir' ? `${p}/ dir` : `${p} ${e.size} ${e.sha256.slice(0, 16)}`))
    .sort();
}

/** Paths of the regular files under `root`, relative with a leading "/". */
export function filesUnder(root: string): string[] {
  return [...treeOf(root)].filter(([, e]) => e.kind === 'file').map(([p]) => p);
}

/** What reflinks can share of a tree: each file's whole 4 KiB blocks. */
export function wholeBlockBytes(root: string, block = 4096): number {
  let sum = 0;
  for (const [, entry] of treeOf(root)) if (entry.kind === 'file') sum += Math.floor(entry.size / block) * block;
  return sum;
}

/** Folders and files of a tree, the way imgforge counts them (the root folder not included). */
export function treeCounts(tree: ReadonlyMap<string, TreeEntry>): { directories: number; files: number; fileBytes: number } {
  let directories = 0;
  let files = 0;
  let fileBytes = 0;
  for (const entry of tree.values()) {
    if (entry.kind === 'dir') directories++;
    else {
      files++;
      fileBytes += entry.size;
    }
  }
  return { directories, files, fileBytes };
}

/** The `filesystem` object of `build --json` / `plan --json` (JSON leaves an undefined label out). */
export type FilesystemJson = Omit<Fat32Summary, 'label'> & { label?: string };

export const FILESYSTEM_JSON_KEYS = ['type', 'label', 'volumeId', 'clusterSize', 'clusters', 'usedClusters', 'freeClusters', 'directories', 'files', 'fileBytes'];

/** Everything about one FAT partition of an image that independent tools can say. */
export function readFatPartition(image: string, offset: number, size: number, work: string) {
  const part = extractPartition(image, offset, size, path.join(work, `part-${offset}.fat`));
  const fsck = fsckFat(part);
  const header = mdirHeader(image, offset);
  const out = path.join(work, `tree-${offset}`);
  mcopyAll(image, offset, out);
  const tree = treeOf(out);
  fs.rmSync(part);
  return { fsck, header, tree, out };
}

/** The FAT32 boot sector fields the tests compare with the spec and --json (read by hand, not by imgforge). */
export interface BootSector {
  bytesPerSector: number;
  clusterSize: number;
  reservedSectors: number;
  fats: number;
  fatSectors: number;
  rootCluster: number;
  volumeId: string;
  label: string;
  fsType: string;
  signature: number;
}

function readAt(file: string, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buffer, 0, length, offset);
  } finally {
    fs.closeSync(fd);
  }
  return buffer;
}

export function readBootSector(image: string, offset: number): BootSector {
  const b = readAt(image, offset, 512);
  const bytesPerSector = b.readUInt16LE(11);
  const id = b.readUInt32LE(67).toString(16).toUpperCase().padStart(8, '0');
  return {
    bytesPerSector,
    clusterSize: bytesPerSector * b[13],
    reservedSectors: b.readUInt16LE(14),
    fats: b[16],
    fatSectors: b.readUInt32LE(36),
    rootCluster: b.readUInt32LE(44),
    volumeId: `${id.slice(0, 4)}-${id.slice(4)}`,
    label: b.toString('latin1', 71, 82),
    fsType: b.toString('latin1', 82, 90),
    signature: b.readUInt16LE(510),
  };
}

/** Seconds since the epoch of a FAT date and time (local time taken as UTC). */
function fatTime(date: number, time: number): number {
  return Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2) / 1000;
}

/**
 * The short entries of the root folder (following its cluster chain in the first FAT), with every
 * timestamp a directory entry holds: created (with its 10 ms field), last accessed (a date), modified.
 */
export function rootEntries(image: string, offset: number) {
  const boot = readBootSector(image, offset);
  const fatStart = offset + boot.reservedSectors * boot.bytesPerSector;
  const dataStart = fatStart + boot.fats * boot.fatSectors * boot.bytesPerSector;
  const entries: Array<{ name: string; attributes: number; created: number; createdMs: number; accessed: number; modified: number }> = [];
  for (let cluster = boot.rootCluster, guard = 0; cluster >= 2 && cluster < 0x0ffffff8 && guard < 1 << 16; guard++) {
    const data = readAt(image, dataStart + (cluster - 2) * boot.clusterSize, boot.clusterSize);
    for (let i = 0; i < data.length; i += 32) {
      const e = data.subarray(i, i + 32);
      if (e[0] === 0) return entries;
      if (e[0] === 0xe5 || e[11] === 0x0f) continue;
      entries.push({
        name: e.toString('latin1', 0, 11),
        attributes: e[11],
        created: fatTime(e.readUInt16LE(16), e.readUInt16LE(14)),
        createdMs: e[13] * 10,
        accessed: fatTime(e.readUInt16LE(18), 0),
        modified: fatTime(e.readUInt16LE(24), e.readUInt16LE(22)),
      });
    }
    cluster = readAt(image, fatStart + cluster * 4, 4).readUInt32LE(0) & 0x0fffffff;
  }
  return entries;
}
