#!/usr/bin/env node
// dm-verity benchmark (issue 15), two rows, rounds interleaved, on a loop-mounted XFS (reflink):
//  1. hashing a 2 GiB data area: imgforge's Rust tree (the addon's verityFormat, in a fresh node
//     process) against `veritysetup format` on the same file (data, then its hash area at
//     --hash-offset), same salt, UUID and block sizes; both results must be byte-identical.
//     Warm (the data in the page cache: what the build sees right after writing it) and cold
//     (caches dropped before each run).
//  2. the whole build of an EROFS root (1 GiB in 400 files) with its hash and signature
//     partitions against the same spec without them: what verity costs a build.
// Needs root (loop device, mount, drop_caches). Usage: sudo node bench/verity.mjs [--runs N] [--no-save]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteStream, GiB, MiB } from './lib/inputs.mjs';
import { dropCaches, quote, run, sh } from './lib/system.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'bin', 'imgforge.js');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] ?? 0) || 3;
const SAVE = !args.includes('--no-save');
const WORK = '/var/tmp/imgforge-bench-verity';
const SALT = '5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1e5ac1';
const UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const log = (m) => process.stderr.write(`${m}\n`);

function timed(fn) {
  const t = performance.now();
  const out = fn();
  return { seconds: (performance.now() - t) / 1000, out };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s) => `${s.toFixed(2)} s`;

