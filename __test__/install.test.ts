import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTriple } from '@napi-rs/cli';
import { platformPackage } from '../ts/native';
import { ROOT } from './helpers/cli';
import { sfdiskJson, sgdiskVerify, tempDir } from './helpers/tools';

// Installs imgforge the way users get it from npm: the root package plus this machine's platform
// package, both as tarballs, in an empty project; then runs the CLI with npx and loads the
// library. Expects `npm run build` to have run (as `npm test` does).

const host = platformPackage();
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  napi: { targets: string[] };
};
const windows = process.platform === 'win32';

// Scripts started by npm inherit its settings as npm_config_* variables; local_prefix would make
// the child npm install into this repository. Keep only those that say how to reach the registry.
const KEEP = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|ca|proxy|https_proxy|noproxy|strict_ssl)$/i;
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|init_cwd$)/i.test(key) || KEEP.test(key)),
);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Run {
  // npm and npx are .cmd scripts on Windows, which only a shell runs.
  const shell = windows && command !== process.execPath;
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', shell, timeout: 240_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

function ok(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** `npm pack` of a folder into `destination`; returns the tarball and the files it holds. */
function pack(folder: string, destination: string): { tarball: string; files: string[] } {
  // --ignore-scripts: `prepare` would rebuild everything; the build is already done.
  const [info] = JSON.parse(ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], folder)) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { tarball: path.join(destination, info.filename), files: info.files.map((file) => file.path) };
}

interface Installed {
  project: string;
  rootFiles: string[];
  platformFiles: string[];
}

let installed: Promise<Installed> | undefined;

/** Packs and installs once; every test uses the same project (they only read it or copy it). */
function install(): Promise<Installed> {
  installed ??= Promise.resolve().then(() => {
    const work = tempDir('imgforge-install-');
    const binary = path.join(ROOT, 'native', `imgforge.${host.platform}.node`);
    if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run build\` first`);

    // The platform package: a copy of npm/<platform> with the freshly built addon in it.
    const platformDir = path.join(work, host.platform);
    fs.cpSync(path.join(ROOT, 'npm', host.platform), platformDir, { recursive: true });
    fs.copyFileSync(binary, path.join(platformDir, path.basename(binary)));
    const platform = pack(platformDir, work);

    // The root package as `napi prepublish` leaves it: with one optional dependency per target,
    // so npm has to pick this machine's package (and skip the others, not yet on the registry).
    // Staged from the files `npm pack` would take, so the repository's package.json stays as is.
    const stage = path.join(work, 'stage');
    const [listing] = JSON.parse(ok('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], ROOT)) as { files: { path: string }[] }[];
    for (const { path: file } of listing.files) {
      fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(stage, file));
    }
    const published = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'));
    published.optionalDependencies = Object.fromEntries(
      manifest.napi.targets.map((triple) => [`${manifest.name}-${parseTriple(triple).platformArchABI}`, manifest.version]),
    );
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(published, null, 2));
    const root = pack(stage, work);

    const project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-imgforge', private: true }));
    ok('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', root.tarball, platform.tarball], project);
    fs.cpSync(path.join(ROOT, 'examples', 'appliance'), path.join(project, 'appliance'), { recursive: true });
    return { project, rootFiles: root.files, platformFiles: platform.files };
  });
  return installed;
}

test('the tarballs hold the built package: JavaScript in the root one, the addon in the platform one', async (t) => {
  const { rootFiles, platformFiles } = await install();
  for (const file of [
    'bin/imgforge.js',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'native/index.js',
    'package.json',
    'LICENSE',
    'examples/appliance/image.yaml',
    'schema.json',
    'templates/minimal/image.yaml',
    'templates/minimal/esp/EFI/BOOT/BOOTX64.EFI',
    'templates/uefi-ab/image.yaml',
    'templates/rpi/image.yaml',
    'templates/rpi/boot/cmdline.txt',
    'templates/rpi/boot/config.txt',
  ]) {
    t.true(rootFiles.includes(file), file);
  }
  t.deepEqual(rootFiles.filter((file) => file.endsWith('.node')), []);
  t.deepEqual([...platformFiles].sort(), ['README.md', `imgforge.${host.platform}.node`, 'package.json']);
});

// The CLI's summary, for the library test to compare with (serial tests run first, in order).
let cliSummary: { partitions: unknown[] } | undefined;

test('the published manifest says where the project lives, and has no script that runs on install', async (t) => {
  const { project } = await install();
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'imgforge', 'package.json'), 'utf8'));
  t.regex(manifest.repository?.url ?? '', /^git\+https:\/\/.+\.git$/);
  t.regex(manifest.homepage ?? '', /^https:\/\//);
  t.regex(manifest.bugs?.url ?? '', /^https:\/\//);
  t.is(manifest.license, 'MIT');
  t.regex(fs.readFileSync(path.join(project, 'node_modules', 'imgforge', 'LICENSE'), 'utf8'), /^MIT License/);
  for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) t.is(manifest.scripts?.[script], undefined, script);
});

