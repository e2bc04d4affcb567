/**
 * The `filesystem` of a partition: a FAT32 or EROFS filesystem imgforge writes itself from files
 * and folders, or an ext4 or squashfs one it builds through e2fsprogs and squashfs-tools. Only what can be checked without touching disk is checked here; the source tree
 * (names the filesystem cannot hold, symlink loops, sizes) is checked when it is scanned.
 */
import { z } from 'zod';
import { checkSize, describeValue, formatBytes, isPowerOfTwo, SIZE_PATTERN } from '../units';
import { absent, documented, fail, field, GUID_SCHEMA, loneSurrogateProblem, ok, parseOptionalString, sizeSchema, strictObject, TEXT_SCHEMA, type FieldDoc, type JsonSchema, type Parsed } from './fields';
import { isGuid, NIL_GUID } from '../guid';
import type { FilesystemSpec } from '../types';

export const FILESYSTEM_TYPES = ['fat32', 'erofs', 'ext4', 'squashfs'] as const;
export type FilesystemType = (typeof FILESYSTEM_TYPES)[number];
export const MAX_LABEL_LENGTH = 11;
/** An EROFS volume name is 16 bytes. */
export const MAX_EROFS_LABEL_BYTES = 16;
/** An ext4 volume label (s_volume_name) is 16 bytes. */
export const MAX_EXT4_LABEL_BYTES = 16;
/** mksquashfs's compressors imgforge offers, and "none" (-noI -noD -noF -noX). */
export const SQUASHFS_COMPRESSIONS = ['zstd', 'xz', 'gzip', 'lz4', 'none'] as const;
export type SquashfsCompression = (typeof SQUASHFS_COMPRESSIONS)[number];
export const OWNERSHIPS = ['root', 'source'] as const;
export const MIN_CLUSTER_SIZE = 512;
export const MAX_CLUSTER_SIZE = 65536;

export function parseFilesystemType(value: unknown): Parsed<FilesystemType> {
  const known = FILESYSTEM_TYPES.find((type) => type === value);
  if (known !== undefined) return ok(known);
  const got = absent(value) ? 'required' : `unknown filesystem type ${describeValue(value)}`;
  return fail(`${got}; expected one of: ${FILESYSTEM_TYPES.join(', ')}`);
}

/** FAT's short-name characters, which labels use too (lower case is stored upper case). */
const LABEL_CLASS = "[A-Za-z0-9 !#$%&'()\\-@^_`{}~]";
const LABEL_CHARS = new RegExp(`^${LABEL_CLASS}*$`);

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


/** A volume name of at most `max` bytes of UTF-8 (EROFS, ext4), kept as written. */
function parseByteLabel(kind: string, max: number) {
  return (value: unknown): Parsed<string | undefined> => {
    const parsed = parseOptionalString('a volume name')(value);
    if (!parsed.ok || parsed.value === undefined) return parsed;
    const bytes = Buffer.byteLength(parsed.value, 'utf8');
    if (bytes > max) return fail(`${describeValue(value)} is ${bytes} bytes long; an ${kind} volume name holds at most ${max}`);
    return parsed;
  };
}

/** An EROFS volume name: at most 16 bytes of UTF-8, kept as written. */
export const parseErofsLabel = parseByteLabel('EROFS', MAX_EROFS_LABEL_BYTES);
/** An ext4 volume label: at most 16 bytes of UTF-8, kept as written. */
export const parseExt4Label = parseByteLabel('ext4', MAX_EXT4_LABEL_BYTES);

export function parseSquashfsCompression(value: unknown): Parsed<SquashfsCompression | undefined> {
  if (absent(value)) return ok(undefined);
  const known = SQUASHFS_COMPRESSIONS.find((c) => c === value);
  return known !== undefined ? ok(known) : fail(`expected one of ${SQUASHFS_COMPRESSIONS.join(', ')}, got ${describeValue(value)}`);
}

/** A volume UUID (EROFS, ext4), written like a GUID. */
export function parseUuid(value: unknown): Parsed<string | undefined> {
  if (absent(value)) return ok(undefined);
  if (typeof value !== 'string' || !isGuid(value.trim())) {
    return fail(`expected a UUID like 6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB, got ${describeValue(value)}`);
  }
  const uuid = value.trim().toUpperCase();
  return uuid === NIL_GUID ? fail('the all-zero UUID is not allowed (it means "no UUID")') : ok(uuid);
}

export function parseOwnership(value: unknown): Parsed<'root' | 'source' | undefined> {
  if (absent(value)) return ok(undefined);
  const known = OWNERSHIPS.find((o) => o === value);
  return known !== undefined
    ? ok(known)
    : fail(`expected "root" (every entry owned by 0:0) or "source" (the sources' owners), got ${describeValue(value)}`);
}

