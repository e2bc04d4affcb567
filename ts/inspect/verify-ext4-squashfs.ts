/**
 * `verify` for ext4 and squashfs partitions: the superblock through imgforge's probes
 * (crates/fs-probe: its findings, the label, UUID and hash seed where the spec fixes them, the
 * compression), then the tree read back with debugfs or unsquashfs (read-tools.ts) against the
 * spec's `files` as the plan scanned them for the build (ToolTree.entries): every path,
 * its kind, permission bits, owner (0:0 with `ownership: root`), a file's bytes, a symlink's
 * target, and which names are hard links of one inode.
 */
import * as fs from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { native, type SourceEntry, type ToolTree as ScannedTree } from '../native';
import { readAt, unreadable, type ImageFile } from './image';
import { requireReader, withToolTree, type ToolTree, type ToolTreeEntry } from './read-tools';
import type { Difference } from '../types';

/** What the spec says of an ext4 or squashfs, for verify. */
export interface ToolFilesystemExpectation {
  type: 'ext4' | 'squashfs';
  /** The spec's `files` as planning scanned them: what the build staged for the tool. */
  sources: ScannedTree;
  ownership: 'root' | 'source';
  /** ext4: the label (undefined: none). */
  label?: string | undefined;
  /** ext4: the UUID and hash seed, only where the spec fixes them (given, or from a seed). */
  uuid?: string;
  hashSeed?: string;
  /** squashfs: the compressor asked for. */
  compression?: string;
}

const COMPARE_CHUNK = 4 * 1024 * 1024;
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** The first byte where two files differ, or -1; `length` is the source's size. */
function firstDifference(sourcePath: string, imageCopy: string, length: number): number {
  const open = (file: string, what: string) => {
    try {
      return fs.openSync(file, 'r');
    } catch (error) {
      throw new ImgforgeError(what === 'source' ? 'CONTENTS' : 'IMAGE', `${file}: ${describeFsError(error as NodeJS.ErrnoException)}`);
    }
  };
  const a = open(sourcePath, 'source');
  try {
    const b = open(imageCopy, 'image');
    try {
      for (let done = 0; done < length; done += COMPARE_CHUNK) {
        const want = Math.min(COMPARE_CHUNK, length - done);
        const expected = readAt(a, done, want);
        const actual = readAt(b, done, want);
        if (expected.length < want) throw new ImgforgeError('SOURCE_CHANGED', `${sourcePath}: shorter than when it was planned`);
        if (!expected.equals(actual)) {
          for (let i = 0; i < want; i++) if (expected[i] !== actual[i]) return done + i;
        }
      }
      return -1;
    } finally {
      fs.closeSync(b);
    }
  } finally {
    fs.closeSync(a);
  }
}

/** One entry against the spec's: kind, permissions, owner, then a file's bytes or a symlink's target. Bytes compared. */
function compareEntry(want: SourceEntry, found: ToolTreeEntry, tree: ToolTree, ownership: 'root' | 'source', differ: (message: string) => void): number {
  if (found.kind !== want.kind) {
    differ(`is a ${found.kind} in the image; the spec has a ${want.kind}`);
    return 0;
  }
  // A folder made only to hold targets has no source to take permissions from.
  if (want.source !== undefined && found.mode !== want.mode) differ(`mode is ${octal(found.mode)} in the image; the source has ${octal(want.mode)}`);
  const owner = ownership === 'root' ? '0:0' : `${want.uid}:${want.gid}`;
  if ((want.source !== undefined || ownership === 'root') && `${found.uid}:${found.gid}` !== owner) {
    differ(`owner is ${found.uid}:${found.gid} in the image; the spec gives ${owner} (ownership: ${ownership})`);
  }
  const copy = tree.extracted(want.path);
  if (want.kind === 'symlink') {
    let target: string;
    try {
      target = fs.readlinkSync(copy);
    } catch {
      differ('the symlink could not be read back');
      return 0;
    }
    if (target !== want.target) differ(`points to ${JSON.stringify(target)} in the image; the source to ${JSON.stringify(want.target)}`);
    return 0;
  }
  if (want.kind !== 'file') return 0;
  let size: number;
  try {
    size = fs.lstatSync(copy).size;
  } catch {
    differ('its data could not be read back');
    return 0;
  }
  if (size !== want.size) {
    differ(`is ${size} bytes in the image; the source ${want.source} has ${want.size}`);
    return 0;
  }
  const at = firstDifference(want.source!, copy, want.size);
  if (at >= 0) differ(`differs from ${want.source} at byte ${at}`);
  return want.size;
}

