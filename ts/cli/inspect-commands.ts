/** The read-back commands: `inspect` (what is in an image) and `verify` (is it what the spec builds). */
import type { Command } from 'commander';
import { inspect } from '../inspect/inspect';
import { verify } from '../inspect/verify';
import { formatInspect, formatVerify } from './inspect-format';

/** Exit status when the image has problems (inspect) or differs from the spec (verify). */
const EXIT_FOUND = 1;

export function addInspectCommands(cli: Command, setExit: (code: number) => void): void {
  cli
    .command('inspect')
    .description('show the partition table of an image or block device and what each partition holds')
    .argument('<image>', 'a disk image file or a block device (read only; no root or loop device needed)')
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--files [partition]', 'list the files of FAT32 partitions: all, or one by entry number or name')
    .addHelpText(
      'after',
      `
It reads the protective or plain MBR, the primary and backup GPT (checking both CRCs and that the
backup matches), and recognises each partition's contents: FAT32 is read in full (label, volume
id, cluster size, used and free space, and with --files its tree); ext2/3/4, erofs, squashfs, xfs,
btrfs, swap and LUKS are named from their signatures.

Problems found (bad CRCs, a missing or different backup table, overlapping partitions, FAT chains
that loop, cross-link or disagree with file sizes, FATs that differ, a wrong free count) are listed
as findings with a stable code, e.g. GPT_HEADER_CRC.

Examples:
  imgforge inspect disk.img
  imgforge inspect disk.img --files ESP
  imgforge inspect /dev/sdb --json

Exit status: 0 no problems found, 1 problems found, 2 the image cannot be read.`,
    )
    .action((image: string, flags: { json?: boolean; files?: boolean | string }) => {
      const report = inspect(image, { files: flags.files });
      process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatInspect(report)}\n`);
      setExit(report.findings.length > 0 ? EXIT_FOUND : 0);
    });

  cli
    .command('verify')
    .description('check that an image is exactly what a spec builds')
    .argument('<spec>', 'the image spec (.yaml, .yml or .json)')
    .argument('<image>', 'the disk image file or block device to check')
    .option('--json', 'print the report as one JSON object on stdout')
    .addHelpText(
      'after',
      `
The spec is planned as \`build\` would plan it (its inputs must be present), then the image is read
back and compared: disk size and sector size, the GPT (both copies valid, usable range), every
partition's entry number, name, type, range and attributes, GUIDs where the spec fixes them (a
seed or explicit GUIDs), raw contents byte for byte, and for FAT32 filesystems the label, volume id
(when fixed), cluster size, the whole tree (names, folders, sizes) and every file's bytes.
Timestamps are not compared.

Example:
  imgforge verify examples/appliance/image.yaml appliance.img

Exit status: 0 the image matches, 1 differences found, 2 bad spec or unreadable image.`,
    )
    .action(async (spec: string, image: string, flags: { json?: boolean }) => {
      const report = await verify(spec, image);
      process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatVerify(report)}\n`);
      setExit(report.differences.length > 0 ? EXIT_FOUND : 0);
    });
}
