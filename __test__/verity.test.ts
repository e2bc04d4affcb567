/**
 * dm-verity end to end: an EROFS root, its hash partition and its signature partition built by
 * imgforge, then checked by independent tools: veritysetup (verify, and format for a byte-for-byte
 * comparison of the hash partition), openssl (the signature and the certificate fingerprint),
 * sfdisk (GUIDs from the root hash) and sgdisk -v; a flipped byte in the data partition fails
 * veritysetup and `imgforge verify`; seeds make it reproducible; spec errors name their field.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from '../ts/build/build';
import { verify } from '../ts/inspect/verify';
import { parseSignaturePartition } from '../ts/inspect/verity';
import { parseSpec } from '../ts/spec/load';
import type { BuildResult, PlannedPartition } from '../ts/types';
import { imgforge } from './helpers/cli';
import { loopUnavailableReason } from './helpers/loop';
import { hasTool, sfdiskJson, sgdiskVerify, tempDir, writePatternFile } from './helpers/tools';

const missing = ['veritysetup', 'openssl', 'sfdisk', 'sgdisk'].filter((tool) => !hasTool(tool));
const needsTools = missing.length === 0 ? test : test.skip;
if (missing.length > 0) console.log(`verity tests skipped: ${missing.join(', ')} not installed (scripts/install-system-deps.sh installs them)`);

/** A folder with a root tree, a key and its certificate, and a spec using them. */
function fixture(options: { seed?: string; verity?: Record<string, unknown>; keyType?: 'rsa' | 'ec' } = {}): { dir: string; spec: string } {
  const dir = tempDir('imgforge-verity-');
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'appliance\n');
  writePatternFile(path.join(root, 'big'), 5 * 1024 * 1024 + 3, 7);
  const algorithm = options.keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...algorithm, '-nodes', '-keyout', path.join(dir, 'signing.key'), '-out', path.join(dir, 'signing.crt'), '-subj', '/CN=imgforge test', '-days', '30'], { stdio: 'ignore' });
  const doc = {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    partitions: [
      { name: 'esp', type: 'esp', size: '1MiB' },
      { name: 'root-a', type: 'root-x86-64', size: 'auto', filesystem: { type: 'erofs', files: [{ source: './rootfs', target: '/' }] } },
      { name: 'root-a-verity', type: 'root-x86-64-verity', size: 'auto', verity: { data: 'root-a', ...options.verity } },
      { name: 'root-a-verity-sig', type: 'root-x86-64-verity-sig', size: 'auto', signature: { verity: 'root-a-verity', key: './signing.key', certificate: './signing.crt' } },
    ],
  };
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify(doc));
  return { dir, spec };
}

function buildCli(spec: string, image: string): BuildResult {
  const run = imgforge(['build', spec, '-o', image, '--json']);
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as BuildResult;
}

function extract(image: string, p: PlannedPartition, out: string, length = p.size): string {
  const fd = fs.openSync(image, 'r');
  const buffer = Buffer.alloc(length);
  fs.readSync(fd, buffer, 0, length, p.offset);
  fs.closeSync(fd);
  fs.writeFileSync(out, buffer);
  return out;
}