/** Names that are one inode in the spec must be one in the image, and only those. */
function compareHardLinks(expected: readonly SourceEntry[], found: ReadonlyMap<string, ToolTreeEntry>, differ: (path: string, message: string) => void): void {
  const wantedGroup = new Map<string, number | undefined>(expected.map((e) => [e.path, e.link ?? undefined]));
  const firstOfLink = new Map<number, string>();
  const firstOfInode = new Map<string, string>();
  for (const e of expected) {
    const actual = found.get(e.path);
    if (actual === undefined || actual.kind === 'directory' || actual.kind !== e.kind || actual.inode === undefined) continue;
    if (e.link !== undefined && e.link !== null) {
      const first = firstOfLink.get(e.link);
      if (first === undefined) firstOfLink.set(e.link, e.path);
      else if (found.get(first)?.inode !== actual.inode) differ(e.path, `is not a hard link of ${first} in the image, as in the sources`);
    }
    const sameInode = firstOfInode.get(actual.inode);
    if (sameInode === undefined) firstOfInode.set(actual.inode, e.path);
    else if (wantedGroup.get(sameInode) === undefined || wantedGroup.get(sameInode) !== (e.link ?? undefined)) {
      differ(e.path, `is a hard link of ${sameInode} in the image; in the sources they are separate files`);
    }
  }
}

/** Findings after which the tree is not read: the tools would read past the partition or misread it. */
const UNREADABLE = new Set(['PARTITION_TRUNCATED', 'SUPERBLOCK_INVALID', 'FEATURE_UNSUPPORTED']);

/**
 * Superblock fields the spec fixes, and the probe's findings: 'absent' when there is no such
 * filesystem, 'unreadable' when a finding says its tree cannot be read.
 */
async function compareSuperblock(
  expect: ToolFilesystemExpectation,
  image: ImageFile,
  offset: number,
  length: number,
  differ: (message: string) => void,
): Promise<'absent' | 'unreadable' | 'readable'> {
  const binding = native();
  const judge = (findings: ReadonlyArray<{ code: string; message: string }>) => {
    for (const finding of findings) differ(`${finding.code}: ${finding.message}`);
    return findings.some((f) => UNREADABLE.has(f.code)) ? 'unreadable' : 'readable';
  };
  const field = (name: string, found: string | undefined, wanted: string | undefined) => {
    if (found !== wanted) differ(`${name}: the image has ${JSON.stringify(found ?? null)}; the spec gives ${JSON.stringify(wanted ?? null)}`);
  };
  try {
    if (expect.type === 'ext4') {
      const report = await binding.readExt4Async(image.path, offset, length);
      if (report === null) return 'absent';
      const readable = judge(report.findings);
      field('type', report.kind, 'ext4');
      field('label', report.label ?? undefined, expect.label);
      if (expect.uuid !== undefined) field('uuid', report.uuid, expect.uuid.toUpperCase());
      if (expect.hashSeed !== undefined) field('hashSeed', report.hashSeed, expect.hashSeed.toUpperCase());
      return readable;
    }
    const report = await binding.readSquashfsAsync(image.path, offset, length);
    if (report === null) return 'absent';
    const readable = judge(report.findings);
    // "none" stores everything uncompressed; the superblock still names mksquashfs's default.
    if (expect.compression !== undefined && expect.compression !== 'none') field('compression', report.compression, expect.compression);
    return readable;
  } catch (error) {
    throw unreadable(image.path, error);
  }
}

/**
 * Every difference between the ext4 or squashfs in the `length` bytes at `offset` of `image` and
 * `expect`, under `where` ("partitions[1].filesystem"); returns the file bytes compared. Needs
 * debugfs (e2fsprogs) or unsquashfs (squashfs-tools): a missing one is a TOOL error.
 */
export async function compareToolFilesystem(
  expect: ToolFilesystemExpectation,
  image: ImageFile,
  offset: number,
  length: number,
  where: string,
  out: Difference[],
  signal?: AbortSignal,
): Promise<number> {
  const tool = requireReader(expect.type, where);
  const expected = expect.sources.entries();
  const superblock = await compareSuperblock(expect, image, offset, length, (message) => out.push({ where, message }));
  if (superblock === 'absent') out.push({ where, message: `the partition holds no ${expect.type} filesystem` });
  if (superblock !== 'readable') return 0;
  return withToolTree(expect.type, tool, image.path, offset, signal, (tree) => {
    const differ = (path: string, message: string) => out.push({ where: `${where}:${path}`, message });
    let bytes = 0;
    const wanted = new Set(expected.map((e) => e.path));
    for (const want of expected) {
      const found = tree.entries.get(want.path);
      if (found === undefined) {
        differ(want.path, `is missing from the image: the spec has a ${want.kind} here`);
        continue;
      }
      bytes += compareEntry(want, found, tree, expect.ownership, (message) => differ(want.path, message));
    }
    compareHardLinks(expected, tree.entries, differ);
    for (const [path, found] of tree.entries) {
      // mkfs.ext4 always makes /lost+found, for e2fsck.
      if (wanted.has(path) || (expect.type === 'ext4' && path === '/lost+found')) continue;
      differ(path, `is a ${found.kind} in the image the spec does not have`);
    }
    return bytes;
  });
}
