import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from './errors';
import type { Plan, PlannedPartition } from './plan/plan';

/** The shape of the napi binding (crates/napi). Declared here so the TypeScript compiles before the addon is built. */
export interface NativeCopyProgress {
  readonly bytes: number;
  cancel(): void;
}

/** One source file, where it goes in the image, the bytes available there, and its length when planned (crates/copy's CopyJob). */
export interface CopyJob {
  source: string;
  offset: number;
  capacity: number;
  /** The source's size when planned; another size, or a file that is no longer regular, is SOURCE_CHANGED. */
  plannedLength: number;
}

export interface NativeCopyStats {
  copyFileRangeBytes: number;
  readWriteBytes: number;
  holeBytes: number;
}

export interface NativeCopyOutcome {
  stats: NativeCopyStats;
  /**
   * `job`: the failed raw copy's index; `path`: the failed file inside a filesystem; `source`: the
   * source file, when the failure is about its own state and the message does not name it.
   */
  error?: { code: string; message: string; job?: number; path?: string; source?: string };
}

export interface NativeFat32Options {
  partitionOffset: number;
  bytesPerSector: number;
  clusterSize?: number;
  label?: string;
  volumeId: number;
  /** Seconds since the epoch for every timestamp. */
  timestamp?: number;
  minFree: number;
}

export interface NativeFat32Summary {
  clusterSize: number;
  clusters: number;
  usedClusters: number;
  freeClusters: number;
  directories: number;
  files: number;
  fileBytes: number;
}

/** A scanned FAT32 source tree, held in Rust from planning to writing. Methods throw plain Errors. */
export interface NativeFat32Tree {
  /** Whether the scan read the file or directory with this device and inode number. */
  reads(dev: bigint, ino: bigint): boolean;
  minimumSize(options: NativeFat32Options): number;
  plan(options: NativeFat32Options, size: number): NativeFat32Summary;
  write(
    image: string,
    options: NativeFat32Options,
    size: number,
    mode: string,
    destinationZeroed: boolean,
    progress: NativeCopyProgress,
  ): Promise<NativeCopyOutcome>;
  /**
   * Compares the FAT32 in `length` bytes at `offset` of `image` with this tree: missing, unexpected and
   * retyped entries, sizes, first differing bytes, then the reader's findings (those carry `code`).
   * Empty when the image holds exactly this tree. Rejects only when the image cannot be opened or read.
   */
  verify(image: string, offset: number, length: number): Promise<NativeFat32Difference[]>;
}

/** One difference between a FAT32 and the tree it should hold. */
export interface NativeFat32Difference {
  /** Path inside the filesystem; "/" for the filesystem as a whole. */
  path: string;
  message: string;
  /** Set when the difference is a reader finding (its code, also at the start of `message`). */
  code?: string;
}

/** A problem `readFat32` found; `code` is stable (CHAIN_LOOP, CROSS_LINKED, FATS_DIFFER, ...). */
export interface NativeFat32Finding {
  code: string;
  message: string;
}

export interface NativeFat32Entry {
  /** "/EFI/BOOT/BOOTX64.EFI": long names when present, else 8.3 names. */
  path: string;
  kind: 'file' | 'directory';
  /** Bytes; 0 for directories. */
  size: number;
  /** Seconds since the epoch (FAT time read as UTC); absent when the stored date is invalid. */
  modified?: number;
}

/** What `readFat32` found in a FAT32 partition. */
export interface NativeFat32Report {
  /** Absent for "NO NAME". */
  label?: string;
  /** The 32-bit serial; shown as "1234-ABCD". */
  volumeId: number;
  bytesPerSector: number;
  clusterSize: number;
  clusters: number;
  usedClusters: number;
  freeClusters: number;
  badClusters: number;
  /** FSInfo's free count and next-free hint, when FSInfo is valid and knows them. */
  fsinfoFreeClusters?: number;
  fsinfoNextFree?: number;
  /** Below the root. */
  directories: number;
  files: number;
  fileBytes: number;
  /** Empty for a sound filesystem; at most 50 per code, then one saying how many more. */
  findings: NativeFat32Finding[];
  /** Only with `withFiles`: every entry below the root, each directory before its contents. */
  entries?: NativeFat32Entry[];
}