function writeRandom(file, size, seed) {
  const next = byteStream(seed);
  const fd = fs.openSync(file, 'w');
  for (let pos = 0; pos < size; pos += 4 * MiB) fs.writeSync(fd, next(Math.min(4 * MiB, size - pos)), 0, undefined, pos);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function setup() {
  if (run(['mountpoint', '-q', WORK + '/mnt'], { allowFail: true }).status === 0) throw new Error(`${WORK}/mnt is mounted: unmount it first`);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(path.join(WORK, 'mnt'), { recursive: true });
  const backing = path.join(WORK, 'xfs.img');
  sh(`truncate -s 12G ${quote(backing)} && mkfs.xfs -q -m reflink=1 ${quote(backing)}`);
  const dev = run(['losetup', '--find', '--show', backing]).trim();
  run(['mount', dev, path.join(WORK, 'mnt')]);
  return { dev, mnt: path.join(WORK, 'mnt') };
}

function teardown(env) {
  if (!env) return;
  run(['umount', env.mnt], { allowFail: true });
  run(['losetup', '-d', env.dev], { allowFail: true });
  fs.rmSync(WORK, { recursive: true, force: true });
}

/** Row 1: hashing the same 2 GiB with both tools. */
function hashRow(mnt) {
  const dataSize = 2 * GiB;
  const file = path.join(mnt, 'data-and-hash.img');
  log('writing 2 GiB of data');
  writeRandom(file, dataSize, 'imgforge-verity');
  const hashSize = 20 * MiB; // the tree of 2 GiB is 16.1 MiB with its superblock
  fs.truncateSync(file, dataSize + hashSize);
  const ours = `const n=require(${JSON.stringify(path.join(REPO, 'native', 'index.js'))});` +
    `n.verityFormat(${JSON.stringify(file)},{offset:0,size:${dataSize}},{offset:${dataSize},size:${hashSize}},` +
    `{hashAlgorithm:'sha256',dataBlockSize:4096,hashBlockSize:4096,salt:'${SALT}',uuid:'${UUID}'},new n.CopyProgress()).then(t=>process.stdout.write(t.rootHash))`;
  const imgforge = () => run([process.execPath, '-e', ours]).trim();
  const veritysetup = () => {
    const out = run(['veritysetup', 'format', `--hash-offset=${dataSize}`, `--data-blocks=${dataSize / 4096}`, '--salt', SALT, '--uuid', UUID, file, file]);
    return out.match(/Root hash:\s+([0-9a-f]+)/)[1];
  };
  const rows = { warm: { imgforge: [], veritysetup: [] }, cold: { imgforge: [], veritysetup: [] } };
  let roots = new Set();
  let trees = new Set();
  const treeDigest = () => run(['sh', '-c', `tail -c ${hashSize} ${quote(file)} | sha256sum`]).split(' ')[0];
  for (let round = 0; round < RUNS; round++) {
    for (const cache of ['warm', 'cold']) {
      // Alternate which tool goes first, round by round.
      const order = round % 2 === 0 ? ['imgforge', 'veritysetup'] : ['veritysetup', 'imgforge'];
      for (const tool of order) {
        fs.truncateSync(file, dataSize); // a fresh hash area: zeros
        fs.truncateSync(file, dataSize + hashSize);
        if (cache === 'cold') dropCaches();
        else sh(`cat ${quote(file)} > /dev/null`);
        const { seconds, out } = timed(tool === 'imgforge' ? imgforge : veritysetup);
        rows[cache][tool].push(seconds);
        roots.add(out);
        trees.add(treeDigest());
        log(`  hash ${cache} round ${round + 1}: ${tool} ${fmt(seconds)}`);
      }
    }
  }
  if (roots.size !== 1 || trees.size !== 1) throw new Error(`the tools disagree: root hashes ${[...roots]}, trees ${[...trees]}`);
  return { rows, rootHash: [...roots][0] };
}

/** Row 2: the build with and without verity. */
function buildRow(mnt) {
  const tree = path.join(mnt, 'rootfs');
  log('writing the 1 GiB tree');
  const next = byteStream('imgforge-verity-tree');
  for (let i = 0; i < 400; i++) {
    const dir = path.join(tree, `pkg${Math.floor(i / 20)}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `file${i}`), next(Math.round(2.68 * MiB)));
  }
  sh(`cd ${quote(mnt)} && openssl req -x509 -newkey rsa:2048 -nodes -keyout signing.key -out signing.crt -subj /CN=bench -days 30 2>/dev/null`);
  const root = '  - { name: root-a, type: root-x86-64, size: auto, filesystem: { type: erofs, files: [{ source: ./rootfs, target: / }] } }';
  const plain = path.join(mnt, 'plain.yaml');
  const verity = path.join(mnt, 'verity.yaml');
  fs.writeFileSync(plain, ['seed: bench', 'partitions:', root, ''].join('\n'));
  fs.writeFileSync(verity, ['seed: bench', 'partitions:', root,
    '  - { name: root-a-verity, type: root-x86-64-verity, size: auto, verity: { data: root-a } }',
    '  - { name: root-a-verity-sig, type: root-x86-64-verity-sig, size: auto, signature: { verity: root-a-verity, key: ./signing.key, certificate: ./signing.crt } }', ''].join('\n'));
  const rows = { plain: [], verity: [], hashing: [] };
  for (let round = 0; round < RUNS; round++) {
    const order = round % 2 === 0 ? ['plain', 'verity'] : ['verity', 'plain'];
    for (const kind of order) {
      const out = path.join(mnt, `${kind}.img`);
      fs.rmSync(out, { force: true });
      dropCaches();
      const { seconds, out: json } = timed(() => run([process.execPath, CLI, 'build', kind === 'plain' ? plain : verity, '-o', out, '--json', '--no-checksums', '--quiet']));
      rows[kind].push(seconds);
      if (kind === 'verity') rows.hashing.push(JSON.parse(json).timings.verity / 1000);
      log(`  build round ${round + 1}: ${kind} ${fmt(seconds)}`);
    }
  }
  return rows;
}

function report(hash, build) {
  const ratioRows = (a, b) => a.map((x, i) => (b[i] / x).toFixed(2)).join(', ');
  const lines = [
    '# dm-verity benchmark (issue 15)',
    '',
    `${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} vCPU (${os.cpus()[0].model}), ${(os.totalmem() / GiB).toFixed(0)} GiB, Linux ${os.release()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end (other agents share the 2 CPUs: compare within a round).`,
    `${RUNS} rounds, interleaved (the order alternates), on a loop-mounted XFS (reflink=1) over a sparse file on the VM's disk. \`sudo node bench/verity.mjs\`.`,
    '',
    '## Hashing a 2 GiB data area (SHA-256, 4 KiB blocks, superblock)',
    '',
    'Both over one file (data, then the hash area: veritysetup `--hash-offset`), same salt and UUID; the root hash and the tree were identical in every run',
    `(root hash ${hash.rootHash}). imgforge: a fresh \`node\` calling the addon's verityFormat (Node start included, ~0.1 s).`,
    '',
    '| cache | imgforge median (min-max) | veritysetup format median (min-max) | veritysetup / imgforge per round |',
    '|---|---|---|---|',
  ];
  for (const cache of ['warm', 'cold']) {
    const r = hash.rows[cache];
    lines.push(`| ${cache} | ${fmt(median(r.imgforge))} (${fmt(Math.min(...r.imgforge))}-${fmt(Math.max(...r.imgforge))}) | ${fmt(median(r.veritysetup))} (${fmt(Math.min(...r.veritysetup))}-${fmt(Math.max(...r.veritysetup))}) | ${ratioRows(r.imgforge, r.veritysetup)} |`);
  }
  lines.push(
    '',
    '## Build: EROFS root (1 GiB in 400 files) with and without verity',
    '',
    'Caches dropped before each build; `imgforge build --json --no-checksums --quiet`, Node start included. With verity: the hash partition (tree of the whole',
    'data partition) and a signature partition (RSA 2048, openssl).',
    '',
    '| build | median (min-max) | per round |',
    '|---|---|---|',
    `| EROFS root | ${fmt(median(build.plain))} (${fmt(Math.min(...build.plain))}-${fmt(Math.max(...build.plain))}) | ${build.plain.map(fmt).join(', ')} |`,
    `| EROFS root + verity + signature | ${fmt(median(build.verity))} (${fmt(Math.min(...build.verity))}-${fmt(Math.max(...build.verity))}) | ${build.verity.map(fmt).join(', ')} |`,
    `| of which hashing and signing (timings.verity) | ${fmt(median(build.hashing))} | ${build.hashing.map(fmt).join(', ')} |`,
    '',
    `With / without verity per round: ${ratioRows(build.plain, build.verity)}.`,
    '',
  );
  return lines.join('\n');
}

let env;
const cleanup = () => teardown(env);
process.on('SIGINT', () => { cleanup(); process.exit(130); });
try {
  env = setup();
  const hash = hashRow(env.mnt);
  fs.rmSync(path.join(env.mnt, 'data-and-hash.img'));
  const build = buildRow(env.mnt);
  const text = report(hash, build);
  process.stdout.write(text);
  if (SAVE) fs.writeFileSync(path.join(REPO, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-vm-2cpu-verity.md`), text);
} finally {
  cleanup();
}
