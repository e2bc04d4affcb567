/**
 * The MBR side of planning (ts/plan/mbr.ts, ts/plan/plan.ts) and of the spec (ts/spec/table.ts):
 * pure functions, edge cases, no image written.
 */
import test from 'ava';
import { ImgforgeError } from '../ts/errors';
import { assignMbrRecords, chooseDiskId, defaultMbrType, formatDiskId, mbrLimitProblem, MBR_MAX_SECTORS } from '../ts/plan/mbr';
import { planLayout } from '../ts/plan/plan';
import { parseSpec } from '../ts/spec/load';
import { parseDiskId, parseMbrType } from '../ts/spec/table';
import type { LoadedSpec } from '../ts/types';

const MiB = 1024 * 1024;

test('up to four partitions are all primary', (t) => {
  for (let count = 1; count <= 4; count++) {
    const { records, extendedSlot } = assignMbrRecords(Array(count).fill(false));
    t.deepEqual(records.map((r) => r.index), Array.from({ length: count }, (_, i) => i + 1));
    t.true(records.every((r) => !r.logical));
    t.is(extendedSlot, undefined);
  }
  // primary: true changes nothing when everything fits in LBA 0.
  t.deepEqual(assignMbrRecords([true, true, true, true]).records.map((r) => r.index), [1, 2, 3, 4]);
});

test('with more than four, the first three are primary and the rest logical, as fdisk does', (t) => {
  const { records, extendedSlot } = assignMbrRecords(Array(6).fill(false));
  t.deepEqual(records, [
    { index: 1, logical: false },
    { index: 2, logical: false },
    { index: 3, logical: false },
    { index: 5, logical: true },
    { index: 6, logical: true },
    { index: 7, logical: true },
  ]);
  t.is(extendedSlot, 4);
});

test('forced primaries stay out of the logical run, which stays one range', (t) => {
  // the last one forced: two primaries before the extended partition, one after
  const last = assignMbrRecords([false, false, false, false, false, true]);
  t.deepEqual(last.records.map((r) => [r.index, r.logical]), [[1, false], [2, false], [5, true], [6, true], [7, true], [4, false]]);
  t.is(last.extendedSlot, 3);
  // the first forced: changes nothing
  t.deepEqual(assignMbrRecords([true, false, false, false, false]).records.map((r) => r.logical), [false, false, false, true, true]);
  // a forced one in the middle: the run goes after it
  const middle = assignMbrRecords([false, false, true, false, false, false]);
  t.deepEqual(middle.records.map((r) => [r.index, r.logical]), [[1, false], [2, false], [3, false], [5, true], [6, true], [7, true]]);
});

test('impossible primary requests name the primary field', (t) => {
  const four = t.throws(() => assignMbrRecords([true, true, true, true, false]), { instanceOf: ImgforgeError });
  t.is(four.code, 'SPEC_INVALID');
  t.regex(four.message, /^partitions\[3\]\.primary: /);
  // two forced ones split the others into runs of one: no run leaves only three primaries
  const split = t.throws(() => assignMbrRecords([false, true, false, true, false]), { instanceOf: ImgforgeError });
  t.regex(split.message, /^partitions\[1\]\.primary: .*one range on the disk/);
});

test('default MBR types follow the filesystem, then the type; mbrType wins', (t) => {
  const fat32 = { type: 'fat32' as const, label: undefined, volumeId: undefined, clusterSize: undefined, minFree: 0, files: [] };
  t.is(defaultMbrType({ filesystem: fat32 }, 'esp'), 0x0c);
  t.is(defaultMbrType({ filesystem: undefined }, 'esp'), 0xef);
  t.is(defaultMbrType({ filesystem: undefined }, 'swap'), 0x82);
  t.is(defaultMbrType({ filesystem: undefined }, 'xbootldr'), 0xea);
  t.is(defaultMbrType({ filesystem: undefined }, 'linux-generic'), 0x83);
  t.is(defaultMbrType({ filesystem: undefined }, 'root-arm64'), 0x83);
  t.is(defaultMbrType({ filesystem: undefined }, undefined), undefined, 'an unknown GUID needs mbrType');
  t.is(defaultMbrType({ filesystem: fat32, mbrType: 0x0b }, 'esp'), 0x0b);
  const ext4 = { type: 'ext4' as const, label: undefined, uuid: undefined, minFree: 0, ownership: 'root' as const, files: [] };
  const squashfs = { type: 'squashfs' as const, ownership: 'root' as const, compression: 'zstd' as const, files: [] };
  t.is(defaultMbrType({ filesystem: ext4 }, 'esp'), 0x83, 'ext4 is Linux whatever the type');
  t.is(defaultMbrType({ filesystem: squashfs }, undefined), 0x83);
});

