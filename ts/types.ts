/**
 * The public types of imgforge's library: what `loadSpec`, `plan`, `build`, `inspect` and `verify`
 * take and return. They are imgforge's own (never the binding's or zod's), import nothing, and
 * compile for consumers with TypeScript's default checks (no esModuleInterop, no skipLibCheck);
 * `__test__/consumer.test.ts` proves it.
 */

// ---- spec ----

/** The disk's logical sector size in bytes. */
export type SectorSize = 512 | 4096;

export type SpecFormat = 'yaml' | 'json';

/**
 * A spec written as an object (`build({ spec, baseDir })`, `plan({ spec, baseDir })`): the same
 * keys as a spec file, as JSON would give them. Paths are relative to `baseDir`. imgforge validates
 * it exactly as it validates a file; its JSON Schema is `imgforge/schema.json`.
 */
export interface ImageSpec {
  /** Where editors find the spec's JSON Schema; imgforge does not read it. */
  $schema?: string;
  /** Where the image is written unless the build's `output` says otherwise. */
  output?: string;
  /** Bytes, or text with a binary unit ("2GiB"); "auto" (the default) for the smallest disk that holds the partitions. */
  size?: number | string;
  /** 512 (the default) or 4096. */
  sectorSize?: SectorSize | string;
  /** A power of two, at least the sector size (default "1MiB"). */
  alignment?: number | string;
  /** GUIDs, volume IDs and UUIDs derive from it; random without it. */
  seed?: string;
  diskGuid?: string;
  /** The partition table: "gpt" (the default), "mbr" (DOS) or "hybrid" (GPT plus a hybrid MBR). */
  table?: TableKind;
  /** mbr/hybrid: the 32-bit disk signature, a number or hex text like "0x12345678". */
  diskId?: number | string;
  /** mbr/hybrid: a file of at most 440 bytes of boot code for LBA 0. */
  bootCode?: string;
  /** 1 to 128, in GPT entry order. */
  partitions: ImageSpecPartition[];
}

/** One partition of an ImageSpec. */
export interface ImageSpecPartition {
  /** 1 to 36 UTF-16 code units, unique. */
  name: string;
  /** A Discoverable Partitions Specification name ("esp", "root-x86-64", ...) or a type GUID. */
  type: string;
  /** Bytes, text with a binary unit ("512MiB"), "auto" (fits the contents or filesystem) or "grow" (the rest of the disk). */
  size: number | string;
  guid?: string;
  /** Attribute names ("read-only", "growfs", "no-auto", ...) or bit numbers 0 to 63. */
  attributes?: Array<string | number>;
  /** mbr/hybrid: the MBR type byte (a number or hex text like "0x0c"); a default follows from type and filesystem. */
  mbrType?: number | string;
  /** mbr/hybrid: the MBR active flag. */
  bootable?: boolean;
  /** mbr: keep this partition in a primary record. */
  primary?: boolean;
  /** hybrid: mirror this partition in the hybrid MBR (at most three). */
  hybrid?: boolean;
  /** A file copied raw into the partition. */
  contents?: string;
  /** A filesystem imgforge writes from files and folders (not together with contents). */
  filesystem?: ImageSpecFilesystem;
  /** Makes this partition the dm-verity hash partition of another. */
  verity?: { data: string; salt?: string; hashAlgorithm?: 'sha256' | 'sha512'; dataBlockSize?: number | string; hashBlockSize?: number | string };
  /** Makes this partition the verity signature partition of a hash partition. */
  signature?: { verity: string; key: string; certificate: string };
}

/** A file or folder and where it goes inside a filesystem ("/" is the root). */
export interface ImageSpecFile {
  source: string;
  target: string;
}

export type ImageSpecFilesystem = ImageSpecFat32 | ImageSpecErofs | ImageSpecExt4 | ImageSpecSquashfs;

export interface ImageSpecFat32 {
  type: 'fat32';
  /** At most 11 characters of FAT's set. */
  label?: string;
  /** A number, or hex text like "1234-ABCD". */
  volumeId?: number | string;
  clusterSize?: number | string;
  minFree?: number | string;
  files?: ImageSpecFile[];
}

export interface ImageSpecErofs {
  type: 'erofs';
  /** At most 16 bytes of UTF-8. */
  label?: string;
  uuid?: string;
  ownership?: 'root' | 'source';
  files?: ImageSpecFile[];
}

