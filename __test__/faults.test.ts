/**
 * Faults during a build (issue 6), for raw contents and FAT32 filesystems alike:
 *
 * - the output's filesystem fills up (a size-limited tmpfs; a small XFS where copy_file_range
 *   itself runs out of space): exit 1, one `imgforge: <output>: no space left on device ...` line,
 *   the previous image byte-identical, no temporary file left;
 * - SIGINT/SIGTERM while a FAT32 filesystem's files are copied, and while copy_file_range copies raw
 *   contents (signals.test.ts covers a raw read/write copy): the temporary file is removed, exit
 *   130/143;
 * - sources that grow or shrink during the build, mid-copy (the library's onProgress fires while
 *   the copy engine works) or between planning and copying: SOURCE_CHANGED, exit 1, no output;
 * - unreadable sources (the CLI run as an unprivileged user, since root reads any file) and sources
 *   removed after planning: an error naming the file.
 *
 * The Rust tests (crates/fat32/tests/source_changed.rs) cover the FAT32 writer's own checks of files
 * that changed between planning and writing; these tests go through build() and the CLI.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError, type CopyMode } from '../ts/index';
import { imgforgeChild, type CliResult } from './helpers/cli';
import {
  fillUpTo,
  imgforgeAs,
  mountSmallXfs,
  mountTmpfs,
  mountUnavailableReason,
  sharedDir,
  unprivilegedRunner,
  type Mount,
} from './helpers/faults';
import { tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const TEMP_FILE = /\.imgforge-tmp$/;

type Kind = 'raw' | 'fat32';

/** A spec with one partition: raw `contents`, or a FAT32 filesystem of the folder `esp`. */
function specFor(kind: Kind, contents = 'source.img'): unknown {
  const partition =
    kind === 'raw'
      ? { name: 'raw', type: 'linux-generic', size: 'auto', contents }
      : { name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } };
  return { size: 'auto', seed: 'faults-test', partitions: [partition] };
}

function writeSpec(dir: string, spec: unknown): string {
  const file = path.join(dir, 'image.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** An existing image at `output`, to check that a failed build leaves it byte for byte. */
function previousImage(output: string): { check(t: ExecutionContext): void } {
  const bytes = randomBytes(3000);
  fs.writeFileSync(output, bytes);
  const { ino } = fs.statSync(output);
  return {
    check(t) {
      t.true(fs.readFileSync(output).equals(bytes), `${output} is byte-identical to the previous image`);
      t.is(fs.statSync(output).ino, ino, `${output} was not replaced`);
    },
  };
}

function noTemporaryFiles(t: ExecutionContext, dir: string): void {
  t.deepEqual(fs.readdirSync(dir).filter((f) => TEMP_FILE.test(f)), [], `no temporary file is left in ${dir}`);
}

/** The CLI's failure: the exit status, and exactly one `imgforge: ...` line with every needle, no stack trace. */
function oneLineError(t: ExecutionContext, result: CliResult, status: number, ...needles: Array<string | RegExp>): void {
  t.is(result.status, status, result.stderr);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  t.is(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  t.regex(lines[0] ?? '', /^imgforge: /);
  t.notRegex(result.stderr, /^\s+at |unexpected error/m, 'no stack trace, no "unexpected error"');
  for (const needle of needles) {
    if (typeof needle === 'string') t.true(lines[0]?.includes(needle), `the message names ${needle}:\n${lines[0]}`);
    else t.regex(lines[0] ?? '', needle);
  }
  t.is(result.stdout, '');
}

/** The last line of stderr (after progress lines) is the only error line, without a stack trace. */
function lastLineError(t: ExecutionContext, stderr: string): string {
  t.notRegex(stderr, /^\s+at |unexpected error/m, 'no stack trace, no "unexpected error"');
  const lines = stderr.split('\n').filter((line) => line !== '');
  const errors = lines.filter((line) => line.startsWith('imgforge: '));
  t.is(errors.length, 1, stderr);
  t.is(lines[lines.length - 1], errors[0], stderr);
  return errors[0] ?? '';
}

/**
 * Starts the CLI, calls `act` once when stderr matches `trigger` (a progress line), and waits for
 * it to exit (killed after two minutes, so a hang fails the test instead of stalling the suite).
 */
async function cliWhen(
  args: string[],
  trigger: RegExp,
  act: (child: ReturnType<typeof imgforgeChild>) => void,
): Promise<{ code: number | null; stderr: string; acted: boolean }> {
  const child = imgforgeChild(args);
  let stderr = '';
  let acted = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (!acted && trigger.test(stderr)) {
      acted = true;
      act(child);
    }
  });
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code] = (await exited) as [number | null];
    return { code, stderr, acted };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the CLI and calls `act` once the temporary image in `dir` holds at least `bytes` of data
 * (st_blocks), i.e. while the copy is under way; returns what it saw then and how the CLI exited.
 */
async function cliMidCopy(
  args: string[],
  dir: string,
  bytes: number,
  act: (child: ReturnType<typeof imgforgeChild>) => void,
): Promise<{ code: number | null; stderr: string; allocated: number | undefined }> {
  const child = imgforgeChild(args);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  let allocated: number | undefined;
  const poll = setInterval(() => {
    if (allocated !== undefined) return;
    for (const name of fs.readdirSync(dir).filter((f) => TEMP_FILE.test(f))) {
      let blocks = 0;
      try {
        blocks = fs.statSync(path.join(dir, name)).blocks;
      } catch {
        continue; // removed in between
      }
      if (blocks * 512 >= bytes) {
        allocated = blocks * 512;
        act(child);
      }
    }
  }, 2);
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code] = (await exited) as [number | null];
    return { code, stderr, allocated };
  } finally {
    clearInterval(poll);
    clearTimeout(timer);
  }
}

