#!/usr/bin/env node
// npm run bench [-- --runs N] [--only raw,esp,fallback,big,erofs,ext4] [--fs ext4,xfs] [--backing disk,tmpfs] [--workdir DIR] [--fs-size-gib N] [--tmpfs-size-gib N] [--scale F] [--no-save]
// Builds the same images with imgforge and its peers on a loop-mounted ext4 and a loop-mounted XFS
// (reflink), each backed by a file on disk and by one on tmpfs; times each in interleaved rounds
// and prints the tables with per-round ratios against imgforge; see bench/README.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, measure } from './lib/measure.mjs';
import { addRatios } from './lib/ratios.mjs';
import { formatMs, markdown } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { targets } from './lib/targets.mjs';
import { Workspace, availableMemory, dropCaches, ensureTools, machineFacts, run } from './lib/system.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (message) => process.stderr.write(`${message}\n`);
const GiB = 2 ** 30;
const ORDER = ['raw', 'esp', 'fallback', 'big', 'erofs', 'ext4', 'bmap', 'qcow2', 'zstd'];
// RAM left to everything else while a tmpfs-backed filesystem exists: the page cache of the
// filesystem under test (it caches what the tmpfs holds a second time), Node, the peers, and
// whatever else runs on the machine.
const TMPFS_HEADROOM = 4 * GiB;

// Every command runs with spawnSync, and Node handles signals only from its event loop: without a
// turn of the loop between commands, a SIGTERM (or a SIGINT sent to this process alone) would wait
// for the whole benchmark. Awaiting this after each command lets system.mjs's handler clean up
// as soon as the command in progress ends.
const letSignalsIn = () => new Promise((resolve) => setImmediate(resolve));

