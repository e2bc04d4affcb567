/**
 * `imgforge inspect`: reads an image's partition tables and what each partition holds, through the
 * Rust readers (crates/gpt, crates/fat32, crates/erofs; crates/fs-probe for the superblocks of ext4
 * and squashfs), and collects every problem they find as a finding.
 */
import { ImgforgeError } from '../errors';
import { verityContents } from './verity';
import { native, type ErofsReport, type Ext4Report, type Fat32Report, type PartitionTable, type SquashfsReport } from '../native';
import { typeName } from '../spec/partition-types';
import { attributeNames } from '../spec/attributes';
import { formatVolumeId } from '../plan/filesystem';
import { formatDiskId } from '../plan/mbr';
import { openImage, readAt, readAtAsync, unreadable, withImage, withImageAsync, type ImageFile } from './image';
import { detectContents, SIGNATURE_BYTES } from './signatures';
import type { ErofsContents, Ext4Contents, Fat32Contents, FileEntry, Finding, InspectedPartition, InspectReport, InspectOptions, PartitionContents, SquashfsContents } from '../types';

function fat32Contents(report: Fat32Report): Fat32Contents {
  return {
    type: 'fat32',
    label: report.label ?? undefined,
    volumeId: formatVolumeId(report.volumeId),
    bytesPerSector: report.bytesPerSector,
    clusterSize: report.clusterSize,
    clusters: report.clusters,
    usedClusters: report.usedClusters,
    freeClusters: report.freeClusters,
    directories: report.directories,
    files: report.files,
    fileBytes: report.fileBytes,
  };
}

function erofsContents(report: ErofsReport): ErofsContents {
  return {
    type: 'erofs',
    label: report.label ?? undefined,
    uuid: report.uuid,
    blockSize: report.blockSize,
    inodes: report.inodes,
    size: report.usedBytes,
    directories: report.directories,
    files: report.files,
    symlinks: report.symlinks,
    specials: report.specials,
    fileBytes: report.fileBytes,
    compressedFiles: report.compressedFiles,
  };
}

function ext4Contents(report: Ext4Report): Ext4Contents {
  return {
    type: report.kind,
    label: report.label ?? undefined,
    uuid: report.uuid,
    blockSize: report.blockSize,
    size: report.sizeBytes,
    usedBytes: report.usedBytes,
    inodes: report.inodes,
    freeInodes: report.freeInodes,
    hashSeed: report.hashSeed,
    features: report.features,
    clean: report.clean,
  };
}

function squashfsContents(report: SquashfsReport): SquashfsContents {
  return {
    type: 'squashfs',
    version: report.version,
    compression: report.compression,
    blockSize: report.blockSize,
    size: report.bytesUsed,
    inodes: report.inodes,
    flags: report.flags,
    created: formatTimestamp(report.created)!,
  };
}

/** FAT stores local time without a zone; imgforge writes UTC, so it is shown as UTC: "2023-11-14 22:13:20". */
function formatTimestamp(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  return new Date(Math.floor(seconds) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** Names of common MBR partition type bytes. */
const MBR_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, 'fat12'],
  [0x04, 'fat16'],
  [0x06, 'fat16'],
  [0x07, 'ntfs/exfat'],
  [0x0b, 'fat32'],
  [0x0c, 'fat32-lba'],
  [0x0e, 'fat16-lba'],
  [0x05, 'extended'],
  [0x0f, 'extended-lba'],
  [0x82, 'linux-swap'],
  [0x83, 'linux'],
  [0x8e, 'linux-lvm'],
  [0xee, 'gpt-protective'],
  [0xef, 'esp'],
  [0xfd, 'linux-raid'],
]);

/** Filesystems whose trees `--files` lists. */
const LISTED = new Set(['fat32', 'erofs']);

