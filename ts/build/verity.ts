/**
 * Writing hash and signature partitions, after every data partition is written and before the
 * partition tables: each data partition is read back once and hashed in Rust (imgforge_verity)
 * into its hash partition; the root hash then names the data and hash partitions' GUIDs (first
 * and last 128 bits, as systemd-repart does, so systemd finds them by root hash) and is signed
 * into the signature partition (the Discoverable Partitions Specification's JSON object).
 */
import { execFileSync } from 'node:child_process';
import { ImgforgeError } from '../errors';
import { requireTool } from './tools';
import { native } from '../native';
import { verityOptions, type SigningKey } from '../plan/verity';
import type { ImagePlan } from '../plan/plan';
import type { BuildOptions, Plan } from '../types';
import type { OutputTarget } from './output';
import type { DataRange } from './ranges';

/** A GUID from 16 bytes of a root hash (32 hex digits), in text order as systemd's id128 prints them. */
export function guidFromHex(hex: string): string {
  const h = hex.toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The detached PKCS#7 (DER) signature of `text`, made by the openssl tool as systemd-repart makes
 * it with PKCS7_sign(PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_BINARY): signer certificate included,
 * no signed attributes (so an RSA signature is reproducible). The key stays where it is: openssl
 * reads it by path.
 */
export function signDetached(text: string, key: SigningKey, field: string): Buffer {
  // Found and version-checked before anything is written (prepareToolFilesystems); here it is the same path.
  const openssl = requireTool('openssl', field);
  try {
    return execFileSync(openssl, ['smime', '-sign', '-binary', '-noattr', '-outform', 'DER', '-signer', key.certificatePath, '-inkey', key.keyPath], {
      input: text,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 1 << 20,
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new ImgforgeError('IO', `${field}: signing needs the openssl tool, which is not installed`);
    const detail = e.stderr?.toString().split('\n').find((line) => line.trim() !== '') ?? e.message;
    throw new ImgforgeError('IO', `${field}: openssl could not sign with ${key.keyPath}: ${detail.trim()}`);
  }
}

/** The signature partition's JSON (DPS; keys in systemd-repart's order), compact. */
export function signatureJson(rootHash: string, fingerprint: string, signature: Buffer): string {
  return JSON.stringify({ rootHash, certificateFingerprint: fingerprint, signature: signature.toString('base64') });
}

function checkGuidsUnique(layout: Plan): void {
  const seen = new Map<string, string>(layout.diskGuid !== undefined ? [[layout.diskGuid, 'diskGuid']] : []);
  layout.partitions.forEach((p, i) => {
    if (p.guid === undefined) return;
    const owner = seen.get(p.guid);
    if (owner !== undefined) throw new ImgforgeError('SPEC_INVALID', `partitions[${i}].guid: ${p.guid} (from the root hash) is also the GUID of ${owner}; set guid explicitly`);
    seen.set(p.guid, `partitions[${i}].guid`);
  });
}

/**
 * Hashes every data partition into its hash partition, then signs; updates the layout (root
 * hashes, GUIDs) and returns the image ranges written. Cancellation: the signal stops the hashing
 * between chunks.
 */
export async function writeVerity(target: OutputTarget, { layout, verity }: ImagePlan, options: BuildOptions): Promise<DataRange[]> {
  if (verity.hashes.length === 0 && verity.signatures.size === 0) return [];
  const binding = native();
  const progress = new binding.CopyProgress();
  const onAbort = () => progress.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const written: DataRange[] = [];
  // Bytes hashed across the tree: the data, then every level but the top one once more (the hash
  // area without its superblock block and the top block; no levels at all over one data block).
  const treeRead = (v: { dataBlocks: number; hashAreaSize: number; hashBlockSize: number }) => (v.dataBlocks > 1 ? v.hashAreaSize - 2 * v.hashBlockSize : 0);
  const bytesTotal = verity.hashes.reduce((sum, { hash, data }) => sum + layout.partitions[data].size + treeRead(layout.partitions[hash].verity!), 0);
  let partition: string | undefined;
  const report = () => options.onProgress?.({ phase: 'verity', bytesDone: Math.min(progress.bytes, bytesTotal), bytesTotal, ...(partition !== undefined ? { partition } : {}) });
  const timer = options.onProgress && verity.hashes.length > 0 ? setInterval(report, options.progressIntervalMs ?? 200) : undefined;
  try {
    for (const { hash, data } of verity.hashes) {
      partition = layout.partitions[hash].name;
      report();
      const info = layout.partitions[hash].verity!;
      const dataPartition = layout.partitions[data];
      const hashPartition = layout.partitions[hash];
      let tree;
      try {
        tree = await binding.verityFormat(
          target.writePath,
          { offset: dataPartition.offset, size: dataPartition.size },
          { offset: hashPartition.offset, size: hashPartition.size },
          verityOptions(info),
          progress,
        );
      } catch (error) {
        if (options.signal?.aborted) throw new ImgforgeError('ABORTED', 'build cancelled');
        throw new ImgforgeError('IO', `partitions[${hash}].verity: ${(error as Error).message}`, { cause: error });
      }
      info.rootHash = tree.rootHash;
      if (info.guidsFromRootHash.data) dataPartition.guid = guidFromHex(tree.rootHash.slice(0, 32));
      if (info.guidsFromRootHash.hash) hashPartition.guid = guidFromHex(tree.rootHash.slice(-32));
      written.push({ offset: hashPartition.offset, length: tree.hashAreaSize });
    }
    checkGuidsUnique(layout);
    for (const [i, key] of verity.signatures) {
      const partition = layout.partitions[i];
      const info = partition.signature!;
      const hashInfo = layout.partitions.find((p) => p.name === info.verity)?.verity;
      if (hashInfo?.rootHash === undefined) throw new ImgforgeError('SPEC_INVALID', `partitions[${i}].signature.verity: ${JSON.stringify(info.verity)} has no root hash`);
      const field = `partitions[${i}].signature`;
      const json = Buffer.from(signatureJson(hashInfo.rootHash, info.certificateFingerprint, signDetached(hashInfo.rootHash, key, `${field}.key`)), 'utf8');
      if (json.length > partition.size) {
        throw new ImgforgeError('LAYOUT', `${field}: the signature JSON is ${json.length} bytes, more than the partition's ${partition.size}; use size "auto"`);
      }
      // The rest of the partition must read as NUL bytes: a fresh file is zeros, a device is not.
      const padded = Buffer.alloc(target.zeroed ? json.length : Math.min(partition.size, 1 << 20));
      json.copy(padded);
      target.write(partition.offset, padded);
      for (let at = padded.length; !target.zeroed && at < partition.size; at += padded.length) {
        target.write(partition.offset + at, new Uint8Array(Math.min(padded.length, partition.size - at)));
      }
      written.push({ offset: partition.offset, length: target.zeroed ? json.length : partition.size });
    }
    if (timer !== undefined) report();
  } finally {
    if (timer !== undefined) clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  return written;
}
