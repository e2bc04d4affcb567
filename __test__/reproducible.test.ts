/**
 * Images are reproducible across changes to imgforge: the examples and the first seeded random
 * specs of scripts/image-digests.mjs build to the sha256 recorded in scripts/image-digests.json
 * (raw contents and FAT32 trees, 512- and 4096-byte sectors, every size kind, and the messages of
 * the specs imgforge refuses). A change that means to alter images re-records the file.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

test('the examples (GPT and MBR) and 20 seeded random specs build byte-identical images to the recorded ones', (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-digests-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'image-digests.mjs'), 'check', path.join(root, 'scripts', 'image-digests.json'), '--count', '20', '--work', work], {
    encoding: 'utf8',
  });
  t.log(run.stdout.trim().split('\n').at(-1));
  t.is(run.status, 0, run.stdout + run.stderr);
});
