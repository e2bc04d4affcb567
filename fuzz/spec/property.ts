/**
 * The property the spec fuzzer checks, shared with the corpus replay in the AVA suite
 * (__test__/fuzz-corpus.test.ts): every input either parses to a spec or throws an ImgforgeError
 * (SPEC_PARSE or SPEC_INVALID) whose message has the documented shape, each line naming the file
 * position or the field. Anything else (another exception, a malformed message) is a bug. Time and
 * memory are bounded by the runner (a worker with a heap limit and a per-input timeout) and by the
 * replay test (a time bound per input).
 */
import * as path from 'node:path';
import { ImgforgeError } from '../../ts/errors';
import { MAX_REPORTED_PROBLEMS, parseSpec } from '../../ts/spec/load';
import type { LoadedSpec, SpecFormat } from '../../ts/types';

/** A broken property: the input is a bug reproducer. */
export class PropertyViolation extends Error {
  override readonly name = 'PropertyViolation';
}

/** What an input did, in a form that distinguishes code paths (the fuzzer's stand-in for coverage). */
export interface Outcome {
  result: 'spec' | 'SPEC_PARSE' | 'SPEC_INVALID';
  /** Normalized facts about the outcome: issue fields and message shapes, or the spec's shape. */
  features: string[];
}

/** The longest line an error message may have: values are quoted shortened, keys too. */
export const MAX_MESSAGE_LINE = 1000;

