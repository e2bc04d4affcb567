import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { loadSpec } from '../spec/load';
import { planImage, type ImagePlan } from '../plan/plan';
import type { ScannedFilesystem } from '../plan/filesystem';
import { checkExt4Tools, writeExt4 } from './ext4';
import { requireTool } from './tools';
import { makeSquashfs } from './squashfs';
import { Temporaries } from './staging';
import { native, type CopyFailure, type CopyJob, type CopyProgress } from '../native';
import { checkOutputIsNoInput, checkOutputOutsideFilesystems } from './input-guard';
import { inspectOutput, openOutput, type OutputKind, type OutputTarget } from './output';
import { encodeTables } from './tables';
import { mergeRanges, rangeBytes, type DataRange } from './ranges';
import { writeVerity } from './verity';
import type { LoadedSpec, PlanTimings, Plan, PlannedPartition, CopyMode, BuildOptions, CopySummary, BuildTimings, BuildResult } from '../types';

export const COPY_MODES: readonly CopyMode[] = ['auto', 'copy-file-range', 'read-write'];



/** The absolute path a build writes: the `output` option, the spec's, else beside the spec. */
export function outputPath(spec: LoadedSpec, options: Pick<BuildOptions, 'output'>): string {
  return path.resolve(options.output ?? defaultOutput(spec));
}

function defaultOutput(spec: LoadedSpec): string {
  if (spec.output !== undefined) return spec.output;
  if (spec.specPath === undefined) {
    throw new ImgforgeError('USAGE', 'no output path: pass `output` (or -o), or give the spec an `output` key');
  }
  const base = path.basename(spec.specPath).replace(/\.(ya?ml|json)$/i, '');
  return path.join(path.dirname(spec.specPath), `${base}.img`);
}

function checkCopyMode(mode: string): CopyMode {
  if (!(COPY_MODES as readonly string[]).includes(mode)) {
    throw new ImgforgeError('USAGE', `copy mode must be one of ${COPY_MODES.join(', ')}; got "${mode}"`);
  }
  return mode as CopyMode;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImgforgeError('ABORTED', 'build cancelled');
}

/**
 * Before the disk is laid out: the tools of ext4 and squashfs partitions are checked (a missing
 * one is reported before anything is written) and each squashfs is made, so "auto" gets its
 * exact size.
 */
function prepareToolFilesystems(spec: LoadedSpec, output: string, temporaries: Temporaries, options: BuildOptions) {
  return async (scanned: ReadonlyMap<number, ScannedFilesystem>): Promise<void> => {
    // Before mksquashfs reads a source folder: the output (and the squashfs beside it) must not be in one.
    checkOutputOutsideFilesystems(output, spec, scanned);
    // Signature partitions are signed by the openssl tool, after the data is written: checked now.
    spec.partitions.forEach((p, i) => p.signature !== undefined && requireTool('openssl', `partitions[${i}].signature`));
    for (const [i, filesystem] of scanned) {
      const field = `partitions[${i}].filesystem`;
      if (filesystem.type === 'ext4') checkExt4Tools(field, filesystem.options);
      if (filesystem.type === 'squashfs') requireTool('mksquashfs', field);
      if (filesystem.type === 'ext4' || filesystem.type === 'squashfs') {
        try {
          // The tools read every file; one they cannot read is named here, before anything is written.
          filesystem.tree.checkReadable();
        } catch (error) {
          throw new ImgforgeError('CONTENTS', `${field}.files: ${(error as Error).message}`);
        }
      }
    }
    for (const [i, filesystem] of scanned) {
      if (filesystem.type !== 'squashfs') continue;
      options.onProgress?.({ phase: 'mkfs', bytesDone: 0, bytesTotal: 0, partition: spec.partitions[i].name, tool: 'mksquashfs' });
      await makeSquashfs(`partitions[${i}].filesystem`, filesystem, temporaries, options.signal);
    }
  };
}

