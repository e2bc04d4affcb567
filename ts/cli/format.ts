import * as path from 'node:path';
import { formatSize } from '../units';
import { diskBar, diskRegions, partitionMark } from './disk-bar';
import type { Plan, PlannedPartition, BuildResult } from '../types';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function describeContents(p: PlannedPartition, specDir: string | undefined): string {
  if (p.contents) {
    const shown = specDir !== undefined ? path.relative(specDir, p.contents.path) || '.' : p.contents.path;
    return `${shown} (${formatSize(p.contents.size)})`;
  }
  if (p.verity) {
    const v = p.verity;
    const signed = v.signature !== undefined ? ` -> signed by ${v.signature}` : '';
    return `verity hash of ${v.data}${signed}: ${v.hashAlgorithm}, ${v.dataBlocks} blocks of ${formatSize(v.dataBlockSize)}, tree ${formatSize(v.hashAreaSize)}`;
  }
  if (p.signature) return `verity signature of ${p.signature.verity} (certificate SHA-256 ${p.signature.certificateFingerprint.slice(0, 16)}...)`;
  const fs = p.filesystem;
  if (fs?.type === 'erofs') {
    const label = fs.label !== undefined ? ` "${fs.label}"` : '';
    return `EROFS${label}: ${fs.files} files, ${fs.inodes} inodes, ${formatSize(fs.fileBytes)} of file data; ${formatSize(fs.size)} in all`;
  }
  if (fs?.type === 'ext4') {
    const label = fs.label !== undefined ? ` "${fs.label}"` : '';
    const size = `${fs.estimated ? 'about ' : ''}${formatSize(fs.size)}`;
    return `ext4${label}: ${fs.files} files, ${formatSize(fs.fileBytes)} of file data; ${fs.inodes} inodes, ${size} (mkfs.ext4)`;
  }
  if (fs?.type === 'squashfs') {
    const size = fs.estimated ? `at most ${formatSize(fs.size)} (known once mksquashfs ran)` : formatSize(fs.size);
    return `squashfs (${fs.compression}): ${fs.files} files, ${formatSize(fs.fileBytes)} of file data; ${size}`;
  }
  if (fs?.type === 'fat32') {
    const label = fs.label !== undefined ? ` "${fs.label}"` : '';
    return (
      `FAT32${label}: ${fs.files} files in ${fs.directories} folders, ${formatSize(fs.fileBytes)}; ` +
      `${formatSize(fs.clusterSize)} clusters, ${formatSize(fs.freeClusters * fs.clusterSize)} free`
    );
  }
  return '-';
}

export interface PictureOptions {
  /** Columns of the bar (the terminal's width, or 80). */
  width: number;
  /** ANSI colours (a terminal without NO_COLOR). */
  color: boolean;
}

/** Partitions as the bar sees them. */
interface Slice {
  index: number;
  name: string;
  offset: number;
  size: number;
}

/**
 * The bar of a disk and its legend: each partition's mark, name and size, and the free space.
 * Free stretches shorter than `minFree` (alignment padding) are not drawn.
 */
