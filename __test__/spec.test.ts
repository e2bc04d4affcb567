import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError } from '../ts/errors';
import { loadSpec, MAX_SPEC_DEPTH, parseSpec } from '../ts/spec/load';
import { imgforge } from './helpers/cli';
import { PARTITION_TYPES, resolveType, typeName } from '../ts/spec/partition-types';
import { MiB } from '../ts/units';

const yaml = (text: string, baseDir = '/base') => parseSpec({ text, format: 'yaml', sourceName: 'spec.yaml', baseDir });
const json = (value: unknown, baseDir = '/base') => parseSpec({ text: JSON.stringify(value), format: 'json', sourceName: 'spec.json', baseDir });

const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const GUID_A = '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB';
const GUID_B = 'F0E1D2C3-B4A5-4697-8899-AABBCCDDEEFF';

/** The problem lines of a SPEC_INVALID error (the header line dropped, indentation trimmed). */
function problems(t: ExecutionContext, parse: () => unknown): string[] {
  const error = t.throws(parse, { instanceOf: ImgforgeError });
  t.is(error?.code, 'SPEC_INVALID', error?.message);
  const [header, ...lines] = (error?.message ?? '').split('\n');
  t.regex(header, /^spec\.(yaml|json): invalid spec \(\d+ problems?\):$/);
  return lines.map((line) => line.trim());
}

/** A spec with one valid partition, plus `extra` lines for the partition and `top` lines for the document. */
function onePartition(extra = '', top = ''): string {
  return `${top}partitions:\n  - name: data\n    type: linux-generic\n    size: 1MiB\n${extra}`;
}