/** The format a corpus file is parsed as: by extension, like loadSpec (anything but .json is YAML). */
export function formatOf(file: string): SpecFormat {
  return path.extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/** Decodes input bytes the way the fuzzer feeds them to parseSpec (invalid UTF-8 becomes U+FFFD). */
export function decode(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `a thrown ${typeof error}: ${String(error)}`;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A field path as formatPath writes it: `partitions[1].size`, `["odd key"]`, or `(top level)`. */
const SEGMENT = String.raw`(?:[A-Za-z_][\w-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])`;
const FIELD = new RegExp(String.raw`^  (\(top level\)|${SEGMENT}(?:\.[A-Za-z_][\w-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*): (\S.*)$`);

const KNOWN_KEYS = new Set([
  'output', 'size', 'sectorSize', 'alignment', 'seed', 'diskGuid', 'partitions', 'name', 'type', 'guid', 'attributes',
  'contents', 'filesystem', 'label', 'volumeId', 'clusterSize', 'minFree', 'files', 'source', 'target',
]);

/** A field path with indices and unknown keys blanked: `partitions[].?`. */
function normalizePath(fieldPath: string): string {
  return fieldPath
    .replace(/\["(?:[^"\\]|\\.)*"\]/g, '.?')
    .replace(/\[\d+\]/g, '[]')
    .replace(/[A-Za-z_][\w-]*/g, (name) => (KNOWN_KEYS.has(name) || name === 'top' || name === 'level' ? name : '?'));
}

/**
 * The kind of a message, without the values it quotes: its first words, up to the first quote,
 * colon, "got", parenthesis or word of symbols or digits. At most 3 words for parse errors (the
 * fourth can be input: "Unsupported YAML version abc"), 4 for field problems. Messages quote input
 * text, which must not count as new.
 */
function normalizeMessage(text: string, maxWords: number): string {
  const words = text.split(/["'(]|: | got |; /)[0].replace(/\d+/g, '#').split(' ');
  // A word of symbols, digits or unusual length is quoted input ("Unsupported YAML version 1.1x").
  const end = words.findIndex((word) => !/^[A-Za-z,.-]{0,16}$/.test(word) && word !== '#');
  return words.slice(0, Math.min(end === -1 ? words.length : end, maxWords)).join(' ');
}
function checkMessage(error: ImgforgeError, sourceName: string): string[] {
  const lines = error.message.split('\n');
  const fail = (why: string): never => {
    throw new PropertyViolation(`${error.code} message ${why}:\n${error.message.slice(0, 2000)}`, { cause: error });
  };
  const long = lines.find((line) => line.length > MAX_MESSAGE_LINE);
  if (long !== undefined) fail(`has a line of ${long.length} characters (at most ${MAX_MESSAGE_LINE})`);
  // Raw control characters (escape sequences, carriage returns) would garble the user's terminal.
  const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(error.message);
  if (control) fail(`holds the raw control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (error.code === 'SPEC_PARSE') {
    const at = new RegExp(`^${escape(sourceName)}:\\d+:\\d+: (\\S.*)$`);
    if (lines.length > 5) fail(`has ${lines.length} lines (at most 5)`);
    return lines.map((line) => {
      const match = at.exec(line);
      if (!match) fail(`has a line that does not start with ${sourceName}:<line>:<column>: (${JSON.stringify(line.slice(0, 200))})`);
      return `parse:${normalizeMessage(match![1], 3)}`;
    });
  }
  if (error.code === 'SPEC_INVALID') {
    const header = new RegExp(`^${escape(sourceName)}: invalid spec \\((\\d+) problems?\\):$`);
    const count = header.exec(lines[0]);
    if (!count) fail('does not start with "<file>: invalid spec (N problems):"');
    const announced = Number(count![1]);
    const shown = Math.min(announced, MAX_REPORTED_PROBLEMS);
    const more = announced > MAX_REPORTED_PROBLEMS ? 1 : 0;
    if (lines.length !== 1 + shown + more) fail(`announces ${announced} problems but has ${lines.length - 1} lines after the header (a value with a line break?)`);
    if (announced < 1) fail('lists no problem');
    if (more === 1 && lines[lines.length - 1] !== `  ... and ${announced - shown} more`) fail('does not end with "... and N more"');
    return lines.slice(1, 1 + shown).map((line) => {
      const match = FIELD.exec(line);
      if (!match) fail(`has a problem line that does not name a field: ${JSON.stringify(line.slice(0, 200))}`);
      return `invalid:${normalizePath(match![1])}: ${normalizeMessage(match![2], 4)}`;
    });
  }
  return fail(`has the code ${error.code}; parseSpec reads no files, so only SPEC_PARSE and SPEC_INVALID are expected`);
}

/** Sanity of an accepted spec, and its shape as features. */
function checkSpec(spec: LoadedSpec): string[] {
  const fail = (why: string): never => {
    throw new PropertyViolation(`parseSpec accepted a spec that ${why}`);
  };
  if (spec.partitions.length < 1 || spec.partitions.length > 128) fail(`has ${spec.partitions.length} partitions`);
  const size = (value: unknown, words: string[]) =>
    (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) || words.includes(value as string);
  if (!size(spec.size, ['auto'])) fail(`has the disk size ${String(spec.size)}`);
  const features = [`spec:sectorSize=${spec.sectorSize}`, `spec:size=${typeof spec.size}`, `spec:partitions=${Math.min(spec.partitions.length, 4)}`];
  for (const key of ['output', 'seed', 'diskGuid'] as const) if (spec[key] !== undefined) features.push(`spec:${key}`);
  for (const p of spec.partitions) {
    if (!size(p.size, ['auto', 'grow'])) fail(`has a partition size of ${String(p.size)}`);
    if (p.contents !== undefined && p.filesystem !== undefined) fail('has a partition with both contents and a filesystem');
    features.push(`partition:size=${typeof p.size === 'number' ? 'bytes' : p.size}`, `partition:type=${p.type.name ?? 'guid'}`);
    if (p.attributes !== 0n) features.push('partition:attributes');
    if (p.guid !== undefined) features.push('partition:guid');
    if (p.contents !== undefined) features.push('partition:contents');
    if (p.filesystem !== undefined) {
      const fs = p.filesystem;
      features.push(`filesystem:type=${fs.type}`, `filesystem:files=${Math.min(fs.files.length, 3)}`);
      if (fs.type !== 'squashfs' && fs.label !== undefined) features.push('filesystem:label');
      if (fs.type === 'fat32') {
        for (const key of ['volumeId', 'clusterSize'] as const) if (fs[key] !== undefined) features.push(`filesystem:${key}`);
      }
      if ((fs.type === 'fat32' || fs.type === 'ext4') && fs.minFree > 0) features.push('filesystem:minFree');
      if ((fs.type === 'erofs' || fs.type === 'ext4') && fs.uuid !== undefined) features.push('filesystem:uuid');
      if (fs.type !== 'fat32') features.push(`filesystem:ownership=${fs.ownership}`);
      if (fs.type === 'squashfs') features.push(`filesystem:compression=${fs.compression}`);
    }
  }
  return features;
}

function checkWarnings(warnings: string[]): void {
  if (warnings.length > 0) throw new PropertyViolation(`parseSpec emitted a process warning, which the CLI would print: ${warnings[0]}`);
}

/**
 * Runs one input through parseSpec and checks the property. Returns the outcome; throws a
 * PropertyViolation (with the original exception as its cause) when the property does not hold.
 */
export function checkInput(text: string, format: SpecFormat, sourceName = `fuzz.${format}`): Outcome {
  let spec: LoadedSpec;
  // A process warning (the yaml package emits some) would be printed on the user's terminal.
  const warnings: string[] = [];
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error) => void warnings.push(String(warning))) as typeof process.emitWarning;
  try {
    spec = parseSpec({ text, format, sourceName, baseDir: '/fuzz' });
  } catch (error) {
    if (!(error instanceof ImgforgeError)) {
      throw new PropertyViolation(`parseSpec threw ${describe(error)}, not an ImgforgeError`, { cause: error });
    }
    checkWarnings(warnings);
    const features = checkMessage(error, sourceName);
    return { result: error.code as Outcome['result'], features: [error.code, ...features] };
  } finally {
    process.emitWarning = emitWarning;
  }
  checkWarnings(warnings);
  return { result: 'spec', features: ['spec', ...checkSpec(spec)] };
}
