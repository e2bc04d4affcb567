/**
 * An existing image to read back: a regular file or a block device, opened read-only. Reading never
 * needs root, a loop device or a mount. Anything that cannot be read as an image (a directory, a
 * FIFO, /dev/null, /proc/self/mem, a file without permission) is an IMAGE error: one line naming
 * the image and the reason, exit status 2.
 */
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { blockDeviceInfo } from '../block-device';

export interface ImageFile {
  path: string;
  kind: 'file' | 'device';
  /** Bytes. */
  size: number;
  /** The device's logical sector size; undefined for files, whose sector size is detected from the table. */
  sectorSize: number | undefined;
}

/** What a path is when it is neither a regular file nor a block device. */
function describeKind(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  return 'neither a regular file nor a block device';
}

function notAnImage(imagePath: string, stats: fs.Stats): ImgforgeError {
  return new ImgforgeError('IMAGE', `${imagePath}: ${describeKind(stats)}; expected a disk image or a block device`);
}

const isErrno = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';

/** Why reading failed, without the image's name, which the native readers put in front of it. */
function reasonOf(error: unknown, imagePath: string): string {
  if (isErrno(error)) return describeFsError(error);
  const message = error instanceof Error ? error.message : String(error);
  const prefix = [`cannot read ${imagePath}: `, `cannot open ${imagePath}: `, `${imagePath}: `].find((p) => message.startsWith(p));
  return prefix === undefined ? message : message.slice(prefix.length);
}

/** The image could not be read (a failing read, a reader's I/O error): exit status 2, one line. */
export function unreadable(imagePath: string, error: unknown): ImgforgeError {
  return new ImgforgeError('IMAGE', `${imagePath}: cannot be read: ${reasonOf(error, imagePath)}`, { cause: error });
}

/**
 * Opens the image read-only and non-blocking, so that a FIFO does not wait for a writer (its type
 * is refused right after). A socket cannot be opened at all (ENXIO): stat says what it is.
 */
function openNonBlocking(imagePath: string): number {
  try {
    return fs.openSync(imagePath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const errno = error as NodeJS.ErrnoException;
    const stats = errno.code === 'ENXIO' ? fs.statSync(imagePath, { throwIfNoEntry: false }) : undefined;
    if (stats !== undefined && !stats.isFile() && !stats.isBlockDevice()) throw notAnImage(imagePath, stats);
    throw new ImgforgeError('IMAGE', `${imagePath}: ${describeFsError(errno)}`);
  }
}

/** Bytes read up front: the first sector, where every reader starts. */
const PROBE_BYTES = 512;

/**
 * Reads the image's first bytes, so that an image that cannot be read fails here rather than deep
 * in a reader (/proc/self/mem gives EIO; a failing disk, its first sector). A regular file whose
 * size the file system gives as 0 but that yields bytes is a pseudo-file (/proc/self/status): the
 * readers lay the disk out by its size, which it does not have.
 */
function probe(fd: number, imagePath: string, size: number): void {
  const buffer = Buffer.alloc(Math.max(1, Math.min(size, PROBE_BYTES)));
  let read: number;
  try {
    read = fs.readSync(fd, buffer, 0, buffer.length, 0);
  } catch (error) {
    throw unreadable(imagePath, error);
  }
  if (size === 0 && read > 0) {
    throw new ImgforgeError('IMAGE', `${imagePath}: its size is given as 0 bytes, yet it holds data (a pseudo-file, like those in /proc); expected a disk image or a block device`);
  }
  const packed = PACKED_FORMATS.find((format) => buffer.subarray(0, read).subarray(0, format.magic.length).equals(format.magic));
  if (packed !== undefined) {
    throw new ImgforgeError('IMAGE', `${imagePath} is ${packed.name}; inspect and verify read raw images: expand it first (${packed.expand(imagePath)}) or read the raw build`);
  }
  // A fixed VHD is the raw disk followed by a 512-byte footer: read as it is, the disk would
  // seem 512 bytes longer than its tables say.
  if (size >= 1024 && size % 512 === 0) {
    const footer = Buffer.alloc(8);
    try {
      fs.readSync(fd, footer, 0, 8, size - 512);
    } catch (error) {
      throw unreadable(imagePath, error);
    }
    if (footer.equals(Buffer.from('conectix', 'latin1'))) {
      throw new ImgforgeError('IMAGE', `${imagePath} is a fixed VHD; inspect and verify read raw images: expand it first (qemu-img convert -f vpc -O raw ${imagePath} disk.img) or read the raw build`);
    }
  }
}

/**
 * Forms `build` delivers an image in that are not the disk's bytes (see --format, --compress):
 * recognized by their magic so that reading one says what to do instead of "no partition table".
 */
const PACKED_FORMATS: ReadonlyArray<{ name: string; magic: Buffer; expand: (file: string) => string }> = [
  { name: 'an Android sparse image', magic: Buffer.from([0x3a, 0xff, 0x26, 0xed]), expand: (f) => `simg2img ${f} disk.img` },
  { name: 'zstd-compressed', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), expand: (f) => `zstd -d ${f}` },
  { name: 'xz-compressed', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), expand: (f) => `xz -dk ${f}` },
  { name: 'gzip-compressed', magic: Buffer.from([0x1f, 0x8b]), expand: (f) => `gzip -dk ${f}` },
  { name: 'a qcow2 image', magic: Buffer.from('QFI\xfb', 'latin1'), expand: (f) => `qemu-img convert -O raw ${f} disk.img` },
  { name: 'a dynamic VHD', magic: Buffer.from('conectix', 'latin1'), expand: (f) => `qemu-img convert -f vpc -O raw ${f} disk.img` },
];

/** Checks that `imagePath` is an image that can be read, and what it is. */
export function openImage(imagePath: string): ImageFile {
  const fd = openNonBlocking(imagePath);
  try {
    let stats: fs.Stats;
    try {
      stats = fs.fstatSync(fd);
    } catch (error) {
      throw unreadable(imagePath, error);
    }
    let image: ImageFile;
    if (stats.isBlockDevice()) {
      const device = blockDeviceInfo(imagePath, stats);
      image = { path: imagePath, kind: 'device', size: device.size, sectorSize: device.logicalSectorSize };
    } else if (stats.isFile()) {
      image = { path: imagePath, kind: 'file', size: stats.size, sectorSize: undefined };
    } else {
      throw notAnImage(imagePath, stats);
    }
    probe(fd, imagePath, image.size);
    return image;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads up to `length` bytes at `offset`; shorter at the end of the image. */
export function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** Runs `use` with a read-only descriptor of the image, closing it afterwards; a failed read is an IMAGE error. */
export function withImage<T>(image: ImageFile, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(image.path, 'r');
  } catch (error) {
    throw new ImgforgeError('IMAGE', `${image.path}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
  try {
    return use(fd);
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    throw unreadable(image.path, error);
  } finally {
    fs.closeSync(fd);
  }
}

/** readAt through a FileHandle: up to `length` bytes at `offset`, shorter at the end of the image. */
export async function readAtAsync(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** withImage for asynchronous reads: `use` gets a read-only FileHandle of the image. */
export async function withImageAsync<T>(image: ImageFile, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await fs.promises.open(image.path, 'r');
  } catch (error) {
    throw new ImgforgeError('IMAGE', `${image.path}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
  try {
    return await use(handle);
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    throw unreadable(image.path, error);
  } finally {
    await handle.close();
  }
}
