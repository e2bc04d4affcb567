// Scenario erofs: an EROFS root filesystem written from a folder of 50,000 files (2 GiB) into a
// GPT image, against mkfs.erofs (which reads and writes every block itself) and, on XFS, the
// reflink copy of the tree (the least any tool that shares the data can do). A second, smaller
// tree of 100,000 small files measures imgforge's peak memory, which grows with the file count.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { durable, imgforgeTool, newGptSfdisk, planOf, yamlSpec } from './commands.mjs';
import { GiB, KiB, MiB, byteStream } from './inputs.mjs';
import { quote, run } from './system.mjs';

// Fixed so that every build of a tree is the same, and imgforge and mkfs.erofs stamp the same time
// on every inode (imgforge: SOURCE_DATE_EPOCH; mkfs.erofs: -T) and give the same UUID.
const EPOCH = 1700000000;
const UUID = '3b5f2c1e-7a4d-4e9b-8c6f-1d2e3f4a5b6c';

/** Row names, which targets.mjs looks up. */
export const EROFS_ROWS = {
  mkfsGpt: 'mkfs.erofs + sfdisk + xfs_io reflink into the image',
  mkfs: 'mkfs.erofs',
  cpTree: 'cp -r --reflink=always',
  rss: 'imgforge, 100,000 files of 0–8 KiB (peak RSS)',
};

/** mulberry32: a small seeded PRNG, so the tree's shape and sizes are the same on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Log-uniform in [lo, hi): as many files of 1-2 KiB as of 8-16 KiB, like a real tree. */
const logUniform = (r, lo, hi) => Math.floor(lo * (hi / lo) ** r());

/**
 * The sizes of `count` files totalling exactly `total` bytes, the mix of a system tree: 72% small
 * (0-16 KiB, some empty), 24% 16-128 KiB, ~4% 128 KiB-1 MiB, and 1 in 1,000 large (a few MiB
 * to tens of MiB: libraries, firmware, locale archives) that take up what the others leave of the
 * total (at full size ~25%).
 */
export function sizeMix(count, total, r) {
  const large = Math.max(1, Math.round(count / 1000));
  const sizes = [];
  for (let i = 0; i < count - large; i++) {
    const x = r();
    if (x < 0.01) sizes.push(0);
    else if (x < 0.72) sizes.push(logUniform(r, 64, 16 * KiB));
    else if (x < 0.96) sizes.push(logUniform(r, 16 * KiB, 128 * KiB));
    else sizes.push(logUniform(r, 128 * KiB, MiB));
  }
  // The rest to the large files, by random weights; scaled down first in the unlikely case the
  // others already take more than 90% of the total (a very small --scale).
  let rest = total - sizes.reduce((a, b) => a + b, 0);
  if (rest < total * 0.1) {
    const k = (total * 0.9) / (total - rest);
    for (let i = 0; i < sizes.length; i++) sizes[i] = Math.floor(sizes[i] * k);
    rest = total - sizes.reduce((a, b) => a + b, 0);
  }
  const weights = Array.from({ length: large }, () => 1 + 3 * r());
  const sum = weights.reduce((a, b) => a + b, 0);
  const big = weights.map((w) => Math.floor((rest * w) / sum));
  big[0] += rest - big.reduce((a, b) => a + b, 0);
  // Large files spread through the tree rather than all at its end.
  for (const [i, size] of big.entries()) sizes.splice(Math.floor(((i + 0.5) * sizes.length) / large), 0, size);
  return sizes;
}

// Where file i of a package goes: packages of 100 files under a few top folders, each with the
// sub-folders a package installs into, so the tree is nested like a root filesystem.
const TOPS = ['usr/lib', 'usr/share', 'usr/lib/python3/dist-packages', 'opt', 'etc'];
const SUBS = ['', 'bin', 'lib', 'lib/plugins', 'share', 'share/doc', 'share/locale/de/LC_MESSAGES', 'include/sys'];

/**
 * Writes a tree of `sizes.length` regular files (sizes from `sizes`, incompressible data from one
 * seeded stream) under `root`, `perPackage` files per package folder; returns what the EROFS of it
 * must hold: files, folders (the root included) and bytes.
 */
