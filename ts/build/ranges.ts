/**
 * The build's map of what it wrote: byte ranges of the image that hold data (everything else
 * reads as zeros). The copy engine reports the ranges of each copy, the tables add theirs; the
 * delivery step writes sparse formats from the merged list, never by scanning for zeros.
 */

/** `[offset, offset + length)` of the image. */
export interface DataRange {
  offset: number;
  length: number;
}

/** `ranges` sorted by offset, without empty ones, merged where they touch or overlap. */
export function mergeRanges(ranges: readonly DataRange[]): DataRange[] {
  const sorted = ranges.filter((r) => r.length > 0).sort((a, b) => a.offset - b.offset);
  const out: DataRange[] = [];
  for (const range of sorted) {
    const last = out.at(-1);
    if (last !== undefined && range.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, range.offset + range.length - last.offset);
    } else {
      out.push({ offset: range.offset, length: range.length });
    }
  }
  return out;
}

/** Bytes the ranges cover (they must not overlap: merge them first). */
export function rangeBytes(ranges: readonly DataRange[]): number {
  return ranges.reduce((sum, r) => sum + r.length, 0);
}
