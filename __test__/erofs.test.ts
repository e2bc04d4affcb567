/**
 * EROFS partitions end to end: the spec, planning ("auto" is the filesystem's exact size), the
 * build, and the image read back by independent tools: fsck.erofs (and its --extract) everywhere,
 * and, as root, the kernel (mount -t erofs -o loop,ro,offset=).
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/build/build';
import { ImgforgeError } from '../ts/errors';
import { verify } from '../ts/inspect/verify';
import { plan } from '../ts/plan/plan';
import { parseSpec } from '../ts/spec/load';
import type { ErofsSummary, LoadedSpec } from '../ts/types';
import { imgforge, ROOT } from './helpers/cli';
import { loopUnavailableReason } from './helpers/loop';
import { hasTool, tempDir, writePatternFile } from './helpers/tools';

const EPOCH = 1_700_000_000;

/** A source tree with what a root filesystem holds: sizes around a block, a symlink, a hard link, a FIFO, modes. */
function rootfs(dir: string): string {
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'usr', 'lib'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc', 'empty'), '');
  writePatternFile(path.join(root, 'usr', 'lib', 'block'), 4096, 1);
  writePatternFile(path.join(root, 'usr', 'lib', 'block-and-one'), 4097, 2);
  writePatternFile(path.join(root, 'usr', 'lib', 'big'), 3 * 1024 * 1024 + 5, 3);
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'appliance\n');
  fs.linkSync(path.join(root, 'etc', 'hostname'), path.join(root, 'usr', 'lib', 'hostname-link'));
  fs.symlinkSync('../usr/lib/big', path.join(root, 'etc', 'big-link'));
  fs.symlinkSync('nowhere', path.join(root, 'etc', 'dangling'));
  fs.chmodSync(path.join(root, 'usr', 'lib', 'block'), 0o4755);
  execFileSync('mkfifo', [path.join(root, 'etc', 'fifo')]);
  return root;
}

function erofsSpec(dir: string, filesystem: Record<string, unknown>, extra: Record<string, unknown> = {}): LoadedSpec {
  const doc = {
    seed: 'erofs-test',
    partitions: [
      { name: 'esp', type: 'esp', size: '1MiB' },
      { name: 'root-a', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: './rootfs', target: '/' }], ...filesystem } },
    ],
    ...extra,
  };
  return parseSpec({ text: JSON.stringify(doc), format: 'json', sourceName: 'spec.json', baseDir: dir });
}

function problems(text: string): string[] {
  try {
    parseSpec({ text, format: 'json', sourceName: 'spec.json', baseDir: '/' });
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').slice(1).map((line) => line.trim());
  }
}

