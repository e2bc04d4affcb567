import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError, loadSpec, plan } from '../ts/index';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import { allocatedBytes, sameBytes, sfdiskJson, sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;

/** A spec with a sparse raw partition, an empty one and a growing one, in a fresh folder. */
function fixture(extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  const rootfs = path.join(dir, 'rootfs.img');
  // 6 MiB of data, a 4 MiB hole, 2 MiB of data, ending in a partial block.
  writePatternFile(rootfs, 6 * MiB, 7);
  writePatternFile(rootfs, 2 * MiB + 1234, 8, 10 * MiB);
  const specPath = path.join(dir, 'image.json');
  const spec = {
    size: '48MiB',
    seed: 'build-test',
    partitions: [
      { name: 'rootfs', type: 'root-x86-64', size: 'auto', contents: './rootfs.img' },
      { name: 'empty', type: 'linux-generic', size: '4MiB' },
      { name: 'data', type: 'home', size: 'grow' },
    ],
    ...extra,
  };
  fs.writeFileSync(specPath, JSON.stringify(spec));
  return { dir, rootfs, specPath };
}

test('builds a GPT image whose table sgdisk and sfdisk read back as planned', async (t) => {
  const { dir, rootfs, specPath } = fixture();
  const output = path.join(dir, 'disk.img');
  const result = await build(specPath, { output });

  t.is(result.output, output);
  t.is(fs.statSync(output).size, result.diskSize);
  t.regex(sgdiskVerify(output), /No problems found/);

  const table = sfdiskJson(output);
  t.is(table.label, 'gpt');
  t.is(table.id.toUpperCase(), result.diskGuid!);
  t.deepEqual(
    table.partitions.map((p) => ({ start: p.start, size: p.size, type: p.type.toUpperCase(), uuid: p.uuid.toUpperCase(), name: p.name })),
    result.partitions.map((p) => ({ start: p.firstLba, size: p.lastLba - p.firstLba + 1, type: p.type, uuid: p.guid, name: p.name })),
  );
  t.deepEqual(result.partitions.map((p) => p.name), ['rootfs', 'empty', 'data']);

  const rootfsPart = result.partitions[0];
  const rootfsSize = fs.statSync(rootfs).size;
  t.is(rootfsPart.offset % MiB, 0);
  t.true(sameBytes(rootfs, 0, output, rootfsPart.offset, rootfsSize), 'partition holds the contents byte for byte');
  t.is(result.copy.holeBytes, 4 * MiB, 'the source hole was skipped');
  t.is(result.copy.copyFileRangeBytes + result.copy.readWriteBytes, rootfsSize - 4 * MiB);
  // Only tables and data were written: the image stays sparse.
  t.true(allocatedBytes(output) < rootfsSize - 4 * MiB + 2 * MiB, `allocated ${allocatedBytes(output)}`);
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'image.json', 'rootfs.img']);
});

test('the result matches plan() and the documented JSON shape', async (t) => {
  const { dir, specPath } = fixture();
  const result = await build(specPath, { output: path.join(dir, 'a.img') });
  const layout = await plan(await loadSpec(specPath));
  // The plan it wrote (the same names as plan()), and how.
  t.deepEqual(Object.keys(result).sort(), [...Object.keys(layout), 'artifacts', 'copy', 'dataBytes', 'elapsedMs', 'output', 'timings'].sort());
  t.deepEqual(result.artifacts, [{ path: path.join(dir, 'a.img'), kind: 'raw', size: result.diskSize }]);
  t.deepEqual(Object.keys(result.copy).sort(), ['copyFileRangeBytes', 'holeBytes', 'readWriteBytes']);
  // Where the time went: each phase measured, none more than the whole.
  t.deepEqual(Object.keys(result.timings).sort(), ['copy', 'deliver', 'fsync', 'plan', 'scan', 'tables', 'verity']);
  const phases = Object.values(result.timings);
  t.true(phases.every((ms) => Number.isFinite(ms) && ms >= 0), JSON.stringify(result.timings));
  t.true(phases.reduce((a, b) => a + b, 0) <= result.elapsedMs + 0.5, JSON.stringify(result));
  t.true(result.timings.copy > 0, 'the 24 MiB of contents took some time to copy');
  t.deepEqual(Object.keys(result.partitions[0]).sort(), ['attributes', 'contents', 'firstLba', 'guid', 'index', 'lastLba', 'name', 'offset', 'size', 'type', 'typeName']);
  t.is(layout.diskGuid, result.diskGuid, 'seeded GUIDs are the same in plan and build');
  t.deepEqual(result.partitions, layout.partitions);
});

