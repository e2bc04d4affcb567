/**
 * Delivery formats, each proven with the independent tool that reads it: simg2img (Android
 * sparse), bmaptool (bmap), zstd/xz/gzip, and byte comparison for the partition files. The build's
 * data ranges are checked against the image itself: every other byte is zero, and they hold no
 * more than the file system has allocated.
 */
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage } from '../ts/build/build';
import { build } from '../ts/index';
import { mergeRanges, type DataRange } from '../ts/build/ranges';
import { imgforge } from './helpers/cli';
import { lastLineError, oneLineError, noTemporaryFiles, withMount } from './helpers/fault-checks';
import { mountTmpfs } from './helpers/faults';
import { fiemap, hasTool, run, sameBytes, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

/**
 * A spec of every kind of content: a FAT32 from files, an EROFS from files, a raw partition from a
 * source with a hole in the middle, and an empty partition that grows.
 */
function fixture(): { dir: string; specPath: string } {
  const dir = tempDir('imgforge-deliver-');
  const esp = path.join(dir, 'esp');
  fs.mkdirSync(path.join(esp, 'EFI', 'BOOT'), { recursive: true });
  writePatternFile(path.join(esp, 'EFI', 'BOOT', 'BOOTX64.EFI'), 300_001, 3);
  fs.writeFileSync(path.join(esp, 'loader.conf'), 'timeout 3\n');
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'usr', 'lib'), { recursive: true });
  writePatternFile(path.join(rootfs, 'usr', 'lib', 'big.so'), 2 * MiB + 123, 4);
  fs.writeFileSync(path.join(rootfs, 'usr', 'lib', 'small.txt'), 'hello\n');
  const raw = path.join(dir, 'system.img');
  writePatternFile(raw, 3 * MiB, 5);
  writePatternFile(raw, MiB + 7, 6, 6 * MiB); // a 3 MiB hole between
  const specPath = path.join(dir, 'image.yaml');
  fs.writeFileSync(
    specPath,
    [
      'size: 48MiB',
      'seed: deliver-test',
      'partitions:',
      '  - name: esp',
      '    type: esp',
      '    size: auto',
      '    filesystem: { type: fat32, label: ESP, files: [{ source: ./esp, target: / }] }',
      '  - name: root-a',
      '    type: root-x86-64',
      '    size: auto',
      '    filesystem: { type: erofs, files: [{ source: ./rootfs, target: / }] }',
      '  - name: system',
      '    type: linux-generic',
      '    size: auto',
      '    contents: ./system.img',
      '  - name: data',
      '    type: linux-generic',
      '    size: grow',
      '',
    ].join('\n'),
  );
  return { dir, specPath };
}

/** Runs the CLI with the reproducible environment; fails the test on a non-zero exit. */
function cli(t: ExecutionContext, args: string[]): string {
  const result = imgforge(args, { env: EPOCH });
  t.is(result.status, 0, result.stderr);
  return result.stdout;
}

/** The raw build of the fixture, the reference every format is compared with. */
function rawBuild(t: ExecutionContext, dir: string, specPath: string): string {
  const raw = path.join(dir, 'reference.img');
  if (!fs.existsSync(raw)) cli(t, ['build', specPath, '-o', raw, '-q']);
  return raw;
}

/** The build's data ranges for the fixture (the build is reproducible, so they are those of every build of it). */
async function dataRangesOf(specPath: string, dir: string): Promise<{ ranges: DataRange[]; image: string }> {
  const image = path.join(dir, `ranges-${process.hrtime.bigint()}.img`);
  const previous = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = EPOCH.SOURCE_DATE_EPOCH;
  try {
    const built = await buildImage(specPath, { output: image });
    built.commit();
    return { ranges: built.dataRanges, image };
  } finally {
    if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = previous;
  }
}

/** Bytes of the file system's data extents (SEEK_DATA's view, by FIEMAP) of `file`. */
function allocatedRanges(file: string): DataRange[] {
  return mergeRanges(fiemap(file).filter((e) => !e.hole).map((e) => ({ offset: e.start, length: e.end - e.start })));
}

