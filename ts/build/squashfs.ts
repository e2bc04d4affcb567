/**
 * Making a squashfs partition with mksquashfs (squashfs-tools >= 4.5). Its size is only known
 * once it is made, so the build makes it before laying the disk out, into a private file beside
 * the output, and the copy engine then copies it into its partition (sharing its blocks on XFS
 * and btrfs). The tree is the lone source folder when the files list is one folder at "/", else
 * staged as links (crates/stage).
 *
 * Reproducible: -reproducible (mksquashfs's default, named anyway), files sorted, and with
 * SOURCE_DATE_EPOCH every time (-all-time) and the superblock's (-mkfs-time) fixed. Extended
 * attributes are not stored (-no-xattrs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import type { ScannedSquashfs, SquashfsOptions } from '../plan/filesystem';
import type { CreatedNode } from '../native';
import { directSource } from './ext4';
import { requireTool } from './tools';
import { lastLine, runTool } from '../tools';
import type { Temporaries } from './staging';

/** mksquashfs's compression options: "none" leaves inodes, data, fragments and xattrs as they are. */
export function compressionArguments(compression: SquashfsOptions['compression']): string[] {
  return compression === 'none' ? ['-noI', '-noD', '-noF', '-noX'] : ['-comp', compression];
}

/** A path in a pseudo file: relative to the root, every character but letters and digits escaped. */
function pseudoPath(p: string): string {
  if (/[\n\r]/.test(p)) throw new ImgforgeError('CONTENTS', `${JSON.stringify(p)}: a name with a line break cannot keep its source owner (ownership: source); use ownership: root`);
  const relative = p === '/' ? '/' : p.replace(/^\//, '');
  return relative.replace(/[^A-Za-z0-9/._-]/g, (c) => `\\${c}`);
}

/** Pseudo file lines ("m": change mode, uid and gid) giving staged nodes their sources' owners. */
export function ownershipPseudoFile(created: readonly CreatedNode[], root: string): string {
  return created
    .filter((node) => node.path !== '/')
    .map((node) => {
      const mode = fs.lstatSync(path.join(root, node.path)).mode & 0o7777;
      return `${pseudoPath(node.path)} m ${mode.toString(8).padStart(4, '0')} ${node.uid} ${node.gid}\n`;
    })
    .join('');
}

/**
 * mksquashfs's arguments. `owners`, for a staged tree kept with its sources' owners: a pseudo
 * file for the nodes staging made, and the root's owner (pseudo files cannot name the root).
 */
export function mksquashfsArguments(options: SquashfsOptions, folder: string, output: string, owners: { pseudoFile: string; root?: CreatedNode } | undefined): string[] {
  const args = [folder, output, '-noappend', '-quiet', '-no-progress', '-no-xattrs', '-reproducible', ...compressionArguments(options.compression)];
  if (options.ownership === 'root') args.push('-all-root');
  if (options.timestamp !== undefined) args.push('-all-time', String(options.timestamp), '-mkfs-time', String(options.timestamp));
  if (owners !== undefined) {
    args.push('-pf', owners.pseudoFile);
    if (owners.root !== undefined) args.push('-root-uid', String(owners.root.uid), '-root-gid', String(owners.root.gid));
  }
  return args;
}

/** Makes the squashfs of `scanned` into a temporary file and records it (and its size) there. */
export async function makeSquashfs(field: string, scanned: ScannedSquashfs, temporaries: Temporaries, signal: AbortSignal | undefined): Promise<void> {
  const mksquashfs = requireTool('mksquashfs', field);
  let folder = directSource(scanned.options.files);
  let owners: { pseudoFile: string; root?: CreatedNode } | undefined;
  if (folder === undefined) {
    const privateFolder = temporaries.folder();
    folder = path.join(privateFolder, 'root');
    fs.mkdirSync(folder, { mode: 0o700 });
    let created: CreatedNode[];
    try {
      created = scanned.tree.stage(folder).created;
    } catch (error) {
      throw new ImgforgeError('CONTENTS', `${field}.files: ${(error as Error).message}`);
    }
    if (scanned.options.ownership === 'source' && created.length > 0) {
      const pseudoFile = path.join(privateFolder, 'owners.pseudo');
      fs.writeFileSync(pseudoFile, ownershipPseudoFile(created, folder), { mode: 0o600 });
      owners = { pseudoFile, root: created.find((node) => node.path === '/') };
    }
  }
  const output = temporaries.file();
  const run = await runTool(mksquashfs, mksquashfsArguments(scanned.options, folder, output, owners), {
    env: { LC_ALL: 'C' },
    // mksquashfs refuses SOURCE_DATE_EPOCH beside -all-time; imgforge passes its value as options.
    unset: ['SOURCE_DATE_EPOCH'],
    signal,
  });
  if (run.status !== 0) throw new ImgforgeError('IO', `${field}: mksquashfs failed: ${lastLine(run)}`);
  scanned.image = { path: output, size: fs.statSync(output).size };
}
