/**
 * The `filesystem` of a partition: a FAT32 filesystem imgforge writes itself from files and
 * folders. Only what can be checked without touching disk is checked here; the source tree (names
 * FAT cannot hold, symlink loops, sizes) is checked when it is scanned.
 */
import { z } from 'zod';
import { checkSize, describeValue, formatBytes, isPowerOfTwo } from '../units';
import { absent, fail, field, loneSurrogateProblem, ok, parseOptionalString, strictObject, type Parsed } from './fields';

export const FILESYSTEM_TYPES = ['fat32'] as const;
export const MAX_LABEL_LENGTH = 11;
export const MIN_CLUSTER_SIZE = 512;
export const MAX_CLUSTER_SIZE = 65536;

export function parseFilesystemType(value: unknown): Parsed<'fat32'> {
  if (value === 'fat32') return ok(value);
  const got = absent(value) ? 'required' : `unknown filesystem type ${describeValue(value)}`;
  return fail(`${got}; expected one of: ${FILESYSTEM_TYPES.join(', ')}`);
}

/** FAT's short-name characters, which labels use too (lower case is stored upper case). */
const LABEL_CHARS = /^[A-Za-z0-9 !#$%&'()\-@^_`{}~]*$/;

/** A FAT volume label: at most 11 characters of the short-name set, stored upper case. */
export function parseLabel(value: unknown): Parsed<string | undefined> {
  if (absent(value)) return ok(undefined);
  if (typeof value !== 'string' || value.length === 0) return fail(`expected a volume label of 1 to ${MAX_LABEL_LENGTH} characters, got ${describeValue(value)}`);
  if (value.length > MAX_LABEL_LENGTH) return fail(`${describeValue(value)} is ${value.length} characters long; a FAT volume label holds at most ${MAX_LABEL_LENGTH}`);
  if (value.startsWith(' ')) return fail(`${describeValue(value)} starts with a space, which FAT labels cannot`);
  const surrogate = loneSurrogateProblem(value);
  if (surrogate !== undefined) return fail(surrogate);
  const bad = [...value].find((c) => !LABEL_CHARS.test(c));
  if (bad !== undefined) {
    return fail(`${describeValue(value)} contains ${JSON.stringify(bad)}; a FAT label may hold letters, digits, spaces and ! # $ % & ' ( ) - @ ^ _ \` { } ~`);
  }
  return ok(value.toUpperCase());
}

/** A 32-bit volume serial number: a number, or hex text like "0x1234ABCD" or "1234-ABCD". */
export function parseVolumeId(value: unknown): Parsed<number | undefined> {
  if (absent(value)) return ok(undefined);
  const expected = `expected a 32-bit volume ID like 0x1234ABCD or "1234-ABCD"`;
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? ok(value) : fail(`${expected}, got ${describeValue(value)}`);
  }
  if (typeof value === 'string') {
    const hex = /^(?:0x)?([0-9a-f]{4})-?([0-9a-f]{4})$/i.exec(value.trim());
    if (hex) return ok(parseInt(hex[1] + hex[2], 16));
  }
  return fail(`${expected}, got ${describeValue(value)}`);
}

export function parseMinFree(value: unknown): Parsed<number> {
  if (absent(value)) return ok(0);
  const size = checkSize(value);
  if (!size.ok) return fail(size.syntax ? `expected a size like 16MiB, got ${describeValue(value)}` : size.problem);
  return ok(size.bytes);
}

export function parseClusterSize(value: unknown): Parsed<number | undefined> {
  if (absent(value)) return ok(undefined);
  const size = checkSize(value);
  const expected = `expected a power of two from ${MIN_CLUSTER_SIZE} to ${formatBytes(MAX_CLUSTER_SIZE)} (4KiB is what reflinks share)`;
  if (!size.ok) return fail(`${expected}, got ${describeValue(value)}`);
  if (!isPowerOfTwo(size.bytes) || size.bytes < MIN_CLUSTER_SIZE || size.bytes > MAX_CLUSTER_SIZE) {
    return fail(`${expected}, got ${describeValue(value)}`);
  }
  return ok(size.bytes);
}

/** Where a source goes inside the filesystem: an absolute path; "/" is the root. */
export function parseTarget(value: unknown): Parsed<string> {
  const expected = 'a path inside the filesystem starting with "/", like /EFI/BOOT/BOOTX64.EFI';
  if (absent(value)) return fail(`required: ${expected}`);
  if (typeof value !== 'string' || !value.startsWith('/')) return fail(`expected ${expected}, got ${describeValue(value)}`);
  if (value.split('/').includes('..')) return fail(`${describeValue(value)} contains "..", which would leave the filesystem`);
  if (value.includes('\0')) return fail('a target must not contain NUL characters');
  const surrogate = loneSurrogateProblem(value);
  return surrogate === undefined ? ok(value) : fail(surrogate);
}

export function parseSourcePath(value: unknown): Parsed<string> {
  if (absent(value)) return fail('required: a file or folder path');
  const parsed = parseOptionalString('a file or folder path')(value);
  return parsed.ok ? ok(parsed.value ?? '') : fail(parsed.problem);
}

export const fileSourceSchema = strictObject(
  {
    source: field(parseSourcePath),
    target: field(parseTarget),
  },
  'a file entry (a mapping)',
);

export const filesystemShape = {
  type: field(parseFilesystemType),
  label: field(parseLabel),
  volumeId: field(parseVolumeId),
  clusterSize: field(parseClusterSize),
  minFree: field(parseMinFree),
  files: z.preprocess(
    (value) => (value === null ? undefined : value),
    z
      .array(fileSourceSchema, {
        error: (issue) => `expected a list of { source, target } entries, got ${describeValue(issue.input)}`,
      })
      .optional()
      .transform((files) => files ?? []),
  ),
};

export const filesystemSchema = strictObject(filesystemShape, 'a filesystem (a mapping)');

export type ValidatedFilesystem = z.output<typeof filesystemSchema>;