function contains(outer: readonly DataRange[], inner: DataRange): boolean {
  return outer.some((o) => o.offset <= inner.offset && inner.offset + inner.length <= o.offset + o.length);
}

test('the build maps what it wrote: every other byte is zero, and every range is allocated in the image', async (t) => {
  const { dir, specPath } = fixture();
  const { ranges, image } = await dataRangesOf(specPath, dir);
  const bytes = fs.readFileSync(image);
  // Sorted, apart, inside the image.
  for (let i = 1; i < ranges.length; i++) t.true(ranges[i].offset > ranges[i - 1].offset + ranges[i - 1].length);
  t.true(ranges.at(-1)!.offset + ranges.at(-1)!.length <= bytes.length);
  // Outside the ranges, only zeros.
  let pos = 0;
  let nonZeroOutside = 0;
  for (const range of [...ranges, { offset: bytes.length, length: 0 }]) {
    for (let i = pos; i < range.offset; i++) if (bytes[i] !== 0) nonZeroOutside++;
    pos = range.offset + range.length;
  }
  t.is(nonZeroOutside, 0);
  // No larger than needed: each range lies in the image's allocated extents (what SEEK_DATA
  // reports), and together they hold at least the sources' data.
  const allocated = allocatedRanges(image);
  t.deepEqual(ranges.filter((r) => !contains(allocated, r)), []);
  const total = ranges.reduce((sum, r) => sum + r.length, 0);
  const sourceData = 300_001 + 10 + 2 * MiB + 123 + 6 + 3 * MiB + MiB + 7;
  t.true(total >= sourceData, `${total} >= ${sourceData}`);
  t.true(total < sourceData + 2 * MiB, `metadata and tables add little: ${total - sourceData} bytes`);
  // The raw source's hole is no data range.
  const system = (await build(specPath, { output: path.join(dir, 'again.img') })).partitions[2];
  t.false(ranges.some((r) => r.offset < system.offset + 6 * MiB && r.offset + r.length > system.offset + 3 * MiB));
});

test('--json reports dataBytes and every artifact with its size and SHA-256', (t) => {
  const { dir, specPath } = fixture();
  const output = path.join(dir, 'disk.img');
  const result = JSON.parse(cli(t, ['build', specPath, '-o', output, '--bmap', '--split', '--json'])) as {
    dataBytes: number;
    artifacts: Array<{ path: string; kind: string; size: number; sha256: string; partition?: { name: string; type: string; guid: string } }>;
    partitions: Array<{ name: string; type: string; guid: string }>;
  };
  t.deepEqual(
    result.artifacts.map((a) => [path.basename(a.path), a.kind]),
    [
      ['disk.img', 'raw'],
      ['disk.img.bmap', 'bmap'],
      ['disk.esp.raw', 'partition'],
      ['disk.root-a.raw', 'partition'],
      ['disk.system.raw', 'partition'],
      ['disk.data.raw', 'partition'],
    ],
  );
  for (const artifact of result.artifacts) {
    t.is(artifact.size, fs.statSync(artifact.path).size, artifact.path);
    t.is(artifact.sha256, run('sha256sum', [artifact.path]).split(' ')[0], artifact.path);
  }
  result.artifacts.slice(2).forEach((artifact, i) => {
    const { name, type, guid } = result.partitions[i];
    t.deepEqual(artifact.partition && { name: artifact.partition.name, type: artifact.partition.type, guid: artifact.partition.guid }, { name, type, guid });
  });
  t.true(result.dataBytes > 6 * MiB && result.dataBytes < 10 * MiB, String(result.dataBytes));
  noTemporaryFiles(t, dir);
});