export interface ImageSpecExt4 {
  type: 'ext4';
  /** At most 16 bytes of UTF-8. */
  label?: string;
  uuid?: string;
  /** Free space left beyond the files when the size is "auto" (and checked for fixed sizes). */
  minFree?: number | string;
  ownership?: 'root' | 'source';
  files?: ImageSpecFile[];
}

export interface ImageSpecSquashfs {
  type: 'squashfs';
  ownership?: 'root' | 'source';
  /** zstd (the default), xz, gzip, lz4 or none. */
  compression?: SquashfsCompression;
  files?: ImageSpecFile[];
}

/** What parseSpec takes: spec text and how to read it. */
export interface ParseSpecOptions {
  text: string;
  format: SpecFormat;
  /** Named in error messages (default "spec"). */
  sourceName?: string;
  /** The folder relative paths in the spec are resolved against (default: the current folder). */
  baseDir?: string;
}

/**
 * Which spec to use: a spec file's path, a spec written as an object (its relative paths resolved
 * against `baseDir`), or a spec loadSpec or parseSpec returned.
 */
export interface SpecInput {
  spec: string | ImageSpec | LoadedSpec;
  /** For an ImageSpec: the folder its relative paths are resolved against (default: the current folder). */
  baseDir?: string;
}

/** The partition table: GPT, a plain MBR (DOS) table, or a GPT with a hybrid MBR. */
export type TableKind = 'gpt' | 'mbr' | 'hybrid';

/** A validated spec: defaults filled in, sizes in bytes, GUIDs canonical uppercase, paths absolute. */
export interface LoadedSpec {
  /** Absolute path of the spec file; undefined when parsed from text. */
  specPath: string | undefined;
  /** Absolute folder that relative paths in the spec are resolved against. */
  baseDir: string;
  /** Absolute. */
  output: string | undefined;
  size: number | 'auto';
  sectorSize: SectorSize;
  alignment: number;
  seed: string | undefined;
  diskGuid: string | undefined;
  /** The partition table; "gpt" when undefined. */
  table?: TableKind;
  /** mbr/hybrid: the 32-bit MBR disk signature; derived from the seed (or random) when undefined. */
  diskId?: number;
  /** mbr/hybrid: absolute path of at most 440 bytes of boot code for LBA 0. */
  bootCode?: string;
  partitions: PartitionSpec[];
}

export interface PartitionSpec {
  name: string;
  type: { guid: string; name: string | undefined };
  size: number | 'auto' | 'grow';
  guid: string | undefined;
  /** GPT attribute bit mask. */
  attributes: bigint;
  /** Absolute. */
  contents: string | undefined;
  filesystem: FilesystemSpec | undefined;
  /** mbr/hybrid: the MBR type byte; undefined: the default for the type and filesystem. */
  mbrType?: number;
  /** mbr/hybrid: the MBR active flag. */
  bootable?: boolean;
  /** mbr: keep the partition in a primary record. */
  primary?: boolean;
  /** hybrid: mirror the partition in the hybrid MBR. */
  hybrid?: boolean;
  /** Makes this partition the dm-verity hash partition of another (see VeritySpec). */
  verity?: VeritySpec;
  /** Makes this partition the verity signature partition of a hash partition. */
  signature?: SignatureSpec;
}

/**
 * A filesystem imgforge writes from files and folders: FAT32 (ESPs) or EROFS (read-only roots),
 * which it writes itself, or ext4 and squashfs, which it builds with e2fsprogs and squashfs-tools.
 */
export type FilesystemSpec = Fat32FilesystemSpec | ErofsFilesystemSpec | Ext4FilesystemSpec | SquashfsFilesystemSpec;

/** A FAT32 filesystem imgforge writes from files and folders. */
export interface Fat32FilesystemSpec {
  type: 'fat32';
  /** Upper case, at most 11 characters. */
  label: string | undefined;
  /** Derived from the seed (or random) when undefined. */
  volumeId: number | undefined;
  /** Chosen by size when undefined. */
  clusterSize: number | undefined;
  /** Bytes left free when the partition is sized "auto" (and checked for fixed sizes). */
  minFree: number;
  /** Sources are absolute; targets are paths inside the filesystem. */
  files: Array<{ source: string; target: string }>;
}

