/**
 * The delivery step (spec -> plan -> build -> deliver): builds the raw image beside the output,
 * then writes what the options ask for from it and from the build's map of written ranges: the
 * image in another format or compressed, its bmap, a file per partition. Every artifact goes to
 * a temporary name beside its final one and is renamed only when all were written; a failure or
 * a cancellation removes every temporary file, the raw image's included.
 */
import * as fs from 'node:fs';
import { ImgforgeError } from '../errors';
import { buildImage, outputPath, type BuiltImage } from '../build/build';
import { checkOutputIsNoInput } from '../build/input-guard';
import { loadSpec } from '../spec/load';
import { removeStaleTemporaries, temporaryPathFor } from '../build/output';
import { renameIntoPlace, type Move } from './rename';
import { native, type CopyProgress, type DeliverOutcome } from '../native';
import { IMAGE_WRITERS, writeBmap, type ImageWriter } from './writers';
import { deliversMore, deviceProblem, resolveDelivery, splitPaths, type Delivery } from './options';
import type { Artifact, ArtifactKind, BuildOptions, BuildResult, CopyMode, LoadedSpec } from '../types';
import { MiB } from '../units';

/** One file to write: its final path, the temporary one, and how to write it from the raw image. */
interface PendingArtifact {
  artifact: Artifact;
  temporary: string;
  write: (image: string, progress: CopyProgress) => Promise<DeliverOutcome>;
}

function deliveryFailure(outcome: DeliverOutcome, file: string): ImgforgeError {
  const failure = outcome.error!;
  if (failure.code === 'ABORTED') return new ImgforgeError('ABORTED', 'build cancelled');
  // Which temporary file ran out matters less than which artifact, and that none was kept.
  const noSpace = /no space left on device|disk quota exceeded/i.exec(failure.message);
  if (noSpace) return new ImgforgeError('IO', `${file}: ${noSpace[0].toLowerCase()} while writing it; no file of this build was kept`, { cause: new Error(failure.message) });
  return new ImgforgeError('IO', `cannot write ${file}: ${failure.message}`);
}

/** The image's own artifact kind, and its writer when it is not the raw file itself. */
function imageArtifact(delivery: Delivery): { kind: ArtifactKind; writer?: ImageWriter } {
  const kind: ArtifactKind = delivery.compress ?? delivery.format;
  return { kind, writer: IMAGE_WRITERS[kind] };
}

function pendingArtifacts(built: BuiltImage, delivery: Delivery, mode: CopyMode): PendingArtifact[] {
  const { result, dataRanges } = built;
  const output = result.output;
  const pending: PendingArtifact[] = [];
  const context = { checksum: delivery.checksums, copy: mode, identity: result.diskGuid ?? result.diskId };
  const { kind, writer } = imageArtifact(delivery);
  if (writer !== undefined) {
    const temporary = temporaryPathFor(output);
    pending.push({ artifact: { path: output, kind, size: 0 }, temporary, write: (image, progress) => writer(image, dataRanges, temporary, progress, context) });
  }
  if (delivery.bmap) {
    const bmap = `${output}.bmap`;
    const temporary = temporaryPathFor(bmap);
    pending.push({ artifact: { path: bmap, kind: 'bmap', size: 0 }, temporary, write: (image, progress) => writeBmap(image, dataRanges, temporary, progress, context) });
  }
  if (delivery.split) {
    const files = splitPaths(output, delivery, result.partitions);
    result.partitions.forEach((partition, i) => {
      const temporary = temporaryPathFor(files[i]);
      const { index, name, type, guid } = partition;
      pending.push({
        artifact: { path: files[i], kind: 'partition', size: 0, partition: { index, name, type, guid } },
        temporary,
        write: (image, progress) =>
          native().splitPartition(image, dataRanges, { offset: partition.offset, size: partition.size, output: temporary, checksum: delivery.checksums }, mode, progress),
      });
    });
  }
  return pending;
}

/**
 * Runs one writer, reporting the `deliver` phase for `artifact`: at the start, then as the
 * writer advances through the image's `size` bytes (polled, as the copy's progress is).
 */
async function withProgress<T>(progress: CopyProgress, size: number, artifact: string, options: BuildOptions, write: () => Promise<T>, checksum = false): Promise<T> {
  const start = progress.bytes;
  const which = checksum ? { artifact, checksum } : { artifact };
  const report = () => options.onProgress?.({ phase: 'deliver', bytesDone: Math.min(size, progress.bytes - start), bytesTotal: size, ...which });
  options.onProgress?.({ phase: 'deliver', bytesDone: 0, bytesTotal: size, ...which });
  const timer = options.onProgress ? setInterval(report, options.progressIntervalMs ?? 200) : undefined;
  try {
    return await write();
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** The promise's failure, or undefined once it succeeded: awaited later without an unhandled rejection meanwhile. */
function settled(promise: Promise<void>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error ?? new Error('failed'),
  );
}

/** Removes the files, ignoring those already gone. */
function removeAll(files: readonly string[]): void {
  for (const file of files) fs.rmSync(file, { force: true });
}

/**
 * Checks that every final path can take a file (none is a directory), so that the renames,
 * which cannot be undone, do not stop half-way over something checkable.
 */
function checkRenames(paths: readonly string[]): void {
  for (const file of paths) {
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ImgforgeError('OUTPUT', `${file} is a directory: cannot write the file of that name; nothing was written`);
    }
  }
}

