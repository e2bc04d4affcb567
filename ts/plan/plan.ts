/**
 * Planning turns a LoadedSpec into exact sector positions and GUIDs. It reads file metadata (the
 * contents' sizes) but never writes anything.
 */
import { constants as fsConstants, promises as fsp, type Stats } from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { attributeNames } from '../spec/attributes';
import { typeName } from '../spec/partition-types';
import { alignUp, formatBytes, formatSize, isPowerOfTwo } from '../units';
import { filesystemMinimums, planFilesystem, scanFilesystems, type PlannedFilesystem, type ScannedFilesystem } from './filesystem';
import { isGuid } from '../guid';
import { deriveGuid, DISK_GUID_PURPOSE, partitionGuidPurpose, randomGuid } from './guid';
import {
  extentsEnd,
  firstPartitionOffset,
  firstUsableLba,
  growSize,
  lastUsableLba,
  minimalDiskSize,
  placeSequentially,
  usableEnd,
  type Extent,
} from './layout';
import { planVerity, verityNeeds, type VerityPlan } from './verity';
import { MBR_BOOT_CODE_SIZE, assignMbrRecords, chooseDiskId, defaultMbrType, formatDiskId, mbrLimitProblem } from './mbr';
import type { LoadedSpec, PartitionSpec, PlanOptions, Plan, FilesystemSummary, TableKind } from '../types';

const fieldOf = (i: number, key: string) => `partitions[${i}].${key}`;

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Stats every contents file; all problems are reported together. Index → size in bytes. */
export async function statContents(spec: LoadedSpec): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  const problems: string[] = [];
  await Promise.all(
    spec.partitions.map(async (partition, i) => {
      const file = partition.contents;
      if (file === undefined) return;
      const where = `${fieldOf(i, 'contents')}: ${file}`;
      try {
        const stats = await fsp.stat(file); // follows symlinks: a link to an image is fine
        if (!stats.isFile()) {
          problems[i] = `${where}: ${fileKind(stats)}; contents must be a regular file`;
          return;
        }
        await fsp.access(file, fsConstants.R_OK);
        sizes.set(i, stats.size);
      } catch (error) {
        problems[i] = `${where}: ${describeFsError(error as NodeJS.ErrnoException)}`;
      }
    }),
  );
  const lines = problems.filter((p) => p !== undefined);
  if (lines.length > 0) throw new ImgforgeError('CONTENTS', lines.join('\n'));
  return sizes;
}

/** The boot code file's size: at most the 440 bytes before the MBR's disk signature. */
async function statBootCode(file: string): Promise<{ path: string; size: number }> {
  let stats: Stats;
  try {
    stats = await fsp.stat(file);
    if (stats.isFile()) await fsp.access(file, fsConstants.R_OK);
  } catch (error) {
    throw new ImgforgeError('CONTENTS', `bootCode: ${file}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
  if (!stats.isFile()) throw new ImgforgeError('CONTENTS', `bootCode: ${file}: ${fileKind(stats)}; boot code must be a regular file`);
  if (stats.size > MBR_BOOT_CODE_SIZE) {
    throw new ImgforgeError(
      'CONTENTS',
      `bootCode: ${file} is ${stats.size} bytes; the MBR holds at most ${MBR_BOOT_CODE_SIZE} bytes of boot code (before the disk signature), like syslinux's mbr.bin`,
    );
  }
  return { path: file, size: stats.size };
}

/**
 * A plan and what writing it takes: the layout (the public Plan) and each filesystem laid out in
 * its partition (by 0-based partition index), which the build writes and verify compares with.
 */
export interface ImagePlan {
  layout: Plan;
  filesystems: ReadonlyMap<number, PlannedFilesystem>;
  /** Hash and signature partitions: what the build computes after the data partitions are written. */
  verity: VerityPlan;
}

/**
 * What a build adds to planning: `prepare` runs after the scan and before the layout, to check
 * the tools the filesystems need and make those whose size is only known once made (squashfs).
 */
export interface PlanHooks {
  prepare?: (scanned: ReadonlyMap<number, ScannedFilesystem>) => Promise<void>;
}

