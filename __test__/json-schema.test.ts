/**
 * The spec's JSON Schema against a real JSON Schema validator (ajv, draft 2020-12) and against
 * imgforge's own validator: the examples and templates pass both, a set of broken specs fails
 * both, and a walk of the validator's strict objects and of the schema finds the same keys.
 */
import test from 'ava';
import Ajv2020 from 'ajv/dist/2020';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { specJsonSchema, jsonSchemaOf } from '../ts/spec/json-schema';
import { specSchema, validateSpec, formatIssue } from '../ts/spec/schema';
import { checkSize, SIZE_PATTERN } from '../ts/units';
import { ACCEPTED_TYPE_NAMES, PARTITION_TYPES } from '../ts/spec/partition-types';
import { imgforge, ROOT } from './helpers/cli';

const schema = specJsonSchema();
const ajv = new Ajv2020({ allErrors: true });
const validate = ajv.compile(schema);

function ajvErrors(value: unknown): string {
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}

function imgforgeErrors(value: unknown): string {
  const result = validateSpec(value);
  return result.ok ? '' : result.issues.map(formatIssue).join('; ');
}

/** The specs at the top of each folder of `dir` (examples/<name>/image.yaml), not the input trees below them. */
function specFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((folder) =>
      fs
        .readdirSync(path.join(dir, folder.name), { withFileTypes: true })
        .filter((entry) => entry.isFile() && /\.(ya?ml|json)$/.test(entry.name))
        .map((entry) => path.join(dir, folder.name, entry.name)),
    )
    .sort();
}

const readSpec = (file: string): unknown => {
  const text = fs.readFileSync(file, 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
};

const SPECS = [...specFiles(path.join(ROOT, 'examples')), ...specFiles(path.join(ROOT, 'templates'))];

test('there are examples and templates to check', (t) => {
  const names = SPECS.map((f) => path.relative(ROOT, f));
  t.true(names.includes('examples/appliance/image.yaml'));
  t.true(names.includes('templates/minimal/image.yaml'));
  t.true(names.includes('templates/uefi-ab/image.yaml'));
  t.true(names.includes('templates/rpi/image.yaml'));
});

for (const file of SPECS) {
  test(`${path.relative(ROOT, file)} is valid for ajv and for imgforge`, (t) => {
    const spec = readSpec(file);
    t.is(ajvErrors(spec), '');
    t.is(imgforgeErrors(spec), '');
  });
}

test('a template names the shipped schema, and that file is this schema', (t) => {
  for (const name of fs.readdirSync(path.join(ROOT, 'templates'))) {
    const file = path.join(ROOT, 'templates', name, 'image.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const reference = (readSpec(file) as { $schema: string }).$schema;
    t.true(text.startsWith(`# yaml-language-server: $schema=${reference}\n`), name);
    t.deepEqual(JSON.parse(fs.readFileSync(path.resolve(path.dirname(file), reference), 'utf8')), schema, name);
  }
});

// ---- broken specs fail both ----

const esp = { name: 'esp', type: 'esp', size: '64MiB', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } };
const root = { name: 'root', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: './rootfs', target: '/' }] } };
const good = { size: '1GiB', partitions: [esp, root] };
const withPartition = (changes: Record<string, unknown>, base: Record<string, unknown> = esp) => ({ ...good, partitions: [{ ...base, ...changes }] });
const withFilesystem = (changes: Record<string, unknown>, base: typeof esp | typeof root = esp) =>
  withPartition({ filesystem: { ...base.filesystem, ...changes } }, base);

