/** The pure decisions of the delivery step: format from options and extension, stems, split names. */
import test from 'ava';
import { outputStem, resolveDelivery, splitFileName, splitPaths } from '../ts/deliver/options';
import type { BuildOptions, PlannedPartition } from '../ts/types';

const resolve = (output: string, options: BuildOptions = {}) => {
  const d = resolveDelivery(output, options);
  return { format: d.format, compress: d.compress };
};

test('the output extension gives the format or compression when no option does', (t) => {
  t.deepEqual(resolve('/o/disk.img'), { format: 'raw', compress: undefined });
  t.deepEqual(resolve('/o/disk.simg'), { format: 'android-sparse', compress: undefined });
  t.deepEqual(resolve('/o/disk.SIMG'), { format: 'android-sparse', compress: undefined });
  t.deepEqual(resolve('/o/disk.img.zst'), { format: 'raw', compress: 'zstd' });
  t.deepEqual(resolve('/o/disk.img.xz'), { format: 'raw', compress: 'xz' });
  t.deepEqual(resolve('/o/disk.gz'), { format: 'raw', compress: 'gzip' });
  // Options agree with the extension, or name what a neutral name does not say.
  t.deepEqual(resolve('/o/disk.img.zst', { format: 'raw', compress: 'zstd' }), { format: 'raw', compress: 'zstd' });
  t.deepEqual(resolve('/o/disk', { format: 'android-sparse' }), { format: 'android-sparse', compress: undefined });
  t.deepEqual(resolve('/o/disk.img', { compress: 'xz' }), { format: 'raw', compress: 'xz' });
  t.deepEqual(resolve('/o/disk.qcow2'), { format: 'qcow2', compress: undefined });
  t.deepEqual(resolve('/o/disk.vhd'), { format: 'vhd', compress: undefined });
  // A .vhd holds a fixed or a dynamic VHD.
  t.deepEqual(resolve('/o/disk.vhd', { format: 'vhd-dynamic' }), { format: 'vhd-dynamic', compress: undefined });
});

test('contradictions and impossible combinations are USAGE errors naming the option', (t) => {
  const fails = (output: string, options: BuildOptions, message: RegExp) => {
    const error = t.throws(() => resolveDelivery(output, options));
    t.is((error as { code?: string }).code, 'USAGE');
    t.regex(error!.message, message);
  };
  fails('/o/disk.simg', { format: 'raw' }, /format raw conflicts with the output name disk\.simg/);
  fails('/o/disk.img.zst', { compress: 'xz' }, /compress xz conflicts/);
  fails('/o/disk.simg', { compress: 'gzip' }, /compress gzip conflicts/);
  fails('/o/disk.img.gz', { format: 'android-sparse' }, /format android-sparse conflicts/);
  fails('/o/disk', { format: 'android-sparse', compress: 'zstd' }, /cannot be compressed/);
  fails('/o/disk.simg', { bmap: true }, /bmap describes a raw image/);
  fails('/o/disk.img', { format: 'vmdk' as never }, /format must be one of raw, android-sparse, qcow2, vhd, vhd-dynamic/);
  fails('/o/disk.qcow2', { format: 'vhd' }, /format vhd conflicts with the output name disk\.qcow2/);
  fails('/o/disk.qcow2', { bmap: true }, /bmap describes a raw image; it cannot go with format qcow2/);
  fails('/o/disk.img', { compress: 'lz4' as never }, /compress must be one of zstd, xz, gzip/);
  fails('/o/disk.img', { splitName: '%n' }, /pass split too/);
  fails('/o/disk.img', { split: true, splitName: '%x' }, /unknown field "%x"/);
  fails('/o/disk.img', { split: true, splitName: 'a/%n' }, /without "\/"/);
});

test('the stem drops a compression extension and then one more', (t) => {
  t.is(outputStem('/o/disk.img'), 'disk');
  t.is(outputStem('/o/disk.img.zst'), 'disk');
  t.is(outputStem('/o/disk.simg'), 'disk');
  t.is(outputStem('/o/disk'), 'disk');
  t.is(outputStem('/o/.hidden'), '.hidden');
  t.is(outputStem('/o/my.disk.v2.img'), 'my.disk.v2');
});

const partition = (index: number, name: string): PlannedPartition => ({
  index,
  name,
  type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  guid: `00000000-0000-0000-0000-00000000000${index}`,
  attributes: [],
  firstLba: 2048,
  lastLba: 4095,
  offset: 1 << 20,
  size: 1 << 20,
});

test('split names: fields, a percent sign, and the stem escaped', (t) => {
  const p = partition(2, 'root');
  t.is(splitFileName('%n_%u.%t.%i.raw', p), `root_${p.guid}.${p.type}.2.raw`);
  t.is(splitFileName('100%%-%n', p), '100%-root');
  const d = resolveDelivery('/o/50%.img', { split: true });
  t.deepEqual(splitPaths('/o/50%.img', d, [p]), ['/o/50%.root.raw']);
});

test('split names must be file names, apart from each other and from the output and its bmap', (t) => {
  const d = resolveDelivery('/o/disk.img', { split: true });
  t.throws(() => splitPaths('/o/disk.img', d, [partition(1, 'a'), partition(2, 'a')]), { message: /would also be partition 1's file/ });
  t.throws(() => splitPaths('/o/disk.img', d, [partition(1, '../x')]), { message: /is not a file name/ });
  t.throws(() => splitPaths('/o/disk.img', resolveDelivery('/o/disk.img', { split: true, splitName: 'disk.img' }), [partition(1, 'a')]), { message: /would also be the output/ });
  t.throws(() => splitPaths('/o/disk.img', resolveDelivery('/o/disk.img', { split: true, splitName: '%n' }), [partition(1, '')]), { message: /is not a file name/ });
});

test('split names: %u needs a GPT GUID, which partitions of an MBR disk do not have', (t) => {
  const mbr = { ...partition(1, 'boot'), guid: undefined };
  const byGuid = resolveDelivery('/o/disk.img', { split: true, splitName: '%u.raw' });
  t.throws(() => splitPaths('/o/disk.img', byGuid, [mbr]), { message: /%u is the partition's GPT GUID, and partition "boot" of an MBR disk has none/ });
  t.deepEqual(splitPaths('/o/disk.img', resolveDelivery('/o/disk.img', { split: true, splitName: '%%u-%n.raw' }), [mbr]), ['/o/%u-boot.raw']);
  t.deepEqual(splitPaths('/o/disk.img', byGuid, [partition(1, 'a')]), ['/o/00000000-0000-0000-0000-000000000001.raw']);
});
