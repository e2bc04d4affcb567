/**
 * EROFS read back by imgforge itself: `inspect` summarises and lists an EROFS partition (its own
 * and one mkfs.erofs made), and `verify` finds every way an image differs from its spec's sources.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/build/build';
import { inspect, inspectSync } from '../ts/inspect/inspect';
import { verify } from '../ts/inspect/verify';
import { plan } from '../ts/plan/plan';
import { parseSpec } from '../ts/spec/load';
import type { ErofsContents, ErofsSummary, LoadedSpec } from '../ts/types';
import { imgforge } from './helpers/cli';
import { hasTool, tempDir, writePatternFile } from './helpers/tools';

const EPOCH = 1_700_000_000;

function rootfs(dir: string): string {
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'usr', 'lib'), { recursive: true });
  fs.mkdirSync(path.join(root, 'etc'));
  writePatternFile(path.join(root, 'usr', 'lib', 'big'), 300_000, 3);
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'appliance\n');
  fs.linkSync(path.join(root, 'etc', 'hostname'), path.join(root, 'usr', 'lib', 'hostname-link'));
  fs.symlinkSync('../usr/lib/big', path.join(root, 'etc', 'big-link'));
  fs.chmodSync(path.join(root, 'usr', 'lib', 'big'), 0o4755);
  return root;
}

function spec(dir: string, partition: Record<string, unknown>): LoadedSpec {
  const doc = { seed: 'erofs-read-test', partitions: [{ name: 'root-a', type: 'root-x86-64', size: 'auto', ...partition }] };
  return parseSpec({ text: JSON.stringify(doc), format: 'json', sourceName: 'spec.json', baseDir: dir });
}

test.serial('inspect summarises and lists the EROFS imgforge wrote; verify names what changed', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = rootfs(dir);
  process.env.SOURCE_DATE_EPOCH = String(EPOCH);
  t.teardown(() => delete process.env.SOURCE_DATE_EPOCH);
  const erofs = spec(dir, { filesystem: { type: 'erofs', label: 'root', files: [{ source: './rootfs', target: '/' }] } });
  const image = path.join(dir, 'disk.img');
  const result = await build(erofs, { output: image });
  const planned = result.partitions[0].filesystem as ErofsSummary;

  const report = await inspect(image, { files: 'root-a' });
  t.deepEqual(report.findings, []);
  const contents = report.partitions[0].contents as ErofsContents;
  t.like(contents, { type: 'erofs', label: 'root', uuid: planned.uuid, blockSize: 4096, inodes: planned.inodes, size: planned.size, files: 3, symlinks: 1, fileBytes: 300_010 });
  const files = new Map(report.partitions[0].files!.map((f) => [f.path, f]));
  t.deepEqual([...files.keys()], ['/etc', '/etc/big-link', '/etc/hostname', '/usr', '/usr/lib', '/usr/lib/big', '/usr/lib/hostname-link']);
  t.like(files.get('/usr/lib/big'), { kind: 'file', size: 300_000, mode: '4755', uid: 0, gid: 0, nlink: 1, modified: '2023-11-14 22:13:20' });
  t.like(files.get('/etc/big-link'), { kind: 'symlink', target: '../usr/lib/big' });
  t.like(files.get('/usr/lib/hostname-link'), { nlink: 2 });
  const text = imgforge(['inspect', image, '--files']);
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, /EROFS "root" [0-9A-F-]{36}: 3 files in 3 folders, 1 symlinks/);
  t.regex(text.stdout, /-4755 +0:0 +1 +300000 +2023-11-14 22:13:20 +\/usr\/lib\/big\n/);
  t.regex(text.stdout, /l0777 .* \/etc\/big-link -> \.\.\/usr\/lib\/big\n/);

  t.deepEqual((await verify(erofs, image)).differences, []);
  // One byte of a file's data, in the image.
  const damaged = path.join(dir, 'damaged.img');
  const bytes = fs.readFileSync(image);
  const offset = result.partitions[0].offset;
  const at = bytes.indexOf(fs.readFileSync(path.join(root, 'usr', 'lib', 'big')).subarray(0, 64), offset);
  t.true(at > offset);
  bytes[at + 1000] ^= 0x01;
  fs.writeFileSync(damaged, bytes);
  t.deepEqual((await verify(erofs, damaged)).differences, [
    { where: 'partitions[0].filesystem:/usr/lib/big', message: `differs from ${path.join(root, 'usr', 'lib', 'big')} at byte 1000` },
  ]);
  // The sources changed since the build: another mode, a hard link undone, a new file.
  fs.chmodSync(path.join(root, 'usr', 'lib', 'big'), 0o755);
  fs.rmSync(path.join(root, 'usr', 'lib', 'hostname-link'));
  fs.copyFileSync(path.join(root, 'etc', 'hostname'), path.join(root, 'usr', 'lib', 'hostname-link'));
  fs.writeFileSync(path.join(root, 'etc', 'new'), 'new');
  const found = (await verify(erofs, image)).differences.map((d) => `${d.where} ${d.message}`);
  for (const want of [
    'partitions[0].filesystem:/etc/new is missing',
    'partitions[0].filesystem:/usr/lib/big has mode 4755; the spec gives 0755',
    'partitions[0].filesystem:/usr/lib/hostname-link has link count 2; the spec gives 1',
    'partitions[0].filesystem:/usr/lib/hostname-link shares its inode with /etc/hostname; the spec makes them separate files',
  ]) {
    t.true(found.includes(want), `${want} not in ${JSON.stringify(found, null, 2)}`);
  }
});

test('inspect reads an EROFS that mkfs.erofs made, as raw contents, without findings', async (t) => {
  if (!hasTool('mkfs.erofs')) return t.pass('skipped: mkfs.erofs is not installed (Debian: erofs-utils)');
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  rootfs(dir);
  execFileSync('mkfs.erofs', ['--quiet', `-T${EPOCH}`, '--all-root', path.join(dir, 'root.erofs'), path.join(dir, 'rootfs')]);
  const image = path.join(dir, 'disk.img');
  await build(spec(dir, { contents: './root.erofs' }), { output: image });
  const report = inspectSync(image, { files: true }); // the blocking variant reads the same
  t.deepEqual(report.findings, []);
  t.like(report.partitions[0].contents, { type: 'erofs', files: 3, symlinks: 1, directories: 3, fileBytes: 300_010 });
  const files = new Map(report.partitions[0].files!.map((f) => [f.path, f]));
  t.like(files.get('/usr/lib/big'), { size: 300_000, mode: '4755', uid: 0, gid: 0 });
  t.like(files.get('/etc/big-link'), { target: '../usr/lib/big' });
  t.like(files.get('/usr/lib/hostname-link'), { nlink: 2 });
  // Planned from the spec, the raw partition holds nothing to compare but bytes.
  t.deepEqual((await verify(spec(dir, { contents: './root.erofs' }), image)).differences, []);
  t.truthy(await plan(spec(dir, { contents: './root.erofs' })));
});

test('without a seed or a uuid the UUID is random, so verify leaves it out; a fixed uuid is compared', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  rootfs(dir);
  const unseeded = (filesystem: Record<string, unknown>): LoadedSpec => {
    const doc = { partitions: [{ name: 'root-a', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: './rootfs', target: '/' }], ...filesystem } }] };
    return parseSpec({ text: JSON.stringify(doc), format: 'json', sourceName: 'spec.json', baseDir: dir });
  };
  const image = path.join(dir, 'disk.img');
  await build(unseeded({}), { output: image });
  t.deepEqual((await verify(unseeded({}), image)).differences, []);
  const fixed = unseeded({ uuid: '01234567-89ab-cdef-0123-456789abcdef' });
  const differences = (await verify(fixed, image)).differences;
  t.true(differences.some((d) => d.where === 'partitions[0].filesystem' && /^the UUID is .*; the spec gives 01234567-89AB-CDEF-0123-456789ABCDEF$/i.test(d.message)), JSON.stringify(differences));
});
