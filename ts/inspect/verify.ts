/**
 * `imgforge verify`: plans the spec as a build would, then reads the image back and reports every
 * way it differs: the table (sizes, types, names, GUIDs the spec determines, attributes), raw
 * contents byte for byte, FAT32 filesystems (geometry, label, volume id, the tree and the bytes
 * of every file), EROFS filesystems (size, UUID, label, the tree with its metadata, and the
 * bytes of every file), and ext4 and squashfs filesystems (their superblocks, and their trees read
 * back with debugfs and unsquashfs).
 */
import * as fs from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { native, type PartitionTable } from '../native';
import { planImage, type ImagePlan } from '../plan/plan';
import type { PlannedFilesystem, ScannedFilesystem } from '../plan/filesystem';
import { loadSpec } from '../spec/load';
import { formatVolumeId } from '../plan/filesystem';
import { formatDiskId } from '../plan/mbr';
import { openImage, readAt, unreadable, withImage, type ImageFile } from './image';
import { attributeNames } from '../spec/attributes';
import { compareToolFilesystem } from './verify-ext4-squashfs';
import { compareVerity } from './verity';
import type { Difference, LoadedSpec, Plan, PlannedPartition, VerifyOptions, VerifyReport } from '../types';

const COMPARE_CHUNK = 4 * 1024 * 1024;

/**
 * Whether the spec fixes a value (a GUID, disk id, volume id or UUID): given `explicit`ly or
 * derived from the seed. Otherwise planning drew it at random, so it says nothing about the image.
 */
function fixedBySpec(spec: LoadedSpec, explicit: unknown): boolean {
  return spec.seed !== undefined || explicit !== undefined;
}

/** The offset of the first byte where `length` bytes of `source` differ from the image at `offset`, or -1. */
function firstDifference(imageFd: number, offset: number, sourcePath: string, length: number, signal: AbortSignal | undefined): number {
  // The source's failures are its own: withImage takes any other failure for the image's.
  const fromSource = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      throw new ImgforgeError('CONTENTS', `${sourcePath}: ${describeFsError(error as NodeJS.ErrnoException)}`);
    }
  };
  const sourceFd = fromSource(() => fs.openSync(sourcePath, 'r'));
  try {
    for (let done = 0; done < length; done += COMPARE_CHUNK) {
      if (signal?.aborted) throw new ImgforgeError('ABORTED', 'verification cancelled');
      const want = Math.min(COMPARE_CHUNK, length - done);
      const expected = fromSource(() => readAt(sourceFd, done, want));
      const actual = readAt(imageFd, offset + done, want);
      if (expected.length < want) throw new ImgforgeError('SOURCE_CHANGED', `${sourcePath}: shorter than when it was planned`);
      if (!expected.equals(actual)) {
        for (let i = 0; i < want; i++) if (expected[i] !== actual[i]) return done + i;
      }
    }
    return -1;
  } finally {
    fs.closeSync(sourceFd);
  }
}

/** `read()`, a native reader's call, with its failures (I/O errors, the image gone) as IMAGE errors. */
async function readImage<T>(image: ImageFile, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw unreadable(image.path, error);
  }
}

/**
 * The spec's plan for this image: a block device's table spans the whole device. A squashfs's
 * size is only known once mksquashfs made it (a build makes it before the layout); verify takes it
 * from the squashfs in the image's partition (its bytes used, padded to 4 KiB as mksquashfs pads
 * them), so that an "auto" partition is laid out as the build laid it out. Whether that squashfs
 * holds what the spec asks is for the tree comparison to say.
 */
function planFor(spec: LoadedSpec, image: ImageFile, table: PartitionTable): Promise<ImagePlan> {
  const inTable = [...table.partitions].sort((a, b) => a.index - b.index);
  const prepare = async (scanned: ReadonlyMap<number, ScannedFilesystem>) => {
    for (const [i, filesystem] of scanned) {
      const partition = inTable[i];
      if (filesystem.type !== 'squashfs' || partition === undefined || partition.offset >= image.size) continue;
      const length = Math.min(partition.size, image.size - partition.offset);
      const found = await readImage(image, () => native().readSquashfsAsync(image.path, partition.offset, length));
      if (found !== null && found.findings.length === 0) filesystem.image = { path: image.path, size: Math.ceil(found.bytesUsed / 4096) * 4096 };
    }
  };
  return planImage(spec, image.kind === 'device' ? { diskSize: image.size } : {}, { prepare });
}

