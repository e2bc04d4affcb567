/** GUIDs a plan assigns: derived from the spec's seed, or random. */
import { createHmac, randomUUID } from 'node:crypto';
import { formatRfc4122 } from '../guid';

export function randomGuid(): string {
  return randomUUID().toUpperCase();
}

/**
 * A GUID that depends only on (seed, purpose), so a seeded spec yields byte-identical images.
 * HMAC keyed by the seed keeps GUIDs of different products unrelated even for equal partition names;
 * the version/variant bits make the result a well-formed random (v4) UUID for tools that check.
 */
export function deriveGuid(seed: string, purpose: string): string {
  const digest = createHmac('sha256', seed).update(purpose, 'utf8').digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return formatRfc4122(bytes);
}

export const DISK_GUID_PURPOSE = 'imgforge:disk';

export function partitionGuidPurpose(name: string): string {
  return `imgforge:partition:${name}`;
}
