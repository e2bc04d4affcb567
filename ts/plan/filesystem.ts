/**
 * Planning the FAT32 filesystems of a spec: scan each source tree once (metadata only, in Rust),
 * size it, then lay it out once in its partition. The layout (a Fat32Plan held in Rust) is what
 * the build writes, so it writes exactly what was planned.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ImgforgeError } from '../errors';
import { native, type ErofsPlan, type ErofsTree, type Fat32Options, type Fat32Plan, type Fat32Tree, type ToolTree, type TreeUsage } from '../native';
import { deriveGuid, randomGuid } from './guid';
import { alignUp, formatBytes, formatSize } from '../units';
import { defaultJournalBlocks, ext4Geometry, ext4MinimumBlocks, EXT4_BLOCK_SIZE } from './ext4-size';
import type { ErofsFilesystemSpec, ErofsSummary, Ext4FilesystemSpec, Ext4Summary, Fat32FilesystemSpec, Fat32Summary, LoadedSpec, SquashfsFilesystemSpec, SquashfsSummary } from '../types';

/** Files of 4 KiB or more start on 4 KiB blocks of the image only if the data region does. */
export const FILESYSTEM_ALIGNMENT = 4096;


/**
 * A scanned source tree with what it is formatted with. A FAT32's layout depends on where its
 * partition starts and how large it is, so it is laid out after the disk; an EROFS's does not,
 * so it is laid out right after the scan, and its size is what "auto" gives the partition.
 */
export type ScannedFilesystem =
  | { type: 'fat32'; tree: Fat32Tree; options: Fat32Options }
  | { type: 'erofs'; tree: ErofsTree; layout: ErofsPlan; summary: ErofsSummary }
  | { type: 'ext4'; tree: ToolTree; usage: TreeUsage; options: Ext4Options; autoSized: boolean; minimumBlocks: number }
  | ScannedSquashfs;

/**
 * A squashfs's size is known only once mksquashfs made it: until then `size` is an estimate. A
 * build makes it before laying the disk out (BuildHooks.prepareSquashfs) and sets `image`.
 */
export interface ScannedSquashfs {
  type: 'squashfs';
  tree: ToolTree;
  usage: TreeUsage;
  options: SquashfsOptions;
  /** The built filesystem (a private file beside the output), once made. */
  image?: { path: string; size: number };
}

/** What mkfs.ext4 is given besides the geometry: the spec's values with the derived ones filled in. */
export interface Ext4Options {
  label: string | undefined;
  uuid: string;
  hashSeed: string;
  ownership: 'root' | 'source';
  /** SOURCE_DATE_EPOCH: every inode's times and the superblock's. */
  timestamp: number | undefined;
  minFree: number;
  /** Sources are absolute; a lone folder at "/" is given to mkfs.ext4 as it is, without staging. */
  files: Array<{ source: string; target: string }>;
}

export interface SquashfsOptions {
  ownership: 'root' | 'source';
  compression: SquashfsFilesystemSpec['compression'];
  timestamp: number | undefined;
  files: Array<{ source: string; target: string }>;
}

/** An ext4 laid out in its partition: mkfs.ext4's geometry (in 4 KiB blocks). */
export interface Ext4Layout {
  offset: number;
  blocks: number;
  inodes: number;
  journalBlocks: number;
  options: Ext4Options;
}

/**
 * A filesystem laid out in its partition: what the build writes and verify compares with: the
 * scanned sources (verify compares the image with them; the build checks the output is none of
 * them), the layout computed once (`write` writes exactly it) and its summary.
 */
export type PlannedFilesystem =
  | { type: 'fat32'; tree: Fat32Tree; layout: Fat32Plan; summary: Fat32Summary }
  | { type: 'erofs'; tree: ErofsTree; layout: ErofsPlan; summary: ErofsSummary }
  | { type: 'ext4'; tree: ToolTree; layout: Ext4Layout; summary: Ext4Summary }
  | { type: 'squashfs'; tree: ToolTree; layout: { offset: number; options: SquashfsOptions; image?: { path: string; size: number } }; summary: SquashfsSummary };

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

/** Scans an ext4's sources and sizes it: its smallest size, which "auto" gives the partition. */
function scanExt4(spec: LoadedSpec, partition: LoadedSpec['partitions'][number], fs: Ext4FilesystemSpec, timestamp: number | undefined): ScannedFilesystem {
  const name = partition.name;
  const derive = (purpose: string) => (spec.seed !== undefined ? deriveGuid(spec.seed, `imgforge:${purpose}:${name}`) : randomGuid());
  const uuid = fs.uuid ?? derive('ext4-uuid');
  const hashSeed = derive('ext4-hash-seed');
  const tree = native().ToolTree.scan(fs.files, 'ext4');
  const usage = tree.usage;
  const options: Ext4Options = { label: fs.label, uuid, hashSeed, ownership: fs.ownership, timestamp, minFree: fs.minFree, files: fs.files };
  return { type: 'ext4', tree, usage, options, autoSized: partition.size === 'auto', minimumBlocks: ext4MinimumBlocks(usage, fs.minFree) };
}

