// The targets, judged per filesystem and backing on the per-round ratios (see ratios.mjs):
// a target is met when the median of its per-round values meets it, and the detail says in how
// many rounds it was met, so a verdict that rests on a few noisy rounds shows as such.
import { stats } from './measure.mjs';
import { EROFS_ROWS } from './erofs.mjs';
import { EXT4_ROWS } from './ext4.mjs';
import { formatBytes, formatMs, ratio } from './format.mjs';

const MiB = 2 ** 20;

/** The targets of every scenario, filesystem and backing in `results`. */
export function targets(results, dataBytes) {
  const out = [];
  const backings = [...new Set(results.map((r) => r.backing))];
  for (const backing of backings) {
    const find = (scenario, fs, match) => {
      const result = results.find((r) => r.scenario === scenario && r.fs === fs && r.backing === backing);
      const tool = result?.tools.find((t) => (typeof match === 'function' ? match(t) : t.name === match));
      return tool?.summary ? tool : undefined;
    };
    const where = (scenario, fs) => `${scenario}, ${fs}, ${backing}`;
    const add = (name, values, ok, describe) => {
      if (!values) return out.push({ backing, name, met: undefined, detail: 'not measured in this run' });
      const s = stats(values);
      const rounds = values.filter(ok).length;
      out.push({ backing, name, met: ok(s.median), roundsMet: rounds, rounds: values.length, median: s.median, min: s.min, max: s.max, detail: `${describe(s)}; met in ${rounds} of ${values.length} rounds` });
    };
    // Per-round values of a peer against imgforge (ratio or ratioElapsed), or undefined.
    const perRound = (tool, key) => (tool ? tool.samples.map((s) => s[key]) : undefined);
    const spread = (s, unit = ratio) => `median ${unit(s.median)} (${unit(s.min)} – ${unit(s.max)})`;

    // raw, XFS: imgforge against the reflink copy, on its own build time and as a whole process.
    const ix = find('raw', 'xfs', (t) => t.imgforge);
    for (const label of ['cp --reflink=always (no sync)', 'cp --reflink=always']) {
      const cp = ix && find('raw', 'xfs', label);
      const shown = label === 'cp --reflink=always' ? `${label} && sync` : label;
      // elapsedMs ≤ 2 × cp  ⇔  cp ÷ elapsedMs ≥ 0.5.
      add(`${where('raw', 'xfs')}: elapsedMs within 2× of ${shown}`, perRound(cp, 'ratioElapsed'), (r) => r >= 0.5, (s) => `${shown} ÷ imgforge elapsedMs ${spread(s)}, needs ≥ 0.50×`);
      // Whole process within 100 ms: the difference of the two times in each round.
      const diffs = cp && ix.samples.map((s, i) => s.ms - cp.samples[i].ms);
      add(`${where('raw', 'xfs')}: whole process within 100 ms of ${shown}`, diffs, (d) => d <= 100, (s) => `imgforge − cp per round: ${spread(s, formatMs)}`);
    }
    const gi = ix && find('raw', 'xfs', 'genimage');
    add(`${where('raw', 'xfs')}: at least 50× faster than genimage (imgforge elapsedMs)`, perRound(gi, 'ratioElapsed'), (r) => r >= 50, (s) => `genimage ÷ imgforge elapsedMs ${spread(s)}`);
    add(`${where('raw', 'xfs')}: at least 50× faster than genimage (whole processes)`, perRound(gi, 'ratio'), (r) => r >= 50, (s) => `genimage ÷ imgforge ${spread(s)}`);

    // raw, ext4: no reflink; imgforge copies in the kernel and fsyncs, against cp with and without sync.
    const ie = find('raw', 'ext4', (t) => t.imgforge);
    for (const label of ['cp --reflink=never', 'cp --reflink=never (no sync)']) {
      const cp = ie && find('raw', 'ext4', label);
      const shown = label === 'cp --reflink=never' ? `${label} && sync` : label;
      add(`${where('raw', 'ext4')}: at least as fast as ${shown}`, perRound(cp, 'ratio'), (r) => r >= 1, (s) => `cp ÷ imgforge ${spread(s)}`);
    }

    // esp: against the classic mkfs.fat + mcopy pipeline.
    for (const [fs, factor] of [['ext4', 3], ['xfs', 10]]) {
      const m = find('esp', fs, (t) => t.imgforge) && find('esp', fs, (t) => t.name.startsWith('sgdisk + mkfs.fat'));
      add(`${where('esp', fs)}: at least ${factor}× faster than mkfs.fat + mcopy`, perRound(m, 'ratio'), (r) => r >= factor, (s) => `mkfs.fat + mcopy ÷ imgforge ${spread(s)}`);
    }

    // big: memory and allocation, not time; every round must meet them (they do not drift).
    for (const fs of ['ext4', 'xfs']) {
      const b = find('big', fs, (t) => t.imgforge);
      const rss = b?.samples.map((s) => s.rssKiB * 1024);
      add(`${where('big', fs)}: peak RSS under 100 MiB`, rss, (v) => v < 100 * MiB, (s) => `${formatBytes(s.median)} (${formatBytes(s.min)} – ${formatBytes(s.max)})`);
      const excess = b?.samples.map((s) => (s.allocated - dataBytes) / dataBytes);
      add(`${where('big', fs)}: allocated within 1% of the data written`, excess, (e) => Math.abs(e) <= 0.01, (s) => `${(s.median * 100).toFixed(3)}% over the ${dataBytes} bytes of data (${b.summary.allocated} allocated, apparent ${formatBytes(b.summary.apparent)})`);
    }

    // erofs (issue 13): on XFS against mkfs.erofs + a reflink into the GPT, and within 2× of the
    // reflink copy of the tree (the floor); on ext4 at least as fast as mkfs.erofs alone.
    const erofsPeer = (fs, name) => find('erofs', fs, (t) => t.imgforge) && find('erofs', fs, name);
    const gpt = erofsPeer('xfs', EROFS_ROWS.mkfsGpt);
    add(`${where('erofs', 'xfs')}: at least 5× faster than mkfs.erofs + reflink into the GPT`, perRound(gpt, 'ratio'), (r) => r >= 5, (s) => `mkfs.erofs + reflink ÷ imgforge ${spread(s)}`);
    const floor = erofsPeer('xfs', EROFS_ROWS.cpTree);
    add(`${where('erofs', 'xfs')}: within 2× of cp -r --reflink=always && sync -f`, perRound(floor, 'ratio'), (r) => r >= 0.5, (s) => `cp -r ÷ imgforge ${spread(s)}, needs ≥ 0.50×`);
    const mkfs = erofsPeer('ext4', EROFS_ROWS.mkfs);
    add(`${where('erofs', 'ext4')}: at least as fast as mkfs.erofs && sync`, perRound(mkfs, 'ratio'), (r) => r >= 1, (s) => `mkfs.erofs ÷ imgforge ${spread(s)}`);
    // ext4 (issue 14): at least as fast as making the filesystem in a file and copying it in.
    for (const fsType of ['ext4', 'xfs']) {
      for (const name of [EXT4_ROWS.sgdisk, EXT4_ROWS.sfdisk]) {
        const peer = find('ext4', fsType, (t) => t.imgforge) && find('ext4', fsType, name);
        add(`${where('ext4', fsType)}: at least as fast as ${name} && sync`, perRound(peer, 'ratio'), (r) => r >= 1, (s) => `${name} ÷ imgforge ${spread(s)}`);
      }
    }
    // Memory, like big's: every round must meet it.
    for (const fs of ['ext4', 'xfs']) {
      const rss = find('erofs', fs, EROFS_ROWS.rss)?.samples.map((s) => s.rssKiB * 1024);
      add(`${where('erofs', fs)}: peak RSS under 256 MiB with 100,000 files`, rss, (v) => v < 256 * MiB, (s) => `${formatBytes(s.median)} (${formatBytes(s.min)} – ${formatBytes(s.max)})`);
    }

    // Delivery (issue 17): one pass from the build's map against the raw build plus a second tool
    // that reads the whole image again.
    for (const fs of ['ext4', 'xfs']) {
      const bmap = find('bmap', fs, (t) => t.imgforge) && find('bmap', fs, 'imgforge build, then bmaptool create');
      add(`${where('bmap', fs)}: --bmap at least 2× faster than the raw build + bmaptool create`, perRound(bmap, 'ratio'), (r) => r >= 2, (s) => `two steps ÷ imgforge ${spread(s)}`);
      const qcow2 = find('qcow2', fs, (t) => t.imgforge) && find('qcow2', fs, (t) => !t.imgforge);
      add(`${where('qcow2', fs)}: .qcow2 at least 2× faster than the raw build + qemu-img convert -O qcow2`, perRound(qcow2, 'ratio'), (r) => r >= 2, (s) => `two steps ÷ imgforge ${spread(s)}`);
      const zstd = find('zstd', fs, (t) => t.imgforge) && find('zstd', fs, (t) => !t.imgforge);
      add(`${where('zstd', fs)}: .img.zst at least 1.2× faster than the raw build + zstd -T0`, perRound(zstd, 'ratio'), (r) => r >= 1.2, (s) => `two steps ÷ imgforge ${spread(s)}`);
    }
  }
  return out;
}

export function targetsTable(list) {
  const mark = (t) => (t.met === undefined ? 'not measured' : t.met ? 'met' : '**missed**');
  return ['| target | result | measured |', '|---|---|---|', ...list.map((t) => `| ${t.name} | ${mark(t)} | ${t.detail} |`)].join('\n');
}
