/**
 * The spec fuzzer: a coverage-blind, seeded mutational fuzzer for parseSpec (YAML and JSON).
 *
 *   node --import tsx fuzz/spec/run.ts [--seconds 60] [--seed 1] [--max-len 16384] [--timeout 10]
 *     [--slow-ms 1000] [--rss-limit-mb 2048] [--corpus fuzz/corpus/spec] [--artifacts fuzz/artifacts/spec]
 *     [--merge] [--replay FILE...]
 *
 * Inputs run in a worker thread with a heap limit; each must finish within --slow-ms (a slower one
 * is reported; one that exceeds --timeout is killed). Instead of coverage, an input is kept in the
 * scratch corpus when its outcome shows something new (an error message shape for a field, a spec
 * shape): see property.ts. On a violation the input (and a minimized copy) is written under
 * --artifacts and the run exits 1. With --merge, new interesting inputs are minimized and added to
 * the committed corpus. Exit status: 0 clean, 1 violation found, 2 bad usage.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SpecFormat } from '../../ts/types';
import { formatOf } from './property';
import { nextInput, Rng, type Input } from './mutate';
import type { Response } from './worker';

interface Options {
  seconds: number;
  seed: number;
  maxLen: number;
  timeoutMs: number;
  slowMs: number;
  rssLimitMb: number;
  corpus: string;
  artifacts: string;
  merge: boolean;
  mergeMax: number;
  replay: string[];
}

const ROOT = path.resolve(__dirname, '..', '..');

function usage(message: string): never {
  process.stderr.write(`fuzz spec: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    seconds: 60,
    seed: 1,
    maxLen: 16384,
    timeoutMs: 10_000,
    slowMs: 1000,
    rssLimitMb: 2048,
    corpus: path.join(ROOT, 'fuzz', 'corpus', 'spec'),
    artifacts: path.join(ROOT, 'fuzz', 'artifacts', 'spec'),
    merge: false,
    mergeMax: 50,
    replay: [],
  };
  const number = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) usage(`${flag} needs a non-negative number, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i];
    switch (arg) {
      case '--seconds': options.seconds = number(arg, value()); break;
      case '--seed': options.seed = number(arg, value()); break;
      case '--max-len': options.maxLen = number(arg, value()); break;
      case '--timeout': options.timeoutMs = number(arg, value()) * 1000; break;
      case '--slow-ms': options.slowMs = number(arg, value()); break;
      case '--rss-limit-mb': options.rssLimitMb = number(arg, value()); break;
      case '--corpus': options.corpus = path.resolve(value() ?? usage('--corpus needs a folder')); break;
      case '--artifacts': options.artifacts = path.resolve(value() ?? usage('--artifacts needs a folder')); break;
      case '--merge': options.merge = true; break;
      case '--merge-max': options.mergeMax = number(arg, value()); break;
      case '--replay':
        while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options.replay.push(path.resolve(argv[++i]));
        break;
      default:
        usage(`unknown option ${arg}`);
    }
  }
  return options;
}

type Run =
  | { kind: 'ok'; result: string; features: string[]; ms: number }
  | { kind: 'crash' | 'slow' | 'timeout' | 'oom'; detail: string; ms: number };

/** One worker at a time; replaced after it is killed (timeout) or dies (heap limit). */
class Executor {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly options: Options) {}

  private spawn(): Worker {
    // Workers do not inherit --import tsx: register tsx's require hook, then load the TypeScript.
    const entry = `require('tsx/cjs'); require(${JSON.stringify(path.join(__dirname, 'worker.ts'))});`;
    const worker = new Worker(entry, {
      eval: true,
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.rssLimitMb, stackSizeMb: 4 },
      stdout: true,
      stderr: false,
    });
    worker.unref();
    return worker;
  }

  async run(input: Input): Promise<Run> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    const started = performance.now();
    return new Promise<Run>((resolve) => {
      const done = (run: Run) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(run);
      };
      const retire = () => {
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
      };
      const onMessage = (response: Response) => {
        if (response.id !== id) return;
        if (!response.ok) return done({ kind: 'crash', detail: response.violation, ms: response.ms });
        if (response.ms > this.options.slowMs) {
          return done({ kind: 'slow', detail: `took ${response.ms.toFixed(0)} ms (at most ${this.options.slowMs} ms)`, ms: response.ms });
        }
        done({ kind: 'ok', result: response.result, features: response.features, ms: response.ms });
      };
      const onError = (error: Error & { code?: string }) => {
        retire();
        const oom = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
        done({ kind: oom ? 'oom' : 'crash', detail: `${oom ? `heap limit of ${this.options.rssLimitMb} MB reached: ` : ''}${error.stack ?? error.message}`, ms: performance.now() - started });
      };
      const onExit = (code: number) => {
        retire();
        done({ kind: 'crash', detail: `the worker exited with status ${code}`, ms: performance.now() - started });
      };
      const timer = setTimeout(() => {
        retire();
        done({ kind: 'timeout', detail: `no answer within ${this.options.timeoutMs} ms`, ms: performance.now() - started });
      }, this.options.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, bytes: input.bytes, format: input.format });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

