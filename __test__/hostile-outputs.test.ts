/**
 * Outputs a hostile (or unlucky) user names: an input reached through a bind mount, a hard link
 * or a symlinked folder; names at the length limit; leftovers of killed builds; a block device
 * whose build fails part-way.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, inspect, ImgforgeError } from '../ts/index';
import { truncateUtf8 } from '../ts/build/output';
import { imgforge } from './helpers/cli';
import { cliMidCopy, MiB, oneLineError, twoRawPartitions, writeSpec } from './helpers/fault-checks';
import { attachLoop, loopUnavailableReason } from './helpers/loop';
import { sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const rootReason = process.getuid?.() === 0 ? undefined : 'not running as root (bind mounts need root)';

function skipped(t: ExecutionContext, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  t.log(`skipped: ${reason}`);
  t.pass();
  return true;
}

/** A spec folder `s` with raw contents in.bin and a FAT32 source folder esp/. */
function inputs(): { dir: string; specPath: string; contents: string; esp: string; bytes: Buffer } {
  const dir = tempDir();
  const s = path.join(dir, 's');
  fs.mkdirSync(path.join(s, 'esp', 'EFI'), { recursive: true });
  const contents = path.join(s, 'in.bin');
  writePatternFile(contents, MiB, 9);
  fs.writeFileSync(path.join(s, 'esp', 'EFI', 'boot.efi'), 'boot\n');
  const specPath = writeSpec(s, {
    seed: 'aliases',
    partitions: [
      { name: 'raw', type: 'linux-generic', size: 'auto', contents: 'in.bin' },
      { name: 'ESP', type: 'esp', size: 'auto', filesystem: { type: 'fat32', files: [{ source: './esp', target: '/' }] } },
    ],
  });
  return { dir, specPath, contents, esp: path.join(s, 'esp'), bytes: fs.readFileSync(contents) };
}

/** Builds into `output` with the CLI and checks it is refused (exit 2, one line) with the inputs intact. */
function refused(t: ExecutionContext, f: ReturnType<typeof inputs>, output: string, message: RegExp): void {
  const specBefore = fs.readFileSync(f.specPath);
  const result = imgforge(['build', f.specPath, '-o', output, '--quiet']);
  oneLineError(t, result, 2, message);
  t.true(fs.readFileSync(f.contents).equals(f.bytes), 'the contents file is intact');
  t.true(fs.readFileSync(f.specPath).equals(specBefore), 'the spec is intact');
  t.deepEqual(fs.readdirSync(f.esp), ['EFI'], 'nothing was added to the source folder');
}

test.serial('an output reaching an input through a bind mount is refused; the input is intact', (t) => {
  if (skipped(t, rootReason)) return;
  const f = inputs();
  const bind = path.join(f.dir, 'bind');
  fs.mkdirSync(bind);
  execFileSync('mount', ['--bind', path.dirname(f.specPath), bind]);
  try {
    refused(t, f, path.join(bind, 'in.bin'), /the output is partitions\[0\]\.contents \(.*in\.bin\); building would replace it/);
    refused(t, f, path.join(bind, 'image.json'), /the output is the spec file itself/);
    refused(t, f, path.join(bind, 'esp', 'disk.img'), /would be inside .*bind\/esp, one of its source folders: partitions\[1\]\.filesystem\.files/);
    refused(t, f, path.join(bind, 'esp', 'EFI', 'boot.efi'), /the output is one of its source files: partitions\[1\]\.filesystem\.files/);
  } finally {
    spawnSync('umount', [bind]);
  }
  // A bind mount of a folder deep inside a source folder: its own path shares nothing with the source's.
  const inner = path.join(f.dir, 'inner');
  fs.mkdirSync(inner);
  execFileSync('mount', ['--bind', path.join(f.esp, 'EFI'), inner]);
  try {
    refused(t, f, path.join(inner, 'disk.img'), /would be inside .*inner, one of its source folders/);
  } finally {
    spawnSync('umount', [inner]);
  }
});

test('an output that is a hard link to the contents, or reached through a symlinked folder, is refused', (t) => {
  const f = inputs();
  const link = path.join(f.dir, 'hardlink.img');
  fs.linkSync(f.contents, link);
  refused(t, f, link, /the output is partitions\[0\]\.contents/);
  const alias = path.join(f.dir, 'alias');
  fs.symlinkSync(path.dirname(f.specPath), alias);
  refused(t, f, path.join(alias, 'in.bin'), /the output is partitions\[0\]\.contents/);
  refused(t, f, path.join(alias, 'esp', 'EFI', 'new.img'), /one of its source folders/);
});

test('truncateUtf8 cuts at a byte count without splitting a character', (t) => {
  t.is(truncateUtf8('abc', 3), 'abc');
  t.is(truncateUtf8('abc', 2), 'ab');
  t.is(truncateUtf8('éé', 3), 'é', 'a two-byte character that does not fit is left out whole');
  t.is(truncateUtf8('a😀b', 4), 'a', 'so is a four-byte one');
  t.is(truncateUtf8('a😀b', 5), 'a😀');
  t.is(truncateUtf8('', 0), '');
});

test('output names up to the filesystem limit of 255 bytes build; the temporary name is shortened', async (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'in.bin'), MiB, 2);
  const specPath = writeSpec(dir, { seed: 'long', partitions: [{ name: 'raw', type: 'linux-generic', size: 'auto', contents: 'in.bin' }] });
  for (const name of ['d'.repeat(229) + '.img', 'é'.repeat(125) + '.img', 'x'.repeat(255)]) {
    t.is(Buffer.byteLength(name) >= 233, true);
    const output = path.join(dir, name);
    const result = await build(specPath, { output });
    t.is(result.output, output);
    t.regex(sgdiskVerify(output), /No problems found/);
    fs.rmSync(output);
  }
  t.deepEqual(fs.readdirSync(dir).sort(), ['image.json', 'in.bin']);
});

