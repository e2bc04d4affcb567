// One timed run of one tool, and the once-per-tool check that its image is the right one.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { diskUsage, freeBytes, run } from './system.mjs';

/** Empties the output folder (and genimage's temporary folder) so every run writes fresh files. */
export function cleanOutputs(ctx) {
  for (const dir of [ctx.out, ctx.tmp]) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(ctx.out, { recursive: true });
}

function execute(tool, timeFile) {
  const command = tool.argv ?? ['bash', '-c', `set -eo pipefail; ${tool.script}`];
  // GNU time reports the peak RSS (ru_maxrss: the largest single process of the tree) in KiB.
  const argv = ['/usr/bin/time', '-f', '%M', '-o', timeFile, ...command];
  const started = process.hrtime.bigint();
  const env = tool.env ? { ...process.env, ...tool.env } : process.env;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${tool.name} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().slice(-1500)}`);
  }
  const rssKiB = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop());
  return { ms, rssKiB, stdout: r.stdout };
}

/**
 * A timed run: outputs removed and `sync` (no dirty pages or pending writeback of earlier runs),
 * then the command under /usr/bin/time. Wall time is measured around the process. Caches are warm:
 * run.mjs drops them once per scenario, filesystem and backing, before the untimed check runs.
 */
export function measure(tool, ctx) {
  cleanOutputs(ctx);
  run(['sync']);
  const freeBefore = freeBytes(ctx.dir);
  const { ms, rssKiB, stdout } = execute(tool, path.join(ctx.work, 'time.out'));
  const sample = { ms, rssKiB };
  if (tool.imgforge) {
    const result = JSON.parse(stdout);
    sample.elapsedMs = result.elapsedMs;
    // Where imgforge's own time went (scan, plan, tables, copy, fsync), to locate a slow round.
    sample.timings = result.timings;
    sample.copy = result.copy;
  }
  run(['sync']);
  Object.assign(sample, diskUsage(tool.output));
  sample.newBytes = freeBefore - freeBytes(ctx.dir);
  return sample;
}

/**
 * Runs the tool once, untimed, and checks its image: `sgdisk -v` finds no problem and the
 * partitions start and end where imgforge's plan puts them (plain copies: the size only; a tool
 * with its own `layout`, another spec: that one), then the tool's own `verify` if it has one (an
 * EROFS: fsck.erofs). Outputs that are no disk image (`image: false`: a bare filesystem, a copied
 * tree) are checked by their `verify` alone. Returns undefined when it is fine, else why not.
 */
export function check(tool, ctx, layout, expectedSize) {
  cleanOutputs(ctx);
  try {
    execute(tool, path.join(ctx.work, 'time.out'));
  } catch (error) {
    return error.message;
  }
  try {
    if (tool.image === false) return tool.verify();
    return imageProblem(tool, tool.layout ?? layout, expectedSize) ?? tool.verify?.();
  } catch (error) {
    return error.message; // a checking command that failed (fsck.erofs, losetup): not timed
  }
}

function imageProblem(tool, layout, expectedSize) {
  const size = fs.statSync(tool.output).size;
  if (tool.floor) return size === expectedSize ? undefined : `output is ${size} bytes, expected ${expectedSize}`;
  if (size !== layout.diskSize) return `image is ${size} bytes, expected ${layout.diskSize}`;
  const verify = run(['sgdisk', '-v', tool.output], { allowFail: true });
  if (!/No problems found/.test(verify.stdout)) return `sgdisk -v: ${verify.stdout.trim().split('\n').slice(0, 3).join(' ')}`;
  const table = JSON.parse(run(['sfdisk', '--json', tool.output])).partitiontable;
  const got = table.partitions.map((p) => `${p.start}+${p.size}`).join(' ');
  const want = layout.partitions.map((p) => `${p.firstLba}+${p.lastLba - p.firstLba + 1}`).join(' ');
  return got === want ? undefined : `partition layout ${got} differs from ${want}`;
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}
