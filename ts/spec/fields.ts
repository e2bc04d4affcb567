/**
 * Building blocks of the spec's schemas: each field is parsed by a small function that knows what
 * to say about a bad value, wrapped as a zod schema that reports exactly that message.
 */
import { z } from 'zod';
import { describeValue, SIZE_PATTERN } from '../units';
import { GUID_PATTERN, NIL_GUID } from '../guid';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** YAML writes an empty value (`seed:`) as null; for optional keys that means "not set". */
export const absent = (value: unknown): value is undefined | null => value === undefined || value === null;

/** A YAML/JSON mapping (an object that is not an array). */
export const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON Schema (draft 2020-12) fragment. */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * What the spec's JSON Schema (ts/spec/json-schema.ts) says of a field: the help editors show, and
 * for a field parsed by a function, the JSON Schema of the values that function accepts (zod cannot
 * see into it). Every key of the spec's strict objects has one; json-schema.ts refuses to run
 * without it, and __test__/json-schema.test.ts walks the validator and the schema to keep them in step.
 */
export interface FieldDoc {
  description: string;
  examples?: unknown[];
  /** The values a field's parse function accepts; structural fields (objects, lists) leave it out. */
  schema?: JsonSchema;
  /** The key must be present. */
  required?: boolean;
  /** More keywords for the field's own schema: limits of a list, keys that exclude each other. */
  extra?: JsonSchema;
}

/** The FieldDoc of each documented zod schema. */
export const fieldDocs = z.registry<FieldDoc>();

/** Attaches a FieldDoc to a zod schema (a structural one; `field` takes its own). */
export function documented<S extends z.ZodType>(schema: S, doc: FieldDoc): S {
  fieldDocs.add(schema, doc);
  return schema;
}

// ---- JSON Schema fragments shared by several fields ----

/** A size as units.ts parses it: whole bytes, or text like "512MiB" (at least `minimum` as a number). */
export function sizeSchema(minimum = 0): JsonSchema {
  return {
    anyOf: [
      { type: 'integer', minimum, maximum: Number.MAX_SAFE_INTEGER },
      { type: 'string', pattern: SIZE_PATTERN },
    ],
  };
}

/** A GUID as text (any case, surrounding blanks allowed), not the all-zero one. */
export const GUID_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: `^\\s*${GUID_PATTERN}\\s*$`,
  not: { pattern: `^\\s*${NIL_GUID}\\s*$` },
};

/** Text that is not empty. */
export const TEXT_SCHEMA: JsonSchema = { type: 'string', minLength: 1 };

/**
 * Wraps a parse function as a zod schema that reports the function's own message. The parse function
 * also sees absent keys (as undefined), so it decides between "required" and a default; `.optional()`
 * only stops zod from rejecting the absent key before the parser runs. `doc` is what the spec's JSON
 * Schema says of the field, with the JSON Schema of the values `parse` accepts.
 */
export function field<T>(parse: (value: unknown) => Parsed<T>, doc: FieldDoc & { schema: JsonSchema }) {
  const schema = z.unknown().optional().transform((value, ctx): T => {
    const result = parse(value);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: result.problem, input: value });
      return z.NEVER;
    }
    return result.value;
  });
  return documented(schema, doc);
}

/** A high surrogate without its low half after it, or a low one without its high half before it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The problem with a string that holds a lone UTF-16 surrogate, which JSON and YAML escapes
 * ("\ud800") can write. It is not valid Unicode: a file path (UTF-8), every string the native
 * addon takes as UTF-8, and the tools that read a GPT name back all turn it into U+FFFD silently,
 * so the image (or the file read) would not be what the spec says.
 */
export function loneSurrogateProblem(text: string): string | undefined {
  const match = LONE_SURROGATE.exec(text);
  if (match === null) return undefined;
  const unit = match[0].charCodeAt(0).toString(16).toUpperCase();
  return (
    `contains a lone UTF-16 surrogate (U+${unit}) at index ${match.index}: not valid Unicode, it would silently become U+FFFD; ` +
    'escape a character beyond U+FFFF as a pair ("\\ud83d\\ude00") or write it as is'
  );
}

export function parseOptionalString(what: string) {
  return (value: unknown): Parsed<string | undefined> => {
    if (absent(value)) return ok(undefined);
    if (typeof value === 'number' || typeof value === 'boolean') {
      return fail(`expected ${what}, got ${describeValue(value)} (write it in quotes to use it as text)`);
    }
    if (typeof value !== 'string' || value.length === 0) return fail(`expected ${what}, got ${describeValue(value)}`);
    if (value.includes('\0')) return fail(`${what} must not contain NUL characters`);
    const surrogate = loneSurrogateProblem(value);
    return surrogate === undefined ? ok(value) : fail(surrogate);
  };
}

export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, what: string) {
  // `$schema` is for editors: allowed, but no key a user is told about.
  const allowed = Object.keys(shape)
    .filter((key) => key !== '$schema')
    .join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key (allowed: ${allowed})`
        : `expected ${what} with the keys ${allowed}, got ${describeValue(issue.input)}`,
  });
}
