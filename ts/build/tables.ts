/** The partition tables of a planned disk, encoded by the Rust encoder (crates/gpt). */
import { readFileSync } from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { native, type GptLayout, type GptRegion } from '../native';
import { attributeMask } from '../spec/attributes';
import type { Plan } from '../types';

/** LBA 0's boot code (empty without one), read again at build time and checked against the plan. */
function bootCode(layout: Plan): Buffer {
  if (layout.bootCode === undefined) return Buffer.alloc(0);
  let code: Buffer;
  try {
    code = readFileSync(layout.bootCode.path);
  } catch (error) {
    throw new ImgforgeError('CONTENTS', `bootCode: ${layout.bootCode.path}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
  if (code.length !== layout.bootCode.size) {
    throw new ImgforgeError('SOURCE_CHANGED', `bootCode: ${layout.bootCode.path} changed size since it was planned (${layout.bootCode.size} bytes, now ${code.length})`);
  }
  return code;
}

/** The record number of the extended partition: the one primaries leave free below the logical ones. */
function extendedSlot(layout: Plan): number | undefined {
  if (!layout.partitions.some((p) => p.logical)) return undefined;
  const used = new Set(layout.partitions.filter((p) => !p.logical).map((p) => p.index));
  return [1, 2, 3, 4].find((slot) => !used.has(slot));
}

function diskId(layout: Plan): number {
  if (layout.diskId === undefined) throw new ImgforgeError('LAYOUT', `a ${layout.table} plan needs a diskId`);
  return Number.parseInt(layout.diskId, 16);
}

/** A plan as the GPT encoder takes it: the type GUID and the attributes' 64-bit mask of each entry. */
export function gptLayout(layout: Plan): GptLayout {
  const { diskGuid } = layout;
  if (diskGuid === undefined) throw new ImgforgeError('LAYOUT', 'a GPT plan needs a diskGuid');
  return {
    ...layout,
    diskGuid,
    partitions: layout.partitions.map((p) => {
      if (p.guid === undefined) throw new ImgforgeError('LAYOUT', `partition ${JSON.stringify(p.name)}: a GPT partition needs a GUID`);
      return { index: p.index, name: p.name, typeGuid: p.type, guid: p.guid, attributes: attributeMask(p.attributes), firstLba: p.firstLba, lastLba: p.lastLba };
    }),
  };
}

/** encodeTables for a GPT layout already in the encoder's terms (tests change its fields directly). */
export function encodeLayout(layout: GptLayout): GptRegion[] {
  try {
    return native().encodeGpt(layout);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `cannot encode the GPT: ${(error as Error).message}`, { cause: error });
  }
}

function encode(layout: Plan): GptRegion[] {
  const binding = native();
  switch (layout.table) {
    case 'gpt':
      return binding.encodeGpt(gptLayout(layout));
    case 'hybrid':
      return binding.encodeHybrid(gptLayout(layout), {
        diskId: diskId(layout),
        bootCode: bootCode(layout),
        mirrored: layout.partitions.flatMap((p) => (p.mbrType !== undefined ? [{ index: p.index, mbrType: p.mbrType, bootable: p.bootable === true }] : [])),
      });
    case 'mbr':
      return binding.encodeMbr({
        ...layout,
        diskId: diskId(layout),
        bootCode: bootCode(layout),
        extendedSlot: extendedSlot(layout),
        partitions: layout.partitions.map((p) => ({ index: p.index, name: p.name, mbrType: p.mbrType ?? 0, bootable: p.bootable === true, firstLba: p.firstLba, lastLba: p.lastLba, ebrLba: p.ebrLba })),
      });
  }
}

/**
 * The regions of the partition tables for `layout`, in ascending offset order: for GPT the
 * protective (or hybrid) MBR, both headers, both entry arrays; for MBR, LBA 0 and the EBRs.
 * Refusals are LAYOUT errors.
 */
export function encodeTables(layout: Plan): GptRegion[] {
  try {
    return encode(layout);
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    throw new ImgforgeError('LAYOUT', `cannot encode the ${layout.table === 'mbr' ? 'MBR' : 'GPT'}: ${(error as Error).message}`, { cause: error });
  }
}