function parseArgs(argv) {
  const options = {
    runs: undefined,
    only: Object.keys(SCENARIOS),
    fs: ['ext4', 'xfs'],
    backing: ['disk', 'tmpfs'],
    workdir: '/var/tmp/imgforge-bench',
    fsSize: 24,
    tmpfsSize: 12,
    scale: 1,
    save: true,
  };
  const list = (v) => v.split(',').filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? fail(`${argv[i - 1]} needs a value`);
    switch (argv[i]) {
      case '--runs': options.runs = Number(value()); break;
      case '--only': options.only = list(value()); break;
      case '--fs': options.fs = list(value()); break;
      case '--backing': options.backing = list(value()); break;
      case '--workdir': options.workdir = path.resolve(value()); break;
      case '--fs-size-gib': options.fsSize = Number(value()); break;
      case '--tmpfs-size-gib': options.tmpfsSize = Number(value()); break;
      case '--scale': options.scale = Number(value()); break;
      case '--no-save': options.save = false; break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')[1].slice(3) + '\n');
        process.exit(0);
      default: fail(`unknown option ${argv[i]}`);
    }
  }
  for (const s of options.only) if (!SCENARIOS[s]) fail(`unknown scenario ${s} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  for (const f of options.fs) if (!['ext4', 'xfs'].includes(f)) fail(`unknown filesystem ${f} (ext4, xfs)`);
  for (const b of options.backing) if (!['disk', 'tmpfs'].includes(b)) fail(`unknown backing ${b} (disk, tmpfs)`);
  if (!options.only.length || !options.fs.length || !options.backing.length) fail('--only, --fs and --backing need at least one value');
  if (!(options.scale > 0 && options.scale <= 1)) fail('--scale needs a number above 0, at most 1');
  if (options.runs !== undefined && !(Number.isInteger(options.runs) && options.runs >= 1)) fail('--runs needs a whole number of at least 1');
  for (const [name, v] of [['--fs-size-gib', options.fsSize], ['--tmpfs-size-gib', options.tmpfsSize]]) if (!(v >= 2)) fail(`${name} needs a number of at least 2`);
  return options;
}

function fail(message) {
  log(`bench: ${message}`);
  process.exit(2);
}

/** Default runs: 5, except 3 for big (each run writes 4 GiB on ext4) and erofs (2 GiB, 50,000 files, by three tools). */
const runsFor = (scenario, options) => options.runs ?? (['big', 'erofs'].includes(scenario) ? 3 : 5);

/** The filesystem size a scenario needs: its live data plus room for metadata, journal, reserve. */
const neededGiB = (scenario) => Math.ceil(Math.max(scenario.liveBytes + GiB, scenario.liveBytes / 0.9) / GiB);

async function runScenario(name, ctx, inputs, options) {
  const scenario = SCENARIOS[name];
  fs.mkdirSync(ctx.conf, { recursive: true });
  const { layout, tools } = scenario.tools(ctx, inputs);
  // The size a floor's copy must have (erofs's floor copies a tree and checks it itself).
  const inputFile = inputs.partition ?? inputs.contents ?? inputs.erofs;
  const inputSize = inputFile && fs.statSync(inputFile).size;
  // Once, untimed, from cold caches: each command works and its image has imgforge's partition
  // layout. These runs also warm the caches (inputs, each tool's code) for the timed runs.
  dropCaches();
  for (const tool of tools) {
    const problem = check(tool, ctx, layout, inputSize);
    tool.status = problem ? `not timed: ${problem}` : 'ok';
    tool.samples = [];
    log(`  check ${tool.name}: ${problem ? `FAILED: ${problem}` : 'ok'}`);
    await letSignalsIn();
  }
  // Rounds: each round runs every tool once, one after the other, so whatever slows the machine
  // in that round slows all of them; addRatios then compares each peer with imgforge round by round.
  // The order rotates from round to round: a stall of the loop device (journal commits, writeback
  // of the backing file) that follows a position in the round would otherwise always hit one tool.
  const runs = runsFor(name, options);
  const timed = tools.filter((t) => t.status === 'ok');
  for (let round = 1; round <= runs; round++) {
    const shift = (round - 1) % timed.length;
    for (const tool of [...timed.slice(shift), ...timed.slice(0, shift)]) {
      const sample = { round, ...measure(tool, ctx) };
      tool.samples.push(sample);
      const own = sample.elapsedMs === undefined ? '' : ` (elapsedMs ${sample.elapsedMs}; copy ${sample.timings?.copy} ms, fsync ${sample.timings?.fsync} ms)`;
      log(`  round ${round}/${runs} ${tool.name}: ${formatMs(sample.ms)}${own}`);
      await letSignalsIn();
    }
  }
  const result = {
    scenario: name,
    fs: ctx.fs,
    backing: ctx.backing,
    title: scenario.title,
    runs,
    tools: tools.map(({ name: n, imgforge, floor, aside, status, samples }) => ({ name: n, imgforge, floor, aside, status, samples })),
  };
  return addRatios(result);
}

/**
 * The size of the tmpfs-backed filesystems: --tmpfs-size-gib, or less if the machine has not that
 * much memory to spare right now (then said in the report), or undefined (tmpfs left out).
 */
function tmpfsGiB(options, notes) {
  const spare = Math.floor((availableMemory() - TMPFS_HEADROOM) / GiB);
  if (spare >= options.tmpfsSize) return options.tmpfsSize;
  const why = `${(availableMemory() / GiB).toFixed(1)} GiB of memory available, ${TMPFS_HEADROOM / GiB} GiB kept for the page cache and the rest`;
  if (spare < 2) {
    notes.push(`tmpfs backing: not run (${why}).`);
    return undefined;
  }
  notes.push(`tmpfs backing: ${spare} GiB instead of --tmpfs-size-gib ${options.tmpfsSize} (${why}).`);
  return spare;
}

/** Runs the selected scenarios on one filesystem type and backing; returns their results. */
async function runFilesystem(workspace, fsType, backing, sizeGiB, order, options, notes) {
  const runnable = order.filter((name) => {
    if (neededGiB(SCENARIOS[name]) <= sizeGiB) return true;
    const need = neededGiB(SCENARIOS[name]);
    const how = backing === 'tmpfs' ? `--tmpfs-size-gib ${need} runs it, with ${need + TMPFS_HEADROOM / GiB} GiB of memory available` : `--fs-size-gib ${need} runs it`;
    const note = `${name} on ${backing}: not run: it needs a ${need} GiB filesystem (its input and one image at a time, plus metadata); the ${backing}-backed ones are ${sizeGiB} GiB (${how}).`;
    if (!notes.includes(note)) notes.push(note);
    log(`${name}/${fsType}/${backing}: skipped (needs a ${need} GiB filesystem)`);
    return false;
  });
  if (!runnable.length) return [];
  const entry = workspace.mount(fsType, backing, sizeGiB * GiB);
  log(`${fsType}/${backing}: loop-mounted at ${entry.dir} (${sizeGiB} GiB, backing file ${entry.file})`);
  const keyOf = (name) => SCENARIOS[name].sharesInputsWith ?? name;
  const inputs = {};
  const results = [];
  for (const [i, name] of runnable.entries()) {
    const key = keyOf(name);
    const dir = entry.dir;
    const ctx = { fs: fsType, backing, repo, cli: path.join(repo, 'bin/imgforge.js'), dir: path.join(dir, 'inputs', key), out: path.join(dir, 'out'), conf: path.join(dir, 'conf', name), tmp: path.join(dir, 'genimage-tmp'), empty: path.join(dir, 'empty'), work: dir, scale: options.scale };
    fs.mkdirSync(ctx.dir, { recursive: true });
    fs.mkdirSync(ctx.empty, { recursive: true });
    if (!inputs[key]) {
      log(`${name}/${fsType}/${backing}: generating inputs`);
      inputs[key] = SCENARIOS[name].inputs(ctx);
      await letSignalsIn();
    }
    log(`${name}/${fsType}/${backing}: ${SCENARIOS[name].title}`);
    results.push(await runScenario(name, ctx, inputs[key], options));
    fs.rmSync(ctx.out, { recursive: true, force: true });
    // Inputs go as soon as no later scenario uses them, so the filesystem (and, on tmpfs, RAM)
    // holds one scenario's data at a time: what liveBytes and neededGiB count on.
    if (!runnable.slice(i + 1).some((later) => keyOf(later) === key)) fs.rmSync(ctx.dir, { recursive: true, force: true });
  }
  workspace.release(entry);
  return results;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid() !== 0) fail('needs root (loop devices, mounts, drop_caches)');
  const built = ['dist/cli.js', 'dist/cli/main.js'].every((f) => fs.existsSync(path.join(repo, f)));
  const addon = fs.existsSync(path.join(repo, 'native')) && fs.readdirSync(path.join(repo, 'native')).some((f) => f.endsWith('.node'));
  if (!built || !addon) {
    log('building imgforge (npm run build)');
    run(['npm', 'run', 'build'], { env: { ...process.env } });
  }
  ensureTools(log);
  const started = new Date();
  options.loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(', ');
  const workspace = new Workspace(options.workdir, log);
  const notes = [];
  const results = [];
  const order = ORDER.filter((s) => options.only.includes(s));
  if (options.scale !== 1 && order.includes('erofs')) notes.push(`erofs: inputs scaled by --scale ${options.scale} (${Math.round(50000 * options.scale)} and ${Math.round(100000 * options.scale)} files): a development run, not the issue's sizes.`);
  // One filesystem at a time (made, used, removed), so at most one backing file takes disk space
  // or RAM; backings in the order of --backing (by default all disk-backed runs, then tmpfs).
  for (const backing of options.backing) {
    const sizeGiB = backing === 'disk' ? options.fsSize : tmpfsGiB(options, notes);
    if (sizeGiB === undefined) continue;
    if (backing === 'tmpfs') options.tmpfsSizeUsed = sizeGiB;
    for (const fsType of options.fs) results.push(...(await runFilesystem(workspace, fsType, backing, sizeGiB, order, options, notes)));
  }
  workspace.cleanup();
  if (!results.length) {
    for (const note of notes) log(`note: ${note}`);
    fail('nothing was run (see the notes above)');
  }
  report(results, options, started, notes);
}

