/**
 * The writers of the image's delivery forms, by kind: each turns the raw image (with the
 * build's data ranges) into a new file at a temporary path. A new format is one more row.
 */
import * as fs from 'node:fs';
import { native, type CopyProgress, type DeliverOutcome } from '../native';
import { deriveGuid } from '../plan/guid';
import { mergeRanges, type DataRange } from '../build/ranges';
import type { ArtifactKind, CopyMode } from '../types';

/** What a writer may need beyond the bytes: whether to hash its output, how to copy, the disk's identity. */
export interface WriterContext {
  checksum: boolean;
  copy: CopyMode;
  /** The disk GUID or MBR disk id: random without a seed, derived from it with one. */
  identity: string | undefined;
}

/** Writes `output` (which must not exist) from the raw image at `image` whose data lies in `dataRanges`. */
export type ImageWriter = (image: string, dataRanges: DataRange[], output: string, progress: CopyProgress, context: WriterContext) => Promise<DeliverOutcome>;

type VirtualDiskFormat = 'qcow2' | 'vhd' | 'vhd-dynamic';

/**
 * qcow2 and VHD through crates/vdisk. The VHD's unique id follows from the disk's identity, so
 * a seeded build gives the same VHD every time (its time stamp is SOURCE_DATE_EPOCH when set).
 * The SHA-256 covers the whole file: qcow2 and dynamic VHDs are dense, and a fixed VHD's
 * holes are the raw image's, hashed as zeros without being read.
 */
function virtualDisk(format: VirtualDiskFormat): ImageWriter {
  return async (image, dataRanges, output, progress, context) => {
    const virtualSize = fs.statSync(image).size;
    const uuid = context.identity !== undefined ? deriveGuid(context.identity, `imgforge:vhd-unique-id`) : undefined;
    let fileSize: number;
    try {
      ({ fileSize } = await native().writeVirtualDisk({ format, image, virtualSize, dataRanges, output, uuid, copy: context.copy }, progress));
    } catch (error) {
      // A cancelled build is told apart by its signal, where the delivery catches this.
      return { size: 0, error: { code: 'IO', message: (error as Error).message } };
    }
    if (!context.checksum) return { size: fileSize };
    const hashed = format === 'vhd' ? mergeRanges([...dataRanges, { offset: virtualSize, length: fileSize - virtualSize }]) : [{ offset: 0, length: fileSize }];
    const outcome = await native().hashImage(output, hashed, progress);
    return outcome.error !== undefined && outcome.error !== null ? outcome : { size: fileSize, sha256: outcome.sha256 };
  };
}

/** The image's forms other than raw (which is the built file itself). */
export const IMAGE_WRITERS: Readonly<Partial<Record<ArtifactKind, ImageWriter>>> = {
  'android-sparse': (image, ranges, output, progress) => native().writeAndroidSparse(image, ranges, output, progress),
  qcow2: virtualDisk('qcow2'),
  vhd: virtualDisk('vhd'),
  'vhd-dynamic': virtualDisk('vhd-dynamic'),
  zstd: (image, ranges, output, progress) => native().writeCompressed('zstd', image, ranges, output, progress),
  xz: (image, ranges, output, progress) => native().writeCompressed('xz', image, ranges, output, progress),
  gzip: (image, ranges, output, progress) => native().writeCompressed('gzip', image, ranges, output, progress),
};

/** bmaptool's block map of the raw image. */
export const writeBmap: ImageWriter = (image, ranges, output, progress) => native().writeBmap(image, ranges, output, progress);