/**
 * A planned disk for `encodeGpt`: the fields of a Plan the encoder reads (a Plan fits as is).
 * Names are at most 36 UTF-16 code units, written as JavaScript holds them; attributes are the
 * 64-bit mask.
 */
export type NativeGptLayout = Pick<Plan, 'sectorSize' | 'diskSize' | 'totalSectors' | 'diskGuid' | 'firstUsableLba' | 'lastUsableLba'> & {
  partitions: Array<Pick<PlannedPartition, 'index' | 'name' | 'typeGuid' | 'guid' | 'attributes' | 'firstLba' | 'lastLba'>>;
};

/** Bytes to write at a byte offset of the disk. */
export interface NativeGptRegion {
  offset: number;
  data: Buffer;
}

/** One of the four MBR records, as stored. */
export interface NativeMbrEntry {
  /** Boot indicator 0x80. */
  bootable: boolean;
  /** The partition type byte: 0 for an empty record, 0xEE protective. */
  type: number;
  firstLba: number;
  sectors: number;
}

export interface NativeGptInfo {
  /** The header the partitions were read from: the backup when the primary is unusable. */
  header: 'primary' | 'backup';
  headerLba: number;
  diskGuid: string;
  firstUsableLba: number;
  lastUsableLba: number;
  /** The other header's LBA, as the header used gives it. */
  alternateLba: number;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  primaryHeader: 'valid' | 'invalid' | 'missing';
  backupHeader: 'valid' | 'invalid' | 'missing';
}

export interface NativeTablePartition {
  /** The GPT entry number (1-based), or the MBR record number (1 to 4). */
  index: number;
  /** The type GUID (upper case); for an MBR partition, its type byte as "0x83". */
  typeGuid: string;
  /** The MBR type byte; null for GPT partitions. */
  mbrType: number | null;
  /** The partition's unique GUID; null for MBR partitions. */
  guid: string | null;
  /** Up to the first NUL; invalid UTF-16 replaced by U+FFFD; "" for MBR partitions. */
  name: string;
  firstLba: number;
  /** Inclusive. */
  lastLba: number;
  /** Bytes from the start of the disk. */
  offset: number;
  /** Bytes; 0 when the first LBA is after the last. */
  size: number;
  /** The 64-bit attribute mask as a decimal string ("0" for MBR partitions): use BigInt(attributes). */
  attributes: string;
}

/**
 * What `readPartitionTable` found. LBAs and byte counts are numbers: exact up to 2^53, which only
 * corrupt tables exceed (and those get findings).
 */
export interface NativePartitionTable {
  /** Bytes per sector: the one given, else 4096 when a GPT header is found for it, else 512. */
  sectorSize: number;
  diskSize: number;
  mbr: {
    /** protective: one 0xEE record; hybrid: 0xEE and others; plain: an MBR table; none: no 0x55AA; invalid: not an MBR. */
    kind: 'protective' | 'hybrid' | 'plain' | 'none' | 'invalid';
    entries: NativeMbrEntry[];
  };
  /** null when no usable GPT header was found. */
  gpt: NativeGptInfo | null;
  /** From the GPT when there is one, else from a plain or hybrid MBR. */
  partitions: NativeTablePartition[];
  /** Every problem found (stable codes such as GPT_HEADER_CRC, PARTITIONS_OVERLAP); empty for a healthy disk. */
  findings: Array<{ code: string; message: string }>;
}

export interface NativeBinding {
  CopyProgress: new () => NativeCopyProgress;
  Fat32Tree: { scan(sources: Array<{ source: string; target: string }>): NativeFat32Tree };
  copyIntoImage(
    image: string,
    jobs: CopyJob[],
    mode: string,
    destinationZeroed: boolean,
    progress: NativeCopyProgress,
  ): Promise<NativeCopyOutcome>;
  /** Throws a plain Error saying why the layout cannot be encoded. */
  encodeGpt(layout: NativeGptLayout): NativeGptRegion[];
  /** Reads a file or block device read-only; throws only for I/O errors and an impossible sector size. */
  readPartitionTable(path: string, sectorSize?: number): NativePartitionTable;
  /** The FAT32 in `length` bytes at `offset` of an image or device, or null when there is none; throws only when it cannot be opened or read. */
  readFat32(image: string, offset: number, length: number, withFiles: boolean): NativeFat32Report | null;
}

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so `plan` and spec validation work even where it is missing. */
export function native(): NativeBinding {
  if (binding === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require('../native/index.js') as NativeBinding;
    } catch (error) {
      throw loadError(error);
    }
  }
  return binding;
}

