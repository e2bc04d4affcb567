import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasTool, tempDir } from './tools';

/**
 * Why tests that need root and loop devices cannot run here, or undefined when they can. CI runs as
 * root, so these tests run there; they skip only where root or loop devices are truly absent.
 */
export function loopUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!fs.existsSync('/dev/loop-control')) return 'no /dev/loop-control (no loop device support)';
  for (const tool of ['losetup', 'mkfs.xfs', 'xfs_io', 'mount']) {
    if (!hasTool(tool)) return `${tool} is not installed`;
  }
  return undefined;
}

export interface LoopDevice {
  device: string;
  backing: string;
  detach(): void;
}

export function attachLoop(backing: string, sectorSize?: number): LoopDevice {
  const args = ['--find', '--show', ...(sectorSize ? ['--sector-size', String(sectorSize)] : []), backing];
  const device = execFileSync('losetup', args, { encoding: 'utf8' }).trim();
  let attached = true;
  return {
    device,
    backing,
    detach() {
      if (!attached) return;
      attached = false;
      spawnSync('losetup', ['--detach', device]);
    },
  };
}

export interface XfsMount {
  dir: string;
  cleanup(): void;
}

/**
 * A fresh loop-mounted XFS backed by a sparse file of `size` bytes, with reflink enabled unless
 * asked otherwise (without it, copy_file_range copies in the kernel, and can run out of space).
 */
export function mountXfs(size: number, options: { reflink?: boolean } = {}): XfsMount {
  const work = tempDir('imgforge-xfs-');
  const backing = path.join(work, 'xfs.img');
  const dir = path.join(work, 'mnt');
  fs.mkdirSync(dir);
  fs.closeSync(fs.openSync(backing, 'w'));
  fs.truncateSync(backing, size);
  let mounted = false;
  const cleanup = () => {
    if (mounted) {
      mounted = false;
      // A lazy unmount when something still holds the filesystem, so the test run can go on.
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    }
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    execFileSync('mkfs.xfs', ['-q', '-m', `reflink=${options.reflink === false ? 0 : 1}`, backing], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', backing, dir], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    cleanup();
    throw error;
  }
  return { dir, cleanup };
}
