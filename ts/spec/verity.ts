/**
 * The `verity` and `signature` keys of a partition: a dm-verity hash partition over another
 * partition (its data), and a signature partition over a hash partition's root hash, as the UAPI
 * Discoverable Partitions Specification pairs them (root-x86-64 -> root-x86-64-verity ->
 * root-x86-64-verity-sig). Field parsers and the checks across partitions; key files are read
 * by planning (ts/plan/verity.ts).
 */
import { z } from 'zod';
import { checkSize, describeValue, formatSize, isPowerOfTwo } from '../units';
import { absent, documented, fail, field, isMapping, ok, parseOptionalString, strictObject, TEXT_SCHEMA, type Parsed } from './fields';
import { resolveType } from './partition-types';

/** As schema.ts's Issue (not imported: schema.ts imports this module). */
type Path = ReadonlyArray<PropertyKey>;
interface Issue {
  path: Path;
  message: string;
}

export const HASH_ALGORITHMS = ['sha256', 'sha512'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];
/** veritysetup's defaults. */
export const DEFAULT_VERITY_BLOCK_SIZE = 4096;
export const MIN_VERITY_BLOCK_SIZE = 512;
export const MAX_VERITY_BLOCK_SIZE = 512 * 1024;
/** The superblock's salt field; veritysetup's default salt is 32 bytes, as systemd-repart's. */
export const MAX_SALT_BYTES = 256;

export function parseVerityReference(what: string) {
  return (value: unknown): Parsed<string> => {
    if (absent(value)) return fail(`required: the name of the ${what}`);
    const parsed = parseOptionalString(`the name of the ${what}`)(value);
    return parsed.ok ? ok(parsed.value ?? '') : fail(parsed.problem);
  };
}

export function parseRequiredPath(what: string) {
  return (value: unknown): Parsed<string> => {
    if (absent(value)) return fail(`required: the path of the ${what}`);
    const parsed = parseOptionalString(`the path of the ${what}`)(value);
    return parsed.ok ? ok(parsed.value ?? '') : fail(parsed.problem);
  };
}

export function parseSalt(value: unknown): Parsed<string | undefined> {
  if (absent(value)) return ok(undefined);
  const expected = `expected an even number of hexadecimal digits (at most ${MAX_SALT_BYTES} bytes), or "-" for no salt`;
  if (value === '-') return ok('');
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(value.trim())) return fail(`${expected}, got ${describeValue(value)}`);
  const hex = value.trim().toLowerCase();
  if (hex.length / 2 > MAX_SALT_BYTES) return fail(`the salt is ${hex.length / 2} bytes; a verity superblock holds at most ${MAX_SALT_BYTES}`);
  return ok(hex);
}

export function parseHashAlgorithm(value: unknown): Parsed<HashAlgorithm> {
  if (absent(value)) return ok('sha256');
  const known = HASH_ALGORITHMS.find((a) => a === (typeof value === 'string' ? value.trim().toLowerCase() : value));
  return known !== undefined ? ok(known) : fail(`expected one of ${HASH_ALGORITHMS.join(', ')}, got ${describeValue(value)}`);
}

export function parseVerityBlockSize(value: unknown): Parsed<number> {
  if (absent(value)) return ok(DEFAULT_VERITY_BLOCK_SIZE);
  const size = checkSize(value);
  const expected = `expected a power of two from ${MIN_VERITY_BLOCK_SIZE} to ${formatSize(MAX_VERITY_BLOCK_SIZE)}`;
  if (!size.ok || !isPowerOfTwo(size.bytes) || size.bytes < MIN_VERITY_BLOCK_SIZE || size.bytes > MAX_VERITY_BLOCK_SIZE) {
    return fail(`${expected}, got ${describeValue(value)}`);
  }
  return ok(size.bytes);
}

const BLOCK_SIZE_SCHEMA = { anyOf: [{ type: 'integer', enum: [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288] }, { type: 'string' }] };

