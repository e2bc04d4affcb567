/**
 * `table: mbr` and `table: hybrid` end to end, through the real CLI, checked with independent
 * tools: sfdisk --json, fdisk -l, parted, partx, fsck.fat (MBR) and sgdisk -v, gdisk (hybrid).
 */
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imgforge } from './helpers/cli';
import { fsckFat, extractPartition } from './helpers/fat';
import { hasTool, run, sgdiskVerify, tempDir } from './helpers/tools';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import type { BuildResult, InspectReport } from '../ts/types';

const MiB = 1024 * 1024;
const TOOLS = ['sfdisk', 'fdisk', 'parted', 'partx', 'fsck.fat', 'sgdisk', 'gdisk'];
const missing = TOOLS.filter((tool) => !hasTool(tool));
const withTools = missing.length === 0 ? test : test.skip;
if (missing.length > 0) console.log(`mbr.test.ts: skipping tool checks, missing ${missing.join(', ')} (scripts/install-system-deps.sh installs them)`);

/** A folder with a FAT32 source tree, a raw partition image and the spec written as JSON. */
function workspace(spec: Record<string, unknown>): { dir: string; specPath: string } {
  const dir = tempDir('imgforge-mbr-');
  fs.mkdirSync(path.join(dir, 'boot', 'overlays'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'boot', 'config.txt'), 'arm_64bit=1\nenable_uart=1\n');
  fs.writeFileSync(path.join(dir, 'boot', 'cmdline.txt'), 'console=serial0,115200 root=PARTUUID=0x0-02 rootwait\n');
  fs.writeFileSync(path.join(dir, 'boot', 'overlays', 'README'), 'device tree overlays go here\n');
  fs.writeFileSync(path.join(dir, 'root.img'), Buffer.alloc(3 * MiB, 0x5a));
  const specPath = path.join(dir, 'image.json');
  fs.writeFileSync(specPath, JSON.stringify(spec));
  return { dir, specPath };
}

function build(t: ExecutionContext, spec: Record<string, unknown>): { dir: string; image: string; result: BuildResult } {
  const { dir, specPath } = workspace(spec);
  const image = path.join(dir, 'disk.img');
  const built = imgforge(['build', specPath, '-o', image, '--json']);
  t.is(built.status, 0, built.stderr);
  return { dir, image, result: JSON.parse(built.stdout) as BuildResult };
}

const fat32Boot = { type: 'fat32', label: 'BOOT', files: [{ source: './boot', target: '/' }] };

/**
 * Seven partitions: the last is forced primary, so two stay primary before the extended
 * partition (three primaries in all) and the four in between are logical.
 */
const sevenPartitions = {
  table: 'mbr',
  seed: 'mbr-test',
  size: '512MiB',
  partitions: [
    { name: 'boot', type: 'esp', bootable: true, size: '300MiB', filesystem: fat32Boot },
    { name: 'a', type: 'linux-generic', size: '8MiB', contents: './root.img' },
    { name: 'swap', type: 'swap', size: '8MiB' },
    { name: 'l1', type: 'linux-generic', size: '8MiB', mbrType: '0x07' },
    { name: 'l2', type: 'linux-generic', size: '8MiB', bootable: true },
    { name: 'l3', type: 'linux-generic', size: 'grow' },
    { name: 'last', type: 'linux-generic', size: '16MiB', primary: true },
  ],
};

interface SfdiskDos {
  label: string;
  id: string;
  sectorsize: number;
  partitions: Array<{ node: string; start: number; size: number; type: string; bootable?: boolean }>;
}

function sfdisk(image: string): SfdiskDos {
  return (JSON.parse(run('sfdisk', ['--json', image])) as { partitiontable: SfdiskDos }).partitiontable;
}

const nodeNumber = (node: string) => Number(/(\d+)$/.exec(node)![1]);

