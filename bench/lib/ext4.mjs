// Scenario ext4: an ext4 partition from a tree of 20,000 files (1 GiB, the size mix of erofs.mjs)
// into a GPT image. imgforge runs mkfs.ext4 -d straight into the image at the partition's offset
// (and a debugfs pass for owners and times); the classic way makes the filesystem in a file of its
// own (truncate + mkfs.ext4 -d), writes the table (sgdisk, or sfdisk without sgdisk's fixed
// sync-and-sleep second) and copies the partition in with dd.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ddInto, durable, imgforgeTool, newGpt, newGptSfdisk, partSize, planOf, yamlSpec } from './commands.mjs';
import { prng, sizeMix, writeTree } from './erofs.mjs';
import { GiB } from './inputs.mjs';
import { quote, run } from './system.mjs';

const EPOCH = 1700000000;

export const EXT4_ROWS = {
  sgdisk: 'truncate + mkfs.ext4 -d + sgdisk + dd',
  sfdisk: 'truncate + mkfs.ext4 -d + sfdisk + dd',
};

/** The tree: 20,000 files totalling 1 GiB (times --scale), in package folders as erofs.mjs makes them. */
function ext4Inputs(dir, scale = 1) {
  const r = prng(2027);
  const tree = path.join(dir, 'tree');
  const facts = writeTree(tree, sizeMix(Math.round(20000 * scale), Math.round(GiB * scale), r), 'imgforge-ext4', 100, (pkg) => path.join(`group-${pkg % 20}`, `pkg-${pkg}`));
  run(['sync']);
  return { tree, facts };
}

/** e2fsck -fn finds nothing and the filesystem counts the tree's files and folders (the root is one of the 10 reserved inodes; lost+found adds one). */
function checkExt4(image, offset, facts) {
  const target = `${image}?offset=${offset}`;
  const fsck = run(['e2fsck', '-fn', target], { allowFail: true });
  if (fsck.status !== 0) return `e2fsck: ${(fsck.stdout || fsck.stderr).trim().split('\n').slice(-2).join(' ')}`;
  const used = /(\d+)\/\d+ files/.exec(fsck.stdout)?.[1];
  const want = facts.files + (facts.folders - 1) + 1 + 10;
  return Number(used) === want ? undefined : `the ext4 has ${used} inodes in use, the tree needs ${want}`;
}

export const ext4Scenario = {
  title: 'ext4: an ext4 partition from a tree of 20,000 files (1 GiB) into a GPT image',
  inputs: (ctx) => ext4Inputs(ctx.dir, ctx.scale),
  // The tree, imgforge's image, and per peer row a partition file and an image (sparse copies).
  liveBytes: 7 * GiB,
  tools(ctx, inputs) {
    const env = { SOURCE_DATE_EPOCH: String(EPOCH) };
    const spec = path.join(ctx.conf, 'ext4.yaml');
    const fsSpec = `{ type: ext4, label: data, files: [{ source: ${JSON.stringify(inputs.tree)}, target: / }] }`;
    fs.writeFileSync(spec, yamlSpec(['seed: imgforge-bench-ext4', 'partitions:', `  - { name: data, type: linux-generic, size: auto, filesystem: ${fsSpec} }`]));
    const layout = planOf(ctx, spec, env);
    const part = layout.partitions[0];
    const out = (name) => path.join(ctx.out, name);
    const imgforge = { ...imgforgeTool(ctx, spec), env };
    imgforge.verify = () => checkExt4(imgforge.output, part.offset, inputs.facts);
    // The same filesystem size, label and times; mkfs.ext4's own defaults otherwise.
    const mkfs = (file) =>
      `truncate -s ${partSize(part)} ${quote(file)} && E2FSPROGS_FAKE_TIME=${EPOCH} mkfs.ext4 -q -F -L data -E root_owner=0:0 -d ${quote(inputs.tree)} ${quote(file)}`;
    const peer = (name, table, stem) => {
      const partFile = out(`${stem}.part`);
      const img = out(`${stem}.img`);
      const tool = { name, output: img, script: durable(`${mkfs(partFile)} && ${table(layout, img)} && ${ddInto(partFile, img, part.offset)}`, img) };
      tool.verify = () => checkExt4(img, part.offset, inputs.facts);
      return tool;
    };
    return { layout, tools: [imgforge, peer(EXT4_ROWS.sgdisk, newGpt, 'sgdisk'), peer(EXT4_ROWS.sfdisk, newGptSfdisk, 'sfdisk')] };
  },
};
