/**
 * imgforge's library. Each entry point is declared here with the public types of ./types, so the
 * package's `.d.ts` is exactly this file, ./types and ./errors: nothing of the binding, zod or the
 * implementation reaches a consumer's compiler.
 */
import { COPY_MODES as copyModes } from './build/build';
import { build as buildImage } from './deliver/deliver';
import { inspect as inspectImage } from './inspect/inspect';
import { verify as verifyImage } from './inspect/verify';
import { plan as planImage } from './plan/plan';
import { loadSpec as loadSpecFile, parseSpec as parseSpecText } from './spec/load';
import type {
  BuildOptions,
  BuildResult,
  CopyMode,
  InspectOptions,
  InspectReport,
  LoadedSpec,
  Plan,
  PlanOptions,
  SpecFormat,
  VerifyOptions,
  VerifyReport,
} from './types';

export { ImgforgeError } from './errors';
export type { ErrorCode } from './errors';
export type {
  SectorSize,
  SpecFormat,
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
  PartitionSummary,
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
} from './types';

/** Reads, parses and validates a spec file (.yaml, .yml or .json); relative paths are resolved against its folder. */
export const loadSpec: (specPath: string) => Promise<LoadedSpec> = loadSpecFile;

/**
 * Parses and validates spec text without reading any file. `sourceName` appears in error messages;
 * relative paths in the spec are resolved against `baseDir`.
 */
export const parseSpec: (text: string, format: SpecFormat, sourceName: string, baseDir: string) => LoadedSpec = parseSpecText;

/**
 * Lays a spec out: exact sector positions, GUIDs and each filesystem's geometry. Reads the sources'
 * metadata (sizes, trees) and writes nothing.
 */
export const plan: (spec: LoadedSpec, options?: PlanOptions) => Promise<Plan> = planImage;

/**
 * Builds the image a spec describes (a path, or a LoadedSpec) into a file, atomically, or into a
 * block device with `force`; with `format`, `compress`, `bmap` or `split`, also delivers it in
 * that form (every file written to a temporary name and renamed only when all succeeded).
 */
export const build: (spec: string | LoadedSpec, options?: BuildOptions) => Promise<BuildResult> = buildImage;

/** The values of BuildOptions.copy. */
export const COPY_MODES: readonly CopyMode[] = copyModes;

/** Reads an image or block device without changing it: tables, partitions, what each holds, every problem. */
export const inspect: (imagePath: string, options?: InspectOptions) => InspectReport = inspectImage;

/** Compares an image with the spec it was built from: every difference, with where it is. */
export const verify: (spec: string | LoadedSpec, imagePath: string, options?: VerifyOptions) => Promise<VerifyReport> = verifyImage;
