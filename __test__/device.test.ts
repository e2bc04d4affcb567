import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import { imgforge } from './helpers/cli';
import { sameBytes, sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;
const skipReason = loopUnavailableReason();

test.serial('writes a block device in place only with --force, zeroing source holes over old data', (t) => {
  if (skipReason) {
    console.log(`block-device test skipped: ${skipReason}`);
    return t.pass(`skipped: ${skipReason}`);
  }
  const dir = tempDir();
  const backing = path.join(dir, 'device.img');
  // The device starts full of 0xFF so that unwritten holes would show.
  fs.writeFileSync(backing, Buffer.alloc(32 * MiB, 0xff));
  const source = path.join(dir, 'root.img');
  writePatternFile(source, 2 * MiB, 21);
  writePatternFile(source, 2 * MiB, 22, 6 * MiB); // a 4 MiB hole at 2 MiB
  fs.writeFileSync(
    path.join(dir, 'image.json'),
    JSON.stringify({ size: 'auto', seed: 'device', partitions: [{ name: 'root', type: 'linux-generic', size: '10MiB', contents: 'root.img' }, { name: 'rest', type: 'linux-generic', size: 'grow' }] }),
  );
  const loop = attachLoop(backing);
  try {
    const refused = imgforge(['build', path.join(dir, 'image.json'), '-o', loop.device]);
    t.is(refused.status, 2);
    t.regex(refused.stderr, /--force/);
    t.true(fs.readFileSync(backing).subarray(0, 4096).every((b) => b === 0xff), 'device untouched without --force');

    const result = imgforge(['build', path.join(dir, 'image.json'), '-o', loop.device, '--force', '--json', '-q']);
    t.is(result.status, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    t.is(json.diskSize, 32 * MiB, 'the table spans the whole device');
    t.regex(sgdiskVerify(loop.device), /No problems found/);
    const offset = json.partitions[0].offset;
    t.true(sameBytes(source, 0, loop.device, offset, 8 * MiB), 'holes were written as zeros over the old data');
    const lastUsable = (32 * MiB) / 512 - 34;
    t.true(json.partitions[1].lastLba <= lastUsable && json.partitions[1].lastLba > lastUsable - 2048, 'grow reaches the end of the device');
  } finally {
    loop.detach();
  }
});
