import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDecipheriv } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { openFiles, encryptUploadValue, decryptUploadValue, relPathOfDataKey } from '../src/pki/upload-certs.js';
import { FIXTURES, KUBEADM_126, NOW, copyFixture, tmpDir } from './rebuild-support.js';

const PKI = path.join(KUBEADM_126, 'etc/kubernetes/pki');
const SHARED = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key', 'etcd/ca.crt', 'etcd/ca.key'];
const KEY = '3537befb4f0e05e28ba5e8ae5766ed1b0c314721d7140c4c29bfbde4c16cdd7b';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** Spec §6 with nothing but node:crypto: nonce = first 12 bytes, tag = last 16, no AAD. */
function plainGcmOpen(keyHex: string, b64: string): Buffer {
  const b = Buffer.from(b64, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), b.subarray(0, 12));
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
}

test('the recorded kubeadm-certs Secret (real kubeadm upload-certs) decrypts with its key to the fixture files', () => {
  const rec = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'apiserver/upload-certs.json'), 'utf8'));
  const secret = rec.requests.map((r: any) => r.responseBody).find((b: any) => b?.metadata?.name === 'kubeadm-certs');
  const files = openFiles(Buffer.from(KEY, 'hex'), secret.data);
  assert.deepEqual(Object.keys(files).sort(), [...SHARED].sort());
  for (const rel of SHARED) assert.deepEqual(files[rel], fs.readFileSync(path.join(PKI, rel)), rel);
  // and a wrong key is refused by GCM's tag check
  assert.throws(() => openFiles(Buffer.alloc(32, 1), secret.data), /wrong certificate key/);
});

test('encrypt/decrypt round trip is kubeadm\'s layout: nonce ‖ ciphertext ‖ tag', () => {
  const key = Buffer.from(KEY, 'hex');
  const sealed = encryptUploadValue(key, Buffer.from('hello'), (n) => Buffer.alloc(n, 7));
  assert.equal(sealed.length, 12 + 5 + 16);
  assert.deepEqual(sealed.subarray(0, 12), Buffer.alloc(12, 7));
  assert.equal(decryptUploadValue(key, sealed).toString(), 'hello');
  assert.equal(relPathOfDataKey('etcd-ca.key'), 'etcd/ca.key');
});

test('ca export: each value opens with a plain node:crypto GCM call given only the key; -o secret is the kubeadm-certs Secret', async () => {
  const root = copyFixture();
  const dir = tmpDir();
  const out = path.join(dir, 'shared.yaml');
  const r = await cli('ca', 'export', '--root', root, '--out', out);
  assert.equal(r.code, 0, r.err);
  const key = /Certificate key \(keep it secret; needed to import\): ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(key, r.out);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const doc = parse(fs.readFileSync(out, 'utf8'));
  assert.equal(doc.kind, 'SharedCertificates');
  assert.deepEqual(Object.keys(doc.data).sort(), SHARED.map((s) => s.replace('/', '-')).sort());
  for (const rel of SHARED) assert.deepEqual(plainGcmOpen(key!, doc.data[rel.replace('/', '-')]), fs.readFileSync(path.join(PKI, rel)), rel);
  assert.doesNotMatch(fs.readFileSync(out, 'utf8'), /PRIVATE KEY/);

  const sec = path.join(dir, 'secret.yaml');
  const s = await cli('ca', 'export', '--root', root, '--out', sec, '-o', 'secret', '--certificate-key', KEY);
  assert.equal(s.code, 0, s.err);
  assert.doesNotMatch(s.out, /Certificate key/);
  const secret = parse(fs.readFileSync(sec, 'utf8'));
  assert.equal(secret.kind, 'Secret');
  assert.equal(secret.metadata.name, 'kubeadm-certs');
  assert.equal(secret.metadata.namespace, 'kube-system');
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(plainGcmOpen(KEY, secret.data['etcd-ca.key']), fs.readFileSync(path.join(PKI, 'etcd/ca.key')));

  const bad = await cli('ca', 'export', '--root', root, '--out', path.join(dir, 'x.yaml'), '--certificate-key', 'abc');
  assert.equal(bad.code, 3);
  assert.match(bad.err, /64 hex characters/);
  const exists = await cli('ca', 'export', '--root', root, '--out', out);
  assert.equal(exists.code, 3);
  assert.match(exists.err, /exists/);
});

