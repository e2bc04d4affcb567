import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError, type ErrorCode } from '../ts/errors';
import { deriveGuid } from '../ts/plan/guid';
import { alignedSpan, alignedUsableEnd, entryArraySectors, firstPartitionOffset, firstUsableLba } from '../ts/plan/layout';
import { growSize, lastUsableLba, minimalDiskSize, placeSequentially, usableEnd } from '../ts/plan/layout';
import { plan, planLayout } from '../ts/plan/plan';
import { parseSpec } from '../ts/spec/load';
import { KiB, MiB } from '../ts/units';
import type { LoadedSpec, Plan } from '../ts/types';

const yaml = (text: string): LoadedSpec => parseSpec({ text, format: 'yaml', sourceName: 'spec.yaml', baseDir: '/specs' });
const noContents = new Map<number, number>();

function fails(t: ExecutionContext, fn: () => unknown, code: ErrorCode, message: RegExp | string): void {
  const error = t.throws(fn, { instanceOf: ImgforgeError });
  t.is(error?.code, code, error?.message);
  if (typeof message === 'string') t.is(error?.message, message);
  else t.regex(error?.message ?? '', message);
}

/** Invariants every plan must satisfy, whatever the spec. */
function checkInvariants(t: ExecutionContext, p: Plan): void {
  t.is(p.diskSize, p.totalSectors * p.sectorSize);
  t.is(p.firstUsableLba, firstUsableLba(p.sectorSize));
  t.is(p.lastUsableLba, lastUsableLba(p.totalSectors, p.sectorSize));
  let previousEnd = p.firstUsableLba;
  for (const part of p.partitions) {
    t.is(part.offset % p.alignment, 0, `${part.name} starts aligned`);
    t.is(part.offset, part.firstLba * p.sectorSize);
    t.is(part.size, (part.lastLba - part.firstLba + 1) * p.sectorSize);
    t.true(part.firstLba >= previousEnd, `${part.name} after the previous partition`);
    t.true(part.lastLba <= p.lastUsableLba, `${part.name} ends by the last usable LBA`);
    previousEnd = part.lastLba + 1;
  }
  const guids = new Set([p.diskGuid, ...p.partitions.map((x) => x.guid)]);
  t.is(guids.size, p.partitions.length + 1, 'all GUIDs distinct');
}

// ---- layout.ts ----

test('entry array and usable range for both sector sizes', (t) => {
  t.is(entryArraySectors(512), 32);
  t.is(entryArraySectors(4096), 4);
  t.is(firstUsableLba(512), 34);
  t.is(firstUsableLba(4096), 6);
  t.is(lastUsableLba(131072, 512), 131072 - 34);
  t.is(lastUsableLba(16384, 4096), 16384 - 6);
  t.is(usableEnd(131072, 512), (131072 - 33) * 512);
  t.is(alignedUsableEnd(131072, 512, MiB), 63 * MiB);
  t.is(alignedUsableEnd(131072, 512, 4096), 64 * MiB - 20480);
});

test('first partition offset', (t) => {
  t.is(firstPartitionOffset(512, MiB), MiB);
  t.is(firstPartitionOffset(4096, MiB), MiB);
  t.is(firstPartitionOffset(512, 4096), 20480); // LBA 34 = 17408 bytes, rounded up
  t.is(firstPartitionOffset(4096, 4096), 24576); // LBA 6
  t.is(firstPartitionOffset(512, 512), 17408); // LBA 34
});

test('minimal disk size: partitions, backup GPT, rounded up to 4096 bytes', (t) => {
  t.is(minimalDiskSize(2 * MiB, 512), 2 * MiB + 20480); // 33 sectors of backup = 16896 → 20480
  t.is(minimalDiskSize(2 * MiB, 4096), 2 * MiB + 20480); // 5 sectors of backup
  t.is(minimalDiskSize(2 * MiB - 3584, 512), 2 * MiB + 16384); // 2 MiB - 3584 + 16896 = 2 MiB + 13312 → 16384
  t.is(minimalDiskSize(0, 512), 36 * KiB); // never smaller than two GPTs
});

test('aligned span and sequential placement', (t) => {
  t.is(alignedSpan([], MiB), 0);
  t.is(alignedSpan([512], MiB), 512);
  t.is(alignedSpan([512, 512], MiB), MiB + 512);
  t.is(alignedSpan([MiB, 3 * MiB], MiB), 4 * MiB);
  t.deepEqual(placeSequentially([512, MiB, 4096], MiB, MiB), [
    { offset: MiB, size: 512 },
    { offset: 2 * MiB, size: MiB },
    { offset: 3 * MiB, size: 4096 },
  ]);
});

