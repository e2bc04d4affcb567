import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { blockDeviceInfo, type BlockDeviceInfo } from '../block-device';

/**
 * Where an image is written. A regular file is built in a temporary file beside the target and
 * renamed over it only on success, so a failed or interrupted build never leaves a partial image
 * nor clobbers the previous one. A block device is written in place.
 */
export interface OutputTarget {
  readonly kind: 'file' | 'device';
  /** The path the user asked for. */
  readonly path: string;
  /** The path being written now (the temporary file, or the device itself). */
  readonly writePath: string;
  /** Whether the region the build does not write already reads as zeros (a fresh sparse file). */
  readonly zeroed: boolean;
  /** Writes `data` at `offset` of the image. */
  write(offset: number, data: Uint8Array): void;
  /** Makes what was written so far durable (fsync). */
  flush(): void;
  /**
   * Ends the writing: flushes what was written (fsync) unless `durable` is false, and closes
   * the file. A file stays at its temporary path until commit.
   */
  finish(options: { durable: boolean }): void;
  /**
   * As finish with `durable`, the fsync run on a worker thread: the image can be read meanwhile
   * (the delivery hashes and converts it while its own data reaches the disk). Nothing to do
   * once finished.
   */
  finishInBackground(): Promise<void>;
  /** Makes the image final: finish (if not done yet) and, for a file, rename into place. */
  commit(): void;
  /** Removes everything this build created. Safe to call more than once and after commit. */
  discard(): void;
  /**
   * Removes the temporary file at once, while a copy may still be writing to it (the writes go
   * to an unlinked file): for a cancelled build, so that nothing is left behind even if the
   * process has to end before the copy returns. Nothing to do for a device.
   */
  abandon(): void;
}

function describeOpenError(error: NodeJS.ErrnoException, what: string): ImgforgeError {
  const problem = error.code === 'ENOENT' ? 'the folder does not exist' : describeFsError(error);
  return new ImgforgeError('OUTPUT', `${what}: ${problem}`);
}

/** What both outputs do with their open file descriptor: positioned writes and fsync. */
abstract class OpenOutput {
  protected fd: number | undefined;

  abstract readonly writePath: string;

  write(offset: number, data: Uint8Array): void {
    writeFully(this.fd!, data, offset, this.writePath);
  }

  flush(): void {
    flushFully(this.fd!, this.writePath);
  }
}

class FileOutput extends OpenOutput implements OutputTarget {
  readonly kind = 'file' as const;
  readonly zeroed = true;
  private committed = false;
  /** Whether finishInBackground's fsync is running on the descriptor. */
  private syncing = false;

  constructor(readonly path: string, readonly writePath: string, size: number) {
    super();
    try {
      this.fd = fs.openSync(writePath, 'wx', 0o644);
    } catch (error) {
      throw describeOpenError(error as NodeJS.ErrnoException, `cannot create ${writePath}`);
    }
    try {
      // Sizing the file up front makes every byte the build does not write a hole.
      fs.ftruncateSync(this.fd, size);
    } catch (error) {
      this.discard();
      throw new ImgforgeError('IO', `cannot size ${writePath} to ${size} bytes: ${(error as Error).message}`);
    }
  }

  finish({ durable }: { durable: boolean }): void {
    if (this.fd === undefined) return;
    try {
      if (durable) fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
    } catch (error) {
      this.discard();
      throw new ImgforgeError('IO', `cannot flush ${this.writePath}: ${(error as Error).message}`);
    }
  }

  async finishInBackground(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.syncing = true;
    let failure: unknown;
    try {
      await fsyncInBackground(fd);
    } catch (error) {
      failure = error;
    } finally {
      this.syncing = false;
    }
    if (this.fd !== fd) {
      // Discarded while the fsync ran (a failure or cancellation elsewhere): the file is gone,
      // and discard left the descriptor open for the fsync, to be closed here.
      fs.closeSync(fd);
      return;
    }
    if (failure !== undefined) {
      this.discard();
      throw new ImgforgeError('IO', `cannot flush ${this.writePath}: ${(failure as Error).message}`);
    }
    this.finish({ durable: false });
  }

  commit(): void {
    this.finish({ durable: true });
    try {
      fs.renameSync(this.writePath, this.path);
      this.committed = true;
      syncDirectory(path.dirname(this.path));
    } catch (error) {
      this.discard();
      throw new ImgforgeError('IO', `cannot move the finished image into place at ${this.path}: ${(error as Error).message}`);
    }
  }

  discard(): void {
    if (this.fd !== undefined) {
      // A background fsync still uses the descriptor: closing it now could let its number go to
      // another file before the fsync runs; finishInBackground closes it when that returns.
      if (!this.syncing) {
        try {
          fs.closeSync(this.fd);
        } catch {
          // Already closed or invalid: nothing more to release.
        }
      }
      this.fd = undefined;
    }
    this.abandon();
  }

  abandon(): void {
    if (!this.committed) {
      fs.rmSync(this.writePath, { force: true });
    }
  }
}

class DeviceOutput extends OpenOutput implements OutputTarget {
  readonly kind = 'device' as const;
  readonly zeroed = false;