test('defaults are filled in', (t) => {
  const spec = yaml(onePartition());
  t.deepEqual(spec, {
    specPath: undefined,
    baseDir: '/base',
    output: undefined,
    size: 'auto',
    sectorSize: 512,
    alignment: MiB,
    seed: undefined,
    diskGuid: undefined,
    table: 'gpt',
    diskId: undefined,
    bootCode: undefined,
    partitions: [
      {
        name: 'data',
        type: { guid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', name: 'linux-generic' },
        size: MiB,
        guid: undefined,
        attributes: 0n,
        mbrType: undefined,
        bootable: false,
        primary: false,
        hybrid: false,
        contents: undefined,
        filesystem: undefined,
      },
    ],
  });
});

test('every field, YAML and JSON alike', (t) => {
  const doc = {
    output: './out/disk.img',
    size: '2GiB',
    sectorSize: 4096,
    alignment: '4MiB',
    seed: 'my-product-v1',
    diskGuid: GUID_A.toLowerCase(),
    partitions: [
      { name: 'esp', type: 'ESP', size: '512MiB', guid: GUID_B.toLowerCase(), attributes: ['required-partition', 'no-block-io-protocol', 'legacy-bios-bootable', 48, 'growfs', 'read-only', 'no-auto'], contents: 'esp.vfat' },
      { name: 'root', type: 'root-x86-64', size: 'grow' },
      { name: 'extra', type: '933ac7e1-2eb4-4f13-b844-0e14e2aef915', size: 'auto', contents: '/abs/extra.img' },
      { name: 'custom', type: '12345678-9abc-4def-8123-456789abcdef', size: 8192 },
    ],
  };
  const fromJson = json(doc, '/work/specs');
  const fromYaml = parseSpec({
    text:
      `output: ./out/disk.img\nsize: 2GiB\nsectorSize: 4096\nalignment: 4MiB\nseed: my-product-v1\ndiskGuid: ${GUID_A.toLowerCase()}\npartitions:\n` +
        `  - name: esp\n    type: ESP\n    size: 512MiB\n    guid: ${GUID_B.toLowerCase()}\n` +
        `    attributes: [required-partition, no-block-io-protocol, legacy-bios-bootable, 48, growfs, read-only, no-auto]\n    contents: esp.vfat\n` +
        `  - { name: root, type: root-x86-64, size: grow }\n` +
        `  - { name: extra, type: 933ac7e1-2eb4-4f13-b844-0e14e2aef915, size: auto, contents: /abs/extra.img }\n` +
        `  - { name: custom, type: 12345678-9abc-4def-8123-456789abcdef, size: 8192 }\n`,
    format: 'yaml',
    sourceName: 'spec.yaml',
    baseDir: '/work/specs',
  });
  t.deepEqual(fromYaml, fromJson);
  t.is(fromJson.output, '/work/specs/out/disk.img');
  t.is(fromJson.size, 2 * 1024 * MiB);
  t.is(fromJson.sectorSize, 4096);
  t.is(fromJson.alignment, 4 * MiB);
  t.is(fromJson.seed, 'my-product-v1');
  t.is(fromJson.diskGuid, GUID_A);
  const [esp, root, extra, custom] = fromJson.partitions;
  t.deepEqual(esp.type, { guid: ESP, name: 'esp' });
  t.is(esp.guid, GUID_B);
  t.is(esp.attributes, (1n << 0n) | (1n << 1n) | (1n << 2n) | (1n << 48n) | (1n << 59n) | (1n << 60n) | (1n << 63n));
  t.is(esp.contents, '/work/specs/esp.vfat');
  t.is(root.size, 'grow');
  t.is(root.type.name, 'root-x86-64');
  t.deepEqual(extra.type, { guid: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915', name: 'home' });
  t.is(extra.size, 'auto');
  t.is(extra.contents, '/abs/extra.img');
  t.deepEqual(custom.type, { guid: '12345678-9ABC-4DEF-8123-456789ABCDEF', name: undefined });
});

test('a $schema line is allowed at the top of JSON and YAML specs (for editors) and changes nothing', (t) => {
  const partitions = [{ name: 'esp', type: 'esp', size: '1MiB' }];
  const plain = json({ partitions });
  t.deepEqual(json({ $schema: 'https://example.com/imgforge.schema.json', partitions }), plain);
  t.deepEqual(yaml('$schema: ./node_modules/imgforge/schema.json\npartitions:\n  - { name: esp, type: esp, size: 1MiB }\n'), yaml('partitions:\n  - { name: esp, type: esp, size: 1MiB }\n'));
  t.throws(() => json({ $schema: 42, partitions }), { message: /\["\$schema"\]: expected the URL or path of a JSON Schema, got 42/ });
});

test('baseDir is made absolute and relative paths resolve against it', (t) => {
  const spec = yaml(onePartition('    contents: ../images/a.img\n', 'output: disk.img\n'), 'rel/dir');
  t.is(spec.baseDir, path.resolve('rel/dir'));
  t.is(spec.output, path.resolve('rel/dir/disk.img'));
  t.is(spec.partitions[0].contents, path.resolve('rel/images/a.img'));
});

test('empty optional values in YAML mean "not set"', (t) => {
  const spec = yaml(onePartition('    guid:\n    attributes:\n    contents:\n', 'output:\nseed:\ndiskGuid:\nsize:\nsectorSize:\nalignment:\n'));
  t.is(spec.output, undefined);
  t.is(spec.seed, undefined);
  t.is(spec.size, 'auto');
  t.is(spec.partitions[0].attributes, 0n);
});

test('names may be up to 36 UTF-16 code units, counting surrogate pairs as two', (t) => {
  t.is(yaml(onePartition().replace('name: data', `name: "${'x'.repeat(36)}"`)).partitions[0].name.length, 36);
  t.is(yaml(onePartition().replace('name: data', `name: "${'😀'.repeat(18)}"`)).partitions[0].name, '😀'.repeat(18));
  t.deepEqual(problems(t, () => yaml(onePartition().replace('name: data', `name: "a${'😀'.repeat(18)}"`))), [
    `partitions[0].name: "a${'😀'.repeat(18)}" is 37 UTF-16 code units long; GPT names hold at most 36`,
  ]);
});

test('the example problem: a bad size and an unknown key', (t) => {
  const text = `partitions:\n  - { name: a, type: esp, size: 1MiB, sise: 3 }\n  - { name: b, type: esp, size: 12 potatoes }\n`;
  t.deepEqual(problems(t, () => yaml(text)), [
    'partitions[0].sise: unknown key (allowed: name, type, size, guid, attributes, contents, filesystem, mbrType, bootable, primary, hybrid, verity, signature)',
    'partitions[1].size: expected a size like 512MiB, "auto" or "grow", got "12 potatoes"',
  ]);
});

test('the top level must be a mapping', (t) => {
  t.deepEqual(problems(t, () => yaml('- a\n- b\n')), [
    '(top level): expected a mapping with the keys output, size, sectorSize, alignment, seed, diskGuid, table, diskId, bootCode, partitions, got a list (2 items)',
  ]);
  t.deepEqual(problems(t, () => yaml('just text\n')), [
    '(top level): expected a mapping with the keys output, size, sectorSize, alignment, seed, diskGuid, table, diskId, bootCode, partitions, got "just text"',
  ]);
  t.deepEqual(problems(t, () => yaml('')), ['(top level): the spec is empty; expected a mapping with at least a partitions list']);
  t.deepEqual(problems(t, () => json(null)), ['(top level): the spec is empty; expected a mapping with at least a partitions list']);
});

test('top-level field problems', (t) => {
  t.deepEqual(problems(t, () => yaml(onePartition('', 'sise: 1GiB\n'))), [
    'sise: unknown key (allowed: output, size, sectorSize, alignment, seed, diskGuid, table, diskId, bootCode, partitions)',
  ]);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'size: big\n'))), ['size: expected a size like 512MiB or "auto", got "big"']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'size: 0\n'))), ['size: the disk size must be greater than 0 (or "auto")']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'size: 1000000\n'))), ['size: 1000000 bytes (976.56 KiB) is not a multiple of sectorSize (512)']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'size: 2GiB\nsectorSize: 1024\n'))), ['sectorSize: expected 512 or 4096, got 1024']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'alignment: 3MiB\n'))), [
    'alignment: expected a power of two like 4KiB or 1MiB (and a multiple of sectorSize), got "3MiB"',
  ]);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'alignment: 1KiB\nsectorSize: 4096\n'))), [
    'alignment: 1024 bytes (1 KiB) is smaller than sectorSize (4096); expected a power of two that is a multiple of sectorSize',
  ]);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'seed: ""\n'))), ['seed: expected a non-empty string, got ""']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'seed: 42\n'))), ['seed: expected a non-empty string, got 42 (write it in quotes to use it as text)']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'output: [a]\n'))), ['output: expected a file path, got a list (1 item)']);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'diskGuid: not-a-guid\n'))), [
    'diskGuid: expected a GUID like 6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB, got "not-a-guid"',
  ]);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'diskGuid: 00000000-0000-0000-0000-000000000000\n'))), [
    'diskGuid: the all-zero GUID is not allowed (GPT uses it to mark unused entries)',
  ]);
});

