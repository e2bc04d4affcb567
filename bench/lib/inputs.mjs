// Deterministic inputs, generated on the filesystem under test (nothing is downloaded): the same
// bytes on every run and every machine.
import { createCipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './system.mjs';

export const KiB = 2 ** 10;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** AES-128-CTR over zeros: fast, seedable, incompressible bytes. */
export function byteStream(seed) {
  const key = Buffer.alloc(16);
  key.write(seed);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4 * MiB);
  return (n) => cipher.update(n === zeros.length ? zeros : Buffer.alloc(n));
}

/**
 * A file of `size` bytes of pseudo-random data, with holes (ranges [start, end) that are never
 * written, and punched again afterwards so filesystem preallocation cannot fill them).
 */
function writeDataFile(file, size, seed, holes = []) {
  const next = byteStream(seed);
  const fd = fs.openSync(file, 'w');
  try {
    for (let pos = 0; pos < size; pos += 4 * MiB) {
      const chunk = next(Math.min(4 * MiB, size - pos));
      if (holes.some(([start, end]) => pos >= start && pos + chunk.length <= end)) continue;
      fs.writeSync(fd, chunk, 0, chunk.length, pos);
    }
    fs.ftruncateSync(fd, size);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  for (const [start, end] of holes) run(['fallocate', '--punch-hole', '--offset', String(start), '--length', String(end - start), file]);
}

/** Scenario raw: a 1 GiB partition image with an 8 MiB hole in the middle. */
export function rawInput(dir) {
  const file = path.join(dir, 'partition.img');
  writeDataFile(file, GiB, 'imgforge-raw', [[508 * MiB, 516 * MiB]]);
  return { partition: file, holeBytes: 8 * MiB };
}

/** Scenario big: 4 GiB of data, no holes, to be placed in a 64 GiB sparse image. */
export function bigInput(dir) {
  const file = path.join(dir, 'contents.img');
  writeDataFile(file, 4 * GiB, 'imgforge-big');
  return { contents: file };
}

/**
 * Scenario esp: the A/B example's ESP tree (examples/ab/generate-esp.mjs: 3,000 files, ~300 MB,
 * names of every kind, one 60 MiB file) and a root filesystem as a reproducible erofs image
 * (fixed timestamp and UUID) that fits the 64 MiB slot.
 */
export function espInputs(dir, repo) {
  const esp = path.join(dir, 'esp');
  run([process.execPath, path.join(repo, 'examples/ab/generate-esp.mjs'), esp]);
  const tree = path.join(dir, 'rootfs');
  fs.rmSync(tree, { recursive: true, force: true });
  const next = byteStream('imgforge-rootfs');
  for (let i = 0; i < 400; i++) {
    const folder = path.join(tree, ['usr/bin', 'usr/lib', 'usr/share/doc', 'etc'][i % 4], String(i % 7));
    fs.mkdirSync(folder, { recursive: true });
    // Sizes from 1 KiB to ~250 KiB: about 48 MiB in all.
    fs.writeFileSync(path.join(folder, `file-${i}`), next(1024 + ((i * 7919) % 250) * 1024));
  }
  const erofs = path.join(dir, 'root.erofs');
  run(['mkfs.erofs', '--quiet', '-T0', '-U', '6c1e4f6a-0b7d-4c8e-9a55-3c2b8e1d0f42', '--all-root', erofs, tree]);
  fs.rmSync(tree, { recursive: true, force: true });
  if (fs.statSync(erofs).size > 64 * MiB) throw new Error(`${erofs} does not fit the 64 MiB root partition`);
  run(['sync']);
  return { esp, erofs };
}

/**
 * Scenarios bmap, qcow2 and zstd: the A/B example itself (examples/ab/image.yaml, as the issue
 * names it), copied with what it refers to: its ESP tree made by examples/ab/generate-esp.mjs
 * (3,000 files, ~300 MB) and the appliance's 3 MiB ext4 root (examples/appliance/rootfs.ext4),
 * at the relative paths the spec uses.
 */
export function abInputs(dir, repo) {
  const ab = path.join(dir, 'ab');
  fs.mkdirSync(ab, { recursive: true });
  fs.mkdirSync(path.join(dir, 'appliance'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'examples/ab/image.yaml'), path.join(ab, 'image.yaml'));
  fs.copyFileSync(path.join(repo, 'examples/appliance/rootfs.ext4'), path.join(dir, 'appliance/rootfs.ext4'));
  run([process.execPath, path.join(repo, 'examples/ab/generate-esp.mjs'), path.join(ab, 'esp')]);
  run(['sync']);
  return { spec: path.join(ab, 'image.yaml') };
}