export function diskPicture(slices: readonly Slice[], usableStart: number, usableEnd: number, minFree: number, options: PictureOptions): string {
  const regions = diskRegions(slices, usableStart, usableEnd, minFree);
  const names = new Map(slices.map((s) => [s.index, s.name]));
  const legend = regions.map((r) =>
    r.index === undefined ? `· free ${formatSize(r.size)}` : `${partitionMark(r.index)} ${names.get(r.index) || '-'} ${formatSize(r.size)}`,
  );
  const lines = [diskBar(regions, options.width, options.color)];
  let line = '';
  for (const item of legend) {
    if (line !== '' && line.length + 3 + item.length > options.width) {
      lines.push(line);
      line = '';
    }
    line += line === '' ? item : `   ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/** Which table the plan writes, and the disk's identifiers. */
function tableLines(layout: Plan): string[] {
  const boot = layout.bootCode !== undefined ? `, ${layout.bootCode.size} bytes of boot code` : '';
  switch (layout.table) {
    case 'mbr': {
      const logical = layout.partitions.filter((p) => p.logical).length;
      const extended = logical > 0 ? `, ${logical} logical in an extended partition` : '';
      return [`partition table: MBR (DOS)${extended}${boot}`, `disk id: ${layout.diskId}`];
    }
    case 'hybrid':
      return [`partition table: GPT with a hybrid MBR (${layout.partitions.filter((p) => p.mbrType !== undefined).length} mirrored + 0xEE)${boot}`, `disk GUID: ${layout.diskGuid}`, `MBR disk id: ${layout.diskId}`];
    default:
      return [`disk GUID: ${layout.diskGuid}`];
  }
}

/** The layout as a picture and a table, for `imgforge plan`; paths relative to `specDir`. */
export function formatPlan(layout: Plan, specDir?: string, picture: PictureOptions = { width: 80, color: false }): string {
  const sector = layout.sectorSize;
  const usableStart = layout.firstUsableLba * sector;
  const usableEnd = (layout.lastUsableLba + 1) * sector;
  const header = [
    `disk: ${formatSize(layout.diskSize)} (${layout.diskSize} bytes, ${layout.totalSectors} sectors of ${layout.sectorSize} bytes)`,
    ...tableLines(layout),
    `usable LBAs: ${layout.firstUsableLba}-${layout.lastUsableLba}, alignment ${formatSize(layout.alignment)}`,
    '',
    diskPicture(layout.partitions, usableStart, usableEnd, layout.alignment, picture),
    '',
  ];
  const rows = [['#', 'name', 'type', 'start', 'end', 'size', 'attributes', 'contents']];
  for (const region of diskRegions(layout.partitions, usableStart, usableEnd, layout.alignment)) {
    const p = layout.partitions.find((q) => q.index === region.index);
    const end = formatSize(region.start + region.size);
    if (p === undefined) {
      // A logical partition's EBR is one sector at the start of the gap before it.
      const ebr = layout.partitions.find((q) => q.ebrLba !== undefined && q.ebrLba * sector >= region.start && q.ebrLba * sector < region.start + region.size);
      const what = ebr !== undefined ? `(EBR of ${ebr.index}, free)` : '(free)';
      rows.push(['', what, '', formatSize(region.start), end, formatSize(region.size), '', '']);
      continue;
    }
    rows.push([
      String(p.index),
      p.name,
      p.mbrType !== undefined ? `${p.typeName ?? p.type} (0x${p.mbrType.toString(16).padStart(2, '0')})` : (p.typeName ?? p.type),
      formatSize(p.offset),
      end,
      formatSize(p.size),
      [...p.attributes, ...(p.bootable === true ? ['bootable'] : []), ...(p.logical === true ? ['logical'] : [])].join(',') || '-',
      describeContents(p, specDir),
    ]);
  }
  return `${header.join('\n')}\n${table(rows)}`;
}

export function formatBuildResult(result: BuildResult): string {
  const { copyFileRangeBytes, readWriteBytes, holeBytes } = result.copy;
  const count = result.partitions.length;
  const lines = [
    `wrote ${result.output} (${formatSize(result.diskSize)}, ${count} partition${count === 1 ? '' : 's'}) in ${(result.elapsedMs / 1000).toFixed(2)} s`,
  ];
  if (copyFileRangeBytes + readWriteBytes + holeBytes > 0) {
    lines.push(
      `  contents: ${formatSize(copyFileRangeBytes)} by copy_file_range, ${formatSize(readWriteBytes)} by read/write, ` +
        `${formatSize(holeBytes)} of holes left as holes`,
    );
  }
  for (const p of result.partitions) {
    if (p.verity?.rootHash !== undefined) lines.push(`  verity: ${p.verity.data} -> ${p.name}${p.verity.signature !== undefined ? ` -> ${p.verity.signature}` : ''}: root hash ${p.verity.rootHash}`);
  }
  // The image itself is the first line; its companions (and an image in another form) follow.
  for (const artifact of result.artifacts) {
    if (artifact.path === result.output && artifact.kind === 'raw') continue;
    const what = artifact.kind === 'partition' ? `partition ${artifact.partition!.name}` : artifact.kind;
    lines.push(`  ${what}: ${artifact.path} (${formatSize(artifact.size)})`);
  }
  return lines.join('\n');
}