/** An EROFS filesystem imgforge writes from files and folders, its file data reflinked where it can be. */
export interface ErofsFilesystemSpec {
  type: 'erofs';
  /** The volume name: at most 16 bytes. */
  label: string | undefined;
  /** Derived from the seed (or random) when undefined; upper case. */
  uuid: string | undefined;
  /** "root": every entry owned by 0:0; "source": the sources' uid and gid. */
  ownership: 'root' | 'source';
  /** Sources are absolute; targets are paths inside the filesystem. */
  files: Array<{ source: string; target: string }>;
}

/** An ext4 filesystem built with mkfs.ext4 from files and folders, written straight into the image. */
export interface Ext4FilesystemSpec {
  type: 'ext4';
  /** The volume label: at most 16 bytes. */
  label: string | undefined;
  /** Derived from the seed (or random) when undefined; upper case. The hash seed is derived likewise. */
  uuid: string | undefined;
  /** Bytes left free when the partition is sized "auto" (and checked for fixed sizes). */
  minFree: number;
  /** "root": every entry owned by 0:0; "source": the sources' uid and gid. */
  ownership: 'root' | 'source';
  /** Sources are absolute; targets are paths inside the filesystem. */
  files: Array<{ source: string; target: string }>;
}

/** squashfs's compressors as mksquashfs names them, and "none". */
export type SquashfsCompression = 'zstd' | 'xz' | 'gzip' | 'lz4' | 'none';

/** A squashfs filesystem built with mksquashfs from files and folders. */
export interface SquashfsFilesystemSpec {
  type: 'squashfs';
  /** "root": every entry owned by 0:0; "source": the sources' uid and gid. */
  ownership: 'root' | 'source';
  compression: SquashfsCompression;
  /** Sources are absolute; targets are paths inside the filesystem. */
  files: Array<{ source: string; target: string }>;
}

export interface PlanOptions {
  /** Overrides the spec's size, e.g. with a block device's size. */
  diskSize?: number;
  /** With size "auto", the disk is rounded up to a multiple of this many bytes (a VHD for Azure needs whole MiB). */
  autoSizeMultiple?: number;
  /** Filled with how long scanning the sources and laying out took, in milliseconds. */
  timings?: PlanTimings;
}

export interface PlanTimings {
  /** Reading the sources' metadata: contents' sizes and filesystems' trees. */
  scan: number;
  /** Laying out the disk and each filesystem. */
  plan: number;
}

/**
 * A disk laid out: what `plan()` returns, what `plan --json` prints, and (with the output, copy
 * statistics and timings) what `build()` returns and `build --json` prints; the same names in all.
 */
export interface Plan {
  /** The partition table written. */
  table: TableKind;
  sectorSize: number;
  /** Bytes. */
  diskSize: number;
  totalSectors: number;
  /** The GPT's disk GUID; absent for table mbr. */
  diskGuid?: string;
  /** mbr/hybrid: the MBR disk signature as 8 hex digits, "0x12345678"; absent for gpt. */
  diskId?: string;
  /** mbr/hybrid: the boot code written to LBA 0 (bytes 0-439), if any. */
  bootCode?: { path: string; size: number };
  /** GPT: the usable LBAs between the tables; mbr: 1 to the last LBA. */
  firstUsableLba: number;
  lastUsableLba: number;
  /** Bytes partitions start at multiples of. */
  alignment: number;
  partitions: PlannedPartition[];
}

/** One partition as planned; `inspect` reads the same fields back (InspectedPartition). */
export interface PlannedPartition {
  /** 1-based GPT entry number; mbr: the MBR record (1 to 4), or 5 and up for logical partitions. */
  index: number;
  name: string;
  /** The type GUID, upper case. */
  type: string;
  /** The Discoverable Partitions Specification name of the type, when it is a known one. */
  typeName?: string;
  /** The GPT partition GUID; absent for table mbr. */
  guid?: string;
  /** mbr: the MBR type byte; hybrid: that of a mirrored partition; else absent. */
  mbrType?: number;
  /** mbr/hybrid: the MBR active flag, for partitions in the MBR. */
  bootable?: boolean;
  /** mbr: true for a logical partition in the extended partition (numbered 5 and up). */
  logical?: boolean;
  /** mbr: a logical partition's EBR, the sector before it that links the chain. */
  ebrLba?: number;
  /** GPT attribute names (required-partition, read-only, growfs, ...) or bit numbers, in bit order. */
  attributes: string[];
  firstLba: number;
  lastLba: number;
  /** Bytes from the start of the disk. */
  offset: number;
  /** Bytes. */
  size: number;
  /** The file copied raw into the partition (an absolute path) and its size. */
  contents?: { path: string; size: number };
  /** The filesystem imgforge writes into the partition. */
  filesystem?: FilesystemSummary;
  /** A dm-verity hash partition: what it protects and how (rootHash once built). */
  verity?: VerityInfo;
  /** A verity signature partition: which hash partition it signs, with which certificate. */
  signature?: SignatureInfo;
}