withTools('mbr: sfdisk, fdisk, parted and partx read every partition as planned, logical ones included', (t) => {
  const { image, result } = build(t, sevenPartitions);
  t.is(result.table, 'mbr');
  t.regex(result.diskId!, /^0x[0-9a-f]{8}$/);
  t.is(result.diskGuid, undefined);
  t.deepEqual(
    result.partitions.map((p) => [p.name, p.index, p.logical === true]),
    [['boot', 1, false], ['a', 2, false], ['swap', 5, true], ['l1', 6, true], ['l2', 7, true], ['l3', 8, true], ['last', 4, false]],
  );

  const table = sfdisk(image);
  t.is(table.label, 'dos');
  t.is(table.id, result.diskId!);
  const byNumber = new Map(table.partitions.map((p) => [nodeNumber(p.node), p]));
  for (const planned of result.partitions) {
    const found = byNumber.get(planned.index);
    t.truthy(found, `sfdisk lists partition ${planned.index}`);
    t.is(found!.start, planned.firstLba, planned.name);
    t.is(found!.size, planned.lastLba - planned.firstLba + 1, planned.name);
    t.is(Number.parseInt(found!.type, 16), planned.mbrType!, planned.name);
    t.is(found!.bootable === true, planned.bootable === true, planned.name);
  }
  t.deepEqual(
    result.partitions.map((p) => p.mbrType),
    [0x0c, 0x83, 0x82, 0x07, 0x83, 0x83, 0x83],
  );
  // The extended partition: the record beside the primaries, from the first EBR to the end of the last logical.
  const extended = table.partitions.filter((p) => ['5', 'f', '85'].includes(p.type));
  t.is(extended.length, 1);
  const logical = result.partitions.filter((p) => p.logical);
  t.true(extended[0].start < logical[0].firstLba && extended[0].start + extended[0].size - 1 === logical.at(-1)!.lastLba);
  t.is(table.partitions.length, 8, 'seven partitions and the extended container');

  // fdisk -l: the same starts, ends, ids and boot flags.
  const fdisk = run('fdisk', ['-l', image]);
  t.regex(fdisk, new RegExp(`Disk identifier: ${result.diskId}`));
  for (const planned of result.partitions) {
    const line = fdisk.split('\n').find((l) => l.startsWith(`${image}${planned.index} `));
    t.truthy(line, `fdisk lists partition ${planned.index}`);
    const columns = line!.slice(image.length).trim().split(/\s+/);
    const boot = columns[1] === '*';
    const [start, end] = columns.slice(boot ? 2 : 1, boot ? 4 : 3).map(Number);
    t.deepEqual([start, end, boot], [planned.firstLba, planned.lastLba, planned.bootable === true], `fdisk: ${line}`);
  }

  // parted: primary/extended/logical and the boot flag.
  const parted = run('parted', ['-s', image, 'unit', 's', 'print']);
  t.regex(parted, /Partition Table: msdos/);
  const rows = new Map(
    parted
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)s\s+(\d+)s\s+\d+s\s+(primary|extended|logical)\b(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [Number(m![1]), { start: Number(m![2]), end: Number(m![3]), kind: m![4], rest: m![5] }]),
  );
  for (const planned of result.partitions) {
    const row = rows.get(planned.index);
    t.truthy(row, `parted lists partition ${planned.index}`);
    t.deepEqual([row!.start, row!.end, row!.kind], [planned.firstLba, planned.lastLba, planned.logical ? 'logical' : 'primary']);
    t.is(/\bboot\b/.test(row!.rest), planned.bootable === true, `parted flags of ${planned.index}: ${row!.rest}`);
  }

  // partx: the kernel's own parser's view, logical partitions numbered 5 and up.
  const partx = run('partx', ['--show', '-o', 'NR,START,END', '-g', image])
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  for (const planned of logical) t.true(partx.some(([nr, start, end]) => nr === planned.index && start === planned.firstLba && end === planned.lastLba), `partx lists ${planned.index}`);

  // inspect and verify agree.
  const inspected = imgforge(['inspect', image, '--json']);
  const report = JSON.parse(inspected.stdout) as InspectReport;
  t.is(report.table, 'mbr');
  t.is(report.mbr.diskId, result.diskId!);
  t.deepEqual(report.findings, []);
  t.deepEqual(
    [...report.partitions].sort((a, b) => a.index - b.index).map((p) => [p.index, p.firstLba, p.bootable, p.logical]),
    [...result.partitions].sort((a, b) => a.index - b.index).map((p) => [p.index, p.firstLba, p.bootable, p.logical === true]),
  );
});

