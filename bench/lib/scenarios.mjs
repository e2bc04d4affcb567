// The scenarios and, for each, the commands of imgforge and of its peers. Every image-producing
// command ends with `sync OUTPUT FOLDER` (fsync of both), because imgforge fsyncs the image and
// its folder itself: all tools are timed delivering a durable image. The "(no sync)" rows show
// the bare primitive for reference.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ddInto, durable, imgforgeTool, newGpt, partSize, planOf, yamlSpec } from './commands.mjs';
import { erofsScenario } from './erofs.mjs';
import { ext4Scenario } from './ext4.mjs';
import { GiB, abInputs, bigInput, espInputs, rawInput } from './inputs.mjs';
import { quote, run } from './system.mjs';

const SEED_UUID = '5c0e2f1a-8d4b-4e6f-9a3c-7b1d2e4f6a80';

function genimageConfig(name, layout, images, extra = '') {
  const parts = layout.partitions.map((p) => {
    const image = images[p.name] ? `    image = ${JSON.stringify(images[p.name])}\n` : '';
    return `  partition ${p.name} {\n${image}    partition-type-uuid = "${p.type}"\n    offset = ${p.offset}\n    size = ${partSize(p)}\n  }\n`;
  });
  return `${extra}image ${name} {\n  hdimage {\n    partition-table-type = "gpt"\n  }\n  size = ${layout.diskSize}\n${parts.join('')}}\n`;
}

function repartDefinitions(dir, layout, copyBlocks) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  layout.partitions.forEach((p, i) => {
    const lines = ['[Partition]', `Type=${p.type.toLowerCase()}`, `Label=${p.name}`];
    if (copyBlocks[p.name]) lines.push(`CopyBlocks=${copyBlocks[p.name]}`);
    // Fixed sizes, also for imgforge's "grow" partition: repart would grow it to the last sector,
    // where imgforge ends it at the last aligned one.
    lines.push(`SizeMinBytes=${partSize(p)}`, `SizeMaxBytes=${partSize(p)}`);
    fs.writeFileSync(path.join(dir, `${10 + i}-${p.name}.conf`), `${lines.join('\n')}\n`);
  });
}

const repart = (defs, size, out) =>
  `/bin/systemd-repart --empty=create --size=${size} --dry-run=no --no-pager --definitions=${quote(defs)} --seed=${SEED_UUID} ${quote(out)} >/dev/null`;
const genimage = (ctx, cfg, out, rootpath) =>
  `rm -rf ${quote(ctx.tmp)} && genimage --config ${quote(cfg)} --outputpath ${quote(path.dirname(out))} --tmppath ${quote(ctx.tmp)} ` +
  `--inputpath ${quote(ctx.dir)} --rootpath ${quote(rootpath)} >/dev/null 2>&1`;
// mkfs.fat + mcopy, the classic way to make a FAT32 from a folder; geometry as imgforge chooses it
// for 512 MiB (FAT32, 4 KiB clusters).
const fatFromTree = (image, esp, sizeBytes, offsetSectors = 0) =>
  `mkfs.fat -F 32 -S 512 -s 8 -n ESP ${offsetSectors ? `--offset ${offsetSectors} ` : ''}${quote(image)} ${sizeBytes / 1024} >/dev/null && ` +
  `mcopy -s -i ${quote(offsetSectors ? `${image}@@${offsetSectors * 512}` : image)} ${quote(esp)}/* ::/ </dev/null`;

