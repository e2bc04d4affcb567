/**
 * Outside tools imgforge runs (mkfs.ext4, mksquashfs, debugfs, unsquashfs, openssl): found on
 * PATH, run to their end with their output captured, killed when the work is cancelled. The
 * build (ts/build/tools.ts: which tool, which version) and verify (ts/inspect/read-tools.ts) both
 * run them through here.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from './errors';

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

/** How to install a package that has the same name on Debian, Fedora and Alpine. */
export const installHint = (pkg: string) => `install ${pkg} (Debian/Ubuntu: apt-get install ${pkg}; Fedora: dnf install ${pkg}; Alpine: apk add ${pkg})`;

/** Orders version numbers ([1, 47, 0] before [1, 47, 1]); missing parts count as 0. */
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

export interface RunToolOptions {
  /** Added to imgforge's environment. */
  env?: Record<string, string>;
  /** Removed from it. */
  unset?: readonly string[];
  /** Kills the child (SIGKILL); the promise then rejects with ABORTED. */
  signal?: AbortSignal;
  /** Written to the child's stdin (else stdin is /dev/null). */
  input?: string;
  /** What was cancelled, for the ABORTED message ("build", "verification"). */
  work?: string;
}

/** Runs a tool to its end and returns what it printed. */
export function runTool(file: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolRun> {
  const cancelled = () => new ImgforgeError('ABORTED', `${options.work ?? 'build'} cancelled`);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled());
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
      if (options.signal?.aborted) return reject(cancelled());
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status });
    });
  });
}

/** The last meaningful line a tool printed (its version banner left out), for a one-line error. */
export function lastLine(run: ToolRun): string {
  const lines = `${run.stderr}\n${run.stdout}`.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^(mke2fs|debugfs) \d/.test(l));
  return lines.length > 0 ? lines[lines.length - 1] : `exit status ${run.status}`;
}