test('ca import: into an empty node (modes as kubeadm), idempotent, refuses a different CA without --force; reads the recorded Secret too', async () => {
  const node = tmpDir();
  const rec = path.join(FIXTURES, 'apiserver/upload-certs.json');
  const r = await cli('ca', 'import', rec, '--root', node, '--certificate-key', KEY, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  const pki = path.join(node, 'etc/kubernetes/pki');
  for (const rel of SHARED) {
    assert.deepEqual(fs.readFileSync(path.join(pki, rel)), fs.readFileSync(path.join(PKI, rel)), rel);
    assert.equal(fs.statSync(path.join(pki, rel)).mode & 0o777, rel.endsWith('.crt') ? 0o644 : 0o600, rel);
  }
  const again = await cli('ca', 'import', rec, '--root', node, '--certificate-key', KEY, '--now', NOW);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /Nothing to do/);

  const wrong = await cli('ca', 'import', rec, '--root', node, '--certificate-key', 'ab'.repeat(32));
  assert.equal(wrong.code, 3);
  assert.match(wrong.err, /wrong certificate key/);

  // a node with its own, different CA
  const other = tmpDir();
  const rb = await cli('rebuild', '--root', other, '--now', NOW, '--node-name', 'cp-2', '--advertise-address', '192.0.2.11', '--kubernetes-version', 'v1.26.1');
  assert.equal(rb.code, 0, rb.err);
  const c = await cli('ca', 'import', rec, '--root', other, '--certificate-key', KEY, '--now', NOW);
  assert.equal(c.code, 3);
  assert.match(c.err, /already exist with different content/);
  const f = await cli('ca', 'import', rec, '--root', other, '--certificate-key', KEY, '--now', NOW, '--force');
  assert.equal(f.code, 0, f.err);
  assert.deepEqual(fs.readFileSync(path.join(other, 'etc/kubernetes/pki/ca.key')), fs.readFileSync(path.join(PKI, 'ca.key')));
  // other keys than the node had: its Next said only "if these are a renewed CA (same key), restart …", which
  // leaves every certificate the old CAs signed unverifiable; it now names them and the re-issue
  const next = /^Next: (.*)$/m.exec(f.out)?.[1] ?? assert.fail(f.out);
  assert.match(next, /^ca\.crt, etcd\/ca\.crt and front-proxy-ca\.crt are other CAs \(another key\) than this node had: what the old ones signed here no longer verifies; re-issue it from the new ones: kubepki rebuild --root \S+ --force --dry-run, then without --dry-run/);
  assert.match(next, /sa\.key is another key too: the ServiceAccount tokens the old one signed stop verifying/);
  assert.doesNotMatch(next, /same key/);
  // followed, the node's certificates verify with the imported CA again
  const apiserver = path.join(other, 'etc/kubernetes/pki/apiserver.crt');
  assert.notEqual(opensslVerifyStatus(path.join(other, 'etc/kubernetes/pki/ca.crt'), apiserver), 0, 'signed by the old CA');
  const re = await cli('rebuild', '--root', other, '--force', '--now', NOW);
  assert.equal(re.code, 0, re.err + re.out);
  assert.equal(opensslVerifyStatus(path.join(other, 'etc/kubernetes/pki/ca.crt'), apiserver), 0, 're-issued from the imported CA');
  // the same keys (a node that lost its files, above) keep the old advice
  assert.match(r.out, /^Next: if this node lost its certificates, kubepki rebuild --root \S+ creates them from these/m);
});

function opensslVerifyStatus(ca: string, cert: string): number | null {
  return spawnSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' }).status;
}

