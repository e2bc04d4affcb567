import type { ContentsKind } from '../types';
/**
 * Recognises what a partition holds from the magic numbers filesystems put near their start, so
 * `inspect` can say "erofs" or "ext4" for partitions it does not read further. FAT32 is read in
 * full by the Rust reader instead.
 */

/** How many bytes of a partition the signatures look at (btrfs keeps its superblock at 64 KiB). */
export const SIGNATURE_BYTES = 0x10000 + 0x1000;


interface Signature {
  kind: ContentsKind | ((head: Buffer) => ContentsKind);
  offset: number;
  magic: Buffer;
}

const EXT_SUPERBLOCK = 1024;
const EXT_INCOMPAT_EXTENTS = 0x40;
const EXT_COMPAT_JOURNAL = 0x4;

/** ext4 uses extents; ext3 has a journal without them; ext2 has neither. */
function extVersion(head: Buffer): ContentsKind {
  if (head.length < EXT_SUPERBLOCK + 100) return 'ext2';
  const compat = head.readUInt32LE(EXT_SUPERBLOCK + 92);
  const incompat = head.readUInt32LE(EXT_SUPERBLOCK + 96);
  if (incompat & EXT_INCOMPAT_EXTENTS) return 'ext4';
  return compat & EXT_COMPAT_JOURNAL ? 'ext3' : 'ext2';
}

const SIGNATURES: readonly Signature[] = [
  { kind: extVersion, offset: EXT_SUPERBLOCK + 56, magic: Buffer.from([0x53, 0xef]) },
  { kind: 'erofs', offset: 1024, magic: Buffer.from([0xe2, 0xe1, 0xf5, 0xe0]) },
  { kind: 'squashfs', offset: 0, magic: Buffer.from('hsqs', 'latin1') },
  { kind: 'xfs', offset: 0, magic: Buffer.from('XFSB', 'latin1') },
  { kind: 'btrfs', offset: 0x10040, magic: Buffer.from('_BHRfS_M', 'latin1') },
  { kind: 'luks', offset: 0, magic: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { kind: 'swap', offset: 4096 - 10, magic: Buffer.from('SWAPSPACE2', 'latin1') },
  { kind: 'swap', offset: 4096 - 10, magic: Buffer.from('SWAP-SPACE', 'latin1') },
  { kind: 'fat12/16', offset: 54, magic: Buffer.from('FAT1', 'latin1') },
];

/** The filesystem (or other format) whose signature `head`, the partition's first bytes, carries. */
export function detectContents(head: Buffer): ContentsKind {
  for (const signature of SIGNATURES) {
    const end = signature.offset + signature.magic.length;
    if (head.length >= end && head.subarray(signature.offset, end).equals(signature.magic)) {
      return typeof signature.kind === 'function' ? signature.kind(head) : signature.kind;
    }
  }
  return head.every((byte) => byte === 0) ? 'empty' : 'unknown';
}