/**
 * The regions of the GPT for `layout` (protective MBR, both headers, both entry arrays), in
 * ascending offset order, from the Rust encoder (crates/gpt). Refusals are LAYOUT errors.
 */
export function encodeGpt(layout: NativeGptLayout): NativeGptRegion[] {
  const binding = native();
  try {
    return binding.encodeGpt(layout);
  } catch (error) {
    throw new ImgforgeError('LAYOUT', `cannot encode the GPT: ${(error as Error).message}`, { cause: error });
  }
}

// Loading, and explaining why it failed. The generated loader (native/index.js, napi-rs) tries
// native/imgforge.<abi>.node, then the package imgforge-<abi>, and throws "Cannot find native
// binding" with every attempt's message chained as causes: users need to know which of the two
// cases they are in, and which package npm should have installed.

/** The platforms imgforge publishes a prebuilt package for (package.json `napi.targets`). */
export const PREBUILT_PLATFORMS: readonly string[] = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
];

/** This machine's platform as napi-rs names it (`linux-arm64-musl`), and the package expected to hold its binary. */
export function platformPackage(): { platform: string; name: string; prebuilt: boolean } {
  const { platform: os, arch } = process;
  let platform = `${os}-${arch}`;
  if (os === 'linux') platform += isMusl() ? '-musl' : '-gnu';
  else if (os === 'win32') platform += '-msvc';
  return { platform, name: `imgforge-${platform}`, prebuilt: PREBUILT_PLATFORMS.includes(platform) };
}

// As the generated loader decides: by ldd, else by whether the process reports a glibc version.
function isMusl(): boolean {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    // no ldd: ask the process report
  }
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

const FROM_SOURCE = 'build it from source (needs Rust; see "Building from source" in imgforge\'s README)';

function loadError(error: unknown): ImgforgeError {
  const nativeDir = path.join(__dirname, '..', 'native');
  const expected = platformPackage();
  const here = `${process.platform}-${process.arch}`;
  let message: string;
  if (!fs.existsSync(path.join(nativeDir, 'index.js'))) {
    message = `imgforge's native addon is not built (${path.join(nativeDir, 'index.js')} is missing): run \`npm run build\` (needs Rust, https://rustup.rs).`;
  } else if (!expected.prebuilt) {
    message =
      `imgforge has no prebuilt native addon for ${here} (${expected.platform}); prebuilt: ${PREBUILT_PLATFORMS.join(', ')}.\n` +
      `To use imgforge here, ${FROM_SOURCE}.`;
  } else {
    const found = [path.join(nativeDir, `imgforge.${expected.platform}.node`), packageDir(expected.name, nativeDir)].find(
      (file) => file !== undefined && fs.existsSync(file),
    );
    message =
      found === undefined
        ? `imgforge's native addon for ${here} is not installed: the package ${expected.name} is missing.\n` +
          'npm installs it as an optional dependency of imgforge, unless optional dependencies are omitted ' +
          '(--omit=optional, --no-optional) or node_modules was installed on another platform.\n' +
          'Reinstall imgforge on this machine with optional dependencies (`npm i imgforge --include=optional`; ' +
          `if that is not enough, delete node_modules and package-lock.json, then \`npm i\`), or ${FROM_SOURCE}.`
        : `imgforge's native addon ${found} could not be loaded: ${rootCause(error, expected.name)}\n` +
          `Reinstall imgforge (the package ${expected.name} may be damaged or for another libc), or ${FROM_SOURCE}.`;
  }
  return new ImgforgeError('NATIVE', message, { cause: error });
}

function packageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    return undefined;
  }
}

/** The first line of the innermost error that is not just "module not found": usually the dlopen failure. */
function rootCause(error: unknown, name: string): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error && messages.length < 20; e = e.cause) messages.push(e.message.split('\n')[0]);
  return (
    messages.find((m) => !/^Cannot find (module|native binding)/.test(m)) ?? messages.find((m) => m.includes(name)) ?? messages[0] ?? String(error)
  );
}
