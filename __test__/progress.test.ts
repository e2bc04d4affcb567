import test from 'ava';
import { PassThrough } from 'node:stream';
import { plainProgress, terminalProgress } from '../ts/cli/progress';

const MiB = 1 << 20;

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

test('the terminal bar redraws one line with percentage, bytes and rate, and clears it at the end', (t) => {
  const { stream, text } = capture();
  const tty = Object.assign(stream, { columns: 120 }) as unknown as NodeJS.WriteStream;
  const bar = terminalProgress(tty);
  bar.update({ phase: 'copy', bytesDone: 0, bytesTotal: 8 * MiB, partition: 'root' });
  bar.update({ phase: 'copy', bytesDone: 4 * MiB, bytesTotal: 8 * MiB, partition: 'root' });
  bar.update({ phase: 'tables', bytesDone: 0, bytesTotal: 0 });
  bar.update({ phase: 'fsync', bytesDone: 0, bytesTotal: 0 });
  bar.finish();
  const out = text();
  t.false(out.includes('\n'), 'redrawn in place');
  t.regex(out, /\r\[#{14}-{14}\]  50% 4 MiB \/ 8 MiB  .+\/s  root\x1b\[K flushing to disk\x1b\[K/);
  t.true(out.endsWith('\r\x1b[K'));
});

test('plain progress prints a line per partition and per tenth', (t) => {
  const { stream, text } = capture();
  const sink = plainProgress(stream);
  for (let done = 0; done <= 10 * MiB; done += MiB / 2) {
    sink.update({ phase: 'copy', bytesDone: done, bytesTotal: 10 * MiB, partition: done < 5 * MiB ? 'a' : 'b' });
  }
  sink.update({ phase: 'tables', bytesDone: 0, bytesTotal: 0 });
  sink.update({ phase: 'fsync', bytesDone: 0, bytesTotal: 0 });
  const lines = text().trim().split('\n');
  t.deepEqual(lines.filter((l) => l.startsWith('copying')), ['copying a', 'copying b']);
  t.is(lines.filter((l) => /%/.test(l)).length, 11);
  t.regex(lines.at(-3)!, /100% \(10 MiB of 10 MiB\)/);
  t.deepEqual(lines.slice(-2), ['writing partition tables', 'flushing the image to disk']);
});

test('delivery progress: one plain line per file written; the terminal line shows its percentage', (t) => {
  const plain = capture();
  const sink = plainProgress(plain.stream);
  for (const artifact of ['disk.img.zst', 'disk.img.bmap']) {
    for (let done = 0; done <= 8 * MiB; done += 2 * MiB) sink.update({ phase: 'deliver', bytesDone: done, bytesTotal: 8 * MiB, artifact });
  }
  sink.update({ phase: 'deliver', bytesDone: 0, bytesTotal: 8 * MiB, artifact: 'disk.img', checksum: true });
  t.deepEqual(plain.text().trim().split('\n'), ['writing disk.img.zst', 'writing disk.img.bmap', 'checksumming disk.img']);
  const term = capture();
  const bar = terminalProgress(Object.assign(term.stream, { columns: 80 }) as unknown as NodeJS.WriteStream);
  bar.update({ phase: 'deliver', bytesDone: 2 * MiB, bytesTotal: 8 * MiB, artifact: 'disk.simg' });
  bar.finish();
  t.regex(term.text(), /\rwriting 25% disk\.simg\x1b\[K/);
  t.true(term.text().endsWith('\r\x1b[K'), 'cleared at the end');
});
