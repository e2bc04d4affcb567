// The tables and the Markdown document (printed, and written to bench/results/). Every time
// comparison is made on per-round ratios (ratios.mjs): peer ÷ imgforge of the same round.
import * as os from 'node:os';
import { formatBytes, formatMs, ratioSpread } from './format.mjs';
import { targetsTable } from './targets.mjs';

export { formatBytes, formatMs } from './format.mjs';

/** The detailed table of one scenario on one filesystem and backing. */
export function scenarioTable(result) {
  const rows = [
    '| tool | median | min – max | ÷ imgforge: median (min – max) | ÷ imgforge, round by round | ÷ imgforge elapsedMs: median (min – max) | peak RSS | allocated / apparent | new blocks |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of result.tools) {
    const s = t.summary;
    if (!s?.time) {
      rows.push(`| ${t.name} | ${t.status} | | | | | | | |`);
      continue;
    }
    // An `aside` row (erofs's memory row) is timed but compared with nothing: no ratios.
    const byRound = s.reference ? 'reference' : s.ratio ? t.samples.map((x) => x.ratio.toFixed(x.ratio >= 10 ? 0 : 2)).join(' ') : '–';
    rows.push(
      `| ${t.name} | ${formatMs(s.time.median)} | ${formatMs(s.time.min)} – ${formatMs(s.time.max)} | ${s.reference ? '1 (reference)' : ratioSpread(s.ratio)} | ${byRound} | ` +
        `${s.reference ? '' : ratioSpread(s.ratioElapsed)} | ${formatBytes(s.rssKiB * 1024)} | ${formatBytes(s.allocated)} / ${formatBytes(s.apparent)} | ${formatBytes(s.newBytes)} |`,
    );
    if (s.elapsed) rows.push(`| ↳ its own build time (elapsedMs) | ${formatMs(s.elapsed.median)} | ${formatMs(s.elapsed.min)} – ${formatMs(s.elapsed.max)} | | | | | | |`);
  }
  return rows.join('\n');
}

const COLUMNS = [
  ['cp (physical)', (n) => n === 'cp --reflink=never'],
  // erofs's floor (a copy of the tree, not of a file) shares this column: both are the reflink floor.
  ['cp --reflink=always', (n) => n === 'cp --reflink=always' || n === 'cp -r --reflink=always'],
  ['sgdisk + dd', (n) => n.startsWith('sgdisk + dd')],
  ['mkfs.fat + mcopy', (n) => n.startsWith('sgdisk + mkfs.fat')],
  ['systemd-repart', (n) => n.includes('systemd-repart')],
  ['genimage', (n) => n.startsWith('genimage')],
  // erofs: on XFS mkfs.erofs + a GPT (the reflink into it), on ext4 mkfs.erofs alone (the row names say which).
  ['mkfs.erofs', (n) => n.startsWith('mkfs.erofs')],
];

/** A peer's headline cell: its median time · its median per-round ratio (min – max). */
const cell = (t) => (!t ? '' : !t.summary?.time ? 'failed' : `${formatMs(t.summary.time.median)} · ${ratioSpread(t.summary.ratio)}`);

/** One line per scenario, filesystem and backing: imgforge's median and each peer's, with the ratios. */
export function headlineTable(results) {
  const rows = [`| scenario | fs | backing | imgforge | ${COLUMNS.map(([c]) => c).join(' | ')} |`, `|---|---|---|---:|${COLUMNS.map(() => '---:').join('|')}|`];
  for (const result of results) {
    const ref = result.tools.find((t) => t.name === result.reference);
    if (!ref) continue;
    const head = `| ${result.scenario} | ${result.fs} | ${result.backing} | ${formatMs(ref.summary.time.median)} |`;
    if (result.scenario === 'fallback') {
      const rw = result.tools.find((t) => t.name.includes('read-write'));
      rows.push(`${head} read-write: ${cell(rw) || '–'} |${' |'.repeat(COLUMNS.length - 1)}`);
      continue;
    }
    rows.push(`${head} ${COLUMNS.map(([, match]) => cell(result.tools.find((x) => match(x.name)))).join(' | ')} |`);
  }
  return rows.join('\n');
}

