/**
 * An existing image to read back: a regular file or a block device, opened read-only. Reading never
 * needs root, a loop device or a mount.
 */
import * as fs from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { blockDeviceInfo } from '../build/output';

export interface ImageFile {
  path: string;
  kind: 'file' | 'device';
  /** Bytes. */
  size: number;
  /** The device's logical sector size; undefined for files, whose sector size is detected from the table. */
  sectorSize: number | undefined;
}

export function openImage(imagePath: string): ImageFile {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(imagePath);
  } catch (error) {
    throw new ImgforgeError('IMAGE', `${imagePath}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
  if (stats.isBlockDevice()) {
    const device = blockDeviceInfo(imagePath, stats);
    checkReadable(imagePath);
    return { path: imagePath, kind: 'device', size: device.size, sectorSize: device.logicalSectorSize };
  }
  if (!stats.isFile()) {
    const what = stats.isDirectory() ? 'a directory' : 'neither a regular file nor a block device';
    throw new ImgforgeError('IMAGE', `${imagePath}: ${what}; expected a disk image or a block device`);
  }
  checkReadable(imagePath);
  return { path: imagePath, kind: 'file', size: stats.size, sectorSize: undefined };
}

function checkReadable(imagePath: string): void {
  try {
    fs.closeSync(fs.openSync(imagePath, 'r'));
  } catch (error) {
    throw new ImgforgeError('IMAGE', `${imagePath}: ${describeFsError(error as NodeJS.ErrnoException)}`);
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

/** Runs `use` with a read-only descriptor of the image, closing it afterwards. */
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
    throw new ImgforgeError('IO', `reading ${image.path}: ${(error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
