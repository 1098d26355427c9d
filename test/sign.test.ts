import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import {
  issueCertificate, newSerial, nameDer, basicConstraintsExt, keyUsageExt, extKeyUsageExt, subjectAltNameExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, keyIdentifier, createCsr, pemOf, appendSans, timeDer,
} from '../src/pki/sign.js';
import { generateKey, privateKeyPem, publicKeyPem, keyTypeOf, type KeyType } from '../src/pki/keygen.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-sign-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function makeCa(type: KeyType, cn: string, notAfter = new Date('2036-01-01T00:00:00Z')) {
  const key = await generateKey(type);
  const subject = nameDer([{ type: 'CN', value: cn }]);
  const kid = keyIdentifier(key);
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: subject, spki: key, serial: newSerial(),
    notBefore: new Date('2026-01-01T00:00:00.789Z'), notAfter,
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true), subjectKeyIdentifierExt(kid)],
    signingKey: key,
  });
  return { key, der, cert: new Certificate(der), kid };
}

test('keys are written as kubeadm writes them and report their type', async () => {
  for (const [t, label] of [['rsa-2048', 'RSA PRIVATE KEY'], ['ecdsa-p256', 'EC PRIVATE KEY'], ['ecdsa-p384', 'EC PRIVATE KEY'], ['ed25519', 'PRIVATE KEY']] as const) {
    const k = await generateKey(t);
    const pem = privateKeyPem(k);
    assert.match(pem, new RegExp(`^-----BEGIN ${label}-----`));
    assert.equal(keyTypeOf(createPrivateKey(pem)), t);
    assert.match(publicKeyPem(k), /^-----BEGIN PUBLIC KEY-----/);
  }
});

test('newSerial is positive, non-zero and at most 20 octets even for all-ones or all-zero randomness', () => {
  const ones = newSerial((n) => new Uint8Array(n).fill(0xff));
  assert.ok(ones > 0n && ones < 1n << 159n);
  let calls = 0;
  const s = newSerial((n) => { calls++; return calls === 1 ? new Uint8Array(n) : new Uint8Array(n).fill(1); });
  assert.ok(s > 0n);
  assert.equal(calls, 2);
});

test('timeDer: UTCTime before 2050, GeneralizedTime from 2050, whole seconds', () => {
  assert.equal(Buffer.from(timeDer(new Date('2049-12-31T23:59:59.999Z'))).toString('latin1').slice(2), '491231235959Z');
  assert.equal(timeDer(new Date('2049-12-31T23:59:59Z'))[0], 0x17);
  const g = timeDer(new Date('2050-01-01T00:00:00.5Z'));
  assert.equal(g[0], 0x18);
  assert.equal(Buffer.from(g).toString('latin1').slice(2), '20500101000000Z');
});

