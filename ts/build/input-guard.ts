/**
 * Refusing outputs that are one of the build's own inputs. Paths are not enough: a bind mount,
 * a hard link or a symlinked folder reaches the same file under another name, so files are
 * compared by identity (device and inode), as the kernel sees them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import type { PlannedFilesystem } from '../plan/filesystem';
import type { LoadedSpec } from '../types';

interface Identity {
  dev: bigint;
  ino: bigint;
}

/** The identity of what `file` names (symlinks followed), or undefined when nothing is there. */
function identityOf(file: string): Identity | undefined {
  try {
    const { dev, ino } = fs.statSync(file, { bigint: true });
    return { dev, ino };
  } catch {
    return undefined;
  }
}

const same = (a: Identity | undefined, b: Identity | undefined): boolean => a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

/**
 * Before planning: the output must not be the spec file or a partition's contents. An output
 * that does not exist yet replaces nothing.
 */
export function checkOutputIsNoInput(output: string, spec: LoadedSpec): void {
  const target = identityOf(output);
  if (target === undefined) return;
  if (spec.specPath !== undefined && same(target, identityOf(spec.specPath))) {
    throw new ImgforgeError('OUTPUT', `${output}: the output is the spec file itself (${spec.specPath})`);
  }
  spec.partitions.forEach((partition, i) => {
    if (partition.contents !== undefined && same(target, identityOf(partition.contents))) {
      throw new ImgforgeError('OUTPUT', `${output}: the output is partitions[${i}].contents (${partition.contents}); building would replace it`);
    }
    for (const key of ['key', 'certificate'] as const) {
      const file = partition.signature?.[key];
      if (file !== undefined && same(target, identityOf(file))) {
        throw new ImgforgeError('OUTPUT', `${output}: the output is partitions[${i}].signature.${key} (${file}); building would replace it`);
      }
    }
  });
}

/** The output (when it exists) and every folder above it, by their real paths. */
function outputAndFolders(output: string): Array<{ path: string; identity: Identity }> {
  const found: Array<{ path: string; identity: Identity }> = [];
  const own = identityOf(output);
  if (own !== undefined) found.push({ path: output, identity: own });
  let folder: string;
  try {
    folder = fs.realpathSync(path.dirname(output));
  } catch {
    return found;
  }
  for (;;) {
    const identity = identityOf(folder);
    if (identity !== undefined) found.push({ path: folder, identity });
    const parent = path.dirname(folder);
    if (parent === folder) return found;
    folder = parent;
  }
}

/** Whether `inside` is `folder` or below it, by real paths. */
function isWithin(inside: string, folder: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const [a, b] = [real(inside), real(folder)];
  return a === b || a.startsWith(b.endsWith(path.sep) ? b : b + path.sep);
}

/** The `files` entry that reads `where`, when its path says so (a bind mount may hide it). */
function sourceField(spec: LoadedSpec, i: number, where: string, identity: Identity): string {
  const files = spec.partitions[i].filesystem?.files ?? [];
  const j = files.findIndex((file) => same(identityOf(file.source), identity) || isWithin(where, file.source));
  return j < 0 ? `partitions[${i}].filesystem.files` : `partitions[${i}].filesystem.files[${j}].source (${files[j].source})`;
}

/**
 * After scanning: the output must be neither a file a filesystem copies nor inside a folder it
 * copies (the next build would pack the image into itself).
 */
export function checkOutputOutsideFilesystems(output: string, spec: LoadedSpec, filesystems: ReadonlyMap<number, Pick<PlannedFilesystem, 'tree'>>): void {
  if (filesystems.size === 0) return;
  const candidates = outputAndFolders(output);
  for (const [i, { tree }] of filesystems) {
    for (const { path: where, identity } of candidates) {
      if (!tree.reads(identity.dev, identity.ino)) continue;
      const what = where === output ? 'is one of its source files' : `would be inside ${where}, one of its source folders`;
      throw new ImgforgeError('OUTPUT', `${output}: the output ${what}: ${sourceField(spec, i, where, identity)}`);
    }
  }
}
