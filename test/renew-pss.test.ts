import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, tmp } from './renew-support.js';
import { spawnSync } from 'node:child_process';
import { opensslOk } from './support/fixtures.js';
import { servingEtcd, ETCDCTL } from './support/etcd.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';

const LEAF_EXT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:svc.example.test,IP:127.0.0.1\n';

/**
 * /srv/pki/ca.crt (+ ca.key) and leaf.crt (+ leaf.key) made by openssl: the CA from `caKey` (openssl genpkey
 * arguments), self-signed with `caSig`, the leaf signed with `leafSig` (openssl -sigopt/-digest arguments).
 */
function pssTree(prefix: string, o: { caKey: string[]; caSig: string[]; leafSig: string[] }): { root: string; dir: string } {
  const root = tmp(prefix);
  const dir = path.join(root, 'srv/pki');
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  opensslOk(['genpkey', ...o.caKey, '-out', f('ca.key')]);
  opensslOk(['req', '-x509', '-key', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=pss-ca', '-days', '3650', ...o.caSig]);
  opensslOk(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', '/CN=svc']);
  fs.writeFileSync(f('leaf.ext'), LEAF_EXT);
  opensslOk(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', '7', '-out', f('leaf.crt'), '-days', '300', '-extfile', f('leaf.ext'), ...o.leafSig]);
  for (const n of ['leaf.csr', 'leaf.ext']) fs.rmSync(f(n));
  return { root, dir };
}

/** The signature lines of `openssl x509 -text` (algorithm, hash, MGF, salt), once. */
function signatureText(file: string): string {
  const text = opensslOk(['x509', '-in', file, '-noout', '-text']);
  return text.slice(text.indexOf('Signature Algorithm:'), text.indexOf('Issuer:')).replace(/\s+/g, ' ').trim();
}

function certOf(file: string): Certificate {
  return new Certificate(parsePemBlocks(fs.readFileSync(file, 'latin1'))[0]!.der);
}

const RSA = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
const PSS = (md: string, salt: string) => ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${salt}`, `-${md}`];

test('a leaf and its CA signed with RSASSA-PSS (SHA-384, MGF1 SHA-384, salt 48: Go\'s SHA384WithRSAPSS) were renewed with sha256WithRSAEncryption: they keep RSASSA-PSS and its parameters, byte for byte', async () => {
  const { root, dir } = pssTree('kubepki-pss-', { caKey: RSA, caSig: PSS('sha384', 'digest'), leafSig: PSS('sha384', 'digest') });
  const before = { leaf: certOf(path.join(dir, 'leaf.crt')), ca: certOf(path.join(dir, 'ca.crt')) };
  const wanted = signatureText(path.join(dir, 'leaf.crt'));
  assert.match(wanted, /rsassaPss Hash Algorithm: sha384 Mask Algorithm: mgf1 with sha384 Salt Length: 0x30/);
  const r = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--file', '/srv/pki/ca.crt', '--root', root]);
  assert.equal(r.code, 0, r.err + r.out);
  for (const n of ['leaf', 'ca'] as const) {
    const file = path.join(dir, `${n}.crt`);
    const after = certOf(file);
    assert.notEqual(after.serialHex, before[n].serialHex, `${n} was renewed`);
    assert.equal(signatureText(file), wanted, `${n}: openssl reads the same RSASSA-PSS parameters`);
    assert.deepEqual(Buffer.from(after.signatureAlgorithmRaw), Buffer.from(before[n].signatureAlgorithmRaw), `${n}: the AlgorithmIdentifier is kept as it was`);
  }
  opensslOk(['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'leaf.crt')]);
});

test('RSASSA-PSS parameters Go refuses (salt length 20 with SHA-256) become Go\'s SHA256WithRSAPSS on renewal, not PKCS#1 v1.5: the operator\'s choice of PSS is kept and a Go program (etcd, etcdctl) verifies it', async () => {
  const { root, dir } = pssTree('kubepki-pss-salt-', { caKey: RSA, caSig: ['-sha256'], leafSig: PSS('sha256', '20') });
  assert.match(signatureText(path.join(dir, 'leaf.crt')), /rsassaPss .*Salt Length: 0x14/);
  // etcd re-reads its pair on every handshake: the same server before and after the renewal
  const etcd = await servingEtcd(path.join(dir, 'leaf.crt'), path.join(dir, 'leaf.key'));
  try {
    const health = () => spawnSync(ETCDCTL, [`--endpoints=https://127.0.0.1:${etcd.port}`, '--cacert', path.join(dir, 'ca.crt'), '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const before = health();
    assert.notEqual(before.status, 0, 'Go refuses salt length 20 with SHA-256');
    // (etcdctl only says "unhealthy"; etcd logs that its client refused the certificate it was sent)
    await new Promise((r) => setTimeout(r, 500));
    assert.match(etcd.log(), /rejected connection.*bad certificate/, etcd.log().slice(-600));
    const r = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', root]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(signatureText(path.join(dir, 'leaf.crt')), /^Signature Algorithm: rsassaPss Hash Algorithm: sha256 Mask Algorithm: mgf1 with sha256 Salt Length: 0x20/);
    opensslOk(['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'leaf.crt')]);
    const after = health();
    assert.equal(after.status, 0, after.stdout + after.stderr);
  } finally {
    await etcd.stop();
  }
  // (the CA itself, PKCS#1 v1.5, is left alone)
  assert.match(signatureText(path.join(dir, 'ca.crt')), /^Signature Algorithm: sha256WithRSAEncryption/);
});

test('a leaf of a CA whose key is an RSA-PSS key (id-RSASSA-PSS, restricted to SHA-256) failed with "cannot sign with a rsa-pss key": it is renewed with RSASSA-PSS as the key allows, and openssl verifies it', async () => {
  const pssKey = ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_pss_keygen_md:sha256', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha256', '-pkeyopt', 'rsa_pss_keygen_saltlen:32'];
  const { root, dir } = pssTree('kubepki-psskey-', { caKey: pssKey, caSig: [], leafSig: [] });
  const r = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', root]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /leaf\s+\/srv\/pki\/leaf\.crt/);
  assert.match(signatureText(path.join(dir, 'leaf.crt')), /^Signature Algorithm: rsassaPss Hash Algorithm: sha256 Mask Algorithm: mgf1 with sha256 Salt Length: 0x20/);
  opensslOk(['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'leaf.crt')]);
});

test('the plan and the result say when RSASSA-PSS parameters are rewritten to Go\'s form, in text and -o json (was: not a word), and nothing when they are kept', async () => {
  const salt20 = pssTree('kubepki-pss-note-', { caKey: RSA, caSig: ['-sha256'], leafSig: PSS('sha256', '20') });
  const note = 'signature RSASSA-PSS salt 20 → 32 (Go refuses other salt lengths)';
  const dry = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', salt20.root, '--dry-run']);
  assert.equal(dry.code, 0, dry.err + dry.out);
  assert.match(dry.out, new RegExp(`^ {4,}${note.replace(/[()]/g, '\\$&')}$`, 'm'));
  const json = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', salt20.root, '-o', 'json']);
  assert.equal(json.code, 0, json.err + json.out);
  const doc = JSON.parse(json.out) as { kind: string; items: { name: string; notes: string[] }[] };
  assert.equal(doc.kind, 'RenewResult');
  assert.ok(doc.items[0]!.notes.includes(note), JSON.stringify(doc.items[0]!.notes));
  // renewed in Go's form, so the next renewal keeps it as it is, and says nothing
  const again = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', salt20.root, '--dry-run']);
  assert.doesNotMatch(again.out, /signature RSASSA-PSS/);

  // RFC 4055's defaults (SHA-1, MGF1 with SHA-1, salt 20): every field goes to Go's SHA256WithRSAPSS, each said
  const sha1 = pssTree('kubepki-pss-sha1-', { caKey: RSA, caSig: ['-sha256'], leafSig: PSS('sha1', '20') });
  assert.match(signatureText(path.join(sha1.dir, 'leaf.crt')), /Hash Algorithm: sha1 .*Salt Length: 0x14/);
  const d1 = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', sha1.root, '--dry-run']);
  assert.equal(d1.code, 0, d1.err + d1.out);
  assert.match(d1.out, /signature RSASSA-PSS hash SHA-1 → SHA-256, MGF1 SHA-1 → SHA-256, salt 20 → 32 \(Go verifies RSASSA-PSS only with SHA-256\/384\/512, the same hash for MGF1 and a salt as long as the hash\)$/m);

  // Go's own form (SHA-384, salt 48) is kept byte for byte: no note
  const kept = pssTree('kubepki-pss-kept-', { caKey: RSA, caSig: PSS('sha384', 'digest'), leafSig: PSS('sha384', 'digest') });
  const k = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--file', '/srv/pki/ca.crt', '--root', kept.root, '--dry-run']);
  assert.equal(k.code, 0, k.err + k.out);
  assert.doesNotMatch(k.out, /signature RSASSA-PSS/);
});
