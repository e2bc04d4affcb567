/**
 * `imgforge init`: a new project from one of the package's templates (templates/<name>/): a
 * commented image.yaml and the input files it names, so that `imgforge build image.yaml` works at
 * once. Nothing is ever overwritten: every file is checked before the first one is written, and
 * a failure part-way removes what was written.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';

/** The templates: each is a folder templates/<name>/ with an image.yaml, and one line here. */
export const TEMPLATES: ReadonlyArray<{ name: string; summary: string }> = [
  { name: 'minimal', summary: 'an EFI system partition (FAT32) and a read-only root (EROFS), sized to fit' },
  { name: 'uefi-ab', summary: 'an ESP, A/B root slots (A an EROFS, B empty) and a data partition that grows' },
  { name: 'rpi', summary: 'a Raspberry Pi disk: MBR, a FAT32 boot partition (config.txt, cmdline.txt) and an EROFS root' },
];

export const DEFAULT_TEMPLATE = 'minimal';
export const SPEC_FILE = 'image.yaml';
const SCHEMA_FILE = 'schema.json';

/** The package's root folder: the nearest folder above this module with imgforge's package.json. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'imgforge') return dir;
    if (path.dirname(dir) === dir) throw new ImgforgeError('USAGE', `cannot find imgforge's package folder above ${from}`);
  }
}

/**
 * Where the spec in `folder` finds the JSON Schema: the schema.json of an imgforge installed in a
 * node_modules at or above the folder, as a relative path (it stays right when the project moves);
 * else the running package's own, as an absolute path; undefined when neither exists.
 */
export function schemaReference(folder: string, root: string): string | undefined {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    const installed = path.join(dir, 'node_modules', 'imgforge', SCHEMA_FILE);
    if (fs.existsSync(installed)) {
      const relative = path.relative(folder, installed).split(path.sep).join('/');
      return relative.startsWith('.') ? relative : `./${relative}`;
    }
    if (path.dirname(dir) === dir) break;
  }
  const own = path.join(root, SCHEMA_FILE);
  return fs.existsSync(own) ? own : undefined;
}

/**
 * A seed of its own for a new project: its folder's name and random hex. GUIDs and UUIDs derive
 * from it, so the project's builds are reproducible (and `imgforge verify` can compare them),
 * while two projects made from one template still get different GUIDs.
 */
export function newSeed(folder: string): string {
  const name = path.basename(folder).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `${name || 'image'}-${randomBytes(4).toString('hex')}`;
}

/** The template's image.yaml with its schema lines pointing at `schema` (or without them) and `seed` as its seed. */
export function specText(template: string, schema: string | undefined, seed: string): string {
  const lines = template.split('\n').flatMap((line) => {
    const seedLine = /^seed: (\S+)(\s*)(#.*)?$/.exec(line);
    if (seedLine) {
      const comment = seedLine[3] === undefined ? '' : `${' '.repeat(Math.max(1, seedLine[1].length + seedLine[2].length - seed.length))}${seedLine[3]}`;
      return [`seed: ${seed}${comment}`];
    }
    if (line.startsWith('# yaml-language-server: $schema=')) return schema === undefined ? [] : [`# yaml-language-server: $schema=${schema}`];
    if (line.startsWith('$schema:')) return schema === undefined ? [] : [`$schema: ${JSON.stringify(schema)}`];
    return [line];
  });
  return lines.join('\n');
}

/** The fixed MBR disk id of a template's spec (`diskId: 0x` and 8 hex digits), lowercase; undefined without one. */
export function templateDiskId(spec: string): string | undefined {
  return /^diskId: 0x([0-9a-fA-F]{8})\b/m.exec(spec)?.[1].toLowerCase();
}

/**
 * A disk id of its own for a new project, 8 lowercase hex digits, neither zero nor `unlike`. Its
 * partitions' PARTUUIDs (<disk id>-<number>) are what a boot command line names the root by, so
 * two disks made from one template must not share it: with both attached, the kernel could mount
 * the other one's root.
 */
export function newDiskId(unlike: string): string {
  for (;;) {
    const id = randomBytes(4).toString('hex');
    if (id !== '00000000' && id !== unlike) return id;
  }
}

/** `data` with every occurrence of the disk id `from` (lowercase hex) replaced by `to`. */
export function replaceDiskId(data: Buffer, from: string, to: string): Buffer {
  const needle = Buffer.from(from, 'latin1');
  const out = Buffer.from(data);
  for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + needle.length)) out.write(to, at, 'latin1');
  return out;
}

