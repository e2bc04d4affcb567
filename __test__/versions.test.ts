import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTriple } from '@napi-rs/cli';
import { PREBUILT_PLATFORMS } from '../ts/native';
import { ROOT } from './helpers/cli';

// Users get the root package and one platform package from npm; their versions must match, and
// the platform packages' names must be the ones the generated loader (native/index.js) requires.
// `npm version` keeps them in lockstep (the "version" script runs `napi version`).

interface Manifest {
  name: string;
  version: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  main?: string;
  files?: string[];
  engines?: Record<string, string>;
  license?: string;
  optionalDependencies?: Record<string, string>;
  napi: { binaryName: string; targets: string[] };
}

const readJson = (file: string): Manifest => JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
const root = readJson(path.join(ROOT, 'package.json'));
const targets = root.napi.targets.map(parseTriple);
const npmDirs = fs
  .readdirSync(path.join(ROOT, 'npm'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

test('there is one npm/ folder per napi target, and the loader knows the same platforms', (t) => {
  const platforms = targets.map((target) => target.platformArchABI).sort();
  t.deepEqual([...npmDirs].sort(), platforms);
  t.deepEqual([...PREBUILT_PLATFORMS].sort(), platforms);
});

test('every platform package has the root version and a manifest that matches its target', (t) => {
  for (const target of targets) {
    const dir = target.platformArchABI;
    const manifest = readJson(path.join(ROOT, 'npm', dir, 'package.json'));
    const binary = `${root.napi.binaryName}.${dir}.node`;
    t.is(manifest.version, root.version, `npm/${dir}: version`);
    t.is(manifest.name, `${root.name}-${dir}`, `npm/${dir}: name`);
    t.deepEqual(manifest.os, [target.platform], `npm/${dir}: os`);
    t.deepEqual(manifest.cpu, [target.arch], `npm/${dir}: cpu`);
    const libc = { gnu: ['glibc'], musl: ['musl'] }[target.abi ?? ''];
    t.deepEqual(manifest.libc, target.platform === 'linux' ? libc : undefined, `npm/${dir}: libc`);
    t.is(manifest.main, binary, `npm/${dir}: main`);
    t.deepEqual(manifest.files, [binary], `npm/${dir}: files`);
    t.deepEqual(manifest.engines, root.engines, `npm/${dir}: engines`);
    t.is(manifest.license, root.license, `npm/${dir}: license`);
    t.true(fs.existsSync(path.join(ROOT, 'npm', dir, 'README.md')), `npm/${dir}: README.md`);
  }
});

test('optionalDependencies, when present, name every platform package at the root version', (t) => {
  // `napi prepublish` writes them at release time; in the repository they are absent, since
  // `npm ci` refuses a lock file without entries for packages not yet on the registry.
  const optional = root.optionalDependencies;
  if (optional === undefined) {
    t.pass();
    return;
  }
  const expected = Object.fromEntries(targets.map((target) => [`${root.name}-${target.platformArchABI}`, root.version]));
  t.deepEqual(optional, expected);
});

test('the generated loader requires each platform package by the name it is published under', (t) => {
  const loader = fs.readFileSync(path.join(ROOT, 'native', 'index.js'), 'utf8');
  for (const dir of npmDirs) {
    t.true(loader.includes(`require('${root.name}-${dir}')`), `native/index.js requires ${root.name}-${dir}`);
    t.true(loader.includes(`require('./${root.napi.binaryName}.${dir}.node')`), `native/index.js requires ./${root.napi.binaryName}.${dir}.node`);
  }
});