test('android-sparse: simg2img expands it to the raw build, byte for byte; unwritten blocks are DONT_CARE', async (t) => {
  if (!hasTool('simg2img')) return t.pass('skipped: simg2img missing (android-sdk-libsparse-utils)');
  const { dir, specPath } = fixture();
  const raw = rawBuild(t, dir, specPath);
  const sparse = path.join(dir, 'disk.simg');
  cli(t, ['build', specPath, '-o', sparse, '-q']);
  const expanded = path.join(dir, 'expanded.img');
  run('simg2img', [sparse, expanded]);
  t.is(run('cmp', [raw, expanded]), '');
  // Its chunks, read by the format's definition: RAW where the build wrote, DONT_CARE elsewhere.
  const bytes = fs.readFileSync(sparse);
  t.is(bytes.readUInt32LE(0), 0xed26ff3a);
  const blockSize = bytes.readUInt32LE(12);
  const totalBlocks = bytes.readUInt32LE(16);
  t.is(blockSize * totalBlocks, fs.statSync(raw).size);
  const chunks: Array<{ type: number; first: number; blocks: number }> = [];
  let at = 28;
  let block = 0;
  for (let i = 0; i < bytes.readUInt32LE(20); i++) {
    const type = bytes.readUInt16LE(at);
    const blocks = bytes.readUInt32LE(at + 4);
    chunks.push({ type, first: block, blocks });
    at += bytes.readUInt32LE(at + 8);
    block += blocks;
  }
  t.is(at, bytes.length);
  t.is(block, totalBlocks);
  t.deepEqual([...new Set(chunks.map((c) => c.type))].sort(), [0xcac1, 0xcac3]);
  const { ranges } = await dataRangesOf(specPath, dir);
  for (const chunk of chunks.filter((c) => c.type === 0xcac3)) {
    const start = chunk.first * blockSize;
    const end = start + chunk.blocks * blockSize;
    t.false(ranges.some((r) => r.offset < end && r.offset + r.length > start), `DONT_CARE blocks ${chunk.first}+${chunk.blocks} hold no written byte`);
  }
  t.true(fs.statSync(sparse).size < 12 * MiB, `the sparse image holds the data only: ${fs.statSync(sparse).size}`);
  // --format says the same for any name.
  const named = path.join(dir, 'disk.android');
  cli(t, ['build', specPath, '-o', named, '--format', 'android-sparse', '-q']);
  t.is(run('cmp', [sparse, named]), '');
  noTemporaryFiles(t, dir);
});

/** The block ranges `<Range>` of a bmap file, as [first, last] block numbers. */
function bmapRanges(text: string): Array<[number, number]> {
  return [...text.matchAll(/<Range chksum="[0-9a-f]{64}">\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])]);
}

test('bmap: bmaptool copies the image by it, the copy equals the raw build, and it maps only blocks the build wrote', async (t) => {
  if (!hasTool('bmaptool')) return t.pass('skipped: bmaptool missing (bmap-tools)');
  const { dir, specPath } = fixture();
  const raw = rawBuild(t, dir, specPath);
  const image = path.join(dir, 'disk.img');
  cli(t, ['build', specPath, '-o', image, '--bmap', '-q']);
  t.is(run('cmp', [raw, image]), '', 'the image itself is the raw build');
  const target = path.join(dir, 'target.img');
  run('bmaptool', ['copy', '--bmap', `${image}.bmap`, image, target]);
  t.is(run('cmp', [raw, target]), '');
  // Every mapped block holds a byte the build wrote; every written byte is in a mapped block.
  const { ranges } = await dataRangesOf(specPath, dir);
  const blocks = bmapRanges(fs.readFileSync(`${image}.bmap`, 'utf8'));
  t.true(blocks.length > 0);
  const touches = (first: number, last: number) => ranges.some((r) => r.offset < (last + 1) * 4096 && r.offset + r.length > first * 4096);
  for (const [first, last] of blocks) {
    for (let block = first; block <= last; block++) t.true(touches(block, block), `block ${block} is mapped but the build wrote nothing in it`);
  }
  for (const r of ranges) {
    const first = Math.floor(r.offset / 4096);
    const last = Math.floor((r.offset + r.length - 1) / 4096);
    t.true(blocks.some(([a, b]) => a <= first && last <= b), `range ${r.offset}+${r.length} is mapped`);
  }
  // A corrupted image is refused by the per-range SHA-256.
  const fd = fs.openSync(image, 'r+');
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, blocks[0][0] * 4096);
  fs.closeSync(fd);
  fs.rmSync(target);
  t.throws(() => run('bmaptool', ['copy', '--bmap', `${image}.bmap`, image, target]), { message: /checksum mismatch/ });
});

