/**
 * What a build delivers, decided from its options and the output's name before anything is
 * written: the image's format or compression, a bmap, partition files and their names. Pure:
 * every bad combination is one line naming the option, before the build starts.
 */
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import type { BuildOptions, Compression, DeliveryFormat, PlannedPartition } from '../types';

export const DELIVERY_FORMATS: readonly DeliveryFormat[] = ['raw', 'android-sparse', 'qcow2', 'vhd', 'vhd-dynamic'];
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'xz', 'gzip'];

/** Output extensions that say how the image is delivered when no option does. */
const EXTENSION_FORMATS: Readonly<Record<string, DeliveryFormat>> = { '.simg': 'android-sparse', '.qcow2': 'qcow2', '.vhd': 'vhd' };
const EXTENSION_COMPRESSIONS: Readonly<Record<string, Compression>> = { '.zst': 'zstd', '.xz': 'xz', '.gz': 'gzip' };

export interface Delivery {
  format: DeliveryFormat;
  compress: Compression | undefined;
  bmap: boolean;
  split: boolean;
  /** The partition files' name pattern (see BuildOptions.splitName). */
  splitName: string;
  checksums: boolean;
}

function usage(message: string): ImgforgeError {
  return new ImgforgeError('USAGE', message);
}

/** Reads the format and compression the output's extension implies, if any. */
function fromExtension(output: string): { format?: DeliveryFormat; compress?: Compression; extension: string } {
  const extension = path.extname(output).toLowerCase();
  return { format: EXTENSION_FORMATS[extension], compress: EXTENSION_COMPRESSIONS[extension], extension };
}

/**
 * The delivery `options` ask for, with `output`'s extension filling in what they leave out.
 * Throws USAGE for an unknown format or compression, an option the extension contradicts, a
 * compressed android-sparse image, or a bmap of one.
 */
export function resolveDelivery(output: string, options: BuildOptions): Delivery {
  if (options.format !== undefined && !DELIVERY_FORMATS.includes(options.format)) {
    throw usage(`format must be one of ${DELIVERY_FORMATS.join(', ')}; got "${options.format}"`);
  }
  if (options.compress !== undefined && !COMPRESSIONS.includes(options.compress)) {
    throw usage(`compress must be one of ${COMPRESSIONS.join(', ')}; got "${options.compress}"`);
  }
  const implied = fromExtension(output);
  const name = path.basename(output);
  // A .vhd may hold a fixed (the default) or a dynamic VHD.
  const sameFormat = (a: DeliveryFormat, b: DeliveryFormat) => a === b || (a.startsWith('vhd') && b.startsWith('vhd'));
  if (options.format !== undefined && implied.format !== undefined && !sameFormat(implied.format, options.format)) {
    throw usage(`format ${options.format} conflicts with the output name ${name} (${implied.extension} is ${implied.format}): rename the output or drop the format`);
  }
  if (options.format !== undefined && options.format !== 'raw' && implied.compress !== undefined) {
    throw usage(`format ${options.format} conflicts with the output name ${name} (${implied.extension} is ${implied.compress} compression of a raw image)`);
  }
  if (options.compress !== undefined && implied.compress !== undefined && implied.compress !== options.compress) {
    throw usage(`compress ${options.compress} conflicts with the output name ${name} (${implied.extension} is ${implied.compress})`);
  }
  if (options.compress !== undefined && implied.format !== undefined) {
    throw usage(`compress ${options.compress} conflicts with the output name ${name} (${implied.extension} is ${implied.format})`);
  }
  const format = options.format ?? implied.format ?? 'raw';
  const compress = options.compress ?? (format === 'raw' ? implied.compress : undefined);
  if (compress !== undefined && format !== 'raw') {
    throw usage(`compress applies to raw images; format ${format} cannot be compressed`);
  }
  const bmap = options.bmap ?? false;
  if (bmap && format !== 'raw') {
    throw usage(`bmap describes a raw image; it cannot go with format ${format}`);
  }
  const split = options.split ?? false;
  if (options.splitName !== undefined && !split) throw usage('splitName names the partition files of split: pass split too (--split)');
  const splitName = options.splitName ?? `${escapePattern(outputStem(output))}.%n.raw`;
  checkSplitPattern(splitName);
  return { format, compress, bmap, split, splitName, checksums: options.checksums ?? false };
}