function planFor(spec: LoadedSpec, output: string, kind: OutputKind, timings: PlanTimings, autoSizeMultiple: number | undefined, temporaries: Temporaries, options: BuildOptions): Promise<ImagePlan> {
  const hooks = { prepare: prepareToolFilesystems(spec, output, temporaries, options) };
  if (kind.kind === 'file') return planImage(spec, { timings, autoSizeMultiple }, hooks);
  const { device } = kind;
  if (device.logicalSectorSize !== spec.sectorSize) {
    throw new ImgforgeError(
      'OUTPUT',
      `${output} has ${device.logicalSectorSize}-byte sectors but the spec's sectorSize is ${spec.sectorSize}; set sectorSize: ${device.logicalSectorSize}`,
    );
  }
  if (spec.size !== 'auto' && spec.size > device.size) {
    throw new ImgforgeError('OUTPUT', `${output} holds ${device.size} bytes, less than the spec's size of ${spec.size} bytes`);
  }
  // The backup GPT must sit at the device's last sector, so the table always spans the device.
  return planImage(spec, { diskSize: device.size, timings }, hooks);
}

/** Bytes the build copies: raw contents, then the files of each filesystem, in that order. */
function copyWork(layout: Plan): Array<{ partition: string; bytes: number }> {
  return [
    ...layout.partitions.filter((p) => p.contents !== undefined).map((p) => ({ partition: p.name, bytes: p.contents!.size })),
    // An ext4 is written by mkfs.ext4 itself (the mkfs phase); a squashfs is copied in whole, made.
    ...layout.partitions
      .filter((p) => p.filesystem !== undefined && p.filesystem.type !== 'ext4')
      .map((p) => ({ partition: p.name, bytes: p.filesystem!.type === 'squashfs' ? p.filesystem!.size : p.filesystem!.fileBytes })),
  ];
}

function contentBytes(layout: Plan): number {
  return copyWork(layout).reduce((sum, w) => sum + w.bytes, 0);
}

const NO_COPY: CopySummary = { copyFileRangeBytes: 0, readWriteBytes: 0, holeBytes: 0 };

/** What filling the partitions did: bytes per copy method, and the image ranges written. */
interface Filled {
  stats: CopySummary;
  written: DataRange[];
}

function addStats(a: CopySummary, b: CopySummary): CopySummary {
  return {
    copyFileRangeBytes: a.copyFileRangeBytes + b.copyFileRangeBytes,
    readWriteBytes: a.readWriteBytes + b.readWriteBytes,
    holeBytes: a.holeBytes + b.holeBytes,
  };
}

/** Polls the native progress counter and reports which partition the bytes belong to. */
function progressReporter(progress: CopyProgress, layout: Plan, options: BuildOptions): () => void {
  const work = copyWork(layout);
  const bytesTotal = contentBytes(layout);
  return () => {
    const bytesDone = progress.bytes;
    let partition: string | undefined;
    let end = 0;
    for (const w of work) {
      end += w.bytes;
      partition = w.partition;
      if (bytesDone < end) break;
    }
    options.onProgress?.({ phase: 'copy', bytesDone, bytesTotal, partition });
  };
}

/**
 * Fills the partitions: raw contents with the copy engine, then each filesystem (its metadata,
 * then its files through the same engine). Progress and cancellation span all of them.
 */
