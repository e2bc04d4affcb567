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
import { temporaryPathFor } from './output';

export class Temporaries {
  private readonly paths: string[] = [];

  constructor(private readonly output: string) {}

  /** A new private folder beside the output: `.<name>.<pid>-<random>.imgforge-stage`, mode 0700. */
  folder(): string {
    const folder = path.join(path.dirname(this.output), `.${path.basename(this.output)}.${process.pid}-${randomBytes(6).toString('hex')}.imgforge-stage`);
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
