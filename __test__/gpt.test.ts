import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError } from '../ts/errors';
import { native, type GptLayout, type PartitionTable } from '../ts/native';
import { encodeLayout, encodeTables as encodeGpt, gptLayout } from '../ts/build/tables';
import { attributeMask } from '../ts/spec/attributes';
import { bytesToGuid, guidToBytes, isGuid } from '../ts/guid';
import { deriveGuid, randomGuid } from '../ts/plan/guid';
import { planLayout } from '../ts/plan/plan';
import { parseSpec } from '../ts/spec/load';
import { TiB } from '../ts/units';
import type { Plan } from '../ts/types';

// The encoder and reader are Rust (crates/gpt, with the CRC-32 vectors and every refusal as unit
// tests there); these tests check what the native binding writes and reads, against sgdisk and sfdisk.

/** Bitwise CRC-32 (IEEE): an oracle independent of the Rust table-driven one. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('the test CRC-32 oracle', (t) => {
  t.is(crc32(Buffer.from('123456789')), 0xcbf43926);
  t.is(crc32(Buffer.alloc(0)), 0);
});

// ---- GUIDs (ts/plan/guid.ts) ----

test('deriveGuid is deterministic, well-formed and pinned', (t) => {
  // Pinned: changing the derivation would change every seeded image.
  t.is(deriveGuid('my-product-v1', 'imgforge:disk'), 'D1B94286-0D4A-458F-B39C-FECED13AE99F');
  t.is(deriveGuid('my-product-v1', 'imgforge:partition:root'), '50BBAFC2-3FFC-4C39-B807-FDCAE58079D5');
  for (let i = 0; i < 200; i++) {
    const guid = deriveGuid(`seed-${i}`, `imgforge:partition:p${i % 7}`);
    t.is(guid, deriveGuid(`seed-${i}`, `imgforge:partition:p${i % 7}`));
    t.true(isGuid(guid));
    t.is(guid[14], '4', 'version 4');
    t.true('89AB'.includes(guid[19]), 'RFC 4122 variant');
  }
  t.not(deriveGuid('a', 'imgforge:disk'), deriveGuid('b', 'imgforge:disk'));
  t.not(deriveGuid('a', 'imgforge:partition:x'), deriveGuid('a', 'imgforge:partition:y'));
});

test('randomGuid is an uppercase version 4 GUID', (t) => {
  const guid = randomGuid();
  t.regex(guid, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  t.not(guid, randomGuid());
});

test('GUIDs are stored mixed-endian', (t) => {
  const esp = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
  t.is(guidToBytes(esp).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  t.is(guidToBytes(esp.toLowerCase()).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  t.is(bytesToGuid(Buffer.from('28732ac11ff8d211ba4b00a0c93ec93b', 'hex')), esp);
  const padded = Buffer.concat([Buffer.alloc(5), guidToBytes(esp)]);
  t.is(bytesToGuid(padded, 5), esp);
  const g = randomGuid();
  t.is(bytesToGuid(guidToBytes(g)), g);
  t.throws(() => guidToBytes('nope'), { instanceOf: ImgforgeError });
});

test('isGuid', (t) => {
  t.true(isGuid('c12a7328-f81f-11d2-ba4b-00a0c93ec93b'));
  t.true(isGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93B'));
  t.false(isGuid('{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}'));
  t.false(isGuid('C12A7328F81F11D2BA4B00A0C93EC93B'));
  t.false(isGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93'));
  t.false(isGuid('G12A7328-F81F-11D2-BA4B-00A0C93EC93B'));
});

// ---- helpers ----

function planFor(yaml: string, diskSize?: number): Plan {
  return planLayout(parseSpec({ text: yaml, format: 'yaml', sourceName: 'spec.yaml', baseDir: '/' }), new Map(), diskSize === undefined ? {} : { diskSize });
}

/** `count` small partitions, the fourth one "grow", with a mix of types and attributes. */
function manyPartitions(count: number, top: string): string {
  const lines = Array.from({ length: count }, (_, i) => {
    const attrs = i % 3 === 0 ? ', attributes: [required-partition, 48, read-only]' : i % 3 === 1 ? ', attributes: [legacy-bios-bootable, no-auto, growfs]' : '';
    return `  - { name: "part-${i}", type: ${i % 2 ? 'linux-generic' : 'root-x86-64'}, size: ${i === 3 ? 'grow' : '8KiB'}${attrs} }`;
  });
  return `${top}partitions:\n${lines.join('\n')}\n`;
}