/** A filesystem as planned: what `plan --json` and `build --json` show of it. */
export type FilesystemSummary = Fat32Summary | ErofsSummary | Ext4Summary | SquashfsSummary;

/** A FAT32 filesystem as planned (and as `inspect` reads it back). */
export interface Fat32Summary {
  type: 'fat32';
  label: string | undefined;
  /** The volume serial number, e.g. "1234-ABCD". */
  volumeId: string;
  /** Bytes per cluster. */
  clusterSize: number;
  /** Data clusters. */
  clusters: number;
  usedClusters: number;
  freeClusters: number;
  /** Folders below the root. */
  directories: number;
  files: number;
  /** The files' sizes added up. */
  fileBytes: number;
}

/** An EROFS filesystem as planned. */
export interface ErofsSummary {
  type: 'erofs';
  label: string | undefined;
  uuid: string;
  /** "root" or "source": who owns the entries. */
  ownership: 'root' | 'source';
  /** The filesystem's exact size in bytes (a multiple of 4096); the partition may be larger. */
  size: number;
  /** Inodes (hard links count once). */
  inodes: number;
  /** Regular files with data. */
  files: number;
  /** Their sizes added up. */
  fileBytes: number;
}

/**
 * An ext4 filesystem as planned, and as built. `plan` does not run mkfs.ext4: its `size` is then
 * the estimate "auto" gives the partition (`estimated: true`); `build` gives what was written.
 */
export interface Ext4Summary {
  type: 'ext4';
  label: string | undefined;
  uuid: string;
  /** The directory hash seed (s_hash_seed), a UUID. */
  hashSeed: string;
  ownership: 'root' | 'source';
  blockSize: number;
  /** Bytes the filesystem spans: the partition's size. */
  size: number;
  /** True in a plan: sizes come from imgforge's estimate, not from the built filesystem. */
  estimated: boolean;
  /** The inode count the filesystem was made with (all of them, used or not). */
  inodes: number;
  /** Regular files (hard links count once). */
  files: number;
  /** Their sizes added up. */
  fileBytes: number;
  /** Bytes free once built (absent in a plan). */
  freeBytes?: number;
}

/**
 * A squashfs filesystem as planned, and as built. Its size is only known once mksquashfs ran:
 * in a plan it is an estimate (`estimated: true`), the uncompressed tree's.
 */
export interface SquashfsSummary {
  type: 'squashfs';
  compression: SquashfsCompression;
  ownership: 'root' | 'source';
  /** Bytes: the filesystem's exact size once built (bytes_used rounded up to 4 KiB); the partition may be larger. */
  size: number;
  estimated: boolean;
  /** Inodes (hard links count once). */
  inodes: number;
  files: number;
  fileBytes: number;
}

export type CopyMode = 'auto' | 'copy-file-range' | 'read-write';

export interface BuildProgress {
  /**
   * `copy`: copying partition contents (reported first with bytesDone 0, before any copying);
   * `tables`: writing the partition tables, which come last; `fsync`: making the image durable,
   * which can take seconds where the data was copied rather than shared; `deliver`: writing
   * the delivery artifacts (other formats, bmap, partition files, checksums), with `artifact`
   * the file being written and bytes counted over the image; `verity`: hashing data partitions
   * into their hash partitions (after the copies, before the tables), `partition` the hash
   * partition, bytes counted over the data read (all tree levels); `mkfs`: an outside tool
   * (`tool`: mkfs.ext4, mksquashfs) makes `partition`'s filesystem, with no byte counts (squashfs
   * before the copies, since its size decides the layout; ext4 among them); `done`.
   */
  phase: 'copy' | 'mkfs' | 'verity' | 'tables' | 'fsync' | 'deliver' | 'done';
  /** Bytes of partition contents processed so far (copied or skipped as holes). */
  bytesDone: number;
  bytesTotal: number;
  /** The partition being copied, when one is. */
  partition?: string;
  /** In the deliver phase: the file being written, or read for its checksum. */
  artifact?: string;
  /** In the deliver phase: set when `artifact` is being read for its SHA-256 rather than written. */
  checksum?: boolean;
  /** In the mkfs phase: the tool making the filesystem. */
  tool?: string;
}