const hash = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const extension = (format: SpecFormat) => (format === 'json' ? '.json' : '.yaml');

function loadCorpus(dir: string): Array<Input & { file: string }> {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.') && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => ({ file: path.join(dir, f), format: formatOf(f), bytes: new Uint8Array(fs.readFileSync(path.join(dir, f))) }));
}

/**
 * Greedy minimization: drops chunks (halves down to single bytes) while `keep` still holds.
 * Bounded by `budget` runs.
 */
async function minimize(input: Input, keep: (run: Run) => boolean, executor: Executor, budget: number): Promise<Input> {
  let best = input.bytes;
  let runs = 0;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && runs < budget; chunk >>= 1) {
    for (let at = 0; at < best.length && runs < budget; ) {
      const candidate = new Uint8Array(best.length - Math.min(chunk, best.length - at));
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + chunk), at);
      runs++;
      if (keep(await executor.run({ bytes: candidate, format: input.format }))) best = candidate;
      else at += chunk;
    }
  }
  return { bytes: best, format: input.format };
}

const violationKey = (run: Run) => (run.kind === 'ok' ? 'ok' : `${run.kind}:${run.detail.split('\n')[0].replace(/\d+/g, '#').slice(0, 120)}`);

async function report(run: Exclude<Run, { kind: 'ok' }>, input: Input, options: Options, executor: Executor): Promise<void> {
  fs.mkdirSync(options.artifacts, { recursive: true });
  const file = path.join(options.artifacts, `${run.kind}-${hash(input.bytes)}${extension(input.format)}`);
  fs.writeFileSync(file, input.bytes);
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  process.stderr.write(`\nfuzz spec: ${run.kind.toUpperCase()} (${input.format}, ${input.bytes.length} bytes): ${run.detail}\n`);
  process.stderr.write(`fuzz spec: reproducer written to ${rel(file)}\n`);
  if (run.kind === 'crash' && input.bytes.length > 1) {
    const key = violationKey(run);
    const small = await minimize(input, (r) => violationKey(r) === key, executor, 4000);
    const minimized = path.join(options.artifacts, `minimized-${run.kind}-${hash(small.bytes)}${extension(input.format)}`);
    fs.writeFileSync(minimized, small.bytes);
    process.stderr.write(`fuzz spec: minimized (${small.bytes.length} bytes) to ${rel(minimized)}\n`);
  }
  process.stderr.write(`fuzz spec: replay with: node --import tsx fuzz/spec/run.ts --replay ${rel(file)}\n`);
  process.stderr.write('fuzz spec: once fixed, copy it into fuzz/corpus/spec/ so the test suite replays it (see fuzz/README.md)\n');
}

