/**
 * `imgforge init`: each template gives a project that builds and verifies at once (checked by
 * sgdisk or sfdisk, fsck.fat and mtools too), the spec names the schema editors use, the rpi
 * template's cmdline.txt names its root by the right PARTUUID, and nothing is ever overwritten.
 */
import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imgforge, ROOT } from './helpers/cli';
import { hasTool, run, sfdiskJson, sgdiskVerify, tempDir, type SfdiskPartition } from './helpers/tools';
import { TEMPLATES, newDiskId, replaceDiskId, templateDiskId } from '../ts/cli/init';

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

/** Per template, the folders init writes that become the FAT32 and the EROFS partition. */
const INPUT_FOLDERS: Record<string, { fat: string; erofs: string }> = {
  minimal: { fat: 'esp', erofs: 'rootfs' },
  'uefi-ab': { fat: 'esp', erofs: 'rootfs' },
  rpi: { fat: 'boot', erofs: 'rootfs' },
};

/** Every file under `dir`, as the absolute paths a filesystem built from it lists, sorted. */
function filesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `/${path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')}`)
    .sort();
}

/** `init --template <template>` into work/demo, then `build`: the project folder and image. */
function initAndBuild(t: ExecutionContext, template: string): { work: string; project: string; image: string } {
  const work = tempDir('imgforge-init-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const created = imgforge(['init', 'demo', '--template', template], { cwd: work });
  t.is(created.status, 0, created.stderr);
  t.regex(created.stdout, /^wrote demo\/image\.yaml/);
  t.regex(created.stdout, /cd demo\n {2}imgforge plan image\.yaml/);
  const project = path.join(work, 'demo');
  const built = imgforge(['build', 'image.yaml', '--json'], { cwd: project });
  t.is(built.status, 0, built.stderr);
  const image = path.join(project, 'image.img');
  t.is(JSON.parse(built.stdout).output, image);
  return { work, project, image };
}

test('every template says which of its folders fill the FAT32 and the EROFS partition', (t) => {
  t.deepEqual(Object.keys(INPUT_FOLDERS).sort(), TEMPLATES.map((x) => x.name).sort());
});

for (const template of TEMPLATES.map((x) => x.name)) {
  test(`init --template ${template}, then build and verify, works at once`, (t) => {
    const { work, project, image } = initAndBuild(t, template);
    const spec = fs.readFileSync(path.join(project, 'image.yaml'), 'utf8');
    t.regex(spec, /^seed: demo-[0-9a-f]{8} +#/m, 'a seed of its own');

    const verified = imgforge(['verify', 'image.yaml', 'image.img'], { cwd: project });
    t.is(verified.status, 0, verified.stdout + verified.stderr);
    t.regex(verified.stdout, /the image matches/);
    const inspected = JSON.parse(imgforge(['inspect', 'image.img', '--json', '--files'], { cwd: project }).stdout);
    t.deepEqual(inspected.findings, []);
    if (inspected.table === 'gpt' && hasTool('sgdisk')) t.regex(sgdiskVerify(image), /No problems found/);
    if (inspected.table === 'mbr' && hasTool('sfdisk')) t.is(sfdiskJson(image).label, 'dos');
    // The partitions hold exactly the files of the folders init wrote.
    const folders = INPUT_FOLDERS[template];
    type Listed = { contents: { type: string }; files: Array<{ path: string; kind: string }>; offset: number; size: number };
    const listed = (p: Listed) => p.files.filter((f) => f.kind === 'file').map((f) => f.path).sort();
    const fat = inspected.partitions.find((p: Listed) => p.contents.type === 'fat32');
    t.deepEqual(listed(fat), filesIn(path.join(project, folders.fat)));
    const root = inspected.partitions.find((p: Listed) => p.contents.type === 'erofs');
    t.deepEqual(listed(root), filesIn(path.join(project, folders.erofs)));
    t.true(listed(root).includes('/usr/lib/os-release'));
    if (hasTool('fsck.fat')) {
      const copy = path.join(work, 'boot.fat');
      fs.writeFileSync(copy, fs.readFileSync(image).subarray(fat.offset, fat.offset + fat.size));
      t.notThrows(() => run('fsck.fat', ['-n', copy]));
    }
  });
}

test('init --template rpi: cmdline.txt in the image names the root partition by the PARTUUID sfdisk reports', (t) => {
  for (const tool of ['sfdisk', 'mtype', 'fsck.fat']) {
    if (!hasTool(tool)) {
      t.log(`skipped: ${tool} is not installed (scripts/install-system-deps.sh installs it)`);
      t.pass();
      return;
    }
  }
  const { work, project, image } = initAndBuild(t, 'rpi');
  const table = sfdiskJson(image);
  t.is(table.label, 'dos');
  const sectorSize = table.sectorsize ?? 512;
  type DosPartition = SfdiskPartition & { bootable?: boolean };
  const [boot, root] = table.partitions as DosPartition[];
  t.is(table.partitions.length, 2);
  t.is(boot.type, 'c', 'FAT32 (LBA), which the Pi firmware looks for');
  t.true(boot.bootable);
  t.is(root.type, '83');
  t.is(root.node, `${image}2`);

  // The boot partition at the offset the MBR gives, read by tools that know nothing of imgforge.
  const bootOffset = boot.start * sectorSize;
  const cmdline = run('mtype', ['-i', `${image}@@${bootOffset}`, '::/cmdline.txt']);
  t.regex(run('mtype', ['-i', `${image}@@${bootOffset}`, '::/config.txt']), /^arm_64bit=1$/m);
  const partuuid = /(?:^| )root=PARTUUID=(\S+)(?: |\n|$)/.exec(cmdline)?.[1];
  // For an MBR disk the PARTUUID is the disk id in 8 hex digits, a dash and the 2-digit partition number.
  t.is(partuuid, `${table.id.replace(/^0x/, '').padStart(8, '0').toLowerCase()}-02`, cmdline);
  t.is(cmdline.split('\n').filter(Boolean).length, 1, 'the firmware reads cmdline.txt as one line');
  const fstab = fs.readFileSync(path.join(project, 'rootfs', 'etc', 'fstab'), 'utf8');
  t.regex(fstab, new RegExp(`^PARTUUID=${partuuid} +/ +erofs`, 'm'));

  const copy = path.join(work, 'boot.fat');
  const fd = fs.openSync(image, 'r');
  const bytes = Buffer.alloc(boot.size * sectorSize);
  fs.readSync(fd, bytes, 0, bytes.length, bootOffset);
  fs.closeSync(fd);
  fs.writeFileSync(copy, bytes);
  t.notThrows(() => run('fsck.fat', ['-n', copy]));

  // The template's own disk id is replaced: two projects from it get different PARTUUIDs.
  const templateId = /^diskId: 0x([0-9a-f]{8})/m.exec(fs.readFileSync(path.join(ROOT, 'templates', 'rpi', 'image.yaml'), 'utf8'))?.[1];
  t.truthy(templateId);
  t.false(partuuid?.startsWith(`${templateId}-`));
  t.false(fs.readFileSync(path.join(project, 'image.yaml'), 'utf8').includes(templateId as string));
});

test("a template's disk id is found in its spec, replaced everywhere, and a new one is never zero or the old one", (t) => {
  t.is(templateDiskId('table: mbr\ndiskId: 0x7E3A91C4   # fixed\n'), '7e3a91c4');
  t.is(templateDiskId('# diskId: 0x7e3a91c4\nsize: auto\n'), undefined, 'a comment is not the field');
  t.is(templateDiskId('diskId: 0x7e3a91c\n'), undefined, 'seven digits are not a template id');
  t.is(replaceDiskId(Buffer.from('root=PARTUUID=7e3a91c4-02 x 7e3a91c4-01'), '7e3a91c4', '0badf00d').toString(), 'root=PARTUUID=0badf00d-02 x 0badf00d-01');
  t.is(replaceDiskId(Buffer.from('nothing here'), '7e3a91c4', '0badf00d').toString(), 'nothing here');
  for (let i = 0; i < 100; i++) {
    const id = newDiskId('7e3a91c4');
    t.regex(id, /^[0-9a-f]{8}$/);
    t.not(id, '00000000');
    t.not(id, '7e3a91c4');
  }
});

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
  t.regex(result.stderr, /^imgforge: .*'rpi5' is invalid\. Allowed choices are minimal, uefi-ab, rpi \(see imgforge init --help\)\n$/);
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