/** Every file of a template folder, relative to it, in a stable order. */
function templateFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The first path of `files` (relative to `folder`), or of their folders, that is in the way. */
function firstConflict(folder: string, files: readonly string[]): string | undefined {
  for (const file of files) {
    const parts = file.split(path.sep);
    for (let i = 0; i < parts.length; i++) {
      const at = path.join(folder, ...parts.slice(0, i + 1));
      let stats: fs.Stats;
      try {
        stats = fs.lstatSync(at);
      } catch {
        break; // missing: nothing below it exists either
      }
      const last = i === parts.length - 1;
      if (last || !stats.isDirectory()) return at;
    }
  }
  return undefined;
}

export interface InitResult {
  folder: string;
  template: string;
  /** Written, relative to the folder: image.yaml first. */
  files: string[];
  schema: string | undefined;
}

/** Writes the template's files into `folder` (created if missing); refuses if any is there already. */
export function init(folder: string, template: string = DEFAULT_TEMPLATE, root: string = packageRoot()): InitResult {
  if (!TEMPLATES.some((t) => t.name === template)) {
    throw new ImgforgeError('USAGE', `unknown template "${template}"; expected one of: ${TEMPLATES.map((t) => t.name).join(', ')}`);
  }
  const source = path.join(root, 'templates', template);
  const files = templateFiles(source);
  if (!files.includes(SPEC_FILE)) throw new ImgforgeError('USAGE', `the template folder ${source} has no ${SPEC_FILE}`);
  const target = path.resolve(folder);
  const existing = fs.existsSync(target) ? fs.statSync(target) : undefined;
  if (existing !== undefined && !existing.isDirectory()) throw new ImgforgeError('USAGE', `${folder} exists and is not a folder; nothing was written`);
  // The spec first: it is the file a second `init` in the same folder runs into.
  const ordered = [SPEC_FILE, ...files.filter((f) => f !== SPEC_FILE)];
  const conflict = firstConflict(target, ordered);
  if (conflict !== undefined) {
    throw new ImgforgeError('USAGE', `${path.relative(process.cwd(), conflict) || conflict} already exists; init overwrites nothing, so nothing was written (choose an empty folder)`);
  }

  const schema = schemaReference(target, root);
  // A template with a fixed diskId (rpi: cmdline.txt and fstab name the root by PARTUUID) gets a
  // new one, written into the spec and every file that names the old one, so they stay in step.
  const specSource = fs.readFileSync(path.join(source, SPEC_FILE), 'utf8');
  const oldDiskId = templateDiskId(specSource);
  const diskId = oldDiskId === undefined ? undefined : { from: oldDiskId, to: newDiskId(oldDiskId) };
  const created: string[] = [];
  try {
    if (existing === undefined) {
      fs.mkdirSync(target, { recursive: true });
      created.push(target);
    }
    for (const file of ordered) {
      const to = path.join(target, file);
      for (let dir = path.dirname(to); !fs.existsSync(dir); dir = path.dirname(dir)) created.push(dir);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      const original = file === SPEC_FILE ? Buffer.from(specText(specSource, schema, newSeed(target))) : fs.readFileSync(path.join(source, file));
      const data = diskId === undefined ? original : replaceDiskId(original, diskId.from, diskId.to);
      // 'wx': never replace a file that appeared since the check.
      fs.writeFileSync(to, data, { flag: 'wx' });
      created.push(to);
    }
  } catch (error) {
    for (const made of created.reverse()) fs.rmSync(made, { recursive: true, force: true });
    const cause = error as NodeJS.ErrnoException;
    throw new ImgforgeError('OUTPUT', `cannot write into ${folder}: ${describeFsError(cause)}; nothing was left behind`, { cause });
  }
  return { folder: target, template, files: ordered, schema };
}

/** What `imgforge init` prints: what it wrote and the commands to run next. */
export function describeInit(result: InitResult, folderArgument: string): string {
  const shown = path.relative(process.cwd(), result.folder) || '.';
  const inputs = [...new Set(result.files.filter((f) => f !== SPEC_FILE).map((f) => `${f.split(path.sep)[0]}/`))];
  const cd = shown === '.' ? [] : [`  cd ${/^[\w./-]+$/.test(folderArgument) ? folderArgument : JSON.stringify(folderArgument)}`];
  return [
    `wrote ${path.join(shown, SPEC_FILE)} (template ${result.template}) and its inputs ${inputs.join(', ')} (${result.files.length - 1} files)`,
    ...(result.schema !== undefined ? [`editors check it with the JSON Schema at ${result.schema}`] : []),
    'next:',
    ...cd,
    `  imgforge plan ${SPEC_FILE}`,
    `  imgforge build ${SPEC_FILE}                 # writes image.img`,
    `  imgforge verify ${SPEC_FILE} image.img`,
  ].join('\n');
}