const guidText = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`.toUpperCase();

needsTools('veritysetup verifies the built hash partition, which is byte-identical to veritysetup format; GUIDs are the root hash halves; the signature verifies', (t) => {
  const { dir, spec } = fixture({ seed: 'verity-1' });
  const image = path.join(dir, 'out', 'disk.img');
  fs.mkdirSync(path.dirname(image));
  const result = buildCli(spec, image);
  const [, data, hash, sig] = result.partitions;
  const v = hash.verity!;
  t.regex(v.rootHash!, /^[0-9a-f]{64}$/);
  t.like(v, { data: 'root-a', signature: 'root-a-verity-sig', hashAlgorithm: 'sha256', dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: data.size / 4096 });
  t.regex(v.salt, /^[0-9a-f]{64}$/);
  // Key files are inputs: nothing but the image lands in the output folder.
  t.deepEqual(fs.readdirSync(path.dirname(image)), ['disk.img']);

  // The table: sound, and the GUIDs systemd matches against the root hash.
  t.regex(sgdiskVerify(image), /No problems found/);
  const table = sfdiskJson(image);
  t.is(table.partitions[1].uuid, guidText(v.rootHash!.slice(0, 32)));
  t.is(table.partitions[2].uuid, guidText(v.rootHash!.slice(32)));

  // veritysetup reads the tree (superblock included) and accepts it.
  const dataFile = extract(image, data, path.join(dir, 'data.bin'));
  const hashFile = extract(image, hash, path.join(dir, 'hash.bin'));
  const ok = spawnSync('veritysetup', ['verify', dataFile, hashFile, v.rootHash!], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);

  // Byte-identical to veritysetup format with the same salt, UUID and block sizes, over the whole partition.
  const theirs = path.join(dir, 'theirs.bin');
  fs.writeFileSync(theirs, Buffer.alloc(hash.size));
  const format = execFileSync('veritysetup', ['format', '--salt', v.salt, '--uuid', v.superblockUuid, dataFile, theirs], { encoding: 'utf8' });
  t.regex(format, new RegExp(`Root hash:\\s+${v.rootHash}`));
  t.true(fs.readFileSync(theirs).equals(fs.readFileSync(hashFile)), 'hash partition differs from veritysetup format');

  // The signature partition: the DPS JSON, NUL-padded, and a signature openssl verifies.
  const sigBytes = fs.readFileSync(extract(image, sig, path.join(dir, 'sig.bin')));
  const json = parseSignaturePartition(sigBytes);
  if (typeof json === 'string') return t.fail(json);
  t.is(json.rootHash, v.rootHash!);
  const fingerprint = execFileSync('openssl', ['x509', '-in', path.join(dir, 'signing.crt'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  t.is(json.certificateFingerprint, fingerprint.split('=')[1].trim().replace(/:/g, '').toLowerCase());
  t.deepEqual(Object.keys(JSON.parse(sigBytes.subarray(0, sigBytes.indexOf(0)).toString())), ['rootHash', 'certificateFingerprint', 'signature']);
  fs.writeFileSync(path.join(dir, 'sig.der'), Buffer.from(json.signature, 'base64'));
  fs.writeFileSync(path.join(dir, 'roothash.txt'), v.rootHash!);
  const smime = spawnSync('openssl', ['smime', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'roothash.txt'), '-CAfile', path.join(dir, 'signing.crt'), '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
  t.is(smime.status, 0, smime.stderr);
  // Over another text, the same signature fails: the check can fail.
  fs.writeFileSync(path.join(dir, 'roothash.txt'), v.rootHash!.replace(/^./, (c: string) => (c === '0' ? '1' : '0')));
  t.not(spawnSync('openssl', ['smime', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'sig.der'), '-content', path.join(dir, 'roothash.txt'), '-CAfile', path.join(dir, 'signing.crt'), '-purpose', 'any', '-out', '/dev/null']).status, 0);

  // inspect recognises both partitions.
  const inspected = imgforge(['inspect', image, '--json']);
  const report = JSON.parse(inspected.stdout) as { partitions: Array<{ contents: Record<string, unknown> }> };
  t.like(report.partitions[2].contents, { type: 'verity-hash', uuid: v.superblockUuid, salt: v.salt, dataBlocks: v.dataBlocks });
  t.like(report.partitions[3].contents, { type: 'verity-signature', rootHash: v.rootHash, certificateFingerprint: json.certificateFingerprint });
  // imgforge verify accepts the image as built.
  const verified = imgforge(['verify', spec, image]);
  t.is(verified.status, 0, verified.stdout + verified.stderr);
});

needsTools('a flipped byte in the data partition fails veritysetup verify and imgforge verify', async (t) => {
  const { dir, spec } = fixture({ seed: 'verity-flip' });
  const image = path.join(dir, 'disk.img');
  const result = buildCli(spec, image);
  const [, data, hash] = result.partitions;
  // A byte in the middle of the data partition's used part.
  const at = data.offset + 2 * 1024 * 1024 + 17;
  const fd = fs.openSync(image, 'r+');
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  byte[0] ^= 0x01;
  fs.writeSync(fd, byte, 0, 1, at);
  fs.closeSync(fd);
  const dataFile = extract(image, data, path.join(dir, 'data.bin'));
  const hashFile = extract(image, hash, path.join(dir, 'hash.bin'));
  t.not(spawnSync('veritysetup', ['verify', dataFile, hashFile, hash.verity!.rootHash!]).status, 0);
  const report = await verify(spec, image);
  t.true(report.differences.some((d) => d.where === 'partitions[2].verity' && /hash tree does not match/.test(d.message)), JSON.stringify(report.differences));
  const cli = imgforge(['verify', spec, image]);
  t.is(cli.status, 1);
  t.regex(cli.stdout + cli.stderr, /partitions\[2\]\.verity: the hash tree does not match the data partition "root-a"/);
});

needsTools('imgforge verify notices a signature partition that signs another root hash', async (t) => {
  const { dir, spec } = fixture({ seed: 'verity-sig' });
  const image = path.join(dir, 'disk.img');
  const result = buildCli(spec, image);
  const sig = result.partitions[3];
  const bytes = Buffer.alloc(sig.size);
  const fd = fs.openSync(image, 'r+');
  fs.readSync(fd, bytes, 0, bytes.length, sig.offset);
  const text = bytes.subarray(0, bytes.indexOf(0)).toString();
  const other = text.replace(/"rootHash":"(.)/, (_m, c: string) => `"rootHash":"${c === 'a' ? 'b' : 'a'}`);
  fs.writeSync(fd, Buffer.from(other), 0, other.length, sig.offset);
  fs.closeSync(fd);
  const report = await verify(spec, image);
  const wheres = report.differences.map((d) => d.where);
  t.true(wheres.includes('partitions[3].signature.rootHash'), JSON.stringify(report.differences));
  t.true(wheres.includes('partitions[3].signature'), 'the signature no longer verifies over the changed root hash');
});

