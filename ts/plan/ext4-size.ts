/**
 * How large an ext4 filesystem must be to hold a tree: the arithmetic of mkfs.ext4 (e2fsprogs
 * 1.47) for the options imgforge gives it (4 KiB blocks, 256-byte inodes, 64-bit group
 * descriptors, sparse_super, resize_inode, a journal, no root-reserved blocks). Pure: the tree's
 * own needs come from the scan (TreeUsage, counted in crates/stage), the filesystem's metadata
 * from here. It is an estimate; `resize2fs -P` on the result is the check (__test__/ext4.test.ts).
 */

export const EXT4_BLOCK_SIZE = 4096;
export const EXT4_INODE_SIZE = 256;
const BLOCKS_PER_GROUP = 32768;
/** mke2fs.conf's default inode_ratio: one inode per 16 KiB of filesystem. */
export const EXT4_BYTES_PER_INODE = 16384;
/** Group descriptors per block with the 64bit feature (64-byte descriptors). */
const DESCRIPTORS_PER_BLOCK = EXT4_BLOCK_SIZE / 64;
const INODES_PER_BLOCK = EXT4_BLOCK_SIZE / EXT4_INODE_SIZE;
/** Inodes 1 to 10 are reserved; lost+found is the 11th. */
const RESERVED_INODES = 11;
/** lost+found is made 16 KiB long, so fsck can add entries without allocating. */
const LOST_AND_FOUND_BLOCKS = 4;
/** Block numbers in one indirect block: the cap on reserved GDT blocks. */
const ADDRESSES_PER_BLOCK = EXT4_BLOCK_SIZE / 4;
/** The smallest filesystem imgforge makes: room for the smallest journal (1024 blocks) and the rest. */
export const EXT4_MIN_BLOCKS = 4096;

/** What the tree needs, from the scan (blocks of 4 KiB). */
export interface Ext4TreeNeeds {
  inodes: number;
  fileBlocks: number;
  directoryBlocks: number;
  symlinkBlocks: number;
}

/** The filesystem mkfs.ext4 is asked for, and what it needs of its blocks. */
export interface Ext4Geometry {
  blocks: number;
  groups: number;
  /** The inode count given to mkfs.ext4 (-N); it may round it up to fill inode table blocks. */
  inodes: number;
  journalBlocks: number;
  /** Blocks the filesystem's metadata and the tree take, with a margin; at most `blocks` to fit. */
  neededBlocks: number;
}

/** e2fsprogs' default journal size for a filesystem of `blocks` 4 KiB blocks (ext2fs_default_journal_size). */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** Whether group `g` holds a superblock backup with sparse_super: 0, 1 and powers of 3, 5 and 7. */
export function hasSuperblockBackup(g: number): boolean {
  if (g <= 1) return true;
  for (const base of [3, 5, 7]) {
    let power = base;
    while (power < g) power *= base;
    if (power === g) return true;
  }
  return false;
}

/**
 * The geometry of a filesystem of `blocks` blocks holding `tree` and `minFreeBytes` of free room,
 * with `journalBlocks` of journal (the default for its size when left out).
 */
export function ext4Geometry(tree: Ext4TreeNeeds, minFreeBytes: number, blocks: number, journalBlocks = defaultJournalBlocks(blocks)): Ext4Geometry {
  const groups = Math.ceil(blocks / BLOCKS_PER_GROUP);
  const inodes = Math.max(Math.floor((blocks * EXT4_BLOCK_SIZE) / EXT4_BYTES_PER_INODE), tree.inodes + RESERVED_INODES);
  const inodesPerGroup = Math.ceil(Math.ceil(inodes / groups) / INODES_PER_BLOCK) * INODES_PER_BLOCK;
  const inodeTableBlocks = groups * (inodesPerGroup / INODES_PER_BLOCK);
  const descriptorBlocks = Math.ceil(groups / DESCRIPTORS_PER_BLOCK);
  // Room to grow 1024 times (capped at 2^32 blocks), as mke2fs reserves for online resizing.
  const growTo = Math.min(2 ** 32 - 1, blocks * 1024);
  const reservedGdt = Math.min(ADDRESSES_PER_BLOCK, Math.max(0, Math.ceil(Math.ceil(growTo / BLOCKS_PER_GROUP) / DESCRIPTORS_PER_BLOCK) - descriptorBlocks));
  let backups = 0;
  for (let g = 0; g < groups; g++) if (hasSuperblockBackup(g)) backups++;
  const metadata = backups * (1 + descriptorBlocks + reservedGdt) + groups * 2 + inodeTableBlocks + journalBlocks + LOST_AND_FOUND_BLOCKS + 2;
  const data = tree.fileBlocks + tree.directoryBlocks + tree.symlinkBlocks;
  // A margin for what the sum does not see (extents split by group metadata, a short last group).
  const margin = Math.ceil(data / 100) + 256;
  const neededBlocks = metadata + data + margin + Math.ceil(minFreeBytes / EXT4_BLOCK_SIZE);
  return { blocks, groups, inodes, journalBlocks, neededBlocks };
}

/**
 * The smallest filesystem (in blocks, a multiple of 256: whole MiB) whose geometry holds `tree`
 * and `minFreeBytes`: grown from the tree's own size until the metadata it brings fits too.
 */
export function ext4MinimumBlocks(tree: Ext4TreeNeeds, minFreeBytes: number): number {
  const wholeMiB = (n: number) => Math.ceil(n / 256) * 256;
  let blocks = wholeMiB(Math.max(EXT4_MIN_BLOCKS, tree.fileBlocks + tree.directoryBlocks + tree.symlinkBlocks + Math.ceil(minFreeBytes / EXT4_BLOCK_SIZE)));
  for (;;) {
    const needed = ext4Geometry(tree, minFreeBytes, blocks).neededBlocks;
    if (needed <= blocks) return blocks;
    blocks = wholeMiB(needed);
  }
}