withTools('mbr: fsck.fat is clean on the FAT32 partition found at the offset sfdisk gives', (t) => {
  const { dir, image } = build(t, sevenPartitions);
  const boot = sfdisk(image).partitions.find((p) => nodeNumber(p.node) === 1)!;
  const extracted = extractPartition(image, boot.start * 512, boot.size * 512, path.join(dir, 'boot.fat'));
  const fsck = fsckFat(extracted);
  t.is(fsck.status, 0, fsck.output);
  t.deepEqual(fsck.warnings, []);
});

withTools('mbr: the raw contents land at the offset sfdisk gives', (t) => {
  const { dir, image } = build(t, sevenPartitions);
  const a = sfdisk(image).partitions.find((p) => nodeNumber(p.node) === 2)!;
  const bytes = Buffer.alloc(3 * MiB);
  const fd = fs.openSync(image, 'r');
  fs.readSync(fd, bytes, 0, bytes.length, a.start * 512);
  fs.closeSync(fd);
  t.true(bytes.equals(fs.readFileSync(path.join(dir, 'root.img'))));
});

withTools('mbr: with 4096-byte sectors, fdisk -b 4096 reads the table in 4 KiB sectors', (t) => {
  const { image, result } = build(t, { ...sevenPartitions, sectorSize: 4096, partitions: sevenPartitions.partitions.slice(0, 3) });
  const fdisk = run('fdisk', ['-b', '4096', '-l', image]);
  t.regex(fdisk, /Disklabel type: dos/);
  for (const planned of result.partitions) {
    const line = fdisk.split('\n').find((l) => l.startsWith(`${image}${planned.index} `))!;
    t.true(line.includes(` ${planned.firstLba} `) && line.includes(` ${planned.lastLba} `), line);
    t.is(planned.offset, planned.firstLba * 4096);
  }
});

withTools('hybrid: sgdisk -v is clean and gdisk shows the mirrored records, then 0xEE', (t) => {
  const spec = {
    table: 'hybrid',
    seed: 'hybrid-test',
    size: '400MiB',
    bootCode: './mbr.bin',
    partitions: [
      { name: 'esp', type: 'esp', hybrid: true, bootable: true, size: '300MiB', filesystem: fat32Boot },
      { name: 'data', type: 'linux-generic', size: '16MiB' },
      { name: 'root', type: 'linux-generic', hybrid: true, size: 'grow' },
    ],
  };
  const { dir, specPath } = workspace(spec);
  const code = Buffer.from(Array.from({ length: 440 }, (_, i) => (i * 7) & 0xff));
  fs.writeFileSync(path.join(dir, 'mbr.bin'), code);
  const image = path.join(dir, 'disk.img');
  const built = imgforge(['build', specPath, '-o', image, '--json']);
  t.is(built.status, 0, built.stderr);
  const result = JSON.parse(built.stdout) as BuildResult;
  t.is(result.table, 'hybrid');
  t.regex(sgdiskVerify(image), /No problems found/);
  const gdisk = spawnSync('gdisk', [image], { input: 'r\no\nq\n', encoding: 'utf8' }).stdout;
  t.regex(gdisk, /MBR: hybrid/);
  t.regex(gdisk, new RegExp(`MBR disk identifier: ${result.diskId!.toUpperCase().replace('0X', '0x')}`));
  const records = gdisk
    .split('\n')
    .map((l) => /^\s+(\d)\s+(\*?)\s+(\d+)\s+(\d+)\s+primary\s+0x([0-9A-F]{2})/.exec(l))
    .filter((m) => m !== null)
    .map((m) => [Number(m![1]), m![2] === '*', Number(m![3]), Number(m![4]), Number.parseInt(m![5], 16)]);
  const [esp, , root] = result.partitions;
  t.deepEqual(records, [
    [1, true, esp.firstLba, esp.lastLba, 0x0c],
    [2, false, root.firstLba, root.lastLba, 0x83],
    [3, false, 1, esp.firstLba - 1, 0xee],
  ]);
  t.true(fs.readFileSync(image).subarray(0, 440).equals(code), 'the boot code is in LBA 0');
  const verified = imgforge(['verify', specPath, image]);
  t.is(verified.status, 0, verified.stdout + verified.stderr);
});

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('mbr: a seed makes the image reproducible, disk id included; another seed changes it', (t) => {
  // The same inputs (one folder, so the FAT32 timestamps from the sources' times are the same too).
  const { dir, specPath } = workspace({ ...sevenPartitions, size: '400MiB' });
  const otherSpec = path.join(dir, 'other.json');
  fs.writeFileSync(otherSpec, JSON.stringify({ ...sevenPartitions, size: '400MiB', seed: 'another seed' }));
  const fixedSpec = path.join(dir, 'fixed.json');
  fs.writeFileSync(fixedSpec, JSON.stringify({ ...sevenPartitions, size: '400MiB', diskId: 0x12345678 }));
  const buildTo = (spec: string, name: string) => {
    const image = path.join(dir, name);
    const built = imgforge(['build', spec, '-o', image, '--json']);
    t.is(built.status, 0, built.stderr);
    return { image, result: JSON.parse(built.stdout) as BuildResult };
  };
  const first = buildTo(specPath, 'first.img');
  const again = buildTo(specPath, 'again.img');
  const other = buildTo(otherSpec, 'other.img');
  t.is(first.result.diskId, again.result.diskId);
  t.is(sha256(first.image), sha256(again.image));
  t.not(first.result.diskId, other.result.diskId);
  t.not(sha256(first.image), sha256(other.image));
  const id = fs.readFileSync(first.image).readUInt32LE(440);
  t.is(`0x${id.toString(16).padStart(8, '0')}`, first.result.diskId!);
  // An explicit diskId wins over the seed.
  t.is(buildTo(fixedSpec, 'fixed.img').result.diskId, '0x12345678');
});

