/**
 * Planning the FAT32 filesystems of a spec: scan each source tree once (metadata only, in Rust),
 * size it, then lay it out once in its partition. The layout (a Fat32Plan held in Rust) is what
 * the build writes, so it writes exactly what was planned.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ImgforgeError } from '../errors';
import { native, type ErofsPlan, type ErofsTree, type Fat32Options, type Fat32Plan, type Fat32Tree } from '../native';
import { deriveGuid, randomGuid } from './guid';
import { alignUp } from '../units';
import type { ErofsFilesystemSpec, ErofsSummary, Fat32FilesystemSpec, Fat32Summary, LoadedSpec } from '../types';

/** Files of 4 KiB or more start on 4 KiB blocks of the image only if the data region does. */
export const FILESYSTEM_ALIGNMENT = 4096;


/**
 * A scanned source tree with what it is formatted with. A FAT32's layout depends on where its
 * partition starts and how large it is, so it is laid out after the disk; an EROFS's does not,
 * so it is laid out right after the scan, and its size is what "auto" gives the partition.
 */
export type ScannedFilesystem =
  | { type: 'fat32'; tree: Fat32Tree; options: Fat32Options }
  | { type: 'erofs'; tree: ErofsTree; layout: ErofsPlan; summary: ErofsSummary };

/**
 * A filesystem laid out in its partition: what the build writes and verify compares with: the
 * scanned sources (verify compares the image with them; the build checks the output is none of
 * them), the layout computed once (`write` writes exactly it) and its summary.
 */
export type PlannedFilesystem =
  | { type: 'fat32'; tree: Fat32Tree; layout: Fat32Plan; summary: Fat32Summary }
  | { type: 'erofs'; tree: ErofsTree; layout: ErofsPlan; summary: ErofsSummary };

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

function fat32Options(spec: LoadedSpec, name: string, fs: Fat32FilesystemSpec, timestamp: number | undefined): Fat32Options {
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

/** Scans an EROFS's sources and lays it out (its layout does not depend on where it goes). */
function scanErofs(spec: LoadedSpec, name: string, fs: ErofsFilesystemSpec, timestamp: number | undefined): ScannedFilesystem {
  const uuid = fs.uuid ?? (spec.seed !== undefined ? deriveGuid(spec.seed, `imgforge:erofs-uuid:${name}`) : randomGuid());
  const tree = native().ErofsTree.scan(fs.files);
  const layout = tree.plan({ uuid, label: fs.label, ownership: fs.ownership, timestamp });
  const { size, inodes, files, fileBytes } = layout.summary;
  return { type: 'erofs', tree, layout, summary: { type: 'erofs', label: fs.label, uuid, ownership: fs.ownership, size, inodes, files, fileBytes } };
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
    if (fs.type === 'ext4' || fs.type === 'squashfs') {
      // The build through mkfs.ext4 and mksquashfs comes in the next commits of issue 14.
      problems.push(`${fieldOf(i)}.type: ${fs.type} filesystems cannot be built yet`);
      return;
    }
    try {
      scanned.set(
        i,
        fs.type === 'erofs'
          ? scanErofs(spec, partition.name, fs, timestamp)
          : { type: 'fat32', tree: binding.Fat32Tree.scan(fs.files), options: fat32Options(spec, partition.name, fs, timestamp) },
      );
    } catch (error) {
      problems.push(`${fieldOf(i)}.files: ${(error as Error).message}`);
    }
  });
  if (problems.length > 0) throw new ImgforgeError('CONTENTS', problems.join('\n'));
  return scanned;
}

/**
 * The smallest partition each filesystem fits in, for a start on a 4 KiB block. A FAT32 starting
 * between blocks (alignment under 4 KiB) can need up to 7 more reserved sectors; "auto" sizes add
 * that. An EROFS is exactly its layout's size (and must start on a block: see planFilesystem).
 */
export function filesystemMinimums(spec: LoadedSpec, scanned: ReadonlyMap<number, ScannedFilesystem>): Map<number, number> {
  const minimums = new Map<number, number>();
  for (const [i, filesystem] of scanned) {
    if (filesystem.type === 'erofs') {
      minimums.set(i, filesystem.summary.size);
      continue;
    }
    const { tree, options } = filesystem;
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
export function planFilesystem(i: number, filesystem: ScannedFilesystem, offset: number, size: number): PlannedFilesystem {
  if (filesystem.type === 'erofs') {
    const { tree, summary } = filesystem;
    try {
      return { type: 'erofs', tree, layout: filesystem.layout.at(offset), summary };
    } catch (error) {
      throw new ImgforgeError('LAYOUT', `partitions[${i}]: ${(error as Error).message}; set alignment to 4KiB or more`);
    }
  }
  const { tree, options } = filesystem;
  let layout: Fat32Plan;
  try {
    layout = tree.plan(options, offset, size);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `partitions[${i}].size: ${(error as Error).message}`);
  }
  const summary: Fat32Summary = { type: 'fat32', label: options.label, volumeId: formatVolumeId(options.volumeId), ...layout.summary };
  return { type: 'fat32', tree, layout, summary };
}