async function fillPartitions(target: OutputTarget, { layout, filesystems }: ImagePlan, mode: CopyMode, options: BuildOptions, temporaries: Temporaries): Promise<Filled> {
  const raw = layout.partitions.filter((p) => p.contents !== undefined);
  if (raw.length === 0 && filesystems.size === 0) return { stats: NO_COPY, written: [] };

  const binding = native();
  const progress = new binding.CopyProgress();
  const report = progressReporter(progress, layout, options);
  const onAbort = () => progress.cancel();
  throwIfAborted(options.signal);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.onProgress ? setInterval(report, options.progressIntervalMs ?? 200) : undefined;
  let stats = NO_COPY;
  const written: DataRange[] = [];
  try {
    report();
    if (raw.length > 0) {
      const jobs: CopyJob[] = raw.map((p) => ({ source: p.contents!.path, offset: p.offset, capacity: p.size, plannedLength: p.contents!.size }));
      const outcome = await binding.copyIntoImage(target.writePath, jobs, mode, target.zeroed, progress);
      stats = addStats(stats, outcome.stats);
      written.push(...outcome.written);
      if (outcome.error) {
        const job = outcome.error.job === undefined ? undefined : raw[outcome.error.job];
        throw copyFailure(outcome.error, job && `partitions[${job.index - 1}].contents`, mode, target);
      }
    }
    for (const [i, filesystem] of filesystems) {
      const field = `partitions[${i}].filesystem`;
      if (filesystem.type === 'ext4') {
        options.onProgress?.({ phase: 'mkfs', bytesDone: 0, bytesTotal: 0, partition: layout.partitions[i].name, tool: 'mkfs.ext4' });
        const made = await writeExt4(field, filesystem.tree, filesystem.layout, target.writePath, target.zeroed, temporaries, options.signal);
        const summary = layout.partitions[i].filesystem;
        if (summary?.type === 'ext4') Object.assign(summary, made);
        // mkfs.ext4 wrote the filesystem itself: a fresh image file says where with its holes (the
        // rest of the partition was never written); a device's partition counts as written whole.
        const length = filesystem.layout.blocks * 4096;
        written.push(...(target.zeroed && target.kind === 'file' ? binding.dataRangesIn(target.writePath, filesystem.layout.offset, length) : [{ offset: filesystem.layout.offset, length }]));
        continue;
      }
      if (filesystem.type === 'squashfs') {
        const image = filesystem.layout.image!;
        const partition = layout.partitions[i];
        const job: CopyJob = { source: image.path, offset: partition.offset, capacity: partition.size, plannedLength: image.size };
        const outcome = await binding.copyIntoImage(target.writePath, [job], mode, target.zeroed, progress);
        stats = addStats(stats, outcome.stats);
        written.push(...outcome.written);
        if (outcome.error) throw copyFailure(outcome.error, field, mode, target);
        continue;
      }
      const outcome = await filesystem.layout.write(target.writePath, mode, target.zeroed, progress);
      stats = addStats(stats, outcome.stats);
      written.push(...outcome.written);
      if (outcome.error) throw copyFailure(outcome.error, `partitions[${i}].filesystem`, mode, target);
    }
  } finally {
    if (timer) clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  report();
  return { stats, written };
}

/** Whether a failure is the output's filesystem running out of space (ENOSPC, or EDQUOT for quotas). */
function isNoSpace(message: string): boolean {
  return /no space left on device|disk quota exceeded/i.test(message);
}

/** One line naming the output, what was being written and that the output was left as it was. */
function noSpaceError(target: OutputTarget, what: string, detail: string): ImgforgeError {
  const kept = target.kind === 'file' ? '; the output was left as it was' : '';
  const quota = /disk quota exceeded/i.test(detail) ? ' (disk quota exceeded)' : '';
  return new ImgforgeError('IO', `${target.path}: no space left on device${quota} while writing ${what}${kept}`, { cause: new Error(detail) });
}

function copyFailure(error: CopyFailure, field: string | undefined, mode: CopyMode, target: OutputTarget): ImgforgeError {
  const prefix = field !== undefined ? `${field}: ` : '';
  const where = [error.path, error.source].filter((part) => part !== undefined).map((part) => `${part}: `).join('');
  const message = `${prefix}${where}${error.message}`;
  switch (error.code) {
    case 'ABORTED':
      return new ImgforgeError('ABORTED', 'build cancelled');
    case 'SOURCE_CHANGED':
      return new ImgforgeError('SOURCE_CHANGED', message);
    case 'UNSIZED_SOURCE':
    case 'TOO_LARGE':
      return new ImgforgeError('CONTENTS', message);
    default: {
      if (isNoSpace(error.message)) {
        return noSpaceError(target, `${field ?? 'the image'}${error.path !== undefined ? ` (${error.path})` : ''}`, message);
      }
      const hint = mode === 'copy-file-range' ? ' (copy mode copy-file-range never falls back; try --copy auto)' : '';
      return new ImgforgeError(mode === 'copy-file-range' ? 'COPY' : 'IO', `${message}${hint}`);
    }
  }
}

/** Runs `write`, turning an out-of-space failure into the one-line message of noSpaceError. */
function withNoSpaceMessage(target: OutputTarget, what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    if (error instanceof ImgforgeError && error.code === 'IO' && isNoSpace(error.message)) throw noSpaceError(target, what, error.message);
    throw error;
  }
}

/** What a block device holds after a failed build: said in the error, and by the CLI on Ctrl-C. */
function deviceState(device: string): string {
  return `${device} was partly written and holds no valid partition table (imgforge wipes the tables first and writes them last)`;
}

