/** The partition tables of a planned disk, encoded by the Rust encoder (crates/gpt). */
import { readFileSync } from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { native, type GptRegion } from '../native';
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

function gptLayout(layout: Plan) {
  const { diskGuid } = layout;
  if (diskGuid === undefined) throw new ImgforgeError('LAYOUT', 'a GPT plan needs a diskGuid');
  return {
    ...layout,
    diskGuid,
    partitions: layout.partitions.map((p) => {
      if (p.guid === undefined) throw new ImgforgeError('LAYOUT', `partition ${JSON.stringify(p.name)}: a GPT partition needs a GUID`);
      return { ...p, guid: p.guid };
    }),
  };
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
        mirrored: layout.partitions.flatMap((p) => (p.mbrType !== undefined ? [{ index: p.index, mbrType: p.mbrType, bootable: p.bootable }] : [])),
      });
    case 'mbr':
      return binding.encodeMbr({
        ...layout,
        diskId: diskId(layout),
        bootCode: bootCode(layout),
        extendedSlot: extendedSlot(layout),
        partitions: layout.partitions.map((p) => ({ ...p, mbrType: p.mbrType ?? 0 })),
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
