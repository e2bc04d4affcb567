/** The read-back commands: `inspect` (what is in an image) and `verify` (is it what the spec builds). */
import type { Command } from 'commander';
import { inspect } from '../inspect/inspect';
import { verify } from '../inspect/verify';
import { formatInspect, formatVerify } from './inspect-format';
import { formatJson, jsonHelp, type JsonStyle } from './json';
import { terminalPicture } from './disk-bar';

/** Exit status when the image has problems (inspect) or differs from the spec (verify). */
const EXIT_FOUND = 1;

export function addInspectCommands(cli: Command, setExit: (code: number) => void, style: JsonStyle): void {
  cli
    .command('inspect')
    .description('show the partition table of an image or block device and what each partition holds')
    .argument('<image>', 'a disk image file or a block device (read only; no root or loop device needed)')
    .option('--json', jsonHelp('the report'))
    .option('--files [partition]', 'list the files of FAT32 and EROFS partitions: all, or one by entry number or name')
    .addHelpText(
      'after',
      `
It reads the protective or plain MBR, the primary and backup GPT (checking both CRCs and that the
backup matches), and recognises each partition's contents: FAT32 is read in full (label, volume
id, cluster size, used and free space, and with --files its tree), and so is EROFS (label, UUID,
block size, inodes, used bytes, and with --files its tree with modes, owners, link counts and
symlink targets; compressed files are listed, not read). ext2/3/4 and squashfs are summarised from
their superblocks (ext4: label, UUID, block size, used bytes, inodes, hash seed, features, clean
state; squashfs: version, compression, block size, size, inodes, flags), checked as the kernel
checks them before mounting; xfs, btrfs, swap and LUKS are named from their signatures.

Problems found (bad CRCs, a missing or different backup table, overlapping partitions, FAT chains
that loop, cross-link or disagree with file sizes, FATs that differ, a wrong free count; EROFS
inodes or data outside the filesystem, broken or unsorted directories, wrong link counts, a wrong
superblock checksum; ext4 and squashfs superblocks with impossible fields, a wrong crc32c, features
Linux does not mount, squashfs tables out of order) are listed as findings with a stable code, e.g. GPT_HEADER_CRC.

Examples:
  imgforge inspect disk.img
  imgforge inspect disk.img --files ESP
  imgforge inspect disk.img --files root-a       # an EROFS: like ls -l, with symlink targets
  imgforge inspect /dev/sdb --json

Exit status: 0 no problems found, 1 problems found, 2 the image cannot be read.`,
    )
    .action(async (image: string, flags: { json?: boolean; files?: boolean | string }) => {
      const report = await inspect(image, { files: flags.files });
      process.stdout.write(flags.json ? formatJson(report, style) : `${formatInspect(report, terminalPicture())}\n`);
      setExit(report.findings.length > 0 ? EXIT_FOUND : 0);
    });

  cli
    .command('verify')
    .description('check that an image is exactly what a spec builds')
    .argument('<spec>', 'the image spec (.yaml, .yml or .json)')
    .argument('<image>', 'the disk image file or block device to check')
    .option('--json', jsonHelp('the report'))
    .addHelpText(
      'after',
      `
The spec is planned as \`build\` would plan it (its inputs must be present), then the image is read
back and compared: disk size and sector size, the GPT (both copies valid, usable range), every
partition's entry number, name, type, range and attributes, GUIDs where the spec fixes them (a
seed or explicit GUIDs), raw contents byte for byte; for FAT32 filesystems the label, volume id
(when fixed), cluster size, the whole tree (names, folders, sizes) and every file's bytes (FAT
timestamps are not compared); for EROFS filesystems the size, UUID, label, the whole tree with
kinds, modes, owners, mtimes, link counts and hard links, xattrs, symlink targets and device
numbers, and every file's bytes; for ext4 and squashfs filesystems the superblock (checked as for
inspect; label, UUID and hash seed where fixed; compression), then the tree read back with debugfs
(e2fsprogs) or unsquashfs (squashfs-tools), read-only and without a mount, in a private temporary
folder removed afterwards: kinds, modes, owners, symlink targets, hard links and every file's bytes.

Example:
  imgforge verify examples/appliance/image.yaml appliance.img

Exit status: 0 the image matches, 1 differences found, 2 bad spec or unreadable image.`,
    )
    .action(async (spec: string, image: string, flags: { json?: boolean }) => {
      const report = await verify(spec, image);
      process.stdout.write(flags.json ? formatJson(report, style) : `${formatVerify(report)}\n`);
      setExit(report.differences.length > 0 ? EXIT_FOUND : 0);
    });
}
