import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/index';
import { imgforge } from './helpers/cli';
import {
  FILESYSTEM_JSON_KEYS,
  fileEntry,
  mdir,
  mdirDates,
  readBootSector,
  readFatPartition,
  rootEntries,
  treeCounts,
  treeLines,
  treeOf,
  type FilesystemJson,
  type TreeEntry,
} from './helpers/fat';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import { run, sameBytes, sfdiskJson, sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const EPOCH = 1_700_000_000; // 2023-11-14 22:13:20 UTC, an even second
const EPOCH_DATE = '2023-11-14 22:13';

/** Names of every kind FAT has to encode; all in the Basic Multilingual Plane (mtools cannot do more). */
const NAMES = [
  'readme.txt', // lower-case 8.3: short name plus case flags
  'boot.EFI', // lower base, upper extension
  'UPPER.TXT',
  'MixedCase.Conf',
  'A very long file name with spaces.tar.gz',
  'longfilename1.txt', // these two clash in 8.3 form (LONGFI~1, LONGFI~2)
  'longfilename2.txt',
  'a+b [1];c=d,e.txt', // legal in long names only
  '.hidden',
  'a.b.c.d',
  'Größe.txt',
  'résumé final.pdf',
  'Ωmega ΣΥΣ',
  '日本語のファイル.txt',
  'x'.repeat(180) + '.bin',
];

interface Fixture {
  dir: string;
  specPath: string;
  src: string;
  raw: string;
  /** What the filesystem must hold: the source tree merged with the file entries. */
  expected: Map<string, TreeEntry>;
}

function fixture(filesystem: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Fixture {
  const dir = tempDir('imgforge-fat-');
  const src = path.join(dir, 'src');
  const put = (rel: string, data: string | number) => {
    const file = path.join(src, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof data === 'number') writePatternFile(file, data, data % 97);
    else fs.writeFileSync(file, data);
  };
  put('EFI/BOOT/BOOTX64.EFI', 3_000_001);
  fs.mkdirSync(path.join(src, 'EFI', 'empty'), { recursive: true });
  put('loader/loader.conf', 'timeout 3\n');
  put('loader/entries/the first slot, with a long name.conf', 'title A\n');
  put('empty.bin', '');
  for (const size of [4095, 4096, 4097]) put(`sizes/${size}.bin`, size);
  NAMES.forEach((name, i) => put(`names/${name}`, `${i}: ${name}\n`));
  put('日本語/ディレクトリ/é', 'deep\n');
  put('deep/a/b/c/d/e/f/g/leaf.txt', 'leaf\n');
  // Enough long names to spread one directory over several clusters.
  for (let i = 0; i < 60; i++) put(`many/entry number ${String(i).padStart(3, '0')} of many.txt`, `${i}\n`);
  fs.mkdirSync(path.join(src, 'empty dir'));

  fs.mkdirSync(path.join(dir, 'extra'));
  writePatternFile(path.join(dir, 'extra', 'vmlinuz.efi'), 1_234_567, 5);
  fs.writeFileSync(path.join(dir, 'extra', 'Shell Tool.efi'), 'shell\n');
  const raw = path.join(dir, 'raw.img');
  writePatternFile(raw, 3 * MiB + 5, 9);

  const expected = treeOf(src);
  expected.set('/EFI/Linux', { kind: 'dir' });
  expected.set('/EFI/Linux/x.efi', fileEntry(path.join(dir, 'extra', 'vmlinuz.efi')));
  expected.set('/EFI/tools', { kind: 'dir' });
  expected.set('/EFI/tools/Shell Tool.efi', fileEntry(path.join(dir, 'extra', 'Shell Tool.efi')));

  const spec = {
    size: '128MiB',
    seed: 'fat32-build-test',
    partitions: [
      {
        name: 'ESP',
        type: 'esp',
        size: 'auto',
        filesystem: {
          type: 'fat32',
          label: 'esp',
          files: [
            { source: './src', target: '/' },
            { source: './extra/vmlinuz.efi', target: '/EFI/Linux/x.efi' },
            { source: './extra/Shell Tool.efi', target: '/EFI/tools/' },
          ],
          ...filesystem,
        },
      },
      { name: 'raw', type: 'linux-generic', size: 'auto', contents: './raw.img' },
      { name: 'data', type: 'home', size: 'grow' },
    ],
    ...top,
  };
  const specPath = path.join(dir, 'image.json');
  fs.writeFileSync(specPath, JSON.stringify(spec, null, 2));
  return { dir, specPath, src, raw, expected };
}

interface PartitionJson {
  index: number;
  name: string;
  firstLba: number;
  lastLba: number;
  offset: number;
  size: number;
  filesystem?: FilesystemJson;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { json: { diskSize: number; partitions: PartitionJson[] }; stdout: string } {
  const result = imgforge(args, { env: { SOURCE_DATE_EPOCH: '', ...env } });
  if (result.status !== 0) throw new Error(`imgforge ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { json: JSON.parse(result.stdout), stdout: result.stdout };
}

/** The sane-numbers check of a `filesystem` object against the tree it holds. */
function checkSummary(t: import('ava').ExecutionContext, fsJson: FilesystemJson, partitionSize: number, expected: Map<string, TreeEntry>) {
  t.deepEqual(Object.keys(fsJson).sort(), [...FILESYSTEM_JSON_KEYS].sort());
  t.is(fsJson.type, 'fat32');
  t.regex(fsJson.volumeId, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
  t.true(Number.isInteger(Math.log2(fsJson.clusterSize)) && fsJson.clusterSize >= 512 && fsJson.clusterSize <= 65536);
  t.true(fsJson.clusters >= 65525, `${fsJson.clusters} clusters: FAT32 needs at least 65525`);
  t.true(fsJson.clusters * fsJson.clusterSize < partitionSize);
  t.is(fsJson.usedClusters + fsJson.freeClusters, fsJson.clusters);
  t.deepEqual({ directories: fsJson.directories, files: fsJson.files, fileBytes: fsJson.fileBytes }, treeCounts(expected));
  // Every file takes whole clusters, every folder at least one; the root folder one more.
  let minimum = 1 + fsJson.directories;
  for (const entry of expected.values()) if (entry.kind === 'file') minimum += Math.ceil(entry.size / fsJson.clusterSize);
  t.true(fsJson.usedClusters >= minimum, `${fsJson.usedClusters} used clusters, at least ${minimum} needed`);
  t.true(fsJson.usedClusters <= minimum + 64, `${fsJson.usedClusters} used clusters, about ${minimum} expected`);
}

test('CLI build: a valid GPT, a clean FAT32 holding exactly the sources, label and serial as reported', (t) => {
  const f = fixture();
  const output = path.join(f.dir, 'disk.img');
  const planned = cli(['plan', f.specPath, '--json'], { SOURCE_DATE_EPOCH: String(EPOCH) }).json;
  const built = cli(['build', f.specPath, '-o', output, '--json', '--quiet'], { SOURCE_DATE_EPOCH: String(EPOCH) }).json;

  t.regex(sgdiskVerify(output), /No problems found/);
  const ranges = (ps: PartitionJson[]) => ps.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1]);
  t.deepEqual(sfdiskJson(output).partitions.map((p) => [p.start, p.size]), ranges(planned.partitions));
  t.deepEqual(ranges(built.partitions), ranges(planned.partitions));
  t.deepEqual(built.partitions.map((p) => p.filesystem), planned.partitions.map((p) => p.filesystem), 'plan and build agree on the filesystem');
  const lastUsable = built.diskSize / 512 - 34;
  const gap = lastUsable - built.partitions[2].lastLba;
  t.true(gap >= 0 && gap < MiB / 512, `data grows to the end of the disk (${gap} sectors short of the last usable one)`);

  const [esp, raw] = built.partitions;
  t.true(sameBytes(f.raw, 0, output, raw.offset, fs.statSync(f.raw).size), 'the raw partition holds its contents');
  t.is(raw.filesystem, undefined);
  checkSummary(t, esp.filesystem!, esp.size, f.expected);
  t.is(esp.filesystem!.label, 'ESP');

  const fat = readFatPartition(output, esp.offset, esp.size, f.dir);
  t.is(fat.fsck.status, 0, fat.fsck.output);
  t.deepEqual(fat.fsck.warnings, [], fat.fsck.output);
  t.is(fat.fsck.totalClusters, esp.filesystem!.clusters);
  t.is(fat.fsck.usedClusters, esp.filesystem!.usedClusters);
  t.deepEqual(fat.header, { label: 'ESP', serial: esp.filesystem!.volumeId });
  t.deepEqual(treeLines(fat.tree), treeLines(f.expected));

  // SOURCE_DATE_EPOCH is every timestamp: mdir's dates, and the times mcopy -m restores.
  const dates = mdirDates(mdir(output, esp.offset, '/', true));
  t.true(dates.length >= f.expected.size, `${dates.length} dates`);
  t.deepEqual([...new Set(dates)], [EPOCH_DATE]);
  // Read by hand: the boot sector agrees with --json, and every time in the root folder's entries
  // (created, accessed, modified; the label's too) is SOURCE_DATE_EPOCH.
  const boot = readBootSector(output, esp.offset);
  t.like(boot, {
    bytesPerSector: 512,
    clusterSize: esp.filesystem!.clusterSize,
    fats: 2,
    volumeId: esp.filesystem!.volumeId,
    label: 'ESP        ',
    fsType: 'FAT32   ',
    signature: 0xaa55,
  });
  const entries = rootEntries(output, esp.offset);
  t.true(entries.some((e) => e.name === 'ESP        ' && e.attributes === 0x08), 'a volume label entry');
  t.true(entries.length >= 8, `${entries.length} root entries`);
  for (const e of entries) t.deepEqual([e.created, e.createdMs, e.accessed, e.modified], [EPOCH, 0, EPOCH - (EPOCH % 86400), EPOCH], e.name);
  for (const [rel, entry] of fat.tree) {
    if (entry.kind === 'file') t.is(fs.statSync(path.join(fat.out, rel)).mtimeMs, EPOCH * 1000, rel);
  }
});

test.serial('seed + SOURCE_DATE_EPOCH: CLI and library builds are byte-identical, with --copy read-write too', async (t) => {
  const f = fixture();
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  const a = path.join(f.dir, 'a.img');
  const b = path.join(f.dir, 'b.img');
  const c = path.join(f.dir, 'c.img');
  const first = cli(['build', f.specPath, '-o', a, '--json', '--quiet'], env).json;
  // A second build, through read/write copies.
  cli(['build', f.specPath, '-o', b, '--json', '--quiet', '--copy', 'read-write'], env);
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = String(EPOCH);
  try {
    const library = await build(f.specPath, { output: c, copy: 'read-write' });
    t.is(library.copy.copyFileRangeBytes, 0);
    t.deepEqual(library.partitions[0].filesystem, first.partitions[0].filesystem as unknown);
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
  t.is(run('cmp', [a, b]), '');
  t.is(run('cmp', [a, c]), '');
  // The seed gives the volume ID; another seed another one.
  fs.writeFileSync(f.specPath, fs.readFileSync(f.specPath, 'utf8').replace('fat32-build-test', 'another seed'));
  const other = cli(['plan', f.specPath, '--json']).json;
  t.not(other.partitions[0].filesystem!.volumeId, first.partitions[0].filesystem!.volumeId);
  t.is(cli(['plan', f.specPath, '--json']).json.partitions[0].filesystem!.volumeId, other.partitions[0].filesystem!.volumeId);
  // Without a seed (and without volumeId) the volume ID is random.
  const spec = JSON.parse(fs.readFileSync(f.specPath, 'utf8'));
  fs.writeFileSync(f.specPath, JSON.stringify({ ...spec, seed: undefined }));
  const ids = [1, 2, 3].map(() => cli(['plan', f.specPath, '--json']).json.partitions[0].filesystem!.volumeId);
  t.is(new Set(ids).size, 3, ids.join(' '));
});

test.serial('without SOURCE_DATE_EPOCH the dates are the sources\' modification times (2 s resolution)', async (t) => {
  const f = fixture({ label: undefined });
  const when = Date.UTC(2021, 2, 4, 5, 6, 8) / 1000;
  const odd = Date.UTC(2019, 11, 31, 23, 58, 59) / 1000;
  fs.utimesSync(path.join(f.src, 'names', 'readme.txt'), when, when);
  fs.utimesSync(path.join(f.src, 'names', 'Größe.txt'), odd, odd);
  fs.utimesSync(path.join(f.dir, 'extra', 'vmlinuz.efi'), when + 3600, when + 3600);
  fs.utimesSync(path.join(f.src, 'loader'), when, when);
  const saved = process.env.SOURCE_DATE_EPOCH;
  delete process.env.SOURCE_DATE_EPOCH;
  const output = path.join(f.dir, 'disk.img');
  let result;
  try {
    result = await build(f.specPath, { output });
  } finally {
    if (saved !== undefined) process.env.SOURCE_DATE_EPOCH = saved;
  }
  const esp = result.partitions[0];
  const fat = readFatPartition(output, esp.offset, esp.size, f.dir);
  t.deepEqual(fat.fsck.warnings, [], fat.fsck.output);
  t.is(fat.header.label, undefined, 'no label: mdir says "has no label"');
  t.deepEqual(treeLines(fat.tree), treeLines(f.expected));
  const mtime = (rel: string) => fs.statSync(path.join(fat.out, rel)).mtimeMs / 1000;
  t.is(mtime('/names/readme.txt'), when);
  t.is(mtime('/EFI/Linux/x.efi'), when + 3600, 'a file entry keeps its source\'s time');
  t.true([odd - 1, odd + 1].includes(mtime('/names/Größe.txt')), `odd second ${odd} stored as ${mtime('/names/Größe.txt')}`);
  for (const rel of ['/sizes/4096.bin', '/EFI/BOOT/BOOTX64.EFI']) {
    const source = fs.statSync(path.join(f.src, rel)).mtimeMs / 1000;
    t.true(Math.abs(mtime(rel) - source) <= 2, `${rel}: ${mtime(rel)} vs ${source}`);
  }
  const loaderLine = mdir(output, esp.offset).split('\n').find((line) => /^LOADER\s+<DIR>/.test(line)) ?? '';
  t.deepEqual(mdirDates(loaderLine), ['2021-03-04 05:06'], loaderLine);
});

test.serial('onto a block device full of old data: the filesystem is as clean as in a fresh file', (t) => {
  const why = loopUnavailableReason();
  if (why) return t.pass(`skipped: ${why}`);
  const f = fixture({}, { size: '128MiB' });
  const backing = path.join(f.dir, 'device.img');
  const junk = Buffer.alloc(MiB, 0xa5);
  const fd = fs.openSync(backing, 'w');
  for (let i = 0; i < 128; i++) fs.writeSync(fd, junk);
  fs.closeSync(fd);
  const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
  const loop = attachLoop(backing);
  let built;
  try {
    built = cli(['build', f.specPath, '-o', loop.device, '--force', '--json', '--quiet'], env).json;
  } finally {
    loop.detach(); // then read the backing file: mtools complains about a loop device's geometry
  }
  const esp = built.partitions[0];
  const fat = readFatPartition(backing, esp.offset, esp.size, f.dir);
  t.is(fat.fsck.status, 0, fat.fsck.output);
  t.deepEqual(fat.fsck.warnings, [], fat.fsck.output);
  t.is(fat.fsck.usedClusters, esp.filesystem!.usedClusters);
  t.deepEqual(treeLines(fat.tree), treeLines(f.expected));
  // Reserved sectors and both FATs are exactly those of the same build into a fresh (zeroed) file.
  const image = path.join(f.dir, 'disk.img');
  t.deepEqual(cli(['build', f.specPath, '-o', image, '--json', '--quiet'], env).json.partitions, built.partitions);
  const boot = readBootSector(image, esp.offset);
  const metadata = (boot.reservedSectors + boot.fats * boot.fatSectors) * boot.bytesPerSector;
  t.true(sameBytes(backing, esp.offset, image, esp.offset, metadata), 'no old data left in the FATs');
  const root = esp.offset + metadata + (boot.rootCluster - 2) * boot.clusterSize;
  t.true(sameBytes(backing, root, image, root, boot.clusterSize), 'nor in the root folder');
});

test('size auto is the smallest 1 MiB multiple that holds the filesystem; 1 MiB less fails', (t) => {
  for (const [what, filesystem] of [
    ['the FAT32 minimum', {}],
    ['minFree', { minFree: '40MiB' }],
    ['minFree with 4 KiB clusters', { minFree: '300MiB', clusterSize: '4KiB' }],
  ] as const) {
    const f = fixture(filesystem, { size: '1GiB' });
    const esp = cli(['plan', f.specPath, '--json']).json.partitions[0];
    t.is(esp.size % MiB, 0, what);
    const fsJson = esp.filesystem!;
    if ('minFree' in filesystem) {
      const minFree = Number.parseInt(filesystem.minFree) * MiB;
      t.true(fsJson.freeClusters * fsJson.clusterSize >= minFree, `${what}: ${fsJson.freeClusters} free clusters of ${fsJson.clusterSize}`);
    }
    if ('clusterSize' in filesystem) t.is(fsJson.clusterSize, 4096);
    const spec = JSON.parse(fs.readFileSync(f.specPath, 'utf8'));
    spec.partitions[0].size = esp.size - MiB;
    fs.writeFileSync(f.specPath, JSON.stringify(spec));
    const output = path.join(f.dir, 'smaller.img');
    const smaller = imgforge(['build', f.specPath, '-o', output], { env: { SOURCE_DATE_EPOCH: '' } });
    t.is(smaller.status, 2, `${what}: ${esp.size - MiB} bytes should not hold it: ${smaller.stderr}`);
    t.regex(smaller.stderr, /^imgforge: partitions\[0\]\.size: /, what);
    const needed = Number(/needs at least (\d+) bytes/.exec(smaller.stderr)?.[1]);
    t.true(needed > esp.size - MiB && needed <= esp.size, `${what}: auto gave ${esp.size} bytes for a minimum of ${needed}`);
    t.false(fs.existsSync(output));
    // And the auto size builds a clean filesystem.
    spec.partitions[0].size = esp.size;
    fs.writeFileSync(f.specPath, JSON.stringify(spec));
    const image = path.join(f.dir, 'disk.img');
    cli(['build', f.specPath, '-o', image, '--quiet', '--json']);
    const fat = readFatPartition(image, esp.offset, esp.size, f.dir);
    t.deepEqual(fat.fsck.warnings, [], `${what}: ${fat.fsck.output}`);
    t.is(fat.fsck.status, 0, what);
    t.deepEqual(treeLines(fat.tree), treeLines(f.expected), what);
    fs.rmSync(f.dir, { recursive: true, force: true });
  }
});

test('sectorSize 4096: fsck.fat and mtools read the filesystem; the GPT is valid on a 4K loop device', (t) => {
  // mtools reads FAT with 4096-byte logical sectors: mdir and mcopy work at the partition offset.
  const f = fixture({ volumeId: 0xcafef00d, label: 'BOOT 4K' }, { sectorSize: 4096, size: '512MiB' });
  const output = path.join(f.dir, 'disk.img');
  const built = cli(['build', f.specPath, '-o', output, '--json', '--quiet'], { SOURCE_DATE_EPOCH: String(EPOCH) }).json;
  const esp = built.partitions[0];
  t.is(esp.offset, esp.firstLba * 4096);
  t.true(esp.filesystem!.clusterSize >= 4096);
  checkSummary(t, esp.filesystem!, esp.size, f.expected);
  t.true(sameBytes(f.raw, 0, output, built.partitions[1].offset, fs.statSync(f.raw).size));
  const fat = readFatPartition(output, esp.offset, esp.size, f.dir);
  t.is(fat.fsck.status, 0, fat.fsck.output);
  t.deepEqual(fat.fsck.warnings, [], fat.fsck.output);
  t.is(fat.fsck.totalClusters, esp.filesystem!.clusters);
  t.deepEqual(fat.header, { label: 'BOOT 4K', serial: 'CAFE-F00D' });
  t.is(esp.filesystem!.volumeId, 'CAFE-F00D');
  t.deepEqual(treeLines(fat.tree), treeLines(f.expected));
  // The 512-byte-sector boot sector field must say 4096.
  const boot = Buffer.alloc(512);
  const fd = fs.openSync(output, 'r');
  fs.readSync(fd, boot, 0, 512, esp.offset);
  fs.closeSync(fd);
  t.is(boot.readUInt16LE(11), 4096, 'BPB bytes per sector');

  const why = loopUnavailableReason();
  if (why) return t.log(`sgdisk/sfdisk check of the 4096-byte-sector table skipped: ${why}`);
  const loop = attachLoop(output, 4096);
  try {
    t.regex(sgdiskVerify(loop.device), /No problems found/);
    const table = sfdiskJson(loop.device);
    t.is(table.sectorsize, 4096);
    t.deepEqual(table.partitions.map((p) => [p.start, p.size]), built.partitions.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1]));
  } finally {
    loop.detach();
  }
});

test('build --json and plan show the filesystem; plan\'s table names it', (t) => {
  const f = fixture({ clusterSize: '4KiB', volumeId: '1234-abcd' }, { size: '1GiB' });
  const table = imgforge(['plan', f.specPath]);
  t.is(table.status, 0, table.stderr);
  const row = table.stdout.split('\n').find((line) => /^1\s+ESP\s+esp\s/.test(line)) ?? '';
  const counts = treeCounts(f.expected);
  t.regex(row, new RegExp(`FAT32 "ESP": ${counts.files} files in ${counts.directories} folders`), table.stdout);
  t.regex(row, /4 KiB clusters/);
  const { json, stdout } = cli(['build', f.specPath, '-o', path.join(f.dir, 'disk.img'), '--json', '--quiet']);
  t.is(stdout.trim().split('\n').length, 1, 'one JSON object');
  const esp = json.partitions[0];
  t.like(esp.filesystem, { type: 'fat32', label: 'ESP', volumeId: '1234-ABCD', clusterSize: 4096 });
  checkSummary(t, esp.filesystem!, esp.size, f.expected);
  t.false('filesystem' in json.partitions[1]);
  t.false('filesystem' in json.partitions[2]);
});
