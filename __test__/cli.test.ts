import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, imgforge, ROOT } from './helpers/cli';
import { sameBytes, sfdiskJson, sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;

function writeSpec(dir: string, spec: unknown, name = 'image.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec));
  return file;
}

const goodSpec = {
  size: '16MiB',
  seed: 'cli-test',
  partitions: [
    { name: 'root', type: 'linux-generic', size: 'auto', contents: 'root.img' },
    { name: 'rest', type: 'linux-generic', size: 'grow' },
  ],
};

test('--version prints the package version; --help teaches the commands', (t) => {
  const version = imgforge(['--version']);
  t.is(version.status, 0);
  t.is(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);

  const help = imgforge(['--help']);
  t.is(help.status, 0);
  t.regex(help.stdout, /build/);
  t.regex(help.stdout, /plan/);

  const buildHelp = imgforge(['build', '--help']);
  t.is(buildHelp.status, 0);
  for (const flag of ['--output', '--force', '--copy', '--json', '--quiet', 'copy-file-range', 'read-write', 'Exit status']) {
    t.true(buildHelp.stdout.includes(flag), `build --help mentions ${flag}`);
  }
});

test('bad usage exits 2 with one imgforge: line that points at --help, without a stack trace', (t) => {
  const cases: Array<[string[], string]> = [
    [['frobnicate'], "imgforge: unknown command 'frobnicate' (see imgforge --help)"],
    [['build'], "imgforge: missing required argument 'spec' (see imgforge build --help)"],
    [['build', 'x.yaml', '--copy', 'teleport'], "imgforge: option '--copy <mode>' argument 'teleport' is invalid. Allowed choices are auto, copy-file-range, read-write (see imgforge build --help)"],
    [['build', 'x.yaml', '--bogus'], "imgforge: unknown option '--bogus' (see imgforge build --help)"],
    [['inspect'], "imgforge: missing required argument 'image' (see imgforge inspect --help)"],
    [['verify', 'spec.yaml'], "imgforge: missing required argument 'image' (see imgforge verify --help)"],
  ];
  for (const [args, line] of cases) {
    const result = imgforge(args);
    t.is(result.status, 2, args.join(' '));
    t.is(result.stderr, `${line}\n`, args.join(' '));
    t.is(result.stdout, '');
  }
});

test('a bare imgforge prints its help on stderr and exits 2; help on request goes to stdout', (t) => {
  const bare = imgforge([]);
  t.is(bare.status, 2);
  t.is(bare.stdout, '');
  t.regex(bare.stderr, /^Usage: imgforge \[options\] \[command\]/);
  for (const args of [['--help'], ['help'], ['help', 'build']]) {
    const help = imgforge(args);
    t.is(help.status, 0, args.join(' '));
    t.regex(help.stdout, /^Usage: imgforge/);
    t.is(help.stderr, '');
  }
});

test('output to a reader that went away (imgforge --help | true) is no error', (t) => {
  // `true` exits at once, so the help is written to a pipe nobody reads: EPIPE.
  const result = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --help | true; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  t.is(result.stdout, '0\n');
  t.is(result.stderr, '', 'no EPIPE stack trace');
});

test('build --json prints exactly one JSON object with the documented fields', (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'root.img'), 3 * MiB + 17, 3);
  const spec = writeSpec(dir, goodSpec);
  const output = path.join(dir, 'out.img');
  const result = imgforge(['build', spec, '-o', output, '--json']);
  t.is(result.status, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  t.is(result.stdout.trim().split('\n').length, 1);
  t.is(json.output, output);
  t.is(json.diskSize, 16 * MiB);
  t.regex(json.diskGuid, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  t.deepEqual(Object.keys(json.partitions[0]), ['index', 'name', 'type', 'typeName', 'guid', 'attributes', 'firstLba', 'lastLba', 'offset', 'size', 'contents']);
  t.is(json.partitions[0].type, '0FC63DAF-8483-4772-8E79-3D69D8477DE4');
  t.is(json.partitions[0].offset, json.partitions[0].firstLba * 512);
  t.is(json.copy.copyFileRangeBytes + json.copy.readWriteBytes, 3 * MiB + 17);
  t.is(typeof json.elapsedMs, 'number');
  t.regex(sgdiskVerify(output), /No problems found/);
  t.true(sameBytes(path.join(dir, 'root.img'), 0, output, json.partitions[0].offset, 3 * MiB + 17));
});

test('plain progress lines on a pipe, nothing with --quiet', (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'root.img'), MiB, 3);
  const spec = writeSpec(dir, goodSpec);
  const normal = imgforge(['build', spec, '-o', path.join(dir, 'a.img')]);
  t.is(normal.status, 0, normal.stderr);
  t.regex(normal.stderr, /copying root/);
  t.regex(normal.stderr, /100%/);
  t.regex(normal.stdout, /wrote .*a\.img/);
  const quiet = imgforge(['build', spec, '-o', path.join(dir, 'b.img'), '--quiet']);
  t.is(quiet.status, 0);
  t.is(quiet.stdout, '');
  t.is(quiet.stderr, '');
});

