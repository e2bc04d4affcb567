/** Text output of `imgforge inspect` and `imgforge verify`. */
import { formatSize } from '../units';
import { diskPicture, table, type PictureOptions } from './format';
import type { FileEntry, PartitionContents, InspectedPartition, InspectReport, VerifyReport } from '../types';

function describeContents(contents: PartitionContents): string {
  if (contents.type === 'erofs') {
    const label = contents.label !== undefined ? ` "${contents.label}"` : '';
    const others = [
      contents.symlinks > 0 ? `${contents.symlinks} symlinks` : '',
      contents.specials > 0 ? `${contents.specials} special files` : '',
      contents.compressedFiles > 0 ? `${contents.compressedFiles} files compressed` : '',
    ].filter(Boolean);
    return (
      `EROFS${label} ${contents.uuid}: ${contents.files} files in ${contents.directories} folders${others.map((o) => `, ${o}`).join('')}, ` +
      `${formatSize(contents.fileBytes)}; ${contents.inodes} inodes, ${formatSize(contents.blockSize)} blocks, ${formatSize(contents.size)} used`
    );
  }
  if (contents.type === 'ext4' || contents.type === 'ext3' || contents.type === 'ext2') {
    const label = contents.label !== undefined ? ` "${contents.label}"` : '';
    return (
      `${contents.type}${label} ${contents.uuid}: ${formatSize(contents.usedBytes)} used of ${formatSize(contents.size)}, ` +
      `${formatSize(contents.blockSize)} blocks, ${contents.inodes - contents.freeInodes} of ${contents.inodes} inodes used${contents.clean ? '' : ', not clean'}`
    );
  }
  if (contents.type === 'squashfs') {
    return `squashfs ${contents.version}, ${contents.compression}, ${formatSize(contents.blockSize)} blocks: ${formatSize(contents.size)}, ${contents.inodes} inodes, made ${contents.created}`;
  }
  if (contents.type === 'verity-hash') {
    return `dm-verity hash tree ${contents.uuid}: ${contents.hashAlgorithm}, ${contents.dataBlocks} data blocks of ${formatSize(contents.dataBlockSize)}, ${formatSize(contents.hashBlockSize)} hash blocks, salt ${contents.salt === '' ? 'none' : contents.salt}`;
  }
  if (contents.type === 'verity-signature') {
    return `verity signature of root hash ${contents.rootHash}${contents.certificateFingerprint !== undefined ? `, certificate SHA-256 ${contents.certificateFingerprint}` : ''}`;
  }
  if (contents.type !== 'fat32') {
    if (contents.type === 'empty') return 'empty (zeros at the start)';
    return contents.type === 'unknown' ? 'unknown contents' : contents.type;
  }
  const label = contents.label !== undefined ? ` "${contents.label}"` : '';
  // A boot sector whose geometry is broken leaves nothing to count: the findings say why.
  if (contents.clusters === 0) return `FAT32${label} ${contents.volumeId}: no readable clusters (see the problems found)`;
  return (
    `FAT32${label} ${contents.volumeId}: ${contents.files} files in ${contents.directories} folders, ${formatSize(contents.fileBytes)}; ` +
    `${formatSize(contents.clusterSize)} clusters, ${formatSize(contents.usedClusters * contents.clusterSize)} used, ` +
    `${formatSize(contents.freeClusters * contents.clusterSize)} free`
  );
}

function describeTable(report: InspectReport): string[] {
  const { gpt, mbr } = report;
  if (report.table === 'gpt' && gpt) {
    const header = gpt.header === 'primary' ? '' : ', read from the backup header';
    return [
      `partition table: GPT${header} (${mbr.kind} MBR), ${gpt.entryCount} entries`,
      `disk GUID: ${gpt.diskGuid}`,
      ...(mbr.kind === 'hybrid' ? [`MBR disk id: ${mbr.diskId}`] : []),
      `usable LBAs: ${gpt.firstUsableLba}-${gpt.lastUsableLba}`,
    ];
  }
  if (report.table === 'mbr') {
    const logical = report.partitions.filter((p) => p.logical).length;
    return [`partition table: MBR (${mbr.kind})${logical > 0 ? `, ${logical} logical partitions` : ''}`, `disk id: ${mbr.diskId}`];
  }
  return ['partition table: none found'];
}