/** Runs `body` with a fresh mount, or logs why it cannot and passes; always unmounts. */
async function withMount(t: ExecutionContext, kind: 'tmpfs' | 'xfs', mount: () => Mount, body: (m: Mount) => Promise<void> | void) {
  const reason = mountUnavailableReason(kind);
  if (reason !== undefined) {
    t.log(`skipped: ${reason}`);
    t.pass();
    return;
  }
  const m = mount();
  try {
    await body(m);
  } finally {
    m.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// The output's filesystem fills up.

interface NoSpaceCase {
  title: string;
  kind: Kind;
  /** tmpfs size, in mount's syntax. */
  tmpfs: string;
  /** Files of the source (relative to the spec folder) and their sizes. */
  files: Record<string, number>;
  /** What the message says was being written. */
  writing: string;
}

const noSpaceCases: NoSpaceCase[] = [
  {
    title: 'raw contents (copy_file_range refuses tmpfs, the read/write fallback runs out)',
    kind: 'raw',
    tmpfs: '8m',
    files: { 'source.img': 24 * MiB },
    writing: 'partitions[0].contents',
  },
  {
    title: "a FAT32 file's data",
    kind: 'fat32',
    tmpfs: '8m',
    files: { 'esp/small.txt': 100, 'esp/EFI/big.bin': 24 * MiB },
    writing: 'partitions[0].filesystem (/EFI/big.bin)',
  },
  {
    // 256 KiB hold the partition tables but not two 256 KiB FATs.
    title: 'the FAT32 metadata (FATs and folders)',
    kind: 'fat32',
    tmpfs: '256k',
    files: { 'esp/a.txt': 10, 'esp/b.txt': 20 },
    writing: 'partitions[0].filesystem',
  },
  {
    // The previous image takes a page of the 16 KiB; the 17 KiB of primary GPT do not fit.
    title: 'the partition tables',
    kind: 'raw',
    tmpfs: '16k',
    files: { 'source.img': MiB },
    writing: 'the partition tables',
  },
];

for (const c of noSpaceCases) {
  test.serial(`no space left while writing ${c.title}: exit 1, one line, previous image intact, no temporary file`, async (t) => {
    await withMount(t, 'tmpfs', () => mountTmpfs(c.tmpfs), (mount) => {
      const dir = tempDir();
      for (const [file, size] of Object.entries(c.files)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writePatternFile(path.join(dir, file), size, size % 251);
      }
      const specPath = writeSpec(dir, specFor(c.kind));
      const output = path.join(mount.dir, 'disk.img');
      const previous = previousImage(output);

      const result = imgforgeAs((argv) => argv, ['build', specPath, '-o', output, '--quiet']);
      oneLineError(t, result, 1, `imgforge: ${output}: no space left on device while writing ${c.writing}; the output was left as it was`);
      previous.check(t);
      t.deepEqual(fs.readdirSync(mount.dir), ['disk.img'], 'nothing else is left on the full filesystem');
    });
  });
}

test.serial('no space left inside copy_file_range (XFS without reflink, source on the same filesystem): the same clean failure', async (t) => {
  await withMount(t, 'xfs', () => mountSmallXfs(320 * MiB), async (mount) => {
    const source = path.join(mount.dir, 'source.img');
    writePatternFile(source, 48 * MiB, 5);
    const specPath = writeSpec(mount.dir, specFor('raw'));
    const output = path.join(mount.dir, 'disk.img');
    const previous = previousImage(output);
    fillUpTo(mount.dir, 24 * MiB);

    for (const mode of ['auto', 'copy-file-range', 'read-write']) {
      const result = imgforgeAs((argv) => argv, ['build', specPath, '-o', output, '--quiet', '--copy', mode]);
      oneLineError(t, result, 1, `imgforge: ${output}: no space left on device while writing partitions[0].contents; the output was left as it was`);
      previous.check(t);
      t.deepEqual(fs.readdirSync(mount.dir).sort(), ['disk.img', 'filler', 'image.json', 'source.img']);
    }
    // The library error keeps the engine's own message: in auto mode, copy_file_range itself failed.
    const error = await t.throwsAsync(build(specPath, { output }), { instanceOf: ImgforgeError });
    t.is(error?.code, 'IO');
    t.regex(String((error?.cause as Error | undefined)?.message), /copy_file_range from .*source\.img.*No space left on device/);
    previous.check(t);
    noTemporaryFiles(t, mount.dir);
  });
});

// ---------------------------------------------------------------------------------------------
// SIGINT and SIGTERM mid-copy.

let bigSource: { dir: string; file: string } | undefined;

/** A 1 GiB source shared by the signal tests (read only): esp/big.bin, also raw contents. */
function sharedBigSource(): { dir: string; file: string } {
  if (bigSource === undefined) {
    const dir = tempDir();
    const file = path.join(dir, 'esp', 'big.bin');
    fs.mkdirSync(path.dirname(file));
    writePatternFile(file, 1024 * MiB, 11);
    fs.writeFileSync(path.join(dir, 'esp', 'small.txt'), 'small\n');
    bigSource = { dir, file };
  }
  return bigSource;
}

const signalCases: Array<{ kind: Kind; signal: 'SIGINT' | 'SIGTERM'; status: number; copy: CopyMode }> = [
  { kind: 'fat32', signal: 'SIGINT', status: 130, copy: 'auto' },
  { kind: 'fat32', signal: 'SIGTERM', status: 143, copy: 'read-write' },
  { kind: 'raw', signal: 'SIGINT', status: 130, copy: 'copy-file-range' },
  { kind: 'raw', signal: 'SIGTERM', status: 143, copy: 'auto' },
];

for (const { kind, signal, status, copy } of signalCases) {
  test.serial(`${signal} while ${kind === 'raw' ? 'raw contents' : "a FAT32 filesystem's files"} are copied (--copy ${copy}): temporary file removed, previous image kept, exit ${status}`, async (t) => {
    const source = sharedBigSource();
    const out = tempDir();
    const specPath = path.join(out, 'image.json');
    const spec = specFor(kind, source.file) as { partitions: Array<{ filesystem?: { files: Array<{ source: string }> } }> };
    spec.partitions[0].filesystem?.files.forEach((f) => (f.source = path.join(source.dir, 'esp')));
    fs.writeFileSync(specPath, JSON.stringify(spec));
    const output = path.join(out, 'disk.img');
    const previous = previousImage(output);

    // Signalled once 64 MiB of the 1 GiB source are in the temporary image: mid-copy.
    const run = await cliMidCopy(['build', specPath, '-o', output, '--copy', copy], out, 64 * MiB, (child) => child.kill(signal));
    t.true(run.allocated !== undefined && run.allocated < 1024 * MiB, `signalled with ${run.allocated} bytes in the temporary image`);
    t.log(`signalled with ${run.allocated} bytes in the temporary image`);
    t.is(run.code, status, run.stderr);
    t.regex(lastLineError(t, run.stderr), new RegExp(`^imgforge: build interrupted by ${signal}; no image was written$`));
    previous.check(t);
    t.deepEqual(fs.readdirSync(out).sort(), ['disk.img', 'image.json']);
  });
}

// ---------------------------------------------------------------------------------------------
// Sources that grow or shrink during the build.

interface ChangeFixture {
  dir: string;
  specPath: string;
  /** The file that changes: the raw contents, or a file of the FAT32 source folder. */
  source: string;
  output: string;
  previous: { check(t: ExecutionContext): void };
}

/** One partition of `kind` whose (only large) source file is `size` bytes. */
function changeFixture(kind: Kind, size: number): ChangeFixture {
  const dir = tempDir();
  let source = path.join(dir, 'source.img');
  if (kind === 'fat32') {
    fs.mkdirSync(path.join(dir, 'esp', 'EFI'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'esp', 'a.txt'), 'first\n');
    source = path.join(dir, 'esp', 'EFI', 'big.bin');
  }
  writePatternFile(source, size, 3);
  const specPath = writeSpec(dir, specFor(kind));
  const output = path.join(dir, 'disk.img');
  return { dir, specPath, source, output, previous: previousImage(output) };
}

const grow = (file: string) => fs.appendFileSync(file, Buffer.alloc(1000, 0xab));
const shrink = (file: string) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 3));
const changes = { grows: grow, shrinks: shrink };

