/**
 * `imgforge init`: each template gives a project that builds and verifies at once (checked by
 * sgdisk and fsck.fat too), the spec names the schema editors use, and nothing is ever overwritten.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imgforge, ROOT } from './helpers/cli';
import { hasTool, run, sgdiskVerify, tempDir } from './helpers/tools';
import { TEMPLATES } from '../ts/cli/init';

/** Every file under `dir`, relative, with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full), entry.isFile() ? fs.readFileSync(full, 'base64') : entry.isDirectory() ? 'dir' : 'other');
  }
  return files;
}

test('every folder under templates/ is a template init offers, and the reverse', (t) => {
  const folders = fs.readdirSync(path.join(ROOT, 'templates')).sort();
  t.deepEqual(TEMPLATES.map((x) => x.name).sort(), folders);
});

test('init --help lists the templates with what each holds', (t) => {
  const result = imgforge(['init', '--help']);
  t.is(result.status, 0);
  for (const template of TEMPLATES) t.regex(result.stdout, new RegExp(`^  ${template.name} +${template.summary.slice(0, 20).replace(/[()]/g, '\\$&')}`, 'm'));
});

for (const template of TEMPLATES.map((x) => x.name)) {
  test(`init --template ${template}, then build and verify, works at once`, (t) => {
    const work = tempDir('imgforge-init-');
    t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
    const created = imgforge(['init', 'demo', '--template', template], { cwd: work });
    t.is(created.status, 0, created.stderr);
    t.regex(created.stdout, /^wrote demo\/image\.yaml/);
    t.regex(created.stdout, /cd demo\n {2}imgforge plan image\.yaml/);
    const project = path.join(work, 'demo');
    const spec = fs.readFileSync(path.join(project, 'image.yaml'), 'utf8');
    t.regex(spec, /^seed: demo-[0-9a-f]{8} +#/m, 'a seed of its own');

    const built = imgforge(['build', 'image.yaml', '--json'], { cwd: project });
    t.is(built.status, 0, built.stderr);
    const image = path.join(project, 'image.img');
    t.is(JSON.parse(built.stdout).output, image);
    const verified = imgforge(['verify', 'image.yaml', 'image.img'], { cwd: project });
    t.is(verified.status, 0, verified.stdout + verified.stderr);
    t.regex(verified.stdout, /the image matches/);
    if (hasTool('sgdisk')) t.regex(sgdiskVerify(image), /No problems found/);
    const inspected = JSON.parse(imgforge(['inspect', 'image.img', '--json', '--files'], { cwd: project }).stdout);
    t.deepEqual(inspected.findings, []);
    const esp = inspected.partitions.find((p: { typeName?: string }) => p.typeName === 'esp');
    t.true(esp.files.some((f: { path: string }) => f.path === '/EFI/BOOT/BOOTX64.EFI'));
    const root = inspected.partitions.find((p: { contents: { type: string } }) => p.contents.type === 'erofs');
    t.true(root.files.some((f: { path: string }) => f.path === '/usr/lib/os-release'));
    if (hasTool('fsck.fat')) {
      const copy = path.join(work, 'esp.fat');
      fs.writeFileSync(copy, fs.readFileSync(image).subarray(esp.offset, esp.offset + esp.size));
      t.notThrows(() => run('fsck.fat', ['-n', copy]));
    }
  });
}

test('init writes into the current folder by default, and refuses to run twice', (t) => {
  const work = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  t.is(imgforge(['init'], { cwd: work }).status, 0);
  const before = snapshot(work);
  t.true(before.has('image.yaml') && before.has(path.join('esp', 'EFI', 'BOOT', 'BOOTX64.EFI')));
  const again = imgforge(['init', '--template', 'uefi-ab'], { cwd: work });
  t.is(again.status, 2);
  t.is(again.stderr, 'imgforge: image.yaml already exists; init overwrites nothing, so nothing was written (choose an empty folder)\n');
  t.deepEqual(snapshot(work), before, 'nothing changed');
});

test('one existing input file stops init before it writes anything', (t) => {
  const work = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const mine = path.join(work, 'demo', 'esp', 'EFI', 'BOOT', 'BOOTX64.EFI');
  fs.mkdirSync(path.dirname(mine), { recursive: true });
  fs.writeFileSync(mine, 'my boot loader');
  const before = snapshot(work);
  const result = imgforge(['init', 'demo'], { cwd: work });
  t.is(result.status, 2);
  t.regex(result.stderr, /^imgforge: demo\/esp\/EFI\/BOOT\/BOOTX64\.EFI already exists; .*nothing was written/);
  t.deepEqual(snapshot(work), before);

  // A file where init needs a folder is in the way too.
  fs.writeFileSync(path.join(work, 'other'), 'a file');
  const onFile = imgforge(['init', 'other'], { cwd: work });
  t.is(onFile.status, 2);
  t.regex(onFile.stderr, /^imgforge: other exists and is not a folder; nothing was written/);
  fs.mkdirSync(path.join(work, 'third'));
  fs.writeFileSync(path.join(work, 'third', 'rootfs'), 'a file named like a folder of the template');
  const third = imgforge(['init', 'third'], { cwd: work });
  t.is(third.status, 2);
  t.regex(third.stderr, /^imgforge: third\/rootfs already exists/);
  t.false(fs.existsSync(path.join(work, 'third', 'image.yaml')));
});

test('an unknown template is a usage error naming the templates', (t) => {
  const work = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const result = imgforge(['init', 'demo', '--template', 'rpi5'], { cwd: work });
  t.is(result.status, 2);
  t.regex(result.stderr, /^imgforge: .*'rpi5' is invalid\. Allowed choices are minimal, uefi-ab \(see imgforge init --help\)\n$/);
  t.false(fs.existsSync(path.join(work, 'demo')));
});

test('the spec points editors at node_modules/imgforge/schema.json when the project has imgforge installed', (t) => {
  const work = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  fs.mkdirSync(path.join(work, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(work, 'node_modules', 'imgforge'));
  t.is(imgforge(['init', 'images/demo'], { cwd: work }).status, 0);
  const spec = fs.readFileSync(path.join(work, 'images', 'demo', 'image.yaml'), 'utf8');
  t.true(spec.startsWith('# yaml-language-server: $schema=../../node_modules/imgforge/schema.json\n'));
  t.regex(spec, /^\$schema: "\.\.\/\.\.\/node_modules\/imgforge\/schema\.json"$/m);

  // Without one, the running imgforge's own schema, by absolute path.
  const bare = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(bare, { recursive: true, force: true }));
  t.is(imgforge(['init'], { cwd: bare }).status, 0);
  t.regex(fs.readFileSync(path.join(bare, 'image.yaml'), 'utf8'), new RegExp(`^\\$schema: "${path.join(ROOT, 'schema.json').replace(/[.]/g, '\\.')}"$`, 'm'));
});