/** GUIDs are compared only where the spec fixes them: given, or derived from a seed. */
function compareTable(spec: LoadedSpec, layout: Plan, image: ImageFile, table: PartitionTable, out: Difference[]): void {
  if (image.kind === 'file' && image.size !== layout.diskSize) {
    out.push({ where: 'size', message: `the image is ${image.size} bytes; the spec gives ${layout.diskSize}` });
  }
  if (table.sectorSize !== layout.sectorSize) {
    out.push({ where: 'sectorSize', message: `the image's table uses ${table.sectorSize}-byte sectors; the spec says ${layout.sectorSize}` });
  }
  for (const finding of table.findings) out.push({ where: 'partition table', message: `${finding.code}: ${finding.message}` });
  if (layout.table === 'mbr') {
    compareMbrTable(spec, layout, table, out);
    return;
  }
  if (layout.table === 'hybrid') compareHybridMbr(spec, layout, table, out);
  if (!table.gpt) {
    out.push({ where: 'partition table', message: 'the image has no GPT' });
    return;
  }
  const gpt = table.gpt;
  if (fixedBySpec(spec, spec.diskGuid) && gpt.diskGuid !== layout.diskGuid) {
    out.push({ where: 'diskGuid', message: `the image's disk GUID is ${gpt.diskGuid}; the spec gives ${layout.diskGuid}` });
  }
  if (gpt.firstUsableLba !== layout.firstUsableLba || gpt.lastUsableLba !== layout.lastUsableLba) {
    out.push({
      where: 'partition table',
      message: `usable LBAs are ${gpt.firstUsableLba}-${gpt.lastUsableLba}; the spec gives ${layout.firstUsableLba}-${layout.lastUsableLba}`,
    });
  }
  const found = new Map(table.partitions.map((p) => [p.index, p]));
  for (const planned of layout.partitions) {
    const where = `partitions[${planned.index - 1}]`;
    const actual = found.get(planned.index);
    found.delete(planned.index);
    if (actual === undefined) {
      out.push({ where, message: `entry ${planned.index} ("${planned.name}") is missing from the image` });
      continue;
    }
    const fieldsDiffer = (field: string, image: string, wanted: string) => {
      if (image !== wanted) out.push({ where: `${where}.${field}`, message: `the image has ${image}; the spec gives ${wanted}` });
    };
    fieldsDiffer('name', JSON.stringify(actual.name), JSON.stringify(planned.name));
    fieldsDiffer('type', actual.typeGuid, planned.type);
    fieldsDiffer('range', `LBAs ${actual.firstLba}-${actual.lastLba}`, `LBAs ${planned.firstLba}-${planned.lastLba}`);
    fieldsDiffer('attributes', `[${attributeNames(BigInt(actual.attributes)).join(', ')}]`, `[${planned.attributes.join(', ')}]`);
    // A GUID the root hash names is checked with the recomputed tree (compareVerity).
    if (fixedBySpec(spec, spec.partitions[planned.index - 1].guid) && !guidFromRootHash(layout, planned.index - 1)) fieldsDiffer('guid', String(actual.guid), String(planned.guid));
  }
  for (const extra of found.values()) {
    out.push({ where: `entry ${extra.index}`, message: `the image has a partition "${extra.name}" (LBAs ${extra.firstLba}-${extra.lastLba}) the spec does not` });
  }
}

/** Whether the build sets partition `i`'s GUID from a root hash (a verity data or hash partition without a guid). */
function guidFromRootHash(layout: Plan, i: number): boolean {
  return layout.partitions.some((p, h) => {
    const v = p.verity;
    if (v === undefined) return false;
    return (h === i && v.guidsFromRootHash.hash) || (layout.partitions[i].name === v.data && v.guidsFromRootHash.data);
  });
}

/** The disk id is compared only where the spec fixes it: given, or derived from a seed. */
function compareDiskId(spec: LoadedSpec, layout: Plan, table: PartitionTable, out: Difference[]): void {
  const found = formatDiskId(table.mbr.diskId);
  if (fixedBySpec(spec, spec.diskId) && found !== layout.diskId) {
    out.push({ where: 'diskId', message: `the image's MBR disk id is ${found}; the spec gives ${layout.diskId}` });
  }
}

const hex = (type: number | null | undefined) => (type === null || type === undefined ? 'none' : `0x${type.toString(16).padStart(2, '0')}`);