export const verityShape = {
  data: field(parseVerityReference('data partition'), {
    description: 'The name of the partition this hash partition protects (its data partition); it is hashed after it is written, whole.',
    examples: ['root-a'],
    schema: TEXT_SCHEMA,
    required: true,
  }),
  salt: field(parseSalt, {
    description: 'The salt as hexadecimal digits ("-" for none); derived from the seed when left out (32 bytes, random without a seed).',
    examples: ['4d1a6b0c9e2f3a58b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4'],
    schema: { type: 'string', pattern: '^(?:-|(?:[0-9a-fA-F]{2}){1,256})$' },
  }),
  hashAlgorithm: field(parseHashAlgorithm, {
    description: 'The digest of the tree: sha256 (the default, as systemd-repart) or sha512.',
    examples: ['sha256'],
    schema: { enum: [...HASH_ALGORITHMS] },
  }),
  dataBlockSize: field(parseVerityBlockSize, {
    description: `Bytes per data block: a power of two from ${MIN_VERITY_BLOCK_SIZE} to 512KiB (default ${DEFAULT_VERITY_BLOCK_SIZE}); the data partition's size must be a multiple.`,
    examples: [4096],
    schema: BLOCK_SIZE_SCHEMA,
  }),
  hashBlockSize: field(parseVerityBlockSize, {
    description: `Bytes per hash block: a power of two from ${MIN_VERITY_BLOCK_SIZE} to 512KiB (default ${DEFAULT_VERITY_BLOCK_SIZE}).`,
    examples: [4096],
    schema: BLOCK_SIZE_SCHEMA,
  }),
};

export const verityDoc = {
  description:
    'Makes this partition the dm-verity hash partition of another (format 1 with its superblock, as veritysetup format and systemd-repart write it). ' +
    'size "auto" is the exact tree size. Not together with contents, filesystem or signature.',
  examples: [{ data: 'root-a' }],
};

export const veritySchema = strictObject(verityShape, 'a verity mapping');

export const signatureShape = {
  verity: field(parseVerityReference('hash partition'), {
    description: 'The name of the hash partition whose root hash this partition signs.',
    examples: ['root-a-verity'],
    schema: TEXT_SCHEMA,
    required: true,
  }),
  key: field(parseRequiredPath('PEM private key'), {
    description: "The PEM private key (RSA or EC, not passphrase-protected) that signs; relative to the spec's folder. Read, never copied into the output.",
    examples: ['./signing.key'],
    schema: TEXT_SCHEMA,
    required: true,
  }),
  certificate: field(parseRequiredPath('PEM certificate'), {
    description: "The PEM X.509 certificate of the key; relative to the spec's folder. Its SHA-256 fingerprint goes into the signature partition.",
    examples: ['./signing.crt'],
    schema: TEXT_SCHEMA,
    required: true,
  }),
};

export const signatureDoc = {
  description:
    'Makes this partition the verity signature partition of a hash partition: the JSON object of the Discoverable Partitions Specification ' +
    '(rootHash, certificateFingerprint, signature: a detached PKCS#7 signature of the root hash text, base64), padded with NUL bytes. ' +
    'size "auto" is 16KiB, as systemd-repart.',
  examples: [{ verity: 'root-a-verity', key: './signing.key', certificate: './signing.crt' }],
};

export const signatureSchema = strictObject(signatureShape, 'a signature mapping');

export const verityField = documented(veritySchema.optional().nullable().transform((v) => v ?? undefined), verityDoc);
export const signatureField = documented(signatureSchema.optional().nullable().transform((v) => v ?? undefined), signatureDoc);

/** The type a partition must have to pair with one of `type` (root-x86-64 -> root-x86-64-verity), if the DPS says. */
function pairedTypeName(typeText: unknown, suffix: '-verity' | '-sig'): string | undefined {
  if (typeof typeText !== 'string') return undefined;
  const name = resolveType(typeText)?.name;
  if (name === undefined) return undefined;
  if (suffix === '-verity') return /^(?:root|usr)-/.test(name) && !name.includes('-verity') ? `${name}-verity` : undefined;
  return name.endsWith('-verity') ? `${name}-sig` : undefined;
}

function typeNameOf(typeText: unknown): string | undefined {
  return typeof typeText === 'string' ? resolveType(typeText)?.name : undefined;
}

/**
 * Checks across partitions: each reference names a partition, no partition is hashed or signed
 * twice, the types pair as the DPS says, and hash and signature partitions hold nothing else.
 */
