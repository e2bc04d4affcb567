/**
 * Planning the FAT32 filesystems of a spec: scan each source tree once (metadata only, in Rust),
 * size it, then lay it out once in its partition. The layout (a Fat32Plan held in Rust) is what
 * the build writes, so it writes exactly what was planned.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ImgforgeError } from '../errors';
import { native, type Fat32Options, type Fat32Plan, type Fat32Tree } from '../native';
import { alignUp } from '../units';
import type { LoadedSpec, FilesystemSpec, FilesystemSummary } from '../types';

/** Files of 4 KiB or more start on 4 KiB blocks of the image only if the data region does. */
export const FILESYSTEM_ALIGNMENT = 4096;


/** A scanned tree with the options it is formatted with (where it goes is up to the disk layout). */
export interface ScannedFilesystem {
  tree: Fat32Tree;
  options: Fat32Options;
}

/** A filesystem laid out in its partition: what the build writes and verify compares with. */
export interface PlannedFilesystem {
  /** The scanned sources (verify compares the image with them; the build checks the output is none of them). */
  tree: Fat32Tree;
  /** The layout, computed once; `write` writes exactly it. */
  layout: Fat32Plan;
  summary: FilesystemSummary;
}

const fieldOf = (i: number) => `partitions[${i}].filesystem`;

/** SOURCE_DATE_EPOCH, the reproducible-builds convention: every timestamp the build writes. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new ImgforgeError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function deriveVolumeId(seed: string, partitionName: string): number {
  return createHmac('sha256', seed).update(`imgforge:fat32-volume-id:${partitionName}`, 'utf8').digest().readUInt32LE(0);
}

export function formatVolumeId(id: number): string {
  const hex = id.toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

function optionsFor(spec: LoadedSpec, name: string, fs: FilesystemSpec, timestamp: number | undefined): Fat32Options {
  const volumeId = fs.volumeId ?? (spec.seed !== undefined ? deriveVolumeId(spec.seed, name) : randomBytes(4).readUInt32LE(0));
  return {
    bytesPerSector: spec.sectorSize,
    clusterSize: fs.clusterSize,
    label: fs.label,
    volumeId,
    timestamp,
    minFree: fs.minFree,
  };
}

/** Scans every filesystem's sources; all problems are reported together. */
export function scanFilesystems(spec: LoadedSpec): Map<number, ScannedFilesystem> {
  const scanned = new Map<number, ScannedFilesystem>();
  if (!spec.partitions.some((p) => p.filesystem !== undefined)) return scanned;
  const timestamp = sourceDateEpoch();
  const binding = native();
  const problems: string[] = [];
  spec.partitions.forEach((partition, i) => {
    const fs = partition.filesystem;
    if (fs === undefined) return;
    try {
      scanned.set(i, { tree: binding.Fat32Tree.scan(fs.files), options: optionsFor(spec, partition.name, fs, timestamp) });
    } catch (error) {
      problems.push(`${fieldOf(i)}.files: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) throw new ImgforgeError('CONTENTS', problems.join('\n'));
  return scanned;
}

/**
 * The smallest partition each filesystem fits in, for a start on a 4 KiB block. A start between
 * blocks (alignment under 4 KiB) can need up to 7 more reserved sectors; "auto" sizes add that.
 */
export function filesystemMinimums(spec: LoadedSpec, scanned: ReadonlyMap<number, ScannedFilesystem>): Map<number, number> {
  const minimums = new Map<number, number>();
  for (const [i, { tree, options }] of scanned) {
    try {
      const size = tree.minimumSize(options);
      minimums.set(i, spec.alignment < FILESYSTEM_ALIGNMENT ? alignUp(size + FILESYSTEM_ALIGNMENT, spec.sectorSize) : size);
    } catch (error) {
      throw new ImgforgeError('LAYOUT', `${fieldOf(i)}: ${(error as Error).message}`);
    }
  }
  return minimums;
}

/** Lays a filesystem out in its partition; throws a LAYOUT error when it does not fit there. */
export function planFilesystem(i: number, { tree, options }: ScannedFilesystem, offset: number, size: number): PlannedFilesystem {
  let layout: Fat32Plan;
  try {
    layout = tree.plan(options, offset, size);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `partitions[${i}].size: ${(error as Error).message}`);
  }
  const summary: FilesystemSummary = { type: 'fat32', label: options.label, volumeId: formatVolumeId(options.volumeId), ...layout.summary };
  return { tree, layout, summary };
}
