/**
 * Planning dm-verity: the size "auto" gives hash and signature partitions, and each hash
 * partition's parameters (salt and superblock UUID derived from the seed, the data blocks it
 * covers), and each signature partition's key and certificate, read and checked here so that a
 * wrong key stops the build before anything is written. Reads key files; writes nothing.
 */
import { createHmac, createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImgforgeError } from '../errors';
import { describeFsError } from '../fs-errors';
import { native, type VerityOptions } from '../native';
import { formatSize } from '../units';
import { deriveGuid, randomGuid } from './guid';
import type { LoadedSpec, Plan, SignatureInfo, VerityInfo } from '../types';

/** What systemd-repart reserves for a signature partition (VERITY_SIG_SIZE: 16 KiB); the JSON of a 4096-bit RSA signature is under 3 KiB. */
export const SIGNATURE_PARTITION_SIZE = 16 * 1024;
/** veritysetup's and systemd-repart's salt: 32 bytes. */
const SALT_BYTES = 32;

const fieldOf = (i: number, key: string) => `partitions[${i}].${key}`;

/** The indexes of a spec's hash partitions and their data partitions. */
function hashPartitions(spec: LoadedSpec): Array<{ hash: number; data: number }> {
  return spec.partitions.flatMap((p, hash) => {
    if (p.verity === undefined) return [];
    const data = spec.partitions.findIndex((q) => q.name === p.verity!.data);
    return data >= 0 ? [{ hash, data }] : [];
  });
}

export function verityOptions(info: Pick<VerityInfo, 'hashAlgorithm' | 'dataBlockSize' | 'hashBlockSize' | 'salt' | 'superblockUuid'>): VerityOptions {
  return { hashAlgorithm: info.hashAlgorithm, dataBlockSize: info.dataBlockSize, hashBlockSize: info.hashBlockSize, salt: info.salt, uuid: info.superblockUuid };
}

/**
 * The bytes hash and signature partitions need (for size "auto", and checked against an explicit
 * size), from the data partitions' sizes (`sizes`, by index: final, since a data partition is
 * never "grow"). The superblock's UUID does not change the size, so a placeholder stands in.
 */
export function verityNeeds(spec: LoadedSpec, sizes: readonly number[]): Map<number, number> {
  const needs = new Map<number, number>();
  for (const { hash, data } of hashPartitions(spec)) {
    const verity = spec.partitions[hash].verity!;
    const dataSize = sizes[data];
    if (dataSize % verity.dataBlockSize !== 0) {
      throw new ImgforgeError(
        'LAYOUT',
        `${fieldOf(hash, 'verity.dataBlockSize')}: the data partition ${JSON.stringify(verity.data)} is ${formatSize(dataSize)}, not a multiple of ${verity.dataBlockSize} bytes; give it a size that is`,
      );
    }
    const needed = native().verityHashAreaSize(dataSize, verityOptions({ ...verity, salt: '', superblockUuid: '00000000-0000-0000-0000-000000000000' }));
    const size = spec.partitions[hash].size;
    if (typeof size === 'number' && size < needed) {
      throw new ImgforgeError(
        'LAYOUT',
        `${fieldOf(hash, 'size')}: ${formatSize(size)} is too small for the hash tree of ${JSON.stringify(verity.data)} (${formatSize(dataSize)}): it needs ${formatSize(needed)}; use size "auto"`,
      );
    }
    needs.set(hash, needed);
  }
  spec.partitions.forEach((p, i) => {
    if (p.signature !== undefined) needs.set(i, SIGNATURE_PARTITION_SIZE);
  });
  return needs;
}

function saltFor(spec: LoadedSpec, name: string): string {
  if (spec.seed === undefined) return randomBytes(SALT_BYTES).toString('hex');
  return createHmac('sha256', spec.seed).update(`imgforge:verity-salt:${name}`, 'utf8').digest().subarray(0, SALT_BYTES).toString('hex');
}