export function verityIssues(partitions: readonly unknown[]): Issue[] {
  const issues: Issue[] = [];
  const add = (path: Path, message: string) => issues.push({ path, message });
  const byName = new Map<string, number>();
  partitions.forEach((p, i) => {
    if (isMapping(p) && typeof p.name === 'string' && !byName.has(p.name)) byName.set(p.name, i);
  });
  const hashedBy = new Map<number, number>();
  const signedBy = new Map<number, number>();
  partitions.forEach((p, i) => {
    if (!isMapping(p)) return;
    const hasVerity = !absent(p.verity);
    const hasSignature = !absent(p.signature);
    if (hasVerity && hasSignature) add(['partitions', i, 'signature'], 'a partition is either a hash partition (verity) or a signature partition (signature), not both');
    for (const key of ['contents', 'filesystem'] as const) {
      if ((hasVerity || hasSignature) && !absent(p[key])) {
        add(['partitions', i, key], `a ${hasVerity ? 'verity hash' : 'signature'} partition is written by imgforge; it cannot have ${key} too`);
      }
    }
    const reference = (key: 'verity' | 'signature', refKey: 'data' | 'verity', what: string): number | undefined => {
      const spec = p[key];
      if (!isMapping(spec) || typeof spec[refKey] !== 'string') return undefined;
      const target = byName.get(spec[refKey]);
      const path = ['partitions', i, key, refKey];
      if (target === undefined) {
        add(path, `no partition is named ${JSON.stringify(spec[refKey])}; expected the name of the ${what}`);
        return undefined;
      }
      if (target === i) {
        add(path, `a partition cannot be its own ${what}`);
        return undefined;
      }
      return target;
    };
    const data = reference('verity', 'data', 'data partition');
    if (data !== undefined) {
      const target = partitions[data] as Record<string, unknown>;
      const path = ['partitions', i, 'verity', 'data'];
      const first = hashedBy.get(data);
      if (first !== undefined) add(path, `partitions[${data}] (${JSON.stringify(target.name)}) is already hashed by partitions[${first}]; a data partition has one hash partition`);
      else hashedBy.set(data, i);
      if (!absent(target.verity) || !absent(target.signature)) {
        add(path, `partitions[${data}] (${JSON.stringify(target.name)}) is itself a ${absent(target.verity) ? 'signature' : 'hash'} partition, written after the data partitions are hashed; it cannot be hashed`);
      } else if (target.size === 'grow') {
        add(path, `partitions[${data}] (${JSON.stringify(target.name)}) has size "grow"; a verity data partition needs a size known before it is hashed`);
      }
      const expected = pairedTypeName(target.type, '-verity');
      const actual = typeNameOf(p.type);
      const wantedData = actual?.endsWith('-verity') ? actual.slice(0, -'-verity'.length) : undefined;
      if (expected !== undefined && actual !== expected) {
        add(['partitions', i, 'type'], `the data partition ${JSON.stringify(target.name)} has type ${typeNameOf(target.type)}, so its hash partition must have type ${expected}; got ${actual ?? describeValue(p.type)}`);
      } else if (wantedData !== undefined && typeNameOf(target.type) !== wantedData) {
        add(['partitions', i, 'type'], `a ${actual} partition protects a ${wantedData} partition; the data partition ${JSON.stringify(target.name)} has type ${typeNameOf(target.type) ?? describeValue(target.type)}`);
      }
    }
    const hash = reference('signature', 'verity', 'hash partition');
    if (hash !== undefined) {
      const target = partitions[hash] as Record<string, unknown>;
      const path = ['partitions', i, 'signature', 'verity'];
      if (absent(target.verity)) add(path, `partitions[${hash}] (${JSON.stringify(target.name)}) is no hash partition (it has no verity key)`);
      const first = signedBy.get(hash);
      if (first !== undefined) add(path, `partitions[${hash}] (${JSON.stringify(target.name)}) is already signed by partitions[${first}]; a hash partition has one signature partition`);
      else signedBy.set(hash, i);
      const expected = pairedTypeName(target.type, '-sig');
      const actual = typeNameOf(p.type);
      if (expected !== undefined && actual !== expected) {
        add(['partitions', i, 'type'], `the hash partition ${JSON.stringify(target.name)} has type ${typeNameOf(target.type)}, so its signature partition must have type ${expected}; got ${actual ?? describeValue(p.type)}`);
      } else if (actual?.endsWith('-verity-sig') && typeNameOf(target.type) !== actual.slice(0, -'-sig'.length)) {
        add(['partitions', i, 'type'], `a ${actual} partition signs a ${actual.slice(0, -'-sig'.length)} partition; ${JSON.stringify(target.name)} has type ${typeNameOf(target.type) ?? describeValue(target.type)}`);
      }
    }
  });
  return issues;
}

export type VerityKeys = z.output<typeof veritySchema>;
export type SignatureKeys = z.output<typeof signatureSchema>;
