/**
 * `imgforge verify`: an image straight from `build` matches its spec; each kind of change to the
 * image or to the inputs is reported as a difference naming where it is.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verify } from '../ts/index';
import { imgforge, ROOT } from './helpers/cli';
import { tempDir, writePatternFile } from './helpers/tools';
import type { VerifyReport } from '../ts/types';

const MiB = 1 << 20;

interface Fixture {
  dir: string;
  spec: string;
  image: string;
  esp: string;
  raw: string;
  offsets: number[];
}

/** A seeded spec with a FAT32 ESP from a folder, a raw partition and an empty one, built once. */
function fixture(): Fixture {
  const dir = tempDir('imgforge-verify-');
  const esp = path.join(dir, 'esp');
  fs.mkdirSync(path.join(esp, 'EFI', 'BOOT'), { recursive: true });
  writePatternFile(path.join(esp, 'EFI', 'BOOT', 'BOOTX64.EFI'), 300_000, 3);
  fs.writeFileSync(path.join(esp, 'loader.conf'), 'timeout 3\n');
  fs.writeFileSync(path.join(esp, 'A long name.txt'), 'long');
  const raw = path.join(dir, 'root.img');
  writePatternFile(raw, 5 * MiB + 123, 9);
  const spec = path.join(dir, 'image.yaml');
  fs.writeFileSync(
    spec,
    [
      'seed: verify-test',
      'size: 64MiB',
      'partitions:',
      '  - name: ESP',
      '    type: esp',
      '    size: auto',
      '    filesystem:',
      '      type: fat32',
      '      label: EFI',
      '      files: [{ source: ./esp, target: / }]',
      '  - name: root',
      '    type: root-x86-64',
      '    size: auto',
      '    contents: ./root.img',
      '    attributes: [read-only]',
      '  - name: data',
      '    type: linux-generic',
      '    size: grow',
      '',
    ].join('\n'),
  );
  const image = path.join(dir, 'disk.img');
  const built = imgforge(['build', spec, '-o', image, '--json', '--quiet']);
  if (built.status !== 0) throw new Error(built.stderr);
  const offsets = (JSON.parse(built.stdout) as { partitions: Array<{ offset: number }> }).partitions.map((p) => p.offset);
  return { dir, spec, image, esp, raw, offsets };
}

function verifyJson(spec: string, image: string): { status: number | null; report: VerifyReport; stderr: string } {
  const out = imgforge(['verify', spec, image, '--json']);
  return { status: out.status, report: out.stdout ? (JSON.parse(out.stdout) as VerifyReport) : (undefined as never), stderr: out.stderr };
}

function patchByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, offset);
    byte[0] ^= 0xff;
    fs.writeSync(fd, byte, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

test('a fresh build matches its spec (CLI text and JSON, and the library)', async (t) => {
  const f = fixture();
  const text = imgforge(['verify', f.spec, f.image]);
  t.is(text.status, 0, text.stderr + text.stdout);
  t.regex(text.stdout, /: the image matches \(3 partitions, .* compared byte for byte\)\n$/);
  const { status, report } = verifyJson(f.spec, f.image);
  t.is(status, 0);
  t.deepEqual(report.differences, []);
  t.is(report.partitions, 3);
  t.is(report.bytesCompared, 5 * MiB + 123 + 300_000 + 10 + 4);
  const library = await verify(f.spec, f.image);
  t.deepEqual(library.differences, []);
});

test('a changed byte in raw contents is reported with its offset', (t) => {
  const f = fixture();
  patchByte(f.image, f.offsets[1] + 4_000_000);
  const { status, report } = verifyJson(f.spec, f.image);
  t.is(status, 1);
  t.deepEqual(report.differences.map((d) => d.where), ['partitions[1].contents']);
  t.regex(report.differences[0].message, /at byte 4000000 of the partition/);
});

test('FAT32: changed, missing, extra and resized files are each reported by path', (t) => {
  const f = fixture();
  // The inputs change after the build: verify compares the image with what the spec builds now.
  patchByte(path.join(f.esp, 'EFI', 'BOOT', 'BOOTX64.EFI'), 250_000);
  fs.rmSync(path.join(f.esp, 'loader.conf'));
  fs.writeFileSync(path.join(f.esp, 'new.txt'), 'new');
  fs.writeFileSync(path.join(f.esp, 'A long name.txt'), 'longer');
  const { status, report } = verifyJson(f.spec, f.image);
  t.is(status, 1);
  const byWhere = new Map(report.differences.map((d) => [d.where, d.message]));
  t.regex(byWhere.get('partitions[0].filesystem:/EFI/BOOT/BOOTX64.EFI') ?? '', /250000/);
  t.truthy(byWhere.get('partitions[0].filesystem:/loader.conf'), 'a file the spec no longer has');
  t.truthy(byWhere.get('partitions[0].filesystem:/new.txt'), 'a file the image lacks');
  t.truthy(byWhere.get('partitions[0].filesystem:/A long name.txt'), 'a size change');
});

test('table differences: name, type, attributes and GUIDs from the seed', (t) => {
  const f = fixture();
  const spec = fs.readFileSync(f.spec, 'utf8');
  fs.writeFileSync(
    f.spec,
    spec.replace('seed: verify-test', 'seed: another-seed').replace('name: data', 'name: dato').replace('attributes: [read-only]', 'attributes: [read-only, no-auto]').replace('type: linux-generic', 'type: home'),
  );
  const { status, report } = verifyJson(f.spec, f.image);
  t.is(status, 1);
  const where = report.differences.map((d) => d.where);
  for (const expected of ['diskGuid', 'partitions[0].guid', 'partitions[1].guid', 'partitions[2].guid', 'partitions[2].name', 'partitions[2].type', 'partitions[1].attributes', 'partitions[0].filesystem.volumeId']) {
    t.true(where.includes(expected), `${expected} in ${where.join(', ')}`);
  }
  t.regex(report.differences.find((d) => d.where === 'partitions[2].name')!.message, /"data".*"dato"/);
});

test('a truncated or damaged image: size, table and contents differences', (t) => {
  const f = fixture();
  fs.truncateSync(f.image, 40 * MiB);
  const { status, report } = verifyJson(f.spec, f.image);
  t.is(status, 1);
  const where = report.differences.map((d) => d.where);
  t.true(where.includes('size'), where.join(', '));
  t.true(where.includes('partition table'), where.join(', '));
});

test('bad input: a bad spec or a missing image exits 2 with one line', (t) => {
  const f = fixture();
  const cases: Array<[string[], RegExp]> = [
    [['verify', f.spec, path.join(f.dir, 'missing.img')], /missing\.img: not found/],
    [['verify', path.join(f.dir, 'nope.yaml'), f.image], /nope\.yaml/],
    [['verify', f.spec], /missing required argument 'image'/],
  ];
  fs.writeFileSync(path.join(f.dir, 'bad.yaml'), 'partitions: []\nsise: 1\n');
  cases.push([['verify', path.join(f.dir, 'bad.yaml'), f.image], /sise: unknown key/]);
  for (const [args, message] of cases) {
    const out = imgforge(args, { cwd: ROOT });
    t.is(out.status, 2, `${args.join(' ')}: ${out.stderr}`);
    t.regex(out.stderr, message);
    t.notRegex(out.stderr, /\n\s+at /);
  }
});
