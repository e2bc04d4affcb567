/**
 * Faults of the output during a build, for raw contents and FAT32 filesystems alike:
 *
 * - the output's filesystem fills up (a size-limited tmpfs; a small XFS where copy_file_range
 *   itself runs out of space): exit 1, one `imgforge: <output>: no space left on device ...` line,
 *   the previous image byte-identical, no temporary file left;
 * - SIGINT/SIGTERM while a FAT32 filesystem's files are copied, and while copy_file_range copies raw
 *   contents (signals.test.ts covers a raw read/write copy): the temporary file is removed, exit
 *   130/143.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, ImgforgeError } from '../ts/index';
import { MiB, specFor, writeSpec, previousImage, noTemporaryFiles, oneLineError, lastLineError, cliMidCopy, withMount, type Kind } from './helpers/fault-checks';
import { fillUpTo, imgforgeAs, mountSmallXfs, mountTmpfs } from './helpers/faults';
import { tempDir, writePatternFile } from './helpers/tools';
import type { CopyMode } from '../ts/types';

// ---------------------------------------------------------------------------------------------
// The output's filesystem fills up.

interface NoSpaceCase {
  title: string;
  kind: Kind | 'empty';
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
    // The previous image takes a page of the 16 KiB; the 17 KiB of primary GPT do not fit. The
    // tables are written last, after the contents: an empty partition has none.
    title: 'the partition tables',
    kind: 'empty',
    tmpfs: '16k',
    files: {},
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

const signalCases: Array<{ kind: Kind; signal: NodeJS.Signals; status: number; copy: CopyMode }> = [
  { kind: 'fat32', signal: 'SIGINT', status: 130, copy: 'auto' },
  { kind: 'fat32', signal: 'SIGTERM', status: 143, copy: 'read-write' },
  { kind: 'raw', signal: 'SIGINT', status: 130, copy: 'copy-file-range' },
  { kind: 'raw', signal: 'SIGTERM', status: 143, copy: 'auto' },
  // A closed terminal (SIGHUP) and Ctrl-\ (SIGQUIT) clean up as well.
  { kind: 'raw', signal: 'SIGHUP', status: 129, copy: 'read-write' },
  { kind: 'fat32', signal: 'SIGQUIT', status: 131, copy: 'read-write' },
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
    // Death by the signal itself (what a shell loop needs to stop), except SIGQUIT (no core dump).
    t.is(run.signal, signal === 'SIGQUIT' ? null : signal);
    t.regex(lastLineError(t, run.stderr), new RegExp(`^imgforge: build interrupted by ${signal}; no image was written$`));
    previous.check(t);
    t.deepEqual(fs.readdirSync(out).sort(), ['disk.img', 'image.json']);
  });
}
