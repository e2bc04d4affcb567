import type { Plan, FilesystemSummary, PartitionSummary } from '../types';


export function describePlan(layout: Plan): PartitionSummary[] {
  return layout.partitions.map((p) => ({
    index: p.index,
    name: p.name,
    type: p.typeGuid,
    ...(p.guid !== undefined ? { guid: p.guid } : {}),
    ...(p.mbrType !== undefined ? { mbrType: p.mbrType, bootable: p.bootable } : {}),
    ...(p.logical ? { logical: true } : {}),
    firstLba: p.firstLba,
    lastLba: p.lastLba,
    offset: p.offset,
    size: p.size,
    ...(p.filesystem !== undefined ? { filesystem: p.filesystem } : {}),
  }));
}