test('the partitions list: missing, not a list, empty, too long', (t) => {
  t.deepEqual(problems(t, () => yaml('size: 1GiB\n')), ['partitions: required: a list of 1 to 128 partitions']);
  t.deepEqual(problems(t, () => yaml('partitions: 3\n')), ['partitions: expected a list of 1 to 128 partitions, got 3']);
  t.deepEqual(problems(t, () => yaml('partitions: []\n')), ['partitions: expected 1 to 128 partitions, got an empty list']);
  const many = Array.from({ length: 129 }, (_, i) => ({ name: `p${i}`, type: 'linux-generic', size: '1MiB' }));
  t.deepEqual(problems(t, () => json({ partitions: many })), [
    'partitions: expected 1 to 128 partitions (the GPT has 128 entries), got 129',
  ]);
  t.is(json({ partitions: many.slice(0, 128) }).partitions.length, 128);
  t.deepEqual(problems(t, () => yaml('partitions:\n  - esp\n')), [
    'partitions[0]: expected a partition (a mapping) with the keys name, type, size, guid, attributes, contents, filesystem, mbrType, bootable, primary, hybrid, verity, signature, got "esp"',
  ]);
});

test('required partition keys', (t) => {
  t.deepEqual(problems(t, () => yaml('partitions:\n  - {}\n')), [
    'partitions[0].name: required: a partition name of 1 to 36 characters',
    'partitions[0].type: required: a Discoverable Partitions Specification name (esp, linux-generic, root-x86-64, usr-arm64, root-x86-64-verity, swap, home, xbootldr, ...) or a GUID',
    'partitions[0].size: required: a size like 512MiB, "auto" or "grow"',
  ]);
});

