/**
 * Moving a build's finished files into place as one step: each temporary file is renamed over
 * its final path, and if one rename fails, those already made are undone, so the final paths
 * hold either every new file or what they held before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { syncDirectory, temporaryPathFor } from '../build/output';

/** One file to move: its temporary path and the final one. */
export interface Move {
  temporary: string;
  final: string;
}

/** Renames made and not yet kept: `rollback` puts the previous files back, `keep` forgets them. */
export interface Renamed {
  rollback(): void;
  keep(): void;
}

/** A rename made, with the hard link that keeps the file it replaced (none if there was none). */
interface Made {
  move: Move;
  previous: string | undefined;
}

/**
 * Keeps the file at `final`, if any, under a temporary name (a hard link: no copy), so that a
 * rename over it can be undone. Where links are refused (FAT, some network filesystems), the
 * previous file cannot come back: undefined, as for a path with no file.
 */
function keepPrevious(final: string): string | undefined {
  if (!fs.existsSync(final)) return undefined;
  const previous = temporaryPathFor(final);
  try {
    fs.linkSync(final, previous);
    return previous;
  } catch {
    return undefined;
  }
}

function undo(made: readonly Made[]): void {
  for (const { move, previous } of [...made].reverse()) {
    try {
      if (previous !== undefined) fs.renameSync(previous, move.final);
      else fs.rmSync(move.final, { force: true });
    } catch {
      // Best effort: the failure being reported matters more than a rollback that cannot finish.
    }
  }
}

function forget(made: readonly Made[]): void {
  for (const { previous } of made) if (previous !== undefined) fs.rmSync(previous, { force: true });
}

/**
 * Renames every temporary file over its final path, in order, then makes the renames durable.
 * A failed rename undoes the renames already made (the previous files come back, new names
 * go) and throws an IO error naming the file; the temporary files are the caller's to remove.
 */
export function renameIntoPlace(moves: readonly Move[]): Renamed {
  const made: Made[] = [];
  for (const move of moves) {
    const previous = keepPrevious(move.final);
    try {
      fs.renameSync(move.temporary, move.final);
    } catch (error) {
      if (previous !== undefined) fs.rmSync(previous, { force: true });
      undo(made);
      throw new ImgforgeError('IO', `cannot move ${move.final} into place: ${(error as Error).message}; the files already moved were put back`);
    }
    made.push({ move, previous });
  }
  for (const dir of new Set(moves.map((m) => path.dirname(m.final)))) syncDirectory(dir);
  return {
    rollback: () => {
      undo(made);
      for (const dir of new Set(moves.map((m) => path.dirname(m.final)))) syncDirectory(dir);
    },
    keep: () => forget(made),
  };
}
