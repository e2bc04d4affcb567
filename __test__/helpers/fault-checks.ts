/**
 * What the fault tests (faults-output.test.ts, faults-sources.test.ts) check after a failed build,
 * and how they start and interrupt the CLI at a precise moment.
 */
import type { ExecutionContext } from 'ava';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { imgforgeChild, type CliResult } from './cli';
import { mountUnavailableReason, type Mount } from './faults';
import { tempDir, writePatternFile } from './tools';
import type { BuildProgress } from '../../ts/types';

export const MiB = 1 << 20;
export const TEMP_FILE = /\.imgforge-tmp$/;

export type Kind = 'raw' | 'fat32' | 'erofs';

/** A spec with one partition: raw `contents`, or a FAT32 or EROFS filesystem of the folder `esp`. */
export function specFor(kind: Kind | 'empty', contents = 'source.img'): unknown {
  const partitions = {
    raw: { name: 'raw', type: 'linux-generic', size: 'auto', contents },
    fat32: { name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } },
    erofs: { name: 'root', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: './esp', target: '/' }] } },
    empty: { name: 'empty', type: 'linux-generic', size: '1MiB' },
  };
  const partition = partitions[kind];
  return { size: 'auto', seed: 'faults-test', partitions: [partition] };
}

/** An onProgress that runs `change` once, at the report that comes before any copying. */
export function beforeCopy(change: () => void): (progress: BuildProgress) => void {
  let done = false;
  return (progress) => {
    if (done || progress.phase !== 'copy') return;
    done = true;
    change();
  };
}

/**
 * Two partitions of raw contents, first.img and second.img of the given sizes, in a fresh folder:
 * copying the first takes a while, so the second can change meanwhile. `size` is each partition's.
 */
export function twoRawPartitions(firstBytes: number, secondBytes: number, size = 'auto'): { dir: string; specPath: string; first: string; second: string; output: string } {
  const dir = tempDir();
  const first = path.join(dir, 'first.img');
  const second = path.join(dir, 'second.img');
  writePatternFile(first, firstBytes, 1);
  writePatternFile(second, secondBytes, 2);
  const specPath = writeSpec(dir, {
    seed: 'two-raw',
    partitions: [
      { name: 'first', type: 'linux-generic', size, contents: 'first.img' },
      { name: 'second', type: 'linux-generic', size, contents: 'second.img' },
    ],
  });
  return { dir, specPath, first, second, output: path.join(dir, 'disk.img') };
}

export function writeSpec(dir: string, spec: unknown): string {
  const file = path.join(dir, 'image.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** An existing image at `output`, to check that a failed build leaves it byte for byte. */
export function previousImage(output: string): { check(t: ExecutionContext): void } {
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

export function noTemporaryFiles(t: ExecutionContext, dir: string): void {
  t.deepEqual(fs.readdirSync(dir).filter((f) => TEMP_FILE.test(f)), [], `no temporary file is left in ${dir}`);
}

/** The CLI's failure: the exit status, and exactly one `imgforge: ...` line with every needle, no stack trace. */
export function oneLineError(t: ExecutionContext, result: CliResult, status: number, ...needles: Array<string | RegExp>): void {
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
export function lastLineError(t: ExecutionContext, stderr: string): string {
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
export async function cliWhen(
  args: string[],
  trigger: RegExp,
  act: (child: ReturnType<typeof imgforgeChild>) => void,
): Promise<ChildEnd & { stderr: string; acted: boolean }> {
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
  const end = await exitCode(child, once(child, 'exit'));
  return { ...end, stderr, acted };
}

/** How a child ended: its exit status as a shell shows it (128 + the number when a signal killed it), and that signal. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How the child `exited`; it is killed after two minutes, so a hang fails the test. */
async function exitCode(child: ReturnType<typeof imgforgeChild>, exited: Promise<unknown[]>): Promise<ChildEnd> {
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    return { code: signal !== null ? 128 + os.constants.signals[signal] : code, signal };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the CLI and calls `act` once the temporary image in `dir` holds at least `bytes` of data
 * (st_blocks), i.e. while the copy is under way; returns what it saw then and how the CLI exited.
 */
export async function cliMidCopy(
  args: string[],
  dir: string,
  bytes: number,
  act: (child: ReturnType<typeof imgforgeChild>) => void,
): Promise<ChildEnd & { stderr: string; allocated: number | undefined }> {
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
  try {
    return { ...(await exitCode(child, exited)), stderr, allocated };
  } finally {
    clearInterval(poll);
  }
}

/** Runs `body` with a fresh mount, or logs why it cannot and passes; always unmounts. */
export async function withMount(t: ExecutionContext, kind: 'tmpfs' | 'xfs', mount: () => Mount, body: (m: Mount) => Promise<void> | void) {
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
