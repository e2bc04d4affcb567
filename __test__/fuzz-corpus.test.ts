/**
 * Replays the spec fuzzer's committed corpus (fuzz/corpus/spec/: valid and invalid specs, and every
 * input that once broke the property) through parseSpec, with the fuzzer's own property check
 * (fuzz/spec/property.ts): each input parses to a spec or throws an ImgforgeError whose lines name
 * the file position or the field, with no other exception, no process warning and no raw control
 * characters, within a time bound. The GPT and FAT32 readers' corpora replay in `cargo test`.
 *
 * Also the limits the fuzzing led to, which need inputs too large for the corpus.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../ts/errors';
import { loadSpec, MAX_SPEC_BYTES, parseSpec } from '../ts/spec/load';
import { checkInput, decode, formatOf } from '../fuzz/spec/property';
import { tempDir } from './helpers/tools';

const CORPUS = path.join(__dirname, '..', 'fuzz', 'corpus', 'spec');
/**
 * A hang guard, not a speed target: the inputs here take milliseconds, and the blow-ups they once
 * triggered took 5 to 19 s (cubic alias resolution, quadratic key checks). Generous for a loaded CI.
 */
const TIME_BOUND_MS = 10_000;

const files = fs.readdirSync(CORPUS).filter((f) => !f.startsWith('.')).sort();

test('the spec corpus is there, with valid and invalid inputs in both formats', (t) => {
  t.true(files.length >= 20, `${files.length} inputs`);
  const results = files.map((f) => checkInput(decode(fs.readFileSync(path.join(CORPUS, f))), formatOf(f)).result);
  for (const kind of ['spec', 'SPEC_PARSE', 'SPEC_INVALID'] as const) t.true(results.includes(kind), `some input gives ${kind}`);
  t.true(files.some((f) => f.endsWith('.json')) && files.some((f) => f.endsWith('.yaml')));
});

for (const file of files) {
  test(`corpus: ${file}`, (t) => {
    const bytes = fs.readFileSync(path.join(CORPUS, file));
    const started = performance.now();
    const outcome = checkInput(decode(bytes), formatOf(file)); // throws PropertyViolation on a bug
    const ms = performance.now() - started;
    t.true(ms < TIME_BOUND_MS, `${file} took ${ms.toFixed(0)} ms`);
    t.log(`${outcome.result} in ${ms.toFixed(1)} ms`);
  });
}

const dupes = (n: number) => `${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n')}\nk1: again\npartitions: []\n`;

test('duplicate keys are found in one pass: 32,000 keys take well under a second (the yaml check took 12 s)', (t) => {
  const started = performance.now();
  const error = t.throws(() => parseSpec({ text: dupes(32_000), format: 'yaml', sourceName: 'big.yaml', baseDir: '/' }), { instanceOf: ImgforgeError });
  const ms = performance.now() - started;
  t.is(error?.code, 'SPEC_PARSE');
  t.is(error?.message, 'big.yaml:32001:1: Map keys must be unique');
  t.true(ms < TIME_BOUND_MS, `${ms.toFixed(0)} ms`);
});

test('specs over 1 MiB are refused, also when the path is a device that never ends', async (t) => {
  const text = `partitions: []\n#${'x'.repeat(MAX_SPEC_BYTES)}\n`;
  t.throws(() => parseSpec({ text, format: 'yaml', sourceName: 'huge.yaml', baseDir: '/' }), { instanceOf: ImgforgeError, message: /^huge\.yaml:1:1: the spec is \d+ characters long; imgforge reads specs of at most 1048576 bytes$/ });
  const dir = tempDir();
  const huge = path.join(dir, 'huge.yaml');
  fs.writeFileSync(huge, text);
  await t.throwsAsync(loadSpec(huge), { instanceOf: ImgforgeError, message: `${huge}: the spec is larger than 1048576 bytes (1 MiB), the most imgforge reads` });
  const zero = path.join(dir, 'zero.yaml');
  fs.symlinkSync('/dev/zero', zero);
  const error = await t.throwsAsync(loadSpec(zero), { instanceOf: ImgforgeError });
  t.is(error?.code, 'SPEC_READ');
});

test('a spec with many problems lists the first 50 and counts the rest', (t) => {
  const spec = JSON.stringify({ partitions: [{ name: 'a', type: 'esp', size: '1MiB' }], ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x${i}`, 1])) });
  const error = t.throws(() => parseSpec({ text: spec, format: 'json', sourceName: 'many.json', baseDir: '/' }), { instanceOf: ImgforgeError });
  const lines = error!.message.split('\n');
  t.is(lines[0], 'many.json: invalid spec (60 problems):');
  t.is(lines.length, 1 + 50 + 1);
  t.regex(lines[50], /^ {2}x\d+: unknown key \(allowed: output, size, sectorSize, alignment, seed, diskGuid, table, diskId, bootCode, partitions\)$/);
  t.is(lines[51], '  ... and 10 more');
});
