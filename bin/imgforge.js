#!/usr/bin/env node
'use strict';
// The CLI is one bundled file, dist/cli.js (scripts/bundle-cli.mjs), so that starting it reads one
// file instead of ~235 modules. Most of what remains is V8 parsing and compiling that file, so it
// is compiled with a V8 code cache kept in ~/.cache/imgforge (or $XDG_CACHE_HOME/imgforge): Node 22
// does this itself (module.enableCompileCache); on Node 20 it is done here with vm.Script. Any
// problem (no writable cache folder, data V8 rejects, ...) falls back to a plain require, which is
// also what IMGFORGE_NO_COMPILE_CACHE=1 asks for.
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'cli.js');

function cacheDir() {
  const fs = require('node:fs');
  const base = process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache');
  const dir = path.join(base, 'imgforge');
  // Not mkdirSync({ recursive: true }): on Node 20 it can spin forever (e.g. under /proc).
  for (const folder of [base, dir]) {
    try {
      fs.mkdirSync(folder, { mode: 0o700 });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
  }
  return dir;
}

/** dist/cli.js's exports, compiled with a code cache; throws when the cache cannot be used. */
function loadWithCodeCache() {
  const Module = require('node:module');
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache(cacheDir());
    return require(bundle);
  }
  const fs = require('node:fs');
  const vm = require('node:vm');
  const dir = cacheDir();
  const source = fs.readFileSync(bundle);
  // V8 checks its own version and flags, but of the source only its length: key by the content too.
  const hash = require('node:crypto').createHash('sha256').update(source).update(`${process.version} ${process.arch}`).digest('hex');
  const file = path.join(dir, `cli-${hash.slice(0, 32)}.v8`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    // first run of this bundle on this Node: the cache is written at exit
  }
  // The same wrapper Node puts around a CommonJS module.
  const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new vm.Script(wrapper, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // At exit, the cache also holds the functions the command compiled lazily while it ran.
    process.once('exit', () => {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, file);
        for (const old of fs.readdirSync(dir)) {
          if (old.startsWith('cli-') && old.endsWith('.v8') && old !== path.basename(file)) fs.rmSync(path.join(dir, old), { force: true });
        }
      } catch {
        fs.rmSync(tmp, { force: true }); // no cache this time
      }
    });
  }
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext()(module.exports, Module.createRequire(bundle), module, bundle, path.dirname(bundle));
  module.loaded = true;
  return module.exports;
}

let cli;
if (process.env.IMGFORGE_NO_COMPILE_CACHE !== '1') {
  try {
    cli = loadWithCodeCache();
  } catch {
    cli = undefined;
  }
}
(cli ?? require(bundle)).run();