test('mbr: verify reports a changed type byte and active flag', (t) => {
  const { dir, image } = build(t, sevenPartitions);
  const disk = fs.openSync(image, 'r+');
  fs.writeSync(disk, Buffer.from([0x00]), 0, 1, 446); // record 1 loses its active flag
  fs.writeSync(disk, Buffer.from([0x8e]), 0, 1, 446 + 16 + 4); // record 2 becomes Linux LVM
  fs.closeSync(disk);
  const verified = imgforge(['verify', path.join(dir, 'image.json'), image, '--json']);
  t.is(verified.status, 1, verified.stderr);
  const where = (JSON.parse(verified.stdout) as { differences: Array<{ where: string }> }).differences.map((d) => d.where);
  t.deepEqual(where, ['partitions[0].bootable', 'partitions[1].mbrType']);
});

test('mbr: inspect follows the EBR chain and reports a loop', (t) => {
  const { image, result } = build(t, sevenPartitions);
  const [first, second] = result.partitions.filter((p) => p.logical);
  const sector = 512;
  // The EBR before the second logical partition links back to the first EBR.
  const disk = fs.openSync(image, 'r+');
  const ebrOf = (p: { firstLba: number }) => p.firstLba - MiB / sector; // one alignment unit before it
  const link = Buffer.alloc(16);
  link[4] = 0x05;
  link.writeUInt32LE(0, 8); // relative to the extended partition: its first EBR
  link.writeUInt32LE(4, 12);
  fs.writeSync(disk, link, 0, 16, ebrOf(second) * sector + 462);
  fs.closeSync(disk);
  const inspected = imgforge(['inspect', image, '--json']);
  const report = JSON.parse(inspected.stdout) as InspectReport;
  t.true(report.findings.some((f) => f.code === 'MBR_EBR_LOOP'), JSON.stringify(report.findings));
  t.deepEqual(
    report.partitions.filter((p) => p.logical).map((p) => p.firstLba),
    [first.firstLba, second.firstLba],
  );
});