test('grow size: last, in the middle, unaligned fallback, not fitting', (t) => {
  // Last: the end is aligned down.
  t.is(growSize(MiB, [], 64 * MiB - 16896, MiB, 512), 62 * MiB);
  // In the middle: stops where the next partitions must start.
  // Usable end 64 MiB - 16896; the 4 MiB partition starts at 59 MiB, the 512-byte one at 58 MiB.
  t.is(growSize(MiB, [512, 4 * MiB], 64 * MiB - 16896, MiB, 512), 57 * MiB);
  // Last, when aligning down would leave less than the minimum: use the unaligned end.
  t.is(growSize(2 * MiB, [], 2 * MiB + 768 * KiB, MiB, 512 * KiB), 768 * KiB);
  // Not fitting: smaller than the minimum.
  t.true(growSize(2 * MiB, [MiB], 2 * MiB + 768 * KiB, MiB, 512) < 512);
});

// ---- planLayout ----

const ONE = (size: string, top = '') => yaml(`${top}partitions:\n  - { name: data, type: linux-generic, size: ${size} }\n`);

test('auto disk, 512-byte sectors: 1 MiB aligned start, smallest 4 KiB multiple', (t) => {
  const p = planLayout(ONE('1MiB'), noContents);
  checkInvariants(t, p);
  t.is(p.sectorSize, 512);
  t.is(p.diskSize, 2 * MiB + 20480);
  t.is(p.totalSectors, 4136);
  t.is(p.lastUsableLba, 4102);
  t.like(p.partitions[0], { index: 1, firstLba: 2048, lastLba: 4095, offset: MiB, size: MiB });
});

test('auto disk, 4096-byte sectors: the partition ends exactly at the last usable LBA', (t) => {
  const p = planLayout(ONE('1MiB', 'sectorSize: 4096\n'), noContents);
  checkInvariants(t, p);
  t.is(p.diskSize, 2 * MiB + 20480);
  t.is(p.totalSectors, 517);
  t.is(p.firstUsableLba, 6);
  t.is(p.lastUsableLba, 511);
  t.like(p.partitions[0], { firstLba: 256, lastLba: 511 });
});

test('small alignments: partitions start right after the entry array', (t) => {
  const p512 = planLayout(ONE('4KiB', 'alignment: 512\n'), noContents);
  t.is(p512.partitions[0].firstLba, 34);
  const p4k = planLayout(ONE('4KiB', 'sectorSize: 4096\nalignment: 4KiB\n'), noContents);
  t.is(p4k.partitions[0].firstLba, 6);
  t.is(p4k.partitions[0].lastLba, 6);
  checkInvariants(t, p512);
  checkInvariants(t, p4k);
});

test('explicit disk size: exact fit at the last usable LBA, one sector more does not fit', (t) => {
  // 1 MiB partition at 1 MiB ends at 2 MiB; the backup GPT needs 33 sectors after it.
  const exact = 2 * MiB + 33 * 512;
  const p = planLayout(ONE('1MiB', `size: ${exact}\n`), noContents);
  checkInvariants(t, p);
  t.is(p.partitions[0].lastLba, p.lastUsableLba);
  fails(
    t,
    () => planLayout(ONE('1MiB', `size: ${exact - 512}\n`), noContents),
    'LAYOUT',
    `size: the partitions do not fit on a disk of 2113536 bytes (2.02 MiB): partitions[0] ("data") would end at byte 2097152, past the end of the usable space at byte 2096640; 512 bytes missing. The smallest disk that holds them is ${exact} bytes (2.02 MiB) (with sectorSize 512)`,
  );
  fails(t, () => planLayout(ONE(`${MiB + 512}`, `size: ${exact}\n`), noContents), 'LAYOUT', /; 512 bytes missing\. The smallest disk that holds them is 2114560 bytes/);
});

test('one byte more of contents than fits: the missing amount is reported', (t) => {
  // Alignment 512, so an "auto" partition grows by one sector per started sector of contents.
  const start = 34 * 512;
  const exact = start + MiB + 33 * 512;
  const spec = yaml(`size: ${exact}\nalignment: 512\npartitions:\n  - { name: a, type: esp, size: auto, contents: a.img }\n`);
  const p = planLayout(spec, new Map([[0, MiB]]));
  t.is(p.partitions[0].lastLba, p.lastUsableLba);
  fails(t, () => planLayout(spec, new Map([[0, MiB + 1]])), 'LAYOUT', new RegExp(`; 512 bytes missing\\. The smallest disk that holds them is ${exact + 512} bytes`));
});