/** Which partitions get their files listed; an unknown selector is a usage error. */
function selectForFiles(partitions: readonly InspectedPartition[], files: InspectOptions['files']): Set<number> {
  if (files === undefined || files === false) return new Set();
  if (files === true) return new Set(partitions.filter((p) => LISTED.has(p.contents.type)).map((p) => p.index));
  const selector = files.trim();
  const match = partitions.find((p) => String(p.index) === selector) ?? partitions.find((p) => p.name === selector);
  if (match === undefined) {
    const known = partitions.map((p) => `${p.index}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none';
    throw new ImgforgeError('USAGE', `--files ${selector}: no such partition; the image has ${known}`);
  }
  if (!LISTED.has(match.contents.type)) {
    throw new ImgforgeError('USAGE', `--files ${selector}: partition ${match.index} holds ${match.contents.type}; only FAT32 and EROFS trees can be listed`);
  }
  return new Set([match.index]);
}

/** What the readers found in a partition: at most one of them gives a report. */
interface Reports {
  fat: Fat32Report | null;
  erofs: ErofsReport | null;
  ext4: Ext4Report | null;
  squashfs: SquashfsReport | null;
}

function contents(reports: Reports, head: Buffer): PartitionContents {
  if (reports.fat) return fat32Contents(reports.fat);
  if (reports.erofs) return erofsContents(reports.erofs);
  if (reports.ext4) return ext4Contents(reports.ext4);
  if (reports.squashfs) return squashfsContents(reports.squashfs);
  const verity = verityContents(head);
  if (verity !== undefined) return verity;
  const kind = detectContents(head);
  // A signature whose superblock a reader could not read (a partition cut short).
  if (kind === 'erofs' || kind === 'ext2' || kind === 'ext3' || kind === 'ext4' || kind === 'squashfs') return { type: 'unknown' };
  return { type: kind };
}

/** "2023-11-14 22:13:20", with ".000000001" when the time has nanoseconds. */
function formatPreciseTimestamp(seconds: number): string {
  const whole = Math.floor(seconds);
  const nanoseconds = Math.round((seconds - whole) * 1e9);
  return `${formatTimestamp(whole)}${nanoseconds > 0 ? `.${String(nanoseconds).padStart(9, '0')}` : ''}`;
}

/** A read the inspection asks for: the table, a partition's first bytes, or a filesystem. */
type Read =
  | { read: 'table'; sectorSize: number | undefined }
  | { read: 'head'; offset: number; length: number }
  | { read: 'fat32' | 'erofs'; offset: number; length: number; withFiles: boolean }
  | { read: 'ext4' | 'squashfs'; offset: number; length: number };

/**
 * An inspection as a sequence of reads: it yields each read it needs and is resumed with the
 * result, so that inspectSync and inspect run the same steps, with blocking reads or with reads on
 * worker threads.
 */
function* inspection(image: ImageFile, options: InspectOptions): Generator<Read, InspectReport, unknown> {
  const table = (yield { read: 'table', sectorSize: image.sectorSize }) as PartitionTable;
  const findings: Finding[] = [];
  const partitions: InspectedPartition[] = [];
  for (const p of table.partitions) {
    const inside = p.offset < image.size && p.size > 0;
    const length = Math.min(p.size, image.size - p.offset);
    const head = inside ? ((yield { read: 'head', offset: p.offset, length: Math.min(SIGNATURE_BYTES, p.size) }) as Buffer) : Buffer.alloc(0);
    const fat = inside ? ((yield { read: 'fat32', offset: p.offset, length, withFiles: false }) as Fat32Report | null) : null;
    const erofs = inside && fat === null ? ((yield { read: 'erofs', offset: p.offset, length, withFiles: false }) as ErofsReport | null) : null;
    // ext4 and squashfs superblocks are probed where their signature is.
    const signature = inside && fat === null && erofs === null ? detectContents(head) : 'empty';
    const isExt = signature === 'ext2' || signature === 'ext3' || signature === 'ext4';
    const ext4 = isExt ? ((yield { read: 'ext4', offset: p.offset, length }) as Ext4Report | null) : null;
    const squashfs = signature === 'squashfs' ? ((yield { read: 'squashfs', offset: p.offset, length }) as SquashfsReport | null) : null;
    for (const finding of fat?.findings ?? erofs?.findings ?? ext4?.findings ?? squashfs?.findings ?? []) findings.push({ ...finding, partition: p.index });
    partitions.push({
      index: p.index,
      name: p.name,
      type: p.typeGuid,
      typeName: p.mbrType !== null ? MBR_TYPE_NAMES.get(p.mbrType) : typeName(p.typeGuid),
      guid: p.guid ?? undefined,
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      offset: p.offset,
      size: p.size,
      attributes: attributeNames(BigInt(p.attributes)),
      ...(p.mbrType !== null ? { bootable: p.bootable, logical: p.logical } : {}),
      contents: contents({ fat, erofs, ext4, squashfs }, head),
    });
  }
  for (const index of selectForFiles(partitions, options.files)) {
    const partition = partitions.find((p) => p.index === index)!;
    const length = Math.min(partition.size, image.size - partition.offset);
    const type = partition.contents.type === 'erofs' ? 'erofs' : 'fat32';
    const listed = (yield { read: type, offset: partition.offset, length, withFiles: true }) as Fat32Report | ErofsReport | null;
    partition.files = listFiles(type, listed);
  }
  const kind: InspectReport['table'] = table.gpt ? 'gpt' : table.partitions.length > 0 ? 'mbr' : 'none';
  return {
    image: image.path,
    kind: image.kind,
    size: image.size,
    sectorSize: table.sectorSize,
    table: kind,
    mbr: { ...table.mbr, diskId: formatDiskId(table.mbr.diskId) },
    gpt: table.gpt,
    partitions,
    findings: [...table.findings, ...findings],
  };
}

function listFiles(type: 'fat32' | 'erofs', listed: Fat32Report | ErofsReport | null): FileEntry[] {
  if (type === 'erofs') {
    return ((listed as ErofsReport | null)?.entries ?? []).map((e) => ({
      path: e.path,
      kind: e.kind,
      size: e.size,
      modified: formatPreciseTimestamp(e.modified),
      mode: e.mode.toString(8).padStart(4, '0'),
      uid: e.uid,
      gid: e.gid,
      nlink: e.nlink,
      ...(e.target !== null && e.target !== undefined ? { target: e.target } : {}),
    }));
  }
  return ((listed as Fat32Report | null)?.entries ?? []).map((e) => ({ path: e.path, kind: e.kind, size: e.size, modified: formatTimestamp(e.modified ?? undefined) }));
}

/** The table's read failing is the image being unreadable, whatever the reader says. */
function tableRead<T>(image: ImageFile, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw unreadable(image.path, error);
  }
}

/** Reads `imagePath` (a file or a block device) without changing it, blocking until it is done. */
export function inspectSync(imagePath: string, options: InspectOptions = {}): InspectReport {
  const image = openImage(imagePath);
  const binding = native();
  return withImage(image, (fd) => {
    const steps = inspection(image, options);
    let next = steps.next();
    while (!next.done) {
      const step = next.value;
      const result =
        step.read === 'table'
          ? tableRead(image, () => binding.readPartitionTable(image.path, step.sectorSize))
          : step.read === 'head'
            ? readAt(fd, step.offset, step.length)
            : step.read === 'fat32'
              ? binding.readFat32(image.path, step.offset, step.length, step.withFiles)
              : step.read === 'erofs'
                ? binding.readErofs(image.path, step.offset, step.length, step.withFiles)
                : step.read === 'ext4'
                  ? binding.readExt4(image.path, step.offset, step.length)
                  : binding.readSquashfs(image.path, step.offset, step.length);
      next = steps.next(result);
    }
    return next.value;
  });
}

/**
 * Reads `imagePath` (a file or a block device) without changing it; the table and filesystem
 * reads run on worker threads (the native readers' async variants), so the event loop goes on.
 */
export async function inspect(imagePath: string, options: InspectOptions = {}): Promise<InspectReport> {
  const image = openImage(imagePath);
  const binding = native();
  return withImageAsync(image, async (handle) => {
    const steps = inspection(image, options);
    let next = steps.next();
    while (!next.done) {
      const step = next.value;
      let result: unknown;
      if (step.read === 'table') {
        try {
          result = await binding.readPartitionTableAsync(image.path, step.sectorSize);
        } catch (error) {
          throw unreadable(image.path, error);
        }
      } else if (step.read === 'head') result = await readAtAsync(handle, step.offset, step.length);
      else if (step.read === 'fat32') result = await binding.readFat32Async(image.path, step.offset, step.length, step.withFiles);
      else if (step.read === 'erofs') result = await binding.readErofsAsync(image.path, step.offset, step.length, step.withFiles);
      else if (step.read === 'ext4') result = await binding.readExt4Async(image.path, step.offset, step.length);
      else result = await binding.readSquashfsAsync(image.path, step.offset, step.length);
      next = steps.next(result);
    }
    return next.value;
  });
}
