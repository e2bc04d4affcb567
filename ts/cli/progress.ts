import { formatSize } from '../units';
import type { BuildProgress } from '../types';

export interface ProgressSink {
  update(progress: BuildProgress): void;
  /** Clears a live bar before other output is printed. */
  finish(): void;
}

const BAR_WIDTH = 28;

/** A redrawn single-line bar with bytes and rate, for terminals. */
export function terminalProgress(stream: NodeJS.WriteStream): ProgressSink {
  const started = Date.now();
  let drawn = false;
  return {
    update(progress) {
      if (progress.phase === 'fsync' && drawn) {
        // The bar stays at 100% while the kernel writes the data out: say why nothing moves.
        stream.write(' flushing to disk\x1b[K');
        return;
      }
      if (progress.phase === 'deliver' && progress.artifact !== undefined) {
        const percent = progress.bytesTotal > 0 ? `${Math.floor((progress.bytesDone / progress.bytesTotal) * 100)}% ` : '';
        const verb = progress.checksum ? 'checksumming' : 'writing';
        stream.write(`\r${`${verb} ${percent}${progress.artifact}`.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
        drawn = true;
        return;
      }
      if (progress.phase === 'mkfs') {
        // The tool reports nothing while it works: say which one runs, for which partition.
        stream.write(`\r${`${progress.tool ?? 'mkfs'} is making ${progress.partition ?? 'a filesystem'}`.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
        drawn = true;
        return;
      }
      if (progress.phase === 'verity' && progress.bytesTotal > 0) {
        const percent = Math.floor(Math.min(1, progress.bytesDone / progress.bytesTotal) * 100);
        stream.write(`\r${`hashing ${percent}% ${progress.partition ?? ''}`.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
        drawn = true;
        return;
      }
      if (progress.phase !== 'copy' || progress.bytesTotal === 0) return;
      const fraction = Math.min(1, progress.bytesDone / progress.bytesTotal);
      const filled = Math.round(fraction * BAR_WIDTH);
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const rate = progress.bytesDone / seconds;
      const line =
        `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${formatSize(progress.bytesDone)} / ${formatSize(progress.bytesTotal)}  ${formatSize(rate)}/s` +
        (progress.partition ? `  ${progress.partition}` : '');
      stream.write(`\r${line.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/** One line per partition started and a line per ~10% for logs and pipes, where \r redraws are noise. */
export function plainProgress(stream: NodeJS.WritableStream): ProgressSink {
  let lastPartition: string | undefined;
  let lastArtifact: string | undefined;
  let lastHashed: string | undefined;
  let lastDecile = -1;
  return {
    update(progress) {
      if (progress.phase === 'tables') {
        stream.write('writing partition tables\n');
        return;
      }
      if (progress.phase === 'fsync') {
        stream.write('flushing the image to disk\n');
        return;
      }
      if (progress.phase === 'deliver' && progress.artifact !== undefined) {
        // One line per file: the polled updates of the same file are for a terminal's bar.
        const line = `${progress.checksum ? 'checksumming' : 'writing'} ${progress.artifact}`;
        if (line !== lastArtifact) stream.write(`${line}\n`);
        lastArtifact = line;
        return;
      }
      if (progress.phase === 'mkfs') {
        stream.write(`${progress.tool ?? 'mkfs'} is making ${progress.partition ?? 'a filesystem'}\n`);
        return;
      }
      if (progress.phase === 'verity') {
        // One line per hash partition.
        if (progress.partition !== undefined && progress.partition !== lastHashed) stream.write(`hashing into ${progress.partition}\n`);
        lastHashed = progress.partition;
        return;
      }
      if (progress.phase !== 'copy' || progress.bytesTotal === 0) return;
      if (progress.partition !== lastPartition && progress.partition !== undefined) {
        lastPartition = progress.partition;
        stream.write(`copying ${progress.partition}\n`);
      }
      const decile = Math.floor((progress.bytesDone / progress.bytesTotal) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`  ${decile * 10}% (${formatSize(progress.bytesDone)} of ${formatSize(progress.bytesTotal)})\n`);
      }
    },
    finish() {},
  };
}