test('the spec takes label, uuid and ownership for EROFS, and refuses the other type\'s keys by name', (t) => {
  const spec = erofsSpec('/base', { label: 'root-a', uuid: '6a1c3f0e-8d2b-4c5a-9e7f-0123456789ab', ownership: 'source' });
  t.deepEqual(spec.partitions[1].filesystem, {
    type: 'erofs',
    label: 'root-a',
    uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB',
    ownership: 'source',
    files: [{ source: '/base/rootfs', target: '/' }],
  });
  t.like(erofsSpec('/base', {}).partitions[1].filesystem, { ownership: 'root', label: undefined, uuid: undefined });
  const bad = (filesystem: Record<string, unknown>) =>
    problems(JSON.stringify({ partitions: [{ name: 'r', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', ...filesystem } }] }));
  t.deepEqual(bad({ clusterSize: '4KiB', label: 'x'.repeat(17) }), [
    'partitions[0].filesystem.label: "xxxxxxxxxxxxxxxxx" is 17 bytes long; an EROFS volume name holds at most 16',
    'partitions[0].filesystem.clusterSize: only a fat32 filesystem has clusterSize; this one is erofs',
  ]);
  t.deepEqual(bad({ label: 'ééééééééé' }), ['partitions[0].filesystem.label: "ééééééééé" is 18 bytes long; an EROFS volume name holds at most 16']);
  t.deepEqual(bad({ ownership: 'nobody' }), [
    'partitions[0].filesystem.ownership: expected "root" (every entry owned by 0:0) or "source" (the sources\' owners), got "nobody"',
  ]);
  t.deepEqual(problems(JSON.stringify({ partitions: [{ name: 'e', type: 'esp', size: 'auto', filesystem: { type: 'fat32', uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB' } }] })), [
    'partitions[0].filesystem.uuid: only erofs and ext4 filesystems have uuid; this one is fat32',
  ]);
});

// Serial: it sets SOURCE_DATE_EPOCH, which the next test must not see.
test.serial('an EROFS partition is built from a folder: fsck.erofs finds nothing wrong and extracts the sources', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = rootfs(dir);
  process.env.SOURCE_DATE_EPOCH = String(EPOCH);
  t.teardown(() => delete process.env.SOURCE_DATE_EPOCH);
  const spec = erofsSpec(dir, { label: 'root-a' });
  const layout = await plan(spec);
  const planned = layout.partitions[1].filesystem as ErofsSummary;
  // hostname and its hard link are one file; the empty one has no data.
  t.like(planned, { type: 'erofs', label: 'root-a', ownership: 'root', files: 4 });
  t.is(planned.size % 4096, 0);
  // "auto": the filesystem's exact size, rounded up to the alignment only.
  t.is(layout.partitions[1].size, Math.ceil(planned.size / (1024 * 1024)) * 1024 * 1024);

  const image = path.join(dir, 'disk.img');
  const result = await build(spec, { output: image });
  t.deepEqual(result.partitions[1].filesystem, planned);
  const again = path.join(dir, 'again.img');
  await build(spec, { output: again });
  t.true(fs.readFileSync(image).equals(fs.readFileSync(again)), 'two builds are byte-identical');
  t.deepEqual((await verify(spec, image)).differences, []);

  if (!hasTool('fsck.erofs')) return t.log('skipped: fsck.erofs is not installed (Debian: erofs-utils)');
  const part = path.join(dir, 'root.erofs');
  const bytes = fs.readFileSync(image).subarray(layout.partitions[1].offset, layout.partitions[1].offset + planned.size);
  fs.writeFileSync(part, bytes);
  const extracted = path.join(dir, 'extracted');
  execFileSync('fsck.erofs', [`--extract=${extracted}`, part]);
  for (const file of ['usr/lib/block', 'usr/lib/block-and-one', 'usr/lib/big', 'etc/hostname', 'usr/lib/hostname-link', 'etc/empty']) {
    t.true(fs.readFileSync(path.join(extracted, file)).equals(fs.readFileSync(path.join(root, file))), file);
  }
  t.is(fs.readlinkSync(path.join(extracted, 'etc', 'big-link')), '../usr/lib/big');
  t.is(fs.readlinkSync(path.join(extracted, 'etc', 'dangling')), 'nowhere');
  t.true(fs.lstatSync(path.join(extracted, 'etc', 'fifo')).isFIFO());

  // A damaged superblock is what verify reports.
  const damaged = path.join(dir, 'damaged.img');
  const copy = fs.readFileSync(image);
  copy[layout.partitions[1].offset + 1024 + 48] ^= 0xff;
  fs.writeFileSync(damaged, copy);
  const differences = (await verify(spec, damaged)).differences;
  t.deepEqual(differences.map((d) => d.where), ['partitions[1].filesystem']);
  t.regex(differences[0].message, new RegExp(`^the UUID is [0-9A-F-]{36}; the spec gives ${planned.uuid}$`));
});

test.serial('as root, the kernel mounts the EROFS partition and reads back the sources: bytes, modes, owners, times, links', async (t) => {
  const why = process.getuid?.() !== 0 ? 'needs root for a loop mount' : loopUnavailableReason();
  if (why !== undefined) return t.pass(`skipped: ${why}`);
  const dir = tempDir();
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  t.teardown(() => {
    spawnSync('umount', [mnt]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const root = rootfs(dir);
  fs.chownSync(path.join(root, 'etc', 'hostname'), 1234, 5678);
  const spec = erofsSpec(dir, { ownership: 'source' });
  const image = path.join(dir, 'disk.img');
  const result = await build(spec, { output: image });
  const partition = result.partitions[1];
  execFileSync('mount', ['-t', 'erofs', '-o', `loop,ro,offset=${partition.offset},sizelimit=${partition.size}`, image, mnt]);
  const walk = (base: string, rel = ''): string[] =>
    fs.readdirSync(path.join(base, rel), { withFileTypes: true }).flatMap((entry) => {
      const child = path.join(rel, entry.name);
      return entry.isDirectory() ? [child, ...walk(base, child)] : [child];
    });
  t.deepEqual(walk(mnt).sort(), walk(root).sort());
  for (const rel of walk(root)) {
    const [a, b] = [fs.lstatSync(path.join(root, rel)), fs.lstatSync(path.join(mnt, rel))];
    t.is(b.mode, a.mode, `${rel} mode`);
    t.deepEqual([b.uid, b.gid], [a.uid, a.gid], `${rel} owner`);
    t.is(Math.floor(b.mtimeMs / 1000), Math.floor(a.mtimeMs / 1000), `${rel} mtime`);
    if (a.isFile()) t.true(fs.readFileSync(path.join(mnt, rel)).equals(fs.readFileSync(path.join(root, rel))), `${rel} bytes`);
    if (a.isSymbolicLink()) t.is(fs.readlinkSync(path.join(mnt, rel)), fs.readlinkSync(path.join(root, rel)));
  }
  const [one, other] = [fs.statSync(path.join(mnt, 'etc', 'hostname')), fs.statSync(path.join(mnt, 'usr', 'lib', 'hostname-link'))];
  t.is(one.ino, other.ino, 'a hard link is one inode');
  t.is(one.nlink, 2);
});

test('a fixed size smaller than the filesystem, and a start off a 4 KiB block, are refused with what to change', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  rootfs(dir);
  const small = erofsSpec(dir, {});
  small.partitions[1].size = 512 * 1024;
  const error = await t.throwsAsync(plan(small), { instanceOf: ImgforgeError });
  t.regex(error!.message, /^partitions\[1\]\.size: 524288 bytes \(512 KiB\) is too small for the partition's EROFS filesystem: it needs at least \d+ bytes/);
  const misaligned = erofsSpec(dir, {}, { alignment: 512 });
  misaligned.partitions[0].size = 1024 * 1024 + 512;
  const offset = await t.throwsAsync(plan(misaligned), { instanceOf: ImgforgeError });
  t.regex(offset!.message, /^partitions\[1\]: the EROFS partition starts at byte \d+, not on a 4096-byte boundary .*; set alignment to 4KiB or more$/);
});

test('the EROFS A/B example builds, and fsck.erofs accepts its root-a slot', (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'erofs-ab.img');
  const run = imgforge(['build', path.join(ROOT, 'examples', 'erofs-ab', 'image.yaml'), '-o', image, '--json', '--quiet'], {
    env: { SOURCE_DATE_EPOCH: String(EPOCH) },
  });
  t.is(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { partitions: Array<{ name: string; offset: number; filesystem?: { type: string; size?: number } }> };
  const root = result.partitions.find((p) => p.name === 'root-a')!;
  t.like(root.filesystem, { type: 'erofs' });
  t.regex(execFileSync('sgdisk', ['-v', image], { encoding: 'utf8' }), /No problems found/);
  if (!hasTool('fsck.erofs')) return t.log('skipped: fsck.erofs is not installed (Debian: erofs-utils)');
  const part = path.join(dir, 'root-a.erofs');
  fs.writeFileSync(part, fs.readFileSync(image).subarray(root.offset, root.offset + root.filesystem!.size!));
  const extracted = path.join(dir, 'extracted');
  execFileSync('fsck.erofs', [`--extract=${extracted}`, part]);
  t.is(fs.readlinkSync(path.join(extracted, 'etc', 'os-release')), '../usr/lib/os-release');
  t.is(fs.statSync(path.join(extracted, 'usr', 'bin', 'hello')).mode & 0o777, 0o755);
});

test('bad EROFS input is one line naming the field and path, and writes nothing', (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'rootfs'));
  fs.writeFileSync(path.join(dir, 'rootfs', 'f'), 'hi\n');
  const long = 'n'.repeat(256);
  const cases = [
    { target: '/usr/../etc', source: './rootfs', message: /^ {4}partitions\[0\]\.filesystem\.files\[0\]\.target: "\/usr\/\.\.\/etc" contains "\.\.", which would leave the filesystem$/m },
    { target: `/lib/${long}`, source: './rootfs/f', message: new RegExp(`^imgforge: partitions\\[0\\]\\.filesystem\\.files: target /lib/${long}: "${long}" cannot be an EROFS name: 256 bytes long; EROFS names hold at most 255$`, 'm') },
  ];
  for (const c of cases) {
    const specPath = path.join(dir, 'spec.json');
    const doc = { partitions: [{ name: 'root', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: c.source, target: c.target }] } }] };
    fs.writeFileSync(specPath, JSON.stringify(doc));
    const run = imgforge(['build', specPath, '-o', path.join(dir, 'disk.img')]);
    t.is(run.status, 2, run.stderr);
    t.regex(run.stderr, c.message);
    t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
    t.false(fs.existsSync(path.join(dir, 'disk.img')));
  }
});
