/** The partition tables of a planned disk, encoded by the Rust encoder (crates/gpt). */
import { ImgforgeError } from '../errors';
import { native, type GptRegion } from '../native';
import type { Plan } from '../types';

/**
 * The regions of the GPT for `layout` (protective MBR, both headers, both entry arrays), in
 * ascending offset order. Refusals are LAYOUT errors.
 */
export function encodeTables(layout: Plan): GptRegion[] {
  const binding = native();
  try {
    return binding.encodeGpt(layout);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `cannot encode the GPT: ${(error as Error).message}`, { cause: error });
  }
}
