/**
 * Reading verity partitions back: a hash partition's superblock, a signature partition's JSON
 * (both untrusted bytes: bounded, every field checked), and `verify`'s check of both against the
 * image's data partition: the tree recomputed from the data and compared block by block, the root
 * hash against the GUIDs and the signature, the signature checked with openssl.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImgforgeError } from '../errors';
import { findOnPath, installHint } from '../tools';
import { native, type VeritySuperblock } from '../native';
import type { ImagePlan } from '../plan/plan';
import { verityOptions } from '../plan/verity';
import type { Difference, LoadedSpec, VerityHashContents, VeritySignatureContents } from '../types';
import { readAt, unreadable, withImage, type ImageFile } from './image';

/** The most of a signature partition read: systemd reads the JSON from a partition of at most a few KiB too. */
export const MAX_SIGNATURE_JSON = 64 * 1024;

/** A signature partition's JSON object, as the DPS describes it. */
export interface SignatureJson {
  rootHash: string;
  certificateFingerprint?: string;
  /** Base64 DER PKCS#7. */
  signature: string;
}

/**
 * Parses the bytes of a signature partition: JSON text followed by NUL bytes only. Returns the
 * object or a one-line reason it is not one. Pure; bounded by the caller's read.
 */
export function parseSignaturePartition(bytes: Uint8Array): SignatureJson | string {
  const end = bytes.indexOf(0);
  const text = Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
  if (end < 0) return `no NUL byte after the JSON in the first ${bytes.length} bytes`;
  if (bytes.subarray(end).some((b) => b !== 0)) return 'bytes other than NUL after the JSON';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the partition does not start with a JSON object';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the JSON is not an object';
  const o = value as Record<string, unknown>;
  if (typeof o.rootHash !== 'string' || !/^(?:[0-9a-f]{2}){16,64}$/.test(o.rootHash)) return 'rootHash is not lower-case hexadecimal of 16 to 64 bytes';
  if (o.certificateFingerprint !== undefined && (typeof o.certificateFingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(o.certificateFingerprint))) {
    return 'certificateFingerprint is not 64 lower-case hexadecimal digits';
  }
  if (typeof o.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(o.signature)) return 'signature is not base64 text';
  return { rootHash: o.rootHash, ...(typeof o.certificateFingerprint === 'string' ? { certificateFingerprint: o.certificateFingerprint } : {}), signature: o.signature };
}

/**
 * The signature partition at `offset` (`size` bytes) of the image: its first MAX_SIGNATURE_JSON
 * bytes at most (the JSON and the NUL bytes after it that were read), whatever the partition's size.
 */
export function readSignaturePartition(image: ImageFile, offset: number, size: number): SignatureJson | string {
  return withImage(image, (fd) => parseSignaturePartition(readAt(fd, offset, Math.min(size, MAX_SIGNATURE_JSON))));
}

export function readSuperblock(image: ImageFile, offset: number): VeritySuperblock | null | string {
  try {
    return native().readVeritySuperblock(image.path, offset);
  } catch (error) {
    if ((error as { code?: string }).code === 'GenericFailure' && /verity superblock/.test((error as Error).message)) return (error as Error).message;
    throw unreadable(image.path, error);
  }
}

