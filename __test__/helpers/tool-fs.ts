/** Source trees and checks shared by the ext4 and squashfs tests. */
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writePatternFile } from './tools';

export const EPOCH = 1_700_000_000;

/** A tree like a /var: sizes around a block, a hard link, symlinks, modes, owners 1234:1234. */
export function varTree(dir: string): string {
  const root = path.join(dir, 'var');
  fs.mkdirSync(path.join(root, 'lib', 'app'), { recursive: true });
  fs.mkdirSync(path.join(root, 'log'));
  fs.writeFileSync(path.join(root, 'log', 'empty'), '');
  writePatternFile(path.join(root, 'lib', 'app', 'block'), 4096, 1);
  writePatternFile(path.join(root, 'lib', 'app', 'block-and-one'), 4097, 2);
  writePatternFile(path.join(root, 'lib', 'app', 'big'), 3 * 1024 * 1024 + 5, 3);
  fs.writeFileSync(path.join(root, 'lib', 'hostname'), 'appliance\n');
  fs.linkSync(path.join(root, 'lib', 'hostname'), path.join(root, 'log', 'hostname-link'));
  fs.symlinkSync('../lib/app/big', path.join(root, 'log', 'big-link'));
  fs.symlinkSync('x'.repeat(100), path.join(root, 'log', 'long-link'));
  execFileSync('mkfifo', [path.join(root, 'log', 'fifo')]);
  // chown clears setuid: owners first.
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', '-h', '1234:1234', root]);
  fs.chmodSync(path.join(root, 'lib', 'app', 'block'), 0o4755);
  fs.chmodSync(path.join(root, 'lib', 'app'), 0o750);
  return root;
}

/** `find -printf` of a tree: path, type, mode, owner, size, symlink target; one line each, sorted. */
export function listing(root: string, owners = true): string[] {
  const format = owners ? '%P %y %m %U:%G %s %l\\n' : '%P %y %m %s %l\\n';
  const out = execFileSync('find', [root, '-mindepth', '1', '-printf', format], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('lost+found '))
    .map((line) => line.replace(/ (\d+):(\d+) (\d+) /, (all, u, g, size) => ` ${u}:${g} ${line.includes(' d ') ? '-' : size} `))
    .sort();
}

/** The same listing with every owner 0:0, as ownership "root" makes it. */
export function rootOwned(lines: readonly string[]): string[] {
  return lines.map((line) => line.replace(/ \d+:\d+ /, ' 0:0 '));
}

/** Every regular file below `a` has the same bytes below `b`. */
export function sameFiles(t: ExecutionContext, a: string, b: string): void {
  const files = execFileSync('find', [a, '-type', 'f', '-printf', '%P\\n'], { encoding: 'utf8' }).split('\n').filter((f) => f !== '');
  t.true(files.length > 0);
  for (const file of files) t.true(fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(b, file))), file);
}

/** Entries of `dir` that a build leaves only while it runs: temporary images and staging folders. */
export function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => /\.imgforge-(tmp|stage)$/.test(name));
}