needsTools('reproducible with a seed (RSA); another seed changes salt, root hash and GUIDs; an EC key signs too', async (t) => {
  const { dir, spec } = fixture({ seed: 'same' });
  const a = await build(spec, { output: path.join(dir, 'a.img') });
  const b = await build(spec, { output: path.join(dir, 'b.img') });
  t.true(fs.readFileSync(path.join(dir, 'a.img')).equals(fs.readFileSync(path.join(dir, 'b.img'))), 'two builds with one seed differ');
  const doc = JSON.parse(fs.readFileSync(spec, 'utf8'));
  doc.seed = 'other';
  fs.writeFileSync(spec, JSON.stringify(doc));
  const c = await build(spec, { output: path.join(dir, 'c.img') });
  t.is(a.partitions[2].verity!.rootHash, b.partitions[2].verity!.rootHash);
  t.not(c.partitions[2].verity!.salt, a.partitions[2].verity!.salt);
  t.not(c.partitions[2].verity!.rootHash, a.partitions[2].verity!.rootHash);
  t.not(c.partitions[1].guid, a.partitions[1].guid);
  t.not(c.partitions[2].guid, a.partitions[2].guid);

  const ec = fixture({ seed: 'ec', keyType: 'ec', verity: { hashAlgorithm: 'sha512', hashBlockSize: 1024, salt: 'abcdef' } });
  const ecImage = path.join(ec.dir, 'disk.img');
  const built = await build(ec.spec, { output: ecImage });
  t.like(built.partitions[2].verity, { hashAlgorithm: 'sha512', hashBlockSize: 1024, salt: 'abcdef' });
  const report = await verify(ec.spec, ecImage);
  t.deepEqual(report.differences, []);
  const dataFile = extract(ecImage, built.partitions[1], path.join(ec.dir, 'data.bin'));
  const hashFile = extract(ecImage, built.partitions[2], path.join(ec.dir, 'hash.bin'));
  t.is(spawnSync('veritysetup', ['verify', dataFile, hashFile, built.partitions[2].verity!.rootHash!]).status, 0);
});

needsTools('explicit GUIDs are kept; without a signature partition the hash partition stands alone', async (t) => {
  const { dir, spec } = fixture({ seed: 'guids' });
  const doc = JSON.parse(fs.readFileSync(spec, 'utf8'));
  doc.partitions[1].guid = '11111111-2222-4333-8444-555555555555';
  doc.partitions.pop();
  fs.writeFileSync(spec, JSON.stringify(doc));
  const result = await build(spec, { output: path.join(dir, 'disk.img') });
  t.is(result.partitions[1].guid, '11111111-2222-4333-8444-555555555555');
  t.is(result.partitions[2].guid, guidText(result.partitions[2].verity!.rootHash!.slice(32)));
  t.is(result.partitions[2].verity!.signature, undefined);
  t.deepEqual((await verify(spec, path.join(dir, 'disk.img'))).differences, []);
});

