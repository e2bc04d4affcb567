import { ImgforgeError } from './errors';

/** The shape of the napi binding (crates/napi). Declared here so the TypeScript compiles before the addon is built. */
export interface NativeCopyProgress {
  readonly bytes: number;
  cancel(): void;
}

export interface NativeCopyJob {
  source: string;
  offset: number;
  capacity: number;
}

export interface NativeCopyStats {
  copyFileRangeBytes: number;
  readWriteBytes: number;
  holeBytes: number;
}

export interface NativeCopyOutcome {
  stats: NativeCopyStats;
  error?: { code: string; message: string; job?: number };
}

export interface NativeBinding {
  CopyProgress: new () => NativeCopyProgress;
  copyIntoImage(
    image: string,
    jobs: NativeCopyJob[],
    mode: string,
    destinationZeroed: boolean,
    progress: NativeCopyProgress,
  ): Promise<NativeCopyOutcome>;
}

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so `plan` and spec validation work even where it is missing. */
export function native(): NativeBinding {
  if (binding === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require('../native/index.js') as NativeBinding;
    } catch (error) {
      throw new ImgforgeError(
        'NATIVE',
        `imgforge's native addon could not be loaded for ${process.platform}-${process.arch}: ${(error as Error).message.split('\n')[0]}\n` +
          'Reinstall imgforge so npm fetches the prebuilt package for this platform, or build from source with `npm run build` (needs a Rust toolchain).',
        { cause: error },
      );
    }
  }
  return binding;
}
