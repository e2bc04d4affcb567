import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import YAML, { LineCounter } from 'yaml';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { formatIssue, validateSpec, type SectorSize, type ValidatedSpec } from './schema';

export type SpecFormat = 'yaml' | 'json';

/** A validated spec: defaults filled in, sizes in bytes, GUIDs canonical uppercase, paths absolute. */
export interface LoadedSpec {
  /** Absolute path of the spec file; undefined when parsed from text. */
  specPath: string | undefined;
  /** Absolute folder that relative paths in the spec are resolved against. */
  baseDir: string;
  /** Absolute. */
  output: string | undefined;
  size: number | 'auto';
  sectorSize: SectorSize;
  alignment: number;
  seed: string | undefined;
  diskGuid: string | undefined;
  partitions: PartitionSpec[];
}

export interface PartitionSpec {
  name: string;
  type: { guid: string; name: string | undefined };
  size: number | 'auto' | 'grow';
  guid: string | undefined;
  /** GPT attribute bit mask. */
  attributes: bigint;
  /** Absolute. */
  contents: string | undefined;
  filesystem: FilesystemSpec | undefined;
}

/** A FAT32 filesystem imgforge writes from files and folders. */
export interface FilesystemSpec {
  type: 'fat32';
  /** Upper case, at most 11 characters. */
  label: string | undefined;
  /** Derived from the seed (or random) when undefined. */
  volumeId: number | undefined;
  /** Chosen by size when undefined. */
  clusterSize: number | undefined;
  /** Bytes left free when the partition is sized "auto" (and checked for fixed sizes). */
  minFree: number;
  /** Sources are absolute; targets are paths inside the filesystem. */
  files: Array<{ source: string; target: string }>;
}

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

function parseYaml(text: string, sourceName: string): unknown {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.slice(0, 5).map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return `${sourceName}:${line}:${col}: ${error.message}`;
    });
    throw new ImgforgeError('SPEC_PARSE', lines.join('\n'));
  }
  try {
    // maxAliasCount guards against "billion laughs" documents.
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw parseError(sourceName, 1, 1, (error as Error).message);
  }
}

/** Line and column (1-based) of a character offset. */
function linePosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

function parseJson(text: string, sourceName: string): unknown {
  try {
    return JSON.parse(text);
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
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/, (\.\.\.)?".*" is not valid JSON$/s, '');
    throw parseError(sourceName, line, col, reason);
  }
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
    partitions: spec.partitions.map((p) => ({
      name: p.name,
      type: { guid: p.type.guid, name: p.type.name },
      size: p.size,
      guid: p.guid,
      attributes: p.attributes,
      contents: resolve(p.contents),
      filesystem:
        p.filesystem === undefined
          ? undefined
          : { ...p.filesystem, files: p.filesystem.files.map((f) => ({ source: resolve(f.source)!, target: f.target })) },
    })),
  };
}

/**
 * Parses and validates spec text. Pure: reads no files (contents are checked by planning).
 * `sourceName` appears in error messages; relative paths in the spec are resolved against `baseDir`.
 */
export function parseSpec(text: string, format: SpecFormat, sourceName: string, baseDir: string): LoadedSpec {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raw = format === 'json' ? parseJson(body, sourceName) : parseYaml(body, sourceName);
  const result = validateSpec(raw);
  if (!result.ok) {
    const count = result.issues.length;
    const header = `${sourceName}: invalid spec (${count} problem${count === 1 ? '' : 's'}):`;
    throw new ImgforgeError('SPEC_INVALID', [header, ...result.issues.map((issue) => `  ${formatIssue(issue)}`)].join('\n'));
  }
  return normalize(result.spec, path.resolve(baseDir));
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

/** Reads, parses and validates a spec file (.yaml, .yml or .json); relative paths are resolved against its folder. */
export async function loadSpec(specPath: string): Promise<LoadedSpec> {
  const absolute = path.resolve(specPath);
  const format = formatForPath(specPath);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(absolute);
  } catch (error) {
    throw readError(specPath, error as NodeJS.ErrnoException);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImgforgeError('SPEC_PARSE', `${specPath}: the spec is not valid UTF-8 text`);
  }
  const spec = parseSpec(text, format, specPath, path.dirname(absolute));
  return { ...spec, specPath: absolute };
}