  constructor(readonly path: string) {
    super();
    try {
      // O_EXCL on a block device fails with EBUSY while it is mounted or claimed, which keeps us
      // from overwriting a live filesystem.
      this.fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_EXCL);
    } catch (error) {
      throw describeOpenError(error as NodeJS.ErrnoException, `cannot open ${path}`);
    }
  }

  /** A device is written in place. */
  get writePath(): string {
    return this.path;
  }

  finish(): void {
    if (this.fd === undefined) return;
    try {
      fs.fsyncSync(this.fd);
    } catch (error) {
      throw new ImgforgeError('IO', `cannot flush ${this.path}: ${(error as Error).message}`);
    } finally {
      this.discard();
    }
  }

  async finishInBackground(): Promise<void> {
    this.finish();
  }

  commit(): void {
    this.finish();
  }

  discard(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  abandon(): void {}
}

function writeFully(fd: number, data: Uint8Array, offset: number, name: string): void {
  let done = 0;
  try {
    while (done < data.length) {
      done += fs.writeSync(fd, data, done, data.length - done, offset + done);
    }
  } catch (error) {
    throw new ImgforgeError('IO', `cannot write ${name} at offset ${offset + done}: ${(error as Error).message}`);
  }
}

const fsyncInBackground = promisify(fs.fsync);

function flushFully(fd: number, name: string): void {
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    throw new ImgforgeError('IO', `cannot flush ${name}: ${(error as Error).message}`);
  }
}

/** Makes a rename in `dir` durable (best effort: some filesystems refuse fsync on folders). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself already happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const TEMP_SUFFIX = '.imgforge-tmp';
/** NAME_MAX of Linux filesystems (bytes of one path component). */
const NAME_MAX = 255;

/** `name` cut to at most `bytes` bytes of UTF-8, never inside a character. */
export function truncateUtf8(name: string, bytes: number): string {
  if (Buffer.byteLength(name) <= bytes) return name;
  let out = '';
  let used = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/** Room for "<pid>-<12 hex digits>": pids have at most 10 digits. */
const UNIQUE_MAX = 10 + 1 + 12;

/** The part of a temporary name that says which output it belongs to. */
function temporaryPrefix(target: string): string {
  // "." + base + "." + unique + suffix must fit in one name: the base gives way.
  const base = truncateUtf8(path.basename(target), NAME_MAX - 2 - UNIQUE_MAX - TEMP_SUFFIX.length);
  return `.${base}.`;
}

/**
 * A unique, recognisable name beside the target: `.<name>.<pid>-<random>.imgforge-tmp`, with the
 * name shortened when it is long, so it fits wherever the target's own name fits. The pid lets a
 * later build tell a leftover of a killed build from the file of one still running.
 */
export function temporaryPathFor(target: string): string {
  const unique = `${process.pid}-${randomBytes(6).toString('hex')}`;
  return path.join(path.dirname(target), `${temporaryPrefix(target)}${unique}${TEMP_SUFFIX}`);
}

/** Whether process `pid` still runs (a temporary it named is still in use). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that builds of the same output left behind when they were killed
 * (SIGKILL, power loss): those whose process is gone. Best effort: a folder that cannot be
 * listed, or a file that cannot be removed, is left as it is.
 */
export function removeStaleTemporaries(target: string): string[] {
  const dir = path.dirname(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const match = /\.(\d+)-[0-9a-f]{12}\.imgforge-tmp$/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (name.slice(0, match.index + 1) !== temporaryPrefix(target)) continue;
    if (pid === process.pid || processIsAlive(pid)) continue;
    const stale = path.join(dir, name);
    try {
      if (fs.lstatSync(stale).isFile()) {
        fs.unlinkSync(stale);
        removed.push(stale);
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

export interface OpenOutputOptions {
  force: boolean;
}

/** What is at the output path, decided before planning so a device's size can shape the plan. */
export type OutputKind = { kind: 'file' } | { kind: 'device'; device: BlockDeviceInfo };

export function inspectOutput(target: string, options: OpenOutputOptions): OutputKind {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const dir = path.dirname(target);
      if (!fs.existsSync(dir)) throw new ImgforgeError('OUTPUT', `${target}: the folder ${dir} does not exist`);
      return { kind: 'file' };
    }
    throw describeOpenError(error as NodeJS.ErrnoException, `cannot use ${target}`);
  }
  if (stat.isFile()) return { kind: 'file' };
  if (stat.isBlockDevice()) {
    if (!options.force) {
      throw new ImgforgeError('OUTPUT', `${target} is a block device: writing it destroys what it holds; pass --force (force: true) to do so`);
    }
    return { kind: 'device', device: blockDeviceInfo(target, stat) };
  }
  if (stat.isDirectory()) throw new ImgforgeError('OUTPUT', `${target} is a directory: name the image file to write`);
  throw new ImgforgeError('OUTPUT', `${target} is neither a regular file nor a block device`);
}

export function openOutput(target: string, kind: OutputKind, size: number): OutputTarget {
  if (kind.kind === 'device') return new DeviceOutput(target);
  removeStaleTemporaries(target);
  return new FileOutput(target, temporaryPathFor(target), size);
}