/**
 * Reads the contents' sizes and scans the filesystems' source trees, then lays the disk out (see
 * planLayout) and each filesystem in its partition.
 */
export async function planImage(spec: LoadedSpec, options: PlanOptions = {}, hooks: PlanHooks = {}): Promise<ImagePlan> {
  const started = performance.now();
  const contents = await statContents(spec);
  const scanned = scanFilesystems(spec);
  await hooks.prepare?.(scanned);
  const scannedAt = performance.now();
  const layout = planLayout(spec, contents, options, filesystemMinimums(spec, scanned));
  if (spec.bootCode !== undefined) layout.bootCode = await statBootCode(spec.bootCode);
  const filesystems = new Map<number, PlannedFilesystem>();
  for (const [i, filesystem] of scanned) {
    const partition = layout.partitions[i];
    const planned = planFilesystem(i, filesystem, partition.offset, partition.size);
    partition.filesystem = planned.summary;
    filesystems.set(i, planned);
  }
  const verity = planVerity(spec, layout);
  if (options.timings !== undefined) {
    options.timings.scan = scannedAt - started;
    options.timings.plan = performance.now() - scannedAt;
  }
  return { layout, filesystems, verity };
}

/** The layout of a spec, as `imgforge plan` shows it (see planImage). */
export async function plan(spec: LoadedSpec, options: PlanOptions = {}): Promise<Plan> {
  return (await planImage(spec, options)).layout;
}

function contentsSize(partition: PartitionSpec, i: number, contentsSizes: ReadonlyMap<number, number>): number | undefined {
  if (partition.contents === undefined) return undefined;
  const size = contentsSizes.get(i);
  if (size === undefined) {
    throw new ImgforgeError('CONTENTS', `${fieldOf(i, 'contents')}: ${partition.contents}: size unknown (it was not examined)`);
  }
  return size;
}

/**
 * The space each partition needs, with "grow" at its minimum: one sector, or its contents rounded
 * up to a sector.
 */
function minimumSizes(
  spec: LoadedSpec,
  contents: ReadonlyArray<number | undefined>,
  filesystemSizes: ReadonlyMap<number, number>,
): number[] {
  const { sectorSize, alignment } = spec;
  return spec.partitions.map((partition, i) => {
    const bytes = contents[i];
    const filesystem = filesystemSizes.get(i);
    const needed = bytes ?? filesystem;
    if (partition.size === 'grow') return Math.max(sectorSize, alignUp(needed ?? 0, sectorSize));
    if (partition.size === 'auto') {
      if (needed === undefined) throw new ImgforgeError('SPEC_INVALID', `${fieldOf(i, 'size')}: "auto" needs contents or a filesystem`);
      // An empty file still gets a partition: one alignment unit.
      return Math.max(alignment, alignUp(needed, alignment));
    }
    if (!Number.isSafeInteger(partition.size) || partition.size <= 0 || partition.size % sectorSize !== 0) {
      throw new ImgforgeError('SPEC_INVALID', `${fieldOf(i, 'size')}: ${partition.size} is not a positive multiple of sectorSize (${sectorSize})`);
    }
    if (bytes !== undefined && bytes > partition.size) {
      throw new ImgforgeError(
        'CONTENTS',
        `${fieldOf(i, 'contents')}: ${partition.contents} is ${formatBytes(bytes)}, larger than ${fieldOf(i, 'size')} ` +
          `(${formatBytes(partition.size)}); make the partition at least ${formatBytes(alignUp(bytes, alignment))} or use size "auto"`,
      );
    }
    if (filesystem !== undefined && filesystem > partition.size) {
      throw new ImgforgeError(
        'LAYOUT',
        `${fieldOf(i, 'size')}: ${formatBytes(partition.size)} is too small for the partition's ${FILESYSTEM_NAMES[partition.filesystem?.type ?? 'fat32']} filesystem: it needs at least ` +
          `${formatBytes(filesystem)}, ${formatSize(filesystem - partition.size)} more; make it at least ${formatSize(alignUp(filesystem, alignment))} or use size "auto"`,
      );
    }
    return partition.size;
  });
}