/** table: mbr: a plain MBR whose records and EBR chain hold the planned partitions, and nothing else. */
function compareMbrTable(spec: LoadedSpec, layout: Plan, table: PartitionTable, out: Difference[]): void {
  if (table.mbr.kind !== 'plain' || table.gpt) {
    out.push({ where: 'table', message: `the image has ${table.gpt ? 'a GPT' : `an MBR of kind ${table.mbr.kind}`}; the spec gives a plain MBR table (table: mbr)` });
    return;
  }
  compareDiskId(spec, layout, table, out);
  const found = new Map(table.partitions.map((p) => [p.index, p]));
  layout.partitions.forEach((planned, i) => {
    const where = `partitions[${i}]`;
    const actual = found.get(planned.index);
    found.delete(planned.index);
    if (actual === undefined) {
      out.push({ where, message: `MBR partition ${planned.index} ("${planned.name}") is missing from the image` });
      return;
    }
    const differs = (field: string, image: string, wanted: string) => {
      if (image !== wanted) out.push({ where: `${where}.${field}`, message: `the image has ${image}; the spec gives ${wanted}` });
    };
    differs('range', `LBAs ${actual.firstLba}-${actual.lastLba}`, `LBAs ${planned.firstLba}-${planned.lastLba}`);
    differs('mbrType', hex(actual.mbrType), hex(planned.mbrType));
    differs('bootable', String(actual.bootable), String(planned.bootable === true));
    differs('logical', String(actual.logical), String(planned.logical === true));
  });
  for (const extra of found.values()) {
    out.push({ where: `MBR partition ${extra.index}`, message: `the image has a partition (LBAs ${extra.firstLba}-${extra.lastLba}) the spec does not` });
  }
}

/** table: hybrid: the MBR's records are the mirrored partitions in spec order, then the 0xEE one. */
function compareHybridMbr(spec: LoadedSpec, layout: Plan, table: PartitionTable, out: Difference[]): void {
  if (table.mbr.kind !== 'hybrid') {
    out.push({ where: 'table', message: `the image's MBR is ${table.mbr.kind}; the spec gives a hybrid MBR (table: hybrid)` });
    return;
  }
  compareDiskId(spec, layout, table, out);
  const mirrored = layout.partitions.filter((p) => p.mbrType !== undefined);
  mirrored.forEach((planned, slot) => {
    const record = table.mbr.entries[slot];
    const where = `partitions[${layout.partitions.indexOf(planned)}]`;
    const image = `record ${slot + 1}: type ${hex(record.type)}${record.bootable ? ', bootable' : ''}, LBAs ${record.firstLba}+${record.sectors}`;
    const wanted = `record ${slot + 1}: type ${hex(planned.mbrType)}${planned.bootable ? ', bootable' : ''}, LBAs ${planned.firstLba}+${planned.lastLba - planned.firstLba + 1}`;
    if (image !== wanted) out.push({ where: `${where}.hybrid`, message: `the image's MBR has ${image}; the spec gives ${wanted}` });
  });
  const protective = table.mbr.entries[mirrored.length];
  if (protective === undefined || protective.type !== 0xee) {
    out.push({ where: 'table', message: `the hybrid MBR's record ${mirrored.length + 1} is not the 0xEE one (type ${hex(protective?.type)})` });
  }
}

function compareContents(fd: number, partition: PlannedPartition, image: ImageFile, options: VerifyOptions, out: Difference[]): number {
  const contents = partition.contents!;
  const where = `partitions[${partition.index - 1}].contents`;
  if (partition.offset + contents.size > image.size) {
    out.push({ where, message: `the image ends before the end of ${contents.path}` });
    return 0;
  }
  const at = firstDifference(fd, partition.offset, contents.path, contents.size, options.signal);
  if (at >= 0) out.push({ where, message: `differs from ${contents.path} at byte ${at} of the partition (image offset ${partition.offset + at})` });
  return contents.size;
}

/** Records a field of a filesystem that differs from the plan. */
function fieldDiffer(out: Difference[], where: string) {
  return (field: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) out.push({ where: `${where}.${field}`, message: `the image has ${JSON.stringify(actual)}; the spec gives ${JSON.stringify(wanted)}` });
  };
}

/**
 * An EROFS partition against its plan, all in the Rust reader (crates/erofs): size, UUID, volume
 * name, then the tree (kinds, modes, owners, times, link counts and hard links, xattrs, symlink
 * targets, device numbers) and every file's bytes against its source, then the reader's findings.
 */
async function compareErofs(spec: LoadedSpec, layout: Plan, i: number, filesystem: PlannedFilesystem & { type: 'erofs' }, image: ImageFile, out: Difference[]): Promise<number> {
  const partition = layout.partitions[i];
  const where = `partitions[${i}].filesystem`;
  const length = Math.max(0, Math.min(partition.size, image.size - partition.offset));
  const fs = spec.partitions[i].filesystem;
  const compareUuid = fixedBySpec(spec, fs?.type === 'erofs' ? fs.uuid : undefined);
  const differences = await readImage(image, () => filesystem.layout.verify(image.path, partition.offset, length, compareUuid));
  for (const difference of differences) {
    out.push({ where: difference.path === '/' ? where : `${where}:${difference.path}`, message: difference.message });
  }
  return filesystem.summary.fileBytes;
}

