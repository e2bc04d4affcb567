/**
 * `imgforge inspect`: what it reports about images imgforge built and images other tools made
 * (sgdisk, sfdisk, mkfs.fat, mcopy) agrees with those tools, and damage is reported as findings.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { BIN, imgforge, ROOT } from './helpers/cli';
import { extractPartition, mdirHeader, mtoolsEnv, treeOf } from './helpers/fat';
import { imgforgeAs, unprivilegedRunner } from './helpers/faults';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import { run, sfdiskJson, sgdiskVerify, tempDir } from './helpers/tools';
import { spawnSync } from 'node:child_process';
import type { InspectReport } from '../ts/types';

const MiB = 1 << 20;
const APPLIANCE = path.join(ROOT, 'examples', 'appliance');

interface Built {
  dir: string;
  image: string;
  result: { partitions: Array<{ index: number; name: string; type: string; guid: string; firstLba: number; lastLba: number; offset: number; size: number; filesystem?: Record<string, unknown> }> };
}

function buildAppliance(extraArgs: string[] = []): Built {
  const dir = tempDir('imgforge-inspect-');
  const image = path.join(dir, 'appliance.img');
  const built = imgforge(['build', path.join(APPLIANCE, 'image.yaml'), '-o', image, '--json', '--quiet', ...extraArgs], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  return { dir, image, result: JSON.parse(built.stdout) };
}

function inspectJson(image: string, ...args: string[]): { status: number | null; report: InspectReport; stderr: string } {
  const run = imgforge(['inspect', image, '--json', ...args]);
  return { status: run.status, report: run.stdout ? (JSON.parse(run.stdout) as InspectReport) : (undefined as never), stderr: run.stderr };
}

function patch(file: string, offset: number, bytes: number[]): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function readByte(file: string, offset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1);
    fs.readSync(fd, buffer, 0, 1, offset);
    return buffer[0];
  } finally {
    fs.closeSync(fd);
  }
}

test('an imgforge image: the table agrees with sfdisk, the ESP with mtools, the files with the source tree', (t) => {
  const { image, result } = buildAppliance();
  const { status, report } = inspectJson(image, '--files', 'esp');
  t.is(status, 0);
  t.deepEqual(report.findings, []);
  t.is(report.table, 'gpt');
  t.is(report.sectorSize, 512);
  t.is(report.size, fs.statSync(image).size);
  t.is(report.mbr.kind, 'protective');
  t.is(report.gpt?.header, 'primary');

  const sfdisk = sfdiskJson(image);
  t.is(report.gpt?.diskGuid, sfdisk.id.toUpperCase());
  t.is(report.gpt?.firstUsableLba, sfdisk.firstlba);
  t.is(report.gpt?.lastUsableLba, sfdisk.lastlba);
  t.is(report.partitions.length, sfdisk.partitions.length);
  report.partitions.forEach((p, i) => {
    const theirs = sfdisk.partitions[i];
    t.is(p.firstLba, theirs.start);
    t.is(p.lastLba - p.firstLba + 1, theirs.size);
    t.is(p.type, theirs.type.toUpperCase());
    t.is(p.guid, theirs.uuid.toUpperCase());
    t.is(p.name, theirs.name ?? '');
    t.is(p.offset, result.partitions[i].offset);
    t.is(p.size, result.partitions[i].size);
  });
  t.deepEqual(report.partitions.map((p) => p.typeName), ['esp', 'root-x86-64', 'root-x86-64', 'linux-generic']);
  t.deepEqual(report.partitions[1].attributes, ['read-only']);
  t.deepEqual(report.partitions[2].attributes, ['read-only', 'no-auto']);
  t.is(report.partitions[1].contents.type, 'ext4');
  t.is(report.partitions[2].contents.type, 'empty');

  const esp = report.partitions[0];
  const contents = esp.contents;
  if (contents.type !== 'fat32') return t.fail(`ESP read as ${contents.type}`);
  const built = result.partitions[0].filesystem!;
  for (const key of ['label', 'volumeId', 'clusterSize', 'clusters', 'usedClusters', 'freeClusters', 'directories', 'files', 'fileBytes']) {
    t.is((contents as unknown as Record<string, unknown>)[key], built[key], key);
  }
  const mtools = mdirHeader(image, esp.offset);
  t.is(contents.label, mtools.label);
  t.is(contents.volumeId, mtools.serial);

  // The listing equals the source: the esp/ tree plus the file placed at /EFI/Linux/appliance.efi.
  const expected = new Map<string, number | 'dir'>();
  for (const [p, entry] of treeOf(path.join(APPLIANCE, 'esp'))) expected.set(p, entry.kind === 'dir' ? 'dir' : entry.size);
  expected.set('/EFI/Linux', 'dir');
  expected.set('/EFI/Linux/appliance.efi', fs.statSync(path.join(APPLIANCE, 'rootfs.ext4')).size);
  const listed = new Map((esp.files ?? []).map((f) => [f.path, f.kind === 'directory' ? 'dir' : f.size] as const));
  t.deepEqual([...listed].sort(), [...expected].sort());
  t.true((esp.files ?? []).every((f) => f.modified === undefined || f.modified.startsWith('2023-11-14')));
  t.is(report.partitions.filter((p) => p.files !== undefined).length, 1, 'only the partition asked for is listed');
});

test('text output: the table, the FAT32 summary, the listing and "no problems found"', (t) => {
  const { image } = buildAppliance();
  const out = imgforge(['inspect', image, '--files']);
  t.is(out.status, 0, out.stderr);
  t.regex(out.stdout, /^partition table: GPT \(protective MBR\), 128 entries$/m);
  t.regex(out.stdout, /^1\s+esp\s+esp\s+2048\s/m);
  t.regex(out.stdout, /FAT32 "ESP" [0-9A-F]{4}-[0-9A-F]{4}: \d+ files in \d+ folders/);
  // The example's rootfs.ext4 (raw contents) is summarised from its superblock.
  t.regex(out.stdout, /^2\s+system-a\s+root-x86-64\s.*read-only\s+ext4 "system" [0-9A-F-]{36}: [\d.]+ [KM]iB used of [\d.]+ MiB, 1 KiB blocks, \d+ of \d+ inodes used$/m);
  t.regex(out.stdout, /^files of partition 1 \(esp\): \d+ entries$/m);
  t.regex(out.stdout, /\/EFI\/BOOT\/BOOTX64\.EFI$/m);
  t.regex(out.stdout, /\nno problems found\n$/);
});

test('a damaged primary header: a finding, exit 1, and the partitions still read from the backup', (t) => {
  const { image } = buildAppliance();
  patch(image, 512 + 40, [0x99]); // first usable LBA, under the header's CRC
  t.regex(sgdiskVerify(image), /Invalid CRC on main header/, 'sgdisk sees the damage too');
  const { status, report } = inspectJson(image);
  t.is(status, 1);
  t.true(report.findings.length > 0);
  t.true(report.findings.some((f) => /CRC/.test(f.code)), JSON.stringify(report.findings));
  t.is(report.gpt?.header, 'backup');
  t.is(report.partitions.length, 4);
  const text = imgforge(['inspect', image]);
  t.is(text.status, 1);
  t.regex(text.stdout, /problems? found:\n {2}[A-Z_]+: /);
});

test('a truncated image (no backup GPT) is a finding', (t) => {
  const { image } = buildAppliance();
  fs.truncateSync(image, fs.statSync(image).size - MiB);
  const { status, report } = inspectJson(image);
  t.is(status, 1);
  t.true(report.findings.length > 0);
  t.is(report.partitions.length, 4);
});

test('a FAT whose two copies disagree is a finding about the ESP, and fsck.fat agrees', (t) => {
  const { image, result } = buildAppliance();
  const esp = result.partitions[0];
  // The first FAT starts after the reserved sectors (boot sector field at byte 14).
  const reserved = readByte(image, esp.offset + 14) | (readByte(image, esp.offset + 15) << 8);
  const fatStart = esp.offset + reserved * 512;
  patch(image, fatStart + 4 * 100, [0x07, 0x00, 0x00, 0x00]); // cluster 100 of FAT 1 only: a chain into cluster 7
  const { status, report } = inspectJson(image);
  t.is(status, 1);
  const fat = report.findings.filter((f) => f.partition === 1);
  t.true(fat.length > 0, JSON.stringify(report.findings));
  const part = path.join(path.dirname(image), 'esp.part');
  run('dd', [`if=${image}`, `of=${part}`, 'bs=512', `skip=${esp.firstLba}`, `count=${esp.lastLba - esp.firstLba + 1}`, 'status=none']);
  const fsck = spawnSync('fsck.fat', ['-n', part], { encoding: 'utf8' });
  t.regex(`${fsck.stdout}${fsck.stderr}`, /FATs differ/);
});

test('disks other tools made: sgdisk GPT with 3 partitions, and a plain MBR holding an mkfs.fat FAT32 with mcopy files', (t) => {
  const dir = tempDir('imgforge-inspect-peers-');
  const gpt = path.join(dir, 'sgdisk.img');
  fs.closeSync(fs.openSync(gpt, 'w'));
  fs.truncateSync(gpt, 64 * MiB);
  run('sgdisk', ['-n', '1:2048:+8M', '-t', '1:EF00', '-c', '1:EFI system', '-n', '2:0:+16M', '-t', '2:8304', '-c', '2:root', '-n', '3:0:0', '-t', '3:8300', gpt]);
  const { status, report } = inspectJson(gpt);
  t.is(status, 0, JSON.stringify(report.findings));
  const sfdisk = sfdiskJson(gpt);
  t.deepEqual(
    report.partitions.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1, p.type, p.name]),
    sfdisk.partitions.map((p) => [p.start, p.size, p.type.toUpperCase(), p.name ?? '']),
  );
  t.deepEqual(report.partitions.map((p) => p.typeName), ['esp', 'root-x86-64', 'linux-generic']);

  const mbr = path.join(dir, 'mbr.img');
  fs.closeSync(fs.openSync(mbr, 'w'));
  fs.truncateSync(mbr, 300 * MiB);
  const sfdiskInput = 'label: dos\nstart=2048, size=600000, type=c\n';
  const format = spawnSync('sfdisk', [mbr], { input: sfdiskInput, encoding: 'utf8' });
  t.is(format.status, 0, format.stderr);
  const part = path.join(dir, 'fat.part');
  fs.closeSync(fs.openSync(part, 'w'));
  fs.truncateSync(part, 600000 * 512);
  run('mkfs.fat', ['-F', '32', '-n', 'PEERS', '-i', '12345678', part]);
  const files = path.join(dir, 'files');
  fs.mkdirSync(path.join(files, 'EFI', 'BOOT'), { recursive: true });
  fs.writeFileSync(path.join(files, 'EFI', 'BOOT', 'BOOTX64.EFI'), Buffer.alloc(70_000, 7));
  fs.writeFileSync(path.join(files, 'A long name.txt'), 'hello');
  const mcopy = spawnSync('mcopy', ['-s', '-i', part, path.join(files, 'EFI'), path.join(files, 'A long name.txt'), '::/'], { env: mtoolsEnv(), encoding: 'utf8' });
  t.is(mcopy.status, 0, mcopy.stderr);
  run('dd', [`if=${part}`, `of=${mbr}`, 'bs=512', 'seek=2048', 'conv=notrunc,sparse', 'status=none']);

  const plain = inspectJson(mbr, '--files');
  t.is(plain.report.table, 'mbr');
  t.is(plain.report.mbr.kind, 'plain');
  t.is(plain.report.partitions.length, 1);
  const [fat] = plain.report.partitions;
  t.is(fat.firstLba, 2048);
  t.is(fat.size, 600000 * 512);
  t.is(fat.contents.type, 'fat32');
  if (fat.contents.type === 'fat32') {
    t.is(fat.contents.label, 'PEERS');
    t.is(fat.contents.volumeId, '1234-5678');
  }
  const listed = new Map((fat.files ?? []).map((f) => [f.path, f.kind === 'directory' ? 'dir' : f.size] as const));
  t.deepEqual([...listed].sort(), [
    ['/A long name.txt', 5],
    ['/EFI', 'dir'],
    ['/EFI/BOOT', 'dir'],
    ['/EFI/BOOT/BOOTX64.EFI', 70_000],
  ] as Array<[string, number | string]>);
  t.is(plain.status, 0, JSON.stringify(plain.report.findings));
});

test('4096-byte sectors are detected from the table', (t) => {
  const dir = tempDir('imgforge-inspect-4k-');
  const spec = path.join(dir, 'image.yaml');
  fs.writeFileSync(spec, 'sectorSize: 4096\nseed: four-k\npartitions:\n  - name: one\n    type: linux-generic\n    size: 4MiB\n  - name: two\n    type: swap\n    size: 4MiB\n');
  const image = path.join(dir, 'disk.img');
  t.is(imgforge(['build', spec, '-o', image, '--quiet']).status, 0);
  const { status, report } = inspectJson(image);
  t.is(status, 0, JSON.stringify(report.findings));
  t.is(report.sectorSize, 4096);
  t.deepEqual(report.partitions.map((p) => [p.name, p.offset, p.size]), [['one', MiB, 4 * MiB], ['two', 5 * MiB, 4 * MiB]]);
});

test('a block device is read in place', (t) => {
  const reason = loopUnavailableReason();
  if (reason) {
    t.log(`skipped: ${reason}`);
    return t.pass();
  }
  const { image } = buildAppliance();
  const loop = attachLoop(image);
  try {
    const device = inspectJson(loop.device);
    const file = inspectJson(image);
    t.is(device.status, 0, JSON.stringify(device.report.findings));
    t.is(device.report.kind, 'device');
    t.deepEqual(device.report.partitions, file.report.partitions);
  } finally {
    loop.detach();
  }
});

test('bad input: exit 2, one line naming the image or the partition, nothing written', (t) => {
  const { image } = buildAppliance();
  const before = fs.readFileSync(image);
  const cases: Array<[string[], RegExp]> = [
    [['inspect', path.join(ROOT, 'no-such.img')], /no-such\.img: not found/],
    [['inspect', ROOT], /a directory/],
    [['inspect', image, '--files', 'nope'], /--files nope: no such partition; the image has 1 \(esp\), 2 \(system-a\)/],
    [['inspect', image, '--files', '2'], /--files 2: partition 2 holds ext4; only FAT32 and EROFS trees can be listed/],
    [['inspect'], /missing required argument 'image'/],
  ];
  for (const [args, message] of cases) {
    const out = imgforge(args);
    t.is(out.status, 2, args.join(' '));
    t.regex(out.stderr, message);
    t.notRegex(out.stderr, /\n\s+at /, 'no stack trace');
  }
  t.true(before.equals(fs.readFileSync(image)), 'inspect never writes');
});

test('a blank file: no table is a finding', (t) => {
  const dir = tempDir('imgforge-inspect-blank-');
  const image = path.join(dir, 'blank.img');
  fs.writeFileSync(image, Buffer.alloc(MiB));
  const { status, report } = inspectJson(image);
  t.is(status, 1);
  t.is(report.table, 'none');
  t.deepEqual(report.partitions, []);
  t.true(report.findings.length > 0);
});

/** The ESP of a fresh appliance image with its boot sector changed by `patches` ([offset in the boot sector, bytes]). */
function damagedEsp(built: Built, name: string, patches: Array<[number, number[]]>): { image: string; esp: Built['result']['partitions'][number] } {
  const image = path.join(built.dir, `${name}.img`);
  fs.copyFileSync(built.image, image);
  const esp = built.result.partitions[0];
  for (const [offset, bytes] of patches) patch(image, esp.offset + offset, bytes);
  return { image, esp };
}