export function writeTree(root, sizes, seed, perPackage, place) {
  fs.rmSync(root, { recursive: true, force: true });
  const next = byteStream(seed);
  const folders = new Set();
  const r = prng(sizes.length);
  for (const [i, size] of sizes.entries()) {
    const folder = path.join(root, place(Math.floor(i / perPackage), r));
    if (!folders.has(folder)) {
      fs.mkdirSync(folder, { recursive: true });
      for (let f = folder; f !== root && !folders.has(f); f = path.dirname(f)) folders.add(f);
    }
    const fd = fs.openSync(path.join(folder, `file-${i}`), 'w');
    for (let pos = 0; pos < size; pos += 4 * MiB) fs.writeSync(fd, next(Math.min(4 * MiB, size - pos)));
    fs.closeSync(fd);
  }
  return { files: sizes.length, folders: folders.size + 1, bytes: sizes.reduce((a, b) => a + b, 0) };
}

/**
 * The two trees, generated on the filesystem under test: `tree`, 50,000 files totalling 2 GiB (the
 * size mix above), and `rssTree`, 100,000 files of 0-8 KiB; both times `scale` (--scale, for
 * development: 0.01 is 500 files, 21 MiB). Synced once at the end (not file by file).
 */
export function erofsInputs(dir, scale = 1) {
  const r = prng(2026);
  const tree = path.join(dir, 'tree');
  const treeFacts = writeTree(tree, sizeMix(Math.round(50000 * scale), Math.round(2 * GiB * scale), r), 'imgforge-erofs', 100, (pkg, rr) =>
    path.join(TOPS[pkg % TOPS.length], `pkg-${pkg}`, SUBS[Math.floor(rr() * SUBS.length)]),
  );
  const rssTree = path.join(dir, 'rss-tree');
  const small = Array.from({ length: Math.round(100000 * scale) }, () => Math.floor(r() * (8 * KiB + 1)));
  const rssFacts = writeTree(rssTree, small, 'imgforge-erofs-rss', 100, (pkg) => path.join(`group-${Math.floor(pkg / 100)}`, `pkg-${pkg}`));
  run(['sync']);
  return { tree, treeFacts, rssTree, rssFacts };
}

function erofsSpec(ctx, name, tree) {
  const spec = path.join(ctx.conf, `${name}.yaml`);
  const fsSpec = `{ type: erofs, files: [{ source: ${JSON.stringify(tree)}, target: / }] }`;
  fs.writeFileSync(spec, yamlSpec([`seed: imgforge-bench-${name}`, 'partitions:', `  - { name: root, type: root-x86-64, size: auto, filesystem: ${fsSpec} }`]));
  return spec;
}

/**
 * Checks an EROFS (a file, or a byte range of an image through a read-only loop device, since
 * fsck.erofs 1.5 has no --offset): fsck.erofs finds no problem and the superblock counts one inode
 * per file and folder of the tree. Returns undefined when it is fine, else why not.
 */
function checkErofs(file, facts, range) {
  let target = file;
  if (range) target = run(['losetup', '--read-only', '--find', '--show', '--offset', String(range.offset), '--sizelimit', String(range.size), file]).trim();
  try {
    const fsck = run(['fsck.erofs', target], { allowFail: true });
    if (fsck.status !== 0) return `fsck.erofs: ${(fsck.stderr || fsck.stdout).trim().split('\n').slice(-3).join(' ')}`;
    const inodes = Number(run(['dump.erofs', '-s', target]).match(/inode count:\s+(\d+)/)?.[1]);
    const want = facts.files + facts.folders;
    return inodes === want ? undefined : `the EROFS has ${inodes} inodes, the tree ${want} files and folders`;
  } finally {
    if (range) run(['losetup', '--detach', target], { allowFail: true });
  }
}

const mkfsErofs = (out, tree) => `mkfs.erofs --quiet -T${EPOCH} -U ${UUID} --all-root ${quote(out)} ${quote(tree)}`;