/**
 * An ext4 or squashfs partition against the spec: its superblock (findings, label, and the UUID and
 * hash seed where the spec fixes them; the compression), then its tree, read back with debugfs or
 * unsquashfs, against the sources (verify-ext4-squashfs.ts).
 */
function compareExt4OrSquashfs(
  spec: LoadedSpec,
  layout: Plan,
  i: number,
  filesystem: PlannedFilesystem & { type: 'ext4' | 'squashfs' },
  image: ImageFile,
  out: Difference[],
  options: VerifyOptions,
): Promise<number> {
  const partition = layout.partitions[i];
  const length = Math.max(0, Math.min(partition.size, image.size - partition.offset));
  const where = `partitions[${i}].filesystem`;
  const fs = spec.partitions[i].filesystem;
  if (fs?.type === 'ext4' && filesystem.type === 'ext4') {
    const { summary } = filesystem;
    const expectation = {
      type: 'ext4' as const,
      sources: filesystem.tree,
      ownership: fs.ownership,
      label: fs.label,
      ...(fixedBySpec(spec, fs.uuid) ? { uuid: summary.uuid } : {}),
      ...(spec.seed !== undefined ? { hashSeed: summary.hashSeed } : {}),
    };
    return compareToolFilesystem(expectation, image, partition.offset, length, where, out, options.signal);
  }
  if (fs?.type === 'squashfs' && filesystem.type === 'squashfs') {
    const expectation = { type: 'squashfs' as const, sources: filesystem.tree, ownership: fs.ownership, compression: fs.compression };
    return compareToolFilesystem(expectation, image, partition.offset, length, where, out, options.signal);
  }
  return Promise.resolve(0);
}

async function compareFilesystem(spec: LoadedSpec, layout: Plan, i: number, filesystem: PlannedFilesystem, image: ImageFile, out: Difference[], options: VerifyOptions): Promise<number> {
  if (filesystem.type === 'erofs') return compareErofs(spec, layout, i, filesystem, image, out);
  if (filesystem.type === 'ext4' || filesystem.type === 'squashfs') return compareExt4OrSquashfs(spec, layout, i, filesystem, image, out, options);
  const { tree, summary: planned } = filesystem;
  const partition = layout.partitions[i];
  const where = `partitions[${i}].filesystem`;
  const length = Math.max(0, Math.min(partition.size, image.size - partition.offset));
  const found = await readImage(image, () => native().readFat32(image.path, partition.offset, length, false));
  if (found === null) {
    out.push({ where, message: 'the partition holds no FAT32 filesystem' });
    return 0;
  }
  const differs = fieldDiffer(out, where);
  differs('label', found.label ?? undefined, planned.label);
  differs('clusterSize', found.clusterSize, planned.clusterSize);
  differs('clusters', found.clusters, planned.clusters);
  const fs = spec.partitions[i].filesystem;
  if (fixedBySpec(spec, fs?.type === 'fat32' ? fs.volumeId : undefined)) differs('volumeId', formatVolumeId(found.volumeId), planned.volumeId);
  // The tree comparison ends with the reader's findings, so they are not added again here.
  const differences = await readImage(image, () => tree.verify(image.path, partition.offset, length));
  for (const difference of differences) {
    out.push({ where: `${where}:${difference.path}`, message: difference.message });
  }
  return planned.fileBytes;
}

/** Compares the image at `imagePath` with what `specOrPath` would build. Never writes. */
export async function verify(specOrPath: string | LoadedSpec, imagePath: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const spec = typeof specOrPath === 'string' ? await loadSpec(specOrPath) : specOrPath;
  const image = openImage(imagePath);
  let table: PartitionTable;
  try {
    table = await native().readPartitionTableAsync(image.path, image.sectorSize ?? spec.sectorSize);
  } catch (error) {
    throw unreadable(image.path, error);
  }
  const planned = await planFor(spec, image, table);
  const { layout, filesystems } = planned;
  const differences: Difference[] = [];
  compareTable(spec, layout, image, table, differences);
  let bytesCompared = 0;
  withImage(image, (fd) => {
    for (const partition of layout.partitions) {
      if (partition.contents !== undefined) bytesCompared += compareContents(fd, partition, image, options, differences);
    }
  });
  for (const [i, filesystem] of filesystems) bytesCompared += await compareFilesystem(spec, layout, i, filesystem, image, differences, options);
  const guids = new Map(table.partitions.map((p) => [p.index - 1, p.guid ?? undefined]));
  bytesCompared += await compareVerity(spec, planned, image, guids, differences);
  return { image: image.path, spec: spec.specPath, partitions: layout.partitions.length, bytesCompared, differences };
}
