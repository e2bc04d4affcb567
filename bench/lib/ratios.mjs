// Per-round ratios against imgforge, and the summary of each tool that the tables and the JSON
// results show.
//
// Why per round: in a round every tool runs once, one after the other, so the tools of one round
// see the same state of the machine (the VM's disk busy or not, writeback of the loop device's
// backing file, the host's neighbours). Medians of absolute times taken over the whole run do not
// cancel that drift: on a disk-backed loop device they flip from one run of the benchmark to the
// next. A peer's time divided by imgforge's time of the same round cancels whatever touched both;
// the median of those ratios and their min – max say how often and by how much one was faster.
import { stats } from './measure.mjs';

/** The reference of a scenario: its first imgforge row (in `fallback`, `--copy auto`). */
export const referenceOf = (result) => result.tools.find((t) => t.imgforge && t.status === 'ok' && t.samples?.length);

/**
 * Adds to every sample of every timed tool other than the reference:
 * - `ratio`: the tool's time ÷ the imgforge CLI process's time in the same round (> 1: imgforge
 *   was faster in that round);
 * - `ratioElapsed`: the tool's time ÷ imgforge's own build time (`elapsedMs` of its --json, no
 *   Node start) in the same round. For another imgforge row (fallback: read-write), its own
 *   elapsedMs ÷ the reference's, so that both sides leave Node's start out.
 * Then sets each tool's `summary` (see summarize). Samples pair up by round: every tool that
 * passed its check runs exactly once per round, and a failing timed run aborts the benchmark.
 */
export function addRatios(result) {
  const ref = referenceOf(result);
  for (const tool of result.tools) {
    // `aside` rows (erofs: imgforge on another tree, for its memory) have nothing to compare with.
    if (ref && tool !== ref && !tool.aside && tool.samples?.length) {
      tool.samples.forEach((sample, i) => {
        const base = ref.samples[i];
        if (!base || base.round !== sample.round) throw new Error(`${result.scenario}: round ${sample.round} of ${tool.name} has no imgforge run to compare with`);
        sample.ratio = sample.ms / base.ms;
        const own = tool.imgforge ? sample.elapsedMs : sample.ms;
        if (base.elapsedMs > 0 && own !== undefined) sample.ratioElapsed = own / base.elapsedMs;
      });
    }
    tool.summary = summarize(tool, tool === ref);
  }
  result.reference = ref?.name;
  return result;
}

/**
 * Per tool: statistics of the time, imgforge's own elapsedMs, the per-round ratios (with how many
 * rounds imgforge was faster: ratio > 1), peak RSS, allocated/apparent bytes and new blocks.
 */
export function summarize(tool, isReference = false) {
  const samples = tool.samples ?? [];
  if (!samples.length) return undefined;
  const values = (key) => samples.map((s) => s[key]).filter((v) => v !== undefined);
  const statsOf = (key) => (values(key).length ? stats(values(key)) : undefined);
  const ratio = statsOf('ratio');
  if (ratio) ratio.imgforgeFaster = values('ratio').filter((r) => r > 1).length;
  const last = samples[samples.length - 1];
  return {
    reference: isReference || undefined,
    time: statsOf('ms'),
    elapsed: tool.imgforge ? statsOf('elapsedMs') : undefined,
    ratio,
    ratioElapsed: statsOf('ratioElapsed'),
    rssKiB: Math.max(...values('rssKiB')),
    allocated: last.allocated,
    apparent: last.apparent,
    newBytes: statsOf('newBytes')?.median,
  };
}
