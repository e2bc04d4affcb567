/**
 * imgforge's library. Each entry point is declared here with the public types of ./types, so the
 * package's `.d.ts` is exactly this file, ./types and ./errors: nothing of the binding, zod or the
 * implementation reaches a consumer's compiler.
 */
import { COPY_MODES as copyModes } from './build/build';
import { build as buildImage } from './deliver/deliver';
import { inspect as inspectImage, inspectSync as inspectImageSync } from './inspect/inspect';
import { verify as verifyImage } from './inspect/verify';
import { plan as planImage } from './plan/plan';
import { loadSpec as loadSpecFile, parseSpec as parseSpecText, resolveSpec } from './spec/load';
import { ImgforgeError } from './errors';
import type {
  BuildOptions,
  BuildResult,
  CopyMode,
  InspectOptions,
  InspectReport,
  LoadedSpec,
  ParseSpecOptions,
  Plan,
  PlanOptions,
  SpecInput,
  VerifyOptions,
  VerifyReport,
} from './types';

export { ImgforgeError } from './errors';
export type { ErrorCode } from './errors';
export type {
  SectorSize,
  TableKind,
  SpecFormat,
  ImageSpec,
  ImageSpecPartition,
  ImageSpecFilesystem,
  ImageSpecFat32,
  ImageSpecErofs,
  ImageSpecFile,
  ParseSpecOptions,
  SpecInput,
  LoadedSpec,
  PartitionSpec,
  FilesystemSpec,
  Fat32FilesystemSpec,
  ErofsFilesystemSpec,
  PlanOptions,
  PlanTimings,
  Plan,
  PlannedPartition,
  FilesystemSummary,
  Fat32Summary,
  ErofsSummary,
  CopyMode,
  BuildProgress,
  BuildOptions,
  CopySummary,
  BuildTimings,
  BuildResult,
  DeliveryFormat,
  Compression,
  ArtifactKind,
  Artifact,
  ContentsKind,
  Finding,
  Fat32Contents,
  ErofsContents,
  Ext4Contents,
  SquashfsContents,
  PartitionContents,
  FileEntry,
  InspectedPartition,
  InspectReport,
  MbrTable,
  MbrEntry,
  GptTable,
  InspectOptions,
  Difference,
  VerifyReport,
  VerifyOptions,
  VeritySpec,
  SignatureSpec,
  VerityInfo,
  SignatureInfo,
  VerityHashContents,
  VeritySignatureContents,
} from './types';

/** An options object (with `spec`) rather than a spec path or a LoadedSpec in the first place. */
function isOptions<T extends SpecInput>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && 'spec' in value;
}

function usage(message: string): ImgforgeError {
  return new ImgforgeError('USAGE', message);
}

/** Reads, parses and validates a spec file (.yaml, .yml or .json); relative paths are resolved against its folder. */
export const loadSpec: (specPath: string) => Promise<LoadedSpec> = loadSpecFile;

/**
 * Parses and validates spec text without reading any file: `{ text, format, sourceName?, baseDir? }`.
 * `sourceName` (default "spec") appears in error messages; relative paths in the spec are resolved
 * against `baseDir` (default: the current folder).
 */
export function parseSpec(options: ParseSpecOptions): LoadedSpec {
  if (typeof options !== 'object' || options === null) throw usage('parseSpec takes an options object: { text, format, sourceName?, baseDir? }');
  return parseSpecText(options);
}

/**
 * Lays a spec out: exact sector positions, GUIDs and each filesystem's geometry. Reads the sources'
 * metadata (sizes, trees) and writes nothing. `plan({ spec, baseDir })` takes a spec file's path,
 * a spec object (ImageSpec, its paths relative to `baseDir`) or a LoadedSpec.
 */
export function plan(options: PlanOptions & SpecInput): Promise<Plan>;
export function plan(spec: LoadedSpec, options?: PlanOptions): Promise<Plan>;
export async function plan(first: LoadedSpec | (PlanOptions & SpecInput), options: PlanOptions = {}): Promise<Plan> {
  if (isOptions<PlanOptions & SpecInput>(first)) {
    const { spec, baseDir, ...rest } = first;
    return planImage(await resolveSpec({ spec, baseDir }), rest);
  }
  return planImage(await resolveSpec({ spec: first }), options);
}

/**
 * Builds the image a spec describes into a file, atomically, or into a block device with `force`.
 * `build({ spec, baseDir, output, ... })` takes a spec file's path, a spec object (ImageSpec, its
 * paths relative to `baseDir`) or a LoadedSpec; `build(specPath, options)` is the same with a path.
 * With `format`, `compress`, `bmap` or `split` it also delivers the image in that form (every
 * file written to a temporary name and renamed only when all succeeded).
 */
export function build(options: BuildOptions & SpecInput): Promise<BuildResult>;
export function build(spec: string | LoadedSpec, options?: BuildOptions): Promise<BuildResult>;
export async function build(first: string | LoadedSpec | (BuildOptions & SpecInput), options: BuildOptions = {}): Promise<BuildResult> {
  if (isOptions<BuildOptions & SpecInput>(first)) {
    const { spec, baseDir, ...rest } = first;
    // A path is read by build itself, after its option checks, as `build(path)` does.
    return buildImage(typeof spec === 'string' ? spec : await resolveSpec({ spec, baseDir }), rest);
  }
  return buildImage(typeof first === 'string' ? first : await resolveSpec({ spec: first }), options);
}

/** The values of BuildOptions.copy. */
export const COPY_MODES: readonly CopyMode[] = copyModes;

/**
 * Reads an image or block device without changing it: tables, partitions, what each holds, every
 * problem. The reads run on worker threads; inspectSync does the same, blocking.
 */
export const inspect: (imagePath: string, options?: InspectOptions) => Promise<InspectReport> = inspectImage;

/** inspect, blocking until it is done (for scripts and places that cannot await). */
export const inspectSync: (imagePath: string, options?: InspectOptions) => InspectReport = inspectImageSync;

/**
 * Compares an image with the spec it was built from: every difference, with where it is.
 * `verify({ spec, image, baseDir })` takes the spec as build does; `verify(spec, image)` too.
 */
export function verify(options: VerifyOptions & SpecInput & { image: string }): Promise<VerifyReport>;
export function verify(spec: string | LoadedSpec, imagePath: string, options?: VerifyOptions): Promise<VerifyReport>;
export async function verify(
  first: string | LoadedSpec | (VerifyOptions & SpecInput & { image: string }),
  imagePath?: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  if (isOptions<VerifyOptions & SpecInput & { image: string }>(first)) {
    const { spec, baseDir, image, ...rest } = first;
    if (typeof image !== 'string') throw usage('verify: `image` must be the path of the image to check');
    return verifyImage(typeof spec === 'string' ? spec : await resolveSpec({ spec, baseDir }), image, rest);
  }
  if (typeof imagePath !== 'string') throw usage('verify: the second argument must be the path of the image to check');
  return verifyImage(typeof first === 'string' ? first : await resolveSpec({ spec: first }), imagePath, options);
}
