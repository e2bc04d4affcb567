/**
 * Input generation for the spec fuzzer: a seeded PRNG (so a run is reproducible from its seed),
 * byte- and line-level mutations of corpus entries, structural mutations of their parsed value
 * (key swaps, odd values, huge numbers, many partitions), and generators of hostile documents
 * (YAML alias bombs, deep nesting, long strings).
 */
import YAML from 'yaml';
import type { SpecFormat } from '../../ts/types';

/** xoshiro128** seeded by splitmix32: fast, good enough, and the same on every machine. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** Small numbers much more often than large ones. */
  size(max: number): number {
    return Math.min(max, this.below(2) === 0 ? this.below(8) : 1 << this.below(Math.max(1, Math.ceil(Math.log2(max + 1)))));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Tokens that mean something to YAML, JSON or the spec's fields. */
const DICTIONARY = [
  'partitions', 'size', 'sectorSize', 'alignment', 'seed', 'diskGuid', 'output', 'name', 'type', 'guid',
  'attributes', 'contents', 'filesystem', 'fat32', 'label', 'volumeId', 'clusterSize', 'minFree', 'files',
  'source', 'target', 'esp', 'root-x86-64', 'usr-arm64-verity-sig', 'linux-generic', 'auto', 'grow',
  'required-partition', 'read-only', 'no-auto', 'growfs', '512', '4096', '1MiB', '4KiB', '1.5GiB', '0.5KiB',
  '99999999999TiB', '-1', '0', '1e400', '-0', '0x1234ABCD', '1234-ABCD', '9007199254740993', '.inf', '-.inf',
  '.nan', 'NaN', 'Infinity', '~', 'null', 'true', 'no', 'yes', 'on', '0o17', '0b101', '1_000', '6A1C3E4B-8D2B-4C5A-9E7F-0123456789AB',
  '00000000-0000-0000-0000-000000000000', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  '&a ', '*a', '&b ', '*b', '<<: ', '!!binary ', '!!set ', '!!omap ', '!!str ', '!!int ', '!!float ', '!!map ',
  '!!seq ', '!!timestamp ', '!!js/function ', '!custom ', '? ', '- ', ': ', '{', '}', '[', ']', ',', '"', "'",
  '|', '>', '|-', '>+', '#', '---\n', '...\n', '%YAML 1.1\n', '%TAG ! tag:x,2000:\n', '\t', '\n', '\r\n', '\r',
  '\u0000', '\ufeff', '\u2028', '\u0085', 'é', '😀', '\\u0000', '\\ud800', '/', '/../', '/EFI/BOOT/',
];

const INTERESTING_VALUES: unknown[] = [
  0, -1, 1, 511, 512, 513, 4096, 65536, 65537, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63,
  1e21, 1e308, -1e308, Number.MIN_VALUE, 0xffffffff, '', ' ', 'auto', 'grow', '512', '1MiB', '1.5MiB', '1.0000001MiB',
  '16 MiB', ' 1MiB ', '1mib', '1MB', '1e3', '0x200', '-1MiB', '0MiB', '8EiB', '99999999999999999999TiB', '9007199254740993',
  'esp', 'fat32', 'ntfs', '/', '/EFI/../x', '/a\u0000b', 'a'.repeat(37), 'é'.repeat(36), '😀'.repeat(18), '😀'.repeat(19),
  'ESP', 'TOOLONGLABEL', ' LABEL', 'lab.el', '0x1234ABCD', '1234ABCD', '12345-ABCD', '6a1c3e4b-8d2b-4c5a-9e7f-0123456789ab',
  '00000000-0000-0000-0000-000000000000', 'read-only', 63, 64, -1, 'x\ny', '__proto__', null, true, false, [], {}, [[]], [{}],
  { type: 'fat32' }, { source: '.', target: '/' },
];

const KEYS = [
  'output', 'size', 'sectorSize', 'alignment', 'seed', 'diskGuid', 'partitions', 'name', 'type', 'guid', 'attributes',
  'contents', 'filesystem', 'label', 'volumeId', 'clusterSize', 'minFree', 'files', 'source', 'target', '__proto__',
  'constructor', 'Size', 'sise', '', ' ', 'a.b', '[0]', 'x'.repeat(300), 'k'.repeat(3000),
];

export interface Input {
  bytes: Uint8Array;
  format: SpecFormat;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- byte and line mutations ----

function byteMutation(rng: Rng, data: Uint8Array, other: Uint8Array): Uint8Array {
  const at = rng.below(data.length + 1);
  switch (rng.below(9)) {
    case 0: {
      if (data.length === 0) return data;
      const copy = data.slice();
      copy[at % data.length] ^= 1 << rng.below(8);
      return copy;
    }
    case 1: {
      if (data.length === 0) return data;
      const copy = data.slice();
      copy[at % data.length] = rng.below(256);
      return copy;
    }
    case 2: {
      const inserted = new Uint8Array(1 + rng.size(8)).map(() => rng.pick([rng.below(256), 0x20, 0x0a, 0x3a, 0x2d, 0x22, 0x7b, 0x5b]));
      return concat(data.subarray(0, at), inserted, data.subarray(at));
    }
    case 3: {
      const end = Math.min(data.length, at + 1 + rng.size(64));
      return concat(data.subarray(0, at), data.subarray(end));
    }
    case 4: {
      const end = Math.min(data.length, at + 1 + rng.size(256));
      const chunk = data.subarray(at, end);
      const times = 1 + rng.size(16);
      return concat(data.subarray(0, end), ...Array.from({ length: times }, () => chunk), data.subarray(end));
    }
    case 5:
      return concat(data.subarray(0, at), bytesOf(rng.pick(DICTIONARY)), data.subarray(at));
    case 6: {
      const end = Math.min(data.length, at + rng.size(16));
      return concat(data.subarray(0, at), bytesOf(rng.pick(DICTIONARY)), data.subarray(end));
    }
    case 7: {
      // Crossover: a prefix of this input and a suffix of another.
      const cut = rng.below(other.length + 1);
      return concat(data.subarray(0, at), other.subarray(cut));
    }
    default: {
      const from = rng.below(other.length + 1);
      const chunk = other.subarray(from, Math.min(other.length, from + 1 + rng.size(512)));
      return concat(data.subarray(0, at), chunk, data.subarray(at));
    }
  }
}

function lineMutation(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const i = rng.below(lines.length);
  const j = rng.below(lines.length);
  switch (rng.below(6)) {
    case 0:
      lines.splice(i, 0, lines[j]);
      break;
    case 1:
      lines.splice(i, 1);
      break;
    case 2:
      [lines[i], lines[j]] = [lines[j], lines[i]];
      break;
    case 3:
      lines[i] = ' '.repeat(rng.pick([1, 2, 4])) + lines[i];
      break;
    case 4:
      lines[i] = lines[i].replace(/^ {1,2}/, '');
      break;
    default: {
      const times = 1 + rng.size(200);
      lines.splice(i, 0, ...Array.from({ length: times }, () => lines[j]));
    }
  }
  return lines.join('\n');
}

// ---- structural mutations ----

type Json = unknown;

function randomValue(rng: Rng, depth = 0): Json {
  switch (rng.below(depth > 2 ? 3 : 6)) {
    case 0:
    case 1:
      return rng.pick(INTERESTING_VALUES);
    case 2:
      return rng.pick(DICTIONARY).trim();
    case 3:
      return Array.from({ length: rng.size(4) }, () => randomValue(rng, depth + 1));
    case 4:
      return Object.fromEntries(Array.from({ length: rng.size(4) }, () => [rng.pick(KEYS), randomValue(rng, depth + 1)]));
    default:
      return 'x'.repeat(rng.size(100_000));
  }
}

/** Every (container, key) pair in a value, to pick one to change. */
function slots(value: Json, out: Array<[Record<string, Json> | Json[], string | number]> = [], depth = 0, seen = new Set<object>()): typeof out {
  // Aliases make shared and even cyclic values: visit each object once.
  if (depth > 20 || value === null || typeof value !== 'object' || seen.has(value) || out.length > 10_000) return out;
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([value, i]);
      slots(v, out, depth + 1, seen);
    });
  } else {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      out.push([value as Record<string, Json>, k]);
      slots(v, out, depth + 1, seen);
    }
  }
  return out;
}

