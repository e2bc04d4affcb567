import * as fs from 'node:fs';
import * as path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { config as zodConfig } from 'zod';
import { ImgforgeError } from '../errors';
import { COPY_MODES } from '../build/build';
import { build } from '../deliver/deliver';
import { COMPRESSIONS, DELIVERY_FORMATS } from '../deliver/options';
import { loadSpec } from '../spec/load';
import { plan } from '../plan/plan';
import { specJsonSchema } from '../spec/json-schema';
import { completionScript, SHELLS, type Shell } from './completion';
import { DEFAULT_TEMPLATE, describeInit, init, TEMPLATES } from './init';
import { terminalPicture } from './disk-bar';
import { formatBuildResult, formatPlan } from './format';
import { addInspectCommands } from './inspect-commands';
import { errorObject, extractJsonStyle, formatJson, jsonHelp, type JsonStyle } from './json';
import { plainProgress, terminalProgress, type ProgressSink } from './progress';
import type { Compression, CopyMode, DeliveryFormat } from '../types';

// A CLI run validates one spec once: zod's generated validators (new Function) cost more to build
// than they save, about 5 ms of a build's own time. Only the CLI process sets this; the library
// leaves the zod configuration of the program that imports it alone.
zodConfig({ jitless: true });

const EXIT_OK = 0;
const EXIT_BUILD_FAILED = 1;
const EXIT_BAD_INPUT = 2;
/** Signals that cancel a build, with the exit status of a process they end (128 + number). */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };
/**
 * The signals the CLI dies by again once its build has cleaned up, so that the parent sees death
 * by signal: a shell running `for s in *.yaml; do imgforge build "$s"; done` stops at Ctrl-C
 * instead of going on with the next build (bash, for one, goes on after a child that exits 130).
 * SIGQUIT is not re-raised: its default action would dump core; it exits 131.
 */
const RERAISED = new Set(['SIGHUP', 'SIGINT', 'SIGTERM']);
/**
 * How long a cancelled build may take to stop before the CLI stops it the hard way. A copy
 * notices cancellation within one chunk; only a thread stuck in the kernel (a hung network
 * filesystem, a FIFO opened by a library) takes longer, and then even process.exit() would wait.
 */
const CANCEL_GRACE_MS = 3000;

/** Set by scripts/bundle-cli.mjs (esbuild `define`) in dist/cli.js, which has no fixed place relative to package.json. */
declare const __IMGFORGE_VERSION__: string | undefined;