test('the 32-bit limit, in sectors of either size', (t) => {
  t.is(mbrLimitProblem(2048, MBR_MAX_SECTORS - 1, 512), undefined);
  t.regex(mbrLimitProblem(2048, MBR_MAX_SECTORS, 512)!, /^ends at LBA 4294967296, .*2 TiB with 512-byte sectors/);
  t.regex(mbrLimitProblem(MBR_MAX_SECTORS, MBR_MAX_SECTORS + 5, 4096)!, /^starts at LBA .*16 TiB with 4096-byte sectors/);
});

test('disk ids: explicit, derived from the seed (pinned), random', (t) => {
  t.is(chooseDiskId(0x12345678, 'seed'), 0x12345678);
  t.is(formatDiskId(chooseDiskId(undefined, 'my-product-v1')), formatDiskId(chooseDiskId(undefined, 'my-product-v1')));
  t.not(chooseDiskId(undefined, 'a'), chooseDiskId(undefined, 'b'));
  // Pinned: changing the derivation would change every seeded MBR image.
  t.is(formatDiskId(chooseDiskId(undefined, 'my-product-v1')), '0xe476aaa1');
  t.is(formatDiskId(0xab), '0x000000ab');
  const random = chooseDiskId(undefined, undefined);
  t.true(Number.isInteger(random) && random >= 0 && random <= 0xffffffff);
});

test('spec: diskId and mbrType take numbers and hex strings; reserved types are refused', (t) => {
  t.deepEqual(parseDiskId('0x12345678'), { ok: true, value: 0x12345678 });
  t.deepEqual(parseDiskId(0xffffffff), { ok: true, value: 0xffffffff });
  t.false(parseDiskId(2 ** 32).ok);
  t.false(parseDiskId('12345678').ok);
  t.deepEqual(parseMbrType('0x0c'), { ok: true, value: 0x0c });
  t.deepEqual(parseMbrType(131), { ok: true, value: 0x83 });
  for (const reserved of [0, 0x05, 0x0f, 0x85, 0xee]) t.false(parseMbrType(reserved).ok, String(reserved));
  t.regex((parseMbrType('0xee') as { problem: string }).problem, /GPT protective/);
  t.false(parseMbrType(256).ok);
});

function specProblems(text: string): string {
  const error = (() => {
    try {
      parseSpec({ text, format: 'yaml', sourceName: 'spec.yaml', baseDir: '/base' });
    } catch (e) {
      return e as ImgforgeError;
    }
    throw new Error('the spec was accepted');
  })();
  return error.message;
}

test('spec: fields that do not belong to the table kind are errors naming them', (t) => {
  const part = (extra: string) => `  - { name: p, type: linux-generic, size: 1MiB${extra} }\n`;
  t.regex(specProblems(`diskId: 0x1\npartitions:\n${part('')}`), /diskId: only for table: mbr or hybrid/);
  t.regex(specProblems(`partitions:\n${part(', bootable: true')}`), /partitions\[0\]\.bootable: only for table: mbr or hybrid/);
  t.regex(specProblems(`table: mbr\npartitions:\n${part(', attributes: [read-only]')}`), /partitions\[0\]\.attributes: a GPT-only field/);
  t.regex(specProblems(`table: mbr\ndiskGuid: 6A1C3F0E-8D2B-4C5A-9E7F-0123456789AB\npartitions:\n${part('')}`), /diskGuid: a GPT-only field/);
  t.regex(specProblems(`table: mbr\npartitions:\n${part(', hybrid: true')}`), /partitions\[0\]\.hybrid: only for table: hybrid/);
  t.regex(specProblems(`table: hybrid\npartitions:\n${part(', primary: true')}`), /partitions\[0\]\.primary: only for table: mbr/);
  t.regex(specProblems(`table: hybrid\npartitions:\n${part(', mbrType: 0x83')}`), /partitions\[0\]\.mbrType: only on partitions the hybrid MBR mirrors/);
  t.regex(specProblems(`table: hybrid\npartitions:\n${part('')}`), /table: hybrid needs 1 to 3 partitions with hybrid: true/);
  t.regex(specProblems(`table: dos\npartitions:\n${part('')}`), /table: expected one of gpt, mbr, hybrid, got "dos"/);
});

