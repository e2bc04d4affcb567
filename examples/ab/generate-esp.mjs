#!/usr/bin/env node
// Generates the A/B example's ESP tree: a few thousand files with names of every kind (long,
// mixed case, non-ASCII, clashing in 8.3 form) and deterministic contents, so every run and
// every machine builds the same image. Usage: node generate-esp.mjs [folder] [--files N] [--mib M]
import { createCipheriv } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
};
const fileCount = option('--files', 3000);
const totalMiB = option('--mib', 300);
const root = resolve(args[0] ?? join(dirname(fileURLToPath(import.meta.url)), 'esp'));

// AES-CTR over zeros: fast, seedable pseudo-random bytes.
const stream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16));
const randomBytes = (n) => stream.update(Buffer.alloc(n));
let state = 0x9e3779b9;
const next = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};

const write = (path, bytes) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), bytes);
};

rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

// What a real ESP holds: a boot loader, two kernels (the A and B slots), loader entries.
const MiB = 1 << 20;
const big = Math.min(60 * MiB, Math.floor((totalMiB * MiB) / 5));
write('EFI/BOOT/BOOTX64.EFI', randomBytes(1_200_000));
write('EFI/systemd/systemd-bootx64.efi', randomBytes(110_000));
write('EFI/Linux/appliance-a.efi', randomBytes(big));
write('EFI/Linux/appliance-b.efi', randomBytes(Math.floor(big / 2) + 1));
write('loader/loader.conf', 'timeout 3\ndefault appliance-a.conf\n');
write('loader/entries/appliance-a.conf', 'title Appliance (A)\nefi /EFI/Linux/appliance-a.efi\n');
write('loader/entries/appliance-b.conf', 'title Appliance (B)\nefi /EFI/Linux/appliance-b.efi\n');
write('startup.nsh', 'FS0:\\EFI\\BOOT\\BOOTX64.EFI\n');

// The rest: firmware blobs and drivers, sized so the tree adds up to about totalMiB.
const stems = ['firmware', 'Firmware Update', 'résumé', 'ドライバ', 'long name with spaces', 'UPPER', 'mixedCase', 'a.b.c', 'Ωmega ΣΥΣ'];
const extensions = ['bin', 'efi', 'txt', 'json', 'conf', 'dat', ''];
let remaining = totalMiB * MiB - 1_200_000 - 110_000 - big - Math.floor(big / 2);
const rest = fileCount - 8;
for (let i = 0; i < rest; i++) {
  const stem = stems[i % stems.length];
  const ext = extensions[Math.floor(next() * extensions.length)];
  const folder = `vendor/${['intel', 'amd', 'Qualcomm Atheros', 'ÜberChip'][i % 4]}/${Math.floor(i / 250)}`;
  const name = `${stem}-${i}${ext ? `.${ext}` : ''}`;
  // Mostly small files, some exactly 4 KiB, one cluster and one byte more, a few large.
  const pick = next();
  const share = Math.max(0, remaining) / Math.max(1, rest - i);
  const size = pick < 0.1 ? 4096 : pick < 0.15 ? 4097 : pick < 0.25 ? 0 : Math.floor(share * 2 * next());
  remaining -= size;
  write(`${folder}/${name}`, randomBytes(size));
}
for (const empty of ['EFI/empty', 'loader/keys']) mkdirSync(join(root, empty), { recursive: true });
console.log(`wrote ${fileCount} files to ${root}`);
