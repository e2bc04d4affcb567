/**
 * Writing an ext4 partition with mkfs.ext4 (e2fsprogs >= 1.47.0) straight into the image at the
 * partition's offset (`-E offset=`): no loop device, no copy. The tree is given to `-d` as the
 * source folder itself when the files list is one folder at "/", else staged as links
 * (crates/stage). mkfs.ext4 copies each inode's owner and times from what it reads, so a
 * debugfs pass then sets them as the spec says (ownership root: 0:0; SOURCE_DATE_EPOCH: every
 * time), offline, in the image: no root, no fakeroot.
 *
 * Reproducible: mkfs.ext4 reads a folder in sorted order (LC_ALL=C), imgforge gives it its own
 * mke2fs.conf (the host's cannot change the features), the UUID and directory hash seed derive
 * from the seed, E2FSPROGS_FAKE_TIME fixes the superblock's and inodes' creation times.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import type { CreatedNode } from '../native';
import type { Ext4Layout, Ext4Options } from '../plan/filesystem';
import { EXT4_BLOCK_SIZE, EXT4_INODE_SIZE } from '../plan/ext4-size';
import { requireTool } from './tools';
import { findOnPath, lastLine, runTool } from '../tools';
import type { Temporaries } from './staging';
import type { ToolTree } from '../native';

/**
 * The mke2fs.conf imgforge runs mkfs.ext4 with (MKE2FS_CONFIG), so the host's own cannot change
 * the filesystem: Debian 12's ext4 features, which kernels since 3.18 and GRUB 2.06 read.
 */
export const MKE2FS_CONF = `[defaults]
\tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
\tdefault_mntopts = acl,user_xattr
\tenable_periodic_fsck = 0
\tblocksize = ${EXT4_BLOCK_SIZE}
\tinode_size = ${EXT4_INODE_SIZE}
\tinode_ratio = 16384

[fs_types]
\text4 = {
\t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
\t}
\tdefault = {
\t}
`;