/** The error of a failed build into a device, saying what the device now holds. */
function partlyWritten(error: unknown, device: string): unknown {
  if (!(error instanceof ImgforgeError)) return error;
  const state = deviceState(device);
  return new ImgforgeError(error.code, `${error.message}; ${state}`, { cause: error, outputState: state });
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Runs `step` and adds its duration to `timings[key]`. */
async function timed<T>(timings: BuildTimings, key: keyof BuildTimings, step: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await step();
  } finally {
    timings[key] += performance.now() - started;
  }
}

/**
 * A built image not yet in place: the build's result, the byte ranges it wrote (everything else
 * reads as zeros), and the path holding it now. `commit` moves it into place (for a file: rename
 * over the output); `discard` removes it. A device is in place already: both do nothing more.
 */
export interface BuiltImage {
  result: BuildResult;
  /** The image's bytes that the build wrote, sorted and merged; all other bytes are zeros. */
  dataRanges: DataRange[];
  /** Bytes of partition contents the build copied (its progress total). */
  copyBytes: number;
  /** Where the image is now: a temporary file beside the output, or the device. */
  imagePath: string;
  kind: 'file' | 'device';
  /**
   * Makes the image durable with the fsync on a worker thread (built with `durable:
   * 'background'`), so the caller can read it meanwhile; nothing to do when the build did it.
   */
  finishInBackground(): Promise<void>;
  commit(): void;
  discard(): void;
  /** As discard, safe while a copy still writes to the file (for a cancelled build). */
  abandon(): void;
}

/** How the delivery step asks for the raw image it converts. */
export interface BuildImageOptions {
  /**
   * Whether the finished file is fsynced (not needed for a private file that is read back and
   * removed); 'background': later, by `finishInBackground` or at the latest by `commit`, so that
   * the delivery reads the image while its data reaches the disk.
   */
  durable?: boolean | 'background';
  /** Called with what the output is, before planning: delivery options refuse a block device. */
  checkOutput?: (kind: 'file' | 'device', output: string) => void;
  /** With size "auto", round the disk up to a multiple of this (a fixed VHD for Azure needs whole MiB). */
  autoSizeMultiple?: number;
  /** Called with the planned partitions, before anything is written: delivery checks the names of partition files. */
  checkPlan?: (partitions: readonly PlannedPartition[]) => void;
}

/**
 * Builds the image described by `specOrPath`: plan, fill the partitions (raw contents and
 * filesystems) of a fresh sparse image, write the partition tables last. A file is built in a
 * temporary file beside the output, made durable, and left there for the caller to commit
 * (rename) or discard; `durable: false` skips the fsync of a file that will only be read back
 * and removed. A block device is written in place: its tables are wiped (and flushed) first
 * and written last, so a device whose build fails or is interrupted never holds a
 * valid-looking table over half-written partitions.
 */
