// Tables and target checks, as Markdown (printed and written to bench/results/).
import { stats } from './measure.mjs';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export function formatMs(ms) {
  if (ms === undefined) return '–';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatBytes(n) {
  if (n === undefined) return '–';
  const abs = Math.abs(n);
  if (abs >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (abs >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

const ratio = (x) => (x >= 100 ? `${Math.round(x)}×` : x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`);

/** Per tool: time statistics, imgforge's own elapsedMs, peak RSS, allocated/apparent bytes. */
export function summarize(tool) {
  if (!tool.samples?.length) return { ...tool };
  const last = tool.samples[tool.samples.length - 1];
  return {
    ...tool,
    time: stats(tool.samples.map((s) => s.ms)),
    elapsed: tool.imgforge ? stats(tool.samples.map((s) => s.elapsedMs)) : undefined,
    rssKiB: Math.max(...tool.samples.map((s) => s.rssKiB)),
    allocated: last.allocated,
    apparent: last.apparent,
    newBytes: stats(tool.samples.map((s) => s.newBytes)).median,
  };
}

/** The detailed table of one scenario on one filesystem. */
export function scenarioTable(result) {
  const tools = result.tools.map(summarize);
  const reference = tools.find((t) => t.imgforge && t.time);
  const rows = [
    '| tool | median | min – max | ÷ imgforge | peak RSS | allocated / apparent | new blocks |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of tools) {
    if (!t.time) {
      rows.push(`| ${t.name} | ${t.status} | | | | | |`);
      continue;
    }
    const r = reference ? ratio(t.time.median / reference.time.median) : '–';
    rows.push(
      `| ${t.name} | ${formatMs(t.time.median)} | ${formatMs(t.time.min)} – ${formatMs(t.time.max)} | ${r} | ${formatBytes(t.rssKiB * 1024)} | ` +
        `${formatBytes(t.allocated)} / ${formatBytes(t.apparent)} | ${formatBytes(t.newBytes)} |`,
    );
    if (t.elapsed) rows.push(`| ↳ its own build time (elapsedMs) | ${formatMs(t.elapsed.median)} | ${formatMs(t.elapsed.min)} – ${formatMs(t.elapsed.max)} | | | | |`);
  }
  return rows.join('\n');
}

const COLUMNS = [
  ['cp (physical)', (n) => n === 'cp --reflink=never'],
  ['cp --reflink=always', (n) => n === 'cp --reflink=always'],
  ['sgdisk + dd', (n) => n.startsWith('sgdisk + dd')],
  ['mkfs.fat + mcopy', (n) => n.startsWith('sgdisk + mkfs.fat')],
  ['systemd-repart', (n) => n.includes('systemd-repart')],
  ['genimage', (n) => n.startsWith('genimage')],
];

/** One line per scenario and filesystem: imgforge's median, each peer's and how many times slower it is. */
export function headlineTable(results) {
  const rows = [`| scenario | fs | imgforge | ${COLUMNS.map(([c]) => c).join(' | ')} |`, `|---|---|---:|${COLUMNS.map(() => '---:').join('|')}|`];
  for (const result of results) {
    const tools = result.tools.map(summarize);
    const ref = tools.find((t) => t.imgforge && t.time);
    if (!ref) continue;
    if (result.scenario === 'fallback') {
      const rw = tools.find((t) => t.name.includes('read-write'));
      const cell = rw?.time ? `read-write: ${formatMs(rw.time.median)} (${ratio(rw.time.median / ref.time.median)})` : '–';
      rows.push(`| fallback | ${result.fs} | ${formatMs(ref.time.median)} | ${cell} |${' |'.repeat(COLUMNS.length - 1)}`);
      continue;
    }
    const cells = COLUMNS.map(([, match]) => {
      const t = tools.find((x) => match(x.name));
      if (!t) return '';
      if (!t.time) return 'failed';
      return `${formatMs(t.time.median)} (${ratio(t.time.median / ref.time.median)})`;
    });
    rows.push(`| ${result.scenario} | ${result.fs} | ${formatMs(ref.time.median)} | ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

/** The issue's targets, each met, missed, or not measured in this run. */
export function targets(results, dataBytes) {
  const find = (scenario, fs, match) => {
    const result = results.find((r) => r.scenario === scenario && r.fs === fs);
    const tool = result?.tools.find((t) => (typeof match === 'function' ? match(t) : t.name === match));
    return tool?.samples?.length ? summarize(tool) : undefined;
  };
  const imgforge = (scenario, fs) => find(scenario, fs, (t) => t.imgforge);
  const out = [];
  const add = (name, ok, detail) => out.push({ name, met: ok, detail });
  const notMeasured = (name) => out.push({ name, met: undefined, detail: 'not measured in this run' });

  const ix = imgforge('raw', 'xfs');
  for (const [label, peer] of [
    ['cp --reflink=always (no sync)', find('raw', 'xfs', 'cp --reflink=always (no sync)')],
    ['cp --reflink=always && sync', find('raw', 'xfs', 'cp --reflink=always')],
  ]) {
    if (!ix || !peer) {
      notMeasured(`raw, xfs: elapsedMs within 2× of ${label}`);
      continue;
    }
    const e = ix.elapsed.median;
    const c = peer.time.median;
    add(`raw, xfs: elapsedMs within 2× of ${label}`, e <= 2 * c, `${formatMs(e)} vs ${formatMs(c)} (${(e / c).toFixed(1)}×)`);
    add(`raw, xfs: whole process within 100 ms of ${label}`, ix.time.median <= c + 100, `${formatMs(ix.time.median)} vs ${formatMs(c)} (+${formatMs(ix.time.median - c)})`);
  }
  const gi = find('raw', 'xfs', 'genimage');
  if (ix && gi) {
    add('raw, xfs: at least 50× faster than genimage (imgforge elapsedMs)', gi.time.median >= 50 * ix.elapsed.median, `genimage ${formatMs(gi.time.median)} ÷ ${formatMs(ix.elapsed.median)} = ${ratio(gi.time.median / ix.elapsed.median)}`);
    add('raw, xfs: at least 50× faster than genimage (whole processes)', gi.time.median >= 50 * ix.time.median, `genimage ${formatMs(gi.time.median)} ÷ ${formatMs(ix.time.median)} = ${ratio(gi.time.median / ix.time.median)}`);
  } else notMeasured('raw, xfs: at least 50× faster than genimage');
  const ie = imgforge('raw', 'ext4');
  for (const label of ['cp --reflink=never', 'cp --reflink=never (no sync)']) {
    const cp = find('raw', 'ext4', label);
    if (ie && cp) add(`raw, ext4: at least as fast as ${label === 'cp --reflink=never' ? `${label} && sync` : label}`, ie.time.median <= cp.time.median, `${formatMs(ie.time.median)} vs ${formatMs(cp.time.median)}`);
    else notMeasured(`raw, ext4: at least as fast as ${label}`);
  }
  for (const [fs, factor] of [['ext4', 3], ['xfs', 10]]) {
    const i = imgforge('esp', fs);
    const m = find('esp', fs, (t) => t.name.startsWith('sgdisk + mkfs.fat'));
    if (i && m) add(`esp, ${fs}: at least ${factor}× faster than mkfs.fat + mcopy`, m.time.median >= factor * i.time.median, `${formatMs(m.time.median)} ÷ ${formatMs(i.time.median)} = ${ratio(m.time.median / i.time.median)}`);
    else notMeasured(`esp, ${fs}: at least ${factor}× faster than mkfs.fat + mcopy`);
  }
  for (const fs of ['ext4', 'xfs']) {
    const b = imgforge('big', fs);
    if (!b) {
      notMeasured(`big, ${fs}: peak RSS under 100 MiB; allocated within 1% of the data written`);
      continue;
    }
    add(`big, ${fs}: peak RSS under 100 MiB`, b.rssKiB * 1024 < 100 * MiB, formatBytes(b.rssKiB * 1024));
    const excess = (b.allocated - dataBytes) / dataBytes;
    add(`big, ${fs}: allocated within 1% of the data written`, Math.abs(excess) <= 0.01, `${b.allocated} bytes allocated for ${dataBytes} bytes of data (${(excess * 100).toFixed(3)}%), apparent ${formatBytes(b.apparent)}`);
  }
  return out;
}

export function targetsTable(list) {
  const mark = (m) => (m === undefined ? 'not measured' : m ? 'met' : '**missed**');
  return ['| target | result | measured |', '|---|---|---|', ...list.map((t) => `| ${t.name} | ${mark(t.met)} | ${t.detail} |`)].join('\n');
}
