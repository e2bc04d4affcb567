/**
 * The spec's shape, as zod schemas with imgforge's own messages. Each field is parsed by a small
 * function that knows what to say about a bad value; zod supplies structure, strict keys and paths.
 * Checks that relate several fields (duplicates, "grow" count, sector multiples) live in
 * crossFieldIssues, which reads the raw input so that they are reported alongside field errors.
 */
import { z } from 'zod';
import {
  absent,
  isMapping,
  documented,
  fail,
  field,
  GUID_SCHEMA,
  loneSurrogateProblem,
  ok,
  parseOptionalString,
  sizeSchema,
  strictObject,
  TEXT_SCHEMA,
  type Parsed,
} from './fields';
import { checkSize, describeValue, formatBytes, isPowerOfTwo, MiB } from '../units';
import { isGuid, NIL_GUID } from '../guid';
import { filesystemDoc, filesystemSchema, filesystemShape, filesystemTypeIssues, parseClusterSize } from './filesystem';
import { ACCEPTED_TYPE_NAMES, EXAMPLE_TYPE_NAMES, resolveType, type ResolvedType } from './partition-types';
import type { SectorSize } from '../types';
import { parseDiskId, parseFlag, parseMbrType, parseTable, tableIssues } from './table';
import { signatureField, signatureShape, verityField, verityIssues, verityShape } from './verity';

export const MAX_PARTITIONS = 128;
export const MAX_NAME_UNITS = 36;
export const DEFAULT_SECTOR_SIZE = 512;
export const DEFAULT_ALIGNMENT = MiB;
export const SECTOR_SIZES = [512, 4096] as const;

/** GPT attribute bits by name: UEFI's (0-2) and the Discoverable Partitions Specification's (59, 60, 63). */
export const ATTRIBUTE_BITS: ReadonlyMap<string, number> = new Map([
  ['required-partition', 0],
  ['no-block-io-protocol', 1],
  ['legacy-bios-bootable', 2],
  ['growfs', 59],
  ['read-only', 60],
  ['no-auto', 63],
]);

export type Path = ReadonlyArray<PropertyKey>;
export interface Issue {
  path: Path;
  message: string;
}

/** `partitions[1].size`; the empty path (the document itself) is "(top level)". */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && part.length <= 60 && /^[A-Za-z_][\w-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else {
      // Unknown keys are shown as written, shortened like values (a key can be thousands of characters).
      const key = String(part);
      out += `[${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)}]`;
    }
  }
  return out === '' ? '(top level)' : out;
}

// ---- field parsers (exported for crossFieldIssues and tests) ----

const SIZE_WORDS = 'a size like 512MiB';

export function parseDiskSize(value: unknown): Parsed<number | 'auto'> {
  if (absent(value) || value === 'auto') return ok('auto');
  const size = checkSize(value);
  if (!size.ok) return fail(size.syntax ? `expected ${SIZE_WORDS} or "auto", got ${describeValue(value)}` : size.problem);
  if (size.bytes === 0) return fail('the disk size must be greater than 0 (or "auto")');
  return ok(size.bytes);
}

export function parseSectorSize(value: unknown): Parsed<SectorSize> {
  if (absent(value)) return ok(DEFAULT_SECTOR_SIZE);
  const size = checkSize(value);
  const match = size.ok ? SECTOR_SIZES.find((s) => s === size.bytes) : undefined;
  return match !== undefined ? ok(match) : fail(`expected 512 or 4096, got ${describeValue(value)}`);
}

export function parseAlignment(value: unknown): Parsed<number> {
  if (absent(value)) return ok(DEFAULT_ALIGNMENT);
  const size = checkSize(value);
  if (!size.ok) return fail(size.syntax ? `expected a power of two like 1MiB, got ${describeValue(value)}` : size.problem);
  if (!isPowerOfTwo(size.bytes)) {
    return fail(`expected a power of two like 4KiB or 1MiB (and a multiple of sectorSize), got ${describeValue(value)}`);
  }
  return ok(size.bytes);
}

export function parseGuid(value: unknown): Parsed<string | undefined> {
  if (absent(value)) return ok(undefined);
  if (typeof value !== 'string' || !isGuid(value.trim())) {
    return fail(`expected a GUID like 6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB, got ${describeValue(value)}`);
  }
  const guid = value.trim().toUpperCase();
  if (guid === NIL_GUID) return fail('the all-zero GUID is not allowed (GPT uses it to mark unused entries)');
  return ok(guid);
}

