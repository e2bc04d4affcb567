/**
 * Ctrl-C in a shell loop of builds: the terminal sends SIGINT to the whole process group, the CLI
 * cleans up and then dies by SIGINT, so bash (which goes on after a child that merely exits 130)
 * stops the loop too.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN } from './helpers/cli';
import { hasTool, tempDir, writePatternFile } from './helpers/tools';

const MiB = 1 << 20;

test.serial('SIGINT to the process group stops a bash for-loop of builds at the first one', async (t) => {
  if (!hasTool('bash')) return t.pass('skipped: bash is not installed');
  const dir = tempDir();
  writePatternFile(path.join(dir, 'big.img'), 1024 * MiB, 5);
  for (const n of [1, 2, 3]) {
    const spec = { partitions: [{ name: 'big', type: 'linux-generic', size: 'auto', contents: 'big.img' }] };
    fs.writeFileSync(path.join(dir, `image${n}.json`), JSON.stringify(spec));
  }
  const loop = `for s in image1 image2 image3; do "${process.execPath}" "${BIN}" build "$s.json" -o "$s.img" --copy read-write; echo "after $s"; done`;
  // A process group of its own, as a terminal's foreground job has.
  const shell = spawn('bash', ['-c', loop], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const copying = new Promise<void>((resolve) => {
    shell.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('copying big')) resolve();
    });
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => shell.on('exit', (code, signal) => resolve([code, signal])));
  await copying;
  process.kill(-shell.pid!, 'SIGINT');
  const killer = setTimeout(() => process.kill(-shell.pid!, 'SIGKILL'), 60_000);
  const end = await exited;
  clearTimeout(killer);
  t.deepEqual(end, [null, 'SIGINT'], `the loop ends by SIGINT: ${stdout}${stderr}`);
  t.regex(stderr, /imgforge: build interrupted by SIGINT; no image was written/);
  t.is(stdout, '', 'no "after" line: the loop did not go on');
  t.false(stderr.includes('building image2') || fs.existsSync(path.join(dir, 'image2.img')), 'the second build never started');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.img') && f !== 'big.img'), []);
});