test('4096-byte sectors: exact fit and one sector short', (t) => {
  const exact = 2 * MiB + 5 * 4096;
  const p = planLayout(ONE('1MiB', `sectorSize: 4096\nsize: ${exact}\n`), noContents);
  t.is(p.partitions[0].lastLba, p.lastUsableLba);
  fails(t, () => planLayout(ONE('1MiB', `sectorSize: 4096\nsize: ${exact - 4096}\n`), noContents), 'LAYOUT', /; 4096 bytes \(4 KiB\) missing\. The smallest disk that holds them is 2117632 bytes/);
});

test('a disk too small for the GPT itself', (t) => {
  fails(t, () => planLayout(ONE('512', 'size: 4KiB\nalignment: 512\n'), noContents), 'LAYOUT', /smallest disk that holds them is 34816 bytes/);
});

test('grow in the middle, 512-byte sectors', (t) => {
  const spec = yaml(
    'size: 64MiB\npartitions:\n' +
      '  - { name: esp, type: esp, size: 8MiB }\n' +
      '  - { name: root, type: root-x86-64, size: grow }\n' +
      '  - { name: small, type: linux-generic, size: 512 }\n' +
      '  - { name: home, type: home, size: 4MiB }\n',
  );
  const p = planLayout(spec, noContents);
  checkInvariants(t, p);
  const [esp, root, small, home] = p.partitions;
  t.like(esp, { offset: MiB, size: 8 * MiB });
  t.is(root.offset, 9 * MiB);
  // The usable space ends at 64 MiB - 33 sectors; home (4 MiB) must start at 59 MiB at the latest,
  // small (512 B, padded to 1 MiB) at 58 MiB: grow ends there.
  t.is(root.offset + root.size, 58 * MiB);
  t.like(small, { offset: 58 * MiB, size: 512 });
  t.like(home, { offset: 59 * MiB, size: 4 * MiB });
});

test('grow in the middle, 4096-byte sectors', (t) => {
  const spec = yaml(
    'sectorSize: 4096\nsize: 64MiB\npartitions:\n' +
      '  - { name: a, type: esp, size: 8MiB }\n' +
      '  - { name: b, type: root-arm64, size: grow }\n' +
      '  - { name: c, type: home, size: 4MiB }\n',
  );
  const p = planLayout(spec, noContents);
  checkInvariants(t, p);
  t.like(p.partitions[1], { firstLba: 2304, offset: 9 * MiB, size: 50 * MiB });
  t.like(p.partitions[2], { firstLba: 59 * 256, lastLba: 63 * 256 - 1 });
});

test('grow last: its end is aligned down, unless that leaves too little', (t) => {
  const p = planLayout(yaml('size: 64MiB\npartitions:\n  - { name: a, type: esp, size: grow }\n'), noContents);
  checkInvariants(t, p);
  t.like(p.partitions[0], { offset: MiB, size: 62 * MiB });

  const disk = 2 * MiB + 768 * KiB + 33 * 512;
  const spec = yaml(`size: ${disk}\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: esp, size: grow, contents: b.img }\n`);
  const q = planLayout(spec, new Map([[1, 512 * KiB]]));
  checkInvariants(t, q);
  t.like(q.partitions[1], { offset: 2 * MiB, size: 768 * KiB, lastLba: q.lastUsableLba });
});

test('grow needs an explicit disk size and room for its contents', (t) => {
  const spec = yaml('partitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: esp, size: grow }\n');
  fails(
    t,
    () => planLayout(spec, noContents),
    'LAYOUT',
    'partitions[1].size: "grow" needs an explicit disk size (set size, e.g. size: 8GiB, or write to a block device); with size "auto" the disk is only as large as the partitions',
  );
  const p = planLayout(spec, noContents, { diskSize: 16 * MiB });
  t.is(p.partitions[1].size, 13 * MiB); // 2 MiB up to 16 MiB - 33 sectors, aligned down to 15 MiB
  const withContents = yaml('size: 4MiB\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: esp, size: grow, contents: b.img }\n');
  fails(
    t,
    () => planLayout(withContents, new Map([[1, 3 * MiB]])),
    'LAYOUT',
    /^size: the partitions do not fit on a disk of 4194304 bytes \(4 MiB\): partitions\[1\] \("b"\) would end at byte 5242880, .*; 1065472 bytes \(1.02 MiB\) missing \(counting partitions\[1\]\.size "grow" at its minimum of 3145728 bytes \(3 MiB\)\)\. The smallest disk that holds them is 5259776 bytes/,
  );
});

