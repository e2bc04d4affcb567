// The machine side of the benchmark: running commands, installing the peers from Debian, the
// loop-mounted filesystems on disk or tmpfs (and removing them however the run ends), caches,
// machine facts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Runs argv; returns stdout. Throws with stderr when it fails (unless `allowFail`). */
export function run(argv, { allowFail = false, input, env } = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, env: env ?? process.env, maxBuffer: 64 << 20 });
  if (r.error && !allowFail) throw new Error(`${argv[0]}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${argv.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
  }
  return allowFail ? r : r.stdout;
}

export const sh = (script, options) => run(['bash', '-c', `set -euo pipefail; ${script}`], options);
export const has = (command) => run(['bash', '-c', `command -v ${command}`], { allowFail: true }).status === 0;
export const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** Command (or absolute path) → the Debian package that provides it. */
const TOOLS = {
  '/usr/bin/time': 'time',
  sgdisk: 'gdisk',
  'mkfs.fat': 'dosfstools',
  mcopy: 'mtools',
  'mkfs.xfs': 'xfsprogs',
  xfs_io: 'xfsprogs',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.erofs': 'erofs-utils',
  genimage: 'genimage',
  '/bin/systemd-repart': 'systemd',
  losetup: 'mount',
  sfdisk: 'fdisk',
  'fsck.erofs': 'erofs-utils',
};

/** Installs, with apt-get, the packages of whichever tools are missing. */
export function ensureTools(log) {
  const present = (tool) => (tool.startsWith('/') ? fs.existsSync(tool) : has(tool));
  const missing = [...new Set(Object.entries(TOOLS).filter(([tool]) => !present(tool)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  log(`installing from Debian: ${missing.join(' ')}`);
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** sync, then drop the page cache, dentries and inodes: every timed run starts cold and clean. */
export function dropCaches() {
  run(['sync']);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Bytes of memory the kernel could give to a tmpfs now without swapping (MemAvailable). */
export function availableMemory() {
  const kib = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m);
  return kib ? Number(kib[1]) * 1024 : os.freemem();
}

/** Mount points at or under `dir` (a run killed with SIGKILL can leave some behind). */
export function mountsUnder(dir) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((point) => point && (point === dir || point.startsWith(`${dir}/`)));
}

/**
 * The loop-mounted filesystems under test. Each sits on a sparse backing file, either on the
 * root filesystem ("disk": under `workdir`, so writes end up on the VM's disk) or on a tmpfs of
 * its own ("tmpfs": mounted under `workdir`, sized to the backing file, so the filesystem's data
 * lives in RAM and the device drops out of the timings).
 * Everything is undone by `release()` (one filesystem, as soon as its scenarios are done, so at
 * most one backing file takes space or RAM at a time) or `cleanup()` (all of them), which runs on
 * exit, on SIGINT/SIGTERM/SIGHUP and on a crash.
 */
export class Workspace {
  constructor(workdir, log) {
    this.workdir = workdir;
    this.log = log;
    this.mounts = []; // { fs, backing, dir, device, file, tmpfs, mounted, tmpfsMounted }
    this.cleaned = false;
    const stale = mountsUnder(workdir);
    if (stale.length) {
      throw new Error(`already mounted under ${workdir} (a killed earlier run?): ${stale.join(', ')}; unmount them and detach their loop devices (losetup -a) first`);
    }
    const onSignal = (signal) => {
      this.log(`\n${signal}: cleaning up`);
      this.cleanup();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
    process.on('exit', () => this.cleanup());
    process.on('uncaughtException', (error) => {
      process.stderr.write(`${error.stack}\n`);
      this.cleanup();
      process.exit(1);
    });
  }

  /**
   * Creates a fresh `type` (ext4, or xfs with reflink) filesystem of `sizeBytes` on a loop device
   * whose backing file is on `backing` ('disk' or 'tmpfs'), and mounts it; returns the entry
   * (its `dir` is the mount point).
   */
  mount(type, backing, sizeBytes) {
    fs.mkdirSync(this.workdir, { recursive: true });
    const name = `${backing}-${type}`;
    const dir = path.join(this.workdir, name);
    const entry = { fs: type, backing, dir, device: undefined, file: undefined, tmpfs: undefined, mounted: false, tmpfsMounted: false };
    // Registered before anything is created, so cleanup() undoes whatever part was done.
    this.mounts.push(entry);
    let folder = this.workdir;
    if (backing === 'tmpfs') {
      entry.tmpfs = path.join(this.workdir, `${name}.tmpfs`);
      fs.mkdirSync(entry.tmpfs, { recursive: true });
      // The tmpfs holds only the backing file, which can never use more pages than its size: the
      // limit caps the RAM taken, and the filesystem inside runs out of space before the tmpfs.
      run(['mount', '-t', 'tmpfs', '-o', `size=${sizeBytes + 2 ** 20},mode=0700`, `imgforge-bench-${name}`, entry.tmpfs]);
      entry.tmpfsMounted = true;
      folder = entry.tmpfs;
    }
    entry.file = path.join(folder, `${name}.backing`);
    fs.rmSync(entry.file, { force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.closeSync(fs.openSync(entry.file, 'w'));
    fs.truncateSync(entry.file, sizeBytes);
    entry.device = run(['losetup', '--find', '--show', entry.file]).trim();
    if (type === 'xfs') run(['mkfs.xfs', '-q', '-f', '-m', 'reflink=1', entry.device]);
    else run(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', entry.device]);
    run(['mount', entry.device, dir]);
    entry.mounted = true;
    return entry;
  }

  /** Unmounts one filesystem, detaches its loop device, deletes its backing file and tmpfs. */
  release(entry) {
    // A lazy unmount if a straggling process keeps it busy: the loop device and the tmpfs are then
    // freed by the kernel when the last user goes (losetup --detach sets autoclear on a busy loop).
    const unmount = (dir) => run(['umount', dir], { allowFail: true }).status === 0 || run(['umount', '-l', dir], { allowFail: true });
    if (entry.mounted) unmount(entry.dir);
    entry.mounted = false;
    if (entry.device) run(['losetup', '--detach', entry.device], { allowFail: true });
    entry.device = undefined;
    if (entry.file) fs.rmSync(entry.file, { force: true });
    if (entry.tmpfsMounted) unmount(entry.tmpfs);
    entry.tmpfsMounted = false;
    // Only empty mount points are removed: never recurse into something still mounted.
    for (const dir of [entry.dir, entry.tmpfs]) {
      try {
        if (dir) fs.rmdirSync(dir);
      } catch {
        // still busy or not empty (a lazy unmount): left for the next run's stale-mount check
      }
    }
    this.mounts = this.mounts.filter((m) => m !== entry);
  }

  cleanup() {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const m of [...this.mounts].reverse()) {
      try {
        this.release(m);
      } catch (error) {
        process.stderr.write(`cleanup of ${m.dir}: ${error.message}\n`);
      }
    }
  }
}

/** Free bytes of the filesystem holding `dir`. */
export function freeBytes(dir) {
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
}

/** du -B1 (allocated) and du -b (apparent size) of a file, or the total of a folder's tree. */
export function diskUsage(file) {
  const allocated = Number(run(['du', '-s', '-B1', file]).split('\t')[0]);
  const apparent = Number(run(['du', '-s', '-b', '--apparent-size', file]).split('\t')[0]);
  return { allocated, apparent };
}

const firstLine = (argv) => {
  const r = run(argv, { allowFail: true });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? 'unknown';
};

/** What the results file says about the machine. */
export function machineFacts(root) {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
  const osRelease = fs.readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.*)"/)?.[1] ?? 'unknown';
  const commit = run(['git', '-C', root, 'rev-parse', '--short', 'HEAD'], { allowFail: true }).stdout?.trim() || 'unknown';
  const dirty = run(['git', '-C', root, 'status', '--porcelain', '--untracked-files=no'], { allowFail: true }).stdout?.trim() ? ' (with local changes)' : '';
  return {
    hostname: os.hostname(),
    cpu: `${cpu} × ${os.cpus().length}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: os.release(),
    os: osRelease,
    rootFilesystem: run(['findmnt', '-n', '-o', 'FSTYPE,SOURCE', '/']).trim(),
    tools: {
      imgforge: `${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version} (${commit}${dirty})`,
      node: process.version,
      cp: firstLine(['cp', '--version']),
      dd: firstLine(['dd', '--version']),
      sgdisk: firstLine(['sgdisk', '--version']),
      'mkfs.fat': firstLine(['mkfs.fat', '--help']),
      mtools: firstLine(['mcopy', '--version']),
      genimage: `genimage ${firstLine(['genimage', '--version'])}`,
      'systemd-repart': firstLine(['/bin/systemd-repart', '--version']),
      'mkfs.erofs': firstLine(['bash', '-c', 'mkfs.erofs 2>&1 | grep -o "mkfs.erofs [0-9.]*" | tail -1']),
      'mkfs.xfs': firstLine(['mkfs.xfs', '-V']),
      'mkfs.ext4': firstLine(['mkfs.ext4', '-V']),
    },
  };
}
