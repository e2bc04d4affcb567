import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { imgforgeChild } from './helpers/cli';
import { tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;

for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test.serial(`${signal} mid-copy removes the temporary file, keeps the old image and dies by ${signal} (status ${status} to a shell)`, async (t) => {
    const dir = tempDir();
    writePatternFile(path.join(dir, 'big.img'), 1536 * MiB, 9);
    fs.writeFileSync(
      path.join(dir, 'image.json'),
      JSON.stringify({ size: 'auto', partitions: [{ name: 'big', type: 'linux-generic', size: 'auto', contents: 'big.img' }] }),
    );
    const output = path.join(dir, 'disk.img');
    fs.writeFileSync(output, 'previous image');

    const child = imgforgeChild(['build', path.join(dir, 'image.json'), '-o', output, '--copy', 'read-write']);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const copying = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.includes('copying big')) resolve();
      });
    });
    const exited = once(child, 'exit');
    await copying;
    t.true(fs.readdirSync(dir).some((f) => f.endsWith('.imgforge-tmp')), 'the build writes a temporary file');
    child.kill(signal);
    const [code, killedBy] = await exited;
    t.deepEqual([code, killedBy], [null, signal], stderr);
    t.is(128 + os.constants.signals[signal], status);
    t.regex(stderr, new RegExp(`interrupted by ${signal}`));
    t.is(fs.readFileSync(output, 'utf8'), 'previous image');
    t.deepEqual(fs.readdirSync(dir).sort(), ['big.img', 'disk.img', 'image.json']);
  });
}
