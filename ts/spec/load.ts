import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import YAML, { Composer, Lexer, LineCounter, Parser, YAMLParseError } from 'yaml';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { formatIssue, validateSpec, type ValidatedSpec } from './schema';
import type { LoadedSpec, ParseSpecOptions, SpecFormat, SpecInput } from '../types';





const EXTENSIONS: ReadonlyMap<string, SpecFormat> = new Map([
  ['.yaml', 'yaml'],
  ['.yml', 'yaml'],
  ['.json', 'json'],
]);

/** The parser is chosen by extension so that a typo in a .json file is not "fixed" by YAML's leniency. */
export function formatForPath(file: string): SpecFormat {
  const ext = path.extname(file).toLowerCase();
  const format = EXTENSIONS.get(ext);
  if (format === undefined) {
    const got = ext === '' ? 'no extension' : `the extension "${ext}"`;
    throw new ImgforgeError('SPEC_READ', `${file}: cannot tell the spec format from ${got}; expected .yaml, .yml or .json`);
  }
  return format;
}

function parseError(sourceName: string, line: number, col: number, message: string): ImgforgeError {
  return new ImgforgeError('SPEC_PARSE', `${sourceName}:${line}:${col}: ${message}`);
}

/**
 * How deeply mappings and lists may nest. A spec needs 6 levels (the document, partitions, a
 * partition, its filesystem, files, an entry); the bound keeps every recursive step after parsing
 * (the yaml package's composer, visitor and toJS, the value count, validation) far from the end of
 * the call stack, which a few thousand levels reach.
 */
export const MAX_SPEC_DEPTH = 64;

const TOO_DEEP = `the document is nested too deeply (more than ${MAX_SPEC_DEPTH} levels of mappings and lists)`;

const COLLECTION_TOKENS: ReadonlySet<string> = new Set(['block-map', 'block-seq', 'flow-collection']);

/** The collections the yaml parser has open, and the offset of the innermost one. */
function openCollections(stack: readonly YAML.CST.Token[]): { count: number; innermost: number } {
  const open = stack.filter((token) => COLLECTION_TOKENS.has(token.type));
  return { count: open.length, innermost: open.length > 0 ? open[open.length - 1].offset : 0 };
}

/**
 * The yaml package's tokens, refusing documents nested deeper than MAX_SPEC_DEPTH before anything
 * recurses: its parser keeps what it has open on an explicit stack, but its composer recurses once
 * per level. That stack holds the document, the open collections and at most one scalar, so it
 * is searched only when it is longer than MAX_SPEC_DEPTH.
 */
function* boundedTokens(text: string, lineCounter: LineCounter, tooDeep: (offset: number) => never) {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0); // as Parser.parse does before the first token
  for (const lexeme of new Lexer().lex(text)) {
    yield* parser.next(lexeme);
    if (parser.stack.length > MAX_SPEC_DEPTH) {
      const open = openCollections(parser.stack);
      if (open.count > MAX_SPEC_DEPTH) tooDeep(open.innermost);
    }
  }
  yield* parser.end();
}

