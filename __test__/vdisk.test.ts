/**
 * qcow2 and VHD written natively from a real raw build through the binding's writeVirtualDisk,
 * checked by QEMU: `qemu-img check` clean (qcow2; QEMU has no checker for VHD), `qemu-img
 * compare` identical to the raw build, `qemu-img info` with the expected virtual size. The
 * data ranges come from SEEK_DATA/SEEK_HOLE here (the build pipeline passes its own map). On a
 * loop-mounted XFS the qcow2's data shares the raw image's extents.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, type VirtualDiskDataRange } from '../ts/native';
import { imgforge, ROOT } from './helpers/cli';
import { loopUnavailableReason, mountXfs, type XfsMount } from './helpers/loop';
import { fiemap, hasTool, run, sharedBytesIn, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const qemuMissing = hasTool('qemu-img') ? undefined : 'qemu-img is not installed (apt-get install qemu-utils)';
if (qemuMissing) console.log(`vdisk tests skipped: ${qemuMissing}`);

/** The file's data ranges by SEEK_DATA/SEEK_HOLE (`xfs_io seek`, which works on any filesystem). */
function dataRanges(file: string): VirtualDiskDataRange[] {
  const out = run('xfs_io', ['-r', '-c', 'seek -a -r 0', file]);
  const ranges: VirtualDiskDataRange[] = [];
  let dataStart: number | undefined;
  for (const line of out.split('\n')) {
    const match = /^(DATA|HOLE)\s+(\d+)/.exec(line);
    if (!match) continue;
    const offset = Number(match[2]);
    if (match[1] === 'DATA') dataStart = offset;
    else if (dataStart !== undefined) {
      ranges.push({ offset: dataStart, length: offset - dataStart });
      dataStart = undefined;
    }
  }
  if (dataStart !== undefined) ranges.push({ offset: dataStart, length: fs.statSync(file).size - dataStart });
  return ranges;
}

function buildAppliance(output: string): void {
  const result = imgforge(['build', path.join(ROOT, 'examples/appliance/image.yaml'), '-o', output], {
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  });
  if (result.status !== 0) throw new Error(`imgforge build failed: ${result.stderr}`);
}

function qemuImg(args: string[]): { status: number | null; out: string } {
  const result = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { status: result.status, out: result.stdout + result.stderr };
}

const formats = [
  { format: 'qcow2', qemu: 'qcow2', ext: 'qcow2' },
  { format: 'vhd', qemu: 'vpc', ext: 'vhd' },
  { format: 'vhd-dynamic', qemu: 'vpc', ext: 'dyn.vhd' },
] as const;

/** A build of its own with more data than the appliance: a 12 MiB raw partition (and a tail). */
function buildBulk(dir: string, output: string): void {
  writePatternFile(path.join(dir, 'bulk.bin'), 12 * MiB + 5, 3);
  fs.writeFileSync(
    path.join(dir, 'bulk.yaml'),
    'size: 64MiB\nseed: vdisk\npartitions:\n  - name: bulk\n    type: linux-generic\n    size: 16MiB\n    contents: ./bulk.bin\n',
  );
  const result = imgforge(['build', path.join(dir, 'bulk.yaml'), '-o', output]);
  if (result.status !== 0) throw new Error(`imgforge build failed: ${result.stderr}`);
}

for (const image of ['appliance', 'bulk'] as const) {
  test(`the ${image} build converts to qcow2, vhd and vhd-dynamic that QEMU reads as the raw build`, async (t) => {
    if (qemuMissing) return t.pass(`skipped: ${qemuMissing}`);
    const dir = tempDir();
    const raw = path.join(dir, `${image}.img`);
    if (image === 'appliance') buildAppliance(raw);
    else buildBulk(dir, raw);
    const size = fs.statSync(raw).size;
    const ranges = dataRanges(raw);
    const dataBytes = ranges.reduce((sum, r) => sum + r.length, 0);
    t.true(ranges.length > 1 && dataBytes < size, 'the build is sparse');
    for (const { format, qemu, ext } of formats) {
      const output = path.join(dir, `${image}.${ext}`);
      const summary = await native().writeVirtualDisk({
        format,
        image: raw,
        virtualSize: size,
        dataRanges: ranges,
        output,
        uuid: '0b7c2c1e-8f1d-4c52-9a3e-5d6f7a8b9c0d',
        timestamp: 1_700_000_000,
      });
      t.is(summary.dataBytes, dataBytes);
      t.is(summary.fileSize, fs.statSync(output).size);
      t.is(summary.copy.copyFileRangeBytes + summary.copy.readWriteBytes + summary.copy.holeBytes, dataBytes);
      if (format === 'qcow2') {
        const check = qemuImg(['check', '-f', 'qcow2', output]);
        t.is(check.status, 0, check.out);
        t.regex(check.out, /No errors were found/);
      }
      const compare = qemuImg(['compare', '-f', 'raw', '-F', qemu, raw, output]);
      t.is(compare.status, 0, `${format}: ${compare.out}`);
      t.regex(compare.out, /Images are identical/);
      const info = JSON.parse(qemuImg(['info', '--output=json', '-f', qemu, output]).out) as Record<string, unknown>;
      t.is(info['virtual-size'], size, format);
      t.is(info.format, qemu);
      if (format === 'qcow2') {
        const actual = info['actual-size'] as number;
        t.log(`qcow2: ${actual} bytes allocated for ${dataBytes} bytes of data`);
        // Only data and a few 4 KiB blocks of tables are allocated, never zero clusters: within
        // 1% once the data outweighs the tables (header, L1, refcount table and block, L2).
        t.true(actual >= dataBytes && actual - dataBytes <= 64 * 1024, `${actual} allocated for ${dataBytes}`);
        if (dataBytes >= 4 * MiB) t.true(actual - dataBytes <= dataBytes / 100, `${actual} allocated for ${dataBytes}`);
      }
    }
    // The same uuid and timestamp give the same VHD, byte for byte.
    const again = path.join(dir, 'again.vhd');
    await native().writeVirtualDisk({ format: 'vhd', image: raw, virtualSize: size, dataRanges: ranges, output: again, uuid: '0b7c2c1e-8f1d-4c52-9a3e-5d6f7a8b9c0d', timestamp: 1_700_000_000 });
    t.is(spawnSync('cmp', [again, path.join(dir, `${image}.vhd`)]).status, 0);
  });
}