const BROKEN: Record<string, unknown> = {
  // unknown keys
  'an unknown top-level key': { ...good, colour: 'red' },
  'an unknown partition key': withPartition({ sise: '1MiB' }),
  'an unknown filesystem key': withFilesystem({ compression: 'lz4' }),
  'an unknown file entry key': withFilesystem({ files: [{ source: './esp', target: '/', mode: 644 }] }),
  // bad sizes
  'a decimal unit': { ...good, size: '1 GB' },
  'a size in furlongs': { ...good, size: '3 furlongs' },
  'a negative size': { ...good, size: -1 },
  'a size of words': withPartition({ size: 'big' }),
  'a fractional byte count': withPartition({ size: 1.5 }),
  'a zero partition size': withPartition({ size: 0 }),
  'a sector size of 1024': { ...good, sectorSize: 1024 },
  'a lower-case alignment unit': { ...good, alignment: '1mib' },
  'a cluster size of 3000': withFilesystem({ clusterSize: 3000 }),
  'a volume id of 2^32': withFilesystem({ volumeId: 2 ** 32 }),
  // bad types
  'a number as the name': withPartition({ name: 5 }),
  'a number as the seed': { ...good, seed: 42 },
  'partitions as text': { ...good, partitions: 'all' },
  'attributes as text': withPartition({ attributes: 'read-only' }),
  'files as a mapping': withFilesystem({ files: { source: './esp', target: '/' } }),
  'a list as the output': { ...good, output: ['a.img'] },
  // bad enum values
  'an unknown partition type': withPartition({ type: 'root-x86-65' }),
  'an unknown filesystem type': withFilesystem({ type: 'btrfs' }),
  'an unknown squashfs compression': withFilesystem({ type: 'squashfs', compression: 'lzma' }),
  'an unknown ownership': withFilesystem({ ownership: 'nobody' }, root),
  'an unknown attribute': withPartition({ attributes: ['fast'] }),
  'attribute bit 64': withPartition({ attributes: [64] }),
  'the all-zero GUID': withPartition({ guid: '00000000-0000-0000-0000-000000000000' }),
  'a GUID too short': { ...good, diskGuid: '6A1C3F0E-8D2B-4C5A-9E7F' },
  // wrong nesting and missing keys
  'a filesystem at the top level': { ...good, filesystem: esp.filesystem },
  'files on the partition itself': withPartition({ files: esp.filesystem.files }),
  'a label on the partition itself': withPartition({ label: 'ESP' }),
  'partitions as a mapping': { ...good, partitions: { esp } },
  'no partitions': { size: '1GiB' },
  'an empty partition list': { ...good, partitions: [] },
  'a partition without a name': withPartition({ name: undefined }),
  'a partition without a type': withPartition({ type: undefined }),
  'a filesystem without a type': withFilesystem({ type: undefined }),
  'a file entry without a target': withFilesystem({ files: [{ source: './esp' }] }),
  'contents and a filesystem': withPartition({ contents: './esp.img' }),
  'a target not starting with /': withFilesystem({ files: [{ source: './esp', target: 'EFI' }] }),
  'a target that leaves the filesystem': withFilesystem({ files: [{ source: './esp', target: '/EFI/../..' }] }),
  // keys of the other filesystem type, labels by the type's rules
  'a UUID on FAT32': withFilesystem({ uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB' }),
  'a cluster size on EROFS': withFilesystem({ clusterSize: 4096 }, root),
  'a FAT32 label of 12 characters': withFilesystem({ label: 'ABCDEFGHIJKL' }),
  'a FAT32 label with a dot': withFilesystem({ label: 'MY.ESP' }),
  'an EROFS label of 17 characters': withFilesystem({ label: 'abcdefghijklmnopq' }, root),
  'an ext4 label of 17 characters': withFilesystem({ type: 'ext4', label: 'abcdefghijklmnopq' }),
  'a label on squashfs': withFilesystem({ type: 'squashfs', label: 'root' }),
  'a compression on ext4': withFilesystem({ type: 'ext4', compression: 'xz' }),
  'a volume id on ext4': withFilesystem({ type: 'ext4', volumeId: '1234-ABCD' }),
  'a UUID on squashfs': withFilesystem({ type: 'squashfs', uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB' }),
  'minFree on squashfs': withFilesystem({ type: 'squashfs', minFree: '1MiB' }),
};

for (const [what, spec] of Object.entries(BROKEN)) {
  test(`broken: ${what} fails ajv and imgforge`, (t) => {
    const json = JSON.parse(JSON.stringify(spec)) as unknown; // as a parser would give it: no undefined keys
    t.not(ajvErrors(json), '', 'ajv accepted it');
    t.not(imgforgeErrors(json), '', 'imgforge accepted it');
  });
}

test('the good spec the broken ones start from passes both', (t) => {
  t.is(ajvErrors(good), '');
  t.is(imgforgeErrors(good), '');
});

test('ext4 and squashfs filesystems with all their keys pass both', (t) => {
  const files = [{ source: './var', target: '/' }];
  const spec = {
    size: '4GiB',
    partitions: [
      { name: 'var', type: 'var', size: 'auto', filesystem: { type: 'ext4', label: 'var', uuid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB', minFree: '256MiB', ownership: 'source', files } },
      { name: 'usr', type: 'linux-generic', size: 'auto', filesystem: { type: 'squashfs', ownership: 'root', compression: 'xz', files } },
    ],
  };
  t.is(ajvErrors(spec), '');
  t.is(imgforgeErrors(spec), '');
});

// ---- the schema and the validator stay in step ----

type Def = { type: string; shape?: Record<string, z.ZodType>; catchall?: z.ZodType; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType };
const def = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every key path the validator's strict objects accept ("partitions[].filesystem.files[].source"). */
function validatorKeys(schema: z.ZodType, at: string, out: Set<string>): Set<string> {
  const d = def(schema);
  if (d.type === 'object') {
    for (const [key, value] of Object.entries(d.shape!)) {
      const here = at === '' ? key : `${at}.${key}`;
      out.add(here);
      validatorKeys(value, here, out);
    }
  } else if (d.type === 'array') validatorKeys(d.element!, `${at}[]`, out);
  else if (d.type === 'optional' || d.type === 'nullable') validatorKeys(d.innerType!, at, out);
  else if (d.type === 'pipe') {
    validatorKeys(d.in!, at, out);
    validatorKeys(d.out!, at, out);
  }
  return out;
}

/** Every key path the JSON Schema's objects name, with the schema of each. */
function schemaKeys(node: unknown, at: string, out: Map<string, Record<string, unknown>>): Map<string, Record<string, unknown>> {
  if (typeof node !== 'object' || node === null) return out;
  const s = node as Record<string, unknown>;
  for (const [key, value] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    const here = at === '' ? key : `${at}.${key}`;
    out.set(here, value);
    schemaKeys(value, here, out);
  }
  if (s.items !== undefined) schemaKeys(s.items, `${at}[]`, out);
  return out;
}

test('every key the validator accepts is in the schema, and every key of the schema is one the validator accepts', (t) => {
  const accepted = [...validatorKeys(specSchema, '', new Set())].sort();
  const described = [...schemaKeys(schema, '', new Map()).keys()].sort();
  t.true(accepted.includes('partitions[].filesystem.files[].target'));
  t.deepEqual(described, accepted);
});

test('every object in the schema refuses unknown keys, as the validator does', (t) => {
  const objects: string[] = [];
  const visit = (node: unknown, at: string) => {
    if (typeof node !== 'object' || node === null) return;
    const s = node as Record<string, unknown>;
    if (s.properties !== undefined && s.type === 'object') {
      objects.push(at);
      t.is(s.additionalProperties, false, at);
    }
    for (const [key, value] of Object.entries(s)) visit(value, `${at}/${key}`);
  };
  visit(schema, '');
  t.true(objects.length >= 4, objects.join(' '));
});

test('every field has a description and examples, and the examples are valid values of the field', (t) => {
  for (const [key, field] of schemaKeys(schema, '', new Map())) {
    t.true(typeof field.description === 'string' && field.description.length > 20, `${key}: description`);
    t.true(Array.isArray(field.examples) && field.examples.length > 0, `${key}: examples`);
    const check = ajv.compile({ ...field, $schema: undefined });
    for (const example of field.examples as unknown[]) t.true(check(example), `${key}: example ${JSON.stringify(example)}: ${ajv.errorsText(check.errors)}`);
  }
});

test('a field without a FieldDoc stops the schema from being made', (t) => {
  const undocumented = z.strictObject({ colour: z.string() });
  t.throws(() => jsonSchemaOf(undocumented, 'partitions[]'), { message: /partitions\[\]\.colour has no FieldDoc/ });
});

test('partition types: every name imgforge knows, and GUIDs', (t) => {
  const typeSchema = (schema as { properties: { partitions: { items: { properties: { type: object } } } } }).properties.partitions.items.properties.type;
  const check = ajv.compile(typeSchema);
  for (const name of [...PARTITION_TYPES.keys(), 'root-amd64', 'usr-aarch64-verity']) t.true(check(name), name);
  t.true(ACCEPTED_TYPE_NAMES.length > PARTITION_TYPES.size);
  t.true(check('0fc63daf-8483-4772-8e79-3d69d8477de4'));
  t.false(check('root-x86-65'));
  t.false(check('00000000-0000-0000-0000-000000000000'));
});

test('the size pattern matches exactly the text checkSize reads as a size', (t) => {
  const pattern = new RegExp(SIZE_PATTERN, 'u');
  const samples = ['512', '1MiB', ' 2 GiB ', '1.5GiB', '1.3KiB', '0', '7 B', '12 MB', 'MiB', '-1', '1e3', '0x10', '1 mib', '1.MiB', '.5MiB', '5 KiB extra'];
  for (const sample of samples) {
    const size = checkSize(sample);
    // The pattern refuses what checkSize calls a syntax error or negative; whole bytes are checkSize's to say.
    const negative = sample.trim().startsWith('-');
    t.is(pattern.test(sample), size.ok || (!size.syntax && !negative), sample);
  }
});

test('imgforge schema prints the schema the package ships as schema.json', (t) => {
  const result = imgforge(['schema']);
  t.is(result.status, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), schema);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(ROOT, 'schema.json'), 'utf8')), schema, 'schema.json is stale: run npm run build:ts');
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  t.is(manifest.exports['./schema.json'], './schema.json');
  t.true(manifest.files.includes('schema.json'));
  t.is(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});
