/**
 * The writers of the image's delivery forms, by kind: each turns the raw image (with the
 * build's data ranges) into a new file at a temporary path. A new format is one more row.
 */
import { native, type CopyProgress, type DeliverOutcome } from '../native';
import type { DataRange } from '../build/ranges';
import type { ArtifactKind } from '../types';

/** Writes `output` (which must not exist) from the raw image at `image` whose data lies in `dataRanges`. */
export type ImageWriter = (image: string, dataRanges: DataRange[], output: string, progress: CopyProgress) => Promise<DeliverOutcome>;

/** The image's forms other than raw (which is the built file itself). */
export const IMAGE_WRITERS: Readonly<Partial<Record<ArtifactKind, ImageWriter>>> = {
  'android-sparse': (image, ranges, output, progress) => native().writeAndroidSparse(image, ranges, output, progress),
  zstd: (image, ranges, output, progress) => native().writeCompressed('zstd', image, ranges, output, progress),
  xz: (image, ranges, output, progress) => native().writeCompressed('xz', image, ranges, output, progress),
  gzip: (image, ranges, output, progress) => native().writeCompressed('gzip', image, ranges, output, progress),
};

/** bmaptool's block map of the raw image. */
export const writeBmap: ImageWriter = (image, ranges, output, progress) => native().writeBmap(image, ranges, output, progress);
