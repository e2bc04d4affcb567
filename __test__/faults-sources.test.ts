/**
 * Faults of the sources during a build, for raw contents and FAT32 filesystems alike:
 *
 * - sources that grow or shrink during the build, mid-copy (the library's onProgress fires while
 *   the copy engine works) or between planning and copying: SOURCE_CHANGED, exit 1, no output;
 * - unreadable sources (the CLI run as an unprivileged user, since root reads any file) and sources
 *   removed after planning: an error naming the file.
 *
 * The Rust tests (crates/fat32/tests/source_changed.rs) cover the FAT32 writer's own checks of files
 * that changed between planning and writing; these tests go through build() and the CLI.
 */
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError } from '../ts/index';
import { beforeCopy, MiB, twoRawPartitions, specFor, writeSpec, previousImage, noTemporaryFiles, oneLineError, lastLineError, cliWhen, cliMidCopy, type Kind } from './helpers/fault-checks';
import { imgforgeAs, sharedDir, unprivilegedRunner } from './helpers/faults';
import { tempDir, writePatternFile } from './helpers/tools';

// ---------------------------------------------------------------------------------------------
// Sources that grow or shrink during the build.

interface ChangeFixture {
  dir: string;
  specPath: string;
  /** The file that changes: the raw contents, or a file of the FAT32 or EROFS source folder. */
  source: string;
  output: string;
  previous: { check(t: ExecutionContext): void };
}

/** One partition of `kind` whose (only large) source file is `size` bytes. */
function changeFixture(kind: Kind, size: number): ChangeFixture {
  const dir = tempDir();
  let source = path.join(dir, 'source.img');
  if (kind !== 'raw') {
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

/** The message names the field, the source (its path in the filesystem, for FAT32 and EROFS) and the change. */
function changedMessage(kind: Kind, f: ChangeFixture): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const where = kind === 'raw' ? `partitions\\[0\\]\\.contents: ${escape(f.source)}: ` : `partitions\\[0\\]\\.filesystem: /EFI/big\\.bin: ${escape(f.source)}: `;
  return new RegExp(`^${where}the source changed (size )?during the build: it was \\d+ bytes`);
}

for (const kind of ['raw', 'fat32', 'erofs'] as const) {
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

/** Changes between planning and the copy (at the first progress report, before any copy starts). */
const changesBeforeCopy: Array<{ kind: Kind; what: string; apply: (file: string) => void; message: RegExp }> = [
  { kind: 'raw', what: 'shrinks', apply: shrink, message: /it was 3145733 bytes, then \d+ bytes$/ },
  // 3 MiB + 5 bytes of contents get a 4 MiB partition: growing by 1000 bytes still fits.
  { kind: 'raw', what: 'grows within its partition', apply: grow, message: /it was 3145733 bytes, then 3146733 bytes$/ },
  { kind: 'raw', what: 'grows past its partition', apply: (file) => fs.truncateSync(file, 5 * MiB), message: /it was 3145733 bytes, then 5242880 bytes$/ },
  { kind: 'fat32', what: 'shrinks', apply: shrink, message: /it was 3145733 bytes, then 1048577 bytes/ },
  { kind: 'fat32', what: 'grows', apply: grow, message: /it was 3145733 bytes, then 3146733 bytes/ },
  { kind: 'erofs', what: 'shrinks', apply: shrink, message: /it was 3145733 bytes, then 1048577 bytes/ },
  { kind: 'erofs', what: 'grows', apply: grow, message: /it was 3145733 bytes, then 3146733 bytes/ },
];

for (const c of changesBeforeCopy) {
  test(`${c.kind}: a source that ${c.what} after planning, before its copy, fails with SOURCE_CHANGED`, async (t) => {
    const f = changeFixture(c.kind, 3 * MiB + 5);
    const error = await t.throwsAsync(
      build(f.specPath, {
        output: f.output,
        onProgress: beforeCopy(() => c.apply(f.source)),
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
  const { dir, specPath, output } = twoRawPartitions(256 * MiB, 2 * MiB);
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
  t.regex(error?.message ?? '', /^partitions\[1\]\.contents: .*second\.img: the source changed during the build: it was 2097152 bytes, then 1048576 bytes$/);
  t.deepEqual(fs.readdirSync(dir).sort(), ['first.img', 'image.json', 'second.img']);
});

for (const kind of ['raw', 'fat32', 'erofs'] as const) {
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
  {
    title: 'a file of an EROFS source folder',
    kind: 'erofs',
    target: 'esp/EFI/big.bin',
    status: 1,
    message: (dir) => `imgforge: partitions[0].filesystem: /EFI/big.bin: cannot open ${dir}/esp/EFI/big.bin: Permission denied`,
  },
  {
    title: 'a folder of an EROFS source folder',
    kind: 'erofs',
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
    if (c.kind !== 'raw') {
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
    build(f.specPath, { output: f.output, onProgress: beforeCopy(() => fs.rmSync(f.source)) }),
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
  for (const kind of ['fat32', 'erofs'] as const) {
    test(`${kind}: ${what} removed after the scan: IO error naming the file in the filesystem and on disk`, async (t) => {
      const f = changeFixture(kind, 3 * MiB);
      const error = await t.throwsAsync(
        build(f.specPath, { output: f.output, onProgress: beforeCopy(() => remove(f.dir)) }),
        { instanceOf: ImgforgeError },
      );
      t.is(error?.code, 'IO');
      t.is(error?.message, `partitions[0].filesystem: /EFI/big.bin: cannot open ${f.source}: No such file or directory (os error 2)`);
      f.previous.check(t);
      noTemporaryFiles(t, f.dir);
    });
  }
}

test.serial('CLI: the source of a later partition removed while an earlier one is copied: exit 1, one line naming it', async (t) => {
  const { dir, specPath, output } = twoRawPartitions(1024 * MiB, 2 * MiB);
  const previous = previousImage(output);
  const run = await cliWhen(['build', specPath, '-o', output, '--copy', 'read-write'], /copying first\n/, () => fs.rmSync(path.join(dir, 'second.img')));
  t.true(run.acted);
  t.is(run.code, 1, run.stderr);
  t.is(lastLineError(t, run.stderr), `imgforge: partitions[1].contents: cannot open ${path.join(dir, 'second.img')}: No such file or directory (os error 2)`);
  previous.check(t);
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'first.img', 'image.json']);
});