/** Writes the GPT into a sparse temp file of the plan's size; returns its path. */
function writeImage(plan: Plan, dir: string, name = 'disk.img'): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, plan.diskSize);
    for (const region of encodeGpt(plan)) {
      if (region.offset + region.data.length > plan.diskSize) throw new Error(`region at ${region.offset} ends past the disk`);
      fs.writeSync(fd, region.data, 0, region.data.length, region.offset);
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-gpt-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** sfdisk's spelling of an attribute mask (bits 3-47 are not shown, so tests avoid them). */
function sfdiskAttrs(mask: bigint): string | undefined {
  const names = ['RequiredPartition', 'NoBlockIOProtocol', 'LegacyBIOSBootable'].filter((_, bit) => mask & (1n << BigInt(bit)));
  const guidBits = Array.from({ length: 16 }, (_, i) => 48 + i).filter((bit) => mask & (1n << BigInt(bit)));
  const parts = [...names, ...(guidBits.length > 0 ? [`GUID:${guidBits.join(',')}`] : [])];
  return parts.length > 0 ? parts.join(' ') : undefined;
}

interface SfdiskTable {
  label: string;
  id: string;
  firstlba: number;
  lastlba: number;
  sectorsize?: number;
  partitions: Array<{ start: number; size: number; type: string; uuid: string; name?: string; attrs?: string }>;
}

function checkSfdisk(t: ExecutionContext, table: SfdiskTable, plan: Plan): void {
  t.is(table.label, 'gpt');
  t.is(table.id, plan.diskGuid!);
  t.is(table.firstlba, plan.firstUsableLba);
  t.is(table.lastlba, plan.lastUsableLba);
  if (table.sectorsize !== undefined) t.is(table.sectorsize, plan.sectorSize);
  t.deepEqual(
    table.partitions.map((p) => ({ start: p.start, size: p.size, type: p.type, uuid: p.uuid, name: p.name, attrs: p.attrs })),
    plan.partitions.map((p) => ({
      start: p.firstLba,
      size: p.lastLba - p.firstLba + 1,
      type: p.type,
      uuid: p.guid,
      name: p.name,
      attrs: sfdiskAttrs(attributeMask(p.attributes)),
    })),
  );
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function sgdiskVerify(t: ExecutionContext, target: string): void {
  const out = run('sgdisk', ['-v', target]);
  t.regex(out, /No problems found/, out);
}

const sfdiskHasSectorSize = /--sector-size/.test(spawnSync('sfdisk', ['--help'], { encoding: 'utf8' }).stdout ?? '');

/** Attaches `file` as a loop device with the given logical sector size; undefined (with the reason) if impossible. */
function attachLoop(file: string, sectorSize: number): { device?: string; reason?: string } {
  if (process.getuid?.() !== 0) return { reason: 'not running as root' };
  const result = spawnSync('losetup', ['--sector-size', String(sectorSize), '-f', '--show', file], { encoding: 'utf8' });
  if (result.status !== 0) return { reason: `losetup failed: ${(result.stderr || result.error?.message || '').trim()}` };
  return { device: result.stdout.trim() };
}

/** Verifies an image with sgdisk and sfdisk, attaching a loop device for 4096-byte sectors. */
function verifyWithTools(t: ExecutionContext, plan: Plan, file: string): void {
  if (plan.sectorSize === 512) {
    sgdiskVerify(t, file);
    checkSfdisk(t, JSON.parse(run('sfdisk', ['--json', file])).partitiontable, plan);
    return;
  }
  // Both tools assume 512-byte sectors on a plain file.
  if (sfdiskHasSectorSize) {
    checkSfdisk(t, JSON.parse(run('sfdisk', ['--sector-size', String(plan.sectorSize), '--json', file])).partitiontable, plan);
  }
  const loop = attachLoop(file, plan.sectorSize);
  if (loop.device === undefined) {
    t.log(`skipped sgdisk on the ${plan.sectorSize}-byte-sector image: ${loop.reason}`);
    if (!sfdiskHasSectorSize) checkWithFdisk(t, plan, file);
    return;
  }
  try {
    sgdiskVerify(t, loop.device);
    checkSfdisk(t, JSON.parse(run('sfdisk', ['--json', loop.device])).partitiontable, plan);
  } finally {
    spawnSync('losetup', ['-d', loop.device]);
  }
}

/** Fallback without root and without sfdisk --sector-size: fdisk -b lists the table as text. */
function checkWithFdisk(t: ExecutionContext, plan: Plan, file: string): void {
  const out = run('fdisk', ['-b', String(plan.sectorSize), '-l', '-o', 'Start,End,Type-UUID,UUID', file]);
  t.regex(out, new RegExp(`Disk identifier: ${plan.diskGuid}`));
  const rows = out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length === 4 && /^\d+$/.test(cols[0]));
  t.deepEqual(
    rows.map(([start, end, type, uuid]) => ({ start: Number(start), end: Number(end), type, uuid })),
    plan.partitions.map((p) => ({ start: p.firstLba, end: p.lastLba, type: p.type, uuid: p.guid })),
  );
}

// ---- encoding details ----

const encodeProtectiveMbr = (plan: Plan): Buffer => encodeGpt(plan)[0].data;

test('protective MBR', (t) => {
  const plan = planFor('partitions:\n  - { name: a, type: esp, size: 1MiB }\n');
  const mbr = encodeProtectiveMbr(plan);
  t.is(mbr.length, 512);
  t.deepEqual([...mbr.subarray(446, 462)], [0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff, 1, 0, 0, 0, ...Buffer.from(new Uint32Array([plan.totalSectors - 1]).buffer)]);
  t.is(mbr.readUInt16LE(510), 0xaa55);
  t.true(mbr.subarray(0, 446).every((b) => b === 0));
  t.true(mbr.subarray(462, 510).every((b) => b === 0));

  const plan4k = planFor('sectorSize: 4096\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n');
  const mbr4k = encodeProtectiveMbr(plan4k);
  t.is(mbr4k.length, 4096);
  t.is(mbr4k.readUInt32LE(446 + 12), plan4k.totalSectors - 1);
  t.is(mbr4k.readUInt16LE(510), 0xaa55);
  t.true(mbr4k.subarray(512).every((b) => b === 0));
});

test('the protective MBR caps the sector count at 0xFFFFFFFF', (t) => {
  const plan = planFor('size: 3TiB\npartitions:\n  - { name: a, type: esp, size: grow }\n');
  t.true(plan.totalSectors - 1 > 0xffffffff);
  t.is(encodeProtectiveMbr(plan).readUInt32LE(446 + 12), 0xffffffff);
  const plan4k = planFor('size: 3TiB\nsectorSize: 4096\npartitions:\n  - { name: a, type: esp, size: grow }\n');
  t.is(encodeProtectiveMbr(plan4k).readUInt32LE(446 + 12), plan4k.totalSectors - 1);
});

test('headers and entries decode to the plan', (t) => {
  for (const sectorSize of [512, 4096]) {
    const plan = planFor(`sectorSize: ${sectorSize}\nseed: s\npartitions:\n  - { name: "ÉFI 😀", type: esp, size: 1MiB, attributes: [0, 63] }\n  - { name: root, type: root-x86-64, size: 2MiB }\n`);
    const regions = encodeGpt(plan);
    const last = plan.totalSectors - 1;
    const entrySectors = 16384 / sectorSize;
    t.deepEqual(regions.map((r) => [r.offset / sectorSize, r.data.length / sectorSize]), [
      [0, 1],
      [1, 1],
      [2, entrySectors],
      [last - entrySectors, entrySectors],
      [last, 1],
    ]);
    const [, primary, entries, backupEntries, backup] = regions.map((r) => r.data);
    t.deepEqual(entries, backupEntries);
    const entriesCrc = crc32(entries.subarray(0, 16384));
    for (const [header, myLba, altLba, entriesLba] of [
      [primary, 1, last, 2],
      [backup, last, 1, last - entrySectors],
    ] as const) {
      t.is(header.subarray(0, 8).toString('ascii'), 'EFI PART');
      t.is(header.readUInt32LE(8), 0x00010000);
      t.is(header.readUInt32LE(12), 92);
      const copy = Buffer.from(header.subarray(0, 92));
      copy.writeUInt32LE(0, 16);
      t.is(header.readUInt32LE(16), crc32(copy));
      t.is(header.readUInt32LE(20), 0);
      t.is(Number(header.readBigUInt64LE(24)), myLba);
      t.is(Number(header.readBigUInt64LE(32)), altLba);
      t.is(Number(header.readBigUInt64LE(40)), plan.firstUsableLba);
      t.is(Number(header.readBigUInt64LE(48)), plan.lastUsableLba);
      t.is(bytesToGuid(header, 56), plan.diskGuid!);
      t.is(Number(header.readBigUInt64LE(72)), entriesLba);
      t.is(header.readUInt32LE(80), 128);
      t.is(header.readUInt32LE(84), 128);
      t.is(header.readUInt32LE(88), entriesCrc);
      t.true(header.subarray(92).every((b) => b === 0));
    }
    plan.partitions.forEach((p, i) => {
      const e = entries.subarray(i * 128, (i + 1) * 128);
      t.is(bytesToGuid(e, 0), p.type);
      t.is(bytesToGuid(e, 16), p.guid!);
      t.is(Number(e.readBigUInt64LE(32)), p.firstLba);
      t.is(Number(e.readBigUInt64LE(40)), p.lastLba);
      t.is(e.readBigUInt64LE(48), attributeMask(p.attributes));
      t.is(e.subarray(56).toString('utf16le').replace(/\0+$/, ''), p.name);
    });
    t.true(entries.subarray(2 * 128).every((b) => b === 0));
  }
});

test('encodeGpt refuses inconsistent plans', (t) => {
  const plan = planFor('partitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: esp, size: 1MiB }\n');
  // In the encoder's terms (type GUIDs, attribute masks), to reach values a Plan cannot hold.
  const layout = gptLayout(plan);
  const broken = (change: (p: GptLayout) => void) => {
    const copy: GptLayout = { ...layout, partitions: layout.partitions.map((p) => ({ ...p })) };
    change(copy);
    return () => encodeLayout(copy);
  };
  t.throws(broken((p) => (p.partitions[1].firstLba = p.partitions[0].lastLba)), { instanceOf: ImgforgeError, message: /overlap/ });
  t.throws(broken((p) => (p.partitions[1].lastLba = p.lastUsableLba + 1)), { instanceOf: ImgforgeError, message: /outside/ });
  t.throws(broken((p) => (p.partitions[1].index = 1)), { instanceOf: ImgforgeError, message: /duplicate entry number/ });
  t.throws(broken((p) => (p.partitions[0].name = 'x'.repeat(37))), { instanceOf: ImgforgeError, message: /longer than 36/ });
  t.throws(broken((p) => (p.diskSize += 512)), { instanceOf: ImgforgeError, message: /does not match/ });
  t.throws(broken((p) => (p.lastUsableLba = p.totalSectors - 1)), { instanceOf: ImgforgeError, message: /overlap the partition tables/ });
  // Beyond what the TypeScript encoder checked: what a reader would lose, and values JavaScript can hold but a GPT cannot.
  t.throws(broken((p) => (p.partitions[1].typeGuid = '00000000-0000-0000-0000-000000000000')), { instanceOf: ImgforgeError, message: /all-zero type GUID/ });
  t.throws(broken((p) => (p.partitions[1].guid = p.partitions[0].guid)), { instanceOf: ImgforgeError, message: /same GUID/ });
  t.throws(broken((p) => (p.partitions[0].name = 'a\0b')), { instanceOf: ImgforgeError, message: /NUL/ });
  t.throws(broken((p) => (p.partitions[0].attributes = 1n << 64n)), { instanceOf: ImgforgeError, message: /64 unsigned bits/ });
  t.throws(broken((p) => (p.partitions[0].attributes = -1n)), { instanceOf: ImgforgeError, message: /64 unsigned bits/ });
  t.throws(broken((p) => (p.diskGuid = 'nope')), { instanceOf: ImgforgeError, message: /not a GUID: "nope"/ });
  t.throws(broken((p) => (p.partitions[0].firstLba = 1.5)), { instanceOf: ImgforgeError, message: /firstLba must be a non-negative safe integer/ });
  const error = t.throws(broken((p) => (p.sectorSize = 1024)), { instanceOf: ImgforgeError });
  t.is(error?.code, 'LAYOUT');
  t.is(error?.message, 'cannot encode the GPT: unsupported sector size 1024');
});

test('names keep their UTF-16 code units, lone surrogates included', (t) => {
  const plan = planFor('partitions:\n  - { name: a, type: esp, size: 1MiB }\n');
  plan.partitions[0].name = 'x\ud800y😀';
  const entry = encodeGpt(plan)[2].data.subarray(56, 56 + 10);
  t.deepEqual([...entry], [0x78, 0, 0x00, 0xd8, 0x79, 0, 0x3d, 0xd8, 0x00, 0xde]);
});

// ---- verified by sgdisk and sfdisk ----

const toolCases: Array<[string, string, number | undefined]> = [
  ['1 partition, 512-byte sectors', 'seed: one-512\npartitions:\n  - { name: esp, type: esp, size: 1MiB, attributes: [required-partition, no-auto] }\n', undefined],
  ['1 partition, 4096-byte sectors', 'seed: one-4k\nsectorSize: 4096\npartitions:\n  - { name: esp, type: esp, size: 1MiB, attributes: [legacy-bios-bootable, 60] }\n', undefined],
  ['3 partitions with grow, 512-byte sectors', 'seed: grow\nsize: 64MiB\npartitions:\n  - { name: esp, type: esp, size: 8MiB }\n  - { name: "röot 😀", type: root-x86-64, size: grow, attributes: [growfs] }\n  - { name: home, type: home, size: 4MiB }\n', undefined],
  ['3 partitions with grow, 4096-byte sectors', 'seed: grow\nsectorSize: 4096\nsize: 64MiB\npartitions:\n  - { name: esp, type: esp, size: 8MiB }\n  - { name: "röot 😀", type: root-arm64, size: grow }\n  - { name: home, type: home, size: 4MiB }\n', undefined],
  ['128 partitions, 512-byte sectors', manyPartitions(128, 'seed: many\nalignment: 4KiB\nsize: 4MiB\n'), undefined],
  ['128 partitions, 4096-byte sectors', manyPartitions(128, 'seed: many\nalignment: 4KiB\nsectorSize: 4096\nsize: 4MiB\n'), undefined],
  ['random GUIDs, unaligned disk size', 'alignment: 512\npartitions:\n  - { name: a, type: linux-generic, size: 1536 }\n  - { name: b, type: swap, size: grow }\n', 10 * 1024 * 1024 + 512],
];

for (const [title, yaml, diskSize] of toolCases) {
  test(`sgdisk and sfdisk accept the image: ${title}`, (t) => {
    const plan = planFor(yaml, diskSize);
    withTempDir((dir) => {
      const file = writeImage(plan, dir);
      verifyWithTools(t, plan, file);
      checkReadBack(t, plan, native().readPartitionTable(file));
      checkReadBack(t, plan, native().readPartitionTable(file, plan.sectorSize));
    });
  });
}

/** The native reader gives back exactly the plan, with no findings. */
function checkReadBack(t: ExecutionContext, plan: Plan, table: PartitionTable): void {
  t.deepEqual(table.findings, []);
  t.is(table.sectorSize, plan.sectorSize);
  t.is(table.diskSize, plan.diskSize);
  t.is(table.mbr.kind, 'protective');
  t.deepEqual(table.mbr.entries[0], { bootable: false, type: 0xee, firstLba: 1, sectors: Math.min(plan.totalSectors - 1, 0xffffffff) });
  t.like(table.gpt, {
    header: 'primary',
    headerLba: 1,
    diskGuid: plan.diskGuid,
    firstUsableLba: plan.firstUsableLba,
    lastUsableLba: plan.lastUsableLba,
    alternateLba: plan.totalSectors - 1,
    entriesLba: 2,
    entryCount: 128,
    entrySize: 128,
    primaryHeader: 'valid',
    backupHeader: 'valid',
  });
  t.deepEqual(
    table.partitions,
    plan.partitions.map((p) => ({
      index: p.index,
      typeGuid: p.type,
      mbrType: null,
      guid: p.guid,
      name: p.name,
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      offset: p.offset,
      size: p.size,
      attributes: attributeMask(p.attributes).toString(),
      bootable: false,
      logical: false,
    })),
  );
}

test('readPartitionTable reports damage and throws only for I/O errors', (t) => {
  const plan = planFor('seed: damage\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n');
  withTempDir((dir) => {
    const file = writeImage(plan, dir);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, plan.sectorSize + 60); // primary header, in the disk GUID
    fs.closeSync(fd);
    const table = native().readPartitionTable(file);
    t.deepEqual(table.findings.map((f) => f.code), ['GPT_HEADER_CRC', 'GPT_BACKUP_USED']);
    t.like(table.gpt, { header: 'backup', headerLba: plan.totalSectors - 1, primaryHeader: 'invalid', backupHeader: 'valid' });
    t.is(table.partitions.length, 1);
    t.throws(() => native().readPartitionTable(path.join(dir, 'absent.img')), { message: /absent\.img: No such file/ });
    t.throws(() => native().readPartitionTable(file, 1000), { message: /sector size 1000/ });
  });
});

test('seeded images are byte-identical', (t) => {
  const yaml = 'seed: reproducible\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: linux-generic, size: 2MiB }\n';
  withTempDir((dir) => {
    const first = fs.readFileSync(writeImage(planFor(yaml), dir, 'a.img'));
    const second = fs.readFileSync(writeImage(planFor(yaml), dir, 'b.img'));
    t.true(first.equals(second));
  });
});

test('a disk larger than 2 TiB (sparse) is verified by sfdisk', (t) => {
  const plan = planFor('seed: big\nsize: 3TiB\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: linux-generic, size: grow }\n');
  withTempDir((dir) => {
    let file: string;
    try {
      file = writeImage(plan, dir);
    } catch (error) {
      t.log(`skipped: cannot create a ${3 * TiB}-byte sparse file here (${(error as Error).message})`);
      t.pass();
      return;
    }
    verifyWithTools(t, plan, file);
    checkReadBack(t, plan, native().readPartitionTable(file));
  });
});
