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
import { build, COPY_MODES, ImgforgeError, inspect, loadSpec, parseSpec, plan, verify } from 'imgforge';
import type { BuildOptions, BuildResult, ErrorCode, InspectReport, LoadedSpec, Plan, VerifyReport } from 'imgforge';

export async function main(): Promise<string> {
  const spec: LoadedSpec = parseSpec('partitions: [{ name: a, type: linux-generic, size: 1MiB }]', 'yaml', 'inline', '/tmp');
  const fromFile: LoadedSpec = await loadSpec('image.yaml');
  const layout: Plan = await plan(spec, { diskSize: 8 << 20 });
  const options: BuildOptions = { output: 'disk.img', copy: COPY_MODES[0], onProgress: (p) => void p.bytesDone };
  const result: BuildResult = await build(fromFile, options);
  const report: InspectReport = inspect(result.output, { files: true });
  const check: VerifyReport = await verify(spec, result.output);
  const filesystem = layout.partitions[0].filesystem;
  const volume = filesystem?.type === 'fat32' ? filesystem.volumeId : filesystem?.uuid;
  try {
    return [layout.diskGuid, report.table, check.differences.length, volume, result.timings.copy].join(' ');
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
