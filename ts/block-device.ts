/**
 * Block devices: their size and logical sector size, as the kernel reports them in sysfs. Used by
 * the build (writing to a device) and by inspect (reading one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from './errors';

export interface BlockDeviceInfo {
  size: number;
  logicalSectorSize: number;
}

/** Reads a block device's size and logical sector size from sysfs (Node has no ioctl). */
export function blockDeviceInfo(devicePath: string, stat: fs.Stats): BlockDeviceInfo {
  // glibc's dev_t encoding (gnu_dev_major / gnu_dev_minor).
  const dev = BigInt(stat.rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  const sysDir = `/sys/dev/block/${major}:${minor}`;
  try {
    const sectors512 = Number(fs.readFileSync(`${sysDir}/size`, 'utf8').trim());
    let logicalSectorSize = 512;
    try {
      logicalSectorSize = Number(fs.readFileSync(`${sysDir}/queue/logical_block_size`, 'utf8').trim());
    } catch {
      // Partitions have no queue/ of their own; their parent's sector size applies.
      const parent = path.dirname(fs.realpathSync(sysDir));
      logicalSectorSize = Number(fs.readFileSync(`${parent}/queue/logical_block_size`, 'utf8').trim());
    }
    return { size: sectors512 * 512, logicalSectorSize };
  } catch (error) {
    throw new ImgforgeError('OUTPUT', `${devicePath}: cannot read the block device's size from ${sysDir}: ${(error as Error).message}`);
  }
}