export async function buildImage(specOrPath: string | LoadedSpec, options: BuildOptions = {}, { durable = true, checkOutput, checkPlan, autoSizeMultiple }: BuildImageOptions = {}): Promise<BuiltImage> {
  const started = performance.now();
  const mode = checkCopyMode(options.copy ?? 'auto');
  throwIfAborted(options.signal);
  const spec = typeof specOrPath === 'string' ? await loadSpec(specOrPath) : specOrPath;
  const output = outputPath(spec, options);
  checkOutputIsNoInput(output, spec);
  const kind = inspectOutput(output, { force: options.force ?? false });
  checkOutput?.(kind.kind, output);
  const timings: BuildTimings = { scan: 0, plan: 0, tables: 0, copy: 0, verity: 0, fsync: 0, deliver: 0 };
  // Staging folders and squashfs files: removed however the build ends (see the finally below).
  const temporaries = new Temporaries(output);
  const removeTemporaries = () => temporaries.removeAll();
  options.signal?.addEventListener('abort', removeTemporaries, { once: true });
  try {
    return await buildWith(temporaries);
  } finally {
    options.signal?.removeEventListener('abort', removeTemporaries);
    temporaries.removeAll();
  }

  async function buildWith(temporaries: Temporaries): Promise<BuiltImage> {
    const planned = await planFor(spec, output, kind, timings, autoSizeMultiple, temporaries, options);
    const { layout } = planned;
    checkOutputOutsideFilesystems(output, spec, planned.filesystems);
    checkPlan?.(layout.partitions);
    throwIfAborted(options.signal);
    // The tables are encoded by the addon too: a missing addon is reported before anything is written.
    const tables = await timed(timings, 'tables', () => encodeTables(layout));

    const target = openOutput(output, kind, layout.diskSize);
    const abandon = () => target.abandon();
    options.signal?.addEventListener('abort', abandon, { once: true });
    try {
      if (target.kind === 'device') {
        await timed(timings, 'tables', () =>
          withNoSpaceMessage(target, 'the partition tables', () => {
            for (const region of tables) target.write(region.offset, new Uint8Array(region.data.length));
            target.flush();
          }),
        );
      }
      const filled = await timed(timings, 'copy', () => fillPartitions(target, planned, mode, options, temporaries));
      markBuilt(layout, planned);
      throwIfAborted(options.signal);
      // Hash partitions read the data partitions back, so they come after every copy; the root
      // hashes may name partition GUIDs, so the tables are encoded again after them.
      const verityWritten = await timed(timings, 'verity', () => writeVerity(target, planned, options));
      const finalTables = verityWritten.length > 0 ? await timed(timings, 'tables', () => encodeTables(layout)) : tables;
      throwIfAborted(options.signal);
      options.onProgress?.({ phase: 'tables', bytesDone: 0, bytesTotal: 0 });
      await timed(timings, 'tables', () =>
        withNoSpaceMessage(target, 'the partition tables', () => {
          for (const region of finalTables) target.write(region.offset, region.data);
        }),
      );
      // The build's map of what holds data: what the copies and verity wrote, and the tables.
      const dataRanges = mergeRanges([...filled.written, ...verityWritten, ...finalTables.map((region) => ({ offset: region.offset, length: region.data.length }))]);
      options.onProgress?.({ phase: 'fsync', bytesDone: 0, bytesTotal: 0 });
      if (durable !== 'background') {
        await timed(timings, 'fsync', () => withNoSpaceMessage(target, 'the finished image', () => target.finish({ durable })));
      }
      const total = contentBytes(layout);
      const result: BuildResult = {
        output,
        ...layout,
        copy: filled.stats,
        dataBytes: rangeBytes(dataRanges),
        artifacts: [],
        elapsedMs: 0,
        timings,
      };
      const finishTimings = () => {
        result.elapsedMs = round(performance.now() - started);
        result.timings = Object.fromEntries(Object.entries(timings).map(([key, ms]) => [key, round(ms)])) as unknown as BuildTimings;
      };
      finishTimings();
      return {
        result,
        dataRanges,
        copyBytes: total,
        imagePath: target.writePath,
        kind: target.kind,
        finishInBackground: async () => {
          try {
            await timed(timings, 'fsync', () => target.finishInBackground());
          } catch (error) {
            withNoSpaceMessage(target, 'the finished image', () => {
              throw error;
            });
          }
          finishTimings();
        },
        commit: () => {
          timings.fsync += measure(() => withNoSpaceMessage(target, 'the finished image', () => target.commit()));
          finishTimings();
        },
        discard: () => target.discard(),
        abandon: () => target.abandon(),
      };
    } catch (error) {
      target.discard();
      // Once cancelled, whatever failed after (a write into the abandoned file) is the cancellation.
      const failure = options.signal?.aborted ? new ImgforgeError('ABORTED', 'build cancelled') : error;
      throw target.kind === 'device' ? partlyWritten(failure, target.path) : failure;
    } finally {
      options.signal?.removeEventListener('abort', abandon);
    }
  }
}

/** Once written, ext4 and squashfs summaries hold the sizes built, no longer estimates. */
function markBuilt(layout: Plan, planned: ImagePlan): void {
  for (const [i, filesystem] of planned.filesystems) {
    const summary = layout.partitions[i].filesystem;
    if ((filesystem.type === 'ext4' || filesystem.type === 'squashfs') && summary !== undefined && (summary.type === 'ext4' || summary.type === 'squashfs')) summary.estimated = false;
  }
}

function measure(step: () => void): number {
  const started = performance.now();
  step();
  return performance.now() - started;
}

/**
 * Builds the raw image described by `specOrPath` into its output: [buildImage], then the
 * rename into place. The library's `build` (ts/deliver) adds the other delivery formats.
 */
export async function build(specOrPath: string | LoadedSpec, options: BuildOptions = {}): Promise<BuildResult> {
  const built = await buildImage(specOrPath, options);
  built.commit();
  options.onProgress?.({ phase: 'done', bytesDone: built.copyBytes, bytesTotal: built.copyBytes });
  return built.result;
}
