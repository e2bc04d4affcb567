/**
 * A picture of a disk: one line whose width is shared out in proportion to the bytes of each
 * partition and each stretch of free space, then a legend. Partitions are drawn with their
 * entry number (1-9, then a-z) so the picture reads without colour; on a terminal (and without
 * NO_COLOR) each also gets a background colour. The partition tables at both ends are `|`.
 */

export interface DiskRegion {
  /** The entry number, or undefined for free space. */
  index: number | undefined;
  /** Bytes from the start of the disk. */
  start: number;
  /** Bytes; regions are sorted and do not overlap. */
  size: number;
}

/** Background colours (ANSI 41-46, then bright 101-106), one per partition in turn. */
const BACKGROUNDS = [44, 42, 43, 45, 46, 41, 104, 102, 103, 105, 106, 101];
const FREE = '·';

/** The character a partition is drawn with: its entry number, 1-9 then a-z, then '#'. */
export function partitionMark(index: number): string {
  if (index >= 1 && index <= 9) return String(index);
  if (index >= 10 && index <= 35) return String.fromCharCode(97 + index - 10);
  return '#';
}

/**
 * Shares `width` columns among `sizes` in proportion, every non-zero size getting at least one
 * column (largest remainders first), so a 1 MiB partition on a 1 TiB disk is still seen. When
 * there are more regions than columns, each still gets one and the line grows.
 */
export function shareColumns(sizes: readonly number[], width: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const nonZero = sizes.filter((s) => s > 0).length;
  if (total === 0) return sizes.map(() => 0);
  const spare = Math.max(0, width - nonZero);
  const exact = sizes.map((s) => (s > 0 ? (s / total) * spare : 0));
  const columns = exact.map((e, i) => (sizes[i] > 0 ? 1 + Math.floor(e) : 0));
  let left = Math.max(nonZero, width) - columns.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    if (sizes[i] > 0) {
      columns[i] += 1;
      left -= 1;
    }
  }
  return columns;
}

/** The bar: `|` for the tables, each region in its columns, coloured when `color`. */
export function diskBar(regions: readonly DiskRegion[], width: number, color: boolean): string {
  const columns = shareColumns(
    regions.map((r) => r.size),
    Math.max(regions.length, width - 2),
  );
  const parts = regions.map((region, i) => {
    if (region.index === undefined) return color ? `\u001b[2m${FREE.repeat(columns[i])}\u001b[0m` : FREE.repeat(columns[i]);
    const fill = partitionMark(region.index).repeat(columns[i]);
    if (!color) return fill;
    const background = BACKGROUNDS[(region.index - 1) % BACKGROUNDS.length];
    return `\u001b[${background};30m${fill}\u001b[0m`;
  });
  return `|${parts.join('')}|`;
}

/** Partitions and the free space between them (gaps of at least `minFree` bytes). */
export function diskRegions(
  partitions: ReadonlyArray<{ index: number; offset: number; size: number }>,
  usableStart: number,
  usableEnd: number,
  minFree: number,
): DiskRegion[] {
  const sorted = [...partitions].sort((a, b) => a.offset - b.offset);
  const regions: DiskRegion[] = [];
  let at = usableStart;
  for (const p of sorted) {
    if (p.offset - at >= minFree) regions.push({ index: undefined, start: at, size: p.offset - at });
    regions.push({ index: p.index, start: p.offset, size: p.size });
    at = Math.max(at, p.offset + p.size);
  }
  if (usableEnd - at >= minFree) regions.push({ index: undefined, start: at, size: usableEnd - at });
  return regions;
}

/** Whether to colour output for `stream`: a terminal, and no NO_COLOR (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** The bar's width and colours for stdout: its columns (40 to 160; 80 when not a terminal). */
export function terminalPicture(): { width: number; color: boolean } {
  return { width: Math.min(Math.max(process.stdout.columns ?? 80, 40), 160), color: useColor(process.stdout) };
}