const FILESYSTEM_NAMES = { fat32: 'FAT32', erofs: 'EROFS', ext4: 'ext4', squashfs: 'squashfs' } as const;
/**
 * minimumSizes, with hash and signature partitions sized by what they hold: a hash tree's size
 * follows from its data partition's, so the data partitions are sized first (hash and signature
 * partitions at a placeholder byte), then the hash and signature partitions.
 */
function sizesWithVerity(spec: LoadedSpec, contents: ReadonlyArray<number | undefined>, filesystemSizes: ReadonlyMap<number, number>): number[] {
  const written = spec.partitions.flatMap((p, i) => (p.verity !== undefined || p.signature !== undefined ? [i] : []));
  if (written.length === 0) return minimumSizes(spec, contents, filesystemSizes);
  const first = minimumSizes(spec, contents, new Map([...filesystemSizes, ...written.map((i) => [i, 1] as const)]));
  return minimumSizes(spec, contents, new Map([...filesystemSizes, ...verityNeeds(spec, first)]));
}

function checkGeometry(spec: LoadedSpec): void {
  if (spec.sectorSize !== 512 && spec.sectorSize !== 4096) {
    throw new ImgforgeError('SPEC_INVALID', `sectorSize: expected 512 or 4096, got ${spec.sectorSize}`);
  }
  if (!isPowerOfTwo(spec.alignment) || spec.alignment % spec.sectorSize !== 0) {
    throw new ImgforgeError('SPEC_INVALID', `alignment: expected a power of two that is a multiple of sectorSize (${spec.sectorSize}), got ${spec.alignment}`);
  }
  if (spec.partitions.length === 0 || spec.partitions.length > 128) {
    throw new ImgforgeError('SPEC_INVALID', `partitions: expected 1 to 128 partitions, got ${spec.partitions.length}`);
  }
}

/** Chooses the disk size: the override, the spec's size, or for "auto" the smallest that fits. */
function chooseDiskSize(spec: LoadedSpec, minimalEnd: number, options: PlanOptions, table: TableKind): { size: number; field: string } {
  const growIndex = spec.partitions.findIndex((p) => p.size === 'grow');
  if (options.diskSize !== undefined) {
    const size = options.diskSize;
    if (!Number.isSafeInteger(size) || size <= 0 || size % spec.sectorSize !== 0) {
      throw new ImgforgeError('LAYOUT', `disk size ${size} is not a positive multiple of sectorSize (${spec.sectorSize})`);
    }
    return { size, field: 'disk size' };
  }
  if (spec.size === 'auto') {
    if (growIndex >= 0) {
      throw new ImgforgeError(
        'LAYOUT',
        `${fieldOf(growIndex, 'size')}: "grow" needs an explicit disk size (set size, e.g. size: 8GiB, or write to a block device); ` +
          'with size "auto" the disk is only as large as the partitions',
      );
    }
    return { size: alignUp(minimalDiskSize(minimalEnd, spec.sectorSize, table), options.autoSizeMultiple ?? spec.sectorSize), field: 'size' };
  }
  if (!Number.isSafeInteger(spec.size) || spec.size <= 0 || spec.size % spec.sectorSize !== 0) {
    throw new ImgforgeError('SPEC_INVALID', `size: ${spec.size} is not a positive multiple of sectorSize (${spec.sectorSize})`);
  }
  return { size: spec.size, field: 'size' };
}

function notFitting(spec: LoadedSpec, extents: readonly Extent[], diskSize: number, field: string, end: number): ImgforgeError {
  const { sectorSize } = spec;
  const overflow = extents.findIndex((e) => e.offset + e.size > end);
  const lastEnd = extentsEnd(extents, 0);
  // The exact minimum, sector-granular; "auto" would round this up to 4 KiB.
  const needed = lastEnd + (diskSize - end);
  const culprit =
    overflow >= 0
      ? `partitions[${overflow}] (${JSON.stringify(spec.partitions[overflow].name)}) would end at byte ${extents[overflow].offset + extents[overflow].size}, ` +
        `past the end of the usable space at byte ${end}`
      : 'the GPT itself does not fit';
  const grow = spec.partitions.findIndex((p) => p.size === 'grow');
  const growNote = grow >= 0 ? ` (counting ${fieldOf(grow, 'size')} "grow" at its minimum of ${formatBytes(extents[grow].size)})` : '';
  return new ImgforgeError(
    'LAYOUT',
    `${field}: the partitions do not fit on a disk of ${formatBytes(diskSize)}: ${culprit}; ${formatBytes(needed - diskSize)} missing${growNote}. ` +
      `The smallest disk that holds them is ${formatBytes(needed)} (with sectorSize ${sectorSize})`,
  );
}

