/**
 * The outside tools a build runs (mkfs.ext4, debugfs, mksquashfs; openssl for verity signatures):
 * found on PATH and their versions checked before anything is written (they are run through
 * ts/tools.ts). A missing or too old tool is one line naming it and the package that brings it
 * on Debian, Fedora and Alpine.
 */
import { spawnSync } from 'node:child_process';
import { ImgforgeError } from '../errors';
import { compareVersions, findOnPath, installHint } from '../tools';

export type ToolName = 'mkfs.ext4' | 'debugfs' | 'mksquashfs' | 'openssl';

interface ToolInfo {
  /** The package that has it: its name on Debian, Fedora and Alpine alike. */
  package: string;
  versionArgs: string[];
  /** The version in the tool's -V / -version output. */
  versionPattern: RegExp;
  /** The oldest version with every option imgforge uses. */
  minimum: [number, number, number];
  /** What needs that version, for the message. */
  needs: string;
}

/** The tools, with what imgforge relies on in each. See README "ext4 and squashfs". */
export const TOOLS: Record<ToolName, ToolInfo> = {
  // 1.47.0: -E assume_storage_prezeroed and no_copy_xattrs; -d reads folders in sorted order.
  'mkfs.ext4': { package: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /mke2fs (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [1, 47, 0], needs: 'mkfs.ext4 -E assume_storage_prezeroed,no_copy_xattrs' },
  debugfs: { package: 'e2fsprogs', versionArgs: ['-V'], versionPattern: /debugfs (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [1, 47, 0], needs: 'debugfs set_inode_field on an image offset' },
  // 1.1.1: the oldest openssl that still has security support (smime -sign -binary -noattr is older).
  openssl: { package: 'openssl', versionArgs: ['version'], versionPattern: /OpenSSL (\d+)\.(\d+)\.(\d+)/, minimum: [1, 1, 1], needs: 'openssl smime -sign -binary -noattr' },
  // 4.5: -all-time, -mkfs-time and pseudo file "m" definitions; -reproducible is the default since 4.4.
  mksquashfs: { package: 'squashfs-tools', versionArgs: ['-version'], versionPattern: /mksquashfs version (\d+)\.(\d+)(?:\.(\d+))?/, minimum: [4, 5, 0], needs: 'mksquashfs -all-time -mkfs-time -pf' },
};

const checked = new Map<string, string>();

/**
 * The path of `name`, after checking its version; throws a TOOL error naming the tool, what
 * needs it (`field`) and the package to install.
 */
export function requireTool(name: ToolName, field: string): string {
  const info = TOOLS[name];
  const found = findOnPath(name);
  if (found === undefined) throw new ImgforgeError('TOOL', `${field}: ${name} was not found on PATH; ${installHint(info.package)}`);
  const known = checked.get(found);
  if (known !== undefined) return known;
  const run = spawnSync(found, info.versionArgs, { encoding: 'utf8' });
  const match = info.versionPattern.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  const version = match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
  const tooOld = version === undefined || compareVersions(version, info.minimum) < 0;
  if (tooOld) {
    const got = version === undefined ? 'its version could not be read' : `it is ${version.join('.')}`;
    throw new ImgforgeError('TOOL', `${field}: ${found} is too old (${got}); imgforge needs ${info.package} ${info.minimum.join('.')} or later for ${info.needs}; ${installHint(info.package)}`);
  }
  checked.set(found, found);
  return found;
}