test('auto partition sizes: contents rounded up to the alignment, empty contents get one unit', (t) => {
  const spec = yaml(
    'partitions:\n' +
      '  - { name: a, type: esp, size: auto, contents: a }\n' +
      '  - { name: b, type: esp, size: auto, contents: b }\n' +
      '  - { name: c, type: esp, size: auto, contents: c }\n' +
      '  - { name: d, type: esp, size: auto, contents: d }\n',
  );
  const p = planLayout(spec, new Map([[0, 0], [1, 1], [2, MiB], [3, MiB + 1]]));
  checkInvariants(t, p);
  t.deepEqual(p.partitions.map((x) => x.size), [MiB, MiB, MiB, 2 * MiB]);
  t.deepEqual(p.partitions.map((x) => x.contents), [
    { path: '/specs/a', size: 0 },
    { path: '/specs/b', size: 1 },
    { path: '/specs/c', size: MiB },
    { path: '/specs/d', size: MiB + 1 },
  ]);
  t.is(p.diskSize, 6 * MiB + 20480);
});

test('contents larger than an explicit size', (t) => {
  const spec = yaml('partitions:\n  - { name: a, type: esp, size: 1MiB, contents: a.img }\n');
  t.is(planLayout(spec, new Map([[0, MiB]])).partitions[0].contents?.size, MiB);
  fails(
    t,
    () => planLayout(spec, new Map([[0, MiB + 1]])),
    'CONTENTS',
    'partitions[0].contents: /specs/a.img is 1048577 bytes (1 MiB), larger than partitions[0].size (1048576 bytes (1 MiB)); make the partition at least 2097152 bytes (2 MiB) or use size "auto"',
  );
  fails(t, () => planLayout(spec, noContents), 'CONTENTS', /^partitions\[0\]\.contents: \/specs\/a\.img: size unknown/);
});

test('a disk size override (block device) replaces the spec size', (t) => {
  const p = planLayout(ONE('1MiB', 'size: 8MiB\n'), noContents, { diskSize: 32 * MiB });
  t.is(p.diskSize, 32 * MiB);
  fails(t, () => planLayout(ONE('1MiB'), noContents, { diskSize: 32 * MiB + 100 }), 'LAYOUT', 'disk size 33554532 is not a positive multiple of sectorSize (512)');
  fails(t, () => planLayout(ONE('1MiB'), noContents, { diskSize: MiB }), 'LAYOUT', /^disk size: the partitions do not fit/);
});

test('128 partitions', (t) => {
  const parts = Array.from({ length: 128 }, (_, i) => ({ name: `p${i}`, type: 'linux-generic', size: '4KiB' }));
  const spec = parseSpec({ text: JSON.stringify({ alignment: '4KiB', seed: 's', partitions: parts }), format: 'json', sourceName: 'spec.json', baseDir: '/' });
  const p = planLayout(spec, noContents);
  checkInvariants(t, p);
  t.is(p.partitions.length, 128);
  t.is(p.partitions[127].index, 128);
  t.is(p.partitions[127].offset, 20480 + 127 * 4096);
});

test('seeded GUIDs are reproducible and derived from the seed', (t) => {
  const text = 'seed: my-product-v1\npartitions:\n  - { name: esp, type: esp, size: 1MiB }\n  - { name: root, type: root-x86-64, size: 1MiB }\n';
  const a = planLayout(yaml(text), noContents);
  const b = planLayout(yaml(text), noContents);
  t.deepEqual(a, b);
  t.is(a.diskGuid, deriveGuid('my-product-v1', 'imgforge:disk'));
  t.is(a.partitions[0].guid, deriveGuid('my-product-v1', 'imgforge:partition:esp'));
  t.is(a.partitions[1].guid, deriveGuid('my-product-v1', 'imgforge:partition:root'));
  const other = planLayout(yaml(text.replace('v1', 'v2')), noContents);
  t.not(other.diskGuid, a.diskGuid);
  t.not(other.partitions[0].guid, a.partitions[0].guid);
  checkInvariants(t, a);
});

