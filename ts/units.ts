import { ImgforgeError } from './errors';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

// Only binary units: "MB" is ambiguous in the wild (10^6 or 2^20), and a disk image whose partitions are
// off by 5% because of that is worse than an error.
const UNITS: ReadonlyMap<string, number> = new Map([
  ['B', 1],
  ['KiB', KiB],
  ['MiB', MiB],
  ['GiB', GiB],
  ['TiB', TiB],
]);

const DECIMAL_UNITS = /^(k|kb|m|mb|g|gb|t|tb)$/i;

function unitHint(unit: string): string {
  const sameLetters = [...UNITS.keys()].find((u) => u.toLowerCase() === unit.toLowerCase());
  if (sameLetters !== undefined) return ` (units are case-sensitive: did you mean "${sameLetters}"?)`;
  if (DECIMAL_UNITS.test(unit)) return ` (decimal or ambiguous units like "${unit}" are not accepted; use KiB, MiB, GiB or TiB)`;
  return '';
}

const SIZE_RE = /^(\d+)(?:\.(\d+))?\s*([A-Za-z]*)$/;

/**
 * The text checkSize reads as a size, as a regular expression's source for the spec's JSON Schema:
 * a number, an optional fraction and one of the units, blanks around allowed. (Whether a fraction
 * gives whole bytes is for checkSize to say.)
 */
export const SIZE_PATTERN = `^\\s*\\d+(?:\\.\\d+)?\\s*(?:${[...UNITS.keys()].join('|')})?\\s*$`;

/** A short, quoted rendering of an arbitrary value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? '' : 's'})`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

export type SizeCheck = { ok: true; bytes: number } | { ok: false; problem: string; syntax: boolean };

const SIZE_EXAMPLES = 'a size like 512, "4KiB", "1MiB" or "2GiB" (units: B, KiB, MiB, GiB, TiB)';

/**
 * parseSize without throwing, for validators that collect every problem. `syntax` is true when the value
 * does not look like a size at all, so callers can list the other words their field accepts.
 */
export function checkSize(value: unknown): SizeCheck {
  const fail = (problem: string, syntax = false): SizeCheck => ({ ok: false, problem, syntax });
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(`expected ${SIZE_EXAMPLES}, got ${value}`, true);
    if (value < 0) return fail(`a size cannot be negative, got ${value}`);
    if (!Number.isInteger(value)) return fail(`a size must be a whole number of bytes, got ${value}`);
    if (!Number.isSafeInteger(value)) return fail(`size ${value} is too large (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
    return { ok: true, bytes: value };
  }
  if (typeof value !== 'string') return fail(`expected ${SIZE_EXAMPLES}, got ${describeValue(value)}`, true);
  const text = value.trim();
  if (/^-\s*\d/.test(text)) return fail(`a size cannot be negative, got ${describeValue(value)}`);
  const m = SIZE_RE.exec(text);
  const unitText = m?.[3] ?? '';
  const multiplier = UNITS.get(unitText === '' ? 'B' : unitText);
  if (!m || multiplier === undefined) {
    return fail(`expected ${SIZE_EXAMPLES}, got ${describeValue(value)}${unitHint(m ? unitText : '')}`, true);
  }
  const fraction = m[2] ?? '';
  // Exact arithmetic: "1.5GiB" must not go through floating point before we decide it is integral.
  const scale = 10n ** BigInt(fraction.length);
  const numerator = (BigInt(m[1]) * scale + BigInt(fraction === '' ? '0' : fraction)) * BigInt(multiplier);
  if (numerator % scale !== 0n) return fail(`${describeValue(value)} is not a whole number of bytes`);
  const bytes = numerator / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    return fail(`size ${describeValue(value)} is too large (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
  }
  return { ok: true, bytes: Number(bytes) };
}

/**
 * Parses a byte count: a non-negative integer, or a string "<number>[ ]<unit>" with unit B, KiB, MiB,
 * GiB or TiB. A fractional number is accepted only when it is an exact number of bytes ("1.5GiB" is,
 * "1.3KiB" is not), because sizes end up as sector counts and silent rounding would hide mistakes.
 */
export function parseSize(value: number | string, field: string): number {
  const result = checkSize(value);
  if (!result.ok) throw new ImgforgeError('SPEC_INVALID', `${field}: ${result.problem}`);
  return result.bytes;
}

/** Human-readable size: "512 B", "1 GiB", "1.5 MiB" (at most two decimals, trailing zeros dropped). */
export function formatSize(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  const units: Array<[string, number]> = [
    ['TiB', TiB],
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ];
  for (const [name, size] of units) {
    if (abs >= size) {
      const shown = (abs / size).toFixed(2).replace(/\.?0+$/, '');
      return `${sign}${shown} ${name}`;
    }
  }
  return `${sign}${abs} B`;
}

/** "1073741824 bytes (1 GiB)": exact for scripts, readable for people. */
export function formatBytes(bytes: number): string {
  return Math.abs(bytes) < KiB ? `${bytes} byte${bytes === 1 ? '' : 's'}` : `${bytes} bytes (${formatSize(bytes)})`;
}

export function isPowerOfTwo(value: number): boolean {
  if (!Number.isSafeInteger(value) || value <= 0) return false;
  // Bit tricks only work up to 2^31; this holds for every safe integer.
  return 2 ** Math.round(Math.log2(value)) === value;
}

function checkAlignment(value: number, alignment: number): void {
  if (!Number.isSafeInteger(alignment) || alignment <= 0) {
    throw new ImgforgeError('LAYOUT', `alignment must be a positive integer, got ${alignment}`);
  }
  if (!Number.isSafeInteger(value)) {
    throw new ImgforgeError('LAYOUT', `cannot align ${value}: not a safe integer`);
  }
}

/** Remainder in [0, alignment), also for negative values (JS `%` keeps the sign of the dividend). */
function positiveRemainder(value: number, alignment: number): number {
  return ((value % alignment) + alignment) % alignment;
}

/** Smallest multiple of `alignment` that is >= value. */
export function alignUp(value: number, alignment: number): number {
  checkAlignment(value, alignment);
  const rest = positiveRemainder(value, alignment);
  const result = rest === 0 ? value : value + (alignment - rest);
  if (!Number.isSafeInteger(result)) {
    throw new ImgforgeError('LAYOUT', `${value} rounded up to a multiple of ${alignment} exceeds ${Number.MAX_SAFE_INTEGER}`);
  }
  return result;
}

/** Largest multiple of `alignment` that is <= value. */
export function alignDown(value: number, alignment: number): number {
  checkAlignment(value, alignment);
  return value - positiveRemainder(value, alignment);
}