/**
 * How the image is delivered: `raw` (the disk's bytes) or `android-sparse` (AOSP sparse image,
 * as fastboot flashes and simg2img expands).
 */
export type DeliveryFormat = 'raw' | 'android-sparse' | 'qcow2' | 'vhd' | 'vhd-dynamic';

/** Compression of the raw image's stream. */
export type Compression = 'zstd' | 'xz' | 'gzip';

/** What an artifact is: the image in its format or compression, its bmap, or a partition file. */
export type ArtifactKind = DeliveryFormat | Compression | 'bmap' | 'partition';

/** A file a build wrote. */
export interface Artifact {
  /** Absolute path. */
  path: string;
  kind: ArtifactKind;
  /** Bytes (the file's length; a raw image or partition file may hold holes). */
  size: number;
  /** SHA-256 of its bytes, hex: set with the `checksums` option (the CLI's --json). */
  sha256?: string;
  /** For a partition file: which partition it holds. */
  partition?: { index: number; name: string; type: string; guid?: string };
}

export interface BuildOptions {
  /** Output path; defaults to the spec's `output`, else `<spec name>.img` beside the spec file. */
  output?: string;
  /** Required to write to a block device. */
  force?: boolean;
  copy?: CopyMode;
  onProgress?: (progress: BuildProgress) => void;
  signal?: AbortSignal;
  /** How often onProgress is called while copying, in milliseconds (default 200). */
  progressIntervalMs?: number;
  /**
   * The image's format (default: from the output's extension, `.simg` android-sparse, `.qcow2`
   * qcow2, `.vhd` fixed VHD, else raw). Other formats are written from a raw image built beside
   * the output, then removed. A `vhd` disk of size "auto" is rounded up to whole MiB, as Azure
   * requires.
   */
  format?: DeliveryFormat;
  /** Compress the raw image's stream (default: from the output's extension `.zst`, `.xz`, `.gz`). */
  compress?: Compression;
  /** Also write bmaptool's block map (format 2.0, SHA-256) beside the image as `<output>.bmap`. */
  bmap?: boolean;
  /** Also write each partition as a file of its own (reflinked from the image where the filesystem allows). */
  split?: boolean;
  /**
   * File name of each partition file, beside the output: `%n` the partition's name, `%t` its
   * type GUID, `%u` its GUID, `%i` its number, `%%` a percent sign. Default `<output stem>.%n.raw`.
   */
  splitName?: string;
  /** Compute the SHA-256 of every artifact (`Artifact.sha256`); the CLI sets it with --json. */
  checksums?: boolean;
}

export interface CopySummary {
  copyFileRangeBytes: number;
  readWriteBytes: number;
  holeBytes: number;
}

/** Where a build's time went, in milliseconds (one decimal). */
export interface BuildTimings {
  /** Reading the sources' metadata: contents' sizes, filesystems' source trees. */
  scan: number;
  /** Laying out the disk and the filesystems. */
  plan: number;
  /** Encoding and writing the partition tables (on a device, also wiping them first). */
  tables: number;
  /** Filling the partitions: raw contents and filesystems, metadata and files. */
  copy: number;
  /** Hashing the data partitions into their hash partitions (dm-verity) and signing the root hashes. */
  verity: number;
  /** Making the image durable: fsync, and for a file the rename into place. */
  fsync: number;
  /** Writing the delivery artifacts: other formats, bmap, partition files, checksums. */
  deliver: number;
}

/** The result of a build: the plan it wrote, and how; the CLI prints exactly this with --json. */
export interface BuildResult extends Plan {
  /** The image written (an absolute path). */
  output: string;
  copy: CopySummary;
  /** Bytes of the image the build wrote (data and metadata); the rest are zeros it never wrote. */
  dataBytes: number;
  /** Every file written: the image (in its format) first, then its bmap and partition files. */
  artifacts: Artifact[];
  elapsedMs: number;
  timings: BuildTimings;
}