/** Prints the Markdown report and, unless --no-save, writes it and the JSON of every sample. */
function report(results, options, started, notes) {
  const machine = machineFacts(repo);
  // Scenario, then filesystem, then backing: the disk and tmpfs rows of one case sit together.
  const rank = (r) => [ORDER.indexOf(r.scenario), options.fs.indexOf(r.fs), options.backing.indexOf(r.backing)];
  const sorted = [...results].sort((a, b) => rank(a).reduce((d, x, i) => d || x - rank(b)[i], 0));
  const goals = targets(sorted, SCENARIOS.big.dataBytes);
  const md = markdown({ results: sorted, goals, options, machine, started, skipped: notes });
  process.stdout.write(`\n${md}\n`);
  for (const note of notes) log(`note: ${note}`);
  if (!options.save) return;
  const dir = path.join(repo, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  // A second run on the same day (e.g. one --only scenario) gets -2, -3, ...: it must not
  // overwrite the day's full run that README.md links to.
  const stem = path.join(dir, `${started.toISOString().slice(0, 10)}-${machine.hostname}-${machine.cpu.split('× ').pop()}cpu`);
  let base = stem;
  for (let n = 2; fs.existsSync(`${base}.md`) || fs.existsSync(`${base}.json`); n++) base = `${stem}-${n}`;
  fs.writeFileSync(`${base}.md`, `${md}\n`);
  const legend = {
    ms: 'wall-clock time of the whole command (imgforge: node bin/imgforge.js, Node start included)',
    elapsedMs: "imgforge's own build time, from its --json",
    timings: "imgforge's own phases (scan, plan, tables, copy, fsync; ms), from its --json",
    round: 'the round of the sample: in a round every timed tool runs once; the order rotates by one tool each round',
    ratio: "this tool's ms ÷ the reference imgforge row's ms in the same round; > 1: imgforge was faster",
    ratioElapsed: "this tool's ms (imgforge rows: elapsedMs) ÷ the reference's elapsedMs in the same round",
    summary: 'median, min, max, n of each over the rounds; ratio.imgforgeFaster: rounds with ratio > 1',
  };
  fs.writeFileSync(`${base}.json`, `${JSON.stringify({ date: started.toISOString(), options, machine, legend, notes, results: sorted, targets: goals }, null, 1)}\n`);
  log(`\nwrote ${path.relative(repo, base)}.md and .json`);
}

// A failure ends the process; its 'exit' handler (system.mjs) unmounts and removes everything.
main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
