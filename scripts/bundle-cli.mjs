// Bundles the CLI (tsc's dist/cli/main.js and the packages it requires: commander, yaml, zod) into
// one CommonJS file, dist/cli.js, which bin/imgforge.js runs. Loading one file instead of ~235
// modules saves a large part of the CLI's start-up time. The library entry points (dist/index.js,
// dist/index.mjs) are not bundled.
//
// Runs after tsc (package.json `build:ts`). The bundle starts from tsc's CommonJS output rather than
// the TypeScript sources, so every module keeps the evaluation order and semantics it has in dist/.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await esbuild.build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'cli.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // packageVersion() in ts/cli/main.ts: the bundle cannot find package.json from its own __dirname.
  define: { __IMGFORGE_VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [
    {
      // zod re-exports its ~40 translations of error messages (`z.locales`, ~0.5 MB, a third of the
      // bundle) from one module; imgforge never uses them (English messages are set up by another
      // module, which stays), and every start would parse them.
      name: 'no-zod-locales',
      setup(build) {
        build.onResolve({ filter: /^\.\.\/locales\/index\.cjs$/ }, (args) =>
          /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'stub' } : undefined,
        );
        build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
      },
    },
    {
      // The napi-rs loader (dist/native.js: require('../native/index.js')) stays a runtime require:
      // it picks the .node binary or the per-platform package at run time. dist/cli.js sits in
      // dist/ like dist/native.js, so the same relative path (and native.ts's __dirname) still holds.
      name: 'native-external',
      setup(build) {
        build.onResolve({ filter: /\/native\/index\.js$/ }, () => ({ path: '../native/index.js', external: true }));
      },
    },
  ],
});
