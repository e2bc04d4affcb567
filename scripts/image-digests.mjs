#!/usr/bin/env node
// Builds the bundled examples and a set of seeded random specs (raw contents and FAT32 trees,
// 512- and 4096-byte sectors, every size kind) with the built CLI and prints each image's sha256,
// so a refactor can show that it left every byte where it was.
//
//   node scripts/image-digests.mjs record FILE   build everything, write the digests to FILE
//   node scripts/image-digests.mjs check FILE    build everything, compare with FILE (exit 1 on a difference)
//   (`__test__/reproducible.test.ts` runs the check on the examples and the first specs)
//   options: --count N (random specs, default 60), --work DIR (scratch folder, default a new one in /tmp)
//
// The generator is part of the record: changing it changes the specs, so re-record before a change
// to imgforge, never after.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const count = Number(option('--count', '60'));
const work = resolve(option('--work', '') || mkdtempSync(join(tmpdir(), 'imgforge-digests-')));
const [mode, file] = args;
if (!['record', 'check'].includes(mode) || file === undefined) {
  console.error('usage: node scripts/image-digests.mjs record|check FILE [--count N] [--work DIR]');
  process.exit(2);
}

// ---- a seeded generator (mulberry32) ----
function generator(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (list) => list[int(0, list.length - 1)];
  const chance = (p) => next() < p;
  // AES-CTR under a key drawn from the generator: fast, seeded bytes of any length.
  const bytes = (n) => {
    const key = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) key.writeUInt32LE(Math.floor(next() * 2 ** 32), i);
    return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
  };
  return { next, int, pick, chance, bytes };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const EPOCH = 1_700_000_000;

// Names of every kind FAT32 takes: 8.3, long, mixed case, spaces, dots, non-ASCII, clashing in 8.3 form.
const NAME_PARTS = ['boot', 'Efi-Tools', 'vmlinuz', 'Initrd', 'loader entry', 'a.b.c', 'données', 'kernel-6.1.0', 'README', 'x', 'grub.cfg', 'ÆØÅ', 'long file name with spaces', '日本'];

function makeTree(g, dir, depth, budget) {
  mkdirSync(dir, { recursive: true });
  const used = new Set();
  const entries = g.int(0, depth === 0 ? 12 : 6);
  for (let i = 0; i < entries && budget.files > 0; i++) {
    let name = `${g.pick(NAME_PARTS)}${g.chance(0.5) ? `-${g.int(0, 999)}` : ''}${g.chance(0.4) ? g.pick(['.efi', '.conf', '.TXT', '.img', '']) : ''}`;
    // FAT compares names without case; the generator keeps them distinct that way too.
    if (used.has(name.toLowerCase())) continue;
    used.add(name.toLowerCase());
    const path = join(dir, name);
    if (depth < 4 && g.chance(0.25)) {
      makeTree(g, path, depth + 1, budget);
    } else {
      budget.files--;
      const size = g.pick([0, 1, 511, 512, 4095, 4096, 4097, g.int(1, 64 * KiB), g.int(64 * KiB, 700 * KiB)]);
      writeFileSync(path, g.bytes(size));
      if (g.chance(0.1)) {
        const link = `${name}.link`;
        if (!used.has(link.toLowerCase())) {
          used.add(link.toLowerCase());
          symlinkSync(name, join(dir, link));
        }
      }
    }
  }
  return dir;
}

/** Gives every file and folder under dir (and dir) a fixed mtime, deepest first. */
function fixTimes(g, paths) {
  for (const path of paths.reverse()) {
    const t = EPOCH + g.int(0, 10_000_000);
    utimesSync(path, t, t);
  }
}

function listTree(dir, out = [dir]) {
  for (const entry of spawnSync('find', [dir, '-mindepth', '1', '-not', '-type', 'l'], { encoding: 'utf8' }).stdout.split('\n')) {
    if (entry !== '') out.push(entry);
  }
  return out.sort();
}

/** A raw image of the given size with data in some places and holes in others. */
function makeRaw(g, path, size) {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (let offset = 0; offset < size; ) {
      const run = Math.min(size - offset, g.int(1, 3) * 256 * KiB);
      if (g.chance(0.6)) writeSync(fd, g.bytes(Math.min(run, 64 * KiB)), 0, Math.min(run, 64 * KiB), offset);
      offset += run;
    }
  } finally {
    closeSync(fd);
  }
}

