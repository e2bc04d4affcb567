/**
 * GPT and MBR layout arithmetic. Byte offsets and sizes are plain numbers (safe integers); LBAs are in units of
 * the logical sector size. Every function is pure so the edge cases can be unit-tested directly.
 */
import { alignDown, alignUp } from '../units';
import type { TableKind } from '../types';

/** imgforge always writes the standard 128 entries of 128 bytes (16 KiB), like every common tool. */
export const GPT_ENTRY_COUNT = 128;
export const GPT_ENTRY_SIZE = 128;

/**
 * "auto" disk sizes are rounded up to this: the smallest multiple of 4096 bytes that holds all
 * partitions and the backup GPT. 4096 keeps the image a whole number of sectors for both sector sizes
 * and of pages, which loop devices and O_DIRECT writers like.
 */
export const AUTO_DISK_GRANULARITY = 4096;

/** Sectors taken by one copy of the partition entry array: 32 at 512 bytes, 4 at 4096. */
export function entryArraySectors(sectorSize: number): number {
  return Math.ceil((GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / sectorSize);
}

/**
 * GPT (and hybrid): LBA 0 is the MBR, LBA 1 the primary header, then the primary entry array.
 * MBR: everything after LBA 0.
 */
export function firstUsableLba(sectorSize: number, table: TableKind = 'gpt'): number {
  return table === 'mbr' ? 1 : 2 + entryArraySectors(sectorSize);
}

/** GPT: the last LBA holds the backup header, preceded by the backup entry array. MBR: the last LBA. */
export function lastUsableLba(totalSectors: number, sectorSize: number, table: TableKind = 'gpt'): number {
  return table === 'mbr' ? totalSectors - 1 : totalSectors - 1 - 1 - entryArraySectors(sectorSize);
}

/** Byte offset of the first partition: the first usable byte, rounded up to the alignment. */
export function firstPartitionOffset(sectorSize: number, alignment: number, table: TableKind = 'gpt'): number {
  return alignUp(firstUsableLba(sectorSize, table) * sectorSize, alignment);
}

/** Exclusive byte end of the usable space: one past the last usable LBA. */
export function usableEnd(totalSectors: number, sectorSize: number, table: TableKind = 'gpt'): number {
  return (lastUsableLba(totalSectors, sectorSize, table) + 1) * sectorSize;
}

/** Exclusive byte end of the usable space, rounded down to the alignment. */
export function alignedUsableEnd(totalSectors: number, sectorSize: number, alignment: number): number {
  return alignDown(usableEnd(totalSectors, sectorSize), alignment);
}

/**
 * The smallest disk (bytes) in which a partition may end (exclusive) at `partitionsEnd`: room for the
 * backup entry array and header after it (none for MBR), rounded up to AUTO_DISK_GRANULARITY.
 */
export function minimalDiskSize(partitionsEnd: number, sectorSize: number, table: TableKind = 'gpt'): number {
  const backup = table === 'mbr' ? 0 : (entryArraySectors(sectorSize) + 1) * sectorSize;
  const atLeast = Math.max(partitionsEnd, firstUsableLba(sectorSize, table) * sectorSize) + backup;
  return alignUp(atLeast, Math.max(AUTO_DISK_GRANULARITY, sectorSize));
}

/**
 * Bytes spanned by partitions laid out back to back from an aligned start: every partition but the
 * last also takes the padding that brings the next one to an aligned start.
 */
export function alignedSpan(sizes: readonly number[], alignment: number): number {
  return sizes.reduce((span, size, i) => span + (i === sizes.length - 1 ? size : alignUp(size, alignment)), 0);
}

/**
 * Size of the "grow" partition that starts at `growStart`: everything up to where the partitions
 * after it (`sizesAfter`, in order) must begin so that they still fit before `end` (the exclusive
 * usable end) at aligned starts. Its end is aligned when partitions follow it (their start is); when
 * it is last, the end is aligned down too unless that would make it smaller than `minSize`.
 * Returns a value < minSize (possibly negative) when it does not fit.
 */
export function growSize(growStart: number, sizesAfter: readonly number[], end: number, alignment: number, minSize: number): number {
  if (sizesAfter.length > 0) {
    return alignDown(end - alignedSpan(sizesAfter, alignment), alignment) - growStart;
  }
  const aligned = alignDown(end, alignment) - growStart;
  return aligned >= minSize ? aligned : end - growStart;
}

export interface Extent {
  /** Byte offset. */
  offset: number;
  /** Bytes. */
  size: number;
}

/** Places partitions in order, each at the first aligned offset after the previous one. */
export function placeSequentially(sizes: readonly number[], start: number, alignment: number): Extent[] {
  const extents: Extent[] = [];
  let cursor = start;
  for (const size of sizes) {
    const offset = alignUp(cursor, alignment);
    extents.push({ offset, size });
    cursor = offset + size;
  }
  return extents;
}

/** Exclusive byte end of the last extent (or `fallback` when there are none). */
export function extentsEnd(extents: readonly Extent[], fallback: number): number {
  return extents.length === 0 ? fallback : extents[extents.length - 1].offset + extents[extents.length - 1].size;
}