/** `openssl smime -verify` of a detached DER signature over `text` against a certificate; undefined when it verifies, else its reason. */
export function checkSignature(text: string, signatureBase64: string, certificatePath: string): string | undefined {
  const openssl = findOnPath('openssl');
  if (openssl === undefined) throw new ImgforgeError('TOOL', `verify checks verity signatures with openssl, which was not found on PATH; ${installHint('openssl')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgforge-verity-'));
  try {
    fs.writeFileSync(path.join(dir, 'signature.der'), Buffer.from(signatureBase64, 'base64'));
    fs.writeFileSync(path.join(dir, 'roothash.txt'), text);
    execFileSync(
      openssl,
      ['smime', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'signature.der'), '-content', path.join(dir, 'roothash.txt'), '-CAfile', certificatePath, '-purpose', 'any', '-out', '/dev/null'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return undefined;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    const line = e.stderr?.toString().split('\n').find((l) => l.trim() !== '' && !/^Verification/.test(l)) ?? e.message;
    return `the signature does not verify against ${certificatePath}: ${line.trim()}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * verify: every hash partition's superblock against the plan, its tree recomputed from the
 * image's data partition, the GUIDs the root hash names, and the signature partition.
 */
export async function compareVerity(spec: LoadedSpec, { layout, verity }: ImagePlan, image: ImageFile, actualGuids: ReadonlyMap<number, string | undefined>, out: Difference[]): Promise<number> {
  let compared = 0;
  for (const { hash, data, signature } of verity.hashes) {
    const where = `partitions[${hash}].verity`;
    const planned = layout.partitions[hash].verity!;
    const hashPartition = layout.partitions[hash];
    const dataPartition = layout.partitions[data];
    const superblock = readSuperblock(image, hashPartition.offset);
    if (superblock === null || typeof superblock === 'string') {
      out.push({ where, message: superblock ?? 'the hash partition holds no verity superblock' });
      continue;
    }
    const differs = (field: string, actual: unknown, wanted: unknown): boolean => {
      if (actual === wanted) return false;
      out.push({ where: `${where}.${field}`, message: `the image has ${JSON.stringify(actual)}; the spec gives ${JSON.stringify(wanted)}` });
      return true;
    };
    // A tree of another shape cannot be compared block by block: its differences are these fields.
    const shapes = [
      differs('hashAlgorithm', superblock.hashAlgorithm, planned.hashAlgorithm),
      differs('dataBlockSize', superblock.dataBlockSize, planned.dataBlockSize),
      differs('hashBlockSize', superblock.hashBlockSize, planned.hashBlockSize),
      differs('dataBlocks', superblock.dataBlocks, planned.dataBlocks),
    ];
    // The salt and superblock UUID are the spec's only when given or derived from the seed; the
    // tree is recomputed with the image's own.
    const verityKeys = spec.partitions[hash].verity!;
    if (spec.seed !== undefined || verityKeys.salt !== undefined) differs('salt', superblock.salt, planned.salt);
    if (spec.seed !== undefined) differs('superblockUuid', superblock.uuid, planned.superblockUuid);
    if (shapes.some(Boolean)) continue;
    let tree;
    try {
      tree = await native().verityVerify(
        image.path,
        { offset: dataPartition.offset, size: dataPartition.size },
        { offset: hashPartition.offset, size: hashPartition.size },
        verityOptions({ ...planned, salt: superblock.salt, superblockUuid: superblock.uuid }),
      );
    } catch (error) {
      throw unreadable(image.path, error);
    }
    compared += dataPartition.size;
    if (tree.mismatch) out.push({ where, message: `the hash tree does not match the data partition ${JSON.stringify(dataPartition.name)}: ${tree.mismatch}` });
    const half = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`.toUpperCase();
    if (planned.guidsFromRootHash.data && actualGuids.get(data) !== half(tree.rootHash.slice(0, 32))) {
      out.push({ where: `partitions[${data}].guid`, message: `the image has ${actualGuids.get(data)}; the root hash of the data gives ${half(tree.rootHash.slice(0, 32))}` });
    }
    if (planned.guidsFromRootHash.hash && actualGuids.get(hash) !== half(tree.rootHash.slice(-32))) {
      out.push({ where: `partitions[${hash}].guid`, message: `the image has ${actualGuids.get(hash)}; the root hash of the data gives ${half(tree.rootHash.slice(-32))}` });
    }
    if (signature === undefined) continue;
    const sigWhere = `partitions[${signature}].signature`;
    const sigPartition = layout.partitions[signature];
    const found = readSignaturePartition(image, sigPartition.offset, sigPartition.size);
    if (typeof found === 'string') {
      out.push({ where: sigWhere, message: found });
      continue;
    }
    if (found.rootHash !== tree.rootHash) out.push({ where: `${sigWhere}.rootHash`, message: `the image has ${found.rootHash}; the data partition's root hash is ${tree.rootHash}` });
    const fingerprint = sigPartition.signature!.certificateFingerprint;
    if (found.certificateFingerprint !== fingerprint) {
      out.push({ where: `${sigWhere}.certificateFingerprint`, message: `the image has ${found.certificateFingerprint ?? 'none'}; the spec's certificate has ${fingerprint}` });
    }
    const problem = checkSignature(found.rootHash, found.signature, sigPartition.signature!.certificate);
    if (problem !== undefined) out.push({ where: sigWhere, message: problem });
  }
  return compared;
}

/**
 * inspect: a verity hash partition (its superblock) or signature partition (its JSON) from a
 * partition's first bytes; undefined for anything else, and for a damaged superblock (which
 * then reads as unknown contents).
 */
export function verityContents(head: Buffer): VerityHashContents | VeritySignatureContents | undefined {
  if (head.length > 0 && head[0] === 0x7b /* { */) {
    const signature = parseSignaturePartition(head);
    if (typeof signature !== 'string') return { type: 'verity-signature', rootHash: signature.rootHash, certificateFingerprint: signature.certificateFingerprint };
  }
  let superblock: VeritySuperblock | null;
  try {
    superblock = native().decodeVeritySuperblock(head);
  } catch {
    return undefined;
  }
  return superblock === null ? undefined : { type: 'verity-hash', ...superblock };
}
