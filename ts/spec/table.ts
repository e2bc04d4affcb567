/**
 * The spec's partition-table fields: `table` (gpt, mbr or hybrid), the MBR's `diskId` and
 * `bootCode`, and per partition `mbrType`, `bootable`, `primary` and `hybrid`; and the checks
 * that relate them to each other and to the GPT-only fields.
 */
import { absent, fail, isMapping, ok, type Parsed } from './fields';
import { describeValue } from '../units';

/** The partition table kinds: GPT (the default), a plain MBR (DOS) table, or a GPT with a hybrid MBR. */
export const TABLE_KINDS = ['gpt', 'mbr', 'hybrid'] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

export function parseTable(value: unknown): Parsed<TableKind> {
  if (absent(value)) return ok('gpt');
  const match = TABLE_KINDS.find((kind) => kind === value);
  return match !== undefined ? ok(match) : fail(`expected one of ${TABLE_KINDS.join(', ')}, got ${describeValue(value)}`);
}

/** A number or a hex string ("0x83", "0x12345678") from `min` to `max`. */
function parseHexInteger(value: unknown, min: number, max: number, expected: string): Parsed<number> {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*0x[0-9a-f]+\s*$/i.test(value) ? Number.parseInt(value.trim(), 16) : Number.NaN;
  if (!Number.isInteger(number) || number < min || number > max) return fail(`expected ${expected}, got ${describeValue(value)}`);
  return ok(number);
}

/** MBR disk signature: 32 bits, e.g. 0x12345678. */
export function parseDiskId(value: unknown): Parsed<number | undefined> {
  if (absent(value)) return ok(undefined);
  return parseHexInteger(value, 0, 0xffffffff, 'a 32-bit disk signature like 0x12345678');
}

/** Types imgforge writes itself (extended, GPT protective) or that mark an unused record. */
const RESERVED_MBR_TYPES: ReadonlyMap<number, string> = new Map([
  [0x00, 'marks an unused record'],
  [0x05, 'is an extended partition, which imgforge writes itself when there are more than four partitions'],
  [0x0f, 'is an extended partition, which imgforge writes itself when there are more than four partitions'],
  [0x85, 'is an extended partition, which imgforge writes itself when there are more than four partitions'],
  [0xee, 'is the GPT protective type (use table: gpt or hybrid)'],
]);

/** An MBR partition type byte, e.g. 0x0c (FAT32 LBA) or 0x83 (Linux). */
export function parseMbrType(value: unknown): Parsed<number | undefined> {
  if (absent(value)) return ok(undefined);
  const parsed = parseHexInteger(value, 0, 0xff, 'an MBR type byte like 0x0c or 0x83');
  if (!parsed.ok) return parsed;
  const reserved = RESERVED_MBR_TYPES.get(parsed.value);
  const hex = `0x${parsed.value.toString(16).padStart(2, '0')}`;
  return reserved === undefined ? parsed : fail(`MBR type ${hex} ${reserved}; choose another type`);
}

export function parseFlag(what: string) {
  return (value: unknown): Parsed<boolean> => {
    if (absent(value)) return ok(false);
    return typeof value === 'boolean' ? ok(value) : fail(`expected true or false (${what}), got ${describeValue(value)}`);
  };
}

/** Primary records beside the extended one when there are more than four partitions. */
export const MBR_PRIMARIES_WITH_EXTENDED = 3;
/** Partitions a hybrid MBR mirrors: its fourth record is the 0xEE one. */
export const HYBRID_MAX_MIRRORED = 3;

const GPT_ONLY = 'a GPT-only field; an MBR partition has no';
const MBR_FIELDS = ['mbrType', 'bootable', 'primary', 'hybrid'] as const;

/**
 * Fields that do not belong to the spec's table kind, and the MBR's limits: under mbr no GUIDs
 * or GPT attributes, at most 3 forced primaries beside an extended partition; under hybrid at
 * most 3 mirrored partitions, and MBR fields only on them; under gpt no MBR fields at all.
 */
export function tableIssues(raw: Record<string, unknown>, partitions: unknown[]): Array<{ path: PropertyKey[]; message: string }> {
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const add = (path: PropertyKey[], message: string) => issues.push({ path, message });
  const parsed = parseTable(raw.table);
  if (!parsed.ok) return issues;
  const table = parsed.value;
  const set = (value: unknown) => !absent(value) && value !== false;
  if (table === 'gpt') {
    for (const key of ['diskId', 'bootCode'] as const) {
      if (!absent(raw[key])) add([key], 'only for table: mbr or hybrid (this spec writes a GPT; set table)');
    }
  }
  if (table === 'mbr' && !absent(raw.diskGuid)) add(['diskGuid'], 'a GPT-only field; under table: mbr the disk is identified by diskId');
  const mirrored: number[] = [];
  const forced: number[] = [];
  partitions.forEach((partition, i) => {
    if (!isMapping(partition)) return;
    const at = (key: string) => ['partitions', i, key];
    if (table === 'gpt') {
      for (const key of MBR_FIELDS) if (set(partition[key])) add(at(key), 'only for table: mbr or hybrid (this spec writes a GPT; set table)');
      return;
    }
    if (table === 'mbr') {
      if (!absent(partition.guid)) add(at('guid'), `${GPT_ONLY} GUID (table: mbr)`);
      if (Array.isArray(partition.attributes) ? partition.attributes.length > 0 : !absent(partition.attributes)) {
        add(at('attributes'), `${GPT_ONLY} attributes; use bootable for the MBR active flag (table: mbr)`);
      }
      if (set(partition.hybrid)) add(at('hybrid'), 'only for table: hybrid');
      if (partition.primary === true) forced.push(i);
      return;
    }
    if (set(partition.primary)) add(at('primary'), 'only for table: mbr (a hybrid MBR holds primary records only)');
    if (partition.hybrid === true) {
      mirrored.push(i);
      if (mirrored.length > HYBRID_MAX_MIRRORED) {
        add(at('hybrid'), `a hybrid MBR mirrors at most ${HYBRID_MAX_MIRRORED} partitions (${mirrored.slice(0, HYBRID_MAX_MIRRORED).map((n) => `partitions[${n}]`).join(', ')} already are); its fourth record is the 0xEE one`);
      }
    } else {
      for (const key of ['mbrType', 'bootable'] as const) {
        if (set(partition[key])) add(at(key), 'only on partitions the hybrid MBR mirrors (set hybrid: true)');
      }
    }
  });
  if (table === 'hybrid' && mirrored.length === 0 && partitions.length > 0) {
    add(['table'], `hybrid needs 1 to ${HYBRID_MAX_MIRRORED} partitions with hybrid: true to mirror in the MBR`);
  }
  if (table === 'mbr' && partitions.length > 4 && forced.length > MBR_PRIMARIES_WITH_EXTENDED) {
    add(
      ['partitions', forced[MBR_PRIMARIES_WITH_EXTENDED], 'primary'],
      `with more than 4 partitions, at most ${MBR_PRIMARIES_WITH_EXTENDED} can be primary (one of the four MBR records holds the extended partition); ` +
        `${forced.slice(0, MBR_PRIMARIES_WITH_EXTENDED).map((n) => `partitions[${n}]`).join(', ')} already are`,
    );
  }
  return issues;
}