function specProblems(partitions: unknown[]): string[] {
  try {
    parseSpec({ text: JSON.stringify({ partitions }), format: 'json', sourceName: 'spec.json', baseDir: '/' });
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').slice(1).map((line) => line.trim());
  }
}

const erofsRoot = { name: 'root-a', type: 'root-x86-64', size: '8MiB' };
const hashOf = (data: string, extra: Record<string, unknown> = {}) => ({ name: `${data}-verity`, type: 'root-x86-64-verity', size: 'auto', verity: { data }, ...extra });

test('spec errors name the field: unknown data partition, hashed twice, type pairing, hash of a hash, contents on a hash partition, bad values', (t) => {
  t.deepEqual(specProblems([erofsRoot, hashOf('nope')]), ['partitions[1].verity.data: no partition is named "nope"; expected the name of the data partition']);
  t.deepEqual(specProblems([erofsRoot, hashOf('root-a'), { ...hashOf('root-a'), name: 'again' }]), [
    'partitions[2].verity.data: partitions[0] ("root-a") is already hashed by partitions[1]; a data partition has one hash partition',
  ]);
  t.deepEqual(specProblems([erofsRoot, { ...hashOf('root-a'), type: 'usr-x86-64-verity' }]), [
    'partitions[1].type: the data partition "root-a" has type root-x86-64, so its hash partition must have type root-x86-64-verity; got usr-x86-64-verity',
  ]);
  t.deepEqual(specProblems([{ ...erofsRoot, type: 'linux-generic' }, hashOf('root-a')]), [
    'partitions[1].type: a root-x86-64-verity partition protects a root-x86-64 partition; the data partition "root-a" has type linux-generic',
  ]);
  t.regex(specProblems([erofsRoot, hashOf('root-a'), { name: 'h2', type: 'linux-generic', size: 'auto', verity: { data: 'root-a-verity' } }]).join('\n'), /partitions\[2\]\.verity\.data: partitions\[1\] \("root-a-verity"\) is itself a hash partition/);
  t.deepEqual(specProblems([erofsRoot, hashOf('root-a', { contents: './x.img' })]), ['partitions[1].contents: a verity hash partition is written by imgforge; it cannot have contents too']);
  t.deepEqual(specProblems([{ ...erofsRoot, size: 'grow' }, hashOf('root-a')]), [
    'partitions[1].verity.data: partitions[0] ("root-a") has size "grow"; a verity data partition needs a size known before it is hashed',
  ]);
  t.deepEqual(specProblems([erofsRoot, hashOf('root-a', { verity: { data: 'root-a', salt: 'xyz', hashAlgorithm: 'md5', dataBlockSize: 1000 } })]), [
    'partitions[1].verity.salt: expected an even number of hexadecimal digits (at most 256 bytes), or "-" for no salt, got "xyz"',
    'partitions[1].verity.hashAlgorithm: expected one of sha256, sha512, got "md5"',
    'partitions[1].verity.dataBlockSize: expected a power of two from 512 to 512 KiB, got 1000',
  ]);
  t.deepEqual(specProblems([erofsRoot, hashOf('root-a'), { name: 's', type: 'root-x86-64-verity-sig', size: 'auto', signature: { verity: 'root-a', key: 'k', certificate: 'c' } }]), [
    'partitions[2].type: a root-x86-64-verity-sig partition signs a root-x86-64-verity partition; "root-a" has type root-x86-64',
    'partitions[2].signature.verity: partitions[0] ("root-a") is no hash partition (it has no verity key)',
  ]);
  t.deepEqual(specProblems([erofsRoot, hashOf('root-a'), { name: 's', type: 'root-x86-64-verity-sig', size: 'auto', signature: { verity: 'root-a-verity' } }]), [
    'partitions[2].signature.key: required: the path of the PEM private key',
    'partitions[2].signature.certificate: required: the path of the PEM certificate',
  ]);
});

