// Command builders shared by the scenarios (scenarios.mjs, erofs.mjs): imgforge's own command and
// layout, and the shell steps the peers are made of.
import * as path from 'node:path';
import { quote, run } from './system.mjs';

export const yamlSpec = (lines) => `${lines.join('\n')}\n`;

/**
 * imgforge's layout for a spec: the reference every peer's partition table must match. `env` as
 * the build's: an EROFS's size depends on SOURCE_DATE_EPOCH (one time for all inodes lets them be
 * compact, 32 bytes instead of 64).
 */
export function planOf(ctx, spec, env = {}) {
  return JSON.parse(run([process.execPath, ctx.cli, 'plan', spec, '--json'], { env: { ...process.env, ...env } }));
}

export const partSize = (p) => (p.lastLba - p.firstLba + 1) * 512;

function sgdiskArgs(layout) {
  return layout.partitions
    .map((p) => `-n ${p.index}:${p.firstLba}:${p.lastLba} -t ${p.index}:${p.type} -c ${p.index}:${quote(p.name)}`)
    .join(' ');
}

export const durable = (script, out) => `${script} && sync ${quote(out)} ${quote(path.dirname(out))}`;
export const ddInto = (input, out, offset) => `dd if=${quote(input)} of=${quote(out)} bs=1M oflag=seek_bytes seek=${offset} conv=notrunc,sparse status=none`;
export const newGpt = (layout, out) => `truncate -s ${layout.diskSize} ${quote(out)} && sgdisk ${sgdiskArgs(layout)} ${quote(out)} >/dev/null`;

/**
 * newGpt with sfdisk: the same table, without sgdisk's `sync(); sleep(1)` after writing (gdisk's
 * DiskSync), a fixed second that would swamp a step that is not what the scenario compares.
 */
export function newGptSfdisk(layout, out) {
  const parts = layout.partitions.map((p) => `start=${p.firstLba}, size=${p.lastLba - p.firstLba + 1}, type=${p.type}, name=${JSON.stringify(p.name)}\n`);
  const script = `label: gpt\nfirst-lba: ${layout.firstUsableLba}\nlast-lba: ${layout.lastUsableLba}\n${parts.join('')}`;
  return `truncate -s ${layout.diskSize} ${quote(out)} && printf ${quote(script)} | sfdisk --quiet --no-reread --no-tell-kernel ${quote(out)}`;
}

/**
 * The imgforge CLI row: `node bin/imgforge.js build`, as users run it (Node start included).
 * --no-checksums: --json would otherwise hash the image, work no peer does.
 */
export function imgforgeTool(ctx, spec, mode = 'auto', name = 'imgforge', output = path.join(ctx.out, `imgforge-${mode}.img`), extra = []) {
  return { name, imgforge: true, output, argv: [process.execPath, ctx.cli, 'build', spec, '-o', output, '--json', '--no-checksums', '--quiet', '--copy', mode, ...extra] };
}