/** Tool rows common to the raw-copy scenarios (raw, big): floors and image builders. */
function rawCopyTools(ctx, layout, input, { bare }) {
  const part = layout.partitions[0];
  const out = (name) => path.join(ctx.out, `${name}.img`);
  const defs = path.join(ctx.conf, 'repart');
  repartDefinitions(defs, layout, { [part.name]: input });
  const cfg = path.join(ctx.conf, 'genimage.cfg');
  fs.writeFileSync(cfg, genimageConfig('genimage.img', layout, { [part.name]: input }));
  const tools = [];
  if (ctx.fs === 'xfs') {
    tools.push({ name: 'cp --reflink=always', floor: true, output: out('cp-reflink'), script: durable(`cp --reflink=always ${quote(input)} ${quote(out('cp-reflink'))}`, out('cp-reflink')) });
    if (bare) tools.push({ name: 'cp --reflink=always (no sync)', floor: true, output: out('cp-reflink-bare'), script: `cp --reflink=always ${quote(input)} ${quote(out('cp-reflink-bare'))}` });
  }
  tools.push({ name: 'cp --reflink=never', floor: true, output: out('cp'), script: durable(`cp --reflink=never ${quote(input)} ${quote(out('cp'))}`, out('cp')) });
  if (bare) tools.push({ name: 'cp --reflink=never (no sync)', floor: true, output: out('cp-bare'), script: `cp --reflink=never ${quote(input)} ${quote(out('cp-bare'))}` });
  tools.push(
    { name: 'sgdisk + dd conv=sparse', output: out('dd'), script: durable(`${newGpt(layout, out('dd'))} && ${ddInto(input, out('dd'), part.offset)}`, out('dd')) },
    { name: 'systemd-repart (CopyBlocks=)', output: out('repart'), script: durable(repart(defs, layout.diskSize, out('repart')), out('repart')) },
    { name: 'genimage', output: out('genimage'), script: durable(genimage(ctx, cfg, out('genimage'), ctx.empty), out('genimage')) },
  );
  return tools;
}

function espSpec(ctx, inputs) {
  const spec = path.join(ctx.conf, 'esp.yaml');
  fs.writeFileSync(
    spec,
    yamlSpec([
      'seed: imgforge-bench-esp',
      'size: 2GiB',
      'partitions:',
      `  - { name: ESP, type: esp, size: 512MiB, filesystem: { type: fat32, label: ESP, files: [{ source: ${JSON.stringify(inputs.esp)}, target: / }] } }`,
      `  - { name: system-a, type: root-x86-64, size: 64MiB, contents: ${JSON.stringify(inputs.erofs)} }`,
      '  - { name: system-b, type: root-x86-64, size: 64MiB }',
      '  - { name: data, type: linux-generic, size: grow }',
    ]),
  );
  return spec;
}

/** What the delivery scenarios (bmap, qcow2, zstd) build: the A/B example, examples/ab. */
const AB_EXAMPLE = {
  inputs: (ctx) => abInputs(ctx.dir, ctx.repo),
  sharesInputsWith: 'bmap',
  liveBytes: 2 * GiB, // ~320 MB of inputs and two images of ~360 MiB allocated (ext4)
};

/**
 * The A/B example delivered by imgforge as `ownName` in one pass, against the raw build followed
 * by `convert(raw, out)`, the two-step pipeline; `problem(file, layout)` checks either output.
 */
function convertedScenario({ key, ownName, suffix, peer, convert, problem }) {
  return {
    title: `${key}: the A/B example (examples/ab) as ${ownName.replace(/^disk/, '')} against the raw build + ${peer}`,
    ...AB_EXAMPLE,
    tools(ctx, inputs) {
      const { spec } = inputs;
      const layout = planOf(ctx, spec);
      const own = path.join(ctx.out, `imgforge${suffix}`);
      const raw = path.join(ctx.out, 'two-step.img');
      const peerOut = `${raw}${suffix}`;
      const verify = (file) => () => problem(file, layout);
      const build = `${quote(process.execPath)} ${quote(ctx.cli)} build ${quote(spec)} -o ${quote(raw)} -q --no-checksums`;
      return {
        layout,
        tools: [
          { ...imgforgeTool(ctx, spec, 'auto', `imgforge -o ${ownName}`, own), image: false, verify: verify(own) },
          { name: `imgforge build, then ${peer}`, output: peerOut, image: false, script: durable(`${build} && ${convert(raw, peerOut)}`, peerOut), verify: verify(peerOut) },
        ],
      };
    },
  };
}

