// Bad input, fuzzed: thousands of mutated inputs derived from the fixture files
// go to every parser (Certificate, parsePemBlocks, key parsing, parseCsr,
// parseKubeconfig, the fast scan) and to readInventory on a temp tree. Every
// failure must be the parser's own error class with a clear one-line message
// (no TypeError from deep inside, no stack trace in the message), and
// readInventory must report a broken file as a finding while still reporting
// the rest of the node. A seeded PRNG makes every failure reproducible: the
// assertion message carries the seed and iteration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks, PemError, type PemBlock } from '../src/pki/pem.js';
import { parsePrivateKeyBlock, parsePrivateKeyDer, parsePublicKeyBlock, KeyError, PRIVATE_KEY_LABELS } from '../src/pki/keys.js';
import { parseCsr } from '../src/pki/csr.js';
import { createCsr, nameDer, subjectAltNameExt, generalNameDer, oidDer } from '../src/pki/sign.js';
import { DerError, tlv } from '../src/pki/der.js';
import { makeCa, makeLeaf } from './support/trees.js';
import { parseKubeconfig, KubeconfigError } from '../src/kubeconfig/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { scanBuffer, scanCertificates, fastRecord, record, plainRecord, CertRecord, defaultWorkers, type ScanProblem, type ScanRecord } from '../src/inventory/scan.js';
import { copyFixture, FIXTURES, NOW } from './support/fixtures.js';

const SEED = Number(process.env.KUBEPKI_FUZZ_SEED ?? 0x6b756265);
const ROUNDS = Number(process.env.KUBEPKI_FUZZ_ROUNDS ?? 1500);

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) { this.next = prng(seed); }
  int(n: number): number { return Math.floor(this.next() * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  bytes(n: number): Buffer { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = this.int(256); return b; }
}

// ---------------------------------------------------------------- corpus

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...filesUnder(p));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

const allFixtureFiles = ['kubeadm-1.26', 'kubeadm-1.26-expired', 'rke1-expired'].flatMap((t) => filesUnder(path.join(FIXTURES, t)));
const pemTexts = allFixtureFiles.filter((f) => /\.(crt|pem|key|pub)$/.test(f)).map((f) => fs.readFileSync(f, 'latin1')).filter((t) => t.includes('-----BEGIN '));
const kubeconfigTexts = allFixtureFiles.filter((f) => /\.(conf|ya?ml)$/.test(f)).map((f) => fs.readFileSync(f, 'utf8')).filter((t) => /^users:/m.test(t));
const blocks: PemBlock[] = pemTexts.flatMap((t) => parsePemBlocks(t));
const certDers = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => Buffer.from(b.der));
const keyBlocks = blocks.filter((b) => b.label in PRIVATE_KEY_LABELS);
const pubBlocks = blocks.filter((b) => b.label === 'PUBLIC KEY');

async function csrDers(): Promise<Buffer[]> {
  const key = createPrivateKey(keyBlocks.find((b) => b.label === 'EC PRIVATE KEY')
    ? { key: Buffer.from(keyBlocks.find((b) => b.label === 'EC PRIVATE KEY')!.der), format: 'der', type: 'sec1' }
    : { key: Buffer.from(keyBlocks[0]!.der), format: 'der', type: 'pkcs1' });
  const csr = await createCsr({
    subjectDer: nameDer([{ type: 'O', value: 'system:nodes' }, { type: 'CN', value: 'system:node:fuzz' }]),
    key,
    extensions: [subjectAltNameExt([{ type: 'dns', value: 'fuzz.example' }, { type: 'ip', value: '10.0.0.7' }])],
  });
  return [Buffer.from(csr)];
}

// ---------------------------------------------------------------- mutations

/** Offsets of DER headers (tag + length) found by walking the TLV tree. */
function tlvHeaders(der: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let p = start;
    while (p + 2 <= end && depth < 12) {
      out.push(p);
      const tag = der[p]!;
      let len = der[p + 1]!;
      let q = p + 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 4 || q + n > end) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[q + i]!;
        q += n;
      }
      if (q + len > end) return;
      if (tag & 0x20) walk(q, q + len, depth + 1);
      else if (tag === 0x04 || tag === 0x03) walk(tag === 0x03 ? q + 1 : q, q + len, depth + 1);
      p = q + len;
    }
  };
  walk(0, der.length, 0);
  return out;
}

