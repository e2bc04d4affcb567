/**
 * Fault injection for the tests of issue 6: small filesystems that fill up (a size-limited tmpfs, a
 * small loop-mounted XFS), and running the CLI as an unprivileged user so that file modes apply
 * (root reads a `chmod 000` file regardless).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, type CliResult } from './cli';
import { mountXfs } from './loop';
import { hasTool, tempDir } from './tools';


/** Why a tmpfs (or, with `xfs`, a loop-mounted XFS) cannot be mounted here, or undefined when it can. */
export function mountUnavailableReason(kind: 'tmpfs' | 'xfs'): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (mounting needs root)';
  if (!hasTool('mount') || !hasTool('umount')) return 'mount/umount are not installed';
  if (kind === 'xfs') {
    if (!fs.existsSync('/dev/loop-control')) return 'no /dev/loop-control (no loop device support)';
    for (const tool of ['losetup', 'mkfs.xfs']) if (!hasTool(tool)) return `${tool} is not installed`;
    if (!fs.readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => l.trim() === 'xfs')) {
      // The kernel may still load the module on mount; try it rather than guess.
      const probe = mountXfsProbe();
      if (probe !== undefined) return probe;
    }
  }
  return undefined;
}

function mountXfsProbe(): string | undefined {
  try {
    mountSmallXfs(320 << 20).cleanup();
    return undefined;
  } catch (error) {
    return `cannot mount an XFS here: ${(error as Error).message.split('\n')[0]}`;
  }
}

export interface Mount {
  /** The mount point. */
  dir: string;
  /** Unmounts (lazily when busy) and removes the folders; safe to call twice. */
  cleanup(): void;
}

function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** A tmpfs of `size` (mount's syntax: "16k", "8m") on a fresh folder. */
export function mountTmpfs(size: string): Mount {
  const work = tempDir('imgforge-tmpfs-');
  const dir = path.join(work, 'mnt');
  fs.mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  let mounted = true;
  return {
    dir,
    cleanup() {
      if (mounted) {
        mounted = false;
        unmount(dir);
      }
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * A loop-mounted XFS of `size` bytes (sparse backing file) without reflink, so that
 * copy_file_range between two of its files copies data in the kernel instead of sharing blocks,
 * and so can run out of space.
 */
export function mountSmallXfs(size: number): Mount {
  return mountXfs(size, { reflink: false });
}

/** Free bytes for unprivileged writers on the filesystem holding `dir`. */
export function availableBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** Takes all but `leave` bytes of the free space of `dir`'s filesystem with one preallocated file. */
export function fillUpTo(dir: string, leave: number): string {
  const filler = path.join(dir, 'filler');
  execFileSync('fallocate', ['-l', String(availableBytes(dir) - leave), filler]);
  return filler;
}

export const NOBODY = 65534;

/**
 * How to run a command so that file permissions apply: as is when not root, else as nobody through
 * setpriv (or runuser). `reason` says why it cannot be done, when it cannot.
 */
export function unprivilegedRunner(): { wrap: (argv: string[]) => string[]; reason?: string } {
  if (process.getuid?.() !== 0) return { wrap: (argv) => argv };
  if (hasTool('setpriv')) {
    return { wrap: (argv) => ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] };
  }
  if (hasTool('runuser')) {
    const user = spawnSync('getent', ['passwd', String(NOBODY)], { encoding: 'utf8' }).stdout.split(':')[0];
    if (user) return { wrap: (argv) => ['runuser', '-u', user, '--', ...argv] };
  }
  return { wrap: (argv) => argv, reason: 'running as root, and neither setpriv nor runuser can drop privileges here' };
}

let cliForOthers: string | undefined;

/**
 * The CLI where any user can run it. The checkout may sit in a folder only its owner can enter
 * (`mktemp -d`, /root), which an unprivileged user cannot reach: so, once per test process, the
 * built CLI (bin/, the bundled dist/cli.js, the addon in native/, package.json) is copied into a
 * world-readable folder. Returns that folder.
 */
function cliReachableByOthers(): string {
  if (cliForOthers !== undefined) return cliForOthers;
  const dir = sharedDir();
  for (const part of ['bin', 'dist', 'native', 'package.json']) {
    fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  }
  // cpSync keeps the modes of files; the folders it makes follow the umask: open them all.
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  cliForOthers = dir;
  return dir;
}

/** Runs the CLI through `wrap` (see unprivilegedRunner), from a copy every user can reach. */
export function imgforgeAs(wrap: (argv: string[]) => string[], args: string[]): CliResult {
  const root = process.getuid?.() === 0 ? cliReachableByOthers() : ROOT;
  const [command, ...rest] = wrap([process.execPath, path.join(root, 'bin', 'imgforge.js'), ...args]);
  const result = spawnSync(command, rest, { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A folder the unprivileged user can read (its parents included) and, with `writable`, write. */
export function sharedDir(writable = false): string {
  const dir = tempDir('imgforge-faults-');
  fs.chmodSync(dir, 0o755);
  if (writable && process.getuid?.() === 0) fs.chownSync(dir, NOBODY, NOBODY);
  return dir;
}
