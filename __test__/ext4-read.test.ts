/**
 * ext4 and squashfs read back by imgforge: `inspect` summarises their superblocks as dumpe2fs -h
 * and unsquashfs -s read them (images mkfs.ext4 and mksquashfs made into a GPT imgforge built),
 * hostile superblocks give findings, and `verify` compares an ext4 and a squashfs imgforge built
 * with their sources through debugfs and unsquashfs: clean when they match, and a changed file,
 * mode, owner, symlink or hard link named.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from '../ts/build/build';
import { inspect } from '../ts/inspect/inspect';
import { parseDebugfsListing, parseUnsquashfsListing, permissionBits } from '../ts/inspect/read-tools';
import { verify } from '../ts/inspect/verify';
import { parseSpec } from '../ts/spec/load';
import type { Ext4Contents, LoadedSpec, SquashfsContents } from '../ts/types';
import { imgforge } from './helpers/cli';
import { hasTool, tempDir } from './helpers/tools';

const TOOLS = ['mkfs.ext4', 'debugfs', 'dumpe2fs', 'mksquashfs', 'unsquashfs'];
const missing = () => TOOLS.find((tool) => !hasTool(tool));
const isRoot = process.getuid?.() === 0;

function tree(dir: string): string {
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'usr', 'bin'), { recursive: true });
  fs.mkdirSync(path.join(src, 'etc'));
  fs.writeFileSync(path.join(src, 'etc', 'hostname'), 'appliance\n');
  fs.writeFileSync(path.join(src, 'usr', 'bin', 'tool'), Buffer.alloc(3_000_000, 7));
  fs.chmodSync(path.join(src, 'usr', 'bin', 'tool'), 0o4755);
  fs.linkSync(path.join(src, 'etc', 'hostname'), path.join(src, 'usr', 'hostname-link'));
  fs.symlinkSync('../etc/hostname', path.join(src, 'usr', 'link'));
  return src;
}

/** A field of `dumpe2fs -h` or `unsquashfs -s` output. */
function field(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.startsWith(key));
  if (line === undefined) throw new Error(`no ${key} in ${text}`);
  return line.slice(key.length).replace(/^:?\s*/, '').trim();
}

function loaded(dir: string, doc: unknown): LoadedSpec {
  return parseSpec({ text: JSON.stringify(doc), format: 'json', sourceName: 'spec.json', baseDir: dir });
}

/** A GPT imgforge built with two empty partitions, an ext4 (mkfs.ext4 -E offset=) and a squashfs (mksquashfs, written in) in them. */
async function composed(dir: string): Promise<{ image: string; ext4Offset: number; squashfsOffset: number; squashfs: string }> {
  const src = tree(dir);
  const image = path.join(dir, 'disk.img');
  const result = await build(loaded(dir, { partitions: [{ name: 'var', type: 'var', size: '32MiB' }, { name: 'apps', type: 'linux-generic', size: '4MiB' }] }), { output: image });
  const [ext4Offset, squashfsOffset] = result.partitions.map((p) => p.offset);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'var', '-E', `offset=${ext4Offset}`, '-d', src, image, '32M']);
  const squashfs = path.join(dir, 'apps.sqfs');
  execFileSync('mksquashfs', [src, squashfs, '-quiet', '-noappend', '-comp', 'xz', '-mkfs-time', '1700000000']);
  const fd = fs.openSync(image, 'r+');
  fs.writeSync(fd, fs.readFileSync(squashfs), 0, undefined, squashfsOffset);
  fs.closeSync(fd);
  return { image, ext4Offset, squashfsOffset, squashfs };
}

