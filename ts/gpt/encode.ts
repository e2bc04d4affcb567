/**
 * Encodes a Plan as the bytes of a GPT (UEFI 2.x, chapter 5): protective MBR, primary header and
 * entry array at the start, backup entry array and header at the end. Pure: no I/O.
 */
import { ImgforgeError } from '../errors';
import type { Plan, PlannedPartition } from '../plan/plan';
import { guidToBytes } from '../plan/guid';
import { entryArraySectors, GPT_ENTRY_COUNT, GPT_ENTRY_SIZE } from '../plan/layout';
import { crc32 } from './crc32';

export interface GptRegion {
  /** Byte offset in the disk. */
  offset: number;
  data: Buffer;
}

const HEADER_SIZE = 92;
const NAME_UNITS = 36;

function layoutError(message: string): ImgforgeError {
  return new ImgforgeError('LAYOUT', `cannot encode the GPT: ${message}`);
}

/**
 * LBA 0: an MBR with one partition of type 0xEE covering the disk (or as much as 32 bits can say), so
 * MBR-only tools see the disk as in use. With 4096-byte sectors the MBR is the first 512 bytes.
 */
export function encodeProtectiveMbr(plan: Plan): Buffer {
  const sector = Buffer.alloc(plan.sectorSize);
  const entry = 446;
  sector[entry] = 0x00; // not bootable
  sector.set([0x00, 0x02, 0x00], entry + 1); // CHS of LBA 1
  sector[entry + 4] = 0xee;
  sector.set([0xff, 0xff, 0xff], entry + 5); // CHS "beyond 8 GiB"
  sector.writeUInt32LE(1, entry + 8);
  sector.writeUInt32LE(Math.min(plan.totalSectors - 1, 0xffffffff), entry + 12);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

function encodeName(name: string, target: Buffer, offset: number): void {
  if (name.length > NAME_UNITS) throw layoutError(`partition name ${JSON.stringify(name)} is longer than ${NAME_UNITS} UTF-16 code units`);
  // JS strings are UTF-16, so each code unit is written as-is (surrogate pairs stay pairs).
  for (let i = 0; i < name.length; i++) target.writeUInt16LE(name.charCodeAt(i), offset + i * 2);
}

export function encodeEntry(partition: PlannedPartition): Buffer {
  const entry = Buffer.alloc(GPT_ENTRY_SIZE);
  guidToBytes(partition.typeGuid).copy(entry, 0);
  guidToBytes(partition.guid).copy(entry, 16);
  entry.writeBigUInt64LE(BigInt(partition.firstLba), 32);
  entry.writeBigUInt64LE(BigInt(partition.lastLba), 40);
  entry.writeBigUInt64LE(BigInt.asUintN(64, partition.attributes), 48);
  encodeName(partition.name, entry, 56);
  return entry;
}

/** The full entry array (128 entries, unused ones zero), padded to whole sectors. */
export function encodeEntryArray(plan: Plan): Buffer {
  const array = Buffer.alloc(entryArraySectors(plan.sectorSize) * plan.sectorSize);
  for (const partition of plan.partitions) {
    encodeEntry(partition).copy(array, (partition.index - 1) * GPT_ENTRY_SIZE);
  }
  return array;
}

export interface HeaderPlacement {
  myLba: number;
  alternateLba: number;
  entriesLba: number;
}

/** One header sector; `entriesCrc` is the CRC32 of the 128 × 128 entry bytes. */
export function encodeHeader(plan: Plan, placement: HeaderPlacement, entriesCrc: number): Buffer {
  const sector = Buffer.alloc(plan.sectorSize);
  sector.write('EFI PART', 0, 'ascii');
  sector.writeUInt32LE(0x00010000, 8);
  sector.writeUInt32LE(HEADER_SIZE, 12);
  // 16: header CRC32, computed last over the 92 bytes with this field zero
  sector.writeBigUInt64LE(BigInt(placement.myLba), 24);
  sector.writeBigUInt64LE(BigInt(placement.alternateLba), 32);
  sector.writeBigUInt64LE(BigInt(plan.firstUsableLba), 40);
  sector.writeBigUInt64LE(BigInt(plan.lastUsableLba), 48);
  guidToBytes(plan.diskGuid).copy(sector, 56);
  sector.writeBigUInt64LE(BigInt(placement.entriesLba), 72);
  sector.writeUInt32LE(GPT_ENTRY_COUNT, 80);
  sector.writeUInt32LE(GPT_ENTRY_SIZE, 84);
  sector.writeUInt32LE(entriesCrc, 88);
  sector.writeUInt32LE(crc32(sector.subarray(0, HEADER_SIZE)), 16);
  return sector;
}

/** Refuses plans that would produce a table other tools reject or misread. */
function checkPlan(plan: Plan): void {
  const { sectorSize, totalSectors } = plan;
  if (sectorSize !== 512 && sectorSize !== 4096) throw layoutError(`unsupported sector size ${sectorSize}`);
  if (!Number.isSafeInteger(totalSectors) || plan.diskSize !== totalSectors * sectorSize) {
    throw layoutError(`disk size ${plan.diskSize} does not match ${totalSectors} sectors of ${sectorSize} bytes`);
  }
  const entrySectors = entryArraySectors(sectorSize);
  if (plan.firstUsableLba < 2 + entrySectors || plan.lastUsableLba > totalSectors - 2 - entrySectors || plan.firstUsableLba > plan.lastUsableLba) {
    throw layoutError(`usable LBAs ${plan.firstUsableLba}..${plan.lastUsableLba} overlap the partition tables of a ${totalSectors}-sector disk`);
  }
  if (plan.partitions.length > GPT_ENTRY_COUNT) throw layoutError(`${plan.partitions.length} partitions, the GPT holds ${GPT_ENTRY_COUNT}`);
  const used = new Set<number>();
  const sorted = [...plan.partitions].sort((a, b) => a.firstLba - b.firstLba);
  sorted.forEach((p, i) => {
    if (!Number.isInteger(p.index) || p.index < 1 || p.index > GPT_ENTRY_COUNT || used.has(p.index)) {
      throw layoutError(`partition ${JSON.stringify(p.name)} has an invalid or duplicate entry number ${p.index}`);
    }
    used.add(p.index);
    if (p.firstLba < plan.firstUsableLba || p.lastLba > plan.lastUsableLba || p.firstLba > p.lastLba) {
      throw layoutError(`partition ${JSON.stringify(p.name)} spans LBAs ${p.firstLba}..${p.lastLba}, outside ${plan.firstUsableLba}..${plan.lastUsableLba}`);
    }
    if (i > 0 && p.firstLba <= sorted[i - 1].lastLba) {
      throw layoutError(`partitions ${JSON.stringify(sorted[i - 1].name)} and ${JSON.stringify(p.name)} overlap`);
    }
  });
}

/**
 * The regions to write, in ascending offset order: protective MBR (LBA 0), primary header (LBA 1),
 * primary entry array (LBA 2...), backup entry array (just before the last LBA) and backup header
 * (last LBA). Everything else on the disk is left to the caller (partitions, zeroing).
 */
export function encodeGpt(plan: Plan): GptRegion[] {
  checkPlan(plan);
  const { sectorSize } = plan;
  const lastLba = plan.totalSectors - 1;
  const entries = encodeEntryArray(plan);
  const entriesCrc = crc32(entries.subarray(0, GPT_ENTRY_COUNT * GPT_ENTRY_SIZE));
  const backupEntriesLba = lastLba - entryArraySectors(sectorSize);
  const primary = encodeHeader(plan, { myLba: 1, alternateLba: lastLba, entriesLba: 2 }, entriesCrc);
  const backup = encodeHeader(plan, { myLba: lastLba, alternateLba: 1, entriesLba: backupEntriesLba }, entriesCrc);
  return [
    { offset: 0, data: encodeProtectiveMbr(plan) },
    { offset: sectorSize, data: primary },
    { offset: 2 * sectorSize, data: entries },
    { offset: backupEntriesLba * sectorSize, data: Buffer.from(entries) },
    { offset: lastLba * sectorSize, data: backup },
  ];
}