/** `fsck.fat -n` on the ESP of `image`: its exit status and what it said. */
function fsckEsp(image: string, esp: { offset: number; size: number }): { status: number | null; output: string } {
  const part = extractPartition(image, esp.offset, esp.size, `${image}.esp`);
  const fsck = spawnSync('fsck.fat', ['-n', part], { encoding: 'utf8' });
  fs.rmSync(part);
  return { status: fsck.status, output: `${fsck.stdout}${fsck.stderr}` };
}

test('a FAT32 boot sector with 0 bytes per sector is a FAT32 with BOOT_SECTOR_INVALID (exit 1), an error to fsck.fat too', (t) => {
  const built = buildAppliance();
  const { image, esp } = damagedEsp(built, 'bps0', [[11, [0, 0]]]);
  const fsck = fsckEsp(image, esp);
  t.is(fsck.status, 1, fsck.output);
  t.regex(fsck.output, /Logical sector size is zero/);

  const { status, report } = inspectJson(image);
  t.is(status, 1);
  const contents = report.partitions[0].contents;
  t.like(contents, { type: 'fat32', label: 'ESP', bytesPerSector: 0, clusterSize: 0, clusters: 0, files: 0 });
  t.deepEqual(report.findings, [
    {
      code: 'BOOT_SECTOR_INVALID',
      partition: 1,
      message: 'the bytes per sector are 0; FAT32 needs 512, 1024, 2048 or 4096; the volume cannot be read past its boot sector',
    },
  ]);
  const text = imgforge(['inspect', image]);
  t.is(text.status, 1);
  t.regex(text.stdout, /^1\s+esp\s+esp\s.*FAT32 "ESP" [0-9A-F]{4}-[0-9A-F]{4}: no readable clusters \(see the problems found\)$/m);
  t.regex(text.stdout, /^ {2}BOOT_SECTOR_INVALID: partition 1: the bytes per sector are 0;/m);
});

