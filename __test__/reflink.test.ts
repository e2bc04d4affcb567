import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/index';
import { loopUnavailableReason, mountXfs, type XfsMount } from './helpers/loop';
import { allocatedBytes, fiemap, run, sameBytes, sharedBytesIn, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const GiB = 1 << 30;
const skipReason = loopUnavailableReason();

let xfs: XfsMount | undefined;
test.before(() => {
  if (skipReason) {
    console.log(`reflink tests skipped: ${skipReason}`);
    return;
  }
  xfs = mountXfs(8 * GiB);
});
test.after.always(() => xfs?.cleanup());

test.serial('a 1 GiB raw partition from the same XFS is shared by reflink and its hole stays a hole', async (t) => {
  if (!xfs) return t.pass(`skipped: ${skipReason}`);
  const dir = xfs.dir;
  const source = path.join(dir, 'rootfs.img');
  // 1 GiB with an 8 MiB hole in the middle.
  const hole = { start: 512 * MiB, size: 8 * MiB };
  writePatternFile(source, hole.start, 11);
  writePatternFile(source, GiB - hole.start - hole.size, 12, hole.start + hole.size);
  fs.writeFileSync(
    path.join(dir, 'image.yaml'),
    `size: 1100MiB\nseed: reflink\npartitions:\n  - name: root\n    type: root-x86-64\n    size: 1GiB\n    contents: ./rootfs.img\n  - name: data\n    type: linux-generic\n    size: grow\n`,
  );

  const image = path.join(dir, 'disk.img');
  const result = await build(path.join(dir, 'image.yaml'), { output: image });
  const partition = result.partitions[0];
  const dataBytes = GiB - hole.size;
  t.is(result.copy.copyFileRangeBytes, dataBytes);
  t.is(result.copy.readWriteBytes, 0);
  t.is(result.copy.holeBytes, hole.size);

  const extents = fiemap(image);
  const within = sharedBytesIn(extents, partition.offset, partition.offset + GiB);
  t.log(`fiemap: ${within.shared} of ${within.data} data bytes of the partition are shared`);
  t.true(within.shared / dataBytes >= 0.99, `shared ${within.shared} of ${dataBytes}`);
  const inHole = sharedBytesIn(extents, partition.offset + hole.start, partition.offset + hole.start + hole.size);
  t.is(inHole.data, 0, 'the source hole is a hole in the image');
  t.true(sameBytes(source, 0, image, partition.offset, GiB));

  // The same image by plain reads and writes is byte-identical, and really copies.
  const copied = path.join(dir, 'disk-rw.img');
  const readWrite = await build(path.join(dir, 'image.yaml'), { output: copied, copy: 'read-write' });
  t.is(readWrite.copy.readWriteBytes, dataBytes);
  t.is(run('cmp', [image, copied]), '');
  t.is(sharedBytesIn(fiemap(copied), partition.offset, partition.offset + GiB).shared, 0);
  t.true(allocatedBytes(copied) < dataBytes + 4 * MiB, 'holes kept by the read/write path too');
  fs.rmSync(copied);
});

test.serial('copy-file-range mode fails clearly where the kernel cannot copy across filesystems, auto falls back', async (t) => {
  if (!xfs) return t.pass(`skipped: ${skipReason}`);
  // Source on tmpfs, image on XFS: copy_file_range answers EXDEV.
  const shm = fs.mkdtempSync('/dev/shm/imgforge-test-');
  try {
    const source = path.join(shm, 'part.img');
    writePatternFile(source, 5 * MiB + 3, 5);
    const specPath = path.join(xfs.dir, 'cross.json');
    fs.writeFileSync(specPath, JSON.stringify({ size: '16MiB', partitions: [{ name: 'p', type: 'linux-generic', size: 'auto', contents: source }] }));
    const auto = await build(specPath, { output: path.join(xfs.dir, 'cross.img') });
    t.is(auto.copy.readWriteBytes, 5 * MiB + 3);
    t.true(sameBytes(source, 0, path.join(xfs.dir, 'cross.img'), auto.partitions[0].offset, 5 * MiB + 3));
    const error = await t.throwsAsync(build(specPath, { output: path.join(xfs.dir, 'strict.img'), copy: 'copy-file-range' }));
    t.is((error as { code?: string }).code, 'COPY');
    t.regex(error!.message, /partitions\[0\]\.contents/);
    t.false(fs.existsSync(path.join(xfs.dir, 'strict.img')));
    t.deepEqual(fs.readdirSync(xfs.dir).filter((f) => f.endsWith('.imgforge-tmp')), []);
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
  }
});
