/**
 * The delivery's renames as one step (ts/deliver/rename.ts), on real files: a rename that fails
 * midway puts back the files the earlier renames replaced and removes the new names.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError } from '../ts/errors';
import { renameIntoPlace } from '../ts/deliver/rename';
import { build } from '../ts/index';
import { spawnSync } from 'node:child_process';

function folder(t: { teardown: (f: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-rename-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('every file moves into place, and keep leaves no backup behind', (t) => {
  const dir = folder(t);
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('a.new'), 'new a');
  fs.writeFileSync(at('b.new'), 'new b');
  fs.writeFileSync(at('a'), 'old a');
  const renamed = renameIntoPlace([
    { temporary: at('a.new'), final: at('a') },
    { temporary: at('b.new'), final: at('b') },
  ]);
  renamed.keep();
  t.is(fs.readFileSync(at('a'), 'utf8'), 'new a');
  t.is(fs.readFileSync(at('b'), 'utf8'), 'new b');
  t.deepEqual(fs.readdirSync(dir).sort(), ['a', 'b']);
});

test('a rename failing midway puts the replaced files back and removes the new ones', (t) => {
  const dir = folder(t);
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('a'), 'old a');
  fs.writeFileSync(at('a.new'), 'new a');
  fs.writeFileSync(at('b.new'), 'new b');
  fs.writeFileSync(at('c.new'), 'new c');
  // A folder that is not empty cannot be replaced by a file: the third rename fails.
  fs.mkdirSync(at('c'));
  fs.writeFileSync(path.join(at('c'), 'inside'), 'x');
  const error = t.throws(() =>
    renameIntoPlace([
      { temporary: at('a.new'), final: at('a') },
      { temporary: at('b.new'), final: at('b') },
      { temporary: at('c.new'), final: at('c') },
    ]),
  );
  t.true(error instanceof ImgforgeError);
  t.regex(error!.message, /cannot move .*\/c into place: .*; the files already moved were put back/);
  t.is(fs.readFileSync(at('a'), 'utf8'), 'old a', 'the previous file is back');
  t.false(fs.existsSync(at('b')), 'a name that held nothing holds nothing again');
  t.is(fs.readFileSync(path.join(at('c'), 'inside'), 'utf8'), 'x');
  // The temporary file of the failed rename is the caller's to remove; no backup is left.
  t.deepEqual(fs.readdirSync(dir).sort(), ['a', 'c', 'c.new']);
});

test('rollback after the renames (the image after them failed) restores the earlier state', (t) => {
  const dir = folder(t);
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('disk.img.bmap'), 'old bmap');
  fs.writeFileSync(at('bmap.new'), 'new bmap');
  fs.writeFileSync(at('part.new'), 'new partition');
  const renamed = renameIntoPlace([
    { temporary: at('bmap.new'), final: at('disk.img.bmap') },
    { temporary: at('part.new'), final: at('disk.ESP.raw') },
  ]);
  t.is(fs.readFileSync(at('disk.img.bmap'), 'utf8'), 'new bmap');
  renamed.rollback();
  t.deepEqual(fs.readdirSync(dir), ['disk.img.bmap']);
  t.is(fs.readFileSync(at('disk.img.bmap'), 'utf8'), 'old bmap');
});

test('a build whose image cannot be renamed into place puts the bmap it renamed before back', async (t) => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    t.log('skipped: needs root on Linux (chattr +i makes the old image refuse the rename)');
    t.pass();
    return;
  }
  const dir = folder(t);
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('content.bin'), Buffer.alloc(3 << 20, 7));
  fs.writeFileSync(at('image.yaml'), ['size: 16MiB', 'partitions:', '  - { name: a, type: linux-generic, size: 4MiB, contents: ./content.bin }', ''].join('\n'));
  fs.writeFileSync(at('disk.img'), 'old image');
  fs.writeFileSync(at('disk.img.bmap'), 'old bmap');
  // An immutable file can be neither replaced by a rename nor linked: the image's rename, the
  // last, fails after the bmap's.
  const chattr = spawnSync('chattr', ['+i', at('disk.img')], { encoding: 'utf8' });
  if (chattr.status !== 0) {
    t.log(`skipped: chattr +i is refused here (${chattr.stderr.trim()})`);
    t.pass();
    return;
  }
  t.teardown(() => spawnSync('chattr', ['-i', at('disk.img')]));
  const error = await t.throwsAsync(build(at('image.yaml'), { output: at('disk.img'), bmap: true, force: true }));
  t.regex(error!.message, /cannot move the finished image into place/);
  t.is(fs.readFileSync(at('disk.img.bmap'), 'utf8'), 'old bmap', 'the bmap renamed before the image is the old one again');
  t.is(fs.readFileSync(at('disk.img'), 'utf8'), 'old image');
  t.deepEqual(fs.readdirSync(dir).sort(), ['content.bin', 'disk.img', 'disk.img.bmap', 'image.yaml']);
});