export function parseName(value: unknown): Parsed<string> {
  if (absent(value)) return fail(`required: a partition name of 1 to ${MAX_NAME_UNITS} characters`);
  if (typeof value !== 'string' || value.length === 0) {
    const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (write it in quotes to use it as text)' : '';
    return fail(`expected a partition name of 1 to ${MAX_NAME_UNITS} characters, got ${describeValue(value)}${hint}`);
  }
  // GPT stores names as 36 UTF-16 code units; JS string length counts exactly those.
  if (value.length > MAX_NAME_UNITS) {
    return fail(`${describeValue(value)} is ${value.length} UTF-16 code units long; GPT names hold at most ${MAX_NAME_UNITS}`);
  }
  if (value.includes('\0')) return fail('a partition name must not contain NUL characters');
  const surrogate = loneSurrogateProblem(value);
  return surrogate === undefined ? ok(value) : fail(surrogate);
}

export function parseType(value: unknown): Parsed<ResolvedType> {
  const expected = `a Discoverable Partitions Specification name (${EXAMPLE_TYPE_NAMES.join(', ')}, ...) or a GUID`;
  if (absent(value)) return fail(`required: ${expected}`);
  const resolved = typeof value === 'string' ? resolveType(value) : undefined;
  if (resolved === undefined) return fail(`unknown partition type ${describeValue(value)}; expected ${expected}`);
  if (resolved.guid === NIL_GUID) return fail('the all-zero type GUID marks an unused GPT entry; choose a real type');
  return ok(resolved);
}

export type PartitionSize = number | 'auto' | 'grow';

export function parsePartitionSize(value: unknown): Parsed<PartitionSize> {
  const expected = `${SIZE_WORDS}, "auto" or "grow"`;
  if (absent(value)) return fail(`required: ${expected}`);
  if (value === 'auto' || value === 'grow') return ok(value);
  const size = checkSize(value);
  if (!size.ok) return fail(size.syntax ? `expected ${expected}, got ${describeValue(value)}` : size.problem);
  if (size.bytes === 0) return fail(`a partition needs at least one sector; expected ${expected}, got 0`);
  return ok(size.bytes);
}

export function parseAttribute(value: unknown): Parsed<number> {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 63) return ok(value);
  if (typeof value === 'string') {
    const bit = ATTRIBUTE_BITS.get(value.trim().toLowerCase());
    if (bit !== undefined) return ok(bit);
  }
  return fail(`expected an attribute name (${[...ATTRIBUTE_BITS.keys()].join(', ')}) or a bit number 0 to 63, got ${describeValue(value)}`);
}

// ---- schemas ----

/**
 * The keys of one partition. Kept as its own object so new keys (e.g. a `filesystem` that excludes
 * `contents`) are added here and show up in "allowed:" lists without further changes.
 */