test.serial('npx imgforge build writes a sound image with the installed platform package', async (t) => {
  const { project } = await install();
  // The README's first commands: the example ships in the package.
  const result = run('npx', ['--no', 'imgforge', 'build', 'node_modules/imgforge/examples/appliance/image.yaml', '-o', 'disk.img', '--json'], project);
  t.is(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { diskSize: number; partitions: unknown[] };
  t.true(summary.partitions.length > 0);
  t.is(fs.statSync(path.join(project, 'disk.img')).size, summary.diskSize);
  cliSummary = summary;
  // The addon came from the platform package: the root package has none.
  t.true(fs.existsSync(path.join(project, 'node_modules', host.name, `imgforge.${host.platform}.node`)));
  if (process.platform === 'linux' || spawnSync('sgdisk', ['--version']).status === 0) {
    t.regex(sgdiskVerify(path.join(project, 'disk.img')), /No problems found/);
  }
});

test.serial('the installed library loads with require and with import, and builds', async (t) => {
  const { project } = await install();
  const cjs = ok(
    process.execPath,
    ['-e', "const m = require('imgforge'); console.log(JSON.stringify([typeof m.build, typeof m.plan, typeof m.ImgforgeError]))"],
    project,
  );
  t.deepEqual(JSON.parse(cjs), ['function', 'function', 'function']);
  const esm = ok(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const { build } = await import('imgforge'); const r = await build('appliance/image.yaml', { output: 'esm.img' });" +
        'console.log(JSON.stringify(r.partitions))',
    ],
    project,
  );
  // The example has a seed, so the same layout and GUIDs as the CLI's build (of the same files,
  // from the package's copy of the example rather than the project's).
  type Partition = { contents?: { path: string; size: number } };
  const sameFiles = (partitions: Partition[] | undefined) =>
    partitions?.map((p) => (p.contents === undefined ? p : { ...p, contents: { ...p.contents, path: path.basename(p.contents.path) } }));
  t.deepEqual(sameFiles(JSON.parse(esm)), sameFiles(cliSummary?.partitions as Partition[] | undefined));
});

// Every template the package ships (templates/<name>/).
for (const template of fs.readdirSync(path.join(ROOT, 'templates')).sort()) {
  test(`npx imgforge init, then build and verify in the new folder: template ${template}`, async (t) => {
    const { project } = await install();
    const folder = `demo-${template}`;
    const created = run('npx', ['--no', 'imgforge', 'init', folder, '--template', template], project);
    t.is(created.status, 0, created.stderr);
    const demo = path.join(project, folder);
    // The spec names the installed package's schema, and that file is there: editors find it.
    const spec = fs.readFileSync(path.join(demo, 'image.yaml'), 'utf8');
    t.true(spec.startsWith('# yaml-language-server: $schema=../node_modules/imgforge/schema.json\n'));
    t.is(JSON.parse(fs.readFileSync(path.join(demo, '../node_modules/imgforge/schema.json'), 'utf8')).title, 'imgforge image spec');
    // The import path the package exports resolves to the same file.
    const resolved = ok(process.execPath, ['-p', "require.resolve('imgforge/schema.json')"], project).trim();
    t.is(fs.realpathSync(resolved), fs.realpathSync(path.join(project, 'node_modules', 'imgforge', 'schema.json')));

    const built = run('npx', ['--no', 'imgforge', 'build', 'image.yaml'], demo);
    t.is(built.status, 0, built.stderr);
    const verified = run('npx', ['--no', 'imgforge', 'verify', 'image.yaml', 'image.img'], demo);
    t.is(verified.status, 0, verified.stdout + verified.stderr);
    t.regex(verified.stdout, /the image matches/);
    const image = path.join(demo, 'image.img');
    if (/^table: mbr\b/m.test(spec)) {
      // An MBR disk (rpi): sgdisk would only convert it to GPT in memory; sfdisk reads it as is,
      // and cmdline.txt names the root by the PARTUUID the table gives partition 2.
      if (spawnSync('sfdisk', ['--version']).status === 0) {
        const table = sfdiskJson(image);
        t.is(table.label, 'dos');
        const diskId = table.id.replace(/^0x/, '').padStart(8, '0');
        if (template === 'rpi') t.regex(fs.readFileSync(path.join(demo, 'boot', 'cmdline.txt'), 'utf8'), new RegExp(`root=PARTUUID=${diskId}-02 `));
      }
    } else if (process.platform === 'linux' || spawnSync('sgdisk', ['--version']).status === 0) {
      t.regex(sgdiskVerify(image), /No problems found/);
    }
  });
}

test('without the platform package, the CLI and the library say which package is missing', async (t) => {
  const { project } = await install();
  // A copy, so the other tests keep a complete install.
  const broken = path.join(path.dirname(project), 'broken');
  fs.cpSync(project, broken, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(path.join(broken, 'node_modules', host.name), { recursive: true });

  const result = run('npx', ['--no', 'imgforge', 'build', 'appliance/image.yaml', '-o', 'missing.img'], broken);
  t.is(result.status, 1);
  t.regex(result.stderr, new RegExp(`^imgforge: .*not installed: the package ${host.name} is missing`, 'm'));
  t.regex(result.stderr, /--include=optional/);
  t.regex(result.stderr, /Building from source/);
  t.notRegex(result.stderr, /Require stack|^\s+at /m, 'no raw require error or stack trace');
  t.false(fs.existsSync(path.join(broken, 'missing.img')), 'no partial image');

  // Loading the package needs no addon; building does, and says so with a stable code.
  const library = ok(
    process.execPath,
    [
      '-e',
      "require('imgforge').build('appliance/image.yaml', { output: 'lib.img' }).then(" +
        "() => console.log('null'), (e) => console.log(JSON.stringify({ name: e.name, code: e.code, names: e.message.includes('" +
        host.name +
        "') })))",
    ],
    broken,
  );
  t.deepEqual(JSON.parse(library), { name: 'ImgforgeError', code: 'NATIVE', names: true });
});
