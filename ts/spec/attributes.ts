/**
 * GPT attribute bits as names: how plans, `plan --json`, `build --json` and `inspect` show them
 * (UEFI's and the Discoverable Partitions Specification's names, other bits by number), and back
 * to the 64-bit mask the partition entry stores.
 */
import { ATTRIBUTE_BITS } from './schema';

const NAMES_BY_BIT: ReadonlyMap<number, string> = new Map([...ATTRIBUTE_BITS].map(([name, bit]) => [bit, name]));

/** The set bits of a mask, in bit order: their names, or their numbers ("48") for bits without one. */
export function attributeNames(attributes: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((attributes >> BigInt(bit)) & 1n) names.push(NAMES_BY_BIT.get(bit) ?? String(bit));
  }
  return names;
}

/** The mask of names attributeNames gave (names or bit numbers 0 to 63); throws on anything else. */
export function attributeMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = ATTRIBUTE_BITS.get(name) ?? (/^(?:[0-9]|[1-5][0-9]|6[0-3])$/.test(name) ? Number(name) : undefined);
    if (bit === undefined) throw new RangeError(`not a GPT attribute name or bit number 0 to 63: ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}