test('plan prints a table and the same layout as JSON, and writes nothing', (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'root.img'), MiB, 3);
  const spec = writeSpec(dir, goodSpec);
  const table = imgforge(['plan', spec]);
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /root/);
  t.regex(table.stdout, /rest/);
  const json = JSON.parse(imgforge(['plan', spec, '--json']).stdout);
  t.is(json.partitions.length, 2);
  t.is(json.diskSize, 16 * MiB);
  t.deepEqual(fs.readdirSync(dir).sort(), ['image.json', 'root.img']);

  const built = JSON.parse(imgforge(['build', spec, '--json', '-q']).stdout);
  t.deepEqual(built.partitions, json.partitions);
  t.deepEqual(sfdiskJson(built.output).partitions.map((p) => p.start), json.partitions.map((p: { firstLba: number }) => p.firstLba));
});

test('--json=pretty indents the same object; --json before the spec still takes no value', (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'root.img'), MiB, 3);
  const spec = writeSpec(dir, goodSpec);
  const short = imgforge(['plan', '--json', spec]);
  t.is(short.status, 0, short.stderr);
  t.is(short.stdout.trim().split('\n').length, 1);
  const pretty = imgforge(['plan', spec, '--json=pretty']);
  t.is(pretty.status, 0, pretty.stderr);
  t.regex(pretty.stdout, /^\{\n {2}"table": "gpt",\n {2}"sectorSize": /);
  t.deepEqual(JSON.parse(pretty.stdout), JSON.parse(short.stdout));
  t.is(imgforge(['plan', spec, '--json=short']).stdout, short.stdout);
});

test('with --json a failure is also an {"error": {code, message, field?}} object on stdout', (t) => {
  const dir = tempDir();
  const bad = writeSpec(dir, { ...goodSpec, partitions: [{ name: 'x', type: 'nonsense', size: '1MiB' }] });
  const cases: Array<[string[], number, { code: string; field?: string }]> = [
    [['build', bad, '--json'], 2, { code: 'SPEC_INVALID', field: 'partitions[0].type' }],
    [['plan', bad, '--json=pretty'], 2, { code: 'SPEC_INVALID', field: 'partitions[0].type' }],
    [['inspect', path.join(dir, 'nope.img'), '--json'], 2, { code: 'IMAGE' }],
    [['build', '--json'], 2, { code: 'USAGE' }],
    [['plan', bad, '--json=fancy'], 2, { code: 'USAGE' }],
  ];
  for (const [args, status, want] of cases) {
    const result = imgforge(args);
    t.is(result.status, status, args.join(' '));
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; field?: string } };
    t.like(error, want, args.join(' '));
    if (want.field === undefined) t.false('field' in error, args.join(' '));
    // The same failure on stderr, in the CLI's one style.
    t.true(result.stderr.startsWith(`imgforge: ${error.message.split('\n')[0]}`), `${args.join(' ')}: ${result.stderr}`);
  }
});

