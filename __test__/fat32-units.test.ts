import test from 'ava';
import { ImgforgeError } from '../ts/errors';
import { deriveVolumeId, formatVolumeId, sourceDateEpoch } from '../ts/plan/filesystem';

test('SOURCE_DATE_EPOCH: unset or empty means "use the sources\' times"', (t) => {
  t.is(sourceDateEpoch({}), undefined);
  t.is(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' }), undefined);
});

test('SOURCE_DATE_EPOCH: whole seconds since 1970', (t) => {
  t.is(sourceDateEpoch({ SOURCE_DATE_EPOCH: '0' }), 0);
  t.is(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }), 1_700_000_000);
  t.is(sourceDateEpoch({ SOURCE_DATE_EPOCH: ' 1700000000 ' }), 1_700_000_000);
});

test('SOURCE_DATE_EPOCH: anything else is a usage error that quotes the value', (t) => {
  for (const value of ['abc', '-1', '1.5', '1e9', '99999999999999999999']) {
    const error = t.throws(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: value }), { instanceOf: ImgforgeError });
    t.is(error?.code, 'USAGE');
    t.true(error?.message.includes(JSON.stringify(value)), error?.message);
  }
});

test('volume IDs derived from the seed are stable and differ by seed and partition', (t) => {
  const id = deriveVolumeId('product-v1', 'ESP');
  t.is(deriveVolumeId('product-v1', 'ESP'), id);
  t.true(Number.isInteger(id) && id >= 0 && id <= 0xffffffff);
  t.not(deriveVolumeId('product-v2', 'ESP'), id);
  t.not(deriveVolumeId('product-v1', 'ESP-B'), id);
});

test('volume IDs print as FAT tools show them: XXXX-XXXX, zero-padded, upper case', (t) => {
  t.is(formatVolumeId(0x1234abcd), '1234-ABCD');
  t.is(formatVolumeId(0xbeef), '0000-BEEF');
  t.is(formatVolumeId(0), '0000-0000');
  t.is(formatVolumeId(0xffffffff), 'FFFF-FFFF');
});
