/**
 * The package's types as a consumer's compiler sees them: a small program using every entry point
 * compiles with TypeScript's default checks (no esModuleInterop, no skipLibCheck), as CommonJS and
 * as an ES module. Needs the built package (dist/), which `npm test` builds first.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const PROGRAM = `
import { build, COPY_MODES, ImgforgeError, inspect, inspectSync, loadSpec, parseSpec, plan, verify } from 'imgforge';
import type { BuildOptions, BuildResult, ErrorCode, ImageSpec, ImageSpecPartition, InspectReport, LoadedSpec, Plan, PlannedPartition, VerifyReport } from 'imgforge';

// A spec written as an object: every kind of field, typed.
const esp: ImageSpecPartition = {
  name: 'esp',
  type: 'esp',
  size: '64MiB',
  attributes: ['required-partition', 48],
  filesystem: { type: 'fat32', label: 'ESP', volumeId: '1234-ABCD', clusterSize: 4096, minFree: '1MiB', files: [{ source: './esp', target: '/' }] },
};
const image: ImageSpec = {
  $schema: './node_modules/imgforge/schema.json',
  size: 'auto',
  sectorSize: 512,
  alignment: '1MiB',
  seed: 'consumer',
  partitions: [
    esp,
    { name: 'root', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB', ownership: 'root', files: [{ source: './rootfs', target: '/' }] } },
    { name: 'data', type: 'linux-generic', size: 'grow', contents: './data.img' },
  ],
};

// The types refuse what the validator refuses: a FAT32 has no uuid, an EROFS no clusterSize.
// @ts-expect-error uuid is an EROFS key
const wrongFat: ImageSpecPartition = { name: 'x', type: 'esp', size: 1, filesystem: { type: 'fat32', uuid: 'x' } };
// @ts-expect-error clusterSize is a FAT32 key
const wrongErofs: ImageSpecPartition = { name: 'x', type: 'esp', size: 1, filesystem: { type: 'erofs', clusterSize: 4096 } };
// @ts-expect-error partitions are required
const noPartitions: ImageSpec = { size: '1GiB' };

export async function main(): Promise<string> {
  const spec: LoadedSpec = parseSpec({ text: 'partitions: [{ name: a, type: linux-generic, size: 1MiB }]', format: 'yaml', sourceName: 'inline', baseDir: '/tmp' });
  const fromFile: LoadedSpec = await loadSpec('image.yaml');
  const layout: Plan = await plan(spec, { diskSize: 8 << 20 });
  const fromObject: Plan = await plan({ spec: image, baseDir: '/srv/image' });
  const first: PlannedPartition = fromObject.partitions[0];
  const options: BuildOptions = { output: 'disk.img', copy: COPY_MODES[0], onProgress: (p) => void p.bytesDone };
  const result: BuildResult = await build(fromFile, options);
  const built: BuildResult = await build({ spec: image, baseDir: '/srv/image', output: 'object.img' });
  const report: InspectReport = await inspect(result.output, { files: true });
  const again: InspectReport = inspectSync(built.output);
  const check: VerifyReport = await verify(spec, result.output);
  const checkObject: VerifyReport = await verify({ spec: image, baseDir: '/srv/image', image: built.output });
  const filesystem = layout.partitions[0].filesystem;
  const volume = filesystem?.type === 'fat32' ? filesystem.volumeId : filesystem?.type === 'squashfs' ? filesystem.compression : filesystem?.uuid;
  try {
    return [layout.diskGuid, report.table, again.table, check.differences.length, checkObject.differences.length, volume, result.timings.copy, first.type, first.attributes.join(','), built.diskSize, [wrongFat, wrongErofs, noPartitions].length].join(' ');
  } catch (error) {
    const code: ErrorCode | undefined = error instanceof ImgforgeError ? error.code : undefined;
    return String(code);
  }
}
`;

function consumer(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-consumer-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'imgforge'));
  fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'));
  return dir;
}

function compile(dir: string, file: string, args: string[]): string {
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', ...args, file], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    return `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim();
  }
}

test('a CommonJS consumer compiles against the package types with default checks', (t) => {
  t.true(fs.existsSync(path.join(root, 'dist', 'index.d.ts')), 'dist/ is missing: run npm run build');
  const dir = consumer(t);
  fs.writeFileSync(path.join(dir, 'main.ts'), PROGRAM);
  t.is(compile(dir, 'main.ts', ['--module', 'commonjs']), '');
});

test('an ES module consumer compiles against the package types with default checks', (t) => {
  const dir = consumer(t);
  fs.writeFileSync(path.join(dir, 'main.mts'), PROGRAM);
  t.is(compile(dir, 'main.mts', ['--module', 'nodenext']), '');
});

test('the package types reach neither the binding nor zod', (t) => {
  const dir = consumer(t);
  fs.writeFileSync(path.join(dir, 'main.ts'), PROGRAM);
  const files = execFileSync(process.execPath, [tsc, '--noEmit', '--listFilesOnly', '--target', 'es2022', '--module', 'commonjs', 'main.ts'], { cwd: dir, encoding: 'utf8' });
  const reached = files
    .split('\n')
    .map((file) => path.relative(root, path.resolve(dir, file.trim())))
    .filter((file) => /^(dist|native)[/\\]|zod/.test(file));
  t.deepEqual(reached.sort(), ['dist/errors.d.ts', 'dist/index.d.ts', 'dist/types.d.ts']);
});