function mbrSpec(partitions: Array<Partial<LoadedSpec['partitions'][number]>>, extra: Partial<LoadedSpec> = {}): LoadedSpec {
  return {
    specPath: undefined,
    baseDir: '/',
    output: undefined,
    size: 64 * MiB,
    sectorSize: 512,
    alignment: MiB,
    seed: 'plan',
    diskGuid: undefined,
    table: 'mbr',
    ...extra,
    partitions: partitions.map((p, i) => ({
      name: `p${i}`,
      type: { guid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', name: 'linux-generic' },
      size: MiB,
      guid: undefined,
      attributes: 0n,
      contents: undefined,
      filesystem: undefined,
      ...p,
    })),
  };
}

test('plan: an MBR disk uses LBA 1 to the end; logical partitions each follow their EBR', (t) => {
  const plan = planLayout(mbrSpec([{}, {}, {}, {}, { size: 'grow' }]), new Map());
  t.is(plan.table, 'mbr');
  t.is(plan.diskGuid, undefined);
  t.deepEqual([plan.firstUsableLba, plan.lastUsableLba], [1, plan.totalSectors - 1]);
  t.deepEqual(
    plan.partitions.map((p) => [p.index, p.logical, p.ebrLba, p.firstLba, p.lastLba]),
    [
      [1, false, undefined, 2048, 4095],
      [2, false, undefined, 4096, 6143],
      [3, false, undefined, 6144, 8191],
      [5, true, 8192, 10240, 12287],
      [6, true, 12288, 14336, plan.totalSectors - 1],
    ],
  );
  t.true(plan.partitions.every((p) => p.guid === undefined && p.mbrType === 0x83));
});

test('plan: an "auto" MBR disk has no room for a backup GPT', (t) => {
  const plan = planLayout(mbrSpec([{}], { size: 'auto' }), new Map());
  t.is(plan.diskSize, 2 * MiB);
  const gpt = planLayout(mbrSpec([{}], { size: 'auto', table: 'gpt' }), new Map());
  t.true(gpt.diskSize > 2 * MiB);
});

test('plan: GPT and hybrid plans keep their GUIDs; hybrid mirrors only marked partitions', (t) => {
  const plan = planLayout(mbrSpec([{ hybrid: true, bootable: true }, {}], { table: 'hybrid' }), new Map());
  t.deepEqual(
    plan.partitions.map((p) => [p.index, p.mbrType, p.bootable, typeof p.guid]),
    [
      [1, 0x83, true, 'string'],
      [2, undefined, undefined, 'string'],
    ],
  );
  t.regex(plan.diskId!, /^0x[0-9a-f]{8}$/);
});

test('plan: an unknown type GUID in an MBR needs mbrType', (t) => {
  const error = t.throws(() => planLayout(mbrSpec([{ type: { guid: '12345678-9ABC-4DEF-8123-456789ABCDEF', name: undefined } }]), new Map()), {
    instanceOf: ImgforgeError,
  });
  t.regex(error.message, /^partitions\[0\]\.mbrType: required under table: mbr/);
});

test('plan: 4096-byte sectors put the 32-bit limit at 16 TiB', (t) => {
  const TiB = 2 ** 40;
  const fits = planLayout(mbrSpec([{ size: 'grow' }], { sectorSize: 4096, size: 15 * TiB }), new Map());
  t.is(fits.partitions[0].lastLba, fits.totalSectors - 1);
  const error = t.throws(() => planLayout(mbrSpec([{ size: 'grow' }], { sectorSize: 4096, size: 17 * TiB }), new Map()));
  t.regex(error!.message, /partitions\[0\]\.size: partition "p0" ends at LBA \d+, past what an MBR record addresses: 2\^32 sectors \(16 TiB with 4096-byte sectors\)/);
});