function mutateBytes(r: Rng, input: Uint8Array): Buffer {
  const b = Buffer.from(input);
  switch (r.int(8)) {
    case 0: { // bit flips
      const n = 1 + r.int(4);
      for (let i = 0; i < n && b.length; i++) { const p = r.int(b.length); b[p]! ^= 1 << r.int(8); }
      return b;
    }
    case 1: // truncation
      return b.subarray(0, r.int(b.length));
    case 2: { // length-field corruption
      const heads = tlvHeaders(b);
      if (!heads.length) return b;
      const h = r.pick(heads);
      const choice = r.int(4);
      if (choice === 0) b[h + 1] = r.int(256);
      else if (choice === 1) b[h + 1] = 0x80 | (1 + r.int(6));
      else if (choice === 2) b[h + 1] = 0x84; // 4-byte length reading into the content
      else b[h] = r.int(256); // tag
      return b;
    }
    case 3: // random bytes, sometimes looking like a SEQUENCE
      return Buffer.concat([Buffer.from(r.int(2) ? [0x30, 0x82, r.int(256), r.int(256)] : []), r.bytes(r.int(600))]);
    case 4: { // splice a random run
      const p = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, p), r.bytes(1 + r.int(16)), b.subarray(p + r.int(16))]);
    }
    case 5: { // zero a run
      const p = r.int(b.length + 1);
      b.fill(0, p, Math.min(b.length, p + 1 + r.int(32)));
      return b;
    }
    case 6: // extra trailing bytes
      return Buffer.concat([b, r.bytes(1 + r.int(8))]);
    default: { // set one byte to a boundary value
      if (b.length) b[r.int(b.length)] = r.pick([0x00, 0x7f, 0x80, 0x81, 0x84, 0xff]);
      return b;
    }
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function mutatePem(r: Rng, text: string): string {
  switch (r.int(8)) {
    case 0: { // bad base64 in the body
      const lines = text.split('\n');
      const i = 1 + r.int(Math.max(1, lines.length - 2));
      const l = lines[i] ?? '';
      const p = r.int(l.length + 1);
      lines[i] = l.slice(0, p) + r.pick(['*', '!', ' ', '\t', '=', '==', '-', 'é', '\u0000', '====']) + l.slice(p);
      return lines.join('\n');
    }
    case 1: // no END line
      return text.replace(/-----END [A-Z0-9 ]+-----\s*$/, '');
    case 2: // truncated anywhere
      return text.slice(0, r.int(text.length));
    case 3: { // body re-encoded from mutated DER (valid base64, broken content)
      return text.replace(/(-----BEGIN ([A-Z0-9 ]+)-----\n)([\s\S]*?)(\n-----END \2-----)/, (_m, begin: string, _l: string, body: string, end: string) => {
        const der = mutateBytes(r, Buffer.from(body, 'base64'));
        return begin + (der.toString('base64').match(/.{1,64}/g) ?? ['']).join('\n') + end;
      });
    }
    case 4: // mismatched END label
      return text.replace(/-----END ([A-Z ]+)-----/, '-----END SOMETHING ELSE-----');
    case 5: // CRLF line ends and a header line
      return text.replace(/\n/g, '\r\n').replace(/-----\r\n/, `-----\r\nProc-Type: 4,${r.pick(['ENCRYPTED', 'NONE'])}\r\n\r\n`);
    case 6: { // random base64 chars
      let s = '';
      for (let i = r.int(200); i > 0; i--) s += B64[r.int(64)];
      return `-----BEGIN ${r.pick(['CERTIFICATE', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY', 'PUBLIC KEY', 'CERTIFICATE REQUEST'])}-----\n${s}\n-----END ${'CERTIFICATE'}-----\n`;
    }
    default: { // single-character edits anywhere
      const chars = text.split('');
      for (let n = 1 + r.int(3); n > 0; n--) chars[r.int(chars.length)] = String.fromCharCode(r.int(128));
      return chars.join('');
    }
  }
}

function mutateYaml(r: Rng, text: string): string {
  switch (r.int(9)) {
    case 0: // bad base64 in a *-data field
      return text.replace(/((?:certificate-authority|client-certificate|client-key)-data: )(\S+)/, (_m, k: string, v: string) => k + v.slice(0, r.int(v.length)) + r.pick(['*', '!!', ' %', '@@', '']));
    case 1: // valid base64, garbage inside
      return text.replace(/((?:certificate-authority|client-certificate|client-key)-data: )(\S+)/, (_m, k: string) => k + r.bytes(1 + r.int(300)).toString('base64'));
    case 2: // YAML that is not a kubeconfig
      return r.pick(['- just\n- a\n- list\n', 'just a string\n', 'kind: Pod\nspec: {}\n', '{}', 'clusters: 5\nusers: "x"\n', 'users:\n  - 1\n  - null\n  - [a]\n', 'clusters:\n- name: x\n  cluster: 7\nusers:\n- user: "s"\n']);
    case 3: // broken YAML syntax
      return text.replace(/\n/, r.pick(['\n\t- : [\n', '\n  }}}\n', '\n: : :\n', '\n&a *a\n', '\n- *undefined\n']));
    case 4: // truncated
      return text.slice(0, r.int(text.length));
    case 5: // wrong types where strings are expected
      return text.replace(/(server|client-certificate-data|certificate-authority-data|name): \S+/, (_m, k: string) => `${k}: ${r.pick(['[1, 2]', '{a: b}', '123', 'null', 'true', '!!binary AAAA'])}`);
    case 6: // indentation damage
      return text.split('\n').map((l) => (r.int(6) === 0 ? l.trimStart() : l)).join('\n');
    case 7: // deep nesting / aliases
      return `${text}\nx: &a [*a]\n`;
    default: {
      const chars = text.split('');
      for (let n = 1 + r.int(4); n > 0; n--) chars[r.int(chars.length)] = String.fromCharCode(r.int(128));
      return chars.join('');
    }
  }
}

