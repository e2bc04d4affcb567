import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError, plan } from '../ts/index';
import { parseSpec } from '../ts/spec/load';
import { imgforge } from './helpers/cli';
import { tempDir } from './helpers/tools';

const MiB = 1 << 20;

/** A spec with one ESP whose filesystem is `filesystem`, plus `extra` at the top level. */
function specWith(filesystem: unknown, extra: Record<string, unknown> = {}, partition: Record<string, unknown> = {}) {
  return JSON.stringify({ partitions: [{ name: 'ESP', type: 'esp', size: '64MiB', filesystem, ...partition }], ...extra });
}

function problems(text: string, format: 'json' | 'yaml' = 'json'): string[] {
  try {
    parseSpec({ text, format, sourceName: 'spec.json', baseDir: '/base' });
  } catch (error) {
    if (!(error instanceof ImgforgeError)) throw error;
    if (error.code !== 'SPEC_INVALID') throw new Error(`expected SPEC_INVALID, got ${error.code}: ${error.message}`);
    return error.message.split('\n').slice(1).map((line) => line.trim());
  }
  throw new Error('the spec was accepted');
}

const bad: Array<[string, unknown, Record<string, unknown>?, Record<string, unknown>?, RegExp?]> = [
  ['partitions[0].filesystem.label', { type: 'fat32', label: 'TWELVE_CHARS' }, {}, {}, /12 characters long.*at most 11/],
  ['partitions[0].filesystem.label', { type: 'fat32', label: 'EFI.BOOT' }, {}, {}, /contains "\."/],
  ['partitions[0].filesystem.label', { type: 'fat32', label: 'Ωmega' }, {}, {}, /contains "Ω"/],
  ['partitions[0].filesystem.label', { type: 'fat32', label: '' }],
  ['partitions[0].filesystem.volumeId', { type: 'fat32', volumeId: 'serial-1' }, {}, {}, /32-bit volume ID/],
  ['partitions[0].filesystem.volumeId', { type: 'fat32', volumeId: 0x1_0000_0000 }],
  ['partitions[0].filesystem.volumeId', { type: 'fat32', volumeId: -1 }],
  ['partitions[0].filesystem.clusterSize', { type: 'fat32', clusterSize: '3KiB' }, {}, {}, /power of two/],
  ['partitions[0].filesystem.clusterSize', { type: 'fat32', clusterSize: 256 }],
  ['partitions[0].filesystem.clusterSize', { type: 'fat32', clusterSize: '128KiB' }],
  ['partitions[0].filesystem.clusterSize', { type: 'fat32', clusterSize: '2KiB' }, { sectorSize: 4096, alignment: '1MiB' }, {}, /smaller than sectorSize \(4096\)/],
  ['partitions[0].filesystem.type', { type: 'btrfs' }, {}, {}, /unknown filesystem type "btrfs".*fat32, erofs, ext4, squashfs/],
  ['partitions[0].filesystem.label', { type: 'ext4', label: 'a-very-long-label' }, {}, {}, /17 bytes long; an ext4 volume name holds at most 16/],
  ['partitions[0].filesystem.label', { type: 'squashfs', label: 'root' }, {}, {}, /squashfs filesystem has no volume label/],
  ['partitions[0].filesystem.compression', { type: 'squashfs', compression: 'lzo' }, {}, {}, /zstd, xz, gzip, lz4, none/],
  ['partitions[0].filesystem.compression', { type: 'ext4', compression: 'xz' }, {}, {}, /only a squashfs filesystem has compression; this one is ext4/],
  ['partitions[0].filesystem.minFree', { type: 'squashfs', minFree: '1MiB' }, {}, {}, /only fat32 and ext4 filesystems have minFree; this one is squashfs/],
  ['partitions[0].filesystem.type', { label: 'ESP' }, {}, {}, /required/],
  ['partitions[0].filesystem.minFree', { type: 'fat32', minFree: 'plenty' }],
  ['partitions[0].filesystem.files', { type: 'fat32', files: './esp' }],
  ['partitions[0].filesystem.files[0].target', { type: 'fat32', files: [{ source: './esp', target: 'EFI/BOOT' }] }, {}, {}, /starting with "\/"/],
  ['partitions[0].filesystem.files[0].target', { type: 'fat32', files: [{ source: './esp', target: '/EFI/../..' }] }, {}, {}, /"\.\."/],
  ['partitions[0].filesystem.files[1].target', { type: 'fat32', files: [{ source: './a', target: '/' }, { source: './b' }] }, {}, {}, /required/],
  ['partitions[0].filesystem.files[0].source', { type: 'fat32', files: [{ target: '/' }] }, {}, {}, /required/],
  ['partitions[0].filesystem.files[0].source', { type: 'fat32', files: [{ source: 42, target: '/' }] }],
  ['partitions[0].filesystem.files[0].mode', { type: 'fat32', files: [{ source: './a', target: '/', mode: '0644' }] }, {}, {}, /unknown key \(allowed: source, target\)/],
  ['partitions[0].filesystem.compress', { type: 'fat32', compress: true }, {}, {}, /unknown key \(allowed: type, label, volumeId, clusterSize, minFree, uuid, ownership, compression, files\)/],
  ['partitions[0].filesystem', 'fat32', {}, {}, /expected a filesystem/],
  ['partitions[0].filesystem', { type: 'fat32' }, {}, { contents: './esp.img' }, /either contents .* or a filesystem/],
];