export const erofsScenario = {
  title: 'erofs: EROFS root from a tree of 50,000 files (2 GiB) into a GPT image',
  inputs: (ctx) => erofsInputs(ctx.dir, ctx.scale),
  // The 2 GiB tree, the small-file tree (~400 MiB of data, ~600 MiB allocated on ext4) and one
  // output at a time: a 2 GiB image, or mkfs.erofs's 2 GiB file (XFS: its GPT image shares it).
  liveBytes: 5 * GiB,
  tools(ctx, inputs) {
    const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
    const spec = erofsSpec(ctx, 'erofs', inputs.tree);
    const layout = planOf(ctx, spec, env);
    const part = layout.partitions[0];
    const out = (name) => path.join(ctx.out, name);
    const inPartition = (tool) => () => checkErofs(tool.output, inputs.treeFacts, { offset: part.offset, size: part.size });
    const imgforge = { ...imgforgeTool(ctx, spec), env };
    imgforge.verify = inPartition(imgforge);
    const tools = [imgforge];
    if (ctx.fs === 'xfs') {
      // mkfs.erofs cannot write at an offset: it makes a file, which is then shared into the
      // partition by reflink (FICLONERANGE: cp --reflink can only clone whole files). The EROFS
      // is a whole number of 4 KiB blocks, as a reflink's length must be.
      const erofsFile = out('mkfs.erofs');
      const img = out('mkfs-gpt.img');
      const script =
        `${mkfsErofs(erofsFile, inputs.tree)} && ${newGptSfdisk(layout, img)} && ` +
        `xfs_io -c "reflink ${erofsFile} 0 ${part.offset} $(stat -c %s ${quote(erofsFile)})" ${quote(img)} && sync ${quote(erofsFile)} ${quote(img)} ${quote(ctx.out)}`;
      const gpt = { name: EROFS_ROWS.mkfsGpt, output: img, script };
      // Larger than imgforge's partition: the check says so rather than write past its end.
      gpt.verify = () => (fs.statSync(erofsFile).size > part.size ? `mkfs.erofs made ${fs.statSync(erofsFile).size} bytes, more than the ${part.size}-byte partition` : inPartition(gpt)());
      // The floor: a reflink copy of the tree, made durable with syncfs (sync -f): fsync of the
      // folder alone would leave its 50,000 files and their clones out.
      const copy = out('tree-copy');
      const cpTree = { name: EROFS_ROWS.cpTree, floor: true, image: false, output: copy, script: `cp -r --reflink=always ${quote(inputs.tree)} ${quote(copy)} && sync -f ${quote(copy)}` };
      cpTree.verify = () => {
        const count = (dir) => run(['bash', '-c', `cd ${quote(dir)} && find . -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n, s}'`]).trim();
        return count(copy) === count(inputs.tree) ? undefined : `the copy has ${count(copy)} (files, bytes), the tree ${count(inputs.tree)}`;
      };
      tools.push(gpt, cpTree);
    } else {
      const erofsFile = out('mkfs.erofs');
      tools.push({ name: EROFS_ROWS.mkfs, image: false, output: erofsFile, script: durable(mkfsErofs(erofsFile, inputs.tree), erofsFile), verify: () => checkErofs(erofsFile, inputs.treeFacts) });
    }
    // Memory: imgforge holds the whole tree's plan (every inode, name and extent) while writing,
    // so its peak RSS grows with the number of files; this row is timed too but has no ratio
    // (another tree).
    const rssSpec = erofsSpec(ctx, 'erofs-rss', inputs.rssTree);
    const rssLayout = planOf(ctx, rssSpec, env);
    const rss = { ...imgforgeTool(ctx, rssSpec, 'auto', EROFS_ROWS.rss, out('imgforge-rss.img')), env, aside: true, layout: rssLayout };
    const rssPart = rssLayout.partitions[0];
    rss.verify = () => checkErofs(rss.output, inputs.rssFacts, { offset: rssPart.offset, size: rssPart.size });
    tools.push(rss);
    return { layout, tools };
  },
};