test('every broken geometry field of a FAT32 boot sector is a finding naming it, and fsck.fat reports each', (t) => {
  const built = buildAppliance();
  const cases: Array<[string, Array<[number, number[]]>, RegExp]> = [
    ['spc0', [[13, [0]]], /^the sectors per cluster are 0; /],
    ['spc3', [[13, [3]]], /^the sectors per cluster are 3; /],
    ['reserved0', [[14, [0, 0]]], /^the reserved sector count is 0; /],
    ['fats0', [[16, [0]]], /^the number of FATs is 0; /],
    ['fatsize0', [[36, [0, 0, 0, 0]]], /^the FAT size is 0 sectors; /],
    // With its type string gone, the jump and the extended signature still mark it FAT32.
    ['bps1000-untyped', [[11, [0xe8, 0x03]], [82, [0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]]], /^the bytes per sector are 1000; /],
  ];
  for (const [name, patches, message] of cases) {
    const { image, esp } = damagedEsp(built, name, patches);
    const fsck = fsckEsp(image, esp);
    t.is(fsck.status, 1, `fsck.fat on ${name}: ${fsck.output}`);
    const { status, report } = inspectJson(image);
    t.is(status, 1, name);
    t.is(report.partitions[0].contents.type, 'fat32', name);
    t.is(report.findings.length, 1, `${name}: ${JSON.stringify(report.findings)}`);
    t.is(report.findings[0].code, 'BOOT_SECTOR_INVALID', name);
    t.regex(report.findings[0].message, message, name);
    fs.rmSync(image);
  }
});