for (const [field, filesystem, extra, partition, message] of bad) {
  test(`${field}: rejects ${JSON.stringify(filesystem)}${partition && Object.keys(partition).length ? ' with contents' : ''}`, (t) => {
    const lines = problems(specWith(filesystem, extra, partition));
    t.is(lines.length, 1, lines.join('\n'));
    t.true(lines[0].startsWith(`${field}: `), lines[0]);
    if (message) t.regex(lines[0], message);
  });
}

test('several filesystem problems come together, in document order', (t) => {
  const lines = problems(specWith({ type: 'fat32', label: 'much too long', volumeId: 'x', clusterSize: 1000, files: [{ source: './a', target: 'rel' }] }));
  t.deepEqual(
    lines.map((l) => l.split(': ')[0]),
    [
      'partitions[0].filesystem.label',
      'partitions[0].filesystem.volumeId',
      'partitions[0].filesystem.clusterSize',
      'partitions[0].filesystem.files[0].target',
    ],
  );
});

test('good values: label stored upper case, volume IDs in every documented form, sizes in bytes, paths resolved', (t) => {
  const yaml = [
    'partitions:',
    '  - name: ESP',
    '    type: esp',
    '    size: auto',
    '    filesystem:',
    '      type: fat32',
    '      label: "my esp_1"',
    '      volumeId: 0x1234ABCD',
    '      clusterSize: 4KiB',
    '      minFree: 16MiB',
    '      files:',
    '        - source: ./build/esp',
    '          target: /',
    '        - source: /abs/vmlinuz.efi',
    '          target: /EFI/Linux/',
  ].join('\n');
  const fs0 = parseSpec({ text: yaml, format: 'yaml', sourceName: 'image.yaml', baseDir: '/base' }).partitions[0].filesystem!;
  t.deepEqual(fs0, {
    type: 'fat32',
    label: 'MY ESP_1',
    volumeId: 0x1234abcd,
    clusterSize: 4096,
    minFree: 16 * MiB,
    files: [
      { source: path.resolve('/base/build/esp'), target: '/' },
      { source: '/abs/vmlinuz.efi', target: '/EFI/Linux/' },
    ],
  });
  for (const volumeId of ['1234-ABCD', '0x1234abcd', '1234abcd', 305441741]) {
    t.like(parseSpec({ text: specWith({ type: 'fat32', volumeId }), format: 'json', sourceName: 's', baseDir: '/' }).partitions[0].filesystem!, { volumeId: 0x1234abcd }, String(volumeId));
  }
  const minimal = parseSpec({ text: specWith({ type: 'fat32' }), format: 'json', sourceName: 's', baseDir: '/' }).partitions[0].filesystem!;
  t.deepEqual(minimal, { type: 'fat32', label: undefined, volumeId: undefined, clusterSize: undefined, minFree: 0, files: [] });
  t.is(parseSpec({ text: specWith({ type: 'fat32', clusterSize: '4KiB' }, { sectorSize: 4096 }), format: 'json', sourceName: 's', baseDir: '/' }).sectorSize, 4096);
});

