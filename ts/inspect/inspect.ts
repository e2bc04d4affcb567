/**
 * `imgforge inspect`: reads an image's partition tables and what each partition holds, through the
 * Rust readers (crates/gpt, crates/fat32), and collects every problem they find as a finding.
 */
import { ImgforgeError } from '../errors';
import { native, type Fat32Report, type PartitionTable } from '../native';
import { typeName } from '../spec/partition-types';
import { ATTRIBUTE_BITS } from '../spec/schema';
import { formatVolumeId } from '../plan/filesystem';
import { openImage, readAt, unreadable, withImage, type ImageFile } from './image';
import { detectContents, SIGNATURE_BYTES } from './signatures';
import type { FilesystemSummary, ContentsKind, Finding, Fat32Contents, InspectedPartition, InspectReport, InspectOptions } from '../types';








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

/** FAT stores local time without a zone; imgforge writes UTC, so it is shown as UTC: "2023-11-14 22:13:20". */
function formatTimestamp(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
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

/** Which partitions get their files listed; an unknown selector is a usage error. */
function selectForFiles(partitions: readonly InspectedPartition[], files: InspectOptions['files']): Set<number> {
  if (files === undefined || files === false) return new Set();
  const fat = partitions.filter((p) => p.contents.type === 'fat32');
  if (files === true) return new Set(fat.map((p) => p.index));
  const selector = files.trim();
  const match = partitions.find((p) => String(p.index) === selector) ?? partitions.find((p) => p.name === selector);
  if (match === undefined) {
    const known = partitions.map((p) => `${p.index}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none';
    throw new ImgforgeError('USAGE', `--files ${selector}: no such partition; the image has ${known}`);
  }
  if (match.contents.type !== 'fat32') {
    throw new ImgforgeError('USAGE', `--files ${selector}: partition ${match.index} holds ${match.contents.type}, not FAT32; only FAT32 trees can be listed`);
  }
  return new Set([match.index]);
}

function readPartitions(image: ImageFile, table: PartitionTable, fd: number, wantFiles: InspectOptions['files']): { partitions: InspectedPartition[]; findings: Finding[] } {
  const binding = native();
  const findings: Finding[] = [];
  const partitions: InspectedPartition[] = table.partitions.map((p) => {
    const inside = p.offset < image.size && p.size > 0;
    const head = inside ? readAt(fd, p.offset, Math.min(SIGNATURE_BYTES, p.size)) : Buffer.alloc(0);
    const fat = inside ? binding.readFat32(image.path, p.offset, Math.min(p.size, image.size - p.offset), false) : null;
    for (const finding of fat?.findings ?? []) findings.push({ ...finding, partition: p.index });
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
      contents: fat ? fat32Contents(fat) : { type: detectContents(head) },
    };
  });
  for (const index of selectForFiles(partitions, wantFiles)) {
    const partition = partitions.find((p) => p.index === index)!;
    const length = Math.min(partition.size, image.size - partition.offset);
    const listed = binding.readFat32(image.path, partition.offset, length, true);
    partition.files = (listed?.entries ?? []).map((e) => ({ path: e.path, kind: e.kind, size: e.size, modified: formatTimestamp(e.modified) }));
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
    mbr: table.mbr,
    gpt: table.gpt,
    partitions,
    findings: [...table.findings, ...findings],
  };
}