test('bmap beside a compressed image: bmaptool finds it by name and copies through the compression', (t) => {
  if (!hasTool('bmaptool') || !hasTool('zstd')) return t.pass('skipped: bmaptool or zstd missing');
  const { dir, specPath } = fixture();
  const raw = rawBuild(t, dir, specPath);
  const image = path.join(dir, 'disk.img.zst');
  cli(t, ['build', specPath, '-o', image, '--bmap', '-q']);
  t.true(fs.existsSync(`${image}.bmap`));
  const target = path.join(dir, 'target.img');
  const log = run('sh', ['-c', 'bmaptool copy "$1" "$2" 2>&1', 'sh', image, target]);
  t.regex(log, /discovered bmap file/);
  t.is(run('cmp', [raw, target]), '');
});

for (const [extension, compression, decompress] of [
  ['zst', 'zstd', ['zstd', '-dcq']],
  ['xz', 'xz', ['xz', '-dc']],
  ['gz', 'gzip', ['gzip', '-dc']],
] as const) {
  test(`${compression}: ${decompress[0]} gives back the raw build exactly`, (t) => {
    if (!hasTool(decompress[0])) return t.pass(`skipped: ${decompress[0]} missing`);
    const { dir, specPath } = fixture();
    const raw = rawBuild(t, dir, specPath);
    const byName = path.join(dir, `disk.img.${extension}`);
    cli(t, ['build', specPath, '-o', byName, '-q']);
    const byOption = path.join(dir, `other.${extension}`);
    cli(t, ['build', specPath, '-o', path.join(dir, 'other'), '--compress', compression, '-q']);
    fs.renameSync(path.join(dir, 'other'), byOption);
    for (const file of [byName, byOption]) {
      const out = path.join(dir, 'decompressed.img');
      fs.writeFileSync(out, '');
      run('sh', ['-c', `${decompress.join(' ')} "$1" > "$2"`, 'sh', file, out]);
      t.is(run('cmp', [raw, out]), '', file);
    }
    t.true(fs.statSync(byName).size < 8 * MiB, 'the compressed stream is small');
    noTemporaryFiles(t, dir);
  });
}

test('--split: each partition file equals its range of the raw image; --split-name patterns name them', (t) => {
  const { dir, specPath } = fixture();
  const image = path.join(dir, 'disk.img');
  const result = JSON.parse(cli(t, ['build', specPath, '-o', image, '--split', '--json'])) as {
    partitions: Array<{ name: string; offset: number; size: number; guid: string; type: string }>;
    artifacts: Array<{ path: string; kind: string; size: number }>;
  };
  for (const partition of result.partitions) {
    const file = path.join(dir, `disk.${partition.name}.raw`);
    t.is(fs.statSync(file).size, partition.size);
    t.true(sameBytes(file, 0, image, partition.offset, partition.size), partition.name);
  }
  // Holes stay holes: the empty data partition's file allocates nothing.
  t.is(fs.statSync(path.join(dir, 'disk.data.raw')).blocks, 0);
  const patterned = path.join(dir, 'patterned');
  fs.mkdirSync(patterned);
  cli(t, ['build', specPath, '-o', path.join(patterned, 'x.img.zst'), '--split', '--split-name', '%i-%n_%u.%t.part', '-q']);
  t.deepEqual(
    fs.readdirSync(patterned).sort(),
    ['x.img.zst', ...result.partitions.map((p, i) => `${i + 1}-${p.name}_${p.guid}.${p.type}.part`)].sort(),
  );
  t.true(sameBytes(path.join(patterned, `1-esp_${result.partitions[0].guid}.${result.partitions[0].type}.part`), 0, image, result.partitions[0].offset, result.partitions[0].size));
});

