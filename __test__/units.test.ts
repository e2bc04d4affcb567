import test from 'ava';
import { ImgforgeError } from '../ts/errors';
import { alignDown, alignUp, checkSize, formatBytes, formatSize, GiB, isPowerOfTwo, KiB, MiB, parseSize, TiB } from '../ts/units';

function invalid(t: import('ava').ExecutionContext, fn: () => unknown, pattern: RegExp): void {
  const error = t.throws(fn, { instanceOf: ImgforgeError });
  t.is(error?.code, 'SPEC_INVALID');
  t.regex(error?.message ?? '', pattern);
}

test('parseSize accepts plain numbers and numeric strings', (t) => {
  t.is(parseSize(0, 'f'), 0);
  t.is(parseSize(512, 'f'), 512);
  t.is(parseSize('512', 'f'), 512);
  t.is(parseSize(' 4096 ', 'f'), 4096);
  t.is(parseSize(Number.MAX_SAFE_INTEGER, 'f'), Number.MAX_SAFE_INTEGER);
});

test('parseSize accepts binary units, with or without a space', (t) => {
  t.is(parseSize('512B', 'f'), 512);
  t.is(parseSize('4KiB', 'f'), 4 * KiB);
  t.is(parseSize('1MiB', 'f'), MiB);
  t.is(parseSize('2 GiB', 'f'), 2 * GiB);
  t.is(parseSize('1TiB', 'f'), TiB);
  t.is(parseSize('8191TiB', 'f'), 8191 * TiB);
});

test('parseSize accepts fractions only when they are whole bytes', (t) => {
  t.is(parseSize('1.5GiB', 'f'), 1.5 * GiB);
  t.is(parseSize('0.5KiB', 'f'), 512);
  t.is(parseSize('1.0MiB', 'f'), MiB);
  invalid(t, () => parseSize('1.3KiB', 'size'), /^size: "1\.3KiB" is not a whole number of bytes$/);
  invalid(t, () => parseSize('1.5', 'size'), /not a whole number of bytes/);
  invalid(t, () => parseSize(1.5, 'size'), /^size: a size must be a whole number of bytes, got 1\.5$/);
});

test('parseSize rejects negative, huge and malformed values and names the field', (t) => {
  invalid(t, () => parseSize(-1, 'partitions[0].size'), /^partitions\[0\]\.size: a size cannot be negative, got -1$/);
  invalid(t, () => parseSize('-1MiB', 'x'), /^x: a size cannot be negative/);
  invalid(t, () => parseSize(2 ** 53, 'x'), /too large/);
  invalid(t, () => parseSize('8192TiB', 'x'), /too large/);
  invalid(t, () => parseSize(Number.NaN, 'x'), /^x: expected a size/);
  invalid(t, () => parseSize(Infinity, 'x'), /^x: expected a size/);
  invalid(t, () => parseSize('12 potatoes', 'x'), /^x: expected a size like 512, "4KiB".*got "12 potatoes"$/);
  invalid(t, () => parseSize('', 'x'), /got ""/);
  invalid(t, () => parseSize('1e9', 'x'), /expected a size/);
  invalid(t, () => parseSize('0x100', 'x'), /expected a size/);
  invalid(t, () => parseSize(true as unknown as number, 'x'), /got true/);
});

test('parseSize rejects decimal units and wrong case with a hint', (t) => {
  invalid(t, () => parseSize('1GB', 'x'), /decimal or ambiguous units like "GB" are not accepted; use KiB, MiB, GiB or TiB/);
  invalid(t, () => parseSize('1M', 'x'), /"M" are not accepted/);
  invalid(t, () => parseSize('1mib', 'x'), /units are case-sensitive: did you mean "MiB"\?/);
});

test('checkSize tells syntax errors from range errors', (t) => {
  t.deepEqual(checkSize('1MiB'), { ok: true, bytes: MiB });
  const syntax = checkSize('potato');
  t.true(!syntax.ok && syntax.syntax);
  const range = checkSize(-5);
  t.true(!range.ok && !range.syntax);
});

test('formatSize', (t) => {
  t.is(formatSize(0), '0 B');
  t.is(formatSize(512), '512 B');
  t.is(formatSize(1023), '1023 B');
  t.is(formatSize(KiB), '1 KiB');
  t.is(formatSize(1.5 * MiB), '1.5 MiB');
  t.is(formatSize(GiB), '1 GiB');
  t.is(formatSize(2 * GiB + 256 * MiB), '2.25 GiB');
  t.is(formatSize(3 * TiB), '3 TiB');
  t.is(formatSize(GiB + 1), '1 GiB');
  t.is(formatSize(-2 * MiB), '-2 MiB');
});

test('formatBytes gives exact and human forms', (t) => {
  t.is(formatBytes(1), '1 byte');
  t.is(formatBytes(512), '512 bytes');
  t.is(formatBytes(MiB), '1048576 bytes (1 MiB)');
});

test('alignUp and alignDown', (t) => {
  t.is(alignUp(0, 4096), 0);
  t.is(alignUp(1, 4096), 4096);
  t.is(alignUp(4096, 4096), 4096);
  t.is(alignUp(4097, 4096), 8192);
  t.is(alignDown(0, 4096), 0);
  t.is(alignDown(4095, 4096), 0);
  t.is(alignDown(4096, 4096), 4096);
  t.is(alignDown(8191, 4096), 4096);
  t.is(alignUp(17408, MiB), MiB);
  t.is(alignUp(10, 3), 12);
  t.is(alignDown(10, 3), 9);
  t.is(alignUp(-5, 4), -4);
  t.is(alignDown(-5, 4), -8);
  t.is(alignUp(Number.MAX_SAFE_INTEGER - 1, 2), Number.MAX_SAFE_INTEGER - 1);
});

test('alignUp/alignDown guard against bad alignments and overflow', (t) => {
  for (const bad of [0, -4096, 1.5, Number.NaN]) {
    t.throws(() => alignUp(10, bad), { instanceOf: ImgforgeError, message: /alignment must be a positive integer/ });
    t.throws(() => alignDown(10, bad), { instanceOf: ImgforgeError, message: /alignment must be a positive integer/ });
  }
  t.throws(() => alignUp(Number.MAX_SAFE_INTEGER, 4096), { instanceOf: ImgforgeError, message: /exceeds/ });
  t.throws(() => alignUp(0.5, 4), { instanceOf: ImgforgeError });
});

test('isPowerOfTwo', (t) => {
  for (const yes of [1, 2, 512, 4096, MiB, 2 ** 40, 2 ** 52]) t.true(isPowerOfTwo(yes), String(yes));
  for (const no of [0, -2, 3, 1000, 4097, 1.5, 2 ** 40 + 1, Number.NaN]) t.false(isPowerOfTwo(no), String(no));
});