test('partition field problems', (t) => {
  // The valid partition with one key replaced or added.
  const one = (line: string) => {
    const fields: Record<string, string> = { name: 'data', type: 'linux-generic', size: '1MiB' };
    const [key, ...value] = line.split(': ');
    fields[key] = value.join(': ');
    const body = Object.entries(fields).map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${v}`).join('\n');
    return problems(t, () => yaml(`partitions:\n${body}\n`));
  };
  t.deepEqual(one('name: ""'), ['partitions[0].name: expected a partition name of 1 to 36 characters, got ""']);
  t.deepEqual(one('name: 7'), ['partitions[0].name: expected a partition name of 1 to 36 characters, got 7 (write it in quotes to use it as text)']);
  t.deepEqual(one('type: linux'), [
    'partitions[0].type: unknown partition type "linux"; expected a Discoverable Partitions Specification name (esp, linux-generic, root-x86-64, usr-arm64, root-x86-64-verity, swap, home, xbootldr, ...) or a GUID',
  ]);
  t.deepEqual(one('type: 00000000-0000-0000-0000-000000000000'), ['partitions[0].type: the all-zero type GUID marks an unused GPT entry; choose a real type']);
  t.deepEqual(one('size: 0'), ['partitions[0].size: a partition needs at least one sector; expected a size like 512MiB, "auto" or "grow", got 0']);
  t.deepEqual(one('size: -1MiB'), ['partitions[0].size: a size cannot be negative, got "-1MiB"']);
  t.deepEqual(one('size: 1.3KiB'), ['partitions[0].size: "1.3KiB" is not a whole number of bytes']);
  t.deepEqual(one('size: 1000'), ['partitions[0].size: 1000 bytes is not a multiple of sectorSize (512)']);
  t.deepEqual(one('size: auto'), ['partitions[0].size: "auto" needs contents or a filesystem to size the partition by; set one or give an explicit size']);
  t.deepEqual(one('guid: 1234'), ['partitions[0].guid: expected a GUID like 6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB, got 1234']);
  t.deepEqual(one('attributes: read-only'), ['partitions[0].attributes: expected a list of attribute names or bit numbers 0 to 63, got "read-only"']);
  const attrs = 'expected an attribute name (required-partition, no-block-io-protocol, legacy-bios-bootable, growfs, read-only, no-auto) or a bit number 0 to 63';
  t.deepEqual(one('attributes: [read-only, 64, shiny, -1]'), [
    `partitions[0].attributes[1]: ${attrs}, got 64`,
    `partitions[0].attributes[2]: ${attrs}, got "shiny"`,
    `partitions[0].attributes[3]: ${attrs}, got -1`,
  ]);
  t.deepEqual(one('contents: 5'), ['partitions[0].contents: expected a file path, got 5 (write it in quotes to use it as text)']);
  t.deepEqual(one('contents: ""'), ['partitions[0].contents: expected a file path, got ""']);
});

test('sizes must be sector multiples for the spec\'s sectorSize', (t) => {
  t.is(yaml(onePartition().replace('1MiB', '512')).partitions[0].size, 512);
  t.deepEqual(problems(t, () => yaml(onePartition('', 'sectorSize: 4096\n').replace('1MiB', '6KiB'))), [
    'partitions[0].size: 6144 bytes (6 KiB) is not a multiple of sectorSize (4096)',
  ]);
});

test('checks across partitions: one grow, unique names and GUIDs', (t) => {
  const text =
    `diskGuid: ${GUID_A}\npartitions:\n` +
    `  - { name: a, type: esp, size: grow, guid: ${GUID_B} }\n` +
    `  - { name: b, type: esp, size: grow, guid: ${GUID_B.toLowerCase()} }\n` +
    `  - { name: a, type: esp, size: grow, guid: ${GUID_A} }\n`;
  t.deepEqual(problems(t, () => yaml(text)), [
    'partitions[1].size: only one partition can be "grow" (partitions[0] already is)',
    `partitions[1].guid: duplicate GUID ${GUID_B} (partitions[0].guid has it too); GUIDs must be unique`,
    'partitions[2].name: duplicate name "a" (partitions[0] has it too); names must be unique',
    'partitions[2].size: only one partition can be "grow" (partitions[0] already is)',
    `partitions[2].guid: ${GUID_A} is also the diskGuid; GUIDs must be unique`,
  ]);
});

test('a filesystem must be a mapping', (t) => {
  t.deepEqual(problems(t, () => yaml(onePartition('    filesystem: fat32\n'))), [
    'partitions[0].filesystem: expected a filesystem (a mapping) with the keys type, label, volumeId, clusterSize, minFree, uuid, ownership, compression, files, got "fat32"',
  ]);
});

test('all problems are reported together, in document order', (t) => {
  const text =
    'bogus: 1\nsize: huge\nsectorSize: 4096\npartitions:\n' +
    '  - { name: a, type: nope, size: 1MiB, extra: 1 }\n' +
    '  - { type: esp, size: 12 potatoes }\n';
  t.deepEqual(problems(t, () => yaml(text)), [
    'size: expected a size like 512MiB or "auto", got "huge"',
    'partitions[0].type: unknown partition type "nope"; expected a Discoverable Partitions Specification name (esp, linux-generic, root-x86-64, usr-arm64, root-x86-64-verity, swap, home, xbootldr, ...) or a GUID',
    'partitions[0].extra: unknown key (allowed: name, type, size, guid, attributes, contents, filesystem, mbrType, bootable, primary, hybrid, verity, signature)',
    'partitions[1].name: required: a partition name of 1 to 36 characters',
    'partitions[1].size: expected a size like 512MiB, "auto" or "grow", got "12 potatoes"',
    'bogus: unknown key (allowed: output, size, sectorSize, alignment, seed, diskGuid, table, diskId, bootCode, partitions)',
  ]);
});

test('JSON specs get the same validation', (t) => {
  t.deepEqual(problems(t, () => json({ partitions: [{ name: 'a', type: 'esp', size: 'grow', sise: 1 }] })), [
    'partitions[0].sise: unknown key (allowed: name, type, size, guid, attributes, contents, filesystem, mbrType, bootable, primary, hybrid, verity, signature)',
  ]);
});

function parseFailure(t: ExecutionContext, parse: () => unknown): string {
  const error = t.throws(parse, { instanceOf: ImgforgeError });
  t.is(error?.code, 'SPEC_PARSE');
  return error?.message ?? '';
}

test('YAML syntax errors name the file, line and column', (t) => {
  t.regex(parseFailure(t, () => yaml('partitions:\n  - name: a\n    type: [esp\n')), /^spec\.yaml:\d+:\d+: /);
  t.regex(parseFailure(t, () => yaml('size: 1GiB\nsize: 2GiB\npartitions: []\n')), /^spec\.yaml:2:1: Map keys must be unique/);
  t.regex(parseFailure(t, () => yaml('a: 1\n---\nb: 2\n')), /^spec\.yaml:2:1: Source contains multiple documents/);
  t.regex(parseFailure(t, () => yaml('a: *nowhere\n')), /^spec\.yaml:1:\d+: /);
});

test('JSON syntax errors name the file, line and column', (t) => {
  const parse = (text: string) => () => parseSpec({ text, format: 'json', sourceName: 'spec.json', baseDir: '/' });
  t.is(parseFailure(t, parse('{\n  "size": 1,\n  "partitions": [1,]\n}')), 'spec.json:3:20: Unexpected token \']\'');
  t.regex(parseFailure(t, parse('{\n  "a": 1\n  "b": 2\n}')), /^spec\.json:3:3: Expected ',' or '}' after property value/);
  t.regex(parseFailure(t, parse('{"a": 1')), /^spec\.json:1:8: /);
  t.regex(parseFailure(t, parse('')), /^spec\.json:1:1: Unexpected end of JSON input/);
});

const SURROGATE = (unit: string, index: number) =>
  `contains a lone UTF-16 surrogate (U+${unit}) at index ${index}: not valid Unicode, it would silently become U+FFFD; escape a character beyond U+FFFF as a pair ("\\ud83d\\ude00") or write it as is`;

test('strings that reach the image or a path refuse lone UTF-16 surrogates, naming the field', (t) => {
  const doc = {
    output: 'disk\udc00.img',
    seed: 'v\ud800',
    partitions: [
      { name: 'a\ud800', type: 'esp', size: '1MiB', contents: 'x\ud83d' },
      { name: 'b\ud83d\ude00', type: 'esp', size: '1MiB', filesystem: { type: 'fat32', label: 'L\udfff', files: [{ source: '\ud800esp', target: '/\udc00' }] } },
    ],
  };
  t.deepEqual(problems(t, () => json(doc)), [
    `output: ${SURROGATE('DC00', 4)}`,
    `seed: ${SURROGATE('D800', 1)}`,
    `partitions[0].name: ${SURROGATE('D800', 1)}`,
    `partitions[0].contents: ${SURROGATE('D83D', 1)}`,
    `partitions[1].filesystem.label: ${SURROGATE('DFFF', 1)}`,
    `partitions[1].filesystem.files[0].source: ${SURROGATE('D800', 0)}`,
    `partitions[1].filesystem.files[0].target: ${SURROGATE('DC00', 1)}`,
  ]);
  // YAML's escapes too; a whole pair is a character like any other.
  t.deepEqual(problems(t, () => yaml(onePartition('', '').replace('name: data', 'name: "\\udc00\\ud800"'))), [`partitions[0].name: ${SURROGATE('DC00', 0)}`]);
  t.is(yaml(onePartition().replace('name: data', 'name: "\\ud83d\\ude00 data"')).partitions[0].name, '\u{1F600} data');
});

test('the CLI refuses a lone surrogate in a partition name before building anything (exit 2)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-spec-'));
  const spec = path.join(dir, 'spec.json');
  // Written by hand: JSON.stringify would escape it the same way, but this is what a user writes.
  fs.writeFileSync(spec, '{"partitions": [{"name": "a\\ud800", "type": "linux-generic", "size": "1MiB"}]}');
  const run = imgforge(['build', spec, '-o', path.join(dir, 'disk.img'), '--quiet']);
  t.is(run.status, 2, run.stderr);
  t.is(run.stderr, `imgforge: ${spec}: invalid spec (1 problem):\n    partitions[0].name: ${SURROGATE('D800', 1)}\n`);
  t.false(fs.existsSync(path.join(dir, 'disk.img')));
  fs.rmSync(dir, { recursive: true, force: true });
});

const TOO_DEEP = `the document is nested too deeply (more than ${MAX_SPEC_DEPTH} levels of mappings and lists)`;

test('nesting deeper than 64 levels is a parse error naming the place, in YAML (flow, block, aliases) as in JSON', (t) => {
  const flow = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  t.is(parseFailure(t, () => yaml(`a: ${'['.repeat(2000)}`)), `spec.yaml:1:67: ${TOO_DEEP}`);
  t.is(parseFailure(t, () => yaml(`a: ${flow(2000)}\n`)), `spec.yaml:1:67: ${TOO_DEEP}`);
  t.is(parseFailure(t, () => yaml(`${'- '.repeat(2000)}x\n`)), `spec.yaml:1:129: ${TOO_DEEP}`);
  const block = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  t.is(parseFailure(t, () => yaml(`${block} 1\n`)), `spec.yaml:65:65: ${TOO_DEEP}`);
  t.is(parseFailure(t, () => parseSpec({ text: flow(2000), format: 'json', sourceName: 'spec.json', baseDir: '/' })), `spec.json:1:65: ${TOO_DEEP}`);
  t.is(parseFailure(t, () => parseSpec({ text: `{"a": "[[[[", "b": ${flow(65)}}`, format: 'json', sourceName: 'spec.json', baseDir: '/' })), `spec.json:1:83: ${TOO_DEEP}`);
  // 64 levels are fine as far as parsing goes (then not a spec), in both formats.
  t.regex(problems(t, () => yaml(`partitions: ${flow(63)}\n`))[0], /^partitions\[0\]: expected a partition/);
  t.regex(problems(t, () => parseSpec({ text: `{"partitions": ${flow(63)}}`, format: 'json', sourceName: 'spec.json', baseDir: '/' }))[0], /^partitions\[0\]: expected a partition/);
  // Aliases nest what they refer to: each anchor holds the one before it 30 levels down.
  const anchors = Array.from({ length: 40 }, (_, i) => `a${i}: &a${i} ${'['.repeat(30)}${i === 0 ? '' : `*a${i - 1}`}${']'.repeat(30)}`);
  t.is(parseFailure(t, () => yaml(`${anchors.join('\n')}\n`)), `spec.yaml:1:1: ${TOO_DEEP}, counting what aliases refer to`);
});

test('imgforge plan and build refuse a 2,000-deep YAML spec with one line (exit 2)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-spec-'));
  const cases = { 'flow.yaml': `a: ${'['.repeat(2000)}\n`, 'block.yaml': `partitions:\n${'  - '.repeat(2000)}x\n` };
  for (const [name, text] of Object.entries(cases)) {
    const spec = path.join(dir, name);
    fs.writeFileSync(spec, text);
    for (const command of [['plan', spec], ['build', spec, '-o', path.join(dir, 'disk.img')]]) {
      const run = imgforge(command);
      t.is(run.status, 2, `${command[0]} ${name}: ${run.stderr}`);
      t.regex(run.stderr, new RegExp(`^imgforge: ${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: the document is nested too deeply \\(more than 64 levels of mappings and lists\\)\\n$`));
    }
  }
  t.false(fs.existsSync(path.join(dir, 'disk.img')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a UTF-8 byte order mark is ignored', (t) => {
  t.is(parseSpec({ text: `\ufeff${JSON.stringify({ partitions: [{ name: 'a', type: 'esp', size: 512 }] })}`, format: 'json', sourceName: 'spec.json', baseDir: '/' }).partitions[0].size, 512);
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-spec-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('loadSpec reads .yaml, .yml and .json and resolves paths against the spec folder', async (t) => {
  await withDir(async (dir) => {
    const body = onePartition('    contents: rootfs.img\n', 'output: disk.img\n');
    for (const name of ['a.yaml', 'b.YML']) {
      fs.writeFileSync(path.join(dir, name), body);
      const spec = await loadSpec(path.join(dir, name));
      t.is(spec.specPath, path.join(dir, name));
      t.is(spec.baseDir, dir);
      t.is(spec.output, path.join(dir, 'disk.img'));
      t.is(spec.partitions[0].contents, path.join(dir, 'rootfs.img'));
    }
    fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ partitions: [{ name: 'x', type: 'esp', size: '1MiB' }] }));
    t.is((await loadSpec(path.join(dir, 'c.json'))).partitions[0].name, 'x');
    // Loading never looks at the contents file (it does not exist here).
    t.false(fs.existsSync(path.join(dir, 'rootfs.img')));
  });
});

test('loadSpec errors: missing file, directory, unknown extension, bad UTF-8', async (t) => {
  await withDir(async (dir) => {
    const missing = path.join(dir, 'nope.yaml');
    await t.throwsAsync(loadSpec(missing), { instanceOf: ImgforgeError, message: `spec file not found: ${missing}` });
    fs.mkdirSync(path.join(dir, 'folder.yaml'));
    const isDir = await t.throwsAsync(loadSpec(path.join(dir, 'folder.yaml')), { instanceOf: ImgforgeError });
    t.is(isDir?.code, 'SPEC_READ');
    t.is(isDir?.message, `spec file is a directory: ${path.join(dir, 'folder.yaml')}`);
    fs.writeFileSync(path.join(dir, 'spec.txt'), 'partitions: []');
    const ext = await t.throwsAsync(loadSpec(path.join(dir, 'spec.txt')), { instanceOf: ImgforgeError });
    t.is(ext?.code, 'SPEC_READ');
    t.regex(ext?.message ?? '', /cannot tell the spec format from the extension "\.txt"; expected \.yaml, \.yml or \.json$/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a]));
    const utf = await t.throwsAsync(loadSpec(path.join(dir, 'bad.yaml')), { instanceOf: ImgforgeError });
    t.is(utf?.code, 'SPEC_PARSE');
    fs.writeFileSync(path.join(dir, 'invalid.yaml'), 'partitions: []\n');
    const invalid = await t.throwsAsync(loadSpec(path.join(dir, 'invalid.yaml')), { instanceOf: ImgforgeError });
    t.is(invalid?.code, 'SPEC_INVALID');
    t.true(invalid?.message.startsWith(`${path.join(dir, 'invalid.yaml')}: invalid spec (1 problem):`));
  });
});

test('resolveType and typeName', (t) => {
  t.deepEqual(resolveType('esp'), { guid: ESP, name: 'esp' });
  t.deepEqual(resolveType('ESP'), { guid: ESP, name: 'esp' });
  t.deepEqual(resolveType(ESP.toLowerCase()), { guid: ESP, name: 'esp' });
  t.deepEqual(resolveType('root-aarch64'), resolveType('root-arm64'));
  t.is(resolveType('usr-amd64-verity-sig')?.name, 'usr-x86-64-verity-sig');
  t.is(resolveType('root-x86-64')?.guid, '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709');
  t.is(resolveType('xbootldr')?.guid, 'BC13C2FF-59E6-4262-A352-B275FD6F7172');
  t.is(resolveType('swap')?.guid, '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F');
  t.is(resolveType('linux-generic')?.guid, '0FC63DAF-8483-4772-8E79-3D69D8477DE4');
  t.deepEqual(resolveType('12345678-9abc-4def-8123-456789abcdef'), { guid: '12345678-9ABC-4DEF-8123-456789ABCDEF', name: undefined });
  t.is(resolveType('root'), undefined);
  t.is(resolveType('{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}'), undefined);
  t.is(typeName('0fc63daf-8483-4772-8e79-3d69d8477de4'), 'linux-generic');
  t.is(typeName('12345678-9ABC-4DEF-8123-456789ABCDEF'), undefined);
});

test('the type table covers every architecture of the specification with unique GUIDs', (t) => {
  const arches = ['alpha', 'arc', 'arm', 'arm64', 'ia64', 'loongarch64', 'm68k', 'mips', 'mips64', 'mips-le', 'mips64-le', 'parisc', 'ppc', 'ppc64', 'ppc64-le', 'riscv32', 'riscv64', 's390', 's390x', 'sh4', 'sparc64', 'tilegx', 'x86', 'x86-64'];
  for (const arch of arches) {
    for (const kind of ['root', 'usr']) {
      for (const suffix of ['', '-verity', '-verity-sig']) t.true(PARTITION_TYPES.has(`${kind}-${arch}${suffix}`), `${kind}-${arch}${suffix}`);
    }
  }
  for (const name of ['esp', 'xbootldr', 'swap', 'home', 'srv', 'var', 'tmp', 'user-home', 'linux-generic']) t.true(PARTITION_TYPES.has(name), name);
  t.is(PARTITION_TYPES.size, arches.length * 6 + 9);
  t.is(new Set(PARTITION_TYPES.values()).size, PARTITION_TYPES.size);
  for (const guid of PARTITION_TYPES.values()) t.regex(guid, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
});

test('the type table agrees with util-linux (sfdisk --label gpt -T)', (t) => {
  let listing: string;
  try {
    listing = execFileSync('sfdisk', ['--label', 'gpt', '-T'], { encoding: 'utf8' });
  } catch {
    t.log('skipped: sfdisk is not installed');
    t.pass();
    return;
  }
  const known = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const m = /^\s*([0-9A-Fa-f-]{36})\s+(.+?)\s*$/.exec(line);
    if (m) known.set(m[1].toUpperCase(), m[2]);
  }
  // util-linux's spelling of the architectures it knows (parisc, mips, m68k, ... are newer).
  const label: Record<string, string> = {
    x86: 'x86', 'x86-64': 'x86-64', alpha: 'Alpha', arc: 'ARC', arm: 'ARM', arm64: 'ARM-64', ia64: 'IA-64', loongarch64: 'LoongArch-64',
    'mips-le': 'MIPS-32 LE', 'mips64-le': 'MIPS-64 LE', ppc: 'PPC', ppc64: 'PPC64', 'ppc64-le': 'PPC64LE', riscv32: 'RISC-V-32',
    riscv64: 'RISC-V-64', s390: 'S390', s390x: 'S390X', tilegx: 'TILE-Gx',
  };
  const others: Record<string, string> = {
    esp: 'EFI System', xbootldr: 'Linux extended boot', swap: 'Linux swap', home: 'Linux home', srv: 'Linux server data',
    var: 'Linux variable data', tmp: 'Linux temporary data', 'user-home': "Linux user's home", 'linux-generic': 'Linux filesystem',
  };
  let compared = 0;
  for (const [name, guid] of PARTITION_TYPES) {
    const m = /^(root|usr)-(.+?)(-verity|-verity-sig)?$/.exec(name);
    const expected = m
      ? label[m[2]] && `Linux ${m[1] === 'root' ? 'root' : '/usr'}${m[3] === '-verity' ? ' verity' : m[3] === '-verity-sig' ? ' verity sign.' : ''} (${label[m[2]]})`
      : others[name];
    const described = known.get(guid);
    if (expected === undefined || described === undefined) continue;
    t.is(described, expected, name);
    compared++;
  }
  t.log(`${compared} of ${PARTITION_TYPES.size} types compared with util-linux`);
  t.true(compared >= 100);
});