/** What YAML.parseDocument does, over boundedTokens: parseDocument runs its own parser, which cannot be bounded. */
function parseYamlDocument(text: string, lineCounter: LineCounter, tooDeep: (offset: number) => never): YAML.Document {
  // logLevel 'error': the yaml package would otherwise print warnings (e.g. on complex keys) to stderr.
  // uniqueKeys is checked below: the yaml package's own check is quadratic (32,000 keys take 12 s).
  const composer = new Composer({ uniqueKeys: false, logLevel: 'error' });
  let doc: YAML.Document | undefined;
  for (const next of composer.compose(boundedTokens(text, lineCounter, tooDeep), true, text.length)) {
    if (doc !== undefined) {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
    doc = next;
  }
  return doc!; // compose(..., forceDoc) yields at least one document
}

function parseYaml(text: string, sourceName: string): unknown {
  const lineCounter = new LineCounter();
  const at = (pos: number, message: string) => {
    const { line, col } = lineCounter.linePos(pos);
    return `${sourceName}:${line}:${col}: ${shorten(escapeControls(message))}`;
  };
  const doc = parseYamlDocument(text, lineCounter, (offset) => {
    throw new ImgforgeError('SPEC_PARSE', at(offset, TOO_DEEP));
  });
  if (doc.errors.length > 0) {
    throw new ImgforgeError('SPEC_PARSE', doc.errors.slice(0, 5).map((error) => at(error.pos[0], error.message)).join('\n'));
  }
  try {
    const { duplicates, recursive } = checkKeysAndAliases(doc);
    if (duplicates.length > 0) {
      throw new ImgforgeError('SPEC_PARSE', duplicates.slice(0, 5).map((pos) => at(pos, 'Map keys must be unique')).join('\n'));
    }
    if (recursive !== undefined) {
      throw new ImgforgeError('SPEC_PARSE', at(recursive.pos, `the alias *${recursive.name} refers to a node that contains it`));
    }
    // maxAliasCount guards against "billion laughs" documents.
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    throw parseError(sourceName, 1, 1, shorten(escapeControls((error as Error).message)));
  }
}

/**
 * In one pass: offsets of keys that repeat an earlier scalar key of the same mapping, and the first
 * alias inside the node it refers to (`&a [*a]`). Such a document can never be a spec, and the
 * yaml package takes cubic time to resolve it (500 self-aliases: 14 s).
 */
function checkKeysAndAliases(doc: YAML.Document): { duplicates: number[]; recursive: { name: string; pos: number } | undefined } {
  const duplicates: number[] = [];
  let recursive: { name: string; pos: number } | undefined;
  // Anchors in document order: an alias refers to the latest node defined with its name.
  const anchors = new Map<string, unknown>();
  const define = (node: YAML.Scalar | YAML.YAMLMap | YAML.YAMLSeq) => {
    if (node.anchor) anchors.set(node.anchor, node);
  };
  YAML.visit(doc, {
    Scalar: (_, scalar) => define(scalar),
    Seq: (_, seq) => define(seq),
    Map(_, map) {
      define(map);
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        // Merge keys (<<) may repeat; collection keys are refused later as unknown keys.
        if (!YAML.isScalar(key) || key.value === '<<') continue;
        if (seen.has(key.value)) duplicates.push(key.range?.[0] ?? 0);
        else seen.add(key.value);
      }
    },
    Alias(_, alias, path) {
      const target = anchors.get(alias.source);
      if (recursive === undefined && target !== undefined && path.includes(target as YAML.Node)) {
        recursive = { name: alias.source, pos: alias.range?.[0] ?? 0 };
      }
    },
  });
  return { duplicates, recursive };
}

/** Line and column (1-based) of a character offset. */
function linePosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

/** The parsers quote the offending text, which can be a whole document: the position says where it is. */
function shorten(message: string, max = 200): string {
  return message.length > max ? `${message.slice(0, max - 3)}...` : message;
}

/** Control characters (an unexpected token can be one) are shown escaped, never raw on a terminal. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function parseJson(text: string, sourceName: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 names the offset ("... in JSON at position 42"), except for a premature end or a bad first token.
    const at = /at position (\d+)/.exec(message);
    let offset = at ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    if (offset === undefined) {
      const token = /Unexpected token '(.)'/.exec(message);
      offset = token ? Math.max(0, text.indexOf(token[1])) : 0;
    }
    const { line, col } = linePosition(text, offset);
    // V8 quotes the text around the error ('..."snippet"... is not valid JSON'): the position says where.
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
    throw parseError(sourceName, line, col, escapeControls(reason));
  }
  const deep = jsonTooDeepAt(text);
  if (deep >= 0) {
    const { line, col } = linePosition(text, deep);
    throw parseError(sourceName, line, col, TOO_DEEP);
  }
  return value;
}

function normalize(spec: ValidatedSpec, baseDir: string): LoadedSpec {
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  return {
    specPath: undefined,
    baseDir,
    output: resolve(spec.output),
    size: spec.size,
    sectorSize: spec.sectorSize,
    alignment: spec.alignment,
    seed: spec.seed,
    diskGuid: spec.diskGuid,
    table: spec.table,
    diskId: spec.diskId,
    bootCode: resolve(spec.bootCode),
    partitions: spec.partitions.map((p) => ({
      name: p.name,
      type: { guid: p.type.guid, name: p.type.name },
      size: p.size,
      guid: p.guid,
      attributes: p.attributes,
      mbrType: p.mbrType,
      bootable: p.bootable,
      primary: p.primary,
      hybrid: p.hybrid,
      contents: resolve(p.contents),
      filesystem:
        p.filesystem === undefined
          ? undefined
          : { ...p.filesystem, files: p.filesystem.files.map((f) => ({ source: resolve(f.source)!, target: f.target })) },
      ...(p.verity !== undefined ? { verity: p.verity } : {}),
      ...(p.signature !== undefined ? { signature: { verity: p.signature.verity, key: resolve(p.signature.key)!, certificate: resolve(p.signature.certificate)! } } : {}),
    })),
  };
}

/**
 * Values a parsed spec may hold, counting an alias as a copy of what it refers to (validation visits
 * each copy). YAML's alias count only stops exponential nesting: 128 aliases of a list of 1,000
 * entries, in 9 KB, gave 384,129 problems and took 5 s to validate. Real specs hold hundreds; 20,000
 * values are some 6,000 files listed one by one.
 */
