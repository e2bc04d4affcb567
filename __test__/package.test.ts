import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers/cli';

const API = ['COPY_MODES', 'ImgforgeError', 'build', 'inspect', 'inspectSync', 'loadSpec', 'parseSpec', 'plan', 'verify'];

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
}

test('the package loads by name from CommonJS and from ESM, with one shared ImgforgeError', (t) => {
  const cjs = JSON.parse(node(['-e', "console.log(JSON.stringify(Object.keys(require('imgforge')).sort()))"]));
  t.deepEqual(cjs, API);
  const esm = node([
    '--input-type=module',
    '-e',
    "import * as m from 'imgforge'; import { createRequire } from 'node:module';" +
      "const cjs = createRequire(import.meta.url)('imgforge');" +
      "console.log(JSON.stringify({ keys: Object.keys(m).filter((k) => k !== 'default').sort(), same: m.ImgforgeError === cjs.ImgforgeError }))",
  ]);
  t.deepEqual(JSON.parse(esm), { keys: API, same: true });
});

test('type declarations ship for the public API', (t) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const types = fs.readFileSync(path.join(ROOT, manifest.exports['.'].types), 'utf8');
  for (const name of ['build', 'plan', 'loadSpec', 'parseSpec', 'inspect', 'inspectSync', 'verify', 'ImgforgeError', 'ImageSpec', 'ParseSpecOptions', 'SpecInput', 'BuildResult', 'BuildOptions', 'LoadedSpec', 'Plan', 'PlannedPartition', 'InspectReport', 'VerifyReport']) {
    t.regex(types, new RegExp(`\\b${name}\\b`), name);
  }
});

test('a library build error has a stable code and no native addon is needed to plan', (t) => {
  const out = node([
    '-e',
    "const { plan, parseSpec, ImgforgeError } = require('imgforge');" +
      "try { parseSpec({ text: 'size: 1MiB\\npartitions: []\\n', format: 'yaml', sourceName: 'inline.yaml' }); } catch (e) { console.log(JSON.stringify({ isError: e instanceof ImgforgeError, code: e.code, message: e.message.split('\\n')[0] })); }",
  ]);
  t.deepEqual(JSON.parse(out), { isError: true, code: 'SPEC_INVALID', message: 'inline.yaml: invalid spec (1 problem):' });
});