function packageVersion(): string {
  if (typeof __IMGFORGE_VERSION__ === 'string') return __IMGFORGE_VERSION__;
  // Unbundled (ts/cli/main.ts under tsx, dist/cli/main.js): package.json is two levels up.
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

interface BuildFlags {
  output?: string;
  force?: boolean;
  copy: CopyMode;
  json?: boolean;
  quiet?: boolean;
  format?: DeliveryFormat;
  compress?: Compression;
  bmap?: boolean;
  split?: boolean;
  splitName?: string;
  checksums: boolean;
}

/**
 * The process ends the way the signal would have ended it: its handler removed, the signal sent
 * again. Unlike process.exit(), this does not wait for worker threads stuck in the kernel.
 */
function dieBy(signal: string): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/**
 * Turns SIGHUP/SIGINT/SIGQUIT/SIGTERM into a cancelled build, so the temporary image is removed
 * before exiting. A build that has not stopped CANCEL_GRACE_MS later, or a second signal, ends
 * the process at once (the build already removed its temporary file when it was cancelled).
 */
function cancelOnSignals(controller: AbortController, stopped: (signal: string) => void): { received(): string | undefined; dispose(): void } {
  let received: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const handlers = Object.keys(SIGNAL_EXIT).map((signal) => {
    const handler = () => {
      if (received !== undefined) return dieBy(received);
      received = signal;
      controller.abort();
      timer = setTimeout(() => {
        stopped(signal);
        dieBy(signal);
      }, CANCEL_GRACE_MS);
      timer.unref();
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return {
    received: () => received,
    dispose: () => {
      clearTimeout(timer);
      handlers.forEach((off) => off());
    },
  };
}

/** The line the CLI prints when a signal stops a build. */
function interruptedLine(signal: string, state: string | undefined): string {
  return `imgforge: build interrupted by ${signal}; ${state ?? 'no image was written'}\n`;
}

async function runBuild(specPath: string, flags: BuildFlags, style: JsonStyle): Promise<number> {
  const controller = new AbortController();
  const signals = cancelOnSignals(controller, (signal) =>
    process.stderr.write(`imgforge: build interrupted by ${signal}; it did not stop within ${CANCEL_GRACE_MS / 1000} s (a source or the output does not respond), so it was ended at once\n`),
  );
  let sink: ProgressSink | undefined;
  if (!flags.quiet) sink = process.stderr.isTTY ? terminalProgress(process.stderr) : plainProgress(process.stderr);
  try {
    const result = await build(specPath, {
      output: flags.output,
      force: flags.force,
      copy: flags.copy,
      format: flags.format,
      compress: flags.compress,
      bmap: flags.bmap,
      split: flags.split,
      splitName: flags.splitName,
      checksums: flags.json === true && flags.checksums,
      signal: controller.signal,
      onProgress: sink ? (p) => sink!.update(p) : undefined,
    });
    sink?.finish();
    if (flags.json) process.stdout.write(formatJson(result, style));
    else if (!flags.quiet) process.stdout.write(`${formatBuildResult(result)}\n`);
    return EXIT_OK;
  } catch (error) {
    sink?.finish();
    const signal = signals.received();
    if (signal !== undefined && error instanceof ImgforgeError && error.code === 'ABORTED') {
      const line = interruptedLine(signal, error.outputState);
      process.stderr.write(line);
      if (flags.json) process.stdout.write(formatJson({ error: { code: 'ABORTED', message: line.trim().replace(/^imgforge: /, '') } }, style));
      return SIGNAL_EXIT[signal];
    }
    throw error;
  } finally {
    signals.dispose();
  }
}

async function runPlan(specPath: string, flags: { json?: boolean }, style: JsonStyle): Promise<number> {
  const spec = await loadSpec(specPath);
  const layout = await plan(spec);
  if (flags.json) {
    process.stdout.write(formatJson(layout, style));
  } else {
    process.stdout.write(`${formatPlan(layout, spec.specPath !== undefined ? path.dirname(spec.specPath) : undefined, terminalPicture())}\n`);
  }
  return EXIT_OK;
}

function program(setExit: (code: number) => void, style: JsonStyle | undefined): Command {
  const cli = new Command('imgforge')
    .description('Build bootable disk images (GPT, MBR or hybrid partition tables) from a declarative spec (YAML or JSON).\nPartition contents are copied with copy_file_range, so on XFS and btrfs they are shared by reflink instead of copied.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()
    .exitOverride();

  cli
    .command('build')
    .description('build the disk image a spec describes')
    .argument('<spec>', 'the image spec (.yaml, .yml or .json)')
    .option('-o, --output <path>', "where to write the image (default: the spec's `output`, else <spec name>.img beside the spec)")
    .option('--force', 'allow writing to a block device (destroys what it holds)')
    .addOption(new Option('--copy <mode>', 'how partition contents are copied').choices(COPY_MODES).default('auto'))
    .addOption(new Option('--format <format>', 'the image format (default: from the output extension: .simg android-sparse, .qcow2, .vhd; else raw)').choices(DELIVERY_FORMATS))
    .addOption(new Option('--compress <algorithm>', 'compress the raw image (default: from the output extension .zst, .xz, .gz)').choices(COMPRESSIONS))
    .option('--bmap', "also write bmaptool's block map beside the image, as <output>.bmap")
    .option('--split', 'also write each partition as a file of its own, <output stem>.<partition name>.raw')
    .option('--split-name <pattern>', 'name the partition files: %n name, %t type GUID, %u GUID, %i number, %% a percent sign')
    .option('--json', jsonHelp('the result'))
    .option('--no-checksums', 'with --json, leave out the SHA-256 of each file written (it reads them)')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      `
Copy modes:
  auto             copy_file_range (reflinks on XFS/btrfs), falling back to read/write where the kernel refuses
  copy-file-range  copy_file_range only; fail instead of falling back
  read-write       plain positioned reads and writes

SOURCE_DATE_EPOCH (seconds since 1970) sets every timestamp in FAT32, EROFS, ext4 and squashfs filesystems;
with it and a seed, the same inputs give a byte-identical image. ext4 and squashfs partitions are made
with mkfs.ext4 (e2fsprogs 1.47+) and mksquashfs (squashfs-tools 4.5+), which must be on PATH.

The image is written to a temporary file beside the output and renamed into place only when the
build succeeds; an interrupted or failed build leaves the previous image untouched.

Delivery: the build knows which byte ranges it wrote, and writes these from that map in one pass
(holes are never read):
  --format android-sparse  an Android sparse image (fastboot, simg2img); also from a .simg output
  --format qcow2           qcow2 v3, 64 KiB clusters, data clusters only (reflinked on XFS/btrfs); also .qcow2
  --format vhd             a fixed VHD (Azure: an "auto" disk is rounded up to whole MiB); also .vhd
  --format vhd-dynamic     a dynamic VHD, 2 MiB blocks allocated only where data is
  --compress zstd|xz|gzip  the raw image compressed (zstd and xz multi-threaded); also from .zst .xz .gz
  --bmap                   <output>.bmap for \`bmaptool copy\` (format 2.0, SHA-256 per range)
  --split                  each partition as <stem>.<name>.raw beside the output (reflinked on XFS/btrfs)
Every file goes to a temporary name and is renamed only when all were written. --json lists them
under "artifacts" with their size and SHA-256.

Examples:
  imgforge build examples/appliance/image.yaml -o disk.img
  imgforge build image.yaml --json > result.json
  imgforge build image.yaml -o /dev/loop0 --force
  imgforge build image.yaml -o disk.img --bmap --split
  imgforge build image.yaml -o disk.img.zst
  imgforge build image.yaml -o disk.simg
  imgforge build image.yaml -o disk.qcow2

A block device is written in place: its partition tables are wiped first and written last, so
a device whose build fails or is interrupted holds no valid partition table.

Exit status: 0 success, 1 build failure, 2 bad usage or spec. Interrupted by SIGHUP, SIGINT or
SIGTERM, it cleans up and then dies by that signal (shells show 129/130/143 and a loop of builds
stops); by SIGQUIT, it exits 131.`,
    )
    .action(async (spec: string, flags: BuildFlags) => setExit(await runBuild(spec, flags, style ?? 'short')));

  cli
    .command('plan')
    .description('show the partition layout a spec gives, without writing anything')
    .argument('<spec>', 'the image spec (.yaml, .yml or .json)')
    .option('--json', jsonHelp('the layout'))
    .addHelpText('after', '\nExample:\n  imgforge plan examples/appliance/image.yaml')
    .action(async (spec: string, flags: { json?: boolean }) => setExit(await runPlan(spec, flags, style ?? 'short')));

  addInspectCommands(cli, setExit, style ?? 'short');

  const templateWidth = Math.max(...TEMPLATES.map((t) => t.name.length));
  cli
    .command('init')
    .description('start an image: write a commented image.yaml and the input files it builds from')
    .argument('[folder]', 'where to write them (created if missing; default: the current folder)', '.')
    .addOption(
      new Option('--template <name>', 'what to start from')
        .choices(TEMPLATES.map((t) => t.name))
        .default(DEFAULT_TEMPLATE),
    )
    .addHelpText(
      'after',
      `
Templates:
${TEMPLATES.map((t) => `  ${t.name.padEnd(templateWidth)}  ${t.summary}`).join('\n')}

image.yaml names the JSON Schema (an imgforge in node_modules, else this one), so editors check and
complete it; \`imgforge build image.yaml\` works right away. Nothing is overwritten: if any file is
already there, init says which and writes nothing.

Examples:
  imgforge init demo && cd demo && imgforge build image.yaml
  imgforge init appliance --template uefi-ab
  imgforge init pi --template rpi`,
    )
    .action((folder: string, flags: { template: string }) => {
      process.stdout.write(`${describeInit(init(folder, flags.template), folder)}\n`);
    });

  cli
    .command('schema')
    .description("print the spec's JSON Schema (draft 2020-12), for editors and validators")
    .addHelpText(
      'after',
      `
The package ships the same schema as imgforge/schema.json (node_modules/imgforge/schema.json).
Point an editor at it:
  YAML, VS Code (Red Hat YAML extension) and other yaml-language-server editors: a first line
    # yaml-language-server: $schema=./node_modules/imgforge/schema.json
  JSON (VS Code, JetBrains): "$schema": "./node_modules/imgforge/schema.json" at the top
  imgforge init writes both into the image.yaml it creates.

Example:
  imgforge schema > image.schema.json`,
    )
    .action(() => {
      process.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    });

  cli
    .command('completion')
    .description('print a shell completion script (commands, options, spec files)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      `
Examples:
  source <(imgforge completion bash)                  # bash, now; add it to ~/.bashrc to keep it
  source <(imgforge completion zsh)                   # zsh
  imgforge completion fish > ~/.config/fish/completions/imgforge.fish`,
    )
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, cli));
    });
  for (const command of [cli, ...cli.commands]) {
    command.configureOutput({
      outputError: (text, write) => {
        write(usageError(text, command));
        if (style !== undefined) process.stdout.write(formatJson({ error: { code: 'USAGE', message: usageError(text, command).trim().replace(/^imgforge: /, '') } }, style));
      },
    });
  }

  cli.addHelpText(
    'after',
    `
A spec (image.yaml):
  size: 2GiB                      # or "auto": the smallest disk that holds the partitions
  seed: my-product-v1             # optional: reproducible GUIDs
  partitions:
    - name: esp
      type: esp                   # a Discoverable Partitions Spec name, or a GUID
      size: 512MiB                # or "auto": the smallest FAT32 that holds the files
      filesystem:                 # a FAT32 imgforge writes from files (no root, no mtools)
        type: fat32
        label: ESP
        files:
          - source: ./build/esp   # a folder: its whole tree
            target: /
          - source: ./vmlinuz.efi # a file, placed at its target
            target: /EFI/Linux/linux.efi
    - name: root-a
      type: root-x86-64
      size: auto                  # the filesystem's exact size, rounded up to the alignment
      filesystem:                 # an EROFS imgforge writes from a folder (file data reflinked)
        type: erofs
        files:
          - source: ./build/rootfs
            target: /
    - name: root-a-verity         # its dm-verity hash tree, computed by imgforge
      type: root-x86-64-verity
      size: auto                  # the tree's exact size
      verity: { data: root-a }
    - name: root-a-verity-sig     # the root hash, signed (openssl)
      type: root-x86-64-verity-sig
      size: auto
      signature: { verity: root-a-verity, key: ./signing.key, certificate: ./signing.crt }
    - name: root-b
      type: root-x86-64
      size: auto                  # the contents' size, rounded up to the alignment
      contents: ./rootfs.erofs    # copied raw; relative to the spec's folder
    - name: data
      type: linux-generic
      size: grow                  # the rest of the disk
      filesystem:                 # an ext4 made by mkfs.ext4 in the image (owners 0:0, no root needed)
        type: ext4                # or squashfs (compression: zstd, xz, gzip, lz4, none)
        label: data
        files:
          - source: ./build/data
            target: /

Examples:
  imgforge init demo                      start from a template: image.yaml and its inputs
  imgforge plan image.yaml                show the layout, write nothing
  imgforge build image.yaml -o disk.img   build the image
  imgforge inspect disk.img --files       read an image back: tables, partitions, FAT32 trees
  imgforge verify image.yaml disk.img     check an image against its spec, byte for byte
  imgforge build --help                   options of build

The README's "Image spec" section lists every field; \`imgforge schema\` prints the spec's JSON Schema.`,
  );
  return cli;
}

/** Prints a failure: a line (or a few) on stderr, and with --json its object on stdout too. */
function report(error: unknown, style: JsonStyle | undefined): number {
  if (process.env.IMGFORGE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  if (style !== undefined) process.stdout.write(formatJson(errorObject(error), style));
  if (error instanceof ImgforgeError) {
    process.stderr.write(`imgforge: ${error.message.replace(/\n/g, '\n  ')}\n`);
    return error.isInputError ? EXIT_BAD_INPUT : EXIT_BUILD_FAILED;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`imgforge: unexpected error: ${message}\n  (set IMGFORGE_DEBUG=1 for details)\n`);
  return EXIT_BUILD_FAILED;
}

/**
 * Commander's usage errors ("error: unknown option '--bogus'") in imgforge's style: the
 * `imgforge:` prefix every other error has, and where to read more.
 */
function usageError(text: string, command: Command): string {
  const message = text.trim().replace(/^error: /, '').replace(/\.$/, '');
  const name = command.parent ? `imgforge ${command.name()}` : 'imgforge';
  return `imgforge: ${message} (see ${name} --help)\n`;
}

/** Runs the CLI and resolves to its exit status. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  let status = EXIT_OK;
  const { argv: args, style, problem } = extractJsonStyle(argv);
  if (problem !== undefined) {
    return report(new ImgforgeError('USAGE', `${problem} (see imgforge --help)`), style ?? 'short');
  }
  try {
    await program((code) => (status = code), style).parseAsync(args);
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help or the version asked for; a bare `imgforge` (no command) gets the help on stderr
      // and the status of a usage error.
      if (error.code === 'commander.help' && args.length <= 2) return EXIT_BAD_INPUT;
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
      return benign.includes(error.code) ? EXIT_OK : EXIT_BAD_INPUT;
    }
    return report(error, style);
  }
}

export function run(): void {
  // A reader that goes away (`imgforge --help | head`) is no error of ours: what is left to
  // print is dropped, and a build under way still finishes or cleans up as it would.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  main().then(
    (code) => {
      const signal = Object.keys(SIGNAL_EXIT).find((name) => SIGNAL_EXIT[name] === code);
      if (signal !== undefined && RERAISED.has(signal)) dieBy(signal);
      else process.exitCode = code;
    },
    (error) => {
      process.exitCode = report(error, undefined);
    },
  );
}