export function parseMinFree(value: unknown): Parsed<number | undefined> {
  if (absent(value)) return ok(undefined);
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

export const fileSourceSchema = documented(
  strictObject(
    {
      source: field(parseSourcePath, {
        description: "A file or folder to copy in, relative to the spec's folder; a folder brings its whole tree.",
        examples: ['./esp', './build/vmlinuz.efi'],
        schema: TEXT_SCHEMA,
        required: true,
      }),
      target: field(parseTarget, {
        description: 'Where it goes inside the filesystem: an absolute path; "/" is the root.',
        examples: ['/', '/EFI/BOOT/BOOTX64.EFI'],
        schema: { type: 'string', pattern: '^(?!.*(?:^|/)\\.\\.(?:/|$))/' },
        required: true,
      }),
    },
    'a file entry (a mapping)',
  ),
  { description: 'A file or folder and where it goes in the filesystem.' },
);

/** Powers of two from MIN_CLUSTER_SIZE to MAX_CLUSTER_SIZE. */
const CLUSTER_SIZES = Array.from({ length: Math.log2(MAX_CLUSTER_SIZE / MIN_CLUSTER_SIZE) + 1 }, (_, i) => MIN_CLUSTER_SIZE << i);

export const filesystemShape = {
  type: field(parseFilesystemType, {
    description:
      'fat32: a FAT32 filesystem (EFI system partitions); erofs: a read-only EROFS (root and /usr partitions); ' +
      'ext4: a writable ext4 built with mkfs.ext4 (e2fsprogs); squashfs: a compressed read-only squashfs built with mksquashfs (squashfs-tools).',
    examples: ['fat32', 'erofs', 'ext4', 'squashfs'],
    schema: { enum: [...FILESYSTEM_TYPES] },
    required: true,
  }),
  // Checked by type (filesystemTypeIssues): FAT's 11 characters of its own set, or EROFS's and ext4's 16 bytes.
  label: field((value): Parsed<unknown> => ok(value), {
    description: `The volume label: for fat32 at most ${MAX_LABEL_LENGTH} characters (letters, digits, spaces and ! # $ % & ' ( ) - @ ^ _ \` { } ~; stored upper case), for erofs and ext4 at most ${MAX_EROFS_LABEL_BYTES} bytes of UTF-8; squashfs has none.`,
    examples: ['ESP', 'root-a'],
    schema: TEXT_SCHEMA,
  }),
  volumeId: field(parseVolumeId, {
    description: 'fat32 only: the 32-bit volume serial number, a number or hex text; derived from the seed (or random) when left out.',
    examples: ['1234-ABCD', '0x1234ABCD', 305441741],
    schema: {
      anyOf: [
        { type: 'integer', minimum: 0, maximum: 0xffffffff },
        { type: 'string', pattern: '^\\s*(?:0[xX])?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}\\s*$' },
      ],
    },
  }),
  clusterSize: field(parseClusterSize, {
    description: `fat32 only: bytes per cluster, a power of two from ${MIN_CLUSTER_SIZE} to ${formatBytes(MAX_CLUSTER_SIZE)}, at least sectorSize; chosen by size when left out (4KiB is what reflinks share).`,
    examples: ['4KiB', 4096],
    schema: { anyOf: [{ enum: CLUSTER_SIZES }, { type: 'string', pattern: SIZE_PATTERN }] },
  }),
  minFree: field(parseMinFree, {
    description: 'fat32 and ext4: free space to keep; a partition sized "auto" gets at least this much room beyond its files (and a fixed size is checked for it).',
    examples: ['16MiB'],
    schema: sizeSchema(0),
  }),
  uuid: field(parseUuid, {
    description: 'erofs and ext4: the volume UUID; derived from the seed (or random) when left out (ext4: its directory hash seed is derived likewise).',
    examples: ['6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB'],
    schema: GUID_SCHEMA,
  }),
  ownership: field(parseOwnership, {
    description: 'erofs, ext4 and squashfs: "root" (the default) makes every entry owned by 0:0; "source" keeps the sources\' uid and gid.',
    examples: ['root', 'source'],
    schema: { enum: [...OWNERSHIPS] },
  }),
  compression: field(parseSquashfsCompression, {
    description: 'squashfs only: how data, inodes, directories and fragments are compressed: zstd (the default), xz, gzip, lz4, or none.',
    examples: ['zstd', 'xz', 'none'],
    schema: { enum: [...SQUASHFS_COMPRESSIONS] },
  }),
  files: documented(
    z.preprocess(
      (value) => (value === null ? undefined : value),
      z
        .array(fileSourceSchema, {
          error: (issue) => `expected a list of { source, target } entries, got ${describeValue(issue.input)}`,
        })
        .optional()
        .transform((files) => files ?? []),
    ),
    {
      description: 'What the filesystem holds: files and folders, each placed at a path inside it.',
      examples: [[{ source: './esp', target: '/' }]],
    },
  ),
};

type TypedKey = 'volumeId' | 'clusterSize' | 'minFree' | 'uuid' | 'ownership' | 'compression';
const TYPED_KEYS: readonly TypedKey[] = ['volumeId', 'clusterSize', 'minFree', 'uuid', 'ownership', 'compression'];

/** The keys only some types of filesystem have, by type (type, label and files are common). */
const KEYS_OF: Record<FilesystemType, readonly TypedKey[]> = {
  fat32: ['volumeId', 'clusterSize', 'minFree'],
  erofs: ['uuid', 'ownership'],
  ext4: ['uuid', 'minFree', 'ownership'],
  squashfs: ['ownership', 'compression'],
};

/** The types that have `key`, for messages: "fat32 and ext4". */
function typesWith(key: TypedKey): FilesystemType[] {
  return FILESYSTEM_TYPES.filter((type) => KEYS_OF[type].includes(key));
}

/** What the JSON Schema says of each type's label, as parseLabel and parseByteLabel check it. */
const LABEL_SCHEMA: Record<FilesystemType, JsonSchema | false> = {
  fat32: { type: 'string', pattern: `^(?! )${LABEL_CLASS}{1,${MAX_LABEL_LENGTH}}$` },
  // JSON Schema counts characters; imgforge checks the 16 bytes of UTF-8.
  erofs: { type: 'string', minLength: 1, maxLength: MAX_EROFS_LABEL_BYTES },
  ext4: { type: 'string', minLength: 1, maxLength: MAX_EXT4_LABEL_BYTES },
  // A squashfs superblock has no volume name.
  squashfs: false,
};

/**
 * The `filesystem` key's documentation, with the rules of filesystemTypeIssues as JSON Schema:
 * for each type, the other type's keys are refused and the label follows the type's rules.
 */
export const filesystemDoc: FieldDoc = {
  description: 'A filesystem imgforge writes into the partition from files and folders (no root, no mkfs). Not together with contents.',
  examples: [{ type: 'fat32', label: 'ESP', files: [{ source: './esp', target: '/' }] }],
  extra: {
    allOf: FILESYSTEM_TYPES.map((type) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: {
        properties: {
          label: LABEL_SCHEMA[type],
          ...Object.fromEntries(TYPED_KEYS.filter((key) => !KEYS_OF[type].includes(key)).map((key) => [key, false])),
        },
      },
    })),
  },
};