test('size auto is accepted with a filesystem (and still refused with neither contents nor filesystem)', async (t) => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'esp', 'EFI', 'BOOT'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'esp', 'EFI', 'BOOT', 'BOOTX64.EFI'), 'MZ');
  const spec = parseSpec({ text: specWith({ type: 'fat32', files: [{ source: './esp', target: '/' }] }, { seed: 'auto' }, { size: 'auto' }), format: 'json', sourceName: 's', baseDir: dir });
  t.is(spec.partitions[0].size, 'auto');
  const layout = await plan(spec);
  t.is(layout.partitions[0].size % MiB, 0);
  t.is(layout.partitions[0].filesystem?.files, 1);
  t.like(layout.partitions[0].filesystem, { type: 'fat32', directories: 2 });
  t.regex(problems(JSON.stringify({ partitions: [{ name: 'x', type: 'esp', size: 'auto' }] }))[0], /^partitions\[0\]\.size: "auto" needs contents or a filesystem/);
});

// ---- the CLI on sources FAT cannot hold ----

interface CliCase {
  name: string;
  /** Makes the sources in `dir`; returns the filesystem's files and what the message must name. */
  setup(dir: string): { files: unknown[]; size?: string; label?: string; mentions: string[]; field: string; message: RegExp };
}

const cliCases: CliCase[] = [
  {
    name: 'names differing only in case',
    setup(dir) {
      fs.mkdirSync(path.join(dir, 'one'));
      fs.mkdirSync(path.join(dir, 'two'));
      fs.writeFileSync(path.join(dir, 'one', 'A.txt'), 'upper');
      fs.writeFileSync(path.join(dir, 'two', 'a.txt'), 'lower');
      return {
        files: [{ source: './one', target: '/' }, { source: './two', target: '/' }],
        mentions: [path.join(dir, 'one', 'A.txt'), path.join(dir, 'two', 'a.txt'), '/A.txt', '/a.txt'],
        field: 'partitions[0].filesystem.files',
        message: /differ only in case/,
      };
    },
  },
  {
    name: 'a symlink loop',
    setup(dir) {
      fs.mkdirSync(path.join(dir, 'esp', 'sub'), { recursive: true });
      fs.symlinkSync('..', path.join(dir, 'esp', 'sub', 'up'));
      return {
        files: [{ source: './esp', target: '/' }],
        mentions: [path.join(dir, 'esp', 'sub', 'up')],
        field: 'partitions[0].filesystem.files',
        message: /symlink loop/,
      };
    },
  },
  {
    name: 'a FIFO',
    setup(dir) {
      fs.mkdirSync(path.join(dir, 'esp'));
      const fifo = path.join(dir, 'esp', 'pipe');
      const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
      return { files: [{ source: './esp', target: '/EFI' }], mentions: [fifo, '/EFI/pipe'], field: 'partitions[0].filesystem.files', message: /FIFO/ };
    },
  },
  {
    name: 'a missing source',
    setup(dir) {
      return {
        files: [{ source: './not-there', target: '/' }],
        mentions: [path.join(dir, 'not-there')],
        field: 'partitions[0].filesystem.files',
        message: /no such file/i,
      };
    },
  },
  {
    name: 'an explicit size too small for the filesystem',
    setup(dir) {
      fs.mkdirSync(path.join(dir, 'esp'));
      fs.writeFileSync(path.join(dir, 'esp', 'x.efi'), 'x');
      return {
        files: [{ source: './esp', target: '/' }],
        size: '16MiB',
        mentions: ['16 MiB'],
        field: 'partitions[0].size',
        message: /too small .*FAT32.*needs at least \d+ bytes.*make it at least/,
      };
    },
  },
  {
    name: 'a label that is too long',
    setup(dir) {
      fs.mkdirSync(path.join(dir, 'esp'));
      return { files: [{ source: './esp', target: '/' }], label: 'EFI SYSTEM PART', mentions: ['image.yaml'], field: 'partitions[0].filesystem.label', message: /at most 11/ };
    },
  },
];