// ---------------------------------------------------------------- checks

function clearMessage(e: unknown, where: string): void {
  const msg = (e as Error).message;
  assert.ok(typeof msg === 'string' && msg.trim().length > 0, `${where}: empty error message`);
  assert.doesNotMatch(msg, /\n\s+at /, `${where}: stack trace in the message: ${msg}`);
  assert.ok(!/undefined|\[object Object\]|NaN/.test(msg), `${where}: unclear message: ${msg}`);
}

function expectOnly(where: string, classes: (new (...a: never[]) => Error)[], fn: () => void): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    assert.ok(classes.some((c) => e instanceof c), `${where}: ${(e as Error)?.constructor?.name} escaped: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    clearMessage(e, where);
    return 'error';
  }
}

/** Read every field an inventory row shows (every lazy getter). */
function touchCertificate(c: Certificate): void {
  void [c.serialHex, c.subjectString, c.issuerString, c.commonName, c.organizations, c.issuerCommonName, c.notBefore.getTime(), c.notAfter.getTime(),
    c.extensions.length, c.isSelfIssued, c.basicConstraints, c.isCA, c.keyUsage, c.extKeyUsage, c.subjectAltNames, c.subjectKeyId, c.authorityKeyId,
    c.keyInfo, c.signatureAlgorithm, c.fingerprint256, c.toPem()];
}

function tally(): { ok: number; error: number } { return { ok: 0, error: 0 }; }

// ---------------------------------------------------------------- parser fuzzing

test('fuzz: Certificate on mutated DER never throws anything but DerError', () => {
  const r = new Rng(SEED);
  const t = tally();
  for (let i = 0; i < ROUNDS * 4; i++) {
    const der = mutateBytes(r, r.pick(certDers));
    t[expectOnly(`Certificate seed=${SEED} i=${i} der=${der.toString('base64')}`, [DerError], () => touchCertificate(new Certificate(der)))]++;
  }
  assert.ok(t.error > ROUNDS, `most mutations should be rejected (ok ${t.ok}, error ${t.error})`);
  assert.ok(t.ok > 0, 'some mutations (bit flips in values) still parse');
});

test('fuzz: parsePemBlocks on mutated PEM text never throws anything but PemError', () => {
  const r = new Rng(SEED + 1);
  const t = tally();
  for (let i = 0; i < ROUNDS * 2; i++) {
    const text = mutatePem(r, r.pick(pemTexts));
    t[expectOnly(`parsePemBlocks seed=${SEED + 1} i=${i} text=${JSON.stringify(text)}`, [PemError], () => {
      for (const b of parsePemBlocks(text)) {
        assert.ok(b.der.length > 0);
        if (b.label === 'CERTIFICATE') expectOnly(`Certificate from PEM i=${i}`, [DerError], () => touchCertificate(new Certificate(b.der)));
      }
    })]++;
  }
  assert.ok(t.error > 0 && t.ok > 0, `both outcomes seen (ok ${t.ok}, error ${t.error})`);
});

test('fuzz: private and public key parsing on mutated DER never throws anything but KeyError', () => {
  const r = new Rng(SEED + 2);
  const t = tally();
  for (let i = 0; i < ROUNDS; i++) {
    const kb = r.pick(keyBlocks);
    const der = mutateBytes(r, kb.der);
    const headers = r.int(10) === 0 ? { 'Proc-Type': '4,ENCRYPTED' } : kb.headers;
    t[expectOnly(`parsePrivateKeyBlock seed=${SEED + 2} i=${i} label=${kb.label} der=${der.toString('base64')}`, [KeyError], () => {
      const info = parsePrivateKeyBlock(r.int(8) === 0 ? r.pick(Object.keys(PRIVATE_KEY_LABELS)) : kb.label, der, headers);
      if (!info.encrypted) assert.ok(info.spki && info.key, 'a parsed key has a public half');
    })]++;
    // bare DER: undefined for what is not a key; a KeyError only for an RSA key Go would refuse
    expectOnly(`parsePrivateKeyDer i=${i}`, [KeyError], () => {
      const bare = parsePrivateKeyDer(der);
      if (bare) assert.ok(bare.spki);
    });
    if (pubBlocks.length) {
      const pb = r.pick(pubBlocks);
      expectOnly(`parsePublicKeyBlock i=${i}`, [KeyError], () => { parsePublicKeyBlock(pb.label, mutateBytes(r, pb.der)); });
    }
  }
  assert.ok(t.error > 0 && t.ok > 0, `both outcomes seen (ok ${t.ok}, error ${t.error})`);
  assert.throws(() => parsePrivateKeyBlock('CERTIFICATE', keyBlocks[0]!.der), KeyError);
});

test('fuzz: parseCsr on mutated DER never throws anything but DerError', async () => {
  const csrs = await csrDers();
  const r = new Rng(SEED + 3);
  const t = tally();
  const good = parseCsr(csrs[0]!);
  assert.equal(good.subjectString, 'O=system:nodes, CN=system:node:fuzz');
  assert.deepEqual(good.sans.map((s) => s.value), ['fuzz.example', '10.0.0.7']);
  for (let i = 0; i < ROUNDS * 2; i++) {
    const der = mutateBytes(r, r.int(5) === 0 ? r.pick(certDers) : csrs[0]!);
    t[expectOnly(`parseCsr seed=${SEED + 3} i=${i} der=${der.toString('base64')}`, [DerError], () => {
      const c = parseCsr(der);
      void [c.subjectString, c.key, c.sans];
    })]++;
  }
  assert.ok(t.error > 0 && t.ok > 0, `both outcomes seen (ok ${t.ok}, error ${t.error})`);
});

test('fuzz: parseKubeconfig on mutated kubeconfigs never throws anything but KubeconfigError', () => {
  assert.ok(kubeconfigTexts.length >= 4, 'fixture kubeconfigs found');
  const r = new Rng(SEED + 4);
  const t = tally();
  for (let i = 0; i < ROUNDS; i++) {
    const text = mutateYaml(r, r.pick(kubeconfigTexts));
    t[expectOnly(`parseKubeconfig seed=${SEED + 4} i=${i} text=${JSON.stringify(text.slice(0, 400))}`, [KubeconfigError], () => {
      const kc = parseKubeconfig(text, '/etc/kubernetes/admin.conf');
      for (const u of kc.users) { assert.equal(typeof u.name, 'string'); if (u.certFile) assert.ok(u.certFile.startsWith('/')); }
      for (const c of kc.clusters) assert.equal(typeof c.name, 'string');
    })]++;
  }
  assert.ok(t.error > 0 && t.ok > 0, `both outcomes seen (ok ${t.ok}, error ${t.error})`);
});

test('fuzz: the fast scan turns every mutated file into records or a corrupt problem', () => {
  const r = new Rng(SEED + 5);
  for (let i = 0; i < ROUNDS; i++) {
    const input = r.int(3) === 0 ? mutateBytes(r, r.pick(certDers)) : Buffer.from(mutatePem(r, r.pick(pemTexts)), 'latin1');
    const certs: ScanRecord[] = [];
    const problems: ScanProblem[] = [];
    assert.doesNotThrow(() => scanBuffer(input, '/fuzz/x.crt', certs, problems), `scanBuffer seed=${SEED + 5} i=${i}`);
    for (const p of problems) {
      assert.equal(p.code, 'corrupt');
      assert.ok(p.message.startsWith('/fuzz/x.crt: '), p.message);
      clearMessage({ message: p.message }, `scan problem i=${i}`);
    }
    for (const c of certs) assert.ok(Number.isFinite(c.notAfter) || Number.isNaN(c.notAfter));
  }
});

/** What the scan must report for a file: parsePemBlocks + Certificate, the slow way. */
function referenceScan(buf: Buffer, file: string): { certificates: ScanRecord[]; problems: ScanProblem[] } {
  const certificates: ScanRecord[] = [];
  const problems: ScanProblem[] = [];
  const corrupt = (why: string) => problems.push({ file, code: 'corrupt', message: `${file}: ${why}` });
  if (buf.length === 0) { corrupt('empty file'); return { certificates, problems }; }
  if (buf[0] === 0x30) {
    try { certificates.push(record(new Certificate(buf).checkFields(), file, 0)); } catch (e) { corrupt(`not a certificate (DER that does not parse: ${(e as Error).message})`); }
    return { certificates, problems };
  }
  let blocks: PemBlock[];
  try { blocks = parsePemBlocks(buf.toString('latin1')); } catch (e) { corrupt((e as Error).message); return { certificates, problems }; }
  if (blocks.length === 0) { corrupt('no PEM block and not DER: not a certificate'); return { certificates, problems }; }
  let index = 0;
  for (const b of blocks) {
    if (b.label !== 'CERTIFICATE' && b.label !== 'TRUSTED CERTIFICATE' && b.label !== 'X509 CERTIFICATE') continue;
    try { certificates.push(record(new Certificate(b.der).checkFields(), file, index)); } catch (e) { corrupt(`PEM block ${b.index + 1} (${b.label}): ${(e as Error).message}`); }
    index++;
  }
  return { certificates, problems };
}

test('fuzz: the scan of a whole file (fast PEM framing + fast extractor) equals the slow reference', () => {
  const r = new Rng(SEED + 8);
  const certPems = pemTexts.filter((t) => /^-----BEGIN CERTIFICATE-----/.test(t));
  for (let i = 0; i < ROUNDS * 2; i++) {
    const pick = r.int(4);
    const input = pick === 0 ? Buffer.from(r.pick(certPems), 'latin1')
      : pick === 1 ? Buffer.from(r.pick(certPems) + r.pick(certPems), 'latin1')
        : pick === 2 ? Buffer.from(mutatePem(r, r.pick(certPems)), 'latin1')
          : mutateBytes(r, Buffer.from(r.pick(certPems), 'latin1'));
    const certificates: ScanRecord[] = [];
    const problems: ScanProblem[] = [];
    scanBuffer(input, '/x.crt', certificates, problems);
    assert.deepEqual({ certificates: certificates.map(plainRecord), problems }, referenceScan(input, '/x.crt'), `i=${i}: ${JSON.stringify(input.toString('latin1').slice(0, 200))}`);
  }
});

test('fuzz: the fast scan extractor gives exactly what the Certificate class gives, or steps aside', () => {
  const r = new Rng(SEED + 7);
  let fast = 0, stepped = 0;
  for (const der of certDers) assert.ok(fastRecord(der, '/f', 0), 'every fixture certificate takes the fast path');
  for (let i = 0; i < ROUNDS * 4; i++) {
    const der = i % 5 === 0 ? r.pick(certDers) : mutateBytes(r, r.pick(certDers));
    const got = fastRecord(der, '/f', 0);
    let want: ScanRecord | Error;
    try { want = record(new Certificate(der).checkFields(), '/f', 0); } catch (e) { want = e as Error; }
    if (!got) { stepped++; continue; }
    fast++;
    assert.ok(!(want instanceof Error), `fast path accepted what Certificate rejects (i=${i}, ${want instanceof Error ? want.message : ''}): ${der.toString('base64')}`);
    assert.ok(got instanceof CertRecord);
    assert.deepEqual(plainRecord(got), want, `i=${i}: ${der.toString('base64')}`);
    // the same DER in the middle of a bigger buffer (as the scan decodes many into one), read by offsets
    const pad = r.bytes(1 + r.int(40));
    const inside = fastRecord(Buffer.concat([pad, der, pad]), '/f', 0, pad.length, pad.length + der.length);
    assert.deepEqual(inside && plainRecord(inside), want, `i=${i}: at offset ${pad.length}`);
    assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(want)), `i=${i}: JSON`);
  }
  assert.ok(fast > ROUNDS && stepped > ROUNDS / 2, `fast ${fast}, stepped aside ${stepped}`);
});

test('scan: a fast record decodes its names and every kind of SAN when read, as the Certificate class does, also for mutated DER', async () => {
  const ca = await makeCa('lazy-ca', NOW, 30);
  const dirName = nameDer([{ type: 'O', value: 'dir' }, { type: 'CN', value: 'inside' }]);
  const otherName = tlv(0xa0, oidDer('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, Buffer.from('upn@example.test'))));
  const san = tlv(0x30, ...(['dns', 'email', 'uri', 'ip'] as const).map((type, i) => generalNameDer({ type, value: ['a.example.test', 'ops@example.test', 'spiffe://cluster.local/ns/a/sa/b', '2001:db8::7'][i]! })), tlv(0xa4, dirName), otherName);
  const leaf = await makeLeaf(ca, 'lazy-leaf', { orgs: ['system:nodes'], eku: ['serverAuth'], notBefore: NOW, days: 10, extra: [{ oid: '2.5.29.17', critical: false, value: san }] });
  const rec = fastRecord(leaf.der, '/f', 0);
  assert.ok(rec instanceof CertRecord, 'the fast path takes it');
  const want = record(new Certificate(leaf.der).checkFields(), '/f', 0);
  assert.deepEqual(rec.sans.map((n) => n.type), ['dns', 'email', 'uri', 'ip', 'dirname', 'other']);
  assert.equal(rec.sans[4]!.value, 'O=dir, CN=inside');
  assert.deepEqual(plainRecord(rec), want);
  assert.equal(JSON.stringify(rec), JSON.stringify(want), 'JSON writes every field, in the same order');
  assert.equal(rec.subject, 'O=system:nodes, CN=lazy-leaf');
  assert.equal('curve' in rec, 'curve' in want, 'an own curve key only where the reference has one');
  // plain data on request, sharing nothing; fields can be set like a plain record's
  const plain = plainRecord(rec);
  assert.deepEqual(structuredClone(plain), want);
  plain.sans.push({ type: 'dns', value: 'added.example.test' });
  assert.equal(rec.sans.length, 6);
  rec.subject = 'CN=renamed';
  assert.equal(rec.subject, 'CN=renamed');
  // a record whose bytes were overwritten says so instead of failing inside the DER reader
  const scratch = Buffer.from(leaf.der);
  const fragile = fastRecord(scratch, '/scratch.der', 0)!;
  scratch.fill(0xff);
  assert.throws(() => fragile.issuer, /\/scratch\.der: the certificate bytes this scan record refers to were changed after the scan/);
  // DER input: the record keeps its own copy, not the caller's (reused) buffer
  const buf = Buffer.from(leaf.der);
  const certs: ScanRecord[] = [];
  scanBuffer(buf, '/f.der', certs, []);
  buf.fill(0);
  assert.equal(certs[0]!.subject, 'O=system:nodes, CN=lazy-leaf');
  assert.equal(certs[0]!.serial, want.serial);
  // mutated: a record made is one that decodes, to what the Certificate class reads
  const r = new Rng(SEED + 9);
  let fast = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const der = mutateBytes(r, leaf.der);
    const got = fastRecord(der, '/f', 0);
    if (!got) continue;
    fast++;
    let ref: ScanRecord | Error;
    try { ref = record(new Certificate(der).checkFields(), '/f', 0); } catch (e) { ref = e as Error; }
    assert.ok(!(ref instanceof Error), `fast path accepted what Certificate rejects (i=${i}): ${der.toString('base64')}`);
    assert.deepEqual(plainRecord(got), ref, `i=${i}: ${der.toString('base64')}`);
  }
  assert.ok(fast > ROUNDS / 10, `fast records among the mutations: ${fast}`);
});

// ---------------------------------------------------------------- readInventory on broken trees

const PKI = 'etc/kubernetes/pki';

function inventoryOf(root: string) {
  return readInventory({ fs: new NodeFs(root), now: NOW });
}

/** Findings that name `file` (node path). */
function findingsFor(inv: ReturnType<typeof inventoryOf>, file: string) {
  return inv.findings.filter((f) => f.file === file || f.message.includes(file));
}

test('fuzz: readInventory reports a mutated file as a finding and still reports the rest of the node', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const baseline = inventoryOf(root);
    assert.equal(baseline.summary.worst, 'ok');
    const baseNames = new Set(baseline.certificates.map((c) => c.name));
    const targets = [
      `${PKI}/apiserver.crt`, `${PKI}/front-proxy-client.crt`, `${PKI}/etcd/peer.crt`, `${PKI}/apiserver.key`, `${PKI}/ca.crt`,
      `${PKI}/sa.pub`, `${PKI}/sa.key`, 'etc/kubernetes/admin.conf', 'etc/kubernetes/scheduler.conf', 'var/lib/kubelet/pki/kubelet.crt',
      'var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem',
    ];
    const r = new Rng(SEED + 6);
    const rounds = Math.max(60, Math.floor(ROUNDS / 8));
    let reported = 0;
    for (let i = 0; i < rounds; i++) {
      const rel = r.pick(targets);
      const host = path.join(root, rel);
      const original = fs.readFileSync(host);
      const mutated = rel.endsWith('.conf') ? Buffer.from(mutateYaml(r, original.toString('utf8'))) : r.int(4) === 0 ? mutateBytes(r, original) : Buffer.from(mutatePem(r, original.toString('latin1')), 'latin1');
      fs.writeFileSync(host, mutated);
      try {
        let inv!: ReturnType<typeof inventoryOf>;
        assert.doesNotThrow(() => { inv = inventoryOf(root); }, `readInventory seed=${SEED + 6} i=${i} file=${rel}`);
        const nodePath = `/${rel}`;
        const names = new Set(inv.certificates.map((c) => c.name));
        // Everything in other files is still there.
        const untouched = ['apiserver', 'front-proxy-client', 'etcd-peer', 'ca', 'admin.conf', 'scheduler.conf', 'kubelet-serving', 'kubelet-client']
          .filter((n) => !(n === 'apiserver' && rel.includes('apiserver.'))
            && !(n === 'front-proxy-client' && rel.includes('front-proxy-client'))
            && !(n === 'etcd-peer' && rel.includes('peer'))
            && !(n === 'ca' && rel.endsWith('/ca.crt'))
            && !(n === 'admin.conf' && rel.includes('admin.conf'))
            && !(n === 'scheduler.conf' && rel.includes('scheduler.conf'))
            && !(n.startsWith('kubelet') && rel.includes('kubelet')));
        for (const n of untouched) assert.ok(names.has(n), `i=${i} (${rel} mutated): ${n} should still be reported`);
        for (const f of inv.findings) clearMessage(f, `finding i=${i}`);
        // If the file no longer yields what it did, the inventory must say why.
        const before = baseline.certificates.filter((c) => c.location.file === nodePath).length;
        const after = inv.certificates.filter((c) => c.location.file === nodePath).length;
        const fileFindings = findingsFor(inv, nodePath);
        if (after < before && !rel.endsWith('.conf')) {
          assert.ok(fileFindings.length > 0, `i=${i}: ${rel} lost certificates without a finding; mutated=${JSON.stringify(mutated.toString('latin1').slice(0, 300))}`);
        }
        if (fileFindings.some((f) => f.code === 'corrupt' || f.code === 'unreadable')) reported++;
        assert.ok(baseNames.size > 0);
      } finally {
        fs.writeFileSync(host, original);
      }
    }
    assert.ok(reported > rounds / 4, `many mutations reported as corrupt (${reported} of ${rounds})`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('bad input: garbage, empty, huge, symlink loops and directories each become one finding; the node is still reported', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const pki = path.join(root, PKI);
    fs.writeFileSync(path.join(pki, 'front-proxy-client.crt'), Buffer.from('\x00\x01garbage\xff'.repeat(20), 'latin1'));
    fs.writeFileSync(path.join(pki, 'etcd/healthcheck-client.crt'), '');
    const truncated = fs.readFileSync(path.join(pki, 'apiserver-kubelet-client.crt'), 'latin1');
    fs.writeFileSync(path.join(pki, 'apiserver-kubelet-client.crt'), truncated.slice(0, truncated.length - 40));
    fs.writeFileSync(path.join(pki, 'huge.crt'), Buffer.alloc(5 * 1024 * 1024, 0x41));
    fs.symlinkSync('/etc/kubernetes/pki/loop-b.crt', path.join(pki, 'loop-a.crt'));
    fs.symlinkSync('/etc/kubernetes/pki/loop-a.crt', path.join(pki, 'loop-b.crt'));
    fs.rmSync(path.join(pki, 'etcd/peer.crt'));
    fs.mkdirSync(path.join(pki, 'etcd/peer.crt'));
    fs.writeFileSync(path.join(root, 'etc/kubernetes/scheduler.conf'), 'apiVersion: v1\nkind: Config\nclusters: [\n');
    fs.writeFileSync(path.join(pki, 'not-base64.crt'), '-----BEGIN CERTIFICATE-----\nMIIB*** not base64 ***\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(path.join(pki, 'no-end.crt'), '-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n');
    const inv = inventoryOf(root);
    const by = (file: string) => inv.findings.filter((f) => f.file === `/${PKI}/${file}` || f.message.includes(`/${PKI}/${file}`)).map((f) => f.code);
    assert.ok(by('front-proxy-client.crt').includes('corrupt'), 'garbage → corrupt');
    assert.ok(by('etcd/healthcheck-client.crt').includes('corrupt'), 'empty → corrupt');
    assert.ok(by('apiserver-kubelet-client.crt').includes('corrupt'), 'truncated PEM → corrupt');
    assert.ok(by('huge.crt').includes('unreadable'), 'huge → unreadable');
    assert.ok(by('loop-a.crt').includes('unreadable') || by('loop-b.crt').includes('unreadable'), 'symlink loop → unreadable');
    assert.ok(by('etcd/peer.crt').includes('unreadable'), 'a directory where etcd/peer.crt should be → unreadable');
    assert.ok(inv.missing.some((m) => m.name === 'etcd-peer'), 'and its row shows as missing');
    assert.ok(by('not-base64.crt').includes('corrupt'), 'bad base64 → corrupt');
    assert.ok(by('no-end.crt').includes('corrupt'), 'no END line → corrupt');
    assert.ok(inv.findings.some((f) => f.file === '/etc/kubernetes/scheduler.conf' && f.code === 'corrupt'), 'broken kubeconfig → corrupt');
    for (const f of inv.findings) clearMessage(f, 'finding');
    const names = new Set(inv.certificates.map((c) => c.name));
    for (const n of ['apiserver', 'apiserver-etcd-client', 'etcd-server', 'ca', 'etcd-ca', 'front-proxy-ca', 'admin.conf', 'controller-manager.conf', 'kubelet-client']) {
      assert.ok(names.has(n), `${n} still reported`);
    }
    if (process.getuid?.() === 0) {
      // Running as root (as these tests do): chmod 000 does not stop root from reading,
      // so unreadable-by-permission cannot be produced here; the directory case above covers EISDIR.
    } else {
      fs.chmodSync(path.join(pki, 'apiserver.crt'), 0);
      const inv2 = inventoryOf(root);
      assert.ok(inv2.findings.some((f) => f.file === `/${PKI}/apiserver.crt` && f.code === 'unreadable'), 'chmod 000 → unreadable');
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('bad input: the fast scan reports loops, directories, huge and empty files as problems and reads the rest', async () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const pki = path.join(root, PKI);
    fs.symlinkSync('/etc/kubernetes/pki/loop-b.crt', path.join(pki, 'loop-a.crt'));
    fs.symlinkSync('/etc/kubernetes/pki/loop-a.crt', path.join(pki, 'loop-b.crt'));
    fs.symlinkSync('/etc/kubernetes/pki', path.join(pki, 'etcd/up'));
    fs.writeFileSync(path.join(pki, 'huge.crt'), Buffer.alloc(5 * 1024 * 1024, 0x41));
    fs.writeFileSync(path.join(pki, 'empty.crt'), '');
    const res = await scanCertificates(new NodeFs(root), ['/etc/kubernetes/pki', '/nonexistent'], { workers: 0 });
    const codes = (f: string) => res.problems.filter((p) => p.file === `/${PKI}/${f}`).map((p) => p.code);
    assert.ok(codes('loop-a.crt').includes('unreadable') || codes('loop-b.crt').includes('unreadable'), JSON.stringify(res.problems));
    assert.deepEqual(codes('huge.crt'), ['unreadable']);
    assert.deepEqual(codes('empty.crt'), ['corrupt']);
    // the directory symlink back up (etcd/up → pki) is walked once, not forever
    const files = new Set(res.certificates.map((c) => c.file));
    assert.ok(files.has(`/${PKI}/apiserver.crt`) && files.has(`/${PKI}/etcd/peer.crt`));
    assert.equal(res.certificates.filter((c) => c.file === `/${PKI}/apiserver.crt`).length, 1);
    // every field the inventory shows, checked against the full reader for one certificate
    const api = res.certificates.find((c) => c.file === `/${PKI}/apiserver.crt`)!;
    const full = new Certificate(parsePemBlocks(fs.readFileSync(path.join(pki, 'apiserver.crt'), 'latin1'))[0]!.der);
    assert.equal(api.subject, full.subjectString);
    assert.equal(api.issuer, full.issuerString);
    assert.equal(api.serial, full.serialHex);
    assert.equal(api.notAfter, full.notAfter.getTime());
    assert.deepEqual(api.sans, full.subjectAltNames);
    assert.equal(api.keyAlgorithm, 'RSA');
    assert.equal(api.keySize, 2048);
    assert.equal(api.isCA, false);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('scan: a certificate reached as itself and through symlinks is read once, at its first place in walk order', async () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const pki = path.join(root, PKI);
    fs.symlinkSync('/etc/kubernetes/pki/ca.crt', path.join(pki, 'a-link-before.crt')); // walked before ca.crt
    fs.symlinkSync('/etc/kubernetes/pki/ca.crt', path.join(pki, 'z-link-after.crt')); // walked after it
    fs.symlinkSync('/etc/kubernetes/pki/front-proxy-ca.crt', path.join(pki, 'z-only-link.crt'));
    const res = await scanCertificates(new NodeFs(root), [`/${PKI}`, `/${PKI}/ca.crt`], { workers: 0 });
    const files = res.certificates.map((c) => c.file);
    assert.equal(files.filter((f) => f === `/${PKI}/ca.crt`).length, 1, JSON.stringify(files));
    assert.equal(files.filter((f) => f === `/${PKI}/front-proxy-ca.crt`).length, 1);
    assert.ok(!files.some((f) => f.includes('link')), 'records name the real file');
    assert.equal(files.indexOf(`/${PKI}/ca.crt`), 0, 'ca.crt sits where its first link (a-link-before.crt) was met');
    assert.equal(new Set(files).size, files.length, 'no file twice');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('scan: worker threads give the same records and problems as the main thread alone', async () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    fs.writeFileSync(path.join(root, PKI, 'garbage.crt'), 'not a certificate');
    // names whose walk order differs from plain string order ('/a/…' walks before '/a-b/…')
    fs.mkdirSync(path.join(root, 'etc/ssl/a'), { recursive: true });
    fs.mkdirSync(path.join(root, 'etc/ssl/a-b'), { recursive: true });
    fs.copyFileSync(path.join(root, PKI, 'ca.crt'), path.join(root, 'etc/ssl/a/x.crt'));
    fs.copyFileSync(path.join(root, PKI, 'ca.crt'), path.join(root, 'etc/ssl/a-b/x.crt'));
    const fsys = new NodeFs(root);
    const one = await scanCertificates(fsys, ['/'], { workers: 0 });
    const two = await scanCertificates(fsys, ['/'], { workers: 2, minFilesForWorkers: 0 });
    assert.equal(one.threads, 1);
    assert.ok(two.threads >= 1);
    assert.deepEqual(two.certificates.map(plainRecord), one.certificates.map(plainRecord));
    assert.ok(two.certificates.every((c) => c instanceof CertRecord), 'records from workers are the same class as the main thread\'s');
    assert.deepEqual(two.problems, one.problems);
    // 7 leaves and 3 CAs in pki/, both certificates of kubelet.crt, the kubelet client pem (reached through
    // the stand-in link kubelet-client-current.pem, once)
    assert.equal(one.certificates.length, 15, JSON.stringify(one.certificates.map((c) => c.file)));
    const files = one.certificates.map((c) => c.file);
    assert.ok(files.indexOf('/etc/ssl/a/x.crt') < files.indexOf('/etc/ssl/a-b/x.crt'), 'walk order');
    assert.equal(one.certificates.filter((c) => c.file.startsWith('/var/lib/kubelet/pki/kubelet-client-2026')).length, 1);
    assert.deepEqual(one.problems.map((p) => [p.file, p.code]), [[`/${PKI}/garbage.crt`, 'corrupt']]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('scan: worker threads by default only from 4 cores up, and only on idle ones', () => {
  assert.equal(defaultWorkers(1, 0), 0);
  assert.equal(defaultWorkers(2, 0), 0, 'on 2 cores V8 already uses the second one: a worker measured slower');
  assert.equal(defaultWorkers(4, 0), 2);
  assert.equal(defaultWorkers(4, 3.6), 0, 'a busy machine gets none');
  assert.equal(defaultWorkers(16, 0), 3);
  assert.equal(defaultWorkers(16, 12), 3);
  assert.equal(defaultWorkers(16, 14), 1);
});
