import type { FilesystemSummary } from '../plan/filesystem';
import type { Plan } from '../plan/plan';

/** One partition as reported by `build --json` and `plan --json`. */
export interface PartitionSummary {
  index: number;
  name: string;
  /** The type GUID. */
  type: string;
  guid: string;
  firstLba: number;
  lastLba: number;
  /** Byte offset in the image. */
  offset: number;
  /** Bytes. */
  size: number;
  /** The FAT32 filesystem imgforge wrote into the partition, if any. */
  filesystem?: FilesystemSummary;
}

export function describePlan(layout: Plan): PartitionSummary[] {
  return layout.partitions.map((p) => ({
    index: p.index,
    name: p.name,
    type: p.typeGuid,
    guid: p.guid,
    firstLba: p.firstLba,
    lastLba: p.lastLba,
    offset: p.offset,
    size: p.size,
    ...(p.filesystem !== undefined ? { filesystem: p.filesystem } : {}),
  }));
}