/** The message names the field, the source (its path in the filesystem, for FAT32) and the change. */
function changedMessage(kind: Kind, f: ChangeFixture): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const where = kind === 'raw' ? `partitions\\[0\\]\\.contents: ${escape(f.source)}: ` : 'partitions\\[0\\]\\.filesystem: /EFI/big\\.bin: ';
  return new RegExp(`^${where}the source changed (size )?during the build: it was \\d+ bytes`);
}

for (const kind of ['raw', 'fat32'] as const) {
  for (const [change, apply] of Object.entries(changes)) {
    for (const copy of ['auto', 'read-write'] as const) {
      test.serial(`${kind}: a source that ${change} mid-copy (--copy ${copy}) fails the build with SOURCE_CHANGED and leaves no output`, async (t) => {
        const f = changeFixture(kind, 512 * MiB);
        let changedAt: number | undefined;
        let total = 0;
        const error = await t.throwsAsync(
          build(f.specPath, {
            output: f.output,
            copy,
            progressIntervalMs: 1,
            onProgress: (p) => {
              // The copy engine reports at least every 64 MiB: the first report past 0 is mid-copy.
              if (changedAt !== undefined || p.phase !== 'copy' || p.bytesDone === 0 || p.bytesDone >= p.bytesTotal) return;
              changedAt = p.bytesDone;
              total = p.bytesTotal;
              apply(f.source);
            },
          }),
          { instanceOf: ImgforgeError },
        );
        t.true(changedAt !== undefined && changedAt > 0 && changedAt < total, `changed at ${changedAt} of ${total} bytes`);
        t.is(error?.code, 'SOURCE_CHANGED', error?.message);
        t.regex(error?.message ?? '', changedMessage(kind, f));
        f.previous.check(t);
        noTemporaryFiles(t, f.dir);
      });
    }
  }
}

