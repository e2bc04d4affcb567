/**
 * qcow2 and VHD images from `imgforge build`, checked by qemu-img against the raw build of the
 * same spec: `check` clean, `compare` identical, `info` with the expected virtual size, qcow2's
 * allocation within 1% of the data the build wrote. (crates/vdisk's own tests cover the layouts.)
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { imgforge } from './helpers/cli';
import { hasTool, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

/** A spec of size "auto" (so its disk is not a whole number of MiB) with 64 MiB of raw data. */
function fixture(): { dir: string; specPath: string } {
  const dir = tempDir('imgforge-vdisk-');
  fs.mkdirSync(path.join(dir, 'esp', 'EFI', 'BOOT'), { recursive: true });
  writePatternFile(path.join(dir, 'esp', 'EFI', 'BOOT', 'BOOTX64.EFI'), 200_000, 3);
  writePatternFile(path.join(dir, 'system.img'), 64 * MiB, 4);
  const specPath = path.join(dir, 'image.yaml');
  fs.writeFileSync(
    specPath,
    [
      'seed: vdisk-test',
      'alignment: 4KiB',
      'partitions:',
      '  - { name: esp, type: esp, size: auto, filesystem: { type: fat32, files: [{ source: ./esp, target: / }] } }',
      '  - { name: system, type: linux-generic, size: auto, contents: ./system.img }',
      '',
    ].join('\n'),
  );
  return { dir, specPath };
}

function qemuImg(args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

interface Built {
  diskSize: number;
  dataBytes: number;
  artifacts: Array<{ path: string; kind: string; size: number; sha256?: string }>;
}

function build(specPath: string, output: string, extra: string[] = []): Built {
  const result = imgforge(['build', specPath, '-o', output, '--json', ...extra], { env });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Built;
}

test('qcow2, fixed and dynamic VHD: qemu-img finds them sound and identical to the raw build', (t) => {
  if (!hasTool('qemu-img')) return t.pass('skipped: qemu-img is missing (scripts/install-system-deps.sh installs qemu-utils)');
  const { dir, specPath } = fixture();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const raw = build(specPath, path.join(dir, 'disk.img'));
  t.not(raw.diskSize % MiB, 0, 'the auto disk is not a whole number of MiB');

  const qcow2 = build(specPath, path.join(dir, 'disk.qcow2'));
  t.deepEqual(qcow2.artifacts.map((a) => a.kind), ['qcow2']);
  t.regex(qemuImg(['check', path.join(dir, 'disk.qcow2')]), /No errors were found on the image/);
  t.regex(qemuImg(['compare', path.join(dir, 'disk.img'), path.join(dir, 'disk.qcow2')]), /Images are identical/);
  const info = JSON.parse(qemuImg(['info', '--output=json', path.join(dir, 'disk.qcow2')])) as { format: string; 'virtual-size': number; 'actual-size': number };
  t.like(info, { format: 'qcow2', 'virtual-size': raw.diskSize });
  t.true(Math.abs(info['actual-size'] - qcow2.dataBytes) <= 0.01 * qcow2.dataBytes, `allocated ${info['actual-size']} for ${qcow2.dataBytes} data bytes`);
  t.is(qcow2.artifacts[0].sha256, sha256(path.join(dir, 'disk.qcow2')));

  // A fixed VHD for Azure: the "auto" disk is rounded up to whole MiB, so its raw build differs
  // in size; it is compared with a raw build of that size.
  const vhd = build(specPath, path.join(dir, 'disk.vhd'));
  t.is(vhd.diskSize % MiB, 0);
  t.true(vhd.diskSize >= raw.diskSize && vhd.diskSize - raw.diskSize < MiB);
  t.is(fs.statSync(path.join(dir, 'disk.vhd')).size, vhd.diskSize + 512);
  const vhdInfo = JSON.parse(qemuImg(['info', '--output=json', '-f', 'vpc', path.join(dir, 'disk.vhd')])) as { 'virtual-size': number };
  t.is(vhdInfo['virtual-size'], vhd.diskSize);
  t.is(vhd.artifacts[0].sha256, sha256(path.join(dir, 'disk.vhd')));
  const dynamic = build(specPath, path.join(dir, 'dynamic.vhd'), ['--format', 'vhd-dynamic']);
  t.is(dynamic.diskSize, raw.diskSize, 'only the fixed VHD is rounded');
  t.regex(qemuImg(['compare', '-F', 'vpc', path.join(dir, 'disk.img'), path.join(dir, 'dynamic.vhd')]), /Images are identical/);
  t.is(dynamic.artifacts[0].sha256, sha256(path.join(dir, 'dynamic.vhd')));
  // The raw image of the VHD's size, from the VHD itself, is the raw build padded with zeros.
  qemuImg(['convert', '-f', 'vpc', '-O', 'raw', path.join(dir, 'disk.vhd'), path.join(dir, 'from-vhd.img')]);
  const fromVhd = fs.readFileSync(path.join(dir, 'from-vhd.img'));
  t.is(fromVhd.length, vhd.diskSize);
  // Its GPT spans the larger disk, so compare partitions' bytes rather than whole images.
  const system = fs.readFileSync(path.join(dir, 'system.img'));
  t.true(fromVhd.includes(system.subarray(0, MiB)));

  // Seeded with SOURCE_DATE_EPOCH: the same VHD (unique id and time stamp) every time.
  build(specPath, path.join(dir, 'again.vhd'));
  t.true(fs.readFileSync(path.join(dir, 'disk.vhd')).equals(fs.readFileSync(path.join(dir, 'again.vhd'))));

  // inspect and verify read raw images, and say so for these.
  for (const file of ['disk.qcow2', 'disk.vhd', 'dynamic.vhd']) {
    const inspected = imgforge(['inspect', path.join(dir, file)]);
    t.is(inspected.status, 2, file);
    t.regex(inspected.stderr, /^imgforge: .* is (a qcow2 image|a fixed VHD|a dynamic VHD); inspect and verify read raw images: expand it first \(qemu-img convert /m, file);
  }
});

test('bad format choices are one line, exit 2, and nothing is written', (t) => {
  const { dir, specPath } = fixture();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [output, args, message] of [
    ['disk.qcow2', ['--format', 'vhd'], /format vhd conflicts with the output name disk\.qcow2/],
    ['disk.vhd', ['--bmap'], /bmap describes a raw image; it cannot go with format vhd/],
    ['disk.qcow2', ['--compress', 'zstd'], /compress zstd conflicts with the output name disk\.qcow2 \(\.qcow2 is qcow2\)/],
    ['disk.img', ['--format', 'vmdk'], /--format/],
  ] as const) {
    const result = imgforge(['build', specPath, '-o', path.join(dir, output), ...args]);
    t.is(result.status, 2, `${output} ${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, message);
    t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  t.deepEqual(fs.readdirSync(dir).sort(), ['esp', 'image.yaml', 'system.img']);
});
