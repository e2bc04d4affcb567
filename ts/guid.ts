/**
 * GUIDs as text and as GPT stores them. Derivation from a seed (planning) is in plan/guid.ts.
 */
import { ImgforgeError } from './errors';

/** The textual form of a GUID, any case (a regular expression's source, also used by the spec's JSON Schema). */
export const GUID_PATTERN = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}';
const GUID_RE = new RegExp(`^${GUID_PATTERN}$`);

export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

/** True for the textual form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (any case, no braces). */
export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}

/** Formats 16 bytes in RFC 4122 (big-endian) order, uppercase. */
export function formatRfc4122(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The 16 on-disk bytes of a GUID as GPT stores it: the first three fields little-endian, the last
 * two (clock sequence and node) in textual order.
 */
export function guidToBytes(guid: string): Buffer {
  if (!isGuid(guid)) throw new ImgforgeError('LAYOUT', `not a GUID: ${JSON.stringify(guid)}`);
  const text = Buffer.from(guid.replace(/-/g, ''), 'hex');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(text.readUInt32BE(0), 0);
  out.writeUInt16LE(text.readUInt16BE(4), 4);
  out.writeUInt16LE(text.readUInt16BE(6), 6);
  text.copy(out, 8, 8, 16);
  return out;
}

/** Inverse of guidToBytes: reads the GPT byte order at `offset`, returns the canonical uppercase text. */
export function bytesToGuid(buf: Uint8Array, offset = 0): string {
  const src = Buffer.from(buf.buffer, buf.byteOffset + offset, 16);
  if (src.length < 16) throw new ImgforgeError('LAYOUT', 'a GUID needs 16 bytes');
  const text = Buffer.alloc(16);
  text.writeUInt32BE(src.readUInt32LE(0), 0);
  text.writeUInt16BE(src.readUInt16LE(4), 4);
  text.writeUInt16BE(src.readUInt16LE(6), 6);
  src.copy(text, 8, 8, 16);
  return formatRfc4122(text);
}