test('plan --json speaks the table kind', (t) => {
  const { specPath } = workspace(sevenPartitions);
  const planned = imgforge(['plan', specPath, '--json']);
  t.is(planned.status, 0, planned.stderr);
  const json = JSON.parse(planned.stdout) as { table: string; diskId: string; diskGuid?: string; partitions: Array<Record<string, unknown>> };
  t.is(json.table, 'mbr');
  t.regex(json.diskId, /^0x[0-9a-f]{8}$/);
  t.is(json.diskGuid, undefined);
  t.deepEqual(json.partitions[3], { ...json.partitions[3], index: 6, mbrType: 7, bootable: false, logical: true });
  const text = imgforge(['plan', specPath]);
  t.regex(text.stdout, /partition table: MBR \(DOS\), 4 logical in an extended partition/);
  t.regex(text.stdout, /l1\s+linux-generic \(0x07\)/);
  t.regex(text.stdout, /\(EBR of 5, free\)/, 'the gap before a logical partition holds its EBR');
});

/**
 * Bad specs: exit 2, nothing on stdout, nothing left in the folder, and one line naming the field
 * (spec errors come as "invalid spec (1 problem):" and that line, as every spec error does).
 */
function refused(t: ExecutionContext, spec: Record<string, unknown>, expected: RegExp): void {
  const { dir, specPath } = workspace(spec);
  const before = fs.readdirSync(dir).sort();
  const result = imgforge(['build', specPath, '-o', path.join(dir, 'out.img')]);
  t.is(result.status, 2, result.stderr);
  t.is(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  const problem = lines.length === 2 && /invalid spec \(1 problem\):$/.test(lines[0]) ? `imgforge: ${lines[1].trim()}` : lines[0];
  t.true(lines.length === 1 || problem !== lines[0], result.stderr);
  t.regex(problem, expected);
  t.deepEqual(fs.readdirSync(dir).sort(), before, 'no output, no temporary file');
}

const linux = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'linux-generic', size: '1MiB', ...extra });

test('bad input: five partitions forced primary', (t) => {
  refused(
    t,
    { table: 'mbr', size: '64MiB', partitions: ['a', 'b', 'c', 'd', 'e'].map((n) => linux(n, { primary: true })) },
    /^imgforge: partitions\[3\]\.primary: with more than 4 partitions, at most 3 can be primary/,
  );
});

test('bad input: an MBR partition past 2 TiB', (t) => {
  refused(
    t,
    { table: 'mbr', size: '3TiB', partitions: [linux('boot'), { name: 'root', type: 'linux-generic', size: 'grow' }] },
    /^imgforge: partitions\[1\]\.size: partition "root" ends at LBA \d+, past what an MBR record addresses: 2\^32 sectors \(2 TiB with 512-byte sectors\)/,
  );
});

test('bad input: a GPT-only field under table mbr', (t) => {
  refused(
    t,
    { table: 'mbr', size: '64MiB', partitions: [linux('root', { guid: '6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB' })] },
    /^imgforge: partitions\[0\]\.guid: a GPT-only field; an MBR partition has no GUID/,
  );
});

test('bad input: four hybrid partitions', (t) => {
  refused(
    t,
    { table: 'hybrid', size: '64MiB', partitions: ['a', 'b', 'c', 'd'].map((n) => linux(n, { hybrid: true })) },
    /^imgforge: partitions\[3\]\.hybrid: a hybrid MBR mirrors at most 3 partitions \(partitions\[0\], partitions\[1\], partitions\[2\] already are\)/,
  );
});

test('bad input: boot code over 440 bytes', (t) => {
  const { dir, specPath } = workspace({ table: 'mbr', size: '64MiB', bootCode: './big.bin', partitions: [linux('root')] });
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(441));
  const result = imgforge(['build', specPath, '-o', path.join(dir, 'out.img')]);
  t.is(result.status, 2);
  t.regex(result.stderr.trim(), /^imgforge: bootCode: .*big\.bin is 441 bytes; the MBR holds at most 440 bytes of boot code/);
  t.false(fs.existsSync(path.join(dir, 'out.img')));
});

