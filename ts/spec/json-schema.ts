/**
 * The spec's JSON Schema (draft 2020-12), for editors: made from the validator's own zod schemas
 * (ts/spec/schema.ts, filesystem.ts), whose structure gives the objects, their keys and the lists,
 * and whose FieldDocs (ts/spec/fields.ts) give each field's description, examples and, for a field
 * parsed by a function, the JSON Schema of what that function accepts. A key without a FieldDoc
 * stops the generation, so a field cannot be added to the validator and be missing here.
 *
 * The schema checks what can be checked field by field; what relates fields (sizes that are
 * multiples of sectorSize, unique names, one "grow") and the exact byte limits are imgforge's to
 * say (`imgforge plan`).
 */
import type { z } from 'zod';
import { fieldDocs, type JsonSchema } from './fields';
import { specSchema } from './schema';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The zod internals this walk reads: each schema's definition. */
interface Definition {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}

const definition = (schema: z.ZodType): Definition => (schema as unknown as { _zod: { def: Definition } })._zod.def;

/** The JSON Schema of a zod schema of the spec: its FieldDoc's description and examples on what its value must be (exported for tests). */
export function jsonSchemaOf(schema: z.ZodType, where: string): JsonSchema {
  const doc = fieldDocs.get(schema);
  const body = doc?.schema ?? structure(schema, where);
  if (doc === undefined) return body;
  return {
    ...body,
    ...doc.extra,
    description: doc.description,
    ...(doc.examples !== undefined ? { examples: doc.examples } : {}),
  };
}

/** The JSON Schema of a schema that has no `schema` of its own: from its structure. */
function structure(schema: z.ZodType, where: string): JsonSchema {
  const def = definition(schema);
  switch (def.type) {
    case 'object': {
      if (def.catchall === undefined || definition(def.catchall).type !== 'never') {
        throw new Error(`${where}: the spec's objects are strict (unknown keys refused); this one is not`);
      }
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, value] of Object.entries(def.shape ?? {})) {
        const at = where === '' ? key : `${where}.${key}`;
        const doc = fieldDocs.get(value);
        if (doc === undefined) throw new Error(`${at} has no FieldDoc: give it a description, examples and its JSON Schema (ts/spec/fields.ts)`);
        properties[key] = jsonSchemaOf(value, at);
        if (doc.required === true) required.push(key);
      }
      return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false };
    }
    case 'array':
      return { type: 'array', items: jsonSchemaOf(def.element!, `${where}[]`) };
    case 'optional':
    case 'nullable':
      return jsonSchemaOf(def.innerType!, where);
    case 'pipe':
      // z.preprocess is a pipe from a transform: the value's shape is what it feeds.
      return jsonSchemaOf(definition(def.in!).type === 'transform' ? def.out! : def.in!, where);
    default:
      throw new Error(`${where || '(top level)'}: a zod ${def.type} cannot be described from its structure; give it a FieldDoc with a schema`);
  }
}

/** The spec's JSON Schema, as `imgforge schema` prints it and the package ships it (schema.json). */
export function specJsonSchema(): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: 'imgforge image spec',
    ...jsonSchemaOf(specSchema, ''),
  };
}