function structuralMutation(rng: Rng, value: Json, maxLen: number): Json {
  const all = slots(value);
  if (all.length === 0) return rng.chance(0.5) ? { partitions: [randomValue(rng)] } : randomValue(rng);
  const [container, key] = rng.pick(all);
  const c = container as Record<string | number, Json>;
  switch (rng.below(7)) {
    case 0:
    case 1:
      c[key] = randomValue(rng);
      break;
    case 2:
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete c[key];
      break;
    case 3: {
      // Rename a key (a key swap); in a list, swap two items.
      if (Array.isArray(container)) {
        const other = rng.below(container.length);
        [container[Number(key)], container[other]] = [container[other], container[Number(key)]];
      } else {
        const renamed = rng.pick(KEYS);
        const v = c[key];
        delete c[key];
        c[renamed] = v;
      }
      break;
    }
    case 4: {
      // Many copies of an item: more partitions or files than allowed.
      if (Array.isArray(container)) {
        // As many as fit in the input size limit (the result is cut there anyway).
        const item = container[Number(key)];
        const size = (JSON.stringify(item) ?? '').length + 4;
        const times = Math.min(rng.pick([2, 127, 128, 129, 1000]), Math.ceil(maxLen / size));
        container.push(...Array.from({ length: times }, () => structuredClone(item)));
      } else {
        c[rng.pick(KEYS)] = structuredClone(c[key]);
      }
      break;
    }
    case 5: {
      // Deep nesting of one value.
      let v = c[key];
      for (let d = rng.pick([10, 100, 1000]); d > 0; d--) v = rng.chance(0.5) ? [v] : { [rng.pick(KEYS)]: v };
      c[key] = v;
      break;
    }
    default:
      c[key] = rng.pick([2 ** 53 + 2, 1e308, -1e308, 0.1, -0, 'NaN', 1e21, 123456789012345680000]);
  }
  return value;
}

