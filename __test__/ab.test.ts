/**
 * The A/B example, done as its issue asks: a generated ESP tree of 3000 files on a reflink XFS, the
 * example spec built from that XFS onto it, and the ESP's file data shared with the sources.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imgforge, ROOT } from './helpers/cli';
import { readFatPartition, treeLines, treeOf, wholeBlockBytes, type FilesystemJson } from './helpers/fat';
import { loopUnavailableReason, mountXfs, type XfsMount } from './helpers/loop';
import { fiemap, run, sameBytes, sfdiskJson, sgdiskVerify, sharedBytesIn, tempDir } from './helpers/tools';

const MiB = 1 << 20;
const GiB = 1 << 30;
const EXAMPLE = path.join(ROOT, 'examples', 'ab');
const skipReason = loopUnavailableReason();

let xfs: XfsMount | undefined;
test.before(() => {
  if (skipReason) {
    console.log(`A/B example: reflink sharing not checked (${skipReason}); building in a temporary folder instead`);
    return;
  }
  xfs = mountXfs(GiB);
});
test.after.always(() => xfs?.cleanup());

interface BuildJson {
  diskSize: number;
  partitions: Array<{ name: string; firstLba: number; lastLba: number; offset: number; size: number; filesystem?: FilesystemJson }>;
  copy: { copyFileRangeBytes: number; readWriteBytes: number; holeBytes: number };
}

function buildJson(args: string[]): BuildJson {
  const result = imgforge(['build', ...args, '--json', '--quiet'], { env: { SOURCE_DATE_EPOCH: '' } });
  if (result.status !== 0) throw new Error(`imgforge build ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as BuildJson;
}

test.serial('the A/B example: 3000-file ESP from a reflink XFS, shared into the image; read-write gives the same bytes', (t) => {
  const dir = xfs?.dir ?? tempDir('imgforge-ab-');
  const work = tempDir('imgforge-ab-check-'); // extracted copies go off the XFS, which is only 1 GiB
  const esp = path.join(dir, 'esp');
  execFileSync(process.execPath, [path.join(EXAMPLE, 'generate-esp.mjs'), esp, '--files', '3000', '--mib', '120'], { stdio: 'ignore' });
  const source = treeOf(esp);
  t.is([...source.values()].filter((e) => e.kind === 'file').length, 3000);

  // The example spec as it is, with the rootfs it references copied beside it.
  const original = fs.readFileSync(path.join(EXAMPLE, 'image.yaml'), 'utf8');
  const rootfsRef = /^\s*contents:\s*(\S+)/m.exec(original)?.[1];
  t.truthy(rootfsRef, 'the example references a rootfs image');
  const rootfs = path.join(dir, 'rootfs.ext4');
  fs.copyFileSync(path.resolve(EXAMPLE, rootfsRef!), rootfs);
  const spec = original.replace(/^(\s*contents:\s*)\S+/m, '$1./rootfs.ext4');
  t.not(spec, original);
  t.regex(spec, /source: \.\/esp/, 'the ESP comes from ./esp beside the spec');
  fs.writeFileSync(path.join(dir, 'image.yaml'), spec);

  const image = path.join(dir, 'ab.img');
  const result = buildJson([path.join(dir, 'image.yaml'), '-o', image]);
  t.is(fs.statSync(image).size, result.diskSize);
  t.is(result.diskSize, 2 * GiB);
  t.regex(sgdiskVerify(image), /No problems found/);

  const table = sfdiskJson(image);
  t.deepEqual(table.partitions.map((p) => p.name), ['ESP', 'system-a', 'system-b', 'data']);
  t.deepEqual(table.partitions.map((p) => [p.start, p.size]), result.partitions.map((p) => [p.firstLba, p.lastLba - p.firstLba + 1]));
  t.is(table.partitions[0].size * 512, 512 * MiB, 'ESP is 512 MiB');
  const data = table.partitions[3];
  const end = (data.start + data.size) * 512;
  t.true(end <= (table.lastlba + 1) * 512 && (table.lastlba + 1) * 512 - end < MiB, `data ends at ${end}, the disk's usable end is ${(table.lastlba + 1) * 512}`);
  t.true(sameBytes(rootfs, 0, image, result.partitions[1].offset, fs.statSync(rootfs).size), 'system-a holds the rootfs');

  const espPart = result.partitions[0];
  const fsJson = espPart.filesystem!;
  t.like(fsJson, { type: 'fat32', label: 'ESP', files: 3000 });
  const fat = readFatPartition(image, espPart.offset, espPart.size, work);
  t.is(fat.fsck.status, 0, fat.fsck.output);
  t.deepEqual(fat.fsck.warnings, [], fat.fsck.output);
  t.is(fat.fsck.usedClusters, fsJson.usedClusters);
  t.deepEqual(fat.header, { label: 'ESP', serial: fsJson.volumeId });
  t.deepEqual(treeLines(fat.tree), treeLines(source));
  fs.rmSync(fat.out, { recursive: true });

  const copy = path.join(dir, 'ab-rw.img');
  const readWrite = buildJson([path.join(dir, 'image.yaml'), '-o', copy, '--copy', 'read-write']);
  t.is(readWrite.copy.copyFileRangeBytes, 0);
  t.is(run('cmp', [image, copy]), '', 'read-write and auto builds are byte-identical');

  if (!xfs) {
    t.log(`reflink sharing not checked: ${skipReason}`);
    return;
  }
  const blocks = wholeBlockBytes(esp);
  const shared = sharedBytesIn(fiemap(image), espPart.offset, espPart.offset + espPart.size);
  const ratio = shared.shared / blocks;
  t.log(
    `ESP: ${shared.shared} bytes shared of ${blocks} bytes in the files' whole 4 KiB blocks (${(ratio * 100).toFixed(2)}%); ` +
      `${shared.data} data bytes in the partition; copy_file_range ${result.copy.copyFileRangeBytes}, read/write ${result.copy.readWriteBytes}`,
  );
  t.true(ratio >= 0.95, `only ${(ratio * 100).toFixed(2)}% of the ESP's file blocks are shared`);
  t.true(shared.shared <= blocks, 'only whole blocks of file data can be shared');
  const copied = sharedBytesIn(fiemap(copy), 0, readWrite.diskSize);
  t.log(`read-write image: ${copied.shared} of ${copied.data} data bytes shared`);
  t.is(copied.shared, 0);
});
