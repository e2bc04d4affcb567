import { formatSize } from '../units';
import type { Plan, PlannedPartition, BuildResult } from '../types';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function describeContents(p: PlannedPartition): string {
  if (p.contents) return `${p.contents.path} (${formatSize(p.contents.size)})`;
  const fs = p.filesystem;
  if (fs?.type === 'erofs') {
    const label = fs.label !== undefined ? ` "${fs.label}"` : '';
    return `EROFS${label}: ${fs.files} files, ${fs.inodes} inodes, ${formatSize(fs.fileBytes)} of file data; ${formatSize(fs.size)} in all`;
  }
  if (fs) {
    const label = fs.label !== undefined ? ` "${fs.label}"` : '';
    return (
      `FAT32${label}: ${fs.files} files in ${fs.directories} folders, ${formatSize(fs.fileBytes)}; ` +
      `${formatSize(fs.clusterSize)} clusters, ${formatSize(fs.freeClusters * fs.clusterSize)} free`
    );
  }
  return '-';
}

/** The layout as a readable table, for `imgforge plan`. */
export function formatPlan(layout: Plan): string {
  const header = [
    `disk: ${formatSize(layout.diskSize)} (${layout.diskSize} bytes, ${layout.totalSectors} sectors of ${layout.sectorSize} bytes)`,
    `disk GUID: ${layout.diskGuid}`,
    `usable LBAs: ${layout.firstUsableLba}-${layout.lastUsableLba}, alignment ${formatSize(layout.alignment)}`,
    '',
  ];
  const rows = [['#', 'name', 'type', 'first LBA', 'last LBA', 'size', 'contents']];
  for (const p of layout.partitions) {
    rows.push([
      String(p.index),
      p.name,
      p.typeName ?? p.typeGuid,
      String(p.firstLba),
      String(p.lastLba),
      formatSize(p.size),
      describeContents(p),
    ]);
  }
  return header.join('\n') + table(rows);
}

export function formatBuildResult(result: BuildResult): string {
  const { copyFileRangeBytes, readWriteBytes, holeBytes } = result.copy;
  const count = result.partitions.length;
  const lines = [
    `wrote ${result.output} (${formatSize(result.size)}, ${count} partition${count === 1 ? '' : 's'}) in ${(result.elapsedMs / 1000).toFixed(2)} s`,
  ];
  if (copyFileRangeBytes + readWriteBytes + holeBytes > 0) {
    lines.push(
      `  contents: ${formatSize(copyFileRangeBytes)} by copy_file_range, ${formatSize(readWriteBytes)} by read/write, ` +
        `${formatSize(holeBytes)} of holes left as holes`,
    );
  }
  return lines.join('\n');
}
