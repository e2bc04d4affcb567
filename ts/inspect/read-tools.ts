/**
 * Reading ext4 and squashfs trees back with the filesystems' own tools, read-only and without a
 * mount: `debugfs` (e2fsprogs) lists directories (`ls -p`) and copies the tree out (`rdump`) of
 * the image at the partition's offset (`image?offset=N`); `unsquashfs` lists (`-lln`) and extracts
 * (`-d`) the squashfs at the partition's offset (`-o N`).
 * Everything goes into a private temporary folder that `readToolTree` removes before it returns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { findOnPath, installHint, lastLine, runTool, type ToolRun } from '../tools';

export type ToolTreeKind = 'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket';

/** One name in the filesystem, as the tool lists it. */
export interface ToolTreeEntry {
  kind: ToolTreeKind;
  /** Permission bits with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Names with the same key are one inode (hard links); undefined where the tool does not say. */
  inode: string | undefined;
}

/** The tree read back: every path ("/" the root) and where the extracted copy of it is. */
export interface ToolTree {
  entries: Map<string, ToolTreeEntry>;
  /** The extracted copy of `image path` (its bytes, a symlink's target). */
  extracted(imagePath: string): string;
}

/** The tool each filesystem is read with, and the package that brings it. */
const READERS = { ext4: { tool: 'debugfs', package: 'e2fsprogs' }, squashfs: { tool: 'unsquashfs', package: 'squashfs-tools' } } as const;

/** The reader for `type`; a missing one is a TOOL error (exit status 2) naming it and its package. */
export function requireReader(type: 'ext4' | 'squashfs', where: string): string {
  const { tool, package: pkg } = READERS[type];
  const found = findOnPath(tool);
  if (found === undefined) {
    throw new ImgforgeError(
      'TOOL',
      `${where}: verify reads ${type} with ${tool}, which was not found on PATH; ${installHint(pkg)}`,
    );
  }
  return found;
}

function run(file: string, args: readonly string[], signal: AbortSignal | undefined): Promise<ToolRun> {
  return runTool(file, args, { env: { LC_ALL: 'C' }, signal, work: 'verification' });
}

function failed(tool: string, result: ToolRun): ImgforgeError {
  return new ImgforgeError('IMAGE', `${tool} could not read the partition: ${lastLine(result)}`);
}

/** The kind a mode's type bits give (stat's S_IFMT). */
export function kindOfMode(mode: number): ToolTreeKind | undefined {
  switch (mode & 0o170000) {
    case 0o040000:
      return 'directory';
    case 0o100000:
      return 'file';
    case 0o120000:
      return 'symlink';
    case 0o020000:
      return 'char-device';
    case 0o060000:
      return 'block-device';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    default:
      return undefined;
  }
}

const childPath = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** debugfs's command-line quoting: a double-quoted argument, with `"` doubled. */
const debugfsQuote = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * Entries of `debugfs -f` running `ls -p` on each of `dirs`: the echoed command line
 * ("debugfs: ls -p "/etc"") starts each directory's block; each entry is `/ino/mode/uid/gid/name/size/`
 * (mode in octal with the type bits). ".." is left out, and "." but for the root's.
 */
export function parseDebugfsListing(output: string): Array<{ dir: string; name: string; ino: number; mode: number; uid: number; gid: number }> {
  const out: Array<{ dir: string; name: string; ino: number; mode: number; uid: number; gid: number }> = [];
  let dir: string | undefined;
  for (const line of output.split('\n')) {
    const command = /^debugfs: ls -p "(.*)"$/.exec(line);
    if (command) {
      dir = command[1].replace(/""/g, '"');
      continue;
    }
    if (dir === undefined || !line.startsWith('/')) continue;
    const fields = line.slice(1).split('/');
    // ino, mode, uid, gid, the name (which cannot hold "/"), size, and the empty field after the last "/".
    if (fields.length < 7) continue;
    const name = fields.slice(4, -2).join('/');
    if (name === '..' || (name === '.' && dir !== '/')) continue;
    out.push({ dir, name, ino: Number(fields[0]), mode: parseInt(fields[1], 8), uid: Number(fields[2]), gid: Number(fields[3]) });
  }
  return out;
}

/** Lists an ext4 directory level by level (one debugfs run per depth), then extracts it with rdump. */
async function readExt4(debugfs: string, image: string, offset: number, work: string, signal: AbortSignal | undefined): Promise<ToolTree> {
  const device = `${image}?offset=${offset}`;
  const entries = new Map<string, ToolTreeEntry>();
  const commands = path.join(work, 'commands');
  for (let level = ['/']; level.length > 0; ) {
    fs.writeFileSync(commands, level.map((dir) => `ls -p ${debugfsQuote(dir)}\n`).join(''));
    const listing = await run(debugfs, ['-f', commands, device], signal);
    if (listing.status !== 0) throw failed('debugfs', listing);
    const next: string[] = [];
    for (const e of parseDebugfsListing(listing.stdout)) {
      const kind = kindOfMode(e.mode);
      if (kind === undefined) continue;
      const here = e.name === '.' ? '/' : childPath(e.dir, e.name);
      entries.set(here, { kind, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, inode: String(e.ino) });
      if (kind === 'directory' && here !== '/') next.push(here);
    }
    level = next;
  }
  const tree = path.join(work, 'tree');
  fs.mkdirSync(tree);
  const dump = await run(debugfs, ['-R', `rdump / ${debugfsQuote(tree)}`, device], signal);
  if (dump.status !== 0) throw failed('debugfs', dump);
  return { entries, extracted: (p) => path.join(tree, p) };
}