for (const c of cliCases) {
  test(`imgforge build refuses ${c.name}: exit 2, one clear message, nothing left behind`, (t) => {
    const dir = tempDir();
    const setup = c.setup(dir);
    const yaml = [
      'size: 64MiB',
      'partitions:',
      '  - name: ESP',
      '    type: esp',
      `    size: ${setup.size ?? 'auto'}`,
      '    filesystem:',
      '      type: fat32',
      `      label: ${JSON.stringify(setup.label ?? 'ESP')}`,
      `      files: ${JSON.stringify(setup.files)}`,
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'image.yaml'), yaml);
    const before = fs.readdirSync(dir).sort();
    const result = imgforge(['build', path.join(dir, 'image.yaml'), '-o', path.join(dir, 'disk.img')], { cwd: dir });
    t.is(result.status, 2, `${result.stdout}${result.stderr}`);
    t.regex(result.stderr, /^imgforge: /);
    t.true(result.stderr.includes(setup.field), result.stderr);
    t.regex(result.stderr, setup.message);
    for (const mention of setup.mentions) t.true(result.stderr.includes(mention), `mentions ${mention}: ${result.stderr}`);
    t.false(result.stderr.includes('    at '), 'no stack trace');
    t.true(result.stderr.trim().split('\n').length <= 3, result.stderr);
    t.deepEqual(fs.readdirSync(dir).sort(), before, 'no image and no temporary file left');
  });
}

/** "34603008 bytes (33 MiB)", "33 MiB" or "16.51 MiB": how the message may write a size. */
function sizeForms(bytes: number): string[] {
  const mib = bytes / MiB;
  return [`${bytes} bytes`, `${Number.isInteger(mib) ? mib : mib.toFixed(2)} MiB`];
}

test('the explicit-size message gives the exact shortfall and minimum, and that minimum works', (t) => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'esp'));
  fs.writeFileSync(path.join(dir, 'esp', 'x.efi'), 'x');
  const spec = (size: string) =>
    JSON.stringify({ size: '128MiB', partitions: [{ name: 'ESP', type: 'esp', size, filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } }] });
  fs.writeFileSync(path.join(dir, 'small.json'), spec('16MiB'));
  const result = imgforge(['build', path.join(dir, 'small.json'), '-o', path.join(dir, 'disk.img')]);
  t.is(result.status, 2);
  const needed = Number(/needs at least (\d+) bytes/.exec(result.stderr)?.[1]);
  t.true(needed > 16 * MiB, result.stderr);
  const [, advice] = result.stderr.split(/needs at least \d+ bytes/);
  t.true(sizeForms(needed - 16 * MiB).some((form) => advice.includes(form)), `says ${needed - 16 * MiB} bytes are missing: ${result.stderr}`);
  const atLeast = Math.ceil(needed / MiB) * MiB;
  const minimum = /make it at least ([^;]*?)(?: or |$)/m.exec(result.stderr)?.[1] ?? '';
  t.true(sizeForms(atLeast).some((form) => minimum.includes(form)), `suggests ${atLeast} bytes: ${result.stderr}`);
  // The suggested size works, and one sector less does not.
  fs.writeFileSync(path.join(dir, 'ok.json'), spec(String(atLeast)));
  const ok = imgforge(['plan', path.join(dir, 'ok.json'), '--json']);
  t.is(ok.status, 0, ok.stderr);
  t.is(JSON.parse(ok.stdout).partitions[0].size, atLeast);
  fs.writeFileSync(path.join(dir, 'tight.json'), spec(String(needed - 512)));
  t.is(imgforge(['plan', path.join(dir, 'tight.json'), '--json']).status, 2);
  fs.writeFileSync(path.join(dir, 'exact.json'), spec(String(needed)));
  t.is(imgforge(['plan', path.join(dir, 'exact.json'), '--json']).status, 0, 'the stated minimum itself fits');
});

test('an output inside a filesystem source folder is refused before anything is written', (t) => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'esp', 'EFI'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'esp', 'EFI', 'x.efi'), 'x');
  fs.symlinkSync('esp', path.join(dir, 'link'));
  fs.writeFileSync(
    path.join(dir, 'image.json'),
    JSON.stringify({ partitions: [{ name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: './link', target: '/' }] } }] }),
  );
  const before = fs.readdirSync(path.join(dir, 'esp', 'EFI'));
  for (const output of ['esp/EFI/disk.img', 'esp/EFI/x.efi']) {
    const result = imgforge(['build', 'image.json', '-o', output], { cwd: dir });
    t.is(result.status, 2, output);
    t.true(result.stderr.includes('partitions[0].filesystem.files[0].source'), result.stderr);
    t.false(result.stderr.includes('    at '));
  }
  t.deepEqual(fs.readdirSync(path.join(dir, 'esp', 'EFI')), before);
  t.is(fs.readFileSync(path.join(dir, 'esp', 'EFI', 'x.efi'), 'utf8'), 'x');
});
