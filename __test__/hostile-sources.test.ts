/**
 * Sources a hostile (or unlucky) user hands the build: a file swapped for a FIFO while the build
 * runs, and procfs files whose size the kernel reports as 0. The build must end on its own within
 * seconds, obey signals at any moment, name the file, and leave nothing behind.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError } from '../ts/index';
import { beforeCopy, cliMidCopy, lastLineError, MiB, noTemporaryFiles, previousImage, twoRawPartitions, writeSpec } from './helpers/fault-checks';
import { tempDir, writePatternFile } from './helpers/tools';

/** Replaces `file` with a FIFO that nobody ever writes to: opening it for reading blocks. */
function swapForFifo(file: string): void {
  fs.rmSync(file);
  execFileSync('mkfifo', [file]);
}

/** Resolves with the promise's outcome, or rejects when it takes longer than `ms` (a hang). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms: the build hangs`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function fat32Fixture(): { dir: string; specPath: string; file: string; output: string } {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'esp', 'EFI'), { recursive: true });
  const file = path.join(dir, 'esp', 'EFI', 'kernel.efi');
  writePatternFile(file, 2 * MiB, 3);
  fs.writeFileSync(path.join(dir, 'esp', 'a.txt'), 'first\n');
  const specPath = writeSpec(dir, {
    seed: 'fifo',
    partitions: [{ name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } }],
  });
  return { dir, specPath, file, output: path.join(dir, 'disk.img') };
}

test('FAT32: a file swapped for a FIFO after planning fails at once with SOURCE_CHANGED naming it', async (t) => {
  const f = fat32Fixture();
  const previous = previousImage(f.output);
  const error = await t.throwsAsync(
    within(10_000, build(f.specPath, { output: f.output, onProgress: beforeCopy(() => swapForFifo(f.file)) })),
    { instanceOf: ImgforgeError },
  );
  t.is(error?.code, 'SOURCE_CHANGED', error?.message);
  t.is(error?.message, `partitions[0].filesystem: /EFI/kernel.efi: ${f.file}: the source changed during the build: it was a regular file when planned, now it is a FIFO or socket`);
  previous.check(t);
  noTemporaryFiles(t, f.dir);
});

test('raw contents swapped for a FIFO after planning fail at once with SOURCE_CHANGED naming the field', async (t) => {
  const dir = tempDir();
  const source = path.join(dir, 'root.img');
  writePatternFile(source, 3 * MiB, 4);
  const specPath = writeSpec(dir, { seed: 'fifo', partitions: [{ name: 'root', type: 'linux-generic', size: 'auto', contents: 'root.img' }] });
  const output = path.join(dir, 'disk.img');
  const error = await t.throwsAsync(within(10_000, build(specPath, { output, onProgress: beforeCopy(() => swapForFifo(source)) })), {
    instanceOf: ImgforgeError,
  });
  t.is(error?.code, 'SOURCE_CHANGED', error?.message);
  t.is(error?.message, `partitions[0].contents: ${source}: the source changed during the build: it was a regular file when planned, now it is a FIFO or socket`);
  t.deepEqual(fs.readdirSync(dir).sort(), ['image.json', 'root.img']);
});

test('CLI: a later partition swapped for a FIFO mid-build ends within seconds, exit 1, one line naming it', async (t) => {
  const { dir, specPath, second, output } = twoRawPartitions(256 * MiB, MiB);
  const started = Date.now();
  let swappedAt = 0;
  // read-write copies the first partition in 4 MiB steps: there is time to swap the second.
  const run = await cliMidCopy(['build', specPath, '-o', output, '--copy', 'read-write'], dir, 16 * MiB, () => {
    swapForFifo(second);
    swappedAt = Date.now();
  });
  t.true(swappedAt > 0, 'the FIFO was swapped in while the first partition was copied');
  t.is(run.code, 1, run.stderr);
  t.is(lastLineError(t, run.stderr), `imgforge: partitions[1].contents: ${second}: the source changed during the build: it was a regular file when planned, now it is a FIFO or socket`);
  t.true(Date.now() - started < 60_000);
  t.deepEqual(fs.readdirSync(dir).sort(), ['first.img', 'image.json', 'second.img']);
});

test('CLI: SIGTERM while the build waits is obeyed even when a source is a FIFO with no writer', async (t) => {
  // The spec itself is the FIFO here: reading it blocks in a worker thread, where no cancellation
  // reaches, so the CLI must end the process the hard way once the grace period is over.
  const dir = tempDir();
  const specPath = path.join(dir, 'image.yaml');
  execFileSync('mkfifo', [specPath]);
  const { imgforgeChild } = await import('./helpers/cli');
  const child = imgforgeChild(['build', specPath, '-o', path.join(dir, 'disk.img')]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const sentAt = Date.now();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const { code, signal } = await exited;
  clearTimeout(killer);
  t.true(Date.now() - sentAt < 10_000, `ended ${Date.now() - sentAt} ms after SIGTERM`);
  t.true(code === 143 || signal === 'SIGTERM', `exit ${code}, signal ${signal}`);
  t.regex(stderr, /imgforge: build interrupted by SIGTERM; it did not stop within 3 s/);
  t.deepEqual(fs.readdirSync(dir), ['image.yaml']);
});

test('a procfs file (size 0, yet with data) is refused as raw contents and as a FAT32 file, naming it', async (t) => {
  const dir = tempDir();
  const raw = writeSpec(dir, { partitions: [{ name: 'p', type: 'linux-generic', size: '1MiB', contents: '/proc/version' }] });
  const rawError = await t.throwsAsync(build(raw, { output: path.join(dir, 'raw.img') }), { instanceOf: ImgforgeError });
  t.is(rawError?.code, 'CONTENTS', rawError?.message);
  t.regex(rawError?.message ?? '', /^partitions\[0\]\.contents: \/proc\/version: the file reports a size of 0 bytes but has data \(a procfs or sysfs file\?\)/);
  t.true(rawError?.isInputError);

  const fat = writeSpec(dir, {
    partitions: [{ name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: '/proc/version', target: '/version.txt' }] } }],
  });
  const fatError = await t.throwsAsync(build(fat, { output: path.join(dir, 'fat.img') }), { instanceOf: ImgforgeError });
  t.is(fatError?.code, 'CONTENTS', fatError?.message);
  t.regex(fatError?.message ?? '', /^partitions\[0\]\.filesystem: \/version\.txt: \/proc\/version: the file reports a size of 0 bytes but has data/);
  t.deepEqual(fs.readdirSync(dir), ['image.json']);
});