/** Reads `unsquashfs -lln`'s lines: `drwxr-xr-x 0/0   53 2023-11-14 22:13 squashfs-root/etc`. */
export function parseUnsquashfsListing(output: string): Array<{ path: string; kind: ToolTreeKind; mode: number; uid: number; gid: number }> {
  const out: Array<{ path: string; kind: ToolTreeKind; mode: number; uid: number; gid: number }> = [];
  const kinds: Record<string, ToolTreeKind> = { '-': 'file', d: 'directory', l: 'symlink', c: 'char-device', b: 'block-device', p: 'fifo', s: 'socket' };
  for (const line of output.split('\n')) {
    const m = /^([-dlcbps])([-rwxsStT]{9}) (\d+)\/(\d+) +.*? \d{4}-\d\d-\d\d \d\d:\d\d squashfs-root(\/.*)?$/.exec(line);
    if (m === null) continue;
    out.push({ path: m[5] ?? '/', kind: kinds[m[1]], mode: permissionBits(m[2]), uid: Number(m[3]), gid: Number(m[4]) });
  }
  return out;
}

/** "rwsr-xr-t" as bits: 0o5755. */
export function permissionBits(text: string): number {
  let mode = 0;
  const bit = (i: number, value: number) => {
    if (text[i] !== '-') mode |= value;
  };
  [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1].forEach((value, i) => bit(i, value));
  // s and t are "special and executable"; S and T "special, not executable".
  const special = [
    [2, 0o4000, 's', 'S'],
    [5, 0o2000, 's', 'S'],
    [8, 0o1000, 't', 'T'],
  ] as const;
  for (const [i, value, withX, withoutX] of special) {
    if (text[i] === withX) mode |= value;
    if (text[i] === withoutX) mode = (mode | value) & ~[0o100, 0o10, 0o1][(i - 2) / 3];
  }
  return mode;
}

/**
 * unsquashfs reads a squashfs at a byte offset of a file with `-o` (squashfs-tools 4.5.1, the
 * oldest the build accepts, takes it though its help does not list it); the superblock probe
 * checked the filesystem fits the partition first.
 */
async function readSquashfs(unsquashfs: string, image: string, offset: number, work: string, signal: AbortSignal | undefined): Promise<ToolTree> {
  const at = ['-o', String(offset)];
  const listing = await run(unsquashfs, [...at, '-lln', image], signal);
  if (listing.status !== 0) throw failed('unsquashfs', listing);
  const tree = path.join(work, 'tree');
  const extract = await run(unsquashfs, [...at, '-no-progress', '-no-xattrs', '-d', tree, image], signal);
  if (extract.status !== 0 && !fs.existsSync(tree)) throw failed('unsquashfs', extract);
  const entries = new Map<string, ToolTreeEntry>();
  for (const e of parseUnsquashfsListing(listing.stdout)) {
    let p = e.path;
    if (e.kind === 'symlink') {
      // "-lln" shows "name -> target"; the extracted link says where the name ends.
      let target: string | undefined;
      const arrow = p.indexOf(' -> ');
      for (let at = arrow; at >= 0 && target === undefined; at = p.indexOf(' -> ', at + 1)) {
        try {
          if (fs.readlinkSync(path.join(tree, p.slice(0, at))) === p.slice(at + 4)) target = p.slice(0, at);
        } catch {
          // not this split
        }
      }
      p = target ?? (arrow >= 0 ? p.slice(0, arrow) : p);
    }
    // unsquashfs keeps hard links as hard links: the extracted copy's inode number groups them.
    let inode: string | undefined;
    try {
      const stats = fs.lstatSync(path.join(tree, p));
      if (!stats.isDirectory()) inode = String(stats.ino);
    } catch {
      inode = undefined;
    }
    entries.set(p, { kind: e.kind, mode: e.mode, uid: e.uid, gid: e.gid, inode });
  }
  return { entries, extracted: (p) => path.join(tree, p) };
}

/**
 * Reads the ext4 or squashfs in the partition at byte `offset` of `image` with debugfs or
 * unsquashfs, and runs `use` on the tree while its extracted copy exists; the private folder is
 * removed afterwards, whatever happens.
 */
export async function withToolTree<T>(
  type: 'ext4' | 'squashfs',
  tool: string,
  image: string,
  offset: number,
  signal: AbortSignal | undefined,
  use: (tree: ToolTree) => Promise<T> | T,
): Promise<T> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-verify-'));
  try {
    const tree = type === 'ext4' ? await readExt4(tool, image, offset, work, signal) : await readSquashfs(tool, image, offset, work, signal);
    return await use(tree);
  } finally {
    removeAll(work);
  }
}

/** Removes the private folder, also where the extracted tree has folders without write permission (a 0555 source folder). */
function removeAll(work: string): void {
  const unlock = (dir: string) => {
    try {
      fs.chmodSync(dir, 0o700);
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) unlock(path.join(dir, entry.name));
    } catch {
      // rmSync reports what is left
    }
  };
  try {
    fs.rmSync(work, { recursive: true, force: true });
  } catch {
    unlock(work);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