/** The signing key and certificate of a signature partition, read and checked against each other. */
export interface SigningKey {
  key: KeyObject;
  certificatePath: string;
  keyPath: string;
  certificate: X509Certificate;
}

function readPem(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ImgforgeError('CONTENTS', `${field}: ${path}: ${describeFsError(error as NodeJS.ErrnoException)}`);
  }
}

export function readSigningKey(spec: LoadedSpec, i: number): SigningKey {
  const signature = spec.partitions[i].signature!;
  const keyField = fieldOf(i, 'signature.key');
  const certField = fieldOf(i, 'signature.certificate');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readPem(signature.certificate, certField));
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    throw new ImgforgeError('CONTENTS', `${certField}: ${signature.certificate} is not a PEM X.509 certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readPem(signature.key, keyField));
  } catch (error) {
    if (error instanceof ImgforgeError) throw error;
    const encrypted = /passphrase/i.test(String((error as Error).message));
    throw new ImgforgeError('CONTENTS', `${keyField}: ${signature.key} is not ${encrypted ? 'an unencrypted' : 'a'} PEM private key${encrypted ? ' (it is passphrase-protected)' : ''}`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new ImgforgeError('CONTENTS', `${keyField}: ${signature.key} is not the private key of ${certField} (${signature.certificate})`);
  }
  return { key, certificate, keyPath: signature.key, certificatePath: signature.certificate };
}

/** Lower-case hexadecimal SHA-256 of the certificate's DER form, as the DPS signature JSON has it. */
export function certificateFingerprint(certificate: X509Certificate): string {
  return certificate.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** What the build needs for verity: each hash partition's data partition, each signature's key. */
export interface VerityPlan {
  hashes: Array<{ hash: number; data: number; signature: number | undefined }>;
  signatures: Map<number, SigningKey>;
}

/**
 * Fills `layout.partitions[i].verity` and `.signature` and returns what the build needs.
 * Without verity keys in the spec it is empty and touches nothing.
 */
export function planVerity(spec: LoadedSpec, layout: Plan): VerityPlan {
  const signatures = new Map<number, SigningKey>();
  const pairs = hashPartitions(spec).map(({ hash, data }) => {
    const signature = spec.partitions.findIndex((p) => p.signature?.verity === spec.partitions[hash].name);
    return { hash, data, signature: signature >= 0 ? signature : undefined };
  });
  for (const { hash, data, signature } of pairs) {
    const p = spec.partitions[hash];
    const verity = p.verity!;
    const planned = layout.partitions[hash];
    const dataSize = layout.partitions[data].size;
    const superblockUuid = (spec.seed !== undefined ? deriveGuid(spec.seed, `imgforge:verity-uuid:${p.name}`) : randomGuid()).toLowerCase();
    const info: VerityInfo = {
      data: verity.data,
      ...(signature !== undefined ? { signature: spec.partitions[signature].name } : {}),
      salt: verity.salt ?? saltFor(spec, p.name),
      hashAlgorithm: verity.hashAlgorithm,
      dataBlockSize: verity.dataBlockSize,
      hashBlockSize: verity.hashBlockSize,
      dataBlocks: dataSize / verity.dataBlockSize,
      hashAreaSize: 0,
      superblockUuid,
      guidsFromRootHash: { data: layout.table !== 'mbr' && spec.partitions[data].guid === undefined, hash: layout.table !== 'mbr' && p.guid === undefined },
    };
    info.hashAreaSize = native().verityHashAreaSize(dataSize, verityOptions(info));
    planned.verity = info;
  }
  spec.partitions.forEach((p, i) => {
    if (p.signature === undefined) return;
    const key = readSigningKey(spec, i);
    signatures.set(i, key);
    const info: SignatureInfo = { verity: p.signature.verity, certificate: p.signature.certificate, certificateFingerprint: certificateFingerprint(key.certificate) };
    layout.partitions[i].signature = info;
  });
  return { hashes: pairs, signatures };
}