export const partitionShape = {
  name: field(parseName, {
    description: `The GPT partition name (its label): 1 to ${MAX_NAME_UNITS} UTF-16 code units, unique in the spec.`,
    examples: ['esp', 'root-a'],
    schema: { type: 'string', minLength: 1, maxLength: MAX_NAME_UNITS },
    required: true,
  }),
  type: field(parseType, {
    description:
      'The partition type: a Discoverable Partitions Specification name as systemd-repart spells it ' +
      `(${EXAMPLE_TYPE_NAMES.join(', ')}, ...; systemd's architecture aliases such as root-amd64 too), or a type GUID.`,
    examples: ['esp', 'root-x86-64', 'linux-generic', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
    schema: { anyOf: [{ enum: ACCEPTED_TYPE_NAMES }, GUID_SCHEMA] },
    required: true,
  }),
  size: field(parsePartitionSize, {
    description:
      'The partition size: bytes or a size with a binary unit (B, KiB, MiB, GiB, TiB), a multiple of sectorSize; ' +
      '"auto" for the smallest that holds its contents or filesystem (rounded up to the alignment); "grow" for the rest of the disk (one partition at most).',
    examples: ['512MiB', 'auto', 'grow', 8388608],
    schema: { anyOf: [{ enum: ['auto', 'grow'] }, sizeSchema(1)] },
    required: true,
  }),
  guid: field(parseGuid, {
    description: 'The partition GUID; when left out it is derived from the seed (or random without one).',
    examples: ['6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB'],
    schema: GUID_SCHEMA,
  }),
  attributes: documented(
    z.preprocess(
      (value) => (value === null ? undefined : value),
      z
        .array(
          field(parseAttribute, {
            description: `A GPT attribute: ${[...ATTRIBUTE_BITS].map(([name, bit]) => `${name} (bit ${bit})`).join(', ')}, or a bit number 0 to 63.`,
            examples: ['read-only', 'growfs', 48],
            schema: { anyOf: [{ enum: [...ATTRIBUTE_BITS.keys()] }, { type: 'integer', minimum: 0, maximum: 63 }] },
          }),
          {
            error: (issue) => `expected a list of attribute names or bit numbers 0 to 63, got ${describeValue(issue.input)}`,
          },
        )
        .optional()
        .transform((bits) => (bits ?? []).reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n)),
    ),
    { description: 'GPT attribute bits to set, by name or number.', examples: [['read-only'], ['growfs'], ['read-only', 'no-auto']] },
  ),
  contents: field(parseOptionalString('a file path'), {
    description: 'A file (a filesystem image) copied raw into the partition; relative to the spec\'s folder. Not together with filesystem.',
    examples: ['./rootfs.ext4'],
    schema: TEXT_SCHEMA,
  }),
  filesystem: documented(filesystemSchema.optional().nullable().transform((fs) => fs ?? undefined), filesystemDoc),
  mbrType: field(parseMbrType, {
    description:
      'table mbr or hybrid: the MBR partition type byte, a number or hex text. Default: 0x0c for a FAT32 filesystem, 0xef for an esp without one, 0x82 for swap, 0x83 for Linux types.',
    examples: ['0x0c', '0x83', 131],
    schema: { anyOf: [{ type: 'integer', minimum: 1, maximum: 255 }, { type: 'string', pattern: '^\\s*0[xX][0-9a-fA-F]{1,2}\\s*$' }] },
  }),
  bootable: field(parseFlag('the MBR active flag'), {
    description: 'table mbr or hybrid: the MBR active flag (boot indicator 0x80), which BIOS boot code and some boards look for.',
    examples: [true],
    schema: { type: 'boolean' },
  }),
  primary: field(parseFlag('keep the partition primary'), {
    description: 'table mbr: keep this partition in one of the four primary records, never a logical one; an error where that cannot be.',
    examples: [true],
    schema: { type: 'boolean' },
  }),
  hybrid: field(parseFlag('mirror the partition in the hybrid MBR'), {
    description: 'table hybrid: mirror this partition in the MBR (at most three partitions), for firmware that reads only the MBR.',
    examples: [true],
    schema: { type: 'boolean' },
  }),
  verity: verityField,
  signature: signatureField,
};

export const partitionSchema = documented(strictObject(partitionShape, 'a partition (a mapping)'), {
  description: 'One partition, in table order.',
  extra: { not: { required: ['contents', 'filesystem'] } },
});