/** Disk GUID first, then the partitions' GUIDs; all distinct. */
function assignGuids(spec: LoadedSpec): { diskGuid: string; partitionGuids: string[] } {
  const make = (explicit: string | undefined, purpose: string) =>
    explicit !== undefined ? explicit.toUpperCase() : spec.seed !== undefined ? deriveGuid(spec.seed, purpose) : randomGuid();
  const diskGuid = make(spec.diskGuid, DISK_GUID_PURPOSE);
  const partitionGuids = spec.partitions.map((p) => make(p.guid, partitionGuidPurpose(p.name)));

  const owners = new Map<string, string>([[diskGuid, 'diskGuid']]);
  partitionGuids.forEach((guid, i) => {
    const field = fieldOf(i, 'guid');
    if (!isGuid(guid)) throw new ImgforgeError('SPEC_INVALID', `${field}: not a GUID: ${JSON.stringify(guid)}`);
    const owner = owners.get(guid);
    if (owner !== undefined) {
      // Only reachable with an explicit GUID that equals a derived one (or a hand-built spec).
      throw new ImgforgeError('SPEC_INVALID', `${field}: ${guid} is also the GUID of ${owner}; every GUID on the disk must be unique`);
    }
    owners.set(guid, field);
  });
  return { diskGuid, partitionGuids };
}

/**
 * Lays the disk out. Pure: `contentsSizes` maps 0-based partition indexes to their contents' sizes,
 * `filesystemSizes` to the smallest partition their filesystem fits in.
 * Partitions are placed in spec order, each at the first aligned offset after the previous one;
 * "auto" partitions take their contents rounded up to the alignment, "grow" takes what the others
 * leave. "auto" disks are the smallest multiple of 4096 bytes that holds the partitions and the
 * backup GPT.
 */