test('unreadable images: exit 2, one line naming the file and the reason, never a hang', async (t) => {
  const dir = tempDir('imgforge-inspect-unreadable-');
  const fifo = path.join(dir, 'fifo.img');
  run('mkfifo', [fifo]);
  const socket = path.join(dir, 'socket.img');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const expected: Array<[string, string]> = [
    ['/proc/self/mem', '/proc/self/mem: cannot be read: input/output error (EIO)'],
    ['/proc/self/status', '/proc/self/status: its size is given as 0 bytes, yet it holds data (a pseudo-file, like those in /proc); expected a disk image or a block device'],
    ['/dev/null', '/dev/null: a character device; expected a disk image or a block device'],
    [fifo, `${fifo}: a FIFO (named pipe); expected a disk image or a block device`],
    [socket, `${socket}: a socket; expected a disk image or a block device`],
    [dir, `${dir}: a directory; expected a disk image or a block device`],
  ];
  try {
    for (const [image, message] of expected) {
      const out = spawnSync(process.execPath, [BIN, 'inspect', image], { encoding: 'utf8', timeout: 30_000 });
      t.is(out.status, 2, `${image}: ${out.stderr}`);
      t.is(out.stderr, `imgforge: ${message}\n`);
      t.is(out.stdout, '');
    }
  } finally {
    server.close();
  }
  const spec = path.join(dir, 'image.yaml');
  fs.writeFileSync(spec, 'partitions:\n  - name: one\n    type: linux-generic\n    size: 1MiB\n');
  const verify = imgforge(['verify', spec, '/proc/self/mem']);
  t.is(verify.status, 2, verify.stderr);
  t.is(verify.stderr, 'imgforge: /proc/self/mem: cannot be read: input/output error (EIO)\n');
});

test('an image without read permission: exit 2, "permission denied"', (t) => {
  const dir = tempDir('imgforge-inspect-denied-');
  fs.chmodSync(dir, 0o755);
  const image = path.join(dir, 'locked.img');
  fs.writeFileSync(image, Buffer.alloc(MiB));
  fs.chmodSync(image, 0o000);
  // Root reads anything: run as nobody then, from a copy of the CLI nobody can reach.
  const runner = unprivilegedRunner();
  if (runner.reason !== undefined) {
    t.log(`skipped: ${runner.reason}`);
    return t.pass();
  }
  const out = imgforgeAs(runner.wrap, ['inspect', image]);
  t.is(out.status, 2, out.stderr);
  t.is(out.stderr, `imgforge: ${image}: permission denied\n`);
});
