export { build, COPY_MODES } from './build/build';
export type { BuildOptions, BuildProgress, BuildResult, CopyMode, CopySummary } from './build/build';
export type { PartitionSummary } from './build/summary';
export { loadSpec, parseSpec } from './spec/load';
export type { LoadedSpec, PartitionSpec } from './spec/load';
export { plan } from './plan/plan';
export type { Plan, PlannedPartition, PlanOptions } from './plan/plan';
export { ImgforgeError } from './errors';
export type { ErrorCode } from './errors';