export type ContentsKind = 'ext2' | 'ext3' | 'ext4' | 'erofs' | 'squashfs' | 'xfs' | 'btrfs' | 'swap' | 'luks' | 'fat12/16' | 'empty' | 'unknown';

export interface Finding {
  /** Stable, e.g. GPT_HEADER_CRC, FAT_CROSS_LINKED. */
  code: string;
  message: string;
  /** The partition (entry number) the finding is about, when it is about one. */
  partition?: number;
}

/** The same fields as `build --json`'s `filesystem`, read back from the image. */
export interface Fat32Contents extends Fat32Summary {
  bytesPerSector: number;
}

/** An EROFS filesystem as `inspect` reads it back. */
export interface ErofsContents {
  type: 'erofs';
  label: string | undefined;
  /** The volume UUID, its 16 bytes in stored order. */
  uuid: string;
  blockSize: number;
  /** The superblock's inode count. */
  inodes: number;
  /** Bytes the filesystem spans (its blocks times the block size): what `size` is when planned. */
  size: number;
  /** Directories below the root, regular files, symlinks, and devices, FIFOs and sockets (each name counts). */
  directories: number;
  files: number;
  symlinks: number;
  specials: number;
  /** The regular files' sizes added up, each inode once. */
  fileBytes: number;
  /** Regular files with compressed data (listed, not read). */
  compressedFiles: number;
}

/** An ext2, ext3 or ext4 filesystem as `inspect` reads its superblock. */
export interface Ext4Contents {
  /** ext4 (extents), ext3 (a journal without extents) or ext2. */
  type: 'ext4' | 'ext3' | 'ext2';
  label: string | undefined;
  /** The filesystem UUID, upper case. */
  uuid: string;
  blockSize: number;
  /** Bytes the filesystem spans (its blocks times the block size). */
  size: number;
  /** Bytes in blocks that are not free (metadata included), by the superblock's free count. */
  usedBytes: number;
  /** The inode count (used or not), and how many are free. */
  inodes: number;
  freeInodes: number;
  /** The directory hash seed (s_hash_seed), a UUID. */
  hashSeed: string;
  /** The features, as dumpe2fs names them. */
  features: string[];
  /** Cleanly unmounted, no errors recorded. */
  clean: boolean;
}

/** A squashfs as `inspect` reads its superblock. */
export interface SquashfsContents {
  type: 'squashfs';
  /** The format version, "4.0". */
  version: string;
  /** gzip, lzma, lzo, xz, lz4 or zstd. */
  compression: string;
  /** Bytes per data block. */
  blockSize: number;
  /** Bytes the filesystem uses (bytes_used). */
  size: number;
  inodes: number;
  /** Superblock flags by name (exportable, duplicates-removed, no-xattrs, ...). */
  flags: string[];
  /** When mksquashfs made it, UTC, "2023-11-14 22:13:20". */
  created: string;
}

/** Filesystems `inspect` reads (in full, or their superblocks). */
type ReadContentsKind = 'erofs' | 'ext2' | 'ext3' | 'ext4' | 'squashfs';

/** What a partition holds: a filesystem imgforge reads, or what its signature says. */
export type PartitionContents = Fat32Contents | ErofsContents | Ext4Contents | SquashfsContents | VerityHashContents | VeritySignatureContents | { type: Exclude<ContentsKind, ReadContentsKind> };

/** A dm-verity hash partition, recognised by its superblock. */
export interface VerityHashContents {
  type: 'verity-hash';
  uuid: string;
  hashAlgorithm: string;
  dataBlockSize: number;
  hashBlockSize: number;
  dataBlocks: number;
  salt: string;
}

/** A verity signature partition (DPS JSON): the root hash it signs and the certificate's fingerprint. */
export interface VeritySignatureContents {
  type: 'verity-signature';
  rootHash: string;
  certificateFingerprint: string | undefined;
}

export interface FileEntry {
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket';
  size: number;
  /** UTC, "2023-11-14 22:13:20" (EROFS: with the nanoseconds when there are some). */
  modified: string | undefined;
  /** EROFS: permission bits in octal with setuid, setgid and sticky, "0755". */
  mode?: string;
  /** EROFS: the owner. */
  uid?: number;
  gid?: number;
  /** EROFS: names of the inode (hard links). */
  nlink?: number;
  /** EROFS: a symlink's target. */
  target?: string;
}