export const SCENARIOS = {
  raw: {
    title: 'raw: 1 GiB partition image (8 MiB hole) into a 1.1 GiB GPT image',
    inputs: (ctx) => rawInput(ctx.dir),
    liveBytes: 2.2 * GiB, // the 1 GiB input and one 1.1 GiB image at a time
    tools(ctx, inputs) {
      const spec = path.join(ctx.conf, 'raw.yaml');
      fs.writeFileSync(spec, yamlSpec(['seed: imgforge-bench-raw', 'size: 1126MiB', 'partitions:', `  - { name: root, type: root-x86-64, size: 1GiB, contents: ${JSON.stringify(inputs.partition)} }`]));
      const layout = planOf(ctx, spec);
      return { layout, tools: [imgforgeTool(ctx, spec), ...rawCopyTools(ctx, layout, inputs.partition, { bare: true })] };
    },
  },
  esp: {
    title: 'esp: A/B image, 512 MiB ESP from 3,000 files (~300 MB) + 64 MiB erofs root, 2 GiB',
    inputs: (ctx) => espInputs(ctx.dir, ctx.repo),
    liveBytes: 1.5 * GiB, // ~350 MB of inputs, a 512 MiB FAT file and a 2 GiB image (~900 MiB allocated)
    tools(ctx, inputs) {
      const spec = espSpec(ctx, inputs);
      const layout = planOf(ctx, spec);
      const [esp, root] = layout.partitions;
      const out = (name) => path.join(ctx.out, `${name}.img`);
      const fat = path.join(ctx.out, 'esp.fat');
      const defs = path.join(ctx.conf, 'repart');
      repartDefinitions(defs, layout, { ESP: fat, 'system-a': inputs.erofs });
      const cfg = path.join(ctx.conf, 'genimage.cfg');
      const vfat = `image genimage-esp.vfat {\n  vfat {\n    label = "ESP"\n    extraargs = "-F 32 -S 512 -s 8"\n  }\n  size = ${partSize(esp)}\n}\n`;
      fs.writeFileSync(cfg, genimageConfig('genimage.img', layout, { ESP: 'genimage-esp.vfat', 'system-a': inputs.erofs }, vfat));
      const mtools = `${newGpt(layout, out('mtools'))} && ${fatFromTree(out('mtools'), inputs.esp, partSize(esp), esp.firstLba)} && ${ddInto(inputs.erofs, out('mtools'), root.offset)}`;
      return {
        layout,
        tools: [
          imgforgeTool(ctx, spec),
          { name: 'sgdisk + mkfs.fat --offset + mcopy -s + dd', output: out('mtools'), script: durable(mtools, out('mtools')) },
          {
            name: 'mkfs.fat + mcopy, then systemd-repart (CopyBlocks=)',
            output: out('repart'),
            script: durable(`truncate -s ${partSize(esp)} ${quote(fat)} && ${fatFromTree(fat, inputs.esp, partSize(esp))} && ${repart(defs, layout.diskSize, out('repart'))}`, out('repart')),
          },
          { name: 'genimage (mkdosfs + mcopy)', output: out('genimage'), script: durable(genimage(ctx, cfg, out('genimage'), inputs.esp), out('genimage')) },
        ],
      };
    },
  },
  big: {
    title: 'big: 64 GiB sparse image with 4 GiB of raw contents',
    inputs: (ctx) => bigInput(ctx.dir),
    liveBytes: 8.2 * GiB, // the 4 GiB input and one image with 4 GiB allocated (ext4; XFS shares it)
    tools(ctx, inputs) {
      const spec = path.join(ctx.conf, 'big.yaml');
      fs.writeFileSync(
        spec,
        yamlSpec(['seed: imgforge-bench-big', 'size: 64GiB', 'partitions:', `  - { name: system, type: root-x86-64, size: 4GiB, contents: ${JSON.stringify(inputs.contents)} }`, '  - { name: data, type: linux-generic, size: grow }']),
      );
      const layout = planOf(ctx, spec);
      return { layout, tools: [imgforgeTool(ctx, spec), ...rawCopyTools(ctx, layout, inputs.contents, { bare: false })] };
    },
    dataBytes: 4 * GiB,
  },
  fallback: {
    title: 'fallback: scenario esp with --copy read-write against --copy auto',
    inputs: (ctx) => espInputs(ctx.dir, ctx.repo),
    sharesInputsWith: 'esp',
    liveBytes: 1.5 * GiB,
    tools(ctx, inputs) {
      const spec = espSpec(ctx, inputs);
      return { layout: planOf(ctx, spec), tools: [imgforgeTool(ctx, spec, 'auto', 'imgforge --copy auto'), imgforgeTool(ctx, spec, 'read-write', 'imgforge --copy read-write')] };
    },
  },
  erofs: erofsScenario,
  ext4: ext4Scenario,
  bmap: {
    title: 'bmap: the A/B example (examples/ab) with --bmap against the raw build + bmaptool create',
    ...AB_EXAMPLE,
    tools(ctx, inputs) {
      const { spec } = inputs;
      const layout = planOf(ctx, spec);
      const own = path.join(ctx.out, 'imgforge.img');
      const peer = path.join(ctx.out, 'two-step.img');
      // bmaptool copy reads every mapped range and checks its SHA-256 against the bmap.
      const bmapProblem = (bmap, image) => {
        const copied = run(['bmaptool', '-q', 'copy', '--bmap', bmap, image, '/dev/null'], { allowFail: true });
        return copied.status === 0 ? undefined : `bmaptool copy --bmap ${bmap}: ${`${copied.stderr}`.trim().split('\n').pop()}`;
      };
      const hasBmap = (image) => () => bmapProblem(`${image}.bmap`, image);
      // The two steps' parts, timed in the same rounds, for the arithmetic of the ratio: the raw
      // build alone, and bmaptool create alone over an image built once beforehand (outside the
      // output folder, which every run empties). Two steps ÷ imgforge cannot pass
      // 1 + (bmaptool alone ÷ raw build alone), even if the bmap cost imgforge nothing.
      const prebuilt = path.join(ctx.conf, 'prebuilt.img');
      fs.rmSync(prebuilt, { force: true });
      run([process.execPath, ctx.cli, 'build', spec, '-o', prebuilt, '-q', '--no-checksums']);
      const alone = path.join(ctx.out, 'alone.bmap');
      return {
        layout,
        tools: [
          { ...imgforgeTool(ctx, spec, 'auto', 'imgforge --bmap', own, ['--bmap']), verify: hasBmap(own) },
          {
            name: 'imgforge build, then bmaptool create',
            output: peer,
            script: durable(`${quote(process.execPath)} ${quote(ctx.cli)} build ${quote(spec)} -o ${quote(peer)} -q --no-checksums && bmaptool create -o ${quote(`${peer}.bmap`)} ${quote(peer)}`, `${peer}.bmap`),
            verify: hasBmap(peer),
          },
          imgforgeTool(ctx, spec, 'auto', 'imgforge, the raw build alone (no bmap)', path.join(ctx.out, 'raw-alone.img')),
          {
            name: 'bmaptool create alone (an image built before)',
            output: alone,
            image: false,
            script: durable(`bmaptool create -o ${quote(alone)} ${quote(prebuilt)}`, alone),
            verify: () => bmapProblem(alone, prebuilt),
          },
        ],
      };
    },
  },
  qcow2: convertedScenario({
    key: 'qcow2',
    ownName: 'disk.qcow2',
    suffix: '.qcow2',
    peer: 'qemu-img convert -O qcow2',
    convert: (raw, out) => `qemu-img convert -O qcow2 ${quote(raw)} ${quote(out)}`,
    // Sound (qemu-img check) and of the layout's virtual size.
    problem: (file, layout) => {
      run(['qemu-img', 'check', '-q', file]);
      const info = JSON.parse(run(['qemu-img', 'info', '--output=json', file]));
      return info['virtual-size'] === layout.diskSize ? undefined : `${file} has a virtual size of ${info['virtual-size']}, expected ${layout.diskSize}`;
    },
  }),
  zstd: convertedScenario({
    key: 'zstd',
    ownName: 'disk.img.zst',
    suffix: '.zst',
    peer: 'zstd -T0',
    convert: (raw, out) => `zstd -T0 -q -f ${quote(raw)} -o ${quote(out)}`,
    // The stream must decompress to an image of the layout's size (zstd -t checks every frame).
    problem: (file, layout) => {
      run(['zstd', '-tq', file]);
      const bytes = Number(run(['sh', '-c', 'zstd -dcq "$1" | wc -c', 'sh', file]).trim());
      return bytes === layout.diskSize ? undefined : `${file} holds ${bytes} bytes, expected ${layout.diskSize}`;
    },
  }),
};