function parseLoosely(text: string, format: SpecFormat): { ok: true; value: Json } | { ok: false } {
  try {
    if (format === 'json') return { ok: true, value: JSON.parse(text) };
    const doc = YAML.parseDocument(text, { uniqueKeys: false, logLevel: 'silent' });
    if (doc.errors.length > 0) return { ok: false };
    // The yaml package resolves many aliases slowly (cubic time for self-references): leave those
    // documents to the byte and line mutations.
    let aliases = 0;
    YAML.visit(doc, { Alias: () => void aliases++ });
    if (aliases > 50) return { ok: false };
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch {
    return { ok: false };
  }
}

function serialize(rng: Rng, value: Json, format: SpecFormat): string | undefined {
  try {
    if (format === 'json') return JSON.stringify(value, null, rng.chance(0.5) ? 2 : undefined);
    return YAML.stringify(value, { aliasDuplicateObjects: rng.chance(0.5), lineWidth: 0 });
  } catch {
    return undefined;
  }
}

// ---- generators of hostile documents ----

/** "Billion laughs": each level a list of `width` aliases of the previous one. */
export function aliasBomb(levels: number, width: number, where: 'top' | 'partitions' | 'files' = 'top'): string {
  const lines = [`a0: &a0 ["lol", "lol"]`];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
  const last = `*a${levels}`;
  if (where === 'partitions') lines.push(`partitions: ${last}`);
  if (where === 'files') lines.push(`partitions:\n  - name: esp\n    type: esp\n    size: auto\n    filesystem:\n      type: fat32\n      files: ${last}`);
  return lines.join('\n') + '\n';
}

function generate(rng: Rng, maxLen: number): Input {
  const n = (cap: number) => Math.max(1, Math.min(cap, rng.pick([10, 100, 1000, 10_000, 100_000])));
  switch (rng.below(10)) {
    case 9: {
      // Linear "bombs": a large anchored list shared by many aliases, which validation visits once per alias.
      const entries = n(maxLen / 8);
      const refs = rng.pick([2, 10, 128, 1000]);
      const files = `f: &f [${Array.from({ length: entries }, () => '{s: 1}').join(', ')}]`;
      const part = 'p: &p {name: a, type: esp, size: 1MiB, filesystem: {type: fat32, files: *f}}';
      return { format: 'yaml', bytes: bytesOf(`${files}\n${part}\npartitions: [${Array.from({ length: refs }, () => '*p').join(', ')}]\n`) };
    }
    case 0:
      return { format: 'yaml', bytes: bytesOf(aliasBomb(rng.pick([3, 5, 8, 10, 20]), rng.pick([2, 3, 9, 10]), rng.pick(['top', 'partitions', 'files']))) };
    case 1: {
      const depth = n(maxLen / 2);
      const open = rng.chance(0.5) ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return { format: rng.chance(0.5) ? 'json' : 'yaml', bytes: bytesOf(`${open.repeat(depth)}1${close.repeat(depth)}`) };
    }
    case 2: {
      // Block-style nesting: "- " and "a:" with growing indentation.
      const depth = n(Math.sqrt(maxLen));
      let text = '';
      for (let d = 0; d < depth; d++) text += `${' '.repeat(d * 2)}${rng.chance(0.5) ? '-' : 'k:'}\n`;
      return { format: 'yaml', bytes: bytesOf(text) };
    }
    case 3: {
      const count = n(maxLen / 60);
      const partition = `  - { name: p, type: linux-generic, size: 1MiB }\n`;
      return { format: 'yaml', bytes: bytesOf(`partitions:\n${partition.repeat(count)}`) };
    }
    case 4:
      return { format: 'yaml', bytes: bytesOf(`partitions:\n  - name: ${'a'.repeat(n(maxLen - 20))}\n`) };
    case 5: {
      // A key that refers to itself, and merge keys.
      const doc = rng.pick([
        `partitions: &p\n${'  - *p\n'.repeat(n(maxLen / 8))}`,
        `partitions: &m\n${Array.from({ length: n(maxLen / 12) }, (_, i) => `  k${i}: *m\n`).join('')}`,
        'partitions: &p [*p]\n',
        'partitions: &p\n  - &q { name: a, type: esp, size: 1MiB, filesystem: { type: fat32, files: *p } }\n',
        'base: &b { name: a, type: esp, size: 1MiB }\npartitions:\n  - <<: *b\n    name: b\n',
        'partitions:\n  - &x { name: a, type: esp, size: auto, contents: *x }\n',
        '? [a, b]\n: c\npartitions: []\n',
        '? { partitions: [] }\n: x\n',
        '%YAML 1.1\n---\nsize: 0b101\npartitions: [{ name: a, type: esp, size: 0o1000 }]\n',
        'size: !!binary aGVsbG8=\npartitions: !!set { a, b }\n',
        'partitions: !!omap [ a: 1, b: 2 ]\n',
        'size: 2001-12-14t21:59:43.10-05:00\npartitions: [{ name: !!timestamp 2001-12-14, type: esp, size: 1MiB }]\n',
      ]);
      return { format: 'yaml', bytes: bytesOf(doc) };
    }
    case 6: {
      const count = n(maxLen / 10);
      const keys = Array.from({ length: count }, (_, i) => `k${i}: ${i}`).join('\n');
      return { format: 'yaml', bytes: bytesOf(`${keys}\npartitions: []\n`) };
    }
    case 7: {
      const count = n(maxLen / 12);
      return { format: 'json', bytes: bytesOf(`{"partitions":[${Array.from({ length: count }, () => '{"x":1}').join(',')}]}`) };
    }
    default: {
      const bytes = new Uint8Array(rng.size(256)).map(() => rng.below(256));
      return { format: rng.chance(0.5) ? 'json' : 'yaml', bytes };
    }
  }
}

function structurally(rng: Rng, text: string, format: SpecFormat, maxLen: number): string | undefined {
  const parsed = parseLoosely(text, format);
  if (!parsed.ok) return undefined;
  try {
    return serialize(rng, structuralMutation(rng, parsed.value, maxLen), format);
  } catch {
    // structuredClone of a deeply nested value can exhaust the stack; take another mutation.
    return undefined;
  }
}

/** Of two random entries, the smaller: small inputs mutate and run faster (libFuzzer does the same). */
function pickEntry(rng: Rng, corpus: readonly Input[]): Input {
  const a = rng.pick(corpus);
  const b = rng.pick(corpus);
  return a.bytes.length <= b.bytes.length ? a : b;
}

/** A new input: usually a mutated corpus entry, sometimes a generated hostile document. */
export function nextInput(rng: Rng, corpus: readonly Input[], maxLen: number): Input {
  if (corpus.length === 0 || rng.chance(0.03)) return clamp(generate(rng, maxLen), maxLen);
  const base = pickEntry(rng, corpus);
  const other = rng.pick(corpus);
  let format = base.format;
  if (rng.chance(0.02)) format = format === 'json' ? 'yaml' : 'json';
  let bytes = base.bytes;
  const rounds = 1 + rng.size(4);
  for (let r = 0; r < rounds; r++) {
    const kind = rng.below(10);
    if (kind < 5) {
      bytes = byteMutation(rng, bytes, other.bytes);
    } else if (kind < 7) {
      bytes = bytesOf(lineMutation(rng, decoder.decode(bytes)));
    } else {
      // Structural mutations parse and print the document: worth it on small ones only.
      const text = bytes.length <= 8192 ? structurally(rng, decoder.decode(bytes), format, maxLen) : undefined;
      bytes = text === undefined ? byteMutation(rng, bytes, other.bytes) : bytesOf(text);
    }
    if (bytes.length > maxLen) break;
  }
  return clamp({ bytes, format }, maxLen);
}

function clamp(input: Input, maxLen: number): Input {
  return input.bytes.length > maxLen ? { ...input, bytes: input.bytes.subarray(0, maxLen) } : input;
}