test('explicit GUIDs override derived and random ones', (t) => {
  const disk = '11111111-2222-4333-8444-555555555555';
  const part = 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE';
  const seeded = planLayout(yaml(`seed: s\ndiskGuid: ${disk}\npartitions:\n  - { name: a, type: esp, size: 1MiB, guid: ${part.toLowerCase()} }\n  - { name: b, type: esp, size: 1MiB }\n`), noContents);
  t.is(seeded.diskGuid, disk);
  t.is(seeded.partitions[0].guid, part);
  t.is(seeded.partitions[1].guid, deriveGuid('s', 'imgforge:partition:b'));
  const random = planLayout(yaml(`diskGuid: ${disk}\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n`), noContents);
  t.is(random.diskGuid, disk);
  t.regex(random.partitions[0].guid!, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
});

test('an explicit GUID equal to a derived one is refused', (t) => {
  const derived = deriveGuid('s', 'imgforge:partition:a');
  fails(
    t,
    () => planLayout(yaml(`seed: s\npartitions:\n  - { name: a, type: esp, size: 1MiB }\n  - { name: b, type: esp, size: 1MiB, guid: ${derived} }\n`), noContents),
    'SPEC_INVALID',
    `partitions[1].guid: ${derived} is also the GUID of partitions[0].guid; every GUID on the disk must be unique`,
  );
});

test('without a seed, GUIDs are random', (t) => {
  const a = planLayout(ONE('1MiB'), noContents);
  const b = planLayout(ONE('1MiB'), noContents);
  t.not(a.diskGuid, b.diskGuid);
  t.not(a.partitions[0].guid, b.partitions[0].guid);
});

test('types and attributes pass through', (t) => {
  const p = planLayout(yaml('partitions:\n  - { name: a, type: root-x86-64-verity, size: 1MiB, attributes: [read-only, 0] }\n  - { name: b, type: 12345678-9abc-4def-8123-456789abcdef, size: 1MiB }\n'), noContents);
  t.like(p.partitions[0], { type: '2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5', typeName: 'root-x86-64-verity' });
  t.deepEqual(p.partitions[0].attributes, ['required-partition', 'read-only']);
  t.like(p.partitions[1], { type: '12345678-9ABC-4DEF-8123-456789ABCDEF', attributes: [] });
  // An unknown type has no name: the key is left out, so the object and its JSON have the same keys.
  t.false('typeName' in p.partitions[1]);
  t.false('contents' in p.partitions[1] || 'filesystem' in p.partitions[1]);
});

// ---- plan(): contents files ----

test('plan() stats the contents files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-plan-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.img'), Buffer.alloc(3000));
    fs.symlinkSync('a.img', path.join(dir, 'link.img'));
    fs.mkdirSync(path.join(dir, 'folder'));
    const spec = parseSpec({
      text:
        'partitions:\n  - { name: a, type: esp, size: auto, contents: a.img }\n  - { name: b, type: esp, size: 1MiB, contents: link.img }\n',
      format: 'yaml',
      sourceName: 'spec.yaml',
      baseDir: dir,
    });
    const p = await plan(spec);
    t.deepEqual(p.partitions[0].contents, { path: path.join(dir, 'a.img'), size: 3000 });
    t.deepEqual(p.partitions[1].contents, { path: path.join(dir, 'link.img'), size: 3000 });
    t.is(p.partitions[0].size, MiB);

    const broken = parseSpec({
      text:
        'partitions:\n' +
          '  - { name: a, type: esp, size: auto, contents: missing.img }\n' +
          '  - { name: b, type: esp, size: 1MiB, contents: folder }\n' +
          '  - { name: c, type: esp, size: 1MiB, contents: a.img/inside }\n' +
          '  - { name: d, type: esp, size: 1MiB, contents: /dev/null }\n',
      format: 'yaml',
      sourceName: 'spec.yaml',
      baseDir: dir,
    });
    const error = await t.throwsAsync(plan(broken), { instanceOf: ImgforgeError });
    t.is(error?.code, 'CONTENTS');
    t.deepEqual(error?.message.split('\n'), [
      `partitions[0].contents: ${path.join(dir, 'missing.img')}: not found`,
      `partitions[1].contents: ${path.join(dir, 'folder')}: a directory; contents must be a regular file`,
      `partitions[2].contents: ${path.join(dir, 'a.img/inside')}: not found (a parent is not a directory)`,
      'partitions[3].contents: /dev/null: a character device; contents must be a regular file',
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('plan() reports unreadable contents', async (t) => {
  if (process.getuid?.() === 0) {
    t.log('skipped: root can read files regardless of their mode');
    t.pass();
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-plan-'));
  try {
    fs.writeFileSync(path.join(dir, 'secret.img'), 'x');
    fs.chmodSync(path.join(dir, 'secret.img'), 0o000);
    const spec = parseSpec({ text: 'partitions:\n  - { name: a, type: esp, size: auto, contents: secret.img }\n', format: 'yaml', sourceName: 'spec.yaml', baseDir: dir });
    await t.throwsAsync(plan(spec), { instanceOf: ImgforgeError, message: `partitions[0].contents: ${path.join(dir, 'secret.img')}: permission denied` });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
