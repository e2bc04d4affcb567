/**
 * The library's entry points as a program uses them: specs written as objects (ImageSpec) with a
 * baseDir, options objects, inspect async beside inspectSync, and one naming for plan results in
 * plan(), `plan --json` and `build --json`.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError, inspect, inspectSync, parseSpec, plan, verify } from '../ts/index';
import type { ImageSpec, ImageSpecErofs, ImageSpecExt4, ImageSpecFat32, ImageSpecFile, ImageSpecPartition, ImageSpecSquashfs } from '../ts/types';
import { partitionShape, specShape } from '../ts/spec/schema';
import { filesystemShape, fileSourceSchema } from '../ts/spec/filesystem';
import { imgforge, ROOT } from './helpers/cli';
import { sgdiskVerify, tempDir } from './helpers/tools';

// ImageSpec has exactly the keys the validator accepts: a field added to one and not the other
// fails to compile (tsc -p tsconfig.test.json).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type FileKeys = keyof (typeof fileSourceSchema)['shape'];
const SAME_KEYS: Array<true> = [
  true satisfies Same<keyof ImageSpec, keyof typeof specShape>,
  true satisfies Same<keyof ImageSpecPartition, keyof typeof partitionShape>,
  true satisfies Same<keyof ImageSpecFat32 | keyof ImageSpecErofs | keyof ImageSpecExt4 | keyof ImageSpecSquashfs, keyof typeof filesystemShape>,
  true satisfies Same<keyof ImageSpecFile, FileKeys>,
];

const EXAMPLE = path.join(ROOT, 'examples', 'erofs-ab', 'image.yaml');
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

test('ImageSpec, ImageSpecPartition and the filesystem types have the validator\'s keys', (t) => {
  t.is(SAME_KEYS.length, 4);
});

test.serial('plan(), plan --json and build --json name the same things the same way', async (t) => {
  process.env.SOURCE_DATE_EPOCH = EPOCH.SOURCE_DATE_EPOCH;
  t.teardown(() => delete process.env.SOURCE_DATE_EPOCH);
  const dir = tempDir('imgforge-naming-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layout = await plan({ spec: EXAMPLE });
  const planned = imgforge(['plan', EXAMPLE, '--json'], { env: EPOCH });
  t.is(planned.status, 0, planned.stderr);
  const built = imgforge(['build', EXAMPLE, '-o', path.join(dir, 'disk.img'), '--json', '-q'], { env: EPOCH });
  t.is(built.status, 0, built.stderr);
  const planJson = JSON.parse(planned.stdout);
  const buildJson = JSON.parse(built.stdout);

  // Every partition: the same keys in all three (an ESP, an EROFS, an empty slot, one with attributes).
  const keys = (partitions: object[]) => partitions.map((p) => Object.keys(p));
  t.deepEqual(keys(planJson.partitions), keys(layout.partitions));
  t.deepEqual(keys(buildJson.partitions), keys(layout.partitions));
  t.deepEqual(keys(layout.partitions)[0], ['index', 'name', 'type', 'typeName', 'guid', 'attributes', 'firstLba', 'lastLba', 'offset', 'size', 'filesystem']);
  // The disk: plan --json is plan(); build --json is the plan and the output, copy, data bytes, artifacts and timings.
  t.deepEqual(Object.keys(planJson), Object.keys(layout));
  t.deepEqual(Object.keys(buildJson).filter((k) => k in layout), Object.keys(layout));
  t.deepEqual(Object.keys(buildJson).filter((k) => !(k in layout)).sort(), ['artifacts', 'copy', 'dataBytes', 'elapsedMs', 'output', 'timings']);
  // And the same values: the example has a seed.
  t.deepEqual(planJson, JSON.parse(JSON.stringify(layout)));
  t.deepEqual(buildJson.partitions, planJson.partitions);
  t.deepEqual(layout.partitions.map((p) => p.attributes), [[], [], ['no-auto'], ['growfs']]);
});

/** A project folder: an ESP folder and a raw contents file, for specs written as objects. */
function project(t: { teardown(fn: () => void): void }): string {
  const dir = tempDir('imgforge-object-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'esp', 'EFI', 'BOOT'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'esp', 'EFI', 'BOOT', 'BOOTX64.EFI'), 'a boot loader');
  fs.writeFileSync(path.join(dir, 'data.img'), Buffer.alloc(70_000, 7));
  return dir;
}

const OBJECT_SPEC: ImageSpec = {
  seed: 'object-spec',
  partitions: [
    { name: 'esp', type: 'esp', size: 'auto', filesystem: { type: 'fat32', label: 'ESP', files: [{ source: './esp', target: '/' }] } },
    { name: 'data', type: 'linux-generic', size: 'auto', attributes: ['read-only'], contents: 'data.img' },
  ],
};

test('build({ spec, baseDir }) builds a spec written as an object, without a spec file', async (t) => {
  const dir = project(t);
  const output = path.join(dir, 'out', 'disk.img');
  fs.mkdirSync(path.dirname(output));
  const result = await build({ spec: OBJECT_SPEC, baseDir: dir, output });
  t.is(result.output, output);
  t.deepEqual(result.partitions[1].contents, { path: path.join(dir, 'data.img'), size: 70_000 });
  t.regex(sgdiskVerify(output), /No problems found/);
  // plan() and verify() take it the same way, and agree with the build.
  const layout = await plan({ spec: OBJECT_SPEC, baseDir: dir });
  t.deepEqual(layout.partitions, result.partitions);
  const report = await verify({ spec: OBJECT_SPEC, baseDir: dir, image: output });
  t.deepEqual(report.differences, []);
  t.is(report.bytesCompared, 70_000 + 'a boot loader'.length);
  t.deepEqual(fs.readdirSync(dir).sort(), ['data.img', 'esp', 'out'], 'no spec file was written');
});

test('an object spec without baseDir is relative to the current folder', async (t) => {
  const layout = await plan({ spec: { partitions: [{ name: 'a', type: 'esp', size: 'auto', contents: 'examples/appliance/rootfs.ext4' }] } });
  t.is(process.cwd(), ROOT);
  t.is(layout.partitions[0].contents?.path, path.join(ROOT, 'examples', 'appliance', 'rootfs.ext4'));
});

test('an invalid object spec is refused like a file, naming the fields', async (t) => {
  const broken = { partitions: [{ name: 'a', type: 'esp', size: '12 MB', colour: 'red' }] } as unknown as ImageSpec;
  const error = await t.throwsAsync(plan({ spec: broken }), { instanceOf: ImgforgeError });
  t.is(error?.code, 'SPEC_INVALID');
  t.deepEqual(error?.message.split('\n'), [
    'spec: invalid spec (2 problems):',
    '  partitions[0].size: expected a size like 512MiB, "auto" or "grow", got "12 MB"',
    '  partitions[0].colour: unknown key (allowed: name, type, size, guid, attributes, contents, filesystem, mbrType, bootable, primary, hybrid, verity, signature)',
  ]);
  // build refuses it before writing anything, and needs an output for a spec without a file.
  const dir = project(t);
  await t.throwsAsync(build({ spec: broken, output: path.join(dir, 'x.img') }), { instanceOf: ImgforgeError, message: /^spec: invalid spec/ });
  await t.throwsAsync(build({ spec: OBJECT_SPEC, baseDir: dir }), { instanceOf: ImgforgeError, message: /no output path/ });
  t.false(fs.existsSync(path.join(dir, 'x.img')));
  // A spec object that contains itself (a program's mistake) is refused, not followed forever.
  const loop: Record<string, unknown> = { partitions: [] };
  (loop.partitions as unknown[]).push(loop);
  await t.throwsAsync(plan({ spec: loop as unknown as ImageSpec }), { instanceOf: ImgforgeError, message: /contains it/ });
});

test('parseSpec takes an options object, with defaults for the source name and the folder', (t) => {
  const spec = parseSpec({ text: '{"partitions": [{"name": "a", "type": "esp", "size": 512, "contents": "a.img"}]}', format: 'json' });
  t.is(spec.baseDir, process.cwd());
  t.is(spec.partitions[0].contents, path.join(process.cwd(), 'a.img'));
  t.throws(() => parseSpec({ text: 'partitions: 1', format: 'yaml' }), { instanceOf: ImgforgeError, message: /^spec: invalid spec/ });
  t.throws(() => parseSpec({ text: 'x', format: 'toml' as 'yaml' }), { instanceOf: ImgforgeError, message: /format must be "yaml" or "json"/ });
  t.throws(() => (parseSpec as unknown as (...args: unknown[]) => unknown)('partitions: []', 'yaml', 's', '/'), { instanceOf: ImgforgeError, message: /options object/ });
});

test('inspect resolves the same report as inspectSync, and the event loop runs while it reads', async (t) => {
  const dir = project(t);
  const output = path.join(dir, 'disk.img');
  await build({ spec: OBJECT_SPEC, baseDir: dir, output });
  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const pending = inspect(output, { files: true });
  t.true(pending instanceof Promise);
  const report = await pending;
  counting = false;
  t.deepEqual(report, inspectSync(output, { files: true }));
  t.deepEqual(report.findings, []);
  t.true(report.partitions[0].files?.some((f) => f.path === '/EFI/BOOT/BOOTX64.EFI'));
  t.true(turns > 0, 'the event loop turned while the image was read');
  // Failures reject with the same errors.
  await t.throwsAsync(inspect(path.join(dir, 'missing.img')), { instanceOf: ImgforgeError, code: 'IMAGE' } as never);
  t.throws(() => inspectSync(path.join(dir, 'missing.img')), { instanceOf: ImgforgeError });
});