for (const type of ['rsa-2048', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const) {
  test(`issueCertificate with a ${type} CA: openssl verifies, prints the fields, dates are whole seconds`, async () => {
    const ca = await makeCa(type, `test-ca-${type}`, new Date('2060-06-01T12:00:00Z'));
    const leafKey = await generateKey('ecdsa-p256');
    const serial = newSerial();
    const der = await issueCertificate({
      subjectDer: nameDer([{ type: 'CN', value: 'kube-apiserver' }, { type: 'O', value: 'system:masters' }]),
      issuerDer: ca.cert.subjectRaw, spki: leafKey, serial,
      notBefore: new Date('2026-11-23T10:00:00.123Z'), notAfter: new Date('2055-11-23T10:00:00.999Z'),
      extensions: [
        keyUsageExt(['digitalSignature', 'keyEncipherment']), extKeyUsageExt(['serverAuth', 'clientAuth']), basicConstraintsExt(false),
        subjectAltNameExt([{ type: 'dns', value: 'kubernetes' }, { type: 'ip', value: '10.96.0.1' }, { type: 'ip', value: 'fd00::1' }, { type: 'uri', value: 'spiffe://cluster.local/ns/x' }, { type: 'email', value: 'a@b.c' }]),
        authorityKeyIdentifierExt(ca.kid),
      ],
      signingKey: ca.key,
    });
    const cert = new Certificate(der);
    assert.equal(cert.serialHex, serial.toString(16).padStart(cert.serialHex.length, '0'));
    assert.ok((cert.serialBytes[0]! & 0x80) === 0, 'serial is positive');
    assert.ok(cert.serialBytes.length <= 20);
    assert.equal(cert.notBefore.toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(cert.notAfter.toISOString(), '2055-11-23T10:00:00.000Z');
    assert.ok(cert.verifySignedBy(ca.cert));
    assert.deepEqual(Buffer.from(cert.issuerRaw), Buffer.from(ca.cert.subjectRaw));
    assert.equal(cert.authorityKeyId, Buffer.from(ca.kid).toString('hex'));

    const caFile = path.join(tmp, `${type}-ca.crt`);
    const leafFile = path.join(tmp, `${type}-leaf.crt`);
    fs.writeFileSync(caFile, pemOf(ca.der));
    fs.writeFileSync(leafFile, pemOf(der));
    const text = openssl(['x509', '-in', leafFile, '-noout', '-text']);
    assert.match(text, /Subject: O ?= ?system:masters, CN ?= ?kube-apiserver/);
    assert.match(text, /DNS:kubernetes, IP Address:10\.96\.0\.1, IP Address:FD00:0:0:0:0:0:0:1, URI:spiffe:\/\/cluster\.local\/ns\/x, email:a@b\.c/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    const dates = openssl(['asn1parse', '-in', leafFile]);
    assert.match(dates, /UTCTIME\s+:261123100000Z/);
    assert.match(dates, /GENERALIZEDTIME\s+:20551123100000Z/);
    const caDates = openssl(['asn1parse', '-in', caFile]);
    assert.match(caDates, /GENERALIZEDTIME\s+:20600601120000Z/);
    const out = spawnSync('openssl', ['verify', '-attime', String(Date.parse('2027-01-01') / 1000), '-purpose', 'sslserver', '-CAfile', caFile, leafFile], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr + out.stdout);
    const client = spawnSync('openssl', ['verify', '-attime', String(Date.parse('2027-01-01') / 1000), '-purpose', 'sslclient', '-CAfile', caFile, leafFile], { encoding: 'utf8' });
    assert.equal(client.status, 0, client.stderr + client.stdout);
    // The CA's SKI is SHA-1 of its public key bits, as openssl computes "hash".
    const caText = openssl(['x509', '-in', caFile, '-noout', '-ext', 'subjectKeyIdentifier']);
    assert.ok(caText.replace(/[:\s]/g, '').toLowerCase().includes(Buffer.from(ca.kid).toString('hex')));
  });
}

test('openssl rejects a leaf signed by a different key (the test can fail)', async () => {
  const ca = await makeCa('ecdsa-p256', 'real-ca');
  const other = await generateKey('ecdsa-p256');
  const der = await issueCertificate({
    subjectDer: nameDer([{ type: 'CN', value: 'x' }]), issuerDer: ca.cert.subjectRaw, spki: other, serial: 5n,
    notBefore: new Date('2026-01-01Z'), notAfter: new Date('2027-01-01Z'), extensions: [], signingKey: other,
  });
  const caFile = path.join(tmp, 'bad-ca.crt'); const leafFile = path.join(tmp, 'bad-leaf.crt');
  fs.writeFileSync(caFile, pemOf(ca.der)); fs.writeFileSync(leafFile, pemOf(der));
  const r = spawnSync('openssl', ['verify', '-attime', String(Date.parse('2026-06-01') / 1000), '-CAfile', caFile, leafFile], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
});

test('nameDer encodes like Go: O before CN, PrintableString when possible, UTF8String otherwise', () => {
  const n = nameDer([{ type: 'CN', value: 'cp-1@1700000000' }, { type: 'O', value: 'system:nodes' }]);
  const file = path.join(tmp, 'name.der');
  fs.writeFileSync(file, n);
  const dump = openssl(['asn1parse', '-inform', 'DER', '-in', file]);
  assert.match(dump, /organizationName[\s\S]*PRINTABLESTRING\s+:system:nodes[\s\S]*commonName[\s\S]*UTF8STRING\s+:cp-1@1700000000/);
});

test('createCsr: openssl verifies the request and sees the requested SANs', async () => {
  const key = await generateKey('rsa-2048');
  const der = await createCsr({
    subjectDer: nameDer([{ type: 'CN', value: 'kubernetes' }]), key,
    extensions: [subjectAltNameExt([{ type: 'dns', value: 'kubernetes.default' }])],
  });
  const file = path.join(tmp, 'req.csr');
  fs.writeFileSync(file, pemOf(der, 'CERTIFICATE REQUEST'));
  const out = spawnSync('openssl', ['req', '-in', file, '-noout', '-verify', '-text'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout + out.stderr, /verify OK/i);
  assert.match(out.stdout, /DNS:kubernetes\.default/);
});

test('appendSans keeps existing names byte for byte and skips duplicates', () => {
  const ext = subjectAltNameExt([{ type: 'dns', value: 'a' }, { type: 'uri', value: 'spiffe://x' }]);
  const v = appendSans(ext.value, [{ type: 'dns', value: 'a' }, { type: 'ip', value: '192.0.2.1' }]);
  assert.deepEqual(Buffer.from(v.subarray(2, 2 + ext.value.length - 2)), Buffer.from(ext.value.subarray(2)));
  assert.equal(v.length, ext.value.length + 6);
});

test('re-signing a fixture certificate with raw parts keeps every TBS byte except serial, validity, AKI and signature', async () => {
  const fixtures = path.resolve(process.cwd(), '../shared/fixtures/kubeadm-1.26-expired/etc/kubernetes/pki');
  const caPem = fs.readFileSync(path.join(fixtures, 'ca.crt'), 'utf8');
  const caKey = createPrivateKey(fs.readFileSync(path.join(fixtures, 'ca.key')));
  const old = new Certificate(parsePemBlocks(fs.readFileSync(path.join(fixtures, 'apiserver.crt'), 'utf8'))[0]!.der);
  const ca = new Certificate(parsePemBlocks(caPem)[0]!.der);
  const der = await issueCertificate({
    subjectDer: old.subjectRaw, issuerDer: ca.subjectRaw, spki: old.spkiRaw, serial: newSerial(),
    notBefore: new Date('2026-11-23Z'), notAfter: new Date('2027-11-23Z'), extensions: old.extensions, signingKey: caKey,
  });
  const n = new Certificate(der);
  assert.ok(n.verifySignedBy(ca));
  assert.deepEqual(Buffer.from(n.subjectRaw), Buffer.from(old.subjectRaw));
  assert.deepEqual(Buffer.from(n.spkiRaw), Buffer.from(old.spkiRaw));
  assert.deepEqual(n.extensions.map((e) => [e.oid, e.critical, Buffer.from(e.value).toString('hex')]),
    old.extensions.map((e) => [e.oid, e.critical, Buffer.from(e.value).toString('hex')]));
});