/** Whether the build writes anything but the plain raw image. */
export function deliversMore(delivery: Delivery): boolean {
  return delivery.format !== 'raw' || delivery.compress !== undefined || delivery.bmap || delivery.split;
}

/** The options that a block device output cannot take, by their CLI name. */
export function deviceProblem(delivery: Delivery): string | undefined {
  if (delivery.split) return '--split';
  if (delivery.bmap) return '--bmap';
  if (delivery.compress !== undefined) return `--compress ${delivery.compress}`;
  if (delivery.format !== 'raw') return `--format ${delivery.format}`;
  return undefined;
}

/** The output's name without its compression and image extensions: `disk.img.zst` -> `disk`. */
export function outputStem(output: string): string {
  let name = path.basename(output);
  const compression = path.extname(name).toLowerCase();
  if (EXTENSION_COMPRESSIONS[compression] !== undefined) name = name.slice(0, -compression.length);
  const extension = path.extname(name);
  if (extension !== '' && extension !== name) name = name.slice(0, -extension.length);
  return name;
}

function escapePattern(text: string): string {
  return text.replace(/%/g, '%%');
}

const PATTERN_FIELDS = new Set(['n', 't', 'u', 'i', '%']);

function checkSplitPattern(pattern: string): void {
  for (const match of pattern.matchAll(/%(.?)/g)) {
    if (!PATTERN_FIELDS.has(match[1])) {
      throw usage(`splitName ${JSON.stringify(pattern)}: unknown field "%${match[1]}" (use %n name, %t type GUID, %u GUID, %i number, %% a percent sign)`);
    }
  }
  if (pattern.includes('/')) throw usage(`splitName ${JSON.stringify(pattern)}: a file name, without "/" (the files go beside the output)`);
}

/** The partition file name `pattern` gives `partition`. */
export function splitFileName(pattern: string, partition: Pick<PlannedPartition, 'index' | 'name' | 'type' | 'guid'>): string {
  const fields: Record<string, string> = { n: partition.name, t: partition.type, u: partition.guid ?? '', i: String(partition.index), '%': '%' };
  return pattern.replace(/%(.)/g, (_, field: string) => fields[field]);
}

/**
 * The partition files' paths beside `output`, one per partition, checked: each a usable file
 * name, all different, none the output or its bmap.
 */
export function splitPaths(output: string, delivery: Delivery, partitions: readonly PlannedPartition[]): string[] {
  const dir = path.dirname(output);
  const taken = new Map<string, string>([[output, 'the output'], [`${output}.bmap`, 'the bmap']]);
  return partitions.map((partition) => {
    if (partition.guid === undefined && /(^|[^%])(%%)*%u/.test(delivery.splitName)) {
      throw usage(`splitName ${JSON.stringify(delivery.splitName)}: %u is the partition's GPT GUID, and partition "${partition.name}" of an MBR disk has none (use %n or %i)`);
    }
    const name = splitFileName(delivery.splitName, partition);
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw usage(`partitions[${partition.index - 1}]: split file name ${JSON.stringify(name)} (from ${JSON.stringify(delivery.splitName)}) is not a file name`);
    }
    const file = path.join(dir, name);
    const other = taken.get(file);
    if (other !== undefined) {
      throw usage(`partitions[${partition.index - 1}]: split file ${name} would also be ${other}: give splitName a field that tells them apart (%i, %u)`);
    }
    taken.set(file, `partition ${partition.index}'s file`);
    return file;
  });
}
