/** The partition tables of a planned disk, encoded by the Rust encoder (crates/gpt). */
import { ImgforgeError } from '../errors';
import { native, type GptLayout, type GptRegion } from '../native';
import { attributeMask } from '../spec/attributes';
import type { Plan } from '../types';

/** A plan as the GPT encoder takes it: the type GUID and the attributes' 64-bit mask of each entry. */
export function gptLayout(layout: Plan): GptLayout {
  return {
    ...layout,
    partitions: layout.partitions.map((p) => ({
      index: p.index,
      name: p.name,
      typeGuid: p.type,
      guid: p.guid,
      attributes: attributeMask(p.attributes),
      firstLba: p.firstLba,
      lastLba: p.lastLba,
    })),
  };
}

/**
 * The regions of the GPT for `layout` (protective MBR, both headers, both entry arrays), in
 * ascending offset order. Refusals are LAYOUT errors.
 */
export function encodeTables(layout: Plan): GptRegion[] {
  return encodeLayout(gptLayout(layout));
}

/** encodeTables for a layout already in the encoder's terms (GPT entry fields as the encoder takes them). */
export function encodeLayout(layout: GptLayout): GptRegion[] {
  const binding = native();
  try {
    return binding.encodeGpt(layout);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `cannot encode the GPT: ${(error as Error).message}`, { cause: error });
  }
}