test('bad options are refused with a message naming the option, and nothing is written', async (t) => {
  const dir = tempDir();
  const raw = path.join(dir, 'small.img');
  fs.writeFileSync(raw, Buffer.alloc(0));
  fs.truncateSync(raw, 3 * MiB + 512);
  const output = path.join(dir, 'out.vhd');
  const base = { image: raw, virtualSize: 3 * MiB + 512, dataRanges: [], output };
  t.throws(() => native().writeVirtualDisk({ ...base, format: 'vhd' }), {
    message: /^virtualSize: a fixed VHD must be a whole number of MiB \(Azure requires it\), and 3146240 bytes is not: make the disk 4 MiB$/,
  });
  t.throws(() => native().writeVirtualDisk({ ...base, format: 'qcow2', dataRanges: [{ offset: 0, length: 10 }, { offset: 5, length: 1 }] }), {
    message: /^dataRanges\[1\] .* must be sorted/,
  });
  t.throws(() => native().writeVirtualDisk({ ...base, format: 'vhd-dynamic', uuid: 'nope' }), { message: /^uuid: "nope" is not a UUID/ });
  t.throws(() => native().writeVirtualDisk({ ...base, format: 'vmdk' as 'vhd' }), { message: /^format: "vmdk" is not a virtual-disk format/ });
  await t.throwsAsync(native().writeVirtualDisk({ ...base, format: 'qcow2', virtualSize: 4 * MiB }), {
    message: /is 3146240 bytes but virtualSize is 4194304/,
  });
  t.false(fs.existsSync(output));
  t.false(fs.existsSync(path.join(dir, 'out.qcow2')));
});

test('progress counts the data bytes, and cancelling rejects and leaves no output', async (t) => {
  const dir = tempDir();
  const raw = path.join(dir, 'disk.img');
  fs.writeFileSync(raw, Buffer.alloc(0));
  fs.truncateSync(raw, 8 * MiB);
  writePatternFile(raw, MiB + 4096, 9, 2 * MiB);
  const dataRanges = [{ offset: 2 * MiB, length: MiB + 4096 }];
  const options = { format: 'qcow2' as const, image: raw, virtualSize: 8 * MiB, dataRanges, output: path.join(dir, 'disk.qcow2') };
  const progress = new (native().CopyProgress)();
  await native().writeVirtualDisk(options, progress);
  t.is(progress.bytes, MiB + 4096);
  const cancelled = new (native().CopyProgress)();
  cancelled.cancel();
  const output = path.join(dir, 'cancelled.qcow2');
  await t.throwsAsync(native().writeVirtualDisk({ ...options, output }, cancelled), { message: 'copy cancelled' });
  t.false(fs.existsSync(output));
});

const loopSkip = loopUnavailableReason();
let xfs: XfsMount | undefined;
test.after.always(() => xfs?.cleanup());

test('on XFS the qcow2 data clusters share the raw build\'s extents', async (t) => {
  if (qemuMissing || loopSkip) return t.pass(`skipped: ${qemuMissing ?? loopSkip}`);
  xfs = mountXfs(1 << 30);
  const raw = path.join(xfs.dir, 'appliance.img');
  buildAppliance(raw);
  const ranges = dataRanges(raw);
  const dataBytes = ranges.reduce((sum, r) => sum + r.length, 0);
  const output = path.join(xfs.dir, 'appliance.qcow2');
  const summary = await native().writeVirtualDisk({
    format: 'qcow2', image: raw, virtualSize: fs.statSync(raw).size, dataRanges: ranges, output, copy: 'copy-file-range',
  });
  t.is(summary.copy.readWriteBytes, 0);
  const { shared } = sharedBytesIn(fiemap(output), 0, summary.fileSize);
  t.log(`qcow2: ${shared} of ${dataBytes} data bytes shared with the raw image`);
  t.true(shared >= dataBytes * 0.99, `shared ${shared} of ${dataBytes}`);
  const compare = qemuImg(['compare', '-f', 'raw', '-F', 'qcow2', raw, output]);
  t.is(compare.status, 0, compare.out);
});
