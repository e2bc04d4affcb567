import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether `tool` is on the PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

const createdDirs: string[] = [];
// Tests make gigabyte-sized files; remove them when the test file's process ends.
process.once('exit', () => {
  for (const dir of createdDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder, removed when the test process exits. */
export function tempDir(prefix = 'imgforge-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

/** `sgdisk -v`: returns its output; the image is sound when it says "No problems found". */
export function sgdiskVerify(image: string): string {
  const result = spawnSync('sgdisk', ['-v', image], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid: string;
  name?: string;
  attrs?: string;
}

export interface SfdiskTable {
  label: string;
  id: string;
  device: string;
  unit: string;
  firstlba: number;
  lastlba: number;
  sectorsize?: number;
  partitions: SfdiskPartition[];
}

/** `sfdisk --json`; it reads the sector size from the device (an image file counts as 512). */
export function sfdiskJson(image: string): SfdiskTable {
  return (JSON.parse(run('sfdisk', ['--json', image])) as { partitiontable: SfdiskTable }).partitiontable;
}

export interface FiemapExtent {
  /** Byte range in the file. */
  start: number;
  end: number;
  hole: boolean;
  flags: number;
}

/** Parses `xfs_io -c 'fiemap -v'` (512-byte units) into byte ranges with their flags. */
export function fiemap(file: string): FiemapExtent[] {
  const out = run('xfs_io', ['-r', '-c', 'fiemap -v', file]);
  const extents: FiemapExtent[] = [];
  for (const line of out.split('\n')) {
    const match = /^\s*\d+:\s*\[(\d+)\.\.(\d+)\]:\s*(\S+)\s+(\d+)(?:\s+(0x[0-9a-f]+))?/i.exec(line);
    if (!match) continue;
    const start = Number(match[1]) * 512;
    const end = (Number(match[2]) + 1) * 512;
    const hole = match[3] === 'hole';
    extents.push({ start, end, hole, flags: match[5] ? Number.parseInt(match[5], 16) : 0 });
  }
  return extents;
}

export const FIEMAP_EXTENT_SHARED = 0x2000;

/** Bytes of [from, to) that fiemap reports as data, and how many of those are shared. */
export function sharedBytesIn(extents: FiemapExtent[], from: number, to: number): { data: number; shared: number } {
  let data = 0;
  let shared = 0;
  for (const extent of extents) {
    if (extent.hole) continue;
    const overlap = Math.max(0, Math.min(extent.end, to) - Math.max(extent.start, from));
    data += overlap;
    if (extent.flags & FIEMAP_EXTENT_SHARED) shared += overlap;
  }
  return { data, shared };
}

/**
 * Writes `size` bytes of deterministic data at `at`: one pseudo-random 4 MiB block, with every
 * 4 KiB block stamped with its position and the seed, so no two blocks are alike and misplaced
 * blocks are caught, while large files stay quick to make.
 */
export function writePatternFile(file: string, size: number, seed = 1, at = 0): void {
  const chunkSize = 4 << 20;
  const chunk = Buffer.alloc(chunkSize);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < chunkSize; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    chunk.writeUInt32LE(state >>> 0, i);
  }
  const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(chunkSize, size - done);
      for (let block = 0; block < n; block += 4096) {
        chunk.writeDoubleLE(at + done + block, block);
        chunk.writeUInt32LE(seed >>> 0, block + 8);
      }
      fs.writeSync(fd, chunk, 0, n, at + done);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Compares `length` bytes of two files at the given offsets, in chunks (files can be large). */
export function sameBytes(a: string, aOffset: number, b: string, bOffset: number, length: number): boolean {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const size = 8 << 20;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (let done = 0; done < length; ) {
      const n = Math.min(size, length - done);
      const ra = fs.readSync(fa, ba, 0, n, aOffset + done);
      const rb = fs.readSync(fb, bb, 0, n, bOffset + done);
      if (ra !== n || rb !== n || !ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      done += n;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

/** Allocated bytes (st_blocks), to check that holes stayed holes. */
export function allocatedBytes(file: string): number {
  return fs.statSync(file).blocks * 512;
}