/**
 * Problems that depend on the filesystem's type, from the raw mapping (so they are reported with
 * every other problem): keys of the other type, and the label by the type's rules. Paths are
 * relative to the filesystem.
 */
export function filesystemTypeIssues(raw: Record<string, unknown>): Array<{ path: string[]; message: string }> {
  const type = parseFilesystemType(raw.type);
  if (!type.ok) return [];
  const issues: Array<{ path: string[]; message: string }> = TYPED_KEYS.filter((key) => !KEYS_OF[type.value].includes(key) && !absent(raw[key])).map((key) => {
    const owners = typesWith(key);
    const who = owners.length === 1 ? `only a ${owners[0]} filesystem has` : `only ${owners.slice(0, -1).join(', ')} and ${owners[owners.length - 1]} filesystems have`;
    return { path: [key], message: `${who} ${key}; this one is ${type.value}` };
  });
  const label = labelFor(type.value, raw.label);
  if (!label.ok) issues.push({ path: ['label'], message: label.problem });
  return issues;
}

function labelFor(type: FilesystemType, value: unknown): Parsed<string | undefined> {
  switch (type) {
    case 'fat32':
      return parseLabel(value);
    case 'erofs':
      return parseErofsLabel(value);
    case 'ext4':
      return parseExt4Label(value);
    case 'squashfs':
      return absent(value) ? ok(undefined) : fail('a squashfs filesystem has no volume label; leave label out');
  }
}

export const filesystemSchema = strictObject(filesystemShape, 'a filesystem (a mapping)').transform((fs): FilesystemSpec => {
  // filesystemTypeIssues reports what does not hold here; the spec is refused then.
  const label = labelFor(fs.type, fs.label);
  const name = label.ok ? label.value : undefined;
  switch (fs.type) {
    case 'fat32':
      return { type: 'fat32', label: name, volumeId: fs.volumeId, clusterSize: fs.clusterSize, minFree: fs.minFree ?? 0, files: fs.files };
    case 'erofs':
      return { type: 'erofs', label: name, uuid: fs.uuid, ownership: fs.ownership ?? 'root', files: fs.files };
    case 'ext4':
      return { type: 'ext4', label: name, uuid: fs.uuid, minFree: fs.minFree ?? 0, ownership: fs.ownership ?? 'root', files: fs.files };
    case 'squashfs':
      return { type: 'squashfs', ownership: fs.ownership ?? 'root', compression: fs.compression ?? 'zstd', files: fs.files };
  }
});