export const MAX_SPEC_VALUES = 20_000;

/**
 * The offset of the first bracket that opens a level deeper than MAX_SPEC_DEPTH in JSON text, or
 * -1. Only for text JSON.parse accepted (which does not recurse): strings are skipped, escapes
 * included, and every other bracket is structure.
 */
function jsonTooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_SPEC_DEPTH) return i;
    } else if (c === ']' || c === '}') depth--;
  }
  return -1;
}

interface Measure {
  /** Values, counting this one; past MAX_SPEC_VALUES, counting stopped. */
  values: number;
  /** Levels of mappings and lists, this one included (0 for a scalar). */
  height: number;
}

const SCALAR: Measure = { values: 1, height: 0 };

/**
 * Counts values as validation sees them (stopping past MAX_SPEC_VALUES) and refuses documents that
 * contain themselves or nest deeper than MAX_SPEC_DEPTH. An alias is the very object it refers to,
 * measured once and counted at every place it appears, so the depth check also sees what aliases
 * nest. The recursion goes at most MAX_SPEC_DEPTH + 1 calls deep.
 */
function checkValues(root: unknown, sourceName: string): void {
  const measured = new Map<object, Measure>();
  const open = new Set<object>();
  const tooDeep = () => parseError(sourceName, 1, 1, `${TOO_DEEP}, counting what aliases refer to`);
  /** `value` seen as a value at `level` (1 for the document). */
  const measure = (value: unknown, level: number): Measure => {
    if (value === null || typeof value !== 'object') return SCALAR;
    const known = measured.get(value);
    if (known !== undefined) {
      if (level - 1 + known.height > MAX_SPEC_DEPTH) throw tooDeep();
      return known;
    }
    if (open.has(value)) throw parseError(sourceName, 1, 1, 'an alias refers to a node that contains it');
    if (level > MAX_SPEC_DEPTH) throw tooDeep();
    open.add(value);
    const result = { values: 1, height: 1 };
    for (const child of Object.values(value)) {
      const inner = measure(child, level + 1);
      result.values += inner.values;
      result.height = Math.max(result.height, inner.height + 1);
      if (result.values > MAX_SPEC_VALUES) break;
    }
    open.delete(value);
    measured.set(value, result);
    return result;
  };
  if (measure(root, 1).values > MAX_SPEC_VALUES) {
    throw parseError(sourceName, 1, 1, `the document holds more than ${MAX_SPEC_VALUES} values (an alias counts as a copy of what it refers to); a spec needs far fewer`);
  }
}

/** A spec with more problems lists the first ones (in document order) and counts the rest. */
export const MAX_REPORTED_PROBLEMS = 50;

/** Refuses a spec whose problems validation found, listing them (the first MAX_REPORTED_PROBLEMS). */
function validated(raw: unknown, sourceName: string): ValidatedSpec {
  checkValues(raw, sourceName);
  const result = validateSpec(raw);
  if (!result.ok) {
    const count = result.issues.length;
    const header = `${sourceName}: invalid spec (${count} problem${count === 1 ? '' : 's'}):`;
    const shown = result.issues.slice(0, MAX_REPORTED_PROBLEMS).map((issue) => `  ${escapeControls(formatIssue(issue))}`);
    const more = count > MAX_REPORTED_PROBLEMS ? [`  ... and ${count - MAX_REPORTED_PROBLEMS} more`] : [];
    throw new ImgforgeError('SPEC_INVALID', [header, ...shown, ...more].join('\n'));
  }
  return result.spec;
}