test('temporary files of killed builds are removed by the next build of the same output; those of running ones are not', async (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'in.bin'), MiB, 2);
  const specPath = writeSpec(dir, { seed: 'stale', partitions: [{ name: 'raw', type: 'linux-generic', size: 'auto', contents: 'in.bin' }] });
  // A pid that is not running: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = path.join(dir, `.disk.img.${dead}-0123456789ab.imgforge-tmp`);
  const running = path.join(dir, `.disk.img.${process.pid}-0123456789ab.imgforge-tmp`);
  const otherOutput = path.join(dir, `.other.img.${dead}-0123456789ab.imgforge-tmp`);
  for (const file of [stale, running, otherOutput]) fs.writeFileSync(file, 'left behind');
  await build(specPath, { output: path.join(dir, 'disk.img') });
  t.false(fs.existsSync(stale), 'the leftover of a dead build is removed');
  t.true(fs.existsSync(running), 'the file of a running build is kept');
  t.true(fs.existsSync(otherOutput), 'files of other outputs are kept');
});

test('a SIGKILLed CLI build leaves its temporary file, and the next build removes it', async (t) => {
  const dir = tempDir();
  writePatternFile(path.join(dir, 'in.bin'), 256 * MiB, 3);
  const specPath = writeSpec(dir, { seed: 'killed', partitions: [{ name: 'raw', type: 'linux-generic', size: 'auto', contents: 'in.bin' }] });
  const output = path.join(dir, 'disk.img');
  const run = await cliMidCopy(['build', specPath, '-o', output, '--copy', 'read-write'], dir, 16 * MiB, (child) => child.kill('SIGKILL'));
  t.is(run.signal, 'SIGKILL', 'killed');
  const left = fs.readdirSync(dir).filter((name) => name.endsWith('.imgforge-tmp'));
  t.is(left.length, 1, 'SIGKILL cannot be caught: the temporary file stays');
  const result = imgforge(['build', specPath, '-o', output, '--quiet']);
  t.is(result.status, 0, result.stderr);
  t.deepEqual(fs.readdirSync(dir).sort(), ['disk.img', 'image.json', 'in.bin']);
});

test.serial('a block device whose build fails part-way says so, and holds no valid partition table', async (t) => {
  if (skipped(t, loopUnavailableReason())) return;
  const { dir, specPath, first, second } = twoRawPartitions(8 * MiB, 8 * MiB, '16MiB');
  const backing = path.join(dir, 'device.img');
  fs.writeFileSync(backing, Buffer.alloc(64 * MiB));
  const loop = attachLoop(backing);
  try {
    // A valid image first: the failed build must not leave its table looking valid.
    t.is(imgforge(['build', specPath, '-o', loop.device, '--force', '--quiet']).status, 0);
    t.regex(sgdiskVerify(loop.device), /No problems found/);

    let changed = false;
    const error = await t.throwsAsync(
      build(specPath, {
        output: loop.device,
        force: true,
        onProgress: (p) => {
          if (changed || p.phase !== 'copy' || p.partition !== 'first') return;
          changed = true;
          fs.truncateSync(second, 4 * MiB);
        },
      }),
      { instanceOf: ImgforgeError },
    );
    t.is(error?.code, 'SOURCE_CHANGED');
    const state = `${loop.device} was partly written and holds no valid partition table (imgforge wipes the tables first and writes them last)`;
    t.true(error?.message.endsWith(`; ${state}`), error?.message);
    t.is(error?.outputState, state);

    const report = await inspect(loop.device);
    t.is(report.table, 'none', JSON.stringify(report.findings));
    t.regex(sgdiskVerify(loop.device), /(Problem|not present|invalid|damaged|corrupt)/i);
    // The first partition's data was written: the device was really partly written.
    const head = Buffer.alloc(4096);
    const fd = fs.openSync(loop.device, 'r');
    fs.readSync(fd, head, 0, 4096, MiB);
    fs.closeSync(fd);
    t.true(head.equals(fs.readFileSync(first).subarray(0, 4096)));
  } finally {
    loop.detach();
  }
});

test.serial('SIGINT mid-copy into a block device: death by SIGINT and a line saying the device was partly written', async (t) => {
  if (skipped(t, loopUnavailableReason())) return;
  const dir = tempDir();
  const backing = path.join(dir, 'device.img');
  fs.closeSync(fs.openSync(backing, 'w'));
  fs.truncateSync(backing, 600 * MiB);
  writePatternFile(path.join(dir, 'big.img'), 512 * MiB, 6);
  const specPath = writeSpec(dir, { seed: 'device', partitions: [{ name: 'big', type: 'linux-generic', size: 'auto', contents: 'big.img' }] });
  const loop = attachLoop(backing);
  try {
    const { imgforgeChild } = await import('./helpers/cli');
    const child = imgforgeChild(['build', specPath, '-o', loop.device, '--force', '--copy', 'read-write']);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (/copying big/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const end = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    t.deepEqual(end, [null, 'SIGINT'], stderr);
    t.regex(stderr, new RegExp(`imgforge: build interrupted by SIGINT; ${loop.device.replace(/\//g, '\\/')} was partly written and holds no valid partition table`));
    const report = await inspect(loop.device);
    t.is(report.table, 'none');
  } finally {
    loop.detach();
  }
});
