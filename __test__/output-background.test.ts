/**
 * The image's fsync on a worker thread (finishInBackground), which the delivery overlaps with
 * hashing and converting the image: it ends the writing as finish does, commit still renames,
 * and a discard while it runs leaves nothing behind and closes no other file.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openOutput } from '../ts/build/output';

const folder = (t: { teardown: (f: () => void) => void }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-bg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('finishInBackground closes the image, can run again, and commit renames what was written', async (t) => {
  const target = path.join(folder(t), 'disk.img');
  const output = openOutput(target, { kind: 'file' }, 1 << 20);
  output.write(4096, Buffer.from('written before the fsync'));
  const writePath = output.writePath;
  await output.finishInBackground();
  await output.finishInBackground();
  // Finished: no more writes go to the file.
  t.throws(() => output.write(0, Buffer.from('late')));
  t.false(fs.existsSync(target), 'not in place before commit');
  output.commit();
  t.false(fs.existsSync(writePath));
  const bytes = fs.readFileSync(target);
  t.is(bytes.length, 1 << 20);
  t.is(bytes.subarray(4096, 4096 + 24).toString(), 'written before the fsync');
  t.is(bytes.subarray(0, 4).toString('hex'), '00000000');
});

test('a discard while the background fsync runs removes the file and closes no descriptor it does not own', async (t) => {
  const dir = folder(t);
  const output = openOutput(path.join(dir, 'disk.img'), { kind: 'file' }, 1 << 20);
  output.write(0, Buffer.alloc(65536, 1));
  const finishing = output.finishInBackground();
  output.discard();
  // The descriptor number freed by discard goes to the next open file; the finishing fsync
  // must leave that file open.
  const other = fs.openSync(path.join(dir, 'other'), 'w');
  await finishing;
  t.notThrows(() => fs.writeSync(other, 'still open'));
  fs.closeSync(other);
  t.deepEqual(fs.readdirSync(dir), ['other']);
});
