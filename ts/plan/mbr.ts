/**
 * MBR planning arithmetic: which partitions are primary and which logical, the record numbers
 * they get, where the EBRs go, the 32-bit limits, and the default MBR type of a partition.
 * Pure functions, unit-tested in __test__/mbr-plan.test.ts.
 *
 * The format is the IBM PC MBR as fdisk and the Linux kernel (block/partitions/msdos.c) read
 * it: four records in LBA 0; with more than four partitions, one record is an extended
 * partition holding a chain of EBRs, one before each logical partition (numbered 5 and up).
 */
import { ImgforgeError } from '../errors';
import { deriveGuid } from './guid';
import { randomBytes } from 'node:crypto';
import type { PartitionSpec } from '../types';

/** Sectors an MBR record addresses: its start and size are 32-bit sector counts. */
export const MBR_MAX_SECTORS = 2 ** 32;
/** Bytes of boot code LBA 0 holds before the disk signature. */
export const MBR_BOOT_CODE_SIZE = 440;
/** The four records of LBA 0. */
export const MBR_RECORDS = 4;

/** DPS type names whose MBR type is not Linux's 0x83. */
const MBR_TYPE_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['esp', 0xef],
  ['swap', 0x82],
  ['xbootldr', 0xea],
]);

export const MBR_TYPE_FAT32_LBA = 0x0c;
export const MBR_TYPE_LINUX = 0x83;

/**
 * The MBR type byte of a partition: an explicit `mbrType` wins; a FAT32 filesystem is 0x0c
 * (FAT32 with LBA addressing), an EROFS, ext4 or squashfs one Linux's 0x83; without a filesystem, esp is 0xef,
 * swap 0x82, xbootldr 0xea and other known (Linux) types 0x83. Undefined for a type imgforge
 * does not know (a GUID), which needs an explicit mbrType.
 */
export function defaultMbrType(partition: Pick<PartitionSpec, 'mbrType' | 'filesystem'>, typeName: string | undefined): number | undefined {
  if (partition.mbrType !== undefined) return partition.mbrType;
  if (partition.filesystem?.type === 'fat32') return MBR_TYPE_FAT32_LBA;
  if (partition.filesystem !== undefined) return MBR_TYPE_LINUX;
  if (typeName === undefined) return undefined;
  return MBR_TYPE_BY_NAME.get(typeName) ?? MBR_TYPE_LINUX;
}

/** Where a partition goes in an MBR table. */
export interface MbrRecord {
  /** 1 to 4 for primary partitions, 5 and up for logical ones. */
  index: number;
  logical: boolean;
}

export interface MbrRecords {
  records: MbrRecord[];
  /** The record of the extended partition; undefined with at most four partitions. */
  extendedSlot: number | undefined;
}

/**
 * Primary and logical partitions, in spec order. Up to four partitions are all primary. With
 * more, one contiguous run of partitions becomes logical (the extended partition is one
 * range) and at most three stay primary: the run starts as late as it can, so the first three
 * are primary as fdisk and genimage make them, and partitions with `primary: true` are kept
 * out of it. Throws SPEC_INVALID naming the `primary` field that makes it impossible.
 */
export function assignMbrRecords(forcedPrimary: readonly boolean[]): MbrRecords {
  const count = forcedPrimary.length;
  if (count <= MBR_RECORDS) return { records: forcedPrimary.map((_, i) => ({ index: i + 1, logical: false })), extendedSlot: undefined };
  let runStart = -1;
  let runEnd = -1;
  for (let start = 0; start < count; start++) {
    if (forcedPrimary[start]) continue;
    let end = start;
    while (end + 1 < count && !forcedPrimary[end + 1]) end++;
    if (count - (end - start + 1) <= MBR_RECORDS - 1) [runStart, runEnd] = [start, end];
  }
  if (runStart < 0) {
    const forced = forcedPrimary.flatMap((f, i) => (f ? [i] : []));
    const culprit = forced.length > MBR_RECORDS - 1 ? forced[MBR_RECORDS - 1] : forced.find((i) => i > 0 && i < count - 1) ?? forced[0];
    throw new ImgforgeError(
      'SPEC_INVALID',
      `partitions[${culprit}].primary: with ${count} partitions, ${MBR_RECORDS - 1} stay primary and the others are logical partitions in one extended partition, ` +
        'which is one range on the disk: these primary: true partitions leave no run of consecutive partitions long enough for it',
    );
  }
  const records = forcedPrimary.map((_, i): MbrRecord => {
    if (i < runStart) return { index: i + 1, logical: false };
    if (i <= runEnd) return { index: 5 + (i - runStart), logical: true };
    return { index: runStart + 2 + (i - runEnd - 1), logical: false };
  });
  return { records, extendedSlot: runStart + 1 };
}

/**
 * The problem with a partition spanning LBAs first..last in an MBR record, or undefined: both
 * ends must lie below 2^32 sectors (2 TiB with 512-byte sectors, 16 TiB with 4096).
 */
export function mbrLimitProblem(firstLba: number, lastLba: number, sectorSize: number): string | undefined {
  if (lastLba < MBR_MAX_SECTORS) return undefined;
  const limit = `2^32 sectors (${(MBR_MAX_SECTORS * sectorSize) / 2 ** 40} TiB with ${sectorSize}-byte sectors)`;
  const where = firstLba >= MBR_MAX_SECTORS ? `starts at LBA ${firstLba}` : `ends at LBA ${lastLba}`;
  return `${where}, past what an MBR record addresses: ${limit}`;
}

/** The MBR disk signature as sfdisk shows it: "0x" and 8 lower-case hex digits. */
export function formatDiskId(id: number): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}

export const MBR_DISK_ID_PURPOSE = 'imgforge:mbr-disk-id';

/** The explicit disk id, else one derived from the seed, else a random one. */
export function chooseDiskId(explicit: number | undefined, seed: string | undefined): number {
  if (explicit !== undefined) return explicit;
  if (seed !== undefined) return Number.parseInt(deriveGuid(seed, MBR_DISK_ID_PURPOSE).slice(0, 8), 16);
  return randomBytes(4).readUInt32LE(0);
}