/** Changes between planning and the copy (at the `tables` progress report, before any copy starts). */
const beforeCopy: Array<{ kind: Kind; what: string; apply: (file: string) => void; message: RegExp }> = [
  { kind: 'raw', what: 'shrinks', apply: shrink, message: /when planned, then \d+ bytes$/ },
  // 3 MiB + 5 bytes of contents get a 4 MiB partition: growing by 1000 bytes still fits.
  { kind: 'raw', what: 'grows within its partition', apply: grow, message: /it was 3145733 bytes when planned, then 3146733 bytes$/ },
  { kind: 'raw', what: 'grows past its partition', apply: (file) => fs.truncateSync(file, 5 * MiB), message: /it was 3145733 bytes when planned, now larger than the partition/ },
  { kind: 'fat32', what: 'shrinks', apply: shrink, message: /it was 3145733 bytes, then 1048577 bytes/ },
  { kind: 'fat32', what: 'grows', apply: grow, message: /it was 3145733 bytes, then 3146733 bytes/ },
];

for (const c of beforeCopy) {
  test(`${c.kind}: a source that ${c.what} after planning, before its copy, fails with SOURCE_CHANGED`, async (t) => {
    const f = changeFixture(c.kind, 3 * MiB + 5);
    const error = await t.throwsAsync(
      build(f.specPath, {
        output: f.output,
        onProgress: (p) => {
          if (p.phase === 'tables') c.apply(f.source);
        },
      }),
      { instanceOf: ImgforgeError },
    );
    t.is(error?.code, 'SOURCE_CHANGED', error?.message);
    t.regex(error?.message ?? '', changedMessage(c.kind, f));
    t.regex(error?.message ?? '', c.message);
    f.previous.check(t);
    noTemporaryFiles(t, f.dir);
  });
}

