/**
 * Every failure imgforge reports is an ImgforgeError with a stable `code`, so callers can branch on
 * the code and the CLI can map it to an exit status without parsing messages.
 */
export type ErrorCode =
  | 'USAGE' // bad command-line usage
  | 'SPEC_READ' // the spec file cannot be read
  | 'SPEC_PARSE' // the spec is not valid YAML/JSON
  | 'SPEC_INVALID' // a field has a bad value, an unknown key, ...
  | 'CONTENTS' // a partition's contents file is missing, unreadable, not a regular file
  | 'LAYOUT' // the partitions do not fit the disk, or the disk cannot be laid out
  | 'OUTPUT' // the output path cannot be used: missing folder, a directory, a device without --force, ...
  | 'IO' // reading or writing failed during the build
  | 'COPY' // the copy engine failed (copy_file_range without fallback, ...)
  | 'SOURCE_CHANGED' // a source changed (its size, or it is no longer a regular file) after it was planned
  | 'ABORTED' // the build was cancelled (AbortSignal, SIGINT, SIGTERM)
  | 'NATIVE' // the native addon could not be loaded
  | 'TOOL' // a tool the build runs (mkfs.ext4, mksquashfs) is missing or too old
  | 'IMAGE'; // the image to inspect or verify cannot be opened or read

/** Errors the user fixes in the spec or on the command line, rather than failures of the build itself. */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(['USAGE', 'SPEC_READ', 'SPEC_PARSE', 'SPEC_INVALID', 'CONTENTS', 'LAYOUT', 'OUTPUT', 'IMAGE', 'TOOL']);

export class ImgforgeError extends Error {
  override readonly name = 'ImgforgeError';
  readonly code: ErrorCode;
  /**
   * What the output holds after this failure when it is not simply left as it was: set when a
   * build into a block device fails or is cancelled part-way.
   */
  readonly outputState: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; outputState?: string }) {
    super(message, options);
    this.code = code;
    this.outputState = options?.outputState;
  }

  /** True when the user must fix the spec or the command line (CLI exit status 2). */
  get isInputError(): boolean {
    return INPUT_ERRORS.has(this.code);
  }
}
