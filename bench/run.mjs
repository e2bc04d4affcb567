#!/usr/bin/env node
// npm run bench [-- --runs N] [--only raw,esp,big,fallback] [--fs ext4,xfs] [--workdir DIR] [--no-save]
// Builds the same images with imgforge and its peers on a loop-mounted ext4 and a loop-mounted XFS
// (reflink), times each several times and prints the tables; see bench/README.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, measure } from './lib/measure.mjs';
import { headlineTable, scenarioTable, targets, targetsTable, formatMs } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { Workspace, dropCaches, ensureTools, machineFacts, run } from './lib/system.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (message) => process.stderr.write(`${message}\n`);

function parseArgs(argv) {
  const options = { runs: undefined, only: Object.keys(SCENARIOS), fs: ['ext4', 'xfs'], workdir: '/var/tmp/imgforge-bench', fsSize: 24, save: true };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i] ?? fail(`${argv[i - 1]} needs a value`);
    switch (argv[i]) {
      case '--runs': options.runs = Number(value()); break;
      case '--only': options.only = value().split(','); break;
      case '--fs': options.fs = value().split(','); break;
      case '--workdir': options.workdir = path.resolve(value()); break;
      case '--fs-size-gib': options.fsSize = Number(value()); break;
      case '--no-save': options.save = false; break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')[1].slice(3) + '\n');
        process.exit(0);
      default: fail(`unknown option ${argv[i]}`);
    }
  }
  for (const s of options.only) if (!SCENARIOS[s]) fail(`unknown scenario ${s} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  for (const f of options.fs) if (!['ext4', 'xfs'].includes(f)) fail(`unknown filesystem ${f} (ext4, xfs)`);
  if (options.runs !== undefined && !(options.runs >= 1)) fail('--runs needs a number of at least 1');
  return options;
}

function fail(message) {
  log(`bench: ${message}`);
  process.exit(2);
}

/** Default runs: 5, except 3 for big (each run writes 4 GiB on ext4). */
const runsFor = (scenario, options) => options.runs ?? (scenario === 'big' ? 3 : 5);

function runScenario(name, ctx, inputs, options) {
  const scenario = SCENARIOS[name];
  fs.mkdirSync(ctx.conf, { recursive: true });
  const { layout, tools } = scenario.tools(ctx, inputs);
  const inputSize = fs.statSync(inputs.partition ?? inputs.contents ?? inputs.erofs).size;
  // Once, untimed, from cold caches: each command works and its image has imgforge's partition
  // layout. These runs also warm the caches (inputs, each tool's code) for the timed runs.
  dropCaches();
  for (const tool of tools) {
    const problem = check(tool, ctx, layout, inputSize);
    tool.status = problem ? `not timed: ${problem}` : 'ok';
    tool.samples = [];
    log(`  check ${tool.name}: ${problem ? `FAILED: ${problem}` : 'ok'}`);
  }
  // Runs interleave the tools, so slow drift of the machine touches all of them alike.
  const runs = runsFor(name, options);
  for (let i = 0; i < runs; i++) {
    for (const tool of tools.filter((t) => t.status === 'ok')) {
      const sample = measure(tool, ctx);
      tool.samples.push(sample);
      log(`  run ${i + 1}/${runs} ${tool.name}: ${formatMs(sample.ms)}${sample.elapsedMs !== undefined ? ` (elapsedMs ${sample.elapsedMs})` : ''}`);
    }
  }
  return { scenario: name, fs: ctx.fs, title: scenario.title, runs, tools: tools.map(({ name: n, imgforge, floor, status, samples }) => ({ name: n, imgforge, floor, status, samples })) };
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (process.getuid() !== 0) fail('needs root (loop devices, mounts, drop_caches)');
  const cli = path.join(repo, 'bin/imgforge.js');
  if (!fs.existsSync(path.join(repo, 'dist/cli/main.js')) || !fs.readdirSync(path.join(repo, 'native')).some((f) => f.endsWith('.node'))) {
    log('building imgforge (npm run build)');
    run(['npm', 'run', 'build'], { env: { ...process.env } });
  }
  ensureTools(log);
  const started = new Date();
  options.loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(', ');
  const workspace = new Workspace(options.workdir, options.fsSize * 2 ** 30, log);
  const results = [];
  const order = ['raw', 'esp', 'fallback', 'big'].filter((s) => options.only.includes(s));
  for (const fsType of options.fs) {
    const dir = workspace.mount(fsType);
    log(`${fsType}: loop-mounted at ${dir} (${options.fsSize} GiB)`);
    const inputs = {};
    for (const name of order) {
      const key = SCENARIOS[name].sharesInputsWith ?? name;
      const ctx = { fs: fsType, repo, cli, dir: path.join(dir, 'inputs', key), out: path.join(dir, 'out'), conf: path.join(dir, 'conf', name), tmp: path.join(dir, 'genimage-tmp'), empty: path.join(dir, 'empty'), work: dir };
      fs.mkdirSync(ctx.dir, { recursive: true });
      fs.mkdirSync(ctx.empty, { recursive: true });
      if (!inputs[key]) {
        log(`${name}/${fsType}: generating inputs`);
        inputs[key] = SCENARIOS[name].inputs(ctx);
      }
      log(`${name}/${fsType}: ${SCENARIOS[name].title}`);
      results.push(runScenario(name, ctx, inputs[key], options));
      fs.rmSync(ctx.out, { recursive: true, force: true });
    }
  }
  workspace.cleanup();
  report(results, options, started);
}

function report(results, options, started) {
  const machine = machineFacts(repo);
  const sorted = ['raw', 'esp', 'fallback', 'big'].flatMap((s) => results.filter((r) => r.scenario === s));
  const goals = targets(sorted, SCENARIOS.big.dataBytes);
  const args = process.argv.slice(2).join(' ');
  const md = [
    `# imgforge benchmark: ${started.toISOString().slice(0, 10)}, ${machine.hostname}`,
    '',
    `\`npm run bench${args ? ` -- ${args}` : ''}\`, ${sorted.map((r) => `${r.scenario}/${r.fs} ${r.runs} runs`).join(', ')}; took ${((Date.now() - started) / 60000).toFixed(1)} min.`,
    '',
    '## Machine',
    '',
    `- CPU: ${machine.cpu}; memory: ${machine.memory}`,
    `- kernel ${machine.kernel}, ${machine.os}; root filesystem ${machine.rootFilesystem}`,
    `- load average (1, 5, 15 min) at the start: ${options.loadAtStart}; at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')} (other work on the machine adds noise)`,
    `- filesystems under test: ext4 and XFS (\`mkfs.xfs -m reflink=1\`), each on a loop device backed by a sparse ${options.fsSize} GiB file on the root filesystem`,
    ...Object.entries(machine.tools).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Method',
    '',
    'Caches: `sync` and `echo 3 > /proc/sys/vm/drop_caches` once per scenario and filesystem, then each command runs once',
    'untimed (the check below), which warms the inputs and the tools\' code; every timed run then starts with its outputs',
    'removed and a `sync` (nothing dirty, no writeback of earlier runs pending): warm caches, clean state. Each timed run is',
    'the command under `/usr/bin/time` (peak RSS: the largest single process). Times are wall-clock around the whole command,',
    'Node start included for imgforge. imgforge fsyncs the image and its folder before it returns, so every peer command',
    'ends with `sync IMAGE FOLDER` too; rows marked "(no sync)" leave that out. Runs interleave the tools. Before timing,',
    "each command runs once and its image is checked: `sgdisk -v` clean and partitions where imgforge's plan puts them.",
    '"÷ imgforge" is the median divided by imgforge\'s median (above 1: imgforge is faster). "allocated / apparent" is',
    '`du -B1` / `du -b --apparent-size` of the output; "new blocks" is the drop in the filesystem\'s free space.',
    '',
    '## Headline (medians; in brackets: ÷ imgforge)',
    '',
    headlineTable(sorted),
    '',
    '## Targets',
    '',
    targetsTable(goals),
    '',
    '## All measurements',
    '',
    ...sorted.flatMap((r) => [`### ${r.title} — ${r.fs}`, '', scenarioTable(r), '']),
  ].join('\n');
  process.stdout.write(`\n${md}\n`);
  if (!options.save) return;
  const dir = path.join(repo, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${started.toISOString().slice(0, 10)}-${machine.hostname}-${machine.cpu.split('× ').pop()}cpu`);
  fs.writeFileSync(`${base}.md`, `${md}\n`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify({ date: started.toISOString(), options, machine, results: sorted, targets: goals }, null, 1)}\n`);
  log(`\nwrote ${path.relative(repo, base)}.md and .json`);
}

main();
