import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { KUBEADM_126, NOW, copyFixture, deleteAllButManifests, tmpDir, opensslFields, opensslVerify } from './rebuild-support.js';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

const PEM = 'var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem';
const CURRENT = 'var/lib/kubelet/pki/kubelet-client-current.pem';

function kubectlView(file: string): any {
  return JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file]).toString());
}

/** The pem holds the certificate then its key (client-go file store), and they match. */
function checkPem(root: string, caFile: string): void {
  const file = path.join(root, PEM);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----/);
  const f = opensslFields(file);
  assert.equal(f.subject, 'O = system:nodes, CN = system:node:cp-1');
  assert.equal(f.extKeyUsage, 'TLS Web Client Authentication');
  assert.equal(f.keyUsage, 'Digital Signature (critical)');
  assert.equal(f.basicConstraints, 'CA:FALSE (critical)');
  assert.match(opensslVerify(caFile, file, 'sslclient'), /: OK$/);
  const certPub = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', file]).toString();
  const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', file]).toString();
  assert.equal(certPub, keyPub);
  const link = fs.readlinkSync(path.join(root, CURRENT));
  assert.equal(link, `/${PEM}`, 'absolute symlink, as the kubelet makes it');
}

test('kubelet credentials: a system:node cert from the CA, stored as the kubelet stores it, and kubelet.conf pointing at it', async () => {
  const root = copyFixture();
  const oldTarget = fs.readlinkSync(path.join(root, CURRENT));
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r.code, 0, r.err);
  checkPem(root, path.join(root, 'etc/kubernetes/pki/ca.crt'));
  assert.ok(fs.existsSync(path.join(root, oldTarget)), 'the previous pem stays');
  const k = kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));
  assert.equal(k.users[0].name, 'system:node:cp-1', 'names kept');
  assert.equal(k.users[0].user['client-certificate'], `/var/lib/kubelet/pki/kubelet-client-current.pem`);
  assert.equal(k.clusters[0].cluster.server, 'https://cluster-api.example.test:6443');
  // everything else in kubelet.conf is byte-identical
  assert.equal(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'), fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubelet.conf'), 'utf8'));
});

test('after a rebuild with a new CA, kubelet credentials re-issue the kubelet identity from it (the rebuild follow-up)', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const rb = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(rb.code, 0, rb.err);
  assert.match(rb.out, /kubepki kubelet credentials --node cp-1/);
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r.code, 0, r.err);
  checkPem(root, path.join(root, 'etc/kubernetes/pki/ca.crt'));
  const k = kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));
  // kubeadm's embedded data became file references (the kubelet-finalize shape)
  assert.equal(k.users[0].user['client-certificate-data'], undefined);
  assert.equal(k.users[0].user['client-key'], '/var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.equal(Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'utf8'));
});

test('a wiped worker: CA from the host, kubelet.conf in the shape the kubelet writes after bootstrap', async () => {
  const root = tmpDir();
  const ca = path.join(KUBEADM_126, 'etc/kubernetes/pki/ca.crt');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW, '--ca-cert', ca, '--control-plane-endpoint', 'cluster-api.example.test:6443', '--validity', '30d');
  assert.equal(r.code, 0, r.err);
  checkPem(root, ca);
  const end = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', path.join(root, PEM)]).toString().trim();
  assert.equal(end, 'notAfter=Dec 23 00:00:00 2026 GMT');
  const k = parse(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'));
  assert.equal(k['current-context'], 'default-context');
  assert.equal(k.contexts[0].context.namespace, 'default');
  assert.equal(k.users[0].name, 'default-auth');
  assert.equal(k.clusters[0].name, 'default-cluster');
  assert.equal(k.clusters[0].cluster.server, 'https://cluster-api.example.test:6443');
  kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));

  const noKey = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--ca-cert', path.join(root, 'nope.crt'));
  assert.equal(noKey.code, 3);
  assert.match(noKey.err, /failed to read CA certificate/);
});

test('kubelet credentials --bootstrap: bootstrap-kubelet.conf with a token, stale credentials removed (backed up), token Secret to apply', async () => {
  const root = copyFixture();
  const out = path.join(tmpDir(), 'token.yaml');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--out', out);
  assert.equal(r.code, 0, r.err);
  const k = kubectlView(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'));
  assert.equal(k.users[0].name, 'tls-bootstrap-token-user');
  assert.match(k.users[0].user.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.equal(k['current-context'], 'tls-bootstrap-token-user@kubernetes');
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')), false);
  assert.equal(fs.existsSync(path.join(root, CURRENT)) || (() => { try { fs.lstatSync(path.join(root, CURRENT)); return true; } catch { return false; } })(), false);
  const secret = parse(fs.readFileSync(out, 'utf8'));
  assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
  assert.equal(`${Buffer.from(secret.data['token-id'], 'base64')}.${Buffer.from(secret.data['token-secret'], 'base64')}`, k.users[0].user.token);
  const backup = /Backup: (\S+)/.exec(r.out)?.[1];
  assert.ok(backup && fs.existsSync(path.join(backup, 'files/etc/kubernetes/kubelet.conf')), r.out);
});
