import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from './errors';

/**
 * The binding's types are the ones napi-rs generates from crates/napi (native/index.d.ts, committed
 * so that the TypeScript compiles before the addon is built): nothing here restates them.
 */
export type * from '../native/index';
export type NativeBinding = typeof import('../native/index');

let binding: NativeBinding | undefined;

/** Loads the addon on first use, so `plan` and spec validation work even where it is missing. */
export function native(): NativeBinding {
  if (binding === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require('../native/index.js') as NativeBinding;
    } catch (error) {
      throw loadError(error);
    }
  }
  return binding;
}

// Loading, and explaining why it failed. The generated loader (native/index.js, napi-rs) tries
// native/imgforge.<abi>.node, then the package imgforge-<abi>, and throws "Cannot find native
// binding" with every attempt's message chained as causes: users need to know which of the two
// cases they are in, and which package npm should have installed.

/** The platforms imgforge publishes a prebuilt package for (package.json `napi.targets`). */
export const PREBUILT_PLATFORMS: readonly string[] = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
];

/** This machine's platform as napi-rs names it (`linux-arm64-musl`), and the package expected to hold its binary. */
export function platformPackage(): { platform: string; name: string; prebuilt: boolean } {
  const { platform: os, arch } = process;
  let platform = `${os}-${arch}`;
  if (os === 'linux') platform += isMusl() ? '-musl' : '-gnu';
  else if (os === 'win32') platform += '-msvc';
  return { platform, name: `imgforge-${platform}`, prebuilt: PREBUILT_PLATFORMS.includes(platform) };
}

// As the generated loader decides: by ldd, else by whether the process reports a glibc version.
function isMusl(): boolean {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    // no ldd: ask the process report
  }
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

const FROM_SOURCE = 'build it from source (needs Rust; see "Building from source" in imgforge\'s README)';

function loadError(error: unknown): ImgforgeError {
  const nativeDir = path.join(__dirname, '..', 'native');
  const expected = platformPackage();
  const here = `${process.platform}-${process.arch}`;
  let message: string;
  if (!fs.existsSync(path.join(nativeDir, 'index.js'))) {
    message = `imgforge's native addon is not built (${path.join(nativeDir, 'index.js')} is missing): run \`npm run build\` (needs Rust, https://rustup.rs).`;
  } else if (!expected.prebuilt) {
    message =
      `imgforge has no prebuilt native addon for ${here} (${expected.platform}); prebuilt: ${PREBUILT_PLATFORMS.join(', ')}.\n` +
      `To use imgforge here, ${FROM_SOURCE}.`;
  } else {
    const found = [path.join(nativeDir, `imgforge.${expected.platform}.node`), packageDir(expected.name, nativeDir)].find(
      (file) => file !== undefined && fs.existsSync(file),
    );
    message =
      found === undefined
        ? `imgforge's native addon for ${here} is not installed: the package ${expected.name} is missing.\n` +
          'npm installs it as an optional dependency of imgforge, unless optional dependencies are omitted ' +
          '(--omit=optional, --no-optional) or node_modules was installed on another platform.\n' +
          'Reinstall imgforge on this machine with optional dependencies (`npm i imgforge --include=optional`; ' +
          `if that is not enough, delete node_modules and package-lock.json, then \`npm i\`), or ${FROM_SOURCE}.`
        : `imgforge's native addon ${found} could not be loaded: ${rootCause(error, expected.name)}\n` +
          `Reinstall imgforge (the package ${expected.name} may be damaged or for another libc), or ${FROM_SOURCE}.`;
  }
  return new ImgforgeError('NATIVE', message, { cause: error });
}

function packageDir(name: string, from: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    return undefined;
  }
}

/** The first line of the innermost error that is not just "module not found": usually the dlopen failure. */
function rootCause(error: unknown, name: string): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error && messages.length < 20; e = e.cause) messages.push(e.message.split('\n')[0]);
  return (
    messages.find((m) => !/^Cannot find (module|native binding)/.test(m)) ?? messages.find((m) => m.includes(name)) ?? messages[0] ?? String(error)
  );
}