export const specShape = {
  // Where editors find the spec's JSON Schema (`"$schema": "..."`, or `$schema:` in YAML);
  // imgforge itself does not read it.
  $schema: field(parseOptionalString('the URL or path of a JSON Schema'), {
    description: "Where editors find this JSON Schema (a URL, or a path relative to the spec); imgforge itself does not read it.",
    examples: ['./node_modules/imgforge/schema.json'],
    schema: TEXT_SCHEMA,
  }),
  output: field(parseOptionalString('a file path'), {
    description: "Where `imgforge build` writes the image unless -o says otherwise; relative to the spec's folder. Default: <spec name>.img beside the spec.",
    examples: ['disk.img'],
    schema: TEXT_SCHEMA,
  }),
  size: field(parseDiskSize, {
    description:
      'The disk size: bytes or a size with a binary unit (B, KiB, MiB, GiB, TiB), a multiple of sectorSize; ' +
      '"auto" (the default) for the smallest disk that holds the partitions.',
    examples: ['2GiB', 'auto', 104857600],
    schema: { anyOf: [{ const: 'auto' }, sizeSchema(1)] },
  }),
  sectorSize: field(parseSectorSize, {
    description: `The logical sector size in bytes: ${SECTOR_SIZES.join(' or ')} (default ${DEFAULT_SECTOR_SIZE}); a block device's must match.`,
    examples: [512, 4096],
    schema: { enum: [...SECTOR_SIZES, ...SECTOR_SIZES.map(String), '4KiB'] },
  }),
  alignment: field(parseAlignment, {
    description: 'Partitions start at multiples of this: a power of two, a multiple of sectorSize (default 1MiB).',
    examples: ['1MiB', '4KiB'],
    schema: sizeSchema(1),
  }),
  seed: field(parseOptionalString('a non-empty string'), {
    description: 'Any text: GUIDs, volume IDs and UUIDs are derived from it, so the same seed and inputs (and SOURCE_DATE_EPOCH) give a byte-identical image. Without it they are random.',
    examples: ['my-product-v1'],
    schema: TEXT_SCHEMA,
  }),
  diskGuid: field(parseGuid, {
    description: 'The disk GUID; when left out it is derived from the seed (or random without one).',
    examples: ['6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB'],
    schema: GUID_SCHEMA,
  }),
  table: field(parseTable, {
    description:
      'The partition table: "gpt" (the default), "mbr" (DOS: up to four primary partitions, more as logical ones in an extended partition) or "hybrid" (a GPT plus an MBR mirroring up to three partitions marked hybrid: true).',
    examples: ['gpt', 'mbr', 'hybrid'],
    schema: { enum: ['gpt', 'mbr', 'hybrid'] },
  }),
  diskId: field(parseDiskId, {
    description: 'table mbr or hybrid: the 32-bit MBR disk signature, a number or hex text; derived from the seed when left out (random without one).',
    examples: ['0x12345678'],
    schema: { anyOf: [{ type: 'integer', minimum: 0, maximum: 4294967295 }, { type: 'string', pattern: '^\\s*0[xX][0-9a-fA-F]{1,8}\\s*$' }] },
  }),
  bootCode: field(parseOptionalString('a file path'), {
    description: "table mbr or hybrid: a file of at most 440 bytes of boot code for LBA 0 (e.g. syslinux's mbr.bin); relative to the spec's folder.",
    examples: ['./mbr.bin'],
    schema: TEXT_SCHEMA,
  }),
  partitions: documented(
    z.array(partitionSchema, {
      error: (issue) =>
        issue.input === undefined || issue.input === null
          ? `required: a list of 1 to ${MAX_PARTITIONS} partitions`
          : `expected a list of 1 to ${MAX_PARTITIONS} partitions, got ${describeValue(issue.input)}`,
    }),
    {
      description: `The partitions, in GPT entry order: 1 to ${MAX_PARTITIONS}.`,
      examples: [[{ name: 'esp', type: 'esp', size: '512MiB', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } }]],
      required: true,
      extra: { minItems: 1, maxItems: MAX_PARTITIONS },
    },
  ),
};

export const specSchema = documented(strictObject(specShape, 'a mapping'), {
  description: 'An imgforge image spec: a disk image (GPT, MBR or hybrid) and its partitions (https://github.com/imgforge/imgforge#image-spec).',
});

export type ValidatedSpec = z.output<typeof specSchema>;
export type ValidatedPartition = z.output<typeof partitionSchema>;

// ---- checks across fields ----

function valueOf<T>(result: Parsed<T>): T | undefined {
  return result.ok ? result.value : undefined;
}