needsTools('a missing key, a key of another certificate and a hash partition too small: one line naming the field, exit 2, nothing written', (t) => {
  const { dir, spec } = fixture({ seed: 'keys' });
  const image = path.join(dir, 'disk.img');
  const doc = JSON.parse(fs.readFileSync(spec, 'utf8'));
  const cases: Array<{ change: (d: typeof doc) => void; message: RegExp }> = [
    { change: (d) => (d.partitions[3].signature.key = './nope.key'), message: /^imgforge: partitions\[3\]\.signature\.key: .*nope\.key: (no such file|not found)/im },
    {
      change: (d) => {
        execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(dir, 'other.key')], { stdio: 'ignore' });
        d.partitions[3].signature.key = './other.key';
      },
      message: /partitions\[3\]\.signature\.key: .*other\.key is not the private key of partitions\[3\]\.signature\.certificate/,
    },
    { change: (d) => (d.partitions[3].signature.certificate = './signing.key'), message: /partitions\[3\]\.signature\.certificate: .*signing\.key is not a PEM X\.509 certificate/ },
    { change: (d) => (d.partitions[2].size = '4KiB'), message: /partitions\[2\]\.size: 4 KiB is too small for the hash tree of "root-a"/ },
  ];
  for (const c of cases) {
    const changed = structuredClone(doc);
    c.change(changed);
    fs.writeFileSync(spec, JSON.stringify(changed));
    const run = imgforge(['build', spec, '-o', image]);
    t.is(run.status, 2, run.stderr);
    t.regex(run.stderr, c.message);
    t.is(run.stderr.trim().split('\n').length, 1, run.stderr);
    t.false(fs.existsSync(image));
  }
});

test('the signature partition reader takes any bytes: an object or a one-line reason, never an exception', (t) => {
  const valid = Buffer.alloc(1024);
  Buffer.from(JSON.stringify({ rootHash: 'ab'.repeat(32), certificateFingerprint: 'cd'.repeat(32), signature: 'TUlJ' })).copy(valid);
  t.like(parseSignaturePartition(valid), { rootHash: 'ab'.repeat(32), certificateFingerprint: 'cd'.repeat(32), signature: 'TUlJ' });
  t.is(parseSignaturePartition(Buffer.from('{"rootHash":"ab"}')), 'no NUL byte after the JSON in the first 17 bytes');
  t.is(parseSignaturePartition(Buffer.concat([Buffer.from('[1]'), Buffer.alloc(4)])), 'the JSON is not an object');
  const trailing = Buffer.from(valid);
  trailing[1000] = 1;
  t.is(parseSignaturePartition(trailing), 'bytes other than NUL after the JSON');
  // Deterministic mutations: flipped, dropped and inserted bytes.
  let state = 12345;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const end = valid.indexOf(0);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(valid);
    for (let k = 0; k < 1 + Math.floor(random() * 4); k++) bytes[Math.floor(random() * (end + 8))] = Math.floor(random() * 256);
    const parsed = parseSignaturePartition(bytes);
    if (typeof parsed === 'string') t.false(parsed.includes('\n'));
    else t.regex(parsed.rootHash, /^[0-9a-f]+$/);
  }
});

needsTools('the output cannot be the signing key or certificate', (t) => {
  const { dir, spec } = fixture({ seed: 'guard' });
  for (const file of ['signing.key', 'signing.crt']) {
    const before = fs.readFileSync(path.join(dir, file));
    const run = imgforge(['build', spec, '-o', path.join(dir, file), '--force']);
    t.is(run.status, 2, run.stderr);
    t.regex(run.stderr, new RegExp(`the output is partitions\\[3\\]\\.signature\\.${file.endsWith('key') ? 'key' : 'certificate'}`));
    t.true(fs.readFileSync(path.join(dir, file)).equals(before));
  }
});

test('systemd-dissect reads the hash partition (DM_verity_hash), the signature partition and reports the root as verity "signed"', (t) => {
  const reason = missing.length > 0 ? `${missing.join(', ')} not installed` : !hasTool('systemd-dissect') ? 'systemd-dissect is not installed (Debian: systemd-container)' : loopUnavailableReason();
  if (reason !== undefined) {
    t.log(`skipped: ${reason}`);
    t.pass();
    return;
  }
  const { dir, spec } = fixture({ seed: 'dissect' });
  const image = path.join(dir, 'disk.img');
  buildCli(spec, image);
  const report = JSON.parse(execFileSync('systemd-dissect', ['--json=short', image], { encoding: 'utf8' })) as {
    mounts: Array<{ designator: string; verity: string | null; fstype: string; partition_uuid: string }>;
  };
  const by = new Map(report.mounts.map((m) => [m.designator, m]));
  t.like(by.get('root'), { verity: 'signed', fstype: 'erofs' });
  t.like(by.get('root-verity'), { fstype: 'DM_verity_hash' });
  t.like(by.get('root-verity-sig'), { fstype: 'verity_hash_signature' });
});

