/**
 * The private temporaries of ext4 and squashfs builds, beside the output: staging folders (mode
 * 0700, holding the tree as links: crates/stage) and squashfs files made before the disk is laid
 * out. All are removed when the build ends, however it ends (the CLI turns signals into an abort,
 * which ends the build through the same path).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { processIsAlive, temporaryPathFor, truncateUtf8 } from './output';

const STAGE_SUFFIX = '.imgforge-stage';
/** Room for "." + "." + "<pid>-<12 hex digits>" + the suffix in a 255-byte name. */
const BASE_MAX = 255 - 2 - (10 + 1 + 12) - STAGE_SUFFIX.length;

/** `.<output name>.`, shortened to fit: what staging folder names of this output start with. */
function stagePrefix(output: string): string {
  return `.${truncateUtf8(path.basename(output), BASE_MAX)}.`;
}

/**
 * Removes staging folders that builds of the same output left when they were killed (SIGKILL,
 * power loss): those whose process is gone. Best effort, as removeStaleTemporaries for files.
 */
export function removeStaleStagingFolders(output: string): string[] {
  const dir = path.dirname(output);
  const prefix = stagePrefix(output);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = /\.(\d+)-[0-9a-f]{12}\.imgforge-stage$/.exec(name);
    if (match === null || name.slice(0, match.index + 1) !== prefix) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processIsAlive(pid)) continue;
    removeTree(path.join(dir, name));
    removed.push(path.join(dir, name));
  }
  return removed;
}

export class Temporaries {
  private readonly paths: string[] = [];

  constructor(private readonly output: string) {}

  private swept = false;

  /**
   * A new private folder beside the output: `.<name>.<pid>-<random>.imgforge-stage`, mode 0700
   * (the first one also sweeps away those of killed builds of this output).
   */
  folder(): string {
    if (!this.swept) {
      this.swept = true;
      removeStaleStagingFolders(this.output);
    }
    const folder = path.join(path.dirname(this.output), `${stagePrefix(this.output)}${process.pid}-${randomBytes(6).toString('hex')}${STAGE_SUFFIX}`);
    try {
      fs.mkdirSync(folder, { mode: 0o700 });
    } catch (error) {
      throw new ImgforgeError('OUTPUT', `${folder}: cannot create a staging folder beside the output: ${(error as Error).message}`);
    }
    this.paths.push(folder);
    return folder;
  }

  /** A new temporary file name beside the output (created by the caller). */
  file(): string {
    const file = temporaryPathFor(this.output);
    this.paths.push(file);
    return file;
  }

  /** Removes every temporary; a staged folder may hold read-only folders, which are opened first. */
  removeAll(): void {
    for (const p of this.paths.splice(0).reverse()) removeTree(p);
  }
}

/** Removes `p` and what is below it without following symlinks, making folders writable first. */
export function removeTree(p: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(p);
  } catch {
    return;
  }
  if (stat.isDirectory()) {
    try {
      fs.chmodSync(p, 0o700);
      for (const name of fs.readdirSync(p)) removeTree(path.join(p, name));
      fs.rmdirSync(p);
    } catch {
      fs.rmSync(p, { recursive: true, force: true });
    }
    return;
  }
  fs.rmSync(p, { force: true });
}