/**
 * An upper bound of a squashfs's size before mksquashfs ran: the data uncompressed, 4 KiB per
 * directory and 64 bytes per inode (mksquashfs's inodes are at most that; compression only
 * shrinks), rounded up to 4 KiB. What `plan` shows, marked as an estimate.
 */
export function squashfsEstimate(usage: TreeUsage): number {
  return alignUp(4096 + usage.fileBytes + usage.directories * 4096 + usage.inodes * 64, 4096);
}

function squashfsSummary(scanned: ScannedSquashfs): SquashfsSummary {
  const { usage, options, image } = scanned;
  return {
    type: 'squashfs',
    compression: options.compression,
    ownership: options.ownership,
    size: image?.size ?? squashfsEstimate(usage),
    estimated: image === undefined,
    inodes: usage.inodes,
    files: usage.files,
    fileBytes: usage.fileBytes,
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
      scanned.set(i, scanOne(fs));
    } catch (error) {
      problems.push(`${fieldOf(i)}.files: ${(error as Error).message}`);
    }
    function scanOne(fs: NonNullable<typeof partition.filesystem>): ScannedFilesystem {
      switch (fs.type) {
        case 'erofs':
          return scanErofs(spec, partition.name, fs, timestamp);
        case 'fat32':
          return { type: 'fat32', tree: binding.Fat32Tree.scan(fs.files), options: fat32Options(spec, partition.name, fs, timestamp) };
        case 'ext4':
          return scanExt4(spec, partition, fs, timestamp);
        case 'squashfs': {
          const tree = binding.ToolTree.scan(fs.files, 'squashfs');
          return { type: 'squashfs', tree, usage: tree.usage, options: { ownership: fs.ownership, compression: fs.compression, timestamp, files: fs.files } };
        }
      }
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
    if (filesystem.type === 'ext4') {
      minimums.set(i, filesystem.minimumBlocks * EXT4_BLOCK_SIZE);
      continue;
    }
    if (filesystem.type === 'squashfs') {
      minimums.set(i, squashfsSummary(filesystem).size);
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
  if (filesystem.type === 'ext4') return planExt4(i, filesystem, offset, size);
  if (filesystem.type === 'squashfs') {
    const { tree, options, image } = filesystem;
    if (offset % EXT4_BLOCK_SIZE !== 0) throw new ImgforgeError('LAYOUT', `partitions[${i}]: a squashfs partition must start on a 4 KiB boundary; set alignment to 4KiB or more`);
    return { type: 'squashfs', tree, layout: { offset, options, image }, summary: squashfsSummary(filesystem) };
  }
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

/**
 * An ext4 in its partition: the whole partition, in 4 KiB blocks (a partition's last partial
 * block is left out). An "auto" partition keeps the journal of the size it was estimated at, so
 * rounding the partition up to the alignment can never tip it into a larger journal that no
 * longer fits. A fixed size must hold the tree, the metadata and minFree.
 */
function planExt4(i: number, filesystem: ScannedFilesystem & { type: 'ext4' }, offset: number, size: number): PlannedFilesystem {
  const { tree, usage, options, autoSized, minimumBlocks } = filesystem;
  if (offset % EXT4_BLOCK_SIZE !== 0) throw new ImgforgeError('LAYOUT', `partitions[${i}]: an ext4 partition must start on a 4 KiB boundary; set alignment to 4KiB or more`);
  const blocks = Math.floor(size / EXT4_BLOCK_SIZE);
  const journal = defaultJournalBlocks(autoSized ? Math.min(blocks, minimumBlocks) : blocks);
  const geometry = ext4Geometry(usage, options.minFree, blocks, journal);
  if (geometry.neededBlocks > blocks) {
    const needed = ext4MinimumBlocks(usage, options.minFree) * EXT4_BLOCK_SIZE;
    const minFree = options.minFree > 0 ? ` and minFree (${formatSize(options.minFree)})` : '';
    throw new ImgforgeError(
      'LAYOUT',
      `partitions[${i}].size: ${formatBytes(size)} is too small for the ext4 filesystem of its files${minFree}: it needs about ${formatSize(needed)}; make it at least that or use size "auto"`,
    );
  }
  const summary: Ext4Summary = {
    type: 'ext4',
    label: options.label,
    uuid: options.uuid,
    hashSeed: options.hashSeed,
    ownership: options.ownership,
    blockSize: EXT4_BLOCK_SIZE,
    size: blocks * EXT4_BLOCK_SIZE,
    estimated: true,
    inodes: geometry.inodes,
    files: usage.files,
    fileBytes: usage.fileBytes,
  };
  return { type: 'ext4', tree, layout: { offset, blocks, inodes: geometry.inodes, journalBlocks: journal, options }, summary };
}
