// The machine side of the benchmark: running commands, installing the peers from Debian, the two
// loop-mounted filesystems (and removing them however the run ends), caches, machine facts.
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

/**
 * The loop-mounted filesystems, each on a sparse backing file of the same size under `workdir`.
 * Everything is undone by `cleanup()`, which runs on exit, on SIGINT/SIGTERM/SIGHUP and on a crash.
 */
export class Workspace {
  constructor(workdir, sizeBytes, log) {
    this.workdir = workdir;
    this.size = sizeBytes;
    this.log = log;
    this.mounts = []; // { fs, dir, device, backing }
    this.cleaned = false;
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

  /** Creates a fresh `type` (ext4 or xfs with reflink) filesystem and mounts it; returns its folder. */
  mount(type) {
    fs.mkdirSync(this.workdir, { recursive: true });
    const backing = path.join(this.workdir, `${type}.backing`);
    const dir = path.join(this.workdir, type);
    fs.rmSync(backing, { force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.closeSync(fs.openSync(backing, 'w'));
    fs.truncateSync(backing, this.size);
    const device = run(['losetup', '--find', '--show', backing]).trim();
    const entry = { fs: type, dir, device, backing, mounted: false };
    this.mounts.push(entry);
    if (type === 'xfs') run(['mkfs.xfs', '-q', '-f', '-m', 'reflink=1', device]);
    else run(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', device]);
    run(['mount', device, dir]);
    entry.mounted = true;
    return dir;
  }

  cleanup() {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const m of this.mounts.reverse()) {
      if (m.mounted && run(['umount', m.dir], { allowFail: true }).status !== 0) run(['umount', '-l', m.dir], { allowFail: true });
      run(['losetup', '--detach', m.device], { allowFail: true });
      fs.rmSync(m.backing, { force: true });
    }
    this.mounts = [];
  }
}

/** Free bytes of the filesystem holding `dir`. */
export function freeBytes(dir) {
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
}

/** du -B1 (allocated) and du -b (apparent size) of a file. */
export function diskUsage(file) {
  const allocated = Number(run(['du', '-B1', file]).split('\t')[0]);
  const apparent = Number(run(['du', '-b', '--apparent-size', file]).split('\t')[0]);
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
