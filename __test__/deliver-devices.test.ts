/**
 * Delivery where root is needed: partition files reflinked from the image on XFS, a block device
 * output refusing file artifacts, and a signal during delivery leaving nothing behind.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/index';
import { imgforge } from './helpers/cli';
import { cliWhen, noTemporaryFiles, oneLineError } from './helpers/fault-checks';
import { attachLoop, loopUnavailableReason, mountXfs, type XfsMount } from './helpers/loop';
import { fiemap, sameBytes, sharedBytesIn, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const skipReason = loopUnavailableReason();

let xfs: XfsMount | undefined;
test.before(() => {
  if (skipReason) {
    console.log(`delivery device tests skipped: ${skipReason}`);
    return;
  }
  xfs = mountXfs(2 * 1024 * MiB);
});
test.after.always(() => xfs?.cleanup());

/** A spec with two raw partitions from sources in `dir`: 64 MiB of data with a hole, and 8 MiB. */
function rawSpec(dir: string, bytes = 64 * MiB): string {
  writePatternFile(path.join(dir, 'root.img'), bytes / 2, 21);
  writePatternFile(path.join(dir, 'root.img'), bytes / 2, 22, bytes / 2 + 4 * MiB);
  writePatternFile(path.join(dir, 'usr.img'), 8 * MiB, 23);
  const specPath = path.join(dir, 'image.yaml');
  fs.writeFileSync(
    specPath,
    'seed: deliver-xfs\nsize: auto\npartitions:\n' +
      '  - { name: root, type: root-x86-64, size: auto, contents: ./root.img }\n' +
      '  - { name: usr, type: usr-x86-64, size: auto, contents: ./usr.img }\n',
  );
  return specPath;
}

test.serial('on XFS, --split partition files share their extents with the image (reflink)', async (t) => {
  if (!xfs) return t.pass(`skipped: ${skipReason}`);
  const dir = path.join(xfs.dir, 'split');
  fs.mkdirSync(dir);
  const specPath = rawSpec(dir);
  const output = path.join(dir, 'disk.img');
  const result = await build(specPath, { output, split: true });
  for (const partition of result.partitions) {
    const file = path.join(dir, `disk.${partition.name}.raw`);
    t.true(sameBytes(file, 0, output, partition.offset, partition.size), partition.name);
    const own = sharedBytesIn(fiemap(file), 0, partition.size);
    const inImage = sharedBytesIn(fiemap(output), partition.offset, partition.offset + partition.size);
    t.log(`${partition.name}: ${own.shared} of ${own.data} data bytes shared`);
    t.true(own.data > 0 && own.shared === own.data, `${partition.name}: all data shared (${own.shared} of ${own.data})`);
    t.is(own.data, inImage.data, 'the same data extents, holes kept');
  }
  // The root source's 4 MiB hole is a hole of its partition file.
  const root = path.join(dir, 'disk.root.raw');
  t.is(sharedBytesIn(fiemap(root), 32 * MiB, 36 * MiB).data, 0);
  const artifact = result.artifacts.find((a) => a.path === root);
  t.is(artifact?.partition?.guid, result.partitions[0].guid);
});

test.serial('file artifacts on a block device output are one line, exit 2, and the device is not touched', (t) => {
  if (!xfs) return t.pass(`skipped: ${skipReason}`);
  const dir = tempDir();
  const specPath = rawSpec(dir, 2 * MiB);
  const backing = path.join(dir, 'device.img');
  fs.writeFileSync(backing, Buffer.alloc(64 * MiB, 0xab));
  const loop = attachLoop(backing);
  try {
    for (const options of [['--split'], ['--bmap'], ['--compress', 'zstd'], ['--format', 'android-sparse']]) {
      oneLineError(t, imgforge(['build', specPath, '-o', loop.device, '--force', ...options]), 2, options.join(' '), 'is a block device');
    }
  } finally {
    loop.detach();
  }
  t.true(fs.readFileSync(backing).every((b) => b === 0xab), 'the device was not written');
});

for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test.serial(`${signal} while compressing and splitting stops the build and leaves no file`, async (t) => {
    if (!xfs) return t.pass(`skipped: ${skipReason}`);
    const dir = tempDir();
    const specPath = rawSpec(dir, 256 * MiB);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    // xz of 256 MiB of incompressible data takes seconds: the signal lands in the delivery.
    const end = await cliWhen(['build', specPath, '-o', path.join(out, 'disk.img.xz'), '--split', '--bmap'], /writing .*disk\.img\.xz/, (child) => child.kill(signal));
    t.is(end.code, status, end.stderr);
    t.regex(end.stderr, new RegExp(`build interrupted by ${signal}`));
    t.deepEqual(fs.readdirSync(out), []);
    noTemporaryFiles(t, out);
  });
}
