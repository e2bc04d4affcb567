/**
 * ext4 partitions end to end (issue 14): built through mkfs.ext4 straight into the image, read
 * back with e2fsprogs' own tools (e2fsck -fn, tune2fs -l, debugfs, resize2fs -P) and, as root, by
 * the kernel (mount -o loop,ro,offset=,sizelimit=); reproducible and seed-sensitive; bad input is
 * one line, exit 2, nothing left beside the output.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deriveGuid } from '../ts/plan/guid';
import { defaultJournalBlocks, ext4Geometry, ext4MinimumBlocks, hasSuperblockBackup } from '../ts/plan/ext4-size';
import { usedInodes, fixUpScript, debugfsPath } from '../ts/build/ext4';
import { compareVersions, findOnPath } from '../ts/tools';
import { build } from '../ts/build/build';
import type { ImgforgeError } from '../ts/errors';
import type { BuildProgress, BuildResult, Ext4Summary, Plan } from '../ts/types';
import { imgforge } from './helpers/cli';
import { oneLineError } from './helpers/fault-checks';
import { imgforgeAs, NOBODY, sharedDir, unprivilegedRunner } from './helpers/faults';
import { loopUnavailableReason } from './helpers/loop';
import { hasTool, tempDir } from './helpers/tools';
import { EPOCH, leftovers, listing, rootOwned, sameFiles, varTree } from './helpers/tool-fs';

const ENV = { SOURCE_DATE_EPOCH: String(EPOCH) };
const haveTools = hasTool('mkfs.ext4') && hasTool('debugfs') && hasTool('e2fsck');

function writeSpec(dir: string, filesystem: Record<string, unknown>, extra: Record<string, unknown> = {}, size: string | number = 'auto'): string {
  const spec = {
    seed: 'ext4-test',
    partitions: [
      { name: 'esp', type: 'esp', size: '1MiB' },
      { name: 'var', type: 'var', size, filesystem: { type: 'ext4', label: 'var', files: [{ source: './var', target: '/' }], ...filesystem } },
    ],
    ...extra,
  };
  const file = path.join(dir, 'spec.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

function buildJson(t: { is: (a: unknown, b: unknown, m?: string) => void }, spec: string, output: string, env: NodeJS.ProcessEnv = ENV): BuildResult {
  const result = imgforge(['build', spec, '-o', output, '--json', '-q'], { env });
  t.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as BuildResult;
}

const device = (image: string, offset: number) => `${image}?offset=${offset}`;

// ---- pure arithmetic ----

test('the journal follows e2fsprogs sizes and superblock backups sit in groups 0, 1 and powers of 3, 5, 7', (t) => {
  t.is(defaultJournalBlocks(4096), 1024);
  t.is(defaultJournalBlocks(32767), 1024);
  t.is(defaultJournalBlocks(32768), 4096);
  t.is(defaultJournalBlocks(256 * 1024), 8192);
  t.is(defaultJournalBlocks(4096 * 1024), 32768);
  t.deepEqual([...Array(50).keys()].filter(hasSuperblockBackup), [0, 1, 3, 5, 7, 9, 25, 27, 49]);
});

test('the minimum grows until the metadata it brings fits, and a fixed size is checked at its own size', (t) => {
  const empty = { inodes: 1, fileBlocks: 0, directoryBlocks: 1, symlinkBlocks: 0 };
  t.is(ext4MinimumBlocks(empty, 0), 4096, 'the smallest filesystem: 16 MiB');
  const gig = { inodes: 20_001, fileBlocks: 262_144, directoryBlocks: 300, symlinkBlocks: 0 };
  const blocks = ext4MinimumBlocks(gig, 0);
  t.true(ext4Geometry(gig, 0, blocks).neededBlocks <= blocks);
  t.true(ext4Geometry(gig, 0, blocks - 256).neededBlocks > blocks - 256, 'one MiB less does not fit');
  t.is(blocks % 256, 0);
  // minFree adds its blocks.
  t.true(ext4MinimumBlocks(gig, 256 * 2 ** 20) >= blocks + 65536);
  // Inodes: at least the tree's, else one per 16 KiB.
  const many = { inodes: 100_000, fileBlocks: 10, directoryBlocks: 10, symlinkBlocks: 0 };
  t.true(ext4Geometry(many, 0, ext4MinimumBlocks(many, 0)).inodes >= 100_011);
  t.is(ext4Geometry(empty, 0, 65536).inodes, 16384);
});

test('the fix-up script sets owners and times on used inodes, and source owners on staged nodes by path', (t) => {
  const dump = 'Inode count:              64\nInodes per group:         32\nGroup 0:\n  Free inodes: 14-32\nGroup 1:\n  Free inodes: 33-40, 42-64\n';
  t.deepEqual(usedInodes(dump), [2, 11, 12, 13, 41]);
  const layout = { offset: 0, blocks: 4096, inodes: 64, journalBlocks: 1024, options: { label: undefined, uuid: 'x', hashSeed: 'y', ownership: 'root' as const, timestamp: 5, minFree: 0, files: [] } };
  t.is(fixUpScript(layout, [2], []), 'sif <2> uid 0\nsif <2> gid 0\nsif <2> atime @5\nsif <2> mtime @5\nsif <2> ctime @5\nsif <2> crtime @5\n');
  const source = { ...layout, options: { ...layout.options, ownership: 'source' as const, timestamp: undefined } };
  t.is(fixUpScript(source, [2, 11], [{ path: '/a "b"', uid: 7, gid: 8 }]), 'sif "/a ""b""" uid 7\nsif "/a ""b""" gid 8\n');
  // The root folder's mode, which mkfs.ext4 -d leaves at 0755, is set from its source.
  t.is(fixUpScript(source, [2], [], 0o711), 'sif <2> mode 040711\n');
  t.is(fixUpScript(source, [2], [], 0o755), '');
  t.throws(() => debugfsPath('/a\nb'), { message: /line break/ });
  t.true(compareVersions([1, 47, 0], [1, 46, 6]) > 0);
  t.true(compareVersions([4, 5], [4, 5, 0]) === 0);
});

// ---- built images ----

test('an ext4 partition: e2fsck -fn clean, tune2fs shows the label, derived UUID and hash seed, owners 0:0 and times from SOURCE_DATE_EPOCH', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  const dir = tempDir('imgforge-ext4-');
  varTree(dir);
  const spec = writeSpec(dir, { minFree: '8MiB' });
  const image = path.join(dir, 'disk.img');
  const result = buildJson(t, spec, image);
  const partition = result.partitions[1];
  const summary = partition.filesystem as Ext4Summary;
  t.is(summary.type, 'ext4');
  t.false(summary.estimated);
  t.is(summary.size, partition.size);
  t.is(summary.uuid, deriveGuid('ext4-test', 'imgforge:ext4-uuid:var'));
  t.is(summary.hashSeed, deriveGuid('ext4-test', 'imgforge:ext4-hash-seed:var'));
  t.is(summary.files, 5, 'block, block-and-one, big, empty, hostname (its link once)');
  const fsck = spawnSync('e2fsck', ['-fn', device(image, partition.offset)], { encoding: 'utf8' });
  t.is(fsck.status, 0, fsck.stdout + fsck.stderr);
  const tune = execFileSync('tune2fs', ['-l', device(image, partition.offset)], { encoding: 'utf8' });
  t.regex(tune, /Filesystem volume name:\s+var\n/);
  t.regex(tune, new RegExp(`Filesystem UUID:\\s+${summary.uuid.toLowerCase()}\\n`));
  t.regex(tune, new RegExp(`Directory Hash Seed:\\s+${summary.hashSeed.toLowerCase()}\\n`));
  t.regex(tune, new RegExp(`Block count:\\s+${partition.size / 4096}\\n`));
  t.regex(tune, /Filesystem created:\s+Tue Nov 14 22:13:20 2023/);
  t.is(summary.inodes, Number(/Inode count:\s+(\d+)/.exec(tune)?.[1]), 'build --json gives the inode count made');
  t.is(summary.freeBytes, Number(/Free blocks:\s+(\d+)/.exec(tune)?.[1]) * 4096, 'and the free bytes');
  t.true(summary.freeBytes! >= 8 * 2 ** 20, 'at least minFree is free');
  const stat = execFileSync('debugfs', ['-R', 'stat /lib/app/block', device(image, partition.offset)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.regex(stat, /User:\s+0\s+Group:\s+0/);
  t.regex(stat, /Mode:\s+04755/);
  for (const field of ['ctime', 'atime', 'mtime', 'crtime']) t.regex(stat, new RegExp(`${field}: 0x6553f100:00000000`));
  t.deepEqual(leftovers(dir), []);
});

test('two builds with a seed and SOURCE_DATE_EPOCH are byte-identical; another seed changes the filesystem', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  const dir = tempDir('imgforge-ext4-repro-');
  varTree(dir);
  // Two sources: the tree is staged, so the staging folder's own times must not leak in either.
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  const files = [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }];
  const spec = writeSpec(dir, { files });
  const a = path.join(dir, 'a.img');
  const b = path.join(dir, 'b.img');
  buildJson(t, spec, a);
  buildJson(t, spec, b);
  t.true(fs.readFileSync(a).equals(fs.readFileSync(b)), 'byte-identical');
  const other = writeSpec(dir, { files }, { seed: 'another' });
  const c = path.join(dir, 'c.img');
  const result = buildJson(t, other, c);
  const { offset, size } = result.partitions[1];
  t.false(fs.readFileSync(a).subarray(offset, offset + size).equals(fs.readFileSync(c).subarray(offset, offset + size)), 'the ext4 differs');
  t.deepEqual(leftovers(dir), []);
});

test('size "auto" is within 5% or 8 MiB of resize2fs -P plus minFree, and a fixed size too small is one line, exit 2, nothing left', (t) => {
  if (!haveTools || !hasTool('resize2fs')) return t.pass('skipped: e2fsprogs is not installed');
  const dir = tempDir('imgforge-ext4-size-');
  const root = path.join(dir, 'var');
  for (let d = 0; d < 40; d++) {
    fs.mkdirSync(path.join(root, `dir-${d}`), { recursive: true });
    for (let f = 0; f < 50; f++) fs.writeFileSync(path.join(root, `dir-${d}`, `file-with-a-longer-name-${f}`), Buffer.alloc((d * 50 + f) * 37 + 1, d));
  }
  fs.writeFileSync(path.join(root, 'large'), Buffer.alloc(48 * 2 ** 20, 7));
  for (const minFree of [0, 64 * 2 ** 20]) {
    const spec = writeSpec(dir, { minFree });
    const image = path.join(dir, `auto-${minFree}.img`);
    const partition = buildJson(t, spec, image).partitions[1];
    const minimum = execFileSync('resize2fs', ['-P', device(image, partition.offset)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const blocks = Number(/Estimated minimum size of the filesystem: (\d+)/.exec(minimum)?.[1]);
    const bound = blocks * 4096 + minFree;
    const slack = Math.max(0.05 * bound, 8 * 2 ** 20);
    t.true(partition.size >= bound - slack && partition.size <= bound + slack, `auto ${partition.size} against resize2fs -P ${blocks * 4096} + minFree ${minFree}`);
    const fsck = spawnSync('e2fsck', ['-fn', device(image, partition.offset)], { encoding: 'utf8' });
    t.is(fsck.status, 0, fsck.stdout);
  }
  const small = writeSpec(dir, {}, {}, '20MiB');
  const result = imgforge(['build', small, '-o', path.join(dir, 'small.img')], { env: ENV });
  oneLineError(t, result, 2, 'partitions[1].size', "too small for the partition's ext4 filesystem", /it needs at least \d+ bytes/);
  t.false(fs.existsSync(path.join(dir, 'small.img')));
  t.deepEqual(leftovers(dir), []);
});

test('ownership "source" keeps the sources\' owners, staged folders included (set offline by debugfs)', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  if (process.getuid?.() !== 0) return t.pass('skipped: needs root to give the sources another owner');
  const dir = tempDir('imgforge-ext4-owner-');
  varTree(dir);
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  execFileSync('chown', ['4321:99', path.join(dir, 'motd')]);
  const spec = writeSpec(dir, { ownership: 'source', files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  const image = path.join(dir, 'disk.img');
  const { offset } = buildJson(t, spec, image).partitions[1];
  const stat = (p: string) => execFileSync('debugfs', ['-R', `stat ${p}`, device(image, offset)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.regex(stat('/lib/app/block'), /User:\s+1234\s+Group:\s+1234/);
  t.regex(stat('/lib/app'), /User:\s+1234\s+Group:\s+1234/, 'a staged folder gets its source owner');
  t.regex(stat('/etc/motd'), /User:\s+4321\s+Group:\s+99/);
  t.regex(stat('/etc'), /User:\s+0\s+Group:\s+0/, 'a folder made only to hold a target is 0:0');
});

test.serial('as root, the kernel mounts the ext4 partition and reads back the sources: bytes, modes, owners 0:0, symlinks, hard links', (t) => {
  const why = !haveTools ? 'e2fsprogs is not installed' : loopUnavailableReason();
  if (why !== undefined) return t.pass(`skipped: ${why}`);
  const dir = tempDir('imgforge-ext4-mount-');
  const root = varTree(dir);
  const spec = writeSpec(dir, {});
  const image = path.join(dir, 'disk.img');
  const partition = buildJson(t, spec, image).partitions[1];
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'ext4', '-o', `loop,ro,offset=${partition.offset},sizelimit=${partition.size}`, image, mnt]);
  try {
    t.deepEqual(listing(mnt), rootOwned(listing(root)));
    sameFiles(t, root, mnt);
    const a = fs.statSync(path.join(mnt, 'lib', 'hostname'));
    const b = fs.statSync(path.join(mnt, 'log', 'hostname-link'));
    t.is(a.ino, b.ino, 'hard links share one inode');
    t.is(a.nlink, 2);
    t.is(fs.readlinkSync(path.join(mnt, 'log', 'big-link')), '../lib/app/big');
    t.is(Math.floor(a.mtimeMs / 1000), EPOCH);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

// ---- plan and bad input ----

test('plan shows the ext4 partition without running any tool, its size marked as an estimate', (t) => {
  const dir = tempDir('imgforge-ext4-plan-');
  varTree(dir);
  const spec = writeSpec(dir, { minFree: '16MiB' });
  const result = imgforge(['plan', spec, '--json'], { env: { ...ENV, PATH: '/nonexistent' } });
  t.is(result.status, 0, result.stderr);
  const planned = (JSON.parse(result.stdout) as Plan).partitions[1].filesystem as Ext4Summary;
  t.is(planned.type, 'ext4');
  t.true(planned.estimated);
  t.true(planned.size >= 16 * 2 ** 20 + 3 * 2 ** 20);
  const text = imgforge(['plan', spec], { env: { ...ENV, PATH: '/nonexistent' } });
  t.regex(text.stdout, /ext4 "var": 5 files, .* about \d+ MiB \(mkfs\.ext4\)/);
});

test('without mkfs.ext4 on PATH: one line naming the tool and the package, exit 2, nothing written', (t) => {
  const dir = tempDir('imgforge-ext4-notool-');
  varTree(dir);
  const spec = writeSpec(dir, {});
  const result = imgforge(['build', spec, '-o', path.join(dir, 'disk.img')], { env: { ...ENV, PATH: '/nonexistent' } });
  oneLineError(t, result, 2, 'partitions[1].filesystem', 'mkfs.ext4 was not found on PATH', 'apt-get install e2fsprogs', 'dnf install e2fsprogs', 'apk add e2fsprogs');
  t.deepEqual(fs.readdirSync(dir).sort(), ['spec.json', 'var']);
});

test('a name over 255 bytes and a missing source: one line naming the path, exit 2, nothing left', (t) => {
  const dir = tempDir('imgforge-ext4-bad-');
  varTree(dir);
  const long = writeSpec(dir, { files: [{ source: './var/lib/hostname', target: `/${'n'.repeat(256)}` }] });
  oneLineError(t, imgforge(['build', long, '-o', path.join(dir, 'disk.img')], { env: ENV }), 2, 'partitions[1].filesystem.files', '256 bytes long; names hold at most 255');
  const missing = writeSpec(dir, { files: [{ source: './nowhere', target: '/' }] });
  oneLineError(t, imgforge(['build', missing, '-o', path.join(dir, 'disk.img')], { env: ENV }), 2, 'partitions[1].filesystem.files', 'nowhere');
  t.deepEqual(fs.readdirSync(dir).sort(), ['spec.json', 'var']);
});

test('an unreadable source (built as an unprivileged user): one line, exit 2, no staging folder or temporary left', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  const runner = unprivilegedRunner();
  if (runner.reason !== undefined) return t.pass(`skipped: ${runner.reason}`);
  const dir = sharedDir(true);
  const root = path.join(dir, 'var');
  fs.mkdirSync(path.join(root, 'secret'), { recursive: true });
  fs.writeFileSync(path.join(root, 'secret', 'key'), 'k');
  fs.writeFileSync(path.join(root, 'open'), 'o');
  fs.chmodSync(path.join(root, 'secret'), 0o000);
  const spec = writeSpec(dir, {});
  oneLineError(t, imgforgeAs(runner.wrap, ['build', spec, '-o', path.join(dir, 'disk.img')]), 2, 'partitions[1].filesystem.files', 'secret');
  t.deepEqual(leftovers(dir), []);
  // A file the scan can stat but mkfs.ext4 could not read: named before anything is written.
  fs.chmodSync(path.join(root, 'secret'), 0o755);
  fs.chmodSync(path.join(root, 'secret', 'key'), 0o000);
  oneLineError(t, imgforgeAs(runner.wrap, ['build', spec, '-o', path.join(dir, 'disk.img')]), 2, 'partitions[1].filesystem.files: /secret/key', 'cannot be read');
  t.deepEqual(leftovers(dir), []);
  t.false(fs.existsSync(path.join(dir, 'disk.img')));
});

test('built as an unprivileged user, every entry is still owned by 0:0 (no root, no fakeroot)', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  if (process.getuid?.() !== 0) return t.pass('skipped: needs root to give the sources another owner and run as another user');
  const runner = unprivilegedRunner();
  if (runner.reason !== undefined) return t.pass(`skipped: ${runner.reason}`);
  const dir = sharedDir(true);
  varTree(dir);
  execFileSync('chown', ['-R', '-h', `${NOBODY}:${NOBODY}`, path.join(dir, 'var')]);
  fs.chmodSync(path.join(dir, 'var', 'lib', 'app'), 0o755);
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  // Two sources: the tree is staged by the unprivileged user, its folders made by that user.
  const spec = writeSpec(dir, { files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  const image = path.join(dir, 'disk.img');
  const run = imgforgeAs(runner.wrap, ['build', spec, '-o', image, '--json', '-q']);
  t.is(run.status, 0, run.stderr);
  const { offset } = (JSON.parse(run.stdout) as BuildResult).partitions[1];
  const ls = execFileSync('debugfs', ['-R', 'ls -l /lib/app', device(image, offset)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.regex(ls, /100644 \(1\)\s+0\s+0\s+4097/);
  t.notRegex(ls, new RegExp(String(NOBODY)));
  t.deepEqual(leftovers(dir), []);
});

test.serial('a build cancelled while mkfs.ext4 runs leaves no staging folder, temporary or image, and the sources as they were', async (t) => {
  const real = findOnPath('mkfs.ext4');
  if (!haveTools || real === undefined) return t.pass('skipped: e2fsprogs is not installed');
  const dir = tempDir('imgforge-ext4-abort-');
  varTree(dir);
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  // A mkfs.ext4 that answers -V as the real one and otherwise says it started, then waits.
  const bin = path.join(dir, 'bin');
  const marker = path.join(dir, 'started');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'mkfs.ext4'), `#!/bin/sh\ncase "$1" in -V) exec ${real} "$@";; esac\ntouch ${marker}\nexec sleep 30\n`, { mode: 0o755 });
  const spec = writeSpec(dir, { files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  const output = path.join(dir, 'disk.img');
  const controller = new AbortController();
  const path0 = process.env.PATH;
  process.env.PATH = `${bin}:${path0}`;
  t.teardown(() => (process.env.PATH = path0));
  const building = build(spec, { output, signal: controller.signal });
  building.catch(() => undefined);
  while (!fs.existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(leftovers(dir).length, 2, 'the staging folder and the image being built are there while mkfs.ext4 runs');
  controller.abort();
  const error = await t.throwsAsync(building);
  t.is((error as ImgforgeError).code, 'ABORTED');
  t.deepEqual(leftovers(dir), []);
  t.false(fs.existsSync(output));
  t.is(fs.statSync(path.join(dir, 'var', 'lib', 'hostname')).nlink, 2, 'the staging links to the sources are gone');
});

test('a staging folder a killed build left is removed by the next build of the same output', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  const dir = tempDir('imgforge-ext4-stale-');
  varTree(dir);
  fs.writeFileSync(path.join(dir, 'motd'), 'hello\n');
  // A pid that is not running: above the kernel's pid_max.
  const stale = path.join(dir, '.disk.img.99999999-0123456789ab.imgforge-stage');
  fs.mkdirSync(path.join(stale, 'root', 'ro'), { recursive: true });
  fs.chmodSync(path.join(stale, 'root', 'ro'), 0o555);
  const other = path.join(dir, '.other.img.99999999-0123456789ab.imgforge-stage');
  fs.mkdirSync(other);
  const spec = writeSpec(dir, { files: [{ source: './var', target: '/' }, { source: './motd', target: '/etc/motd' }] });
  buildJson(t, spec, path.join(dir, 'disk.img'));
  t.false(fs.existsSync(stale));
  t.true(fs.existsSync(other), "another output's folder is not this build's to remove");
});

test('the data map holds what mkfs.ext4 wrote and not the free space: a bmap copy of the image equals it', (t) => {
  if (!haveTools || !hasTool('bmaptool')) return t.pass('skipped: e2fsprogs or bmap-tools is not installed');
  const dir = tempDir('imgforge-ext4-bmap-');
  varTree(dir);
  const spec = writeSpec(dir, { minFree: '64MiB' });
  const image = path.join(dir, 'disk.img');
  const result = imgforge(['build', spec, '-o', image, '--bmap', '--json', '-q'], { env: ENV });
  t.is(result.status, 0, result.stderr);
  const built = JSON.parse(result.stdout) as BuildResult;
  const partition = built.partitions[1];
  t.true(built.dataBytes < partition.size / 2, `${built.dataBytes} bytes of data in a ${partition.size}-byte ext4 with 64 MiB free`);
  const copy = path.join(dir, 'copy.img');
  execFileSync('bmaptool', ['copy', '--bmap', `${image}.bmap`, image, copy], { stdio: 'ignore' });
  t.true(fs.readFileSync(copy).equals(fs.readFileSync(image)), 'the blocks the bmap leaves out are zeros');
  const fsck = spawnSync('e2fsck', ['-fn', device(copy, partition.offset)], { encoding: 'utf8' });
  t.is(fsck.status, 0, fsck.stdout);
});

test('an mkfs.ext4 older than 1.47.0: one line naming it, the version needed and the package, exit 2, nothing written', (t) => {
  const dir = tempDir('imgforge-ext4-old-');
  varTree(dir);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'mkfs.ext4'), '#!/bin/sh\necho "mke2fs 1.46.5 (30-Dec-2021)" >&2\necho "\tUsing EXT2FS Library version 1.46.5" >&2\nexit 1\n', { mode: 0o755 });
  const spec = writeSpec(dir, {});
  const result = imgforge(['build', spec, '-o', path.join(dir, 'disk.img')], { env: { ...ENV, PATH: `${bin}:${process.env.PATH}` } });
  oneLineError(t, result, 2, 'partitions[1].filesystem', `${bin}/mkfs.ext4 is too old (it is 1.46.5)`, 'e2fsprogs 1.47.0 or later');
  t.deepEqual(fs.readdirSync(dir).sort(), ['bin', 'spec.json', 'var']);
});

test('the root folder keeps its source\'s mode (mkfs.ext4 -d leaves it 0755), staged or read directly; verify agrees', (t) => {
  if (!haveTools) return t.pass('skipped: e2fsprogs is not installed');
  for (const staged of [false, true]) {
    const dir = tempDir('imgforge-ext4-root-mode-');
    varTree(dir);
    fs.chmodSync(path.join(dir, 'var'), 0o711);
    const files = staged ? [{ source: './var', target: '/' }, { source: './var/log/empty', target: '/placed' }] : [{ source: './var', target: '/' }];
    const spec = writeSpec(dir, { files });
    const image = path.join(dir, 'disk.img');
    const result = buildJson(t, spec, image);
    const stat = execFileSync('debugfs', ['-R', 'stat /', device(image, result.partitions[1].offset)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    t.regex(stat, /Mode:\s+0711/, staged ? 'staged' : 'read directly');
    const verified = imgforge(['verify', spec, image], { env: ENV });
    t.is(verified.status, 0, verified.stdout + verified.stderr);
  }
});

test('progress: a mkfs phase names the tool and partition (squashfs before the copies, ext4 among them); the copy total counts the squashfs made, not ext4', async (t) => {
  if (!haveTools || !hasTool('mksquashfs')) return t.pass('skipped: e2fsprogs or squashfs-tools is not installed');
  const dir = tempDir('imgforge-ext4-progress-');
  varTree(dir);
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(
    spec,
    JSON.stringify({
      seed: 'progress',
      partitions: [
        { name: 'usr', type: 'usr-x86-64', size: 'auto', filesystem: { type: 'squashfs', files: [{ source: './var', target: '/' }] } },
        { name: 'var', type: 'var', size: 'auto', filesystem: { type: 'ext4', files: [{ source: './var', target: '/' }] } },
      ],
    }),
  );
  const events: BuildProgress[] = [];
  const result = await build(spec, { output: path.join(dir, 'disk.img'), onProgress: (p) => events.push({ ...p }), progressIntervalMs: 5 });
  const mkfs = events.filter((e) => e.phase === 'mkfs').map((e) => `${e.tool} ${e.partition}`);
  t.deepEqual(mkfs, ['mksquashfs usr', 'mkfs.ext4 var']);
  const firstCopy = events.findIndex((e) => e.phase === 'copy');
  t.true(events.findIndex((e) => e.tool === 'mksquashfs') < firstCopy, 'the squashfs is made before the copies');
  const squashfs = result.partitions[0].filesystem!;
  const copies = events.filter((e) => e.phase === 'copy');
  t.true(copies.length > 0);
  for (const e of copies) t.is(e.bytesTotal, squashfs.type === 'squashfs' ? squashfs.size : NaN);
  t.is(copies.at(-1)!.bytesDone, copies.at(-1)!.bytesTotal);
  t.true(copies.every((e) => e.bytesDone === 0 || e.partition === 'usr'), 'the squashfs copy is named as its own partition');
});