test('ca import reads and decrypts its input before taking the node lock: a wrong certificate key or a missing file is said as such while another kubepki changes the node, which is left alone', async () => {
  // (the lock was taken first: the operator was told to wait for the other run, only to learn of the wrong key then)
  const node = tmpDir();
  const rec = path.join(FIXTURES, 'apiserver/upload-certs.json');
  const lock = path.join(node, 'var/lib/kubepki/kubepki.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const held = JSON.stringify({ pid: process.ppid, host: os.hostname(), since: NOW });
  fs.writeFileSync(lock, held);
  const wrong = await cli('ca', 'import', rec, '--root', node, '--certificate-key', 'ab'.repeat(32), '--now', NOW);
  assert.equal(wrong.code, 3);
  assert.match(wrong.err, /wrong certificate key/);
  const missing = await cli('ca', 'import', path.join(node, 'nowhere.yaml'), '--root', node, '--certificate-key', KEY, '--now', NOW);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /failed to read .*nowhere\.yaml/);
  // with the right key it is the lock that stops it, and the lock is the other run's still
  const right = await cli('ca', 'import', rec, '--root', node, '--certificate-key', KEY, '--now', NOW);
  assert.equal(right.code, 3);
  assert.match(right.err, /is already changing this node/);
  assert.equal(fs.readFileSync(lock, 'utf8'), held);
  assert.ok(!fs.existsSync(path.join(node, 'etc')), 'nothing written');
});

test('external etcd: ca export carries external-etcd-ca.crt / external-etcd.crt / .key (spec §6) and import puts them where the apiserver manifest expects them', async () => {
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 192.0.2.10}
nodeRegistration: {name: cp-1}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.28.4
etcd:
  external: {endpoints: [https://192.0.2.50:2379], caFile: /etc/etcd/ca.pem, certFile: /etc/etcd/client.pem, keyFile: /etc/etcd/client-key.pem}
`);
  const a = tmpDir();
  const r = await cli('rebuild', '--root', a, '--now', NOW, '--config', cfg);
  assert.equal(r.code, 0, r.err);
  fs.mkdirSync(path.join(a, 'etc/etcd'), { recursive: true });
  fs.copyFileSync(path.join(PKI, 'etcd/ca.crt'), path.join(a, 'etc/etcd/ca.pem'));
  fs.copyFileSync(path.join(PKI, 'apiserver-etcd-client.crt'), path.join(a, 'etc/etcd/client.pem'));
  fs.copyFileSync(path.join(PKI, 'apiserver-etcd-client.key'), path.join(a, 'etc/etcd/client-key.pem'));
  const out = path.join(tmpDir(), 'shared.yaml');
  const e = await cli('ca', 'export', '--root', a, '--out', out, '--certificate-key', KEY);
  assert.equal(e.code, 0, e.err);
  const doc = parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(doc.data).sort(), ['ca.crt', 'ca.key', 'external-etcd-ca.crt', 'external-etcd.crt', 'external-etcd.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  assert.deepEqual(plainGcmOpen(KEY, doc.data['external-etcd.key']), fs.readFileSync(path.join(PKI, 'apiserver-etcd-client.key')));

  // the other control-plane node: only its apiserver manifest survives
  const b = tmpDir();
  fs.mkdirSync(path.join(b, 'etc/kubernetes/manifests'), { recursive: true });
  fs.copyFileSync(path.join(a, 'etc/kubernetes/manifests/kube-apiserver.yaml'), path.join(b, 'etc/kubernetes/manifests/kube-apiserver.yaml'));
  const i = await cli('ca', 'import', out, '--root', b, '--certificate-key', KEY, '--now', NOW);
  assert.equal(i.code, 0, i.err);
  assert.deepEqual(fs.readFileSync(path.join(b, 'etc/etcd/client.pem')), fs.readFileSync(path.join(PKI, 'apiserver-etcd-client.crt')));
  assert.equal(fs.statSync(path.join(b, 'etc/etcd/client-key.pem')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readFileSync(path.join(b, 'etc/kubernetes/pki/ca.key')), fs.readFileSync(path.join(a, 'etc/kubernetes/pki/ca.key')));
});