const badSpecs: Array<[string, unknown, RegExp]> = [
  ['unknown key', { ...goodSpec, partitions: [{ ...goodSpec.partitions[1], sise: 1 }] }, /partitions\[0\]\.sise/],
  ['bad size', { ...goodSpec, size: '12 potatoes' }, /size/],
  ['bad type', { ...goodSpec, partitions: [{ name: 'x', type: 'nonsense', size: '1MiB' }] }, /partitions\[0\]\.type/],
  ['missing contents', { ...goodSpec, partitions: [{ name: 'x', type: 'esp', size: '1MiB', contents: 'nope.img' }] }, /partitions\[0\]\.contents.*nope\.img/],
  ['does not fit', { ...goodSpec, size: '2MiB' }, /.+/],
  ['yaml syntax', 'size: [1\npartitions: {', /image\.yaml/],
];

for (const [what, spec, message] of badSpecs) {
  test(`bad spec (${what}) exits 2 naming the problem, leaving no output`, (t) => {
    const dir = tempDir();
    writePatternFile(path.join(dir, 'root.img'), 3 * MiB, 3);
    const file = writeSpec(dir, spec, typeof spec === 'string' ? 'image.yaml' : 'image.json');
    const result = imgforge(['build', file, '-o', path.join(dir, 'out.img')]);
    t.is(result.status, 2, result.stderr);
    t.regex(result.stderr, /^imgforge: /);
    t.regex(result.stderr, message);
    t.notRegex(result.stderr, /\n\s+at /);
    t.deepEqual(fs.readdirSync(dir).sort(), [path.basename(file), 'root.img'].sort());
  });
}

test('a missing spec file and an output folder that does not exist exit 2', (t) => {
  const dir = tempDir();
  const missing = imgforge(['build', path.join(dir, 'nope.yaml')]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /nope\.yaml/);

  writePatternFile(path.join(dir, 'root.img'), MiB, 3);
  const spec = writeSpec(dir, goodSpec);
  const noFolder = imgforge(['build', spec, '-o', path.join(dir, 'no', 'such', 'dir', 'x.img')]);
  t.is(noFolder.status, 2);
  t.regex(noFolder.stderr, /does not exist/);
});

test('IMGFORGE_DEBUG=1 adds the stack trace', (t) => {
  const result = imgforge(['build', '/nonexistent/spec.yaml'], { env: { IMGFORGE_DEBUG: '1' } });
  t.is(result.status, 2);
  t.regex(result.stderr, /\n\s+at /);
});

test('the bundled example builds and passes sgdisk -v', (t) => {
  const dir = tempDir();
  const output = path.join(dir, 'appliance.img');
  const result = imgforge(['build', 'examples/appliance/image.yaml', '-o', output, '--json', '-q']);
  t.is(result.status, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  t.regex(sgdiskVerify(output), /No problems found/);
  t.deepEqual(json.partitions.map((p: { name: string }) => p.name), ['esp', 'system-a', 'system-b', 'data']);
  const rootfs = path.join(ROOT, 'examples/appliance/rootfs.ext4');
  t.true(sameBytes(rootfs, 0, output, json.partitions[1].offset, fs.statSync(rootfs).size));
});

test('with a seed and SOURCE_DATE_EPOCH, two builds are byte-identical', (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'root.img'), 2 * MiB + 5, 4);
  const spec = writeSpec(dir, goodSpec);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const first = imgforge(['build', spec, '-o', path.join(dir, 'one.img'), '-q'], { env });
  const second = imgforge(['build', spec, '-o', path.join(dir, 'two.img'), '-q', '--copy', 'read-write'], { env });
  t.is(first.status, 0, first.stderr);
  t.is(second.status, 0, second.stderr);
  t.true(fs.readFileSync(path.join(dir, 'one.img')).equals(fs.readFileSync(path.join(dir, 'two.img'))));
});