withTools('examples/rpi: an MBR disk whose cmdline.txt names its root by the PARTUUID the table gives', (t) => {
  const dir = tempDir('imgforge-rpi-');
  const image = path.join(dir, 'rpi.img');
  const specPath = path.join(__dirname, '..', 'examples', 'rpi', 'image.yaml');
  const built = imgforge(['build', specPath, '-o', image, '--json']);
  t.is(built.status, 0, built.stderr);
  const table = sfdisk(image);
  t.is(table.label, 'dos');
  t.deepEqual(
    table.partitions.map((p) => [p.type, p.bootable === true]),
    [
      ['c', true],
      ['83', false],
    ],
  );
  // partx gives the PARTUUIDs Linux uses: the disk id and the partition number.
  const uuids = run('partx', ['--show', '-g', '-o', 'NR,UUID', image]).trim().split('\n').map((l) => l.trim().split(/\s+/));
  const cmdline = fs.readFileSync(path.join(__dirname, '..', 'examples', 'rpi', 'boot', 'cmdline.txt'), 'utf8');
  t.true(cmdline.includes(`root=PARTUUID=${uuids.find(([nr]) => nr === '2')![1]} `), `${cmdline} ${JSON.stringify(uuids)}`);
  const boot = table.partitions[0];
  const fsck = fsckFat(extractPartition(image, boot.start * 512, boot.size * 512, path.join(dir, 'boot.fat')));
  t.is(fsck.status, 0, fsck.output);
  const verified = imgforge(['verify', specPath, image]);
  t.is(verified.status, 0, verified.stdout + verified.stderr);
});

test.serial('mbr on a block device that held a GPT: the kernel-facing tools see only the MBR and its logical partitions', (t) => {
  const skipReason = loopUnavailableReason() ?? missing[0];
  if (skipReason !== undefined) {
    console.log(`block-device MBR test skipped: ${skipReason}`);
    return t.pass(`skipped: ${skipReason}`);
  }
  const dir = tempDir('imgforge-mbr-device-');
  const backing = path.join(dir, 'device.img');
  fs.writeFileSync(backing, Buffer.alloc(64 * MiB));
  const gptSpec = path.join(dir, 'gpt.json');
  fs.writeFileSync(gptSpec, JSON.stringify({ seed: 'before', partitions: [{ name: 'old', type: 'linux-generic', size: 'grow' }] }));
  const mbrSpec = path.join(dir, 'mbr.json');
  const small = (name: string) => ({ name, type: 'linux-generic', size: '4MiB' });
  fs.writeFileSync(mbrSpec, JSON.stringify({ table: 'mbr', seed: 'after', partitions: ['a', 'b', 'c', 'd', 'e'].map(small) }));
  const loop = attachLoop(backing);
  try {
    const gpt = imgforge(['build', gptSpec, '-o', loop.device, '--force', '-q']);
    t.is(gpt.status, 0, gpt.stderr);
    t.regex(sgdiskVerify(loop.device), /No problems found/);
    const before = fs.readFileSync(backing);
    t.is(before.subarray(before.length - 512, before.length - 504).toString('latin1'), 'EFI PART', 'the GPT build left a backup header at the end');
    const built = imgforge(['build', mbrSpec, '-o', loop.device, '--force', '--json', '-q']);
    t.is(built.status, 0, built.stderr);
    const result = JSON.parse(built.stdout) as BuildResult;
    const device = fs.readFileSync(backing);
    t.not(device.subarray(512, 520).toString('latin1'), 'EFI PART', 'the old primary GPT header is gone');
    t.not(device.subarray(device.length - 512, device.length - 504).toString('latin1'), 'EFI PART', 'the old backup GPT header is gone');
    const table = sfdisk(loop.device);
    t.is(table.label, 'dos');
    t.is(table.id, result.diskId!);
    const pttype = spawnSync('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', loop.device], { encoding: 'utf8' }).stdout.trim();
    t.is(pttype, 'dos');
    const partx = run('partx', ['--show', '-g', '-o', 'NR,START', loop.device]).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    t.deepEqual(
      partx.map(([nr]) => nr),
      [1, 2, 3, 4, 5, 6],
      'three primaries, the extended one, two logical',
    );
  } finally {
    loop.detach();
  }
});