test('raw: the source of a later partition changes while an earlier one is copied: SOURCE_CHANGED', async (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'first.img'), 256 * MiB, 1);
  writePatternFile(path.join(dir, 'second.img'), 2 * MiB, 2);
  const specPath = writeSpec(dir, {
    size: 'auto',
    partitions: [
      { name: 'first', type: 'linux-generic', size: 'auto', contents: 'first.img' },
      { name: 'second', type: 'linux-generic', size: 'auto', contents: 'second.img' },
    ],
  });
  const output = path.join(dir, 'disk.img');
  let changedDuring: string | undefined;
  const error = await t.throwsAsync(
    build(specPath, {
      output,
      progressIntervalMs: 1,
      onProgress: (p) => {
        if (changedDuring !== undefined || p.phase !== 'copy' || p.bytesDone === 0) return;
        changedDuring = p.partition;
        fs.truncateSync(path.join(dir, 'second.img'), MiB);
      },
    }),
    { instanceOf: ImgforgeError },
  );
  t.is(changedDuring, 'first');
  t.is(error?.code, 'SOURCE_CHANGED');
  t.regex(error?.message ?? '', /^partitions\[1\]\.contents: .*second\.img: the source changed during the build: it was 2097152 bytes when planned, then 1048576 bytes$/);
  t.deepEqual(fs.readdirSync(dir).sort(), ['first.img', 'image.json', 'second.img']);
});

for (const kind of ['raw', 'fat32'] as const) {
  test.serial(`CLI, ${kind}: a source that changes during the build exits 1 with one line naming it, and writes nothing`, async (t) => {
    const f = changeFixture(kind, 1024 * MiB);
    // Shrunk once 64 MiB of the 1 GiB source are in the temporary image: mid-copy.
    const run = await cliMidCopy(['build', f.specPath, '-o', f.output, '--copy', 'read-write'], f.dir, 64 * MiB, () => shrink(f.source));
    t.true(run.allocated !== undefined && run.allocated < 1024 * MiB, `changed with ${run.allocated} bytes in the temporary image`);
    t.log(`changed with ${run.allocated} bytes in the temporary image`);
    t.is(run.code, 1, run.stderr);
    t.regex(lastLineError(t, run.stderr).replace(/^imgforge: /, ''), changedMessage(kind, f));
    f.previous.check(t);
    noTemporaryFiles(t, f.dir);
  });
}

// ---------------------------------------------------------------------------------------------
// Unreadable sources: the CLI runs as an unprivileged user (root would read them anyway).

interface PermissionCase {
  title: string;
  kind: Kind;
  /** Made unreadable (mode 000), relative to the spec folder. */
  target: string;
  status: number;
  message: (dir: string) => string;
}

const permissionCases: PermissionCase[] = [
  {
    // Planning checks that raw contents are readable: an input error, before anything is written.
    title: 'raw contents',
    kind: 'raw',
    target: 'source.img',
    status: 2,
    message: (dir) => `imgforge: partitions[0].contents: ${dir}/source.img: permission denied`,
  },
  {
    // Scanning reads metadata only; the file fails when the writer opens it.
    title: 'a file of a FAT32 source folder',
    kind: 'fat32',
    target: 'esp/EFI/big.bin',
    status: 1,
    message: (dir) => `imgforge: partitions[0].filesystem: /EFI/big.bin: cannot open ${dir}/esp/EFI/big.bin: Permission denied`,
  },
  {
    title: 'a folder of a FAT32 source folder',
    kind: 'fat32',
    target: 'esp/EFI',
    status: 2,
    message: (dir) => `imgforge: partitions[0].filesystem.files: cannot read the directory ${dir}/esp/EFI (for /EFI): Permission denied`,
  },
];