/** How to read the ratios: in the document itself, since the results file travels alone. */
const READING = [
  'Each scenario runs in rounds: in a round every tool runs once, one after the other; the order rotates by one tool',
  'from round to round, so no tool always follows the same one. For each peer and round, **ratio = the peer\'s time ÷ the imgforge CLI\'s time (`node bin/imgforge.js`, Node',
  'start included) in the same round**. "÷ imgforge: median (min – max)" is the median of those per-round ratios and the',
  'lowest and highest; "round by round" lists them in round order. "÷ imgforge elapsedMs" is the same with imgforge\'s own',
  'build time (`elapsedMs` of its `--json`, no Node start) as the divisor (for the `--copy read-write` row of `fallback`:',
  'its elapsedMs ÷ the reference\'s elapsedMs).',
  '',
  '- A ratio above 1 means imgforge was faster in that round; below 1, the peer was. `3.00×`: the peer took three times',
  '  as long.',
  '- If min and max are both above 1 (or both below), the order was the same in every round. If they straddle 1, it',
  '  changed from round to round: this run does not say which is faster, whatever the medians say.',
  '- The median ratio is not the ratio of the median times: a slow moment of the machine (writeback of the loop',
  '  device\'s backing file, the VM host) slows every tool of that round, and the per-round ratio cancels it, while',
  '  medians of absolute times taken over different rounds do not. Read the absolute medians for "how long", the',
  '  ratios for "which is faster, by how much".',
  '- Backing "disk": the loop device\'s backing file is on the root filesystem, so writes and fsyncs reach the VM\'s',
  '  disk; these times include that disk and vary with it. Backing "tmpfs": the backing file is in RAM, so the times',
  '  are the filesystem\'s and the tools\' work (page cache, journal, fsync through the loop device) without a device.',
  '  A ratio that holds on tmpfs but scatters on disk is the disk\'s noise; one that differs between the two shows',
  '  what the device adds to each tool.',
  '- Targets are judged on the median of the per-round values and say in how many rounds they were met.',
];

/** The whole results document. */
export function markdown({ results, goals, options, machine, started, skipped }) {
  const args = process.argv.slice(2).join(' ');
  const runs = results.map((r) => `${r.scenario}/${r.fs}/${r.backing} ${r.runs} runs`).join(', ');
  // tmpfsSizeUsed is unset when the tmpfs backing was left out for lack of memory (see the notes).
  const used = options.backing.filter((b) => b === 'disk' || options.tmpfsSizeUsed !== undefined);
  const backings = used.map((b) =>
    b === 'disk'
      ? `disk: a sparse ${options.fsSize} GiB file under ${options.workdir} on the root filesystem`
      : `tmpfs: a sparse ${options.tmpfsSizeUsed} GiB file in a tmpfs of its own, mounted under ${options.workdir}`,
  );
  return [
    `# imgforge benchmark: ${started.toISOString().slice(0, 10)}, ${machine.hostname}`,
    '',
    `\`npm run bench${args ? ` -- ${args}` : ''}\`, ${runs}; took ${((Date.now() - started) / 60000).toFixed(1)} min.`,
    '',
    '## Machine',
    '',
    `- CPU: ${machine.cpu}; memory: ${machine.memory}`,
    `- kernel ${machine.kernel}, ${machine.os}; root filesystem ${machine.rootFilesystem}`,
    `- load average (1, 5, 15 min) at the start: ${options.loadAtStart}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} (other work on the machine adds noise)`,
    `- filesystems under test: ${options.fs.map((f) => (f === 'xfs' ? 'XFS (`mkfs.xfs -m reflink=1`)' : 'ext4')).join(' and ')}, each made fresh on a loop device; backing files: ${backings.join('; ')}`,
    ...Object.entries(machine.tools).map(([k, v]) => `- ${k}: ${v}`),
    '',
    ...(skipped.length ? ['## Left out or reduced', '', ...skipped.map((s) => `- ${s}`), ''] : []),
    '## Method',
    '',
    'Caches: `sync` and `echo 3 > /proc/sys/vm/drop_caches` once per scenario, filesystem and backing, then each command',
    'runs once untimed (the check below), which warms the inputs and the tools\' code; every timed run then starts with its',
    'outputs removed and a `sync` (nothing dirty, no writeback of earlier runs pending): warm caches, clean state. Each',
    'timed run is the command under `/usr/bin/time` (peak RSS: the largest single process). Times are wall-clock around the',
    'whole command, Node start included for imgforge. imgforge fsyncs the image and its folder before it returns, so every',
    'peer command ends with `sync IMAGE FOLDER` too (a copied tree: `sync -f`, syncfs of its filesystem); rows marked "(no sync)" leave that out. Before timing, each command',
    "runs once and its image is checked: `sgdisk -v` clean and partitions where imgforge's plan puts them (an EROFS, in an",
    'image or a file: `fsck.erofs` clean and one inode per file and folder of its tree; a copied tree: its files and bytes). "allocated /',
    'apparent" is `du -B1` / `du -b --apparent-size` of the output; "new blocks" is the drop in the filesystem\'s free space.',
    '',
    '## How to read the ratios',
    '',
    ...READING,
    '',
    '## Headline (median time · ÷ imgforge per round: median (min – max))',
    '',
    headlineTable(results),
    '',
    '## Targets',
    '',
    targetsTable(goals),
    '',
    '## All measurements',
    '',
    ...results.flatMap((r) => [`### ${r.title} — ${r.fs}, ${r.backing}`, '', scenarioTable(r), '']),
  ].join('\n');
}