export function planLayout(
  spec: LoadedSpec,
  contentsSizes: ReadonlyMap<number, number>,
  options: PlanOptions = {},
  filesystemSizes: ReadonlyMap<number, number> = new Map(),
): Plan {
  checkGeometry(spec);
  const { sectorSize, alignment } = spec;
  const table = spec.table ?? 'gpt';
  const contents = spec.partitions.map((p, i) => contentsSize(p, i, contentsSizes));
  const minSizes = sizesWithVerity(spec, contents, filesystemSizes);
  const mbr = table === 'mbr' ? assignMbrRecords(spec.partitions.map((p) => p.primary === true)) : undefined;
  // Each logical partition is placed after its EBR: one sector at an aligned start, as fdisk does.
  const items = layoutItems(spec.partitions.length, (i) => mbr?.records[i].logical === true);
  const itemSizes = (sizes: readonly number[]) => items.map((item) => (item.ebrOf !== undefined ? sectorSize : sizes[item.partition]));
  const start = firstPartitionOffset(sectorSize, alignment, table);
  const minimal = placeSequentially(itemSizes(minSizes), start, alignment);
  const partitionExtents = (extents: readonly Extent[]) => items.flatMap((item, k) => (item.ebrOf === undefined ? [extents[k]] : []));

  const disk = chooseDiskSize(spec, extentsEnd(minimal, start), options, table);
  const totalSectors = disk.size / sectorSize;
  const end = usableEnd(totalSectors, sectorSize, table);
  if (lastUsableLba(totalSectors, sectorSize, table) < firstUsableLba(sectorSize, table) || extentsEnd(minimal, start) > end) {
    throw notFitting(spec, partitionExtents(minimal), disk.size, disk.field, end);
  }

  const growIndex = spec.partitions.findIndex((p) => p.size === 'grow');
  const sizes = [...minSizes];
  if (growIndex >= 0) {
    const growItem = items.findIndex((item) => item.ebrOf === undefined && item.partition === growIndex);
    const growStart = minimal[growItem].offset;
    sizes[growIndex] = growSize(growStart, itemSizes(minSizes).slice(growItem + 1), end, alignment, minSizes[growIndex]);
  }
  const placed = placeSequentially(itemSizes(sizes), start, alignment);
  if (extentsEnd(placed, start) > end || (growIndex >= 0 && sizes[growIndex] < minSizes[growIndex])) {
    throw notFitting(spec, partitionExtents(minimal), disk.size, disk.field, end); // unreachable if the minimal layout fits
  }
  const extents = partitionExtents(placed);
  const ebrs = new Map(items.flatMap((item, k) => (item.ebrOf !== undefined ? [[item.ebrOf, placed[k].offset / sectorSize] as const] : [])));

  const { diskGuid, partitionGuids } = table === 'mbr' ? { diskGuid: undefined, partitionGuids: [] } : assignGuids(spec);
  const diskId = table === 'gpt' ? undefined : formatDiskId(chooseDiskId(spec.diskId, spec.seed));
  const partitions = spec.partitions.map((p, i) => {
    const { offset, size } = extents[i];
    const bytes = contents[i];
    const name = p.type.name ?? typeName(p.type.guid);
    const inMbr = table === 'mbr' || (table === 'hybrid' && p.hybrid === true);
    const mbrType = inMbr ? defaultMbrType(p, name) : undefined;
    if (inMbr && mbrType === undefined) {
      throw new ImgforgeError('SPEC_INVALID', `${fieldOf(i, 'mbrType')}: required under table: ${table}: no MBR type follows from type ${p.type.guid}; set one, e.g. mbrType: 0x83`);
    }
    const firstLba = offset / sectorSize;
    const lastLba = (offset + size) / sectorSize - 1;
    const limit = inMbr ? mbrLimitProblem(firstLba, lastLba, sectorSize) : undefined;
    if (limit !== undefined) {
      throw new ImgforgeError('LAYOUT', `${fieldOf(i, 'size')}: partition ${JSON.stringify(p.name)} ${limit}; make the disk or the partition smaller, or use table: gpt`);
    }
    // Keys without a value are left out, so the object and its JSON (plan --json) have the same keys.
    return {
      index: mbr !== undefined ? mbr.records[i].index : i + 1,
      name: p.name,
      type: p.type.guid.toUpperCase(),
      ...(name !== undefined ? { typeName: name } : {}),
      ...(table !== 'mbr' ? { guid: partitionGuids[i] } : {}),
      ...(mbrType !== undefined ? { mbrType, bootable: p.bootable === true } : {}),
      ...(mbr !== undefined ? { logical: mbr.records[i].logical, ...(mbr.records[i].logical ? { ebrLba: ebrs.get(i) } : {}) } : {}),
      attributes: attributeNames(p.attributes),
      firstLba,
      lastLba,
      offset,
      size,
      ...(p.contents !== undefined && bytes !== undefined ? { contents: { path: p.contents, size: bytes } } : {}),
    };
  });
  return {
    table,
    sectorSize,
    diskSize: disk.size,
    totalSectors,
    ...(diskGuid !== undefined ? { diskGuid } : {}),
    ...(diskId !== undefined ? { diskId } : {}),
    firstUsableLba: firstUsableLba(sectorSize, table),
    lastUsableLba: lastUsableLba(totalSectors, sectorSize, table),
    alignment,
    partitions,
  };
}

/** What the layout places, in disk order: each partition, preceded by its EBR when it is logical. */
function layoutItems(count: number, isLogical: (i: number) => boolean): Array<{ partition: number; ebrOf: number | undefined }> {
  return Array.from({ length: count }, (_, i) => i).flatMap((i) =>
    isLogical(i) ? [{ partition: i, ebrOf: i }, { partition: i, ebrOf: undefined }] : [{ partition: i, ebrOf: undefined }],
  );
}