for (const c of permissionCases) {
  test.serial(`an unreadable source (${c.title}) is an error naming it, exit ${c.status}, nothing written`, (t) => {
    const runner = unprivilegedRunner();
    if (runner.reason !== undefined) {
      t.log(`skipped: ${runner.reason}`);
      t.pass();
      return;
    }
    const dir = sharedDir();
    const out = sharedDir(true);
    if (c.kind === 'fat32') {
      fs.mkdirSync(path.join(dir, 'esp', 'EFI'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'esp', 'a.txt'), 'readable\n');
      writePatternFile(path.join(dir, 'esp', 'EFI', 'big.bin'), 2 * MiB, 4);
    } else {
      writePatternFile(path.join(dir, 'source.img'), 2 * MiB, 4);
    }
    const specPath = writeSpec(dir, specFor(c.kind));
    const output = path.join(out, 'disk.img');
    const previous = previousImage(output);
    fs.chmodSync(path.join(dir, c.target), 0o000);
    try {
      const result = imgforgeAs(runner.wrap, ['build', specPath, '-o', output, '--quiet']);
      oneLineError(t, result, c.status, c.message(dir));
      previous.check(t);
      t.deepEqual(fs.readdirSync(out), ['disk.img']);
    } finally {
      fs.chmodSync(path.join(dir, c.target), c.target.endsWith('EFI') ? 0o755 : 0o644);
    }
    // The same build with the source readable again succeeds: the failure was the mode's doing.
    const control = imgforgeAs(runner.wrap, ['build', specPath, '-o', output, '--quiet']);
    t.is(control.status, 0, `readable again, the build succeeds: ${control.stderr}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Sources removed after planning.

test('raw contents removed after planning: IO error naming the field and the file', async (t) => {
  const f = changeFixture('raw', 3 * MiB);
  const error = await t.throwsAsync(
    build(f.specPath, { output: f.output, onProgress: (p) => p.phase === 'tables' && fs.rmSync(f.source) }),
    { instanceOf: ImgforgeError },
  );
  t.is(error?.code, 'IO');
  t.is(error?.message, `partitions[0].contents: cannot open ${f.source}: No such file or directory (os error 2)`);
  f.previous.check(t);
  t.deepEqual(fs.readdirSync(f.dir).sort(), ['disk.img', 'image.json']);
});

for (const [what, remove] of [
  ['a file', (dir: string) => fs.rmSync(path.join(dir, 'esp', 'EFI', 'big.bin'))],
  ['its folder', (dir: string) => fs.rmSync(path.join(dir, 'esp', 'EFI'), { recursive: true })],
] as const) {
  test(`FAT32: ${what} removed after the scan: IO error naming the file in the filesystem and on disk`, async (t) => {
    const f = changeFixture('fat32', 3 * MiB);
    const error = await t.throwsAsync(
      build(f.specPath, { output: f.output, onProgress: (p) => p.phase === 'tables' && remove(f.dir) }),
      { instanceOf: ImgforgeError },
    );
    t.is(error?.code, 'IO');
    t.is(error?.message, `partitions[0].filesystem: /EFI/big.bin: cannot open ${f.source}: No such file or directory (os error 2)`);
    f.previous.check(t);
    noTemporaryFiles(t, f.dir);
  });
}

test.serial('CLI: the source of a later partition removed while an earlier one is copied: exit 1, one line naming it', async (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'first.img'), 1024 * MiB, 1);
  writePatternFile(path.join(dir, 'second.img'), 2 * MiB, 2);
  const specPath = writeSpec(dir, {
    size: 'auto',
    partitions: [
      { name: 'first', type: 'linux-generic', size: 'auto', contents: 'first.img' },
      { name: 'second', type: 'linux-generic', size: 'auto', contents: 'second.img' },
    ],
  });
  const output = path.join(dir, 'disk.img');
  const previous = previousImage(output);
  const run = await cliWhen(['build', specPath, '-o', output, '--copy', 'read-write'], /copying first\n/, () => fs.rmSync(path.join(dir, 'second.img')));
  t.true(run.acted);
  t.is(run.code, 1, run.stderr);
  t.is(lastLineError(t, run.stderr), `imgforge: partitions[1].contents: cannot open ${path.join(dir, 'second.img')}: No such file or directory (os error 2)`);
  previous.check(t);
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'first.img', 'image.json']);
});