/**
 * Parses and validates spec text. Pure: reads no files (contents are checked by planning).
 * `sourceName` appears in error messages; relative paths in the spec are resolved against `baseDir`.
 */
export function parseSpec({ text, format, sourceName = 'spec', baseDir = process.cwd() }: ParseSpecOptions): LoadedSpec {
  if (typeof text !== 'string') throw new ImgforgeError('USAGE', `parseSpec: text must be a string, got ${typeof text}`);
  if (format !== 'yaml' && format !== 'json') throw new ImgforgeError('USAGE', `parseSpec: format must be "yaml" or "json", got ${JSON.stringify(format)}`);
  if (text.length > MAX_SPEC_BYTES) {
    throw parseError(sourceName, 1, 1, `the spec is ${text.length} characters long; imgforge reads specs of at most ${MAX_SPEC_BYTES} bytes`);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raw = format === 'json' ? parseJson(body, sourceName) : parseYaml(body, sourceName);
  return normalize(validated(raw, sourceName), path.resolve(baseDir));
}

/**
 * Validates a spec written as an object (an ImageSpec) as a spec file would be; relative paths are
 * resolved against `baseDir`. Errors name it `sourceName`.
 */
export function specFromObject(spec: unknown, { sourceName = 'spec', baseDir = process.cwd() }: { sourceName?: string; baseDir?: string } = {}): LoadedSpec {
  return normalize(validated(spec, sourceName), path.resolve(baseDir));
}

/** A spec loadSpec or parseSpec returned (an ImageSpec cannot have these keys: they are unknown to the validator). */
export function isLoadedSpec(value: unknown): value is LoadedSpec {
  return typeof value === 'object' && value !== null && 'specPath' in value && typeof (value as { baseDir?: unknown }).baseDir === 'string';
}

/**
 * The spec an entry point was given: a path (read with loadSpec), a LoadedSpec (as it is), or an
 * ImageSpec object (validated, its paths relative to `baseDir`).
 */
export async function resolveSpec({ spec, baseDir }: SpecInput): Promise<LoadedSpec> {
  if (typeof spec === 'string') return loadSpec(spec);
  if (isLoadedSpec(spec)) return spec;
  if (typeof spec !== 'object' || spec === null) {
    throw new ImgforgeError('USAGE', `spec must be a spec file's path, a spec object or a loaded spec, got ${spec === null ? 'null' : typeof spec}`);
  }
  return specFromObject(spec, { baseDir });
}

function readError(file: string, error: NodeJS.ErrnoException): ImgforgeError {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new ImgforgeError('SPEC_READ', `spec file not found: ${file}`, { cause: error });
    case 'EISDIR':
      return new ImgforgeError('SPEC_READ', `spec file is a directory: ${file}`, { cause: error });
    default:
      return new ImgforgeError('SPEC_READ', `cannot read spec file ${file}: ${describeFsError(error)}`, { cause: error });
  }
}

/**
 * Specs are small (a few KiB; 1 MiB holds thousands of file entries). The cap bounds parsing time and
 * memory, and keeps a spec path naming /dev/zero or a huge file from filling memory.
 */
export const MAX_SPEC_BYTES = 1 << 20;

async function readSpecFile(file: string): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_SPEC_BYTES) return Buffer.concat(chunks, total);
    }
  } finally {
    await handle.close();
  }
}

/** Reads, parses and validates a spec file (.yaml, .yml or .json); relative paths are resolved against its folder. */
export async function loadSpec(specPath: string): Promise<LoadedSpec> {
  const absolute = path.resolve(specPath);
  const format = formatForPath(specPath);
  let bytes: Buffer;
  try {
    bytes = await readSpecFile(absolute);
  } catch (error) {
    throw readError(specPath, error as NodeJS.ErrnoException);
  }
  if (bytes.length > MAX_SPEC_BYTES) {
    throw new ImgforgeError('SPEC_READ', `${specPath}: the spec is larger than ${MAX_SPEC_BYTES} bytes (1 MiB), the most imgforge reads`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImgforgeError('SPEC_PARSE', `${specPath}: the spec is not valid UTF-8 text`);
  }
  const spec = parseSpec({ text, format, sourceName: specPath, baseDir: path.dirname(absolute) });
  return { ...spec, specPath: absolute };
}