needsTools('progress: a verity phase per hash partition, between the copies and the tables, ending at its total', async (t) => {
  const { dir, spec } = fixture({ seed: 'progress' });
  const events: Array<{ phase: string; bytesDone: number; bytesTotal: number; partition?: string }> = [];
  await build(spec, { output: path.join(dir, 'disk.img'), onProgress: (p) => events.push({ ...p }), progressIntervalMs: 1 });
  const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
  t.deepEqual(phases, ['copy', 'verity', 'tables', 'fsync', 'done']);
  const verity = events.filter((e) => e.phase === 'verity');
  t.true(verity.every((e) => e.partition === 'root-a-verity'));
  const last = verity[verity.length - 1];
  t.is(last.bytesDone, last.bytesTotal);
  t.true(last.bytesTotal > 6 * 1024 * 1024);
});

needsTools('cancelling while hashing stops the build with ABORTED and leaves no image', async (t) => {
  const { dir, spec } = fixture({ seed: 'abort' });
  const output = path.join(dir, 'disk.img');
  const controller = new AbortController();
  const error = await t.throwsAsync(
    build(spec, { output, signal: controller.signal, onProgress: (p) => p.phase === 'verity' && controller.abort() }),
  );
  t.is((error as { code?: string }).code, 'ABORTED');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('disk')), []);
});

needsTools('verify names a superblock field that differs from the spec, and a salt the seed gives', async (t) => {
  const { dir, spec } = fixture({ seed: 'fields' });
  const image = path.join(dir, 'disk.img');
  await build(spec, { output: image });
  const doc = JSON.parse(fs.readFileSync(spec, 'utf8'));
  doc.partitions[2].verity = { data: 'root-a', hashBlockSize: 1024, salt: '00ff' };
  fs.writeFileSync(spec, JSON.stringify(doc));
  const report = await verify(spec, image);
  const wheres = report.differences.map((d) => d.where);
  t.true(wheres.includes('partitions[2].verity.hashBlockSize'), JSON.stringify(report.differences));
  t.true(wheres.includes('partitions[2].verity.salt'), JSON.stringify(report.differences));
  t.false(wheres.includes('partitions[2].verity'), 'a tree of another shape is not compared block by block');
});

needsTools('without openssl on PATH: build and verify say so in one line naming the package, exit 2; the build writes nothing', (t) => {
  const { dir, spec } = fixture({ seed: 'no-openssl' });
  const image = path.join(dir, 'disk.img');
  const before = fs.readdirSync(dir).sort();
  const built = imgforge(['build', spec, '-o', image], { env: { PATH: '/nonexistent' } });
  t.is(built.status, 2, built.stderr);
  t.is(built.stderr.trim().split('\n').length, 1, built.stderr);
  t.regex(built.stderr, /partitions\[3\]\.signature: openssl was not found on PATH; install openssl \(Debian\/Ubuntu: apt-get install openssl/);
  t.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing written, no temporary left');
  buildCli(spec, image);
  const verified = imgforge(['verify', spec, image], { env: { PATH: '/nonexistent' } });
  t.is(verified.status, 2, verified.stdout + verified.stderr);
  t.regex(verified.stderr, /verify checks verity signatures with openssl, which was not found on PATH; install openssl/);
});

needsTools('on an MBR disk (table: mbr) the hash partition verifies too; the partitions have no GUIDs to derive', (t) => {
  const { dir, spec } = fixture({ seed: 'verity-mbr' });
  const doc = JSON.parse(fs.readFileSync(spec, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(spec, JSON.stringify({ ...doc, table: 'mbr' }));
  const image = path.join(dir, 'disk.img');
  const result = buildCli(spec, image);
  t.is(result.table, 'mbr');
  const [, data, hash] = result.partitions;
  t.is(data.guid, undefined);
  t.is(hash.guid, undefined);
  const table = sfdiskJson(image);
  t.is(table.label, 'dos');
  t.is(table.partitions[1].start * 512, data.offset, 'sfdisk puts the data partition where the build hashed it');
  const ok = spawnSync('veritysetup', ['verify', extract(image, data, path.join(dir, 'data.bin')), extract(image, hash, path.join(dir, 'hash.bin')), hash.verity!.rootHash!], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  const verified = imgforge(['verify', spec, image]);
  t.is(verified.status, 0, verified.stdout + verified.stderr);
});