/** The folder mkfs.ext4 reads: the lone source folder at "/", else none (the tree is staged). */
export function directSource(files: ReadonlyArray<{ source: string; target: string }>): string | undefined {
  if (files.length !== 1 || files[0].target !== '/') return undefined;
  try {
    return fs.statSync(files[0].source).isDirectory() ? files[0].source : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the build needs debugfs for this ext4 (an owner or time to set after mkfs.ext4). */
export function needsFixUp(options: Ext4Options): boolean {
  const direct = directSource(options.files);
  return options.ownership === 'root' || options.timestamp !== undefined || direct === undefined || rootModeOf(direct) !== DEFAULT_ROOT_MODE;
}

/** The mode mkfs.ext4 -d gives the root folder whatever its source's (e2fsprogs 1.47.0 copies only the root's owner and times). */
const DEFAULT_ROOT_MODE = 0o755;

/** A folder's permission bits; unreadable: one that will not match, so the fix-up runs and the scan reports the problem. */
function rootModeOf(folder: string): number {
  try {
    return fs.statSync(folder).mode & 0o7777;
  } catch {
    return -1;
  }
}

/** Checks mkfs.ext4, dumpe2fs and (when needed) debugfs before anything is written. */
export function checkExt4Tools(field: string, options: Ext4Options): void {
  const mkfs = requireTool('mkfs.ext4', field);
  if (needsFixUp(options)) requireTool('debugfs', field);
  if (!fs.existsSync(path.join(path.dirname(mkfs), 'dumpe2fs')) && findOnPath('dumpe2fs') === undefined) {
    throw new ImgforgeError('TOOL', `${field}: dumpe2fs (e2fsprogs) was not found beside ${mkfs} or on PATH; install e2fsprogs`);
  }
}

/** mkfs.ext4's arguments for `layout` in the image `image`. */
export function mkfsArguments(layout: Ext4Layout, image: string, folder: string, zeroed: boolean): string[] {
  const { options } = layout;
  const extended = [
    `offset=${layout.offset}`,
    `hash_seed=${options.hashSeed.toLowerCase()}`,
    'nodiscard',
    'no_copy_xattrs',
    // A fresh image file reads as zeros: no need to write zeros over the inode tables and journal.
    zeroed ? 'assume_storage_prezeroed=1' : 'lazy_itable_init=0,lazy_journal_init=0',
  ];
  // -T default: not the usage type mke2fs would pick by size ("small", "floppy"), which this conf leaves undefined.
  const args = ['-t', 'ext4', '-T', 'default', '-F', '-q', '-b', String(EXT4_BLOCK_SIZE), '-I', String(EXT4_INODE_SIZE), '-N', String(layout.inodes), '-m', '0'];
  args.push('-J', `size=${(layout.journalBlocks * EXT4_BLOCK_SIZE) / 2 ** 20}`);
  args.push('-U', options.uuid.toLowerCase(), '-E', extended.join(','));
  if (options.label !== undefined) args.push('-L', options.label);
  args.push('-d', folder, image, String(layout.blocks));
  return args;
}

/** The used inodes of an ext4 as dumpe2fs lists them: every inode minus each group's free ranges. */
export function usedInodes(dumpe2fs: string): number[] {
  const perGroup = Number(/^Inodes per group:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  const count = Number(/^Inode count:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  if (!(perGroup > 0) || !(count > 0)) throw new Error('dumpe2fs gave no inode counts');
  const free = new Uint8Array(count + 1);
  for (const match of dumpe2fs.matchAll(/^\s+Free inodes:\s*(.*)$/gm)) {
    for (const range of match[1].split(',').map((r) => r.trim()).filter((r) => r !== '')) {
      const [first, last] = range.split('-').map(Number);
      for (let n = first; n <= (last ?? first); n++) free[n] = 1;
    }
  }
  const used: number[] = [];
  // Inode 2 is the root; 1 and 3 to 10 are reserved (no files); 11 on are the tree and lost+found.
  for (let n = 2; n <= count; n++) if (free[n] === 0 && (n === 2 || n >= 11)) used.push(n);
  return used;
}

/** A path as debugfs reads it: in double quotes, a quote doubled. */
export function debugfsPath(p: string): string {
  if (/[\n\r]/.test(p)) throw new ImgforgeError('CONTENTS', `${JSON.stringify(p)}: a name with a line break cannot keep its source owner (ownership: source); use ownership: root`);
  return `"${p.replace(/"/g, '""')}"`;
}

/** The debugfs commands that give inodes the spec's owners and times. */
export function fixUpScript(layout: Ext4Layout, used: readonly number[], created: readonly CreatedNode[], rootMode = DEFAULT_ROOT_MODE): string {
  const { ownership, timestamp } = layout.options;
  const lines: string[] = [];
  // Inode 2 is the root: it gets its source's mode (a leading 0 makes debugfs read octal).
  if (rootMode >= 0 && rootMode !== DEFAULT_ROOT_MODE) lines.push(`sif <2> mode 0${(0o040000 | rootMode).toString(8)}`);
  for (const ino of used) {
    if (ownership === 'root') lines.push(`sif <${ino}> uid 0`, `sif <${ino}> gid 0`);
    if (timestamp !== undefined) for (const field of ['atime', 'mtime', 'ctime', 'crtime']) lines.push(`sif <${ino}> ${field} @${timestamp}`);
  }
  if (ownership === 'source') {
    for (const node of created) lines.push(`sif ${debugfsPath(node.path)} uid ${node.uid}`, `sif ${debugfsPath(node.path)} gid ${node.gid}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * Makes the ext4 of `layout` in `image` at its offset: stage (unless the source is one folder),
 * mkfs.ext4, then the owner and time fix-up. Returns what was made (see builtFacts).
 */
export async function writeExt4(field: string, tree: ToolTree, layout: Ext4Layout, image: string, zeroed: boolean, temporaries: Temporaries, signal: AbortSignal | undefined): Promise<{ inodes: number; freeBytes: number }> {
  const mkfs = requireTool('mkfs.ext4', field);
  const privateFolder = temporaries.folder();
  const conf = path.join(privateFolder, 'mke2fs.conf');
  fs.writeFileSync(conf, MKE2FS_CONF, { mode: 0o600 });
  let folder = directSource(layout.options.files);
  let created: CreatedNode[] = [];
  if (folder === undefined) {
    folder = path.join(privateFolder, 'root');
    fs.mkdirSync(folder, { mode: 0o700 });
    try {
      created = tree.stage(folder).created;
    } catch (error) {
      throw new ImgforgeError('CONTENTS', `${field}.files: ${(error as Error).message}`);
    }
  }
  const env: Record<string, string> = { MKE2FS_CONFIG: conf, LC_ALL: 'C' };
  if (layout.options.timestamp !== undefined) env.E2FSPROGS_FAKE_TIME = String(layout.options.timestamp);
  const made = await runTool(mkfs, mkfsArguments(layout, image, folder, zeroed), { env, signal });
  if (made.status !== 0) throw toolFailure(field, 'mkfs.ext4', made);
  const fixed = path.resolve(image) + `?offset=${layout.offset}`;
  const dumpe2fs = path.join(path.dirname(mkfs), 'dumpe2fs');
  const dump = await runTool(fs.existsSync(dumpe2fs) ? dumpe2fs : 'dumpe2fs', [fixed], { env: { LC_ALL: 'C' }, signal });
  if (dump.status !== 0) throw toolFailure(field, 'dumpe2fs', dump);
  const script = fixUpScript(layout, usedInodes(dump.stdout), created, rootModeOf(folder));
  if (script !== '') {
    const debugfs = requireTool('debugfs', field);
    const file = path.join(privateFolder, 'fix-up.debugfs');
    fs.writeFileSync(file, script, { mode: 0o600 });
    const env = { LC_ALL: 'C', ...(layout.options.timestamp !== undefined ? { E2FSPROGS_FAKE_TIME: String(layout.options.timestamp) } : {}) };
    const run = await runTool(debugfs, ['-w', '-f', file, fixed], { env, signal });
    // debugfs exits 0 whatever its commands did: any line on stderr past its banner is a failure.
    const problems = run.stderr.split('\n').filter((l) => l.trim() !== '' && !/^debugfs \d/.test(l));
    if (run.status !== 0 || problems.length > 0) throw new ImgforgeError('IO', `${field}: debugfs could not set owners and times: ${problems[0] ?? lastLine(run)}`);
  }
  return builtFacts(dump.stdout);
}

/** What mkfs.ext4 made, from dumpe2fs's header: its inode count (rounded up to fill the inode tables) and free bytes. */
export function builtFacts(dumpe2fs: string): { inodes: number; freeBytes: number } {
  const number = (label: string) => Number(new RegExp(`^${label}:\\s+(\\d+)`, 'm').exec(dumpe2fs)?.[1] ?? NaN);
  return { inodes: number('Inode count'), freeBytes: number('Free blocks') * number('Block size') };
}

function toolFailure(field: string, tool: string, run: { stdout: string; stderr: string; status: number | null }): ImgforgeError {
  const line = lastLine(run);
  const full = /could not allocate|no space left|not enough space|Could not allocate block/i.test(`${run.stderr}${run.stdout}`);
  return new ImgforgeError(full ? 'LAYOUT' : 'IO', `${field}: ${tool} failed: ${line}${full ? '; make the partition larger or use size "auto"' : ''}`);
}