test('inspect summarises an ext4 and a squashfs as dumpe2fs -h and unsquashfs -s read them', async (t) => {
  const absent = missing();
  if (absent !== undefined) return t.pass(`skipped: ${absent} is not installed (e2fsprogs, squashfs-tools)`);
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { image, ext4Offset, squashfs } = await composed(dir);
  const report = await inspect(image);
  t.deepEqual(report.findings, []);
  const ext4 = report.partitions[0].contents as Ext4Contents;
  const dumpe2fs = execFileSync('dumpe2fs', ['-h', `${image}?offset=${ext4Offset}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const blockSize = Number(field(dumpe2fs, 'Block size'));
  t.like(ext4, {
    type: 'ext4',
    label: field(dumpe2fs, 'Filesystem volume name'),
    uuid: field(dumpe2fs, 'Filesystem UUID').toUpperCase(),
    hashSeed: field(dumpe2fs, 'Directory Hash Seed').toUpperCase(),
    blockSize,
    size: Number(field(dumpe2fs, 'Block count')) * blockSize,
    usedBytes: (Number(field(dumpe2fs, 'Block count')) - Number(field(dumpe2fs, 'Free blocks'))) * blockSize,
    inodes: Number(field(dumpe2fs, 'Inode count')),
    freeInodes: Number(field(dumpe2fs, 'Free inodes')),
    clean: true,
  });
  t.is(ext4.features.join(' '), field(dumpe2fs, 'Filesystem features'));
  const stats = execFileSync('unsquashfs', ['-s', squashfs], { encoding: 'utf8' });
  const contents = report.partitions[1].contents as SquashfsContents;
  t.like(contents, {
    type: 'squashfs',
    version: '4.0',
    compression: field(stats, 'Compression'),
    blockSize: Number(field(stats, 'Block size')),
    inodes: Number(field(stats, 'Number of inodes')),
    created: '2023-11-14 22:13:20',
  });
  t.true(field(stats, 'Filesystem size').startsWith(`${contents.size} bytes`));

  const text = imgforge(['inspect', image]);
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, new RegExp(`ext4 "var" ${ext4.uuid}: [\\d.]+ [KM]iB used of 32 MiB, \\d+ KiB blocks, \\d+ of ${ext4.inodes} inodes used\\n`));
  t.regex(text.stdout, /squashfs 4\.0, xz, 128 KiB blocks: [\d.]+ (B|KiB), 7 inodes, made 2023-11-14 22:13:20\n/);
  const json = JSON.parse(imgforge(['inspect', image, '--json']).stdout);
  t.deepEqual(json.partitions.map((p: { contents: { type: string } }) => p.contents), JSON.parse(JSON.stringify([ext4, contents])));
});

test('hostile ext4 and squashfs superblocks give findings for their partition, not crashes', async (t) => {
  const absent = missing();
  if (absent !== undefined) return t.pass(`skipped: ${absent} is not installed (e2fsprogs, squashfs-tools)`);
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { image, ext4Offset, squashfsOffset } = await composed(dir);
  const fd = fs.openSync(image, 'r+');
  const put = (at: number, bytes: number[]) => fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, at);
  put(ext4Offset + 1024 + 0x18, [40, 0, 0, 0]); // s_log_block_size 40, checksum left as it was
  put(squashfsOffset + 48, [0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0]); // the id table far past the end
  fs.closeSync(fd);
  const report = await inspect(image);
  const codes = report.findings.map((f) => `${f.partition} ${f.code}`);
  t.true(codes.includes('1 SUPERBLOCK_INVALID'), codes.join(', '));
  t.true(codes.includes('1 SUPERBLOCK_CHECKSUM_WRONG'), codes.join(', '));
  t.true(codes.includes('2 TABLE_OUT_OF_RANGE'), codes.join(', '));
  t.like(report.partitions[0].contents, { type: 'ext4', blockSize: 0 });
  const text = imgforge(['inspect', image]);
  t.is(text.status, 1, text.stderr);
  t.regex(text.stdout, /SUPERBLOCK_INVALID: partition 1: superblock: s_log_block_size is 40; block sizes are 1 KiB to 64 KiB/);
  t.regex(text.stdout, /TABLE_OUT_OF_RANGE: partition 2: the id table starts at byte 1099511627775/);
});

function verifySpec(dir: string, ownership: 'root' | 'source'): LoadedSpec {
  return loaded(dir, {
    seed: 'ext4-read-test',
    partitions: [
      { name: 'var', type: 'var', size: 'auto', filesystem: { type: 'ext4', label: 'var', ownership, files: [{ source: './src', target: '/' }] } },
      {
        name: 'apps',
        type: 'linux-generic',
        size: 'auto',
        filesystem: { type: 'squashfs', compression: 'zstd', ownership, files: [{ source: './src', target: '/' }, { source: './extra.txt', target: '/opt/extra.txt' }] },
      },
      // After the squashfs, whose 3 MB of one byte compress to a few KiB: verify must lay the disk
      // out with the size mksquashfs gave, not plan's estimate, or this partition seems moved.
      { name: 'after', type: 'linux-generic', size: '1MiB' },
    ],
  });
}

test.serial('verify: an ext4 and a squashfs imgforge built match their sources; changed bytes, modes, owners, links are named', async (t) => {
  const absent = missing();
  if (absent !== undefined) return t.pass(`skipped: ${absent} is not installed (e2fsprogs, squashfs-tools)`);
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = tree(dir);
  fs.writeFileSync(path.join(dir, 'extra.txt'), 'extra\n');
  if (isRoot) fs.chownSync(path.join(src, 'etc', 'hostname'), 1234, 5678);
  const image = path.join(dir, 'disk.img');
  const spec = verifySpec(dir, 'source');
  await build(spec, { output: image });
  const tempsBefore = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('imgforge-verify-')).length;
  const clean = await verify(spec, image);
  t.deepEqual(clean.differences, []);
  t.true(clean.bytesCompared >= 2 * 3_000_000);
  // The same image against ownership: root: every entry should be 0:0.
  if (isRoot) {
    const asRoot = (await verify(verifySpec(dir, 'root'), image)).differences.map((d) => `${d.where} ${d.message}`);
    t.true(asRoot.includes('partitions[0].filesystem:/etc/hostname owner is 1234:5678 in the image; the spec gives 0:0 (ownership: root)'), asRoot.join('\n'));
    t.true(asRoot.includes('partitions[1].filesystem:/etc/hostname owner is 1234:5678 in the image; the spec gives 0:0 (ownership: root)'), asRoot.join('\n'));
  }

  // The sources change after the build.
  const tool = path.join(src, 'usr', 'bin', 'tool');
  const bytes = fs.readFileSync(tool);
  bytes[123_456] ^= 1;
  fs.writeFileSync(tool, bytes);
  fs.chmodSync(path.join(src, 'usr', 'bin'), 0o700);
  if (isRoot) fs.chownSync(path.join(src, 'etc', 'hostname'), 1, 2);
  fs.rmSync(path.join(src, 'usr', 'link'));
  fs.symlinkSync('../etc/other', path.join(src, 'usr', 'link'));
  fs.rmSync(path.join(src, 'usr', 'hostname-link'));
  fs.writeFileSync(path.join(src, 'usr', 'hostname-link'), 'appliance\n');
  fs.writeFileSync(path.join(src, 'new'), 'new');
  const found = (await verify(spec, image)).differences.map((d) => `${d.where} ${d.message}`);
  for (const [i, fs] of [
    [0, 'ext4'],
    [1, 'squashfs'],
  ] as const) {
    const where = `partitions[${i}].filesystem`;
    const expected = [
      `${where}:/usr/bin/tool differs from ${tool} at byte 123456`,
      `${where}:/usr/bin mode is 0755 in the image; the source has 0700`,
      `${where}:/usr/link points to "../etc/hostname" in the image; the source to "../etc/other"`,
      `${where}:/new is missing from the image: the spec has a file here`,
      ...(isRoot ? [`${where}:/etc/hostname owner is 1234:5678 in the image; the spec gives 1:2 (ownership: source)`] : []),
    ];
    for (const want of expected) t.true(found.includes(want), `${fs}: ${want} not in\n${found.join('\n')}`);
    t.true(
      found.some((f) => f.startsWith(`${where}:/`) && /is a hard link of \/(etc\/hostname|usr\/hostname-link) in the image; in the sources they are separate files/.test(f)),
      found.join('\n'),
    );
  }
  t.is(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('imgforge-verify-')).length, tempsBefore, 'verify left a temporary folder behind');
});

test.serial('verify: a partition that holds no ext4, a damaged squashfs, and a missing debugfs are reported as such', async (t) => {
  const absent = missing();
  if (absent !== undefined) return t.pass(`skipped: ${absent} is not installed (e2fsprogs, squashfs-tools)`);
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  tree(dir);
  fs.writeFileSync(path.join(dir, 'extra.txt'), 'extra\n');
  const doc = {
    seed: 'ext4-read-test',
    partitions: [
      { name: 'var', type: 'var', size: 'auto', filesystem: { type: 'ext4', label: 'var', files: [{ source: './src', target: '/' }] } },
      { name: 'apps', type: 'linux-generic', size: 'auto', filesystem: { type: 'squashfs', files: [{ source: './src', target: '/' }] } },
    ],
  };
  const specPath = path.join(dir, 'spec.json');
  fs.writeFileSync(specPath, JSON.stringify(doc));
  const image = path.join(dir, 'disk.img');
  const built = await build(loaded(dir, doc), { output: image });
  const ok = imgforge(['verify', specPath, image]);
  t.is(ok.status, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /: the image matches \(2 partitions, /);

  // Zeros over the ext4's superblock; the squashfs's block size changed.
  const fd = fs.openSync(image, 'r+');
  fs.writeSync(fd, Buffer.alloc(2048), 0, 2048, built.partitions[0].offset);
  fs.writeSync(fd, Buffer.from([0, 0x30, 0, 0]), 0, 4, built.partitions[1].offset + 12);
  fs.closeSync(fd);
  const damaged = imgforge(['verify', specPath, image, '--json']);
  t.is(damaged.status, 1, damaged.stderr);
  const differences: Array<{ where: string; message: string }> = JSON.parse(damaged.stdout).differences;
  t.deepEqual(
    differences.filter((d) => d.where.endsWith('.filesystem')).map((d) => `${d.where} ${d.message.split(';')[0]}`),
    ['partitions[0].filesystem the partition holds no ext4 filesystem', 'partitions[1].filesystem SUPERBLOCK_INVALID: superblock: block_size is 12288'],
  );

  // Without debugfs on PATH: one line naming it and its package, exit 2.
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const noTools = imgforge(['verify', specPath, image], { env: { PATH: bin } });
  t.is(noTools.status, 2, noTools.stdout + noTools.stderr);
  const lines = noTools.stderr.trim().split('\n');
  t.is(lines.length, 1, noTools.stderr);
  t.regex(lines[0], /partitions\[0\]\.filesystem: verify reads ext4 with debugfs, which was not found on PATH; install e2fsprogs \(Debian\/Ubuntu: apt-get install e2fsprogs; Fedora: dnf install e2fsprogs; Alpine: apk add e2fsprogs\)/);
});

test('the listings of debugfs and unsquashfs are read as they print them', (t) => {
  const debugfs = [
    'debugfs: ls -p "/"',
    '/2/040755/0/0/.//',
    '/2/040755/0/0/..//',
    '/12/100644/1000/100/a b -> c/6/',
    '/13/120777/0/0/link/5/',
    '',
    'debugfs: ls -p "/say ""hi"""',
    '/14/040755/0/0/.//',
    '/2/040755/0/0/..//',
    '/15/020644/0/0/null//',
  ].join('\n');
  t.deepEqual(parseDebugfsListing(debugfs), [
    { dir: '/', name: '.', ino: 2, mode: 0o40755, uid: 0, gid: 0 },
    { dir: '/', name: 'a b -> c', ino: 12, mode: 0o100644, uid: 1000, gid: 100 },
    { dir: '/', name: 'link', ino: 13, mode: 0o120777, uid: 0, gid: 0 },
    { dir: '/say "hi"', name: 'null', ino: 15, mode: 0o20644, uid: 0, gid: 0 },
  ]);
  const unsquashfs = [
    'drwxr-xr-x 0/0                      77 2023-11-14 22:13 squashfs-root',
    '-rwsr-xr-x 0/0                  300000 2023-11-14 22:13 squashfs-root/usr/bin/tool',
    'lrwxrwxrwx 0/0                      15 2023-11-14 22:13 squashfs-root/usr/link -> ../etc/hostname',
    'crw-r--r-- 0/0               1,      3 2023-11-14 22:13 squashfs-root/dev/null',
    'drwxrwxrwT 1000/1000                 3 2023-11-14 22:13 squashfs-root/tmp',
  ].join('\n');
  t.deepEqual(parseUnsquashfsListing(unsquashfs), [
    { path: '/', kind: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { path: '/usr/bin/tool', kind: 'file', mode: 0o4755, uid: 0, gid: 0 },
    { path: '/usr/link -> ../etc/hostname', kind: 'symlink', mode: 0o777, uid: 0, gid: 0 },
    { path: '/dev/null', kind: 'char-device', mode: 0o644, uid: 0, gid: 0 },
    { path: '/tmp', kind: 'directory', mode: 0o1776, uid: 1000, gid: 1000 },
  ]);
  t.is(permissionBits('rwSr-sr-t'), 0o7655);
  t.is(permissionBits('---------'), 0);
});