test('read-write and auto copies give byte-identical images; seeded builds are reproducible', async (t) => {
  const { dir, specPath } = fixture();
  const auto = await build(specPath, { output: path.join(dir, 'auto.img'), copy: 'auto' });
  const readWrite = await build(specPath, { output: path.join(dir, 'rw.img'), copy: 'read-write' });
  t.is(readWrite.copy.copyFileRangeBytes, 0);
  t.true(readWrite.copy.readWriteBytes > 0);
  t.is(auto.diskSize, readWrite.diskSize);
  t.true(sameBytes(path.join(dir, 'auto.img'), 0, path.join(dir, 'rw.img'), 0, auto.diskSize));
});

test('without a seed, GUIDs are random and differ between builds', async (t) => {
  const { dir, specPath } = fixture({ seed: undefined });
  const a = await build(specPath, { output: path.join(dir, 'a.img') });
  const b = await build(specPath, { output: path.join(dir, 'b.img') });
  t.not(a.diskGuid, b.diskGuid);
  t.not(a.partitions[0].guid, b.partitions[0].guid);
});

test('the default output is <spec name>.img beside the spec, or the spec\'s output key', async (t) => {
  const first = fixture();
  const result = await build(first.specPath);
  t.is(result.output, path.join(first.dir, 'image.img'));
  t.true(fs.existsSync(result.output));

  const second = fixture({ output: './out/custom.img' });
  fs.mkdirSync(path.join(second.dir, 'out'));
  t.is((await build(second.specPath)).output, path.join(second.dir, 'out', 'custom.img'));
});

test('a failed build leaves no partial image and keeps the existing one', async (t) => {
  const { dir, specPath } = fixture();
  const output = path.join(dir, 'disk.img');
  fs.writeFileSync(output, 'previous image');
  // Contents that do not fit the explicit partition size.
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  spec.partitions[0].size = '1MiB';
  fs.writeFileSync(specPath, JSON.stringify(spec));
  const error = await t.throwsAsync(build(specPath, { output }), { instanceOf: ImgforgeError });
  t.is(error?.code, 'CONTENTS');
  t.regex(error!.message, /partitions\[0\]/);
  t.is(fs.readFileSync(output, 'utf8'), 'previous image');
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'image.json', 'rootfs.img']);
});

test('an aborted build removes its temporary file and keeps the existing image', async (t) => {
  const { dir, specPath } = fixture();
  const output = path.join(dir, 'disk.img');
  fs.writeFileSync(output, 'previous image');
  const controller = new AbortController();
  const error = await t.throwsAsync(
    build(specPath, {
      output,
      copy: 'read-write',
      signal: controller.signal,
      progressIntervalMs: 1,
      onProgress: (p) => {
        if (p.phase === 'copy') controller.abort();
      },
    }),
    { instanceOf: ImgforgeError },
  );
  t.is(error?.code, 'ABORTED');
  t.is(fs.readFileSync(output, 'utf8'), 'previous image');
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'image.json', 'rootfs.img']);
});

test('refuses to overwrite its own inputs', async (t) => {
  const { dir, rootfs, specPath } = fixture();
  const before = fs.readFileSync(rootfs);
  const error = await t.throwsAsync(build(specPath, { output: rootfs }), { instanceOf: ImgforgeError });
  t.is(error?.code, 'OUTPUT');
  t.true(fs.readFileSync(rootfs).equals(before));
  await t.throwsAsync(build(specPath, { output: specPath }), { instanceOf: ImgforgeError, message: /spec file/ });
  t.deepEqual(fs.readdirSync(dir).sort(), ['image.json', 'rootfs.img']);
});

test('4096-byte sectors: the table is valid for sgdisk and sfdisk and contents land at their offsets', async (t) => {
  const { dir, rootfs, specPath } = fixture({ sectorSize: 4096 });
  const output = path.join(dir, 'disk4k.img');
  const result = await build(specPath, { output });
  t.is(result.partitions[0].offset, result.partitions[0].firstLba * 4096);
  t.true(sameBytes(rootfs, 0, output, result.partitions[0].offset, fs.statSync(rootfs).size));
  // sfdisk and sgdisk take the sector size from the device, so read the image through a loop
  // device with 4096-byte logical sectors.
  const why = loopUnavailableReason();
  if (why) {
    t.log(`sgdisk/sfdisk check of the 4096-byte-sector table skipped: ${why}`);
    return;
  }
  const loop = attachLoop(output, 4096);
  try {
    t.regex(sgdiskVerify(loop.device), /No problems found/);
    const table = sfdiskJson(loop.device);
    t.is(table.sectorsize, 4096);
    t.deepEqual(table.partitions.map((p) => [p.start, p.size]), result.partitions.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1]));
  } finally {
    loop.detach();
  }
});