/** The renames that put the pending artifacts in place. */
const movesOf = (pending: readonly PendingArtifact[]): Move[] => pending.map((p) => ({ temporary: p.temporary, final: p.artifact.path }));

/**
 * Writes every artifact from the built raw image, then moves them into place. The raw image
 * is committed (renamed over the output) when it is itself the image artifact, else removed.
 */
async function deliver(built: BuiltImage, delivery: Delivery, options: BuildOptions): Promise<Artifact[]> {
  const pending = pendingArtifacts(built, delivery, options.copy ?? 'auto');
  const rawIsImage = pending.length === 0 || pending[0].artifact.path !== built.result.output;
  const progress = new (native().CopyProgress)();
  const temporaries = pending.map((p) => p.temporary);
  // A cancelled build stops the writer and removes every temporary file at once, so nothing is
  // left behind even if the process has to end before the writer returns.
  const onAbort = () => {
    progress.cancel();
    removeAll(temporaries);
    built.abandon();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The raw image that is kept reaches the disk while the writers read it (from the page
  // cache): its fsync and their hashing and copying overlap instead of following each other.
  // Settled before anything is renamed or removed; a failure of it is the build's failure.
  const imageDurable = rawIsImage ? settled(built.finishInBackground()) : Promise.resolve(undefined);
  try {
    if (options.signal?.aborted) throw new ImgforgeError('ABORTED', 'build cancelled');
    checkRenames(pending.map((p) => p.artifact.path));
    // Leftovers of killed builds (SIGKILL) of these files; the image's were removed by the build.
    for (const item of pending) removeStaleTemporaries(item.artifact.path);
    const image = built.imagePath;
    const size = built.result.diskSize;
    for (const item of pending) {
      const outcome = await withProgress(progress, size, item.artifact.path, options, () => item.write(image, progress));
      if (outcome.error) throw deliveryFailure(outcome, item.artifact.path);
      item.artifact.size = outcome.size;
      if (delivery.checksums && outcome.sha256 != null) item.artifact.sha256 = outcome.sha256;
    }
    const artifacts = pending.map((p) => p.artifact);
    if (rawIsImage) {
      const raw: Artifact = { path: built.result.output, kind: 'raw', size };
      if (delivery.checksums) {
        const outcome = await withProgress(progress, size, raw.path, options, () => native().hashImage(image, built.dataRanges, progress), true);
        if (outcome.error) throw deliveryFailure(outcome, raw.path);
        raw.sha256 = outcome.sha256 ?? undefined;
      }
      artifacts.unshift(raw);
    }
    const notDurable = await imageDurable;
    if (notDurable !== undefined) throw notDurable;
    if (options.signal?.aborted) throw new ImgforgeError('ABORTED', 'build cancelled');
    checkRenames(artifacts.map((a) => a.path));
    // All written: the partition and bmap files first, the image last, so an image in place
    // always has its companions beside it.
    // A failure of the image's rename puts the companions' previous files back: the final
    // paths hold every new file or none.
    const companions = renameIntoPlace(movesOf(pending.filter((p) => p.artifact.path !== built.result.output)));
    try {
      if (rawIsImage) built.commit();
      else renameIntoPlace(movesOf(pending.filter((p) => p.artifact.path === built.result.output))).keep();
    } catch (error) {
      companions.rollback();
      throw error;
    }
    companions.keep();
    if (!rawIsImage) built.discard();
    return artifacts;
  } catch (error) {
    await imageDurable;
    removeAll(temporaries);
    built.discard();
    throw options.signal?.aborted ? new ImgforgeError('ABORTED', 'build cancelled') : error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Builds the image a spec describes and delivers it as the options ask: raw or Android
 * sparse, compressed, with a bmap and partition files; every file renamed into place only
 * when all were written.
 */
export async function build(specOrPath: string | LoadedSpec, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const spec = typeof specOrPath === 'string' ? await loadSpec(specOrPath) : specOrPath;
  const output = outputPath(spec, options);
  const delivery = resolveDelivery(output, options);
  const built = await buildImage(spec, { ...options, output }, {
    // A raw image that is only converted and removed need not reach the disk; one that is kept
    // is fsynced while the delivery reads it (see deliver), or by its commit.
    durable: delivery.format === 'raw' && delivery.compress === undefined ? 'background' : false,
    autoSizeMultiple: delivery.format === 'vhd' ? MiB : undefined,
    checkOutput: (kind) => {
      const problem = deviceProblem(delivery);
      if (kind === 'device' && problem !== undefined) {
        throw new ImgforgeError('USAGE', `${problem} writes files, and ${output} is a block device: write the image to a file`);
      }
    },
    checkPlan: (partitions) => {
      const companions = [...(delivery.bmap ? [`${output}.bmap`] : []), ...(delivery.split ? splitPaths(output, delivery, partitions) : [])];
      checkRenames(companions);
      // Renamed over an input, a companion file would replace it, as the image would.
      for (const file of companions) checkOutputIsNoInput(file, spec);
    },
  });
  const { result } = built;
  if (built.kind === 'device' || (!deliversMore(delivery) && !delivery.checksums)) {
    built.commit();
    result.artifacts = [{ path: output, kind: 'raw', size: result.diskSize }];
  } else {
    const delivering = performance.now();
    result.artifacts = await deliver(built, delivery, options);
    result.timings.deliver = round(performance.now() - delivering);
  }
  options.onProgress?.({ phase: 'done', bytesDone: built.copyBytes, bytesTotal: built.copyBytes });
  result.elapsedMs = round(performance.now() - started);
  return result;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
