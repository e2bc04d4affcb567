/**
 * The outside tools a build runs for ext4 and squashfs partitions: found on PATH and their
 * versions checked before anything is written, then run with their output captured, killed when
 * the build is cancelled. A missing or too old tool is one line naming it and the package that
 * brings it on Debian, Fedora and Alpine.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';

export type ToolName = 'mkfs.ext4' | 'debugfs' | 'mksquashfs';

interface ToolInfo {
  /** The package that has it: its name on Debian, Fedora and Alpine alike. */
  package: string;
  versionArgs: string[];
  /** The version in the tool's -V / -version output. */
  versionPattern: RegExp;
  /** The oldest version with every option imgforge uses. */
  minimum: [number, number, number];
  /** What needs that version, for the message. */
  needs: string;
}

/** The tools, with what imgforge relies on in each. See README "ext4 and squashfs". */
export const TOOLS: Record<ToolName, ToolInfo> = {
  // 1.47.0: -E assume_storage_prezeroed and no_copy_xattrs; -d reads folders in sorted order.
  'mkfs.ext4': { package: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /mke2fs (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [1, 47, 0], needs: 'mkfs.ext4 -E assume_storage_prezeroed,no_copy_xattrs' },
  debugfs: { package: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /debugfs (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [1, 47, 0], needs: 'debugfs set_inode_field on an image offset' },
  // 4.5: -all-time, -mkfs-time and pseudo file "m" definitions; -reproducible is the default since 4.4.
  mksquashfs: { package: 'squashfs-tools', versionArgs: ['-version'], versionPattern: /mksquashfs version (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [4, 5, 0], needs: 'mksquashfs -all-time -mkfs-time -pf' },
};

/** Where `name` is on PATH (an executable file), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const installHint = (pkg: string) => `install ${pkg} (Debian/Ubuntu: apt-get install ${pkg}; Fedora: dnf install ${pkg}; Alpine: apk add ${pkg})`;

const checked = new Map<string, string>();

/**
 * The path of `name`, after checking its version; throws a TOOL error naming the tool, what
 * needs it (`field`) and the package to install.
 */
export function requireTool(name: ToolName, field: string): string {
  const info = TOOLS[name];
  const found = findOnPath(name);
  if (found === undefined) throw new ImgforgeError('TOOL', `${field}: ${name} was not found on PATH; ${installHint(info.package)}`);
  const known = checked.get(found);
  if (known !== undefined) return known;
  const run = spawnSync(found, info.versionArgs, { encoding: 'utf8' });
  const match = info.versionPattern.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  const version = match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
  const tooOld = version === undefined || compareVersions(version, info.minimum) < 0;
  if (tooOld) {
    const got = version === undefined ? 'its version could not be read' : `it is ${version.join('.')}`;
    throw new ImgforgeError('TOOL', `${field}: ${found} is too old (${got}); imgforge needs ${info.package} ${info.minimum.join('.')} or later for ${info.needs}; ${installHint(info.package)}`);
  }
  checked.set(found, found);
  return found;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface ToolRun {
  stdout: string;
  stderr: string;
  status: number | null;
}

/**
 * Runs a tool to its end and returns what it printed; the child is killed when `signal` aborts
 * (the promise then rejects with ABORTED). `env` is added to imgforge's environment.
 */
export function runTool(file: string, args: readonly string[], options: { env?: Record<string, string>; unset?: readonly string[]; signal?: AbortSignal; input?: string } = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new ImgforgeError('ABORTED', 'build cancelled'));
    const env = { ...process.env, ...options.env };
    for (const name of options.unset ?? []) delete env[name];
    const child = spawn(file, args, { env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.input !== undefined) child.stdin!.end(options.input);
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new ImgforgeError('TOOL', `${file}: ${error.message}`, { cause: error }));
    });
    child.on('close', (status) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(new ImgforgeError('ABORTED', 'build cancelled'));
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status });
    });
  });
}

/** The last meaningful line a tool printed, for a one-line error. */
export function lastLine(run: ToolRun): string {
  const lines = `${run.stderr}\n${run.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(mke2fs|debugfs) \d/.test(l));
  return lines.length > 0 ? lines[lines.length - 1] : `exit status ${run.status}`;
}