function partitionRows(partitions: readonly InspectedPartition[]): string {
  const rows = [['#', 'name', 'type', 'first LBA', 'last LBA', 'size', 'attributes', 'contents']];
  for (const p of partitions) {
    rows.push([
      String(p.index),
      p.name || '-',
      p.typeName ?? p.type,
      String(p.firstLba),
      String(p.lastLba),
      formatSize(p.size),
      [...p.attributes, ...(p.bootable ? ['bootable'] : []), ...(p.logical ? ['logical'] : [])].join(',') || '-',
      describeContents(p.contents),
    ]);
  }
  return table(rows);
}

/** The first letter `ls -l` shows for each kind. */
const KIND_LETTERS: Record<FileEntry['kind'], string> = {
  file: '-',
  directory: 'd',
  symlink: 'l',
  'char-device': 'c',
  'block-device': 'b',
  fifo: 'p',
  socket: 's',
};

function fileListing(partition: InspectedPartition): string {
  const entries = partition.files ?? [];
  const title = `files of partition ${partition.index}${partition.name ? ` (${partition.name})` : ''}: ${entries.length} entries`;
  if (entries.length === 0) return title;
  // EROFS entries carry a mode and owner; FAT32 ones do not.
  const posix = entries[0].mode !== undefined;
  const rows = [[...(posix ? ['mode', 'owner', 'links'] : []), 'size', 'modified', 'path']];
  for (const entry of entries) {
    let path = entry.kind === 'directory' ? `${entry.path}/` : entry.path;
    if (entry.target !== undefined) path += ` -> ${entry.target}`;
    const size = entry.kind === 'file' || entry.kind === 'symlink' ? String(entry.size) : '-';
    const posixColumns = posix ? [`${KIND_LETTERS[entry.kind]}${entry.mode}`, `${entry.uid}:${entry.gid}`, String(entry.nlink)] : [];
    rows.push([...posixColumns, size, entry.modified ?? '-', path]);
  }
  return `${title}\n${table(rows).replace(/^/gm, '  ')}`;
}

/** The whole inspection: disk, table, partitions, listings, then findings (or "no problems found"). */
export function formatInspect(report: InspectReport, picture: PictureOptions = { width: 80, color: false }): string {
  const sectors = Math.floor(report.size / report.sectorSize);
  const lines = [
    `image: ${report.image} (${report.kind === 'device' ? 'block device, ' : ''}${formatSize(report.size)}, ${sectors} sectors of ${report.sectorSize} bytes)`,
    ...describeTable(report),
  ];
  if (report.partitions.length > 0) {
    // The GPT's usable range, else (MBR) the disk after its first sector.
    const usableStart = report.gpt ? report.gpt.firstUsableLba * report.sectorSize : report.sectorSize;
    const usableEnd = report.gpt ? (report.gpt.lastUsableLba + 1) * report.sectorSize : report.size;
    // Gaps under 1 MiB are alignment, not space worth drawing.
    lines.push('', diskPicture(report.partitions, usableStart, usableEnd, 1 << 20, picture), '', partitionRows(report.partitions));
  }
  for (const partition of report.partitions) {
    if (partition.files !== undefined) lines.push('', fileListing(partition));
  }
  lines.push('');
  if (report.findings.length === 0) {
    lines.push('no problems found');
  } else {
    lines.push(`${report.findings.length} problem${report.findings.length === 1 ? '' : 's'} found:`);
    for (const finding of report.findings) {
      const where = finding.partition !== undefined ? `partition ${finding.partition}: ` : '';
      lines.push(`  ${finding.code}: ${where}${finding.message}`);
    }
  }
  return lines.join('\n');
}

export function formatVerify(report: VerifyReport): string {
  const subject = `${report.image} against ${report.spec ?? 'the spec'}`;
  if (report.differences.length === 0) {
    return `${subject}: the image matches (${report.partitions} partitions, ${formatSize(report.bytesCompared)} of contents compared byte for byte)`;
  }
  const count = report.differences.length;
  const lines = [`${subject}: ${count} difference${count === 1 ? '' : 's'}:`];
  for (const difference of report.differences) lines.push(`  ${difference.where}: ${difference.message}`);
  return lines.join('\n');
}