test('a failure in a later artifact (no space for a partition file) leaves none of them, nor a temporary file, and the previous image', async (t) => {
  const { specPath } = fixture();
  // The image holds about 7 MiB of data; the partition files, copied on tmpfs, run out of space at the third.
  await withMount(t, 'tmpfs', () => mountTmpfs('11m'), (mount) => {
    const output = path.join(mount.dir, 'disk.img');
    fs.writeFileSync(output, 'previous image');
    const result = imgforge(['build', specPath, '-o', output, '--bmap', '--split'], { env: EPOCH });
    t.is(result.status, 1, result.stderr);
    t.regex(lastLineError(t, result.stderr), /no space left on device/i);
    t.regex(result.stderr, /writing .*disk\.system\.raw/, 'the failure came after the image and its bmap were written');
    t.is(fs.readFileSync(output, 'utf8'), 'previous image');
    t.deepEqual(fs.readdirSync(mount.dir), ['disk.img']);
  });
});

test('a partition file name taken by a folder is refused before anything is written', (t) => {
  const { dir, specPath } = fixture();
  const output = path.join(dir, 'disk.img');
  fs.mkdirSync(path.join(dir, 'disk.data.raw'));
  oneLineError(t, imgforge(['build', specPath, '-o', output, '--split', '-q'], { env: EPOCH }), 2, 'disk.data.raw is a directory');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('disk')), ['disk.data.raw']);
  noTemporaryFiles(t, dir);
});

test('a partition file that would replace an input is refused before anything is written', (t) => {
  const { dir, specPath } = fixture();
  const before = fs.readFileSync(path.join(dir, 'system.img'));
  // "system.img" is partitions[2].contents: `--split-name %n.img` names that partition's file so.
  const result = imgforge(['build', specPath, '-o', path.join(dir, 'disk.img'), '--split', '--split-name', '%n.img', '-q'], { env: EPOCH });
  oneLineError(t, result, 2, 'system.img: the output is partitions[2].contents');
  t.true(fs.readFileSync(path.join(dir, 'system.img')).equals(before));
  t.false(fs.existsSync(path.join(dir, 'disk.img')));
  noTemporaryFiles(t, dir);
});

test('bad delivery options are one line and exit 2, before anything is written', (t) => {
  const { dir, specPath } = fixture();
  const out = (name: string) => path.join(dir, name);
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img'), '--format', 'qcow9']), 2, "'qcow9' is invalid", 'raw, android-sparse');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img'), '--compress', 'lz4']), 2, "'lz4' is invalid");
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.simg'), '--format', 'raw']), 2, 'format raw conflicts with the output name a.simg');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img.zst'), '--compress', 'gzip']), 2, 'compress gzip conflicts with the output name a.img.zst');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img.gz'), '--format', 'android-sparse']), 2, 'format android-sparse conflicts');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.simg'), '--bmap']), 2, 'bmap describes a raw image');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img'), '--split-name', '%n.raw']), 2, 'pass split too');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img'), '--split', '--split-name', '%q.raw']), 2, 'unknown field "%q"');
  oneLineError(t, imgforge(['build', specPath, '-o', out('a.img'), '--split', '--split-name', 'all.raw']), 2, 'would also be');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('a.') || f.endsWith('.raw')), []);
  noTemporaryFiles(t, dir);
});

test('the library refuses the same bad options with a USAGE error', async (t) => {
  const { dir, specPath } = fixture();
  const error = await t.throwsAsync(build(specPath, { output: path.join(dir, 'a.img'), format: 'vmdk' as never }));
  t.is((error as { code?: string }).code, 'USAGE');
  t.regex(error!.message, /format must be one of raw, android-sparse, qcow2, vhd, vhd-dynamic; got "vmdk"/);
});

test('inspect and verify say that a sparse or compressed image must be expanded first', (t) => {
  const { dir, specPath } = fixture();
  for (const [name, what] of [['disk.simg', 'an Android sparse image'], ['disk.img.zst', 'zstd-compressed'], ['disk.img.xz', 'xz-compressed'], ['disk.img.gz', 'gzip-compressed']] as const) {
    const file = path.join(dir, name);
    cli(t, ['build', specPath, '-o', file, '-q']);
    oneLineError(t, imgforge(['inspect', file]), 2, `${file} is ${what}`, 'read raw images');
    oneLineError(t, imgforge(['verify', specPath, file]), 2, `${file} is ${what}`);
  }
});
