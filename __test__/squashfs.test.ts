/**
 * squashfs partitions end to end (issue 14): made by mksquashfs before the disk is laid out ("auto"
 * is its exact size), copied into its partition, and read back by unsquashfs (-lln with -o offset)
 * and, as root, by the kernel; the compression asked for is the superblock's; reproducible and
 * seed-insensitive only where it should be; bad input is one line, exit 2, nothing left.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compressionArguments, mksquashfsArguments } from '../ts/build/squashfs';
import type { BuildResult, Plan, SquashfsSummary } from '../ts/types';
import { imgforge } from './helpers/cli';
import { oneLineError } from './helpers/fault-checks';
import { loopUnavailableReason } from './helpers/loop';
import { hasTool, tempDir } from './helpers/tools';
import { EPOCH, leftovers, listing, rootOwned, sameFiles, varTree } from './helpers/tool-fs';

const ENV = { SOURCE_DATE_EPOCH: String(EPOCH) };
const haveTools = hasTool('mksquashfs') && hasTool('unsquashfs');
/** The superblock's compression id (squashfs_fs.h). */
const COMPRESSION_IDS: Record<string, number> = { gzip: 1, xz: 4, lz4: 5, zstd: 6 };

function writeSpec(dir: string, filesystem: Record<string, unknown>, extra: Record<string, unknown> = {}, size: string | number = 'auto'): string {
  const spec = {
    seed: 'squashfs-test',
    alignment: '4KiB',
    partitions: [
      { name: 'esp', type: 'esp', size: '1MiB' },
      { name: 'usr', type: 'linux-generic', size, filesystem: { type: 'squashfs', files: [{ source: './var', target: '/' }], ...filesystem } },
    ],
    ...extra,
  };
  const file = path.join(dir, 'spec.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

function build(t: { is: (a: unknown, b: unknown, m?: string) => void }, spec: string, output: string): BuildResult {
  const result = imgforge(['build', spec, '-o', output, '--json', '-q'], { env: ENV });
  t.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as BuildResult;
}

test('mksquashfs is asked for the compression, root owners and SOURCE_DATE_EPOCH', (t) => {
  t.deepEqual(compressionArguments('none'), ['-noI', '-noD', '-noF', '-noX']);
  t.deepEqual(compressionArguments('lz4'), ['-comp', 'lz4']);
  const args = mksquashfsArguments({ ownership: 'root', compression: 'zstd', timestamp: 5, files: [] }, '/in', '/out', undefined);
  t.deepEqual(args.slice(0, 2), ['/in', '/out']);
  for (const flag of ['-all-root', '-no-xattrs', '-reproducible', '-noappend']) t.true(args.includes(flag), flag);
  t.deepEqual(args.slice(args.indexOf('-all-time'), args.indexOf('-all-time') + 4), ['-all-time', '5', '-mkfs-time', '5']);
  const source = mksquashfsArguments({ ownership: 'source', compression: 'xz', timestamp: undefined, files: [] }, '/in', '/out', { pseudoFile: '/p', root: { path: '/', uid: 7, gid: 8 } });
  t.false(source.includes('-all-root'));
  t.deepEqual(source.slice(-6), ['-pf', '/p', '-root-uid', '7', '-root-gid', '8']);
});

for (const compression of ['zstd', 'xz', 'gzip', 'lz4', 'none'] as const) {
  test(`compression ${compression}: the superblock says so, "auto" is the exact size, unsquashfs -lln lists the tree owned by 0/0`, (t) => {
    if (!haveTools) return t.pass('skipped: squashfs-tools is not installed');
    const dir = tempDir('imgforge-squashfs-');
    const root = varTree(dir);
    const image = path.join(dir, 'disk.img');
    const result = build(t, writeSpec(dir, { compression }), image);
    const partition = result.partitions[1];
    const summary = partition.filesystem as SquashfsSummary;
    t.false(summary.estimated);
    t.is(summary.compression, compression);
    t.is(partition.size, summary.size, 'with 4 KiB alignment, the partition is exactly the filesystem');
    const superblock = Buffer.alloc(96);
    const fd = fs.openSync(image, 'r');
    fs.readSync(fd, superblock, 0, 96, partition.offset);
    fs.closeSync(fd);
    t.is(superblock.readUInt32LE(0), 0x73717368, 'hsqs');
    // bytes_used, rounded up to 4 KiB (mksquashfs pads), is the size.
    t.is(Math.ceil(Number(superblock.readBigUInt64LE(40)) / 4096) * 4096, summary.size);
    t.is(superblock.readUInt32LE(8), EPOCH, 'mkfs time');
    const flags = superblock.readUInt16LE(24);
    if (compression === 'none') t.is(flags & 0x000b, 0x000b, 'inodes, data and fragments uncompressed');
    else t.is(superblock.readUInt16LE(20), COMPRESSION_IDS[compression]);
    const lln = execFileSync('unsquashfs', ['-lln', '-o', String(partition.offset), image], { encoding: 'utf8' });
    const lines = lln.split('\n').filter((l) => l.includes('squashfs-root/'));
    t.true(lines.length >= 10, lln);
    for (const line of lines) t.regex(line, /^\S+ 0\/0 /, line);
    t.true(lines.some((l) => l.startsWith('-rwsr-xr-x 0/0') && l.endsWith('squashfs-root/lib/app/block')), lln);
    t.true(lines.some((l) => l.includes('squashfs-root/log/big-link -> ../lib/app/big')), lln);
    t.true(lines.every((l) => l.includes('2023-11-14')), 'times from SOURCE_DATE_EPOCH');
    t.truthy(root);
    t.deepEqual(leftovers(dir), []);
  });
}

test('two builds are byte-identical; several sources are staged and merged at their targets', (t) => {
  if (!haveTools) return t.pass('skipped: squashfs-tools is not installed');
  const dir = tempDir('imgforge-squashfs-repro-');
  varTree(dir);
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  const spec = writeSpec(dir, { files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  const a = path.join(dir, 'a.img');
  const b = path.join(dir, 'b.img');
  const partition = build(t, spec, a).partitions[1];
  build(t, spec, b);
  t.true(fs.readFileSync(a).equals(fs.readFileSync(b)));
  const out = path.join(dir, 'out');
  execFileSync('unsquashfs', ['-o', String(partition.offset), '-d', out, a, 'etc/motd'], { stdio: 'ignore' });
  t.is(fs.readFileSync(path.join(out, 'etc', 'motd'), 'utf8'), 'hello\n');
  t.deepEqual(leftovers(dir), []);
});

test('ownership "source" keeps the sources\' owners, staged folders and the root included', (t) => {
  if (!haveTools) return t.pass('skipped: squashfs-tools is not installed');
  if (process.getuid?.() !== 0) return t.pass('skipped: needs root to give the sources another owner');
  const dir = tempDir('imgforge-squashfs-owner-');
  varTree(dir);
  fs.mkdirSync(path.join(dir, 'var', 'a b'));
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  execFileSync('chown', ['-R', '1234:1234', path.join(dir, 'var', 'a b')]);
  execFileSync('chown', ['77:78', path.join(dir, 'motd')]);
  const spec = writeSpec(dir, { ownership: 'source', files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  const image = path.join(dir, 'disk.img');
  const partition = build(t, spec, image).partitions[1];
  const lln = execFileSync('unsquashfs', ['-lln', '-o', String(partition.offset), image], { encoding: 'utf8' }).split('\n');
  const owner = (suffix: string) => lln.find((l) => l.endsWith(suffix))?.split(/\s+/)[1];
  t.is(owner('squashfs-root'), '1234/1234', 'the root');
  t.is(owner('squashfs-root/lib/app'), '1234/1234', 'a staged folder');
  t.is(owner('squashfs-root/a b'), '1234/1234', 'a name with a space');
  t.is(owner('squashfs-root/lib/app/block'), '1234/1234', 'a linked file');
  t.is(owner('squashfs-root/etc/motd'), '77/78');
  t.is(owner('squashfs-root/etc'), '0/0', 'a folder made only to hold a target');
});

test.serial('as root, the kernel mounts the squashfs partition and reads back the sources: bytes, modes, 0:0, symlinks, hard links', (t) => {
  const why = !haveTools ? 'squashfs-tools is not installed' : loopUnavailableReason();
  if (why !== undefined) return t.pass(`skipped: ${why}`);
  const dir = tempDir('imgforge-squashfs-mount-');
  const root = varTree(dir);
  const image = path.join(dir, 'disk.img');
  const partition = build(t, writeSpec(dir, {}), image).partitions[1];
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'squashfs', '-o', `loop,ro,offset=${partition.offset},sizelimit=${partition.size}`, image, mnt]);
  try {
    t.deepEqual(listing(mnt), rootOwned(listing(root)));
    sameFiles(t, root, mnt);
    t.is(fs.statSync(path.join(mnt, 'lib', 'hostname')).ino, fs.statSync(path.join(mnt, 'log', 'hostname-link')).ino);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('plan shows an upper bound marked as an estimate, without mksquashfs', (t) => {
  const dir = tempDir('imgforge-squashfs-plan-');
  varTree(dir);
  const result = imgforge(['plan', writeSpec(dir, {}), '--json'], { env: { ...ENV, PATH: '/nonexistent' } });
  t.is(result.status, 0, result.stderr);
  const summary = (JSON.parse(result.stdout) as Plan).partitions[1].filesystem as SquashfsSummary;
  t.true(summary.estimated);
  t.true(summary.size >= summary.fileBytes);
  if (!haveTools) return;
  for (const compression of ['none', 'zstd'] as const) {
    const built = build(t, writeSpec(dir, { compression }), path.join(dir, `${compression}.img`)).partitions[1].filesystem as SquashfsSummary;
    t.true(built.size <= summary.size, `the estimate ${summary.size} bounds the ${compression} squashfs (${built.size})`);
  }
});

test('bad input: no mksquashfs, a fixed size too small: one line, exit 2, nothing left', (t) => {
  const dir = tempDir('imgforge-squashfs-bad-');
  varTree(dir);
  const output = path.join(dir, 'disk.img');
  oneLineError(t, imgforge(['build', writeSpec(dir, {}), '-o', output], { env: { ...ENV, PATH: '/nonexistent' } }), 2, 'mksquashfs was not found on PATH', 'squashfs-tools');
  t.deepEqual(fs.readdirSync(dir).sort(), ['spec.json', 'var']);
  if (!haveTools) return;
  // The size is known once mksquashfs ran: -q leaves out its progress line ("mksquashfs is making usr").
  oneLineError(t, imgforge(['build', writeSpec(dir, { compression: 'none' }, {}, '1MiB'), '-o', output, '-q'], { env: ENV }), 2, 'partitions[1].size', "too small for the partition's squashfs filesystem");
  t.deepEqual(fs.readdirSync(dir).sort(), ['spec.json', 'var']);
  // An output inside the source folder is refused before mksquashfs reads that folder.
  const inside = path.join(dir, 'var', 'log', 'disk.img');
  oneLineError(t, imgforge(['build', writeSpec(dir, {}), '-o', inside], { env: ENV }), 2, 'would be inside', 'partitions[1].filesystem.files[0].source');
  t.deepEqual(leftovers(path.join(dir, 'var', 'log')), []);
  t.false(fs.existsSync(inside));
});