async function replay(options: Options, executor: Executor): Promise<number> {
  let failures = 0;
  for (const file of options.replay) {
    const input = { bytes: new Uint8Array(fs.readFileSync(file)), format: formatOf(file) };
    const run = await executor.run(input);
    if (run.kind === 'ok') {
      process.stdout.write(`${file}: ${run.result} in ${run.ms.toFixed(1)} ms\n`);
    } else {
      failures++;
      process.stdout.write(`${file}: ${run.kind.toUpperCase()}: ${run.detail}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const executor = new Executor(options);
  try {
    if (options.replay.length > 0) return await replay(options, executor);

    const started = performance.now();
    const rng = new Rng(options.seed);
    const seen = new Set<string>();
    const results = new Map<string, number>();
    const committed = loadCorpus(options.corpus);
    const scratch: Input[] = [];
    const found: Array<{ input: Input; features: string[] }> = [];
    let execs = 0;
    let slowest = { ms: 0, bytes: 0 };
    const account = (input: Input, run: Extract<Run, { kind: 'ok' }>) => {
      execs++;
      results.set(run.result, (results.get(run.result) ?? 0) + 1);
      if (run.ms > slowest.ms) slowest = { ms: run.ms, bytes: input.bytes.length };
      const fresh = run.features.filter((f) => !seen.has(f));
      fresh.forEach((f) => seen.add(f));
      return fresh;
    };

    process.stderr.write(
      `fuzz spec: seed ${options.seed}, ${options.seconds} s, max-len ${options.maxLen}, timeout ${options.timeoutMs} ms, slow ${options.slowMs} ms, heap ${options.rssLimitMb} MB, corpus ${path.relative(process.cwd(), options.corpus) || '.'} (${committed.length} inputs)\n`,
    );
    // The committed corpus first: it must pass before anything new is tried.
    for (const entry of committed) {
      const run = await executor.run(entry);
      if (run.kind !== 'ok') {
        await report(run, entry, options, executor);
        process.stderr.write(`fuzz spec: the committed corpus entry ${entry.file} fails\n`);
        return 1;
      }
      account(entry, run);
      scratch.push(entry);
    }
    if (scratch.length === 0) scratch.push({ format: 'yaml', bytes: new TextEncoder().encode('partitions: []\n') });

    const deadline = started + options.seconds * 1000;
    let nextStatus = performance.now() + 10_000;
    // The next input is made while the worker runs the current one (the scratch corpus it draws
    // from is thus one result behind, the same way in every run of a seed).
    let input = nextInput(rng, scratch, options.maxLen);
    let pending = executor.run(input);
    while (performance.now() < deadline) {
      const next = nextInput(rng, scratch, options.maxLen);
      const run = await pending;
      const current = input;
      input = next;
      pending = executor.run(input);
      if (run.kind !== 'ok') {
        await pending;
        await report(run, current, options, executor);
        return 1;
      }
      const fresh = account(current, run);
      if (fresh.length > 0) {
        scratch.push(current);
        found.push({ input: current, features: fresh });
      }
      if (performance.now() > nextStatus) {
        nextStatus += 10_000;
        const s = (performance.now() - started) / 1000;
        process.stderr.write(`fuzz spec: #${execs} in ${s.toFixed(0)} s (${(execs / s).toFixed(0)}/s), corpus ${scratch.length}, features ${seen.size}\n`);
      }
    }
    const last = await pending;
    if (last.kind !== 'ok') {
      await report(last, input, options, executor);
      return 1;
    }
    account(input, last);

    const seconds = (performance.now() - started) / 1000;
    const outcomes = [...results].map(([k, v]) => `${k} ${v}`).join(', ');
    process.stderr.write(
      `fuzz spec: done: ${execs} inputs in ${seconds.toFixed(1)} s (${(execs / seconds).toFixed(0)}/s); ${outcomes}; ` +
        `corpus ${committed.length} -> ${scratch.length} (${found.length} new), ${seen.size} features; slowest input ${slowest.ms.toFixed(1)} ms (${slowest.bytes} bytes)\n`,
    );

    if (options.merge && found.length > 0) {
      fs.mkdirSync(options.corpus, { recursive: true });
      const existing = new Set(committed.map((e) => hash(e.bytes)));
      let added = 0;
      // Smallest first: they carry the new features most cheaply.
      for (const { input, features } of [...found].sort((a, b) => a.input.bytes.length - b.input.bytes.length)) {
        if (added >= options.mergeMax) break;
        const small = await minimize(input, (r) => r.kind === 'ok' && features.some((f) => r.features.includes(f)), executor, 500);
        const digest = hash(small.bytes);
        if (small.bytes.length > 4096 || existing.has(digest)) continue;
        existing.add(digest);
        fs.writeFileSync(path.join(options.corpus, `${digest.slice(0, 16)}${extension(small.format)}`), small.bytes);
        added++;
      }
      process.stderr.write(`fuzz spec: --merge added ${added} minimized inputs to ${path.relative(process.cwd(), options.corpus)}\n`);
    }
    return 0;
  } finally {
    await executor.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`fuzz spec: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