/** Checks that involve more than one field; fields that are themselves invalid are skipped. */
export function crossFieldIssues(raw: unknown): Issue[] {
  if (!isMapping(raw)) return [];
  const issues: Issue[] = [];
  const add = (path: Path, message: string) => issues.push({ path, message });
  const sectorSize = valueOf(parseSectorSize(raw.sectorSize));

  if (sectorSize !== undefined) {
    const diskSize = valueOf(parseDiskSize(raw.size));
    if (typeof diskSize === 'number' && diskSize % sectorSize !== 0) {
      add(['size'], `${formatBytes(diskSize)} is not a multiple of sectorSize (${sectorSize})`);
    }
    const alignment = valueOf(parseAlignment(raw.alignment));
    if (alignment !== undefined && alignment < sectorSize) {
      add(['alignment'], `${formatBytes(alignment)} is smaller than sectorSize (${sectorSize}); expected a power of two that is a multiple of sectorSize`);
    }
  }

  const partitions = raw.partitions;
  if (!Array.isArray(partitions)) return issues;
  if (partitions.length === 0) add(['partitions'], `expected 1 to ${MAX_PARTITIONS} partitions, got an empty list`);
  if (partitions.length > MAX_PARTITIONS) {
    add(['partitions'], `expected 1 to ${MAX_PARTITIONS} partitions (the GPT has ${MAX_PARTITIONS} entries), got ${partitions.length}`);
  }

  issues.push(...tableIssues(raw, partitions));
  issues.push(...verityIssues(partitions));
  const diskGuid = valueOf(parseGuid(raw.diskGuid));
  const names = new Map<string, number>();
  const guids = new Map<string, number>();
  let grow: number | undefined;
  partitions.forEach((partition, i) => {
    if (!isMapping(partition)) return;
    const size = valueOf(parsePartitionSize(partition.size));
    if (size === 'grow') {
      if (grow !== undefined) add(['partitions', i, 'size'], `only one partition can be "grow" (partitions[${grow}] already is)`);
      else grow = i;
    }
    const hasFilesystem = !absent(partition.filesystem);
    if (size === 'auto' && absent(partition.contents) && !hasFilesystem && absent(partition.verity) && absent(partition.signature)) {
      add(['partitions', i, 'size'], '"auto" needs contents or a filesystem to size the partition by; set one or give an explicit size');
    }
    if (hasFilesystem && !absent(partition.contents)) {
      add(['partitions', i, 'filesystem'], 'a partition has either contents (a raw image) or a filesystem (files imgforge formats), not both');
    }
    if (hasFilesystem && isMapping(partition.filesystem)) {
      for (const issue of filesystemTypeIssues(partition.filesystem)) add(['partitions', i, 'filesystem', ...issue.path], issue.message);
    }
    if (hasFilesystem && isMapping(partition.filesystem) && sectorSize !== undefined) {
      const clusterSize = valueOf(parseClusterSize(partition.filesystem.clusterSize));
      if (clusterSize !== undefined && clusterSize < sectorSize) {
        add(['partitions', i, 'filesystem', 'clusterSize'], `${formatBytes(clusterSize)} is smaller than sectorSize (${sectorSize})`);
      }
    }
    if (typeof size === 'number' && sectorSize !== undefined && size % sectorSize !== 0) {
      add(['partitions', i, 'size'], `${formatBytes(size)} is not a multiple of sectorSize (${sectorSize})`);
    }
    const name = valueOf(parseName(partition.name));
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) add(['partitions', i, 'name'], `duplicate name ${JSON.stringify(name)} (partitions[${first}] has it too); names must be unique`);
      else names.set(name, i);
    }
    const guid = valueOf(parseGuid(partition.guid));
    if (guid !== undefined) {
      const first = guids.get(guid);
      if (first !== undefined) add(['partitions', i, 'guid'], `duplicate GUID ${guid} (partitions[${first}].guid has it too); GUIDs must be unique`);
      else guids.set(guid, i);
      if (guid === diskGuid) add(['partitions', i, 'guid'], `${guid} is also the diskGuid; GUIDs must be unique`);
    }
  });
  return issues;
}

// ---- running it all ----

const SPEC_KEYS = Object.keys(specShape);
const PARTITION_KEYS = Object.keys(partitionShape);
const FILESYSTEM_KEYS = Object.keys(filesystemShape);
const NESTED_KEYS: Record<string, string[]> = { filesystem: FILESYSTEM_KEYS, verity: Object.keys(verityShape), signature: Object.keys(signatureShape) };

/** Document order: by partition index, then by the order keys are declared in (unknown keys last). */
function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const keys = i === 0 ? SPEC_KEYS : (NESTED_KEYS[String(a[i - 1])] ?? PARTITION_KEYS);
    const rank = (k: PropertyKey) => (typeof k === 'string' && keys.includes(k) ? keys.indexOf(k) : keys.length);
    return rank(x) - rank(y) || String(x).localeCompare(String(y));
  }
  return a.length - b.length;
}

function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((issue): Issue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: issue.message }))
      : [{ path: issue.path, message: issue.message }],
  );
}

export type ValidationResult = { ok: true; spec: ValidatedSpec } | { ok: false; issues: Issue[] };

/** Validates a parsed document; on failure returns every problem, in document order. */
export function validateSpec(raw: unknown): ValidationResult {
  if (raw === undefined || raw === null) {
    return { ok: false, issues: [{ path: [], message: 'the spec is empty; expected a mapping with at least a partitions list' }] };
  }
  // A list longer than the GPT holds is refused as a whole (crossFieldIssues): checking thousands of
  // entries one by one would only take time and flood the report.
  const tooMany = isMapping(raw) && Array.isArray(raw.partitions) && raw.partitions.length > MAX_PARTITIONS;
  const parsed = specSchema.safeParse(tooMany ? { ...raw, partitions: (raw.partitions as unknown[]).slice(0, MAX_PARTITIONS) } : raw);
  const issues = [...(parsed.success ? [] : zodIssues(parsed.error)), ...crossFieldIssues(raw)];
  if (issues.length > 0 || !parsed.success) {
    // Stable sort: issues for the same field keep the order they were found in.
    return { ok: false, issues: issues.sort((a, b) => comparePaths(a.path, b.path)) };
  }
  return { ok: true, spec: parsed.data };
}

export function formatIssue(issue: Issue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}