function randomSpec(index) {
  const g = generator(0x1f2e3d4c + index * 7919);
  const dir = join(work, `spec-${String(index).padStart(3, '0')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sectorSize = index % 2 === 0 ? 512 : 4096;
  const alignment = g.pick(sectorSize === 512 ? [4 * KiB, 64 * KiB, MiB, MiB, 512] : [4 * KiB, 64 * KiB, MiB, MiB]);
  const partitions = [];
  const count = g.int(1, 5);
  let grow = false;
  let fixed = 0;
  let autos = 0;
  for (let p = 0; p < count; p++) {
    const name = `${g.pick(['esp', 'root', 'data', 'Système', 'usr'])}-${p}`;
    const partition = { name, type: g.pick(['esp', 'linux-generic', 'root-x86-64', 'usr-arm64', 'swap', '0FC63DAF-8483-4772-8E79-3D69D8477DE4']) };
    if (g.chance(0.5)) partition.guid = guidFrom(g);
    if (g.chance(0.4)) partition.attributes = [g.pick(['read-only', 'growfs', 'no-auto', 'required-partition', 2, 48])];
    const kind = index % 5 === 0 ? 'fat32' : g.pick(['raw', 'fat32', 'empty']);
    if (kind === 'fat32') {
      const tree = makeTree(g, join(dir, `tree-${p}`), 0, { files: g.int(1, 120) });
      fixTimes(g, listTree(tree));
      const fs = { type: 'fat32', files: [{ source: `./tree-${p}`, target: '/' }] };
      if (g.chance(0.4)) {
        writeFileSync(join(dir, `extra-${p}.bin`), g.bytes(g.int(0, 300 * KiB)));
        utimesSync(join(dir, `extra-${p}.bin`), EPOCH, EPOCH);
        fs.files.push({ source: `./extra-${p}.bin`, target: `/EFI/Linux/extra-${p}.efi` });
      }
      if (g.chance(0.6)) fs.label = g.pick(['ESP', 'BOOT', 'Data 1', 'x']);
      if (g.chance(0.5)) fs.volumeId = g.int(0, 0xffffffff);
      if (g.chance(0.5)) fs.clusterSize = g.pick([512, 1024, 2048, 4096, 4096, 8192].filter((c) => c >= sectorSize));
      if (g.chance(0.3)) fs.minFree = `${g.int(1, 8)}MiB`;
      partition.filesystem = fs;
      partition.size = g.chance(0.7) ? 'auto' : g.pick([40 * MiB, 300 * MiB, 600 * MiB]);
      if (typeof partition.size === 'number') fixed += partition.size;
      else autos++;
    } else if (kind === 'raw') {
      const size = g.pick([sectorSize, 3 * sectorSize, g.int(1, 40) * 64 * KiB, g.int(1, 8) * MiB]);
      makeRaw(g, join(dir, `raw-${p}.img`), size);
      partition.contents = `./raw-${p}.img`;
      partition.size = g.chance(0.5) ? 'auto' : size + g.int(0, 4) * MiB;
      if (typeof partition.size === 'number') fixed += partition.size;
    } else {
      partition.size = !grow && g.chance(0.4) ? 'grow' : g.int(1, 16) * MiB;
      if (partition.size === 'grow') grow = true;
      else fixed += partition.size;
    }
    partitions.push(partition);
  }
  const spec = { sectorSize, alignment, partitions };
  // Without a seed imgforge draws GUIDs and volume IDs at random, so every spec has one.
  g.next();
  spec.seed = `digest-${index}`;
  if (g.chance(0.3)) spec.diskGuid = guidFrom(g);
  // An explicit disk size leaves room for FAT32 "auto" partitions (at most 512 MiB with 8 KiB clusters).
  if (grow || g.chance(0.3)) spec.size = Math.ceil((fixed + autos * 520 * MiB + 16 * MiB) / MiB) * MiB;
  writeFileSync(join(dir, 'image.json'), `${JSON.stringify(spec, null, 2)}\n`);
  // Half the specs take every timestamp from SOURCE_DATE_EPOCH, half from the sources' mtimes.
  return { name: `random-${String(index).padStart(3, '0')}`, spec: join(dir, 'image.json'), epoch: index % 4 < 2 ? String(EPOCH) : undefined };
}

function guidFrom(g) {
  const hex = g.bytes(16).toString('hex').toUpperCase();
  const guid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return guid === '00000000-0000-0000-0000-000000000000' ? '11111111-2222-3333-4444-555555555555' : guid;
}

function sha256(path) {
  return new Promise((ok, fail) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('end', () => ok(hash.digest('hex'))).on('error', fail);
  });
}

async function build({ name, spec, epoch }) {
  const image = join(work, `${name.replaceAll('/', '-')}.img`);
  rmSync(image, { force: true });
  const env = { ...process.env, SOURCE_DATE_EPOCH: epoch ?? '' };
  const run = spawnSync(process.execPath, [join(root, 'bin/imgforge.js'), 'build', spec, '-o', image, '--quiet'], { env, encoding: 'utf8' });
  // A spec the builder refuses is recorded by its exit code and message: that must not change either.
  if (run.status !== 0) return `exit ${run.status}: ${run.stderr.trim().replaceAll(work, '<work>')}`;
  const digest = await sha256(image);
  rmSync(image, { force: true });
  return digest;
}

const jobs = [
  { name: 'examples/appliance', spec: join(root, 'examples/appliance/image.yaml'), epoch: '1700000000' },
  { name: 'examples/ab', spec: join(root, 'examples/ab/image.yaml'), epoch: '1700000000' },
  { name: 'examples/rpi', spec: join(root, 'examples/rpi/image.yaml'), epoch: '1700000000' },
];
if (!existsSync(join(root, 'examples/ab/esp'))) {
  spawnSync(process.execPath, [join(root, 'examples/ab/generate-esp.mjs')], { stdio: 'inherit' });
}
for (let i = 0; i < count; i++) jobs.push(randomSpec(i));

const digests = {};
for (const job of jobs) {
  digests[job.name] = await build(job);
  process.stderr.write(`${job.name}: ${digests[job.name].slice(0, 80)}\n`);
}

if (mode === 'record') {
  writeFileSync(file, `${JSON.stringify(digests, null, 2)}\n`);
  console.log(`recorded ${Object.keys(digests).length} digests in ${file}`);
} else {
  const recorded = JSON.parse(readFileSync(file, 'utf8'));
  // With a smaller --count, the first specs are checked (the generator makes them the same way).
  const differ = Object.keys(digests).filter((name) => recorded[name] !== digests[name]);
  for (const name of differ) console.log(`${name}: recorded ${recorded[name]}, now ${digests[name]}`);
  const checked = `${Object.keys(digests).length} of the ${Object.keys(recorded).length} recorded`;
  console.log(differ.length === 0 ? `all ${checked} images are byte-identical to ${file}` : `${differ.length} of ${checked} images differ`);
  process.exitCode = differ.length === 0 ? 0 : 1;
}
rmSync(work, { recursive: true, force: true });
