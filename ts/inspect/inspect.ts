/**
 * `imgforge inspect`: reads an image's partition tables and what each partition holds, through the
 * Rust readers (crates/gpt, crates/fat32, crates/erofs), and collects every problem they find as a
 * finding.
 */
import { ImgforgeError } from '../errors';
import { native, type ErofsReport, type Fat32Report, type PartitionTable } from '../native';
import { typeName } from '../spec/partition-types';
import { ATTRIBUTE_BITS } from '../spec/schema';
import { formatVolumeId } from '../plan/filesystem';
import { formatDiskId } from '../plan/mbr';
import { openImage, readAt, unreadable, withImage, type ImageFile } from './image';
import { detectContents, SIGNATURE_BYTES } from './signatures';
import type { ErofsContents, Fat32Contents, FileEntry, Finding, InspectedPartition, InspectReport, InspectOptions, PartitionContents } from '../types';








const NAMES_BY_BIT: ReadonlyMap<number, string> = new Map([...ATTRIBUTE_BITS].map(([name, bit]) => [bit, name]));

export function attributeNames(attributes: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((attributes >> BigInt(bit)) & 1n) names.push(NAMES_BY_BIT.get(bit) ?? String(bit));
  }
  return names;
}

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

function contents(fat: Fat32Report | null, erofs: ErofsReport | null, head: Buffer): PartitionContents {
  if (fat) return fat32Contents(fat);
  if (erofs) return erofsContents(erofs);
  const kind = detectContents(head);
  // The EROFS magic without a readable superblock (a partition cut short).
  return { type: kind === 'erofs' ? 'unknown' : kind };
}

/** "2023-11-14 22:13:20", with ".000000001" when the time has nanoseconds. */
function formatPreciseTimestamp(seconds: number): string {
  const whole = Math.floor(seconds);
  const nanoseconds = Math.round((seconds - whole) * 1e9);
  return `${formatTimestamp(whole)}${nanoseconds > 0 ? `.${String(nanoseconds).padStart(9, '0')}` : ''}`;
}

function listFiles(image: ImageFile, type: PartitionContents['type'], offset: number, length: number): FileEntry[] {
  const binding = native();
  if (type === 'erofs') {
    const listed = binding.readErofs(image.path, offset, length, true);
    return (listed?.entries ?? []).map((e) => ({
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
  const listed = binding.readFat32(image.path, offset, length, true);
  return (listed?.entries ?? []).map((e) => ({ path: e.path, kind: e.kind, size: e.size, modified: formatTimestamp(e.modified ?? undefined) }));
}

function readPartitions(image: ImageFile, table: PartitionTable, fd: number, wantFiles: InspectOptions['files']): { partitions: InspectedPartition[]; findings: Finding[] } {
  const binding = native();
  const findings: Finding[] = [];
  const partitions: InspectedPartition[] = table.partitions.map((p) => {
    const inside = p.offset < image.size && p.size > 0;
    const head = inside ? readAt(fd, p.offset, Math.min(SIGNATURE_BYTES, p.size)) : Buffer.alloc(0);
    const length = Math.min(p.size, image.size - p.offset);
    const fat = inside ? binding.readFat32(image.path, p.offset, length, false) : null;
    const erofs = inside && fat === null ? binding.readErofs(image.path, p.offset, length, false) : null;
    for (const finding of fat?.findings ?? erofs?.findings ?? []) findings.push({ ...finding, partition: p.index });
    return {
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
      contents: contents(fat, erofs, head),
    };
  });
  for (const index of selectForFiles(partitions, wantFiles)) {
    const partition = partitions.find((p) => p.index === index)!;
    const length = Math.min(partition.size, image.size - partition.offset);
    partition.files = listFiles(image, partition.contents.type, partition.offset, length);
  }
  return { partitions, findings };
}

/** Reads `imagePath` (a file or a block device) without changing it. */
export function inspect(imagePath: string, options: InspectOptions = {}): InspectReport {
  const image = openImage(imagePath);
  const binding = native();
  let table: PartitionTable;
  try {
    table = binding.readPartitionTable(image.path, image.sectorSize);
  } catch (error) {
    throw unreadable(image.path, error);
  }
  const { partitions, findings } = withImage(image, (fd) => readPartitions(image, table, fd, options.files));
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