export interface InspectedPartition {
  index: number;
  name: string;
  /** The type GUID (for an MBR partition, the type byte as "0x83"). */
  type: string;
  /** The Discoverable Partitions Specification name of the type, when it is a known one. */
  typeName: string | undefined;
  guid: string | undefined;
  firstLba: number;
  lastLba: number;
  offset: number;
  size: number;
  /** Attribute names (required-partition, read-only, ...) or bit numbers. */
  attributes: string[];
  /** MBR partitions: the active flag, and whether it is a logical one (numbered 5 and up). */
  bootable?: boolean;
  logical?: boolean;
  contents: PartitionContents;
  /** With `files`: the FAT32 or EROFS tree. */
  files?: FileEntry[];
}

export interface InspectReport {
  image: string;
  kind: 'file' | 'device';
  size: number;
  sectorSize: number;
  /** Which table the partitions come from. */
  table: 'gpt' | 'mbr' | 'none';
  mbr: MbrTable;
  /** null when no usable GPT header was found. */
  gpt: GptTable | null;
  partitions: InspectedPartition[];
  findings: Finding[];
}

/** The MBR of an inspected disk. */
export interface MbrTable {
  /** protective: one 0xEE record; hybrid: 0xEE and others; plain: an MBR table; none: no 0x55AA; invalid: not an MBR. */
  kind: 'protective' | 'hybrid' | 'plain' | 'none' | 'invalid';
  /** The four records as stored (zeros when there is no MBR). */
  entries: MbrEntry[];
  /** The disk signature at byte 440 as 8 hex digits, "0x12345678" ("0x00000000" when there is no MBR). */
  diskId: string;
}

/** One of the four MBR records, as stored. */
export interface MbrEntry {
  /** Boot indicator 0x80. */
  bootable: boolean;
  /** The partition type byte: 0 for an empty record, 0xEE protective. */
  type: number;
  firstLba: number;
  sectors: number;
}

/** The GPT header an inspected disk's partitions were read from. */
export interface GptTable {
  /** The primary header, or the backup when the primary is unusable. */
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

export interface InspectOptions {
  /** List the files of FAT32 partitions: all of them (true), or one, by entry number or name. */
  files?: boolean | string;
}

export interface Difference {
  /** What differs: `disk`, `partitions[1].name`, `partitions[0].filesystem:/EFI/BOOT/BOOTX64.EFI`, ... */
  where: string;
  message: string;
}

export interface VerifyReport {
  image: string;
  spec: string | undefined;
  /** Partitions compared. */
  partitions: number;
  /** Bytes of raw contents and filesystem files compared. */
  bytesCompared: number;
  differences: Difference[];
}

export interface VerifyOptions {
  signal?: AbortSignal;
}

// ---- dm-verity (issue 15) ----

/** A hash partition's `verity` key, defaults applied. */
export interface VeritySpec {
  /** The data partition's name. */
  data: string;
  /** Hexadecimal ("" for no salt); derived from the seed (or random) when undefined. */
  salt: string | undefined;
  hashAlgorithm: 'sha256' | 'sha512';
  dataBlockSize: number;
  hashBlockSize: number;
}

/** A signature partition's `signature` key; key and certificate are absolute paths. */
export interface SignatureSpec {
  verity: string;
  key: string;
  certificate: string;
}

/** A hash partition as planned, and as built (rootHash). */
export interface VerityInfo {
  /** The data partition's name. */
  data: string;
  /** The signature partition's name, if one signs the root hash. */
  signature?: string;
  /** Lower-case hexadecimal; set by the build. */
  rootHash?: string;
  /** Lower-case hexadecimal. */
  salt: string;
  hashAlgorithm: 'sha256' | 'sha512';
  dataBlockSize: number;
  hashBlockSize: number;
  /** Data blocks covered: the whole data partition. */
  dataBlocks: number;
  /** Bytes of the tree and its superblock, from the partition's start. */
  hashAreaSize: number;
  /** The superblock's UUID (lower case). */
  superblockUuid: string;
  /** Whether the build sets the data and hash partitions' GUIDs from the root hash (first and last 128 bits). */
  guidsFromRootHash: { data: boolean; hash: boolean };
}

/** A signature partition as planned. */
export interface SignatureInfo {
  /** The hash partition's name. */
  verity: string;
  certificate: string;
  /** Lower-case hexadecimal SHA-256 of the certificate's DER form. */
  certificateFingerprint: string;
}
