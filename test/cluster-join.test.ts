import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { FakeApiServer, MemoryObjects, recorded, serviceUnavailable, unauthorized, FIXTURES } from './support/fake-apiserver.js';
import { verifyClusterInfoJws } from '../src/pki/jws.js';
import { readClusterInfo } from '../src/cluster/cluster-info.js';
import { readTokenSecret, tokenSecretManifest } from '../src/pki/bootstrap-token.js';
import { openFiles, parseCertificateKey } from '../src/pki/upload-certs.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-join-'));
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

// A copy: commands under test take the node lock under --root, and fixtures are never written.
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-cluster-join-root-'));
fs.cpSync(path.join(FIXTURES, 'kubeadm-1.26'), ROOT, { recursive: true, verbatimSymlinks: true });
after(() => fs.rmSync(ROOT, { recursive: true, force: true }));
const NOW = '2026-11-22T22:00:00Z';
const rec = (p: string) => recorded('bootstrap-token.json', (r) => r.method === 'GET' && r.path === p && r.identity.startsWith('kubernetes-admin')).responseBody as any;

/** The recorded cluster: token w7k2qx and a cluster-info signed for it, as live objects. */
async function cluster(): Promise<{ s: FakeApiServer; mem: MemoryObjects; kc: string }> {
  const s = await FakeApiServer.start();
  servers.push(s);
  const mem = new MemoryObjects(s, ['secrets', 'configmaps', 'roles', 'rolebindings']);
  mem.put('secrets', rec('/api/v1/namespaces/kube-system/secrets/bootstrap-token-w7k2qx'));
  mem.put('configmaps', rec('/api/v1/namespaces/kube-public/configmaps/cluster-info'));
  return { s, mem, kc: await s.kubeconfig(tmp) };
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({});
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

function opensslHash(certPath: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-pubkey']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub });
  return `sha256:${execFileSync('openssl', ['dgst', '-sha256', '-hex'], { input: der }).toString().trim().split(/\s+/).pop()}`;
}

test('cluster-info update --create-token after a new CA: JWS verifies with the token, CA hash equals the printed one', async () => {
  const { s, mem, kc } = await cluster();
  const ca = path.join(tmp, 'new-ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tmp, 'new-ca.key'), '-out', ca, '-subj', '/CN=kubernetes', '-days', '3650'], { stdio: 'ignore' });
  const rvBefore = mem.get('configmaps', 'kube-public', 'cluster-info').metadata.resourceVersion;
  const r = await cli(['cluster-info', 'update', '--create-token', '--ca', ca, '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  const join = /kubeadm join cluster-api\.example\.test:6443 --token ([a-z0-9]{6})\.([a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(r.out);
  assert.ok(join, r.out);
  const [, id, secret, hash] = join;
  assert.equal(hash, opensslHash(ca), 'the printed hash is the new CA\'s (openssl)');

  const cm = mem.get('configmaps', 'kube-public', 'cluster-info');
  const view = readClusterInfo(cm.data);
  assert.deepEqual(view.caHashes, [hash]);
  assert.equal(view.server, 'https://cluster-api.example.test:6443', 'the server cluster-info had is kept');
  assert.equal(view.caPem, fs.readFileSync(ca, 'utf8'));
  assert.ok(verifyClusterInfoJws(cm.data[`jws-kubeconfig-${id}`], cm.data.kubeconfig, id!, secret!), 'JWS of the new token verifies');
  assert.ok(verifyClusterInfoJws(cm.data['jws-kubeconfig-w7k2qx'], cm.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0c'), 'the existing valid token is re-signed');
  assert.notEqual(cm.data['jws-kubeconfig-w7k2qx'], rec('/api/v1/namespaces/kube-public/configmaps/cluster-info').data['jws-kubeconfig-w7k2qx']);

  const tok = mem.get('secrets', 'kube-system', `bootstrap-token-${id}`);
  assert.deepEqual(tok.data, tokenSecretManifest({ token: `${id}.${secret}`, ttl: '24h' }, new Date(NOW)).data);
  assert.equal(tok.type, 'bootstrap.kubernetes.io/token');
  assert.equal(readTokenSecret(tok, new Date(NOW))!.expiration!.toISOString(), '2026-11-23T22:00:00.000Z');
  // writes: the token Secret (POST) and cluster-info (PUT with the resourceVersion read), nothing else
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), [
    'POST /api/v1/namespaces/kube-system/secrets',
    'PUT /api/v1/namespaces/kube-public/configmaps/cluster-info',
  ]);
  assert.equal(s.writes()[1]!.body.metadata.resourceVersion, rvBefore, 'the PUT carries the resourceVersion read');
  assert.match(r.out, /verified: cluster-info's JWS for [a-z0-9]{6} verifies with the token/);
});

test('cluster-info update verifies that joining nodes can read cluster-info as kubeadm join does, with no credentials: a cluster without kubeadm\'s anonymous Role/RoleBinding (or with --anonymous-auth=false) is exit 2 with the kubectl commands that make them (read back as the admin, it verified, and every join failed)', async () => {
  const { s, mem, kc } = await cluster();
  const r = await cli(['cluster-info', 'update', '--create-token', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  const anonymous = s.received.filter((x) => x.identity === 'anonymous');
  assert.deepEqual(anonymous.map((x) => `${x.method} ${x.path}`), ['GET /api/v1/namespaces/kube-public/configmaps/cluster-info'], 'read once as nobody, after the writes');
  assert.ok(s.received.indexOf(anonymous[0]!) > s.received.indexOf(s.writes().at(-1)!));

  mem.anonymousClusterInfo = false;
  const denied = await cli(['cluster-info', 'update', '--create-token', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(denied.code, 2, denied.err);
  const [line, hint] = denied.err.trimEnd().split('\n');
  assert.equal(line, 'kubepki: failed to verify kube-public/cluster-info: joining nodes cannot read it (kubeadm join reads it as system:anonymous): configmaps "cluster-info" is forbidden: User "system:anonymous" cannot get resource "configmaps" in API group "" in the namespace "kube-public" (403 Forbidden)');
  assert.match(hint!, /kubectl -n kube-public create role kubeadm:bootstrap-signer-clusterinfo --verb=get --resource=configmaps --resource-name=cluster-info && kubectl -n kube-public create rolebinding kubeadm:bootstrap-signer-clusterinfo --role=kubeadm:bootstrap-signer-clusterinfo --user=system:anonymous$/);

  // --anonymous-auth=false: the API server answers 401 to a request without credentials
  const { s: t, kc: kt } = await cluster();
  t.route('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', (req) => (req.identity === 'anonymous' ? unauthorized() : undefined));
  const off = await cli(['cluster-info', 'update', '--create-token', '--kubeconfig', kt, '--root', ROOT, '--now', NOW]);
  assert.equal(off.code, 2, off.err);
  assert.match(off.err, /joining nodes cannot read it .*: the API server https:\/\/127\.0\.0\.1:\d+ refuses requests without credentials \(401 Unauthorized\)\n.*--discovery-file/);
});

test('cluster-info update with the same CA keeps the kubeconfig byte for byte; expired tokens lose their signature', async () => {
  const { mem, kc } = await cluster();
  const before = rec('/api/v1/namespaces/kube-public/configmaps/cluster-info');
  // after w7k2qx expired (2026-11-23T21:43:39Z): its signature must go
  const r = await cli(['cluster-info', 'update', '--token', 'abcdef.0123456789abcdef', '--kubeconfig', kc, '--root', ROOT, '--now', '2026-11-24T00:00:00Z']);
  assert.equal(r.code, 0, r.err);
  const cm = mem.get('configmaps', 'kube-public', 'cluster-info');
  assert.equal(cm.data.kubeconfig, before.data.kubeconfig);
  assert.deepEqual(Object.keys(cm.data).sort(), ['jws-kubeconfig-abcdef', 'kubeconfig']);
  assert.match(r.out, /discovery-token-ca-cert-hash: (sha256:[0-9a-f]{64})/);
  assert.ok(r.out.includes(opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt'))));
  assert.match(r.out, /kubeadm join cluster-api\.example\.test:6443 --token abcdef\.0123456789abcdef/);
});

// kubeadm token create refuses a token id that exists ("a token with id … already exists"): its Secret was
// replaced, which locked out whoever held the other secret of that id.
test('cluster-info update --token whose id is a token with another secret refuses and changes nothing; the same token again is a re-run', async () => {
  const { mem, kc } = await cluster();
  const before = structuredClone(mem.get('secrets', 'kube-system', 'bootstrap-token-w7k2qx'));
  const cmBefore = structuredClone(mem.get('configmaps', 'kube-public', 'cluster-info'));
  const r = await cli(['cluster-info', 'update', '--token', 'w7k2qx.0123456789abcdef', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(r.code, 3, r.err + r.out);
  assert.match(r.err, /^kubepki: bootstrap token w7k2qx already exists in kube-system \(Secret bootstrap-token-w7k2qx\) with another secret/m);
  assert.match(r.err, /kubectl -n kube-system delete secret bootstrap-token-w7k2qx/);
  assert.doesNotMatch(r.err + r.out, /9fj3m1r8t4zq6b0c/, 'the existing secret is not printed');
  assert.deepEqual(mem.get('secrets', 'kube-system', 'bootstrap-token-w7k2qx'), before);
  assert.deepEqual(mem.get('configmaps', 'kube-public', 'cluster-info'), cmBefore);
  const again = await cli(['cluster-info', 'update', '--token', 'w7k2qx.9fj3m1r8t4zq6b0c', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(again.code, 0, again.err + again.out);
  assert.equal(readTokenSecret(mem.get('secrets', 'kube-system', 'bootstrap-token-w7k2qx'), new Date(NOW))?.secret, '9fj3m1r8t4zq6b0c');
});

// Only a 404 means there is no cluster-info yet (a new cluster, where the kubeconfig's server is the one to publish).
// A read that failed otherwise (503, a server that never answers) was taken the same way: update went on, made a
// token and replaced cluster-info with the kubeconfig's server (a node's own address instead of the load balancer's).
test('cluster-info update whose read of cluster-info fails (503, or no answer) stops there, in one line: no token made, cluster-info left as it was', async () => {
  for (const [what, arrange, says] of [
    ['503', (s: FakeApiServer) => s.route('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', () => serviceUnavailable()), /answered 503: service unavailable/],
    ['no answer', (s: FakeApiServer) => s.hold('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info'), /did not answer within 2s/],
  ] as const) {
    const { s, mem, kc } = await cluster();
    arrange(s);
    const before = structuredClone(mem.get('configmaps', 'kube-public', 'cluster-info'));
    // (2s: the calls before it, answered, must not time out on a loaded machine)
    const r = await cli(['cluster-info', 'update', '--create-token', '--kubeconfig', kc, '--root', ROOT, '--now', NOW, '--request-timeout', '2']);
    assert.equal(r.code, 3, `${what}: ${r.err}`);
    const lines = r.err.trimEnd().split('\n');
    assert.ok(lines.length <= 2, r.err);
    assert.match(lines[0]!, /^kubepki: failed to read ConfigMap kube-public\/cluster-info: /, what);
    assert.match(lines[0]!, says, what);
    assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), [], `${what}: nothing written`);
    assert.deepEqual(mem.get('configmaps', 'kube-public', 'cluster-info'), before, what);
  }
});

test('cluster-info update --discovery-hash that does not match fails with exit 2 after reading back', async () => {
  const { kc } = await cluster();
  const r = await cli(['cluster-info', 'update', '--discovery-hash', `sha256:${'0'.repeat(64)}`, '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(r.code, 2);
  assert.match(r.err, /is not the join command's sha256:0{64}/);
});

test('--upload-certs: kubeadm-certs owned by a 2h token, decrypts to the node\'s files with the printed key', async () => {
  const { mem, kc } = await cluster();
  const r = await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  const key = /--certificate-key ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(key, r.out);
  const certs = mem.get('secrets', 'kube-system', 'kubeadm-certs');
  const files = openFiles(parseCertificateKey(key), certs.data);
  assert.deepEqual(Object.keys(files).sort(), ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  for (const [rel, content] of Object.entries(files)) assert.deepEqual(content, fs.readFileSync(path.join(ROOT, 'etc/kubernetes/pki', rel)), rel);
  const owner = certs.metadata.ownerReferences[0];
  const ownerSecret = mem.get('secrets', 'kube-system', owner.name);
  assert.equal(owner.uid, ownerSecret.metadata.uid);
  assert.equal(owner.controller, true);
  // the owner token looks like kubeadm's (recorded bootstrap-token-gwhrie): no usages, no groups
  const recordedOwner = recorded('upload-certs.json', (x) => x.path.endsWith('bootstrap-token-gwhrie')).responseBody as any;
  assert.deepEqual(Object.keys(ownerSecret.data).sort(), Object.keys(recordedOwner.data).sort());
  assert.equal(Buffer.from(ownerSecret.data.description, 'base64').toString(), Buffer.from(recordedOwner.data.description, 'base64').toString());
  assert.equal(Buffer.from(ownerSecret.data.expiration, 'base64').toString(), '2026-11-23T00:00:00Z');
  // kubeadm's upload-certs RBAC: bootstrap tokens may get kubeadm-certs (a cluster made without --upload-certs has none)
  const role = mem.get('roles', 'kube-system', 'kubeadm:kubeadm-certs');
  assert.deepEqual(role.rules, [{ apiGroups: [''], resourceNames: ['kubeadm-certs'], resources: ['secrets'], verbs: ['get'] }]);
  const binding = mem.get('rolebindings', 'kube-system', 'kubeadm:kubeadm-certs');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadm:kubeadm-certs' });
  assert.deepEqual(binding.subjects, [{ kind: 'Group', name: 'system:bootstrappers:kubeadm:default-node-token' }]);
  assert.match(r.out, /ensured Role and RoleBinding kube-system\/kubeadm:kubeadm-certs/);
  // a second upload finds them (409) and replaces them: still one of each, still right
  const again = await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.equal(again.code, 0, again.err);
  assert.equal([...mem.objects.keys()].filter((k) => k.startsWith('roles/') || k.startsWith('rolebindings/')).length, 2);
  assert.notEqual(mem.get('roles', 'kube-system', 'kubeadm:kubeadm-certs').metadata.resourceVersion, role.metadata.resourceVersion, 'replaced');
});

test('--upload-certs by an identity that may not write RBAC stops before any token or key is in the cluster', async () => {
  const { s, mem, kc } = await cluster();
  // the API server's Forbidden, shaped as the recorded ones (errors.json)
  s.route('POST', /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/namespaces\/kube-system\/roles(\?.*)?$/, () => ({
    status: 403,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'roles.rbac.authorization.k8s.io is forbidden: User "ops" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "kube-system"', reason: 'Forbidden', details: { group: 'rbac.authorization.k8s.io', kind: 'roles' }, code: 403 },
  }));
  const before = [...mem.objects.keys()].sort();
  const r = await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--kubeconfig', kc, '--root', ROOT, '--now', NOW]);
  assert.ok(r.code >= 3, r.err);
  assert.equal(r.err.trim().split('\n')[0]!.startsWith('kubepki:'), true, r.err);
  assert.match(r.err, /forbidden/i);
  assert.deepEqual([...mem.objects.keys()].sort(), before, 'no token, no kubeadm-certs, no cluster-info change');
});

/** Only reads reached the server (GETs, with admin credentials or none): nothing was written. */
function onlyReads(s: FakeApiServer): void {
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), [], 'no write request');
  assert.deepEqual(s.received.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`), []);
}

test('cluster-info update --dry-run after a new CA: names the token Secret and its expiry, the server and CA hash to publish (old and new), the signatures, kubeadm-certs; only reads; the run without it writes exactly that', async () => {
  const { s, mem, kc } = await cluster();
  const ca = path.join(tmp, 'dry-new-ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(tmp, 'dry-new-ca.key'), '-out', ca, '-subj', '/CN=kubernetes', '-days', '3650'], { stdio: 'ignore' });
  const oldHash = opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt'));
  const newHash = opensslHash(ca);
  const key = 'a'.repeat(64);
  const before = structuredClone([...mem.objects.entries()]);
  const argv = ['cluster-info', 'update', '--token', 'abcdef.0123456789abcdef', '--upload-certs', '--certificate-key', key, '--ca', ca, '--kubeconfig', kc, '--root', ROOT, '--now', NOW];
  const dry = await cli([...argv, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.equal(dry.err, '');
  const lines = dry.out.split('\n');
  assert.deepEqual(lines.slice(0, 8), [
    'would create Role and create RoleBinding kube-system/kubeadm:kubeadm-certs (bootstrap tokens may get kubeadm-certs)',
    'would create Secret kube-system/bootstrap-token-abcdef (expires 2026-11-23T22:00:00Z), usages authentication, signing',
    'would update ConfigMap kube-public/cluster-info (new CA/server):',
    '  server: https://cluster-api.example.test:6443',
    `  - CA: ${oldHash}`,
    `  + CA: ${newHash}`,
    '  signatures: jws-kubeconfig-w7k2qx (re-signed), jws-kubeconfig-abcdef (added)',
    'would create Secret kube-system/bootstrap-token-<id> for a new random 2h token without usages (it owns kubeadm-certs: "Proxy for managing TTL for the kubeadm-certs secret")',
  ], dry.out);
  assert.match(lines[8]!, /^would create Secret kube-system\/kubeadm-certs \(owned by that token, deleted with it in 2h\), encrypted: ca\.crt, ca\.key, etcd-ca\.crt, etcd-ca\.key, front-proxy-ca\.crt, front-proxy-ca\.key, sa\.key, sa\.pub$/);
  assert.ok(dry.out.includes(`discovery-token-ca-cert-hash: ${newHash}\n`), dry.out);
  const joinLine = `kubeadm join cluster-api.example.test:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${newHash} --control-plane --certificate-key ${key}`;
  assert.ok(dry.out.includes(`join with, once written:\n  ${joinLine}\n`), dry.out);
  assert.ok(dry.out.endsWith('\nDry run: nothing was written.\n'), dry.out);
  onlyReads(s);
  assert.deepEqual([...mem.objects.entries()], before, 'the cluster is as it was');

  const real = await cli(argv);
  assert.equal(real.code, 0, real.err);
  assert.ok(real.out.includes(`join with:\n  ${joinLine}\n`), real.out);
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`).filter((w) => !w.includes('/bootstrap-token-') || w.startsWith('POST')), [
    'POST /apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles',
    'POST /apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings',
    'POST /api/v1/namespaces/kube-system/secrets',
    'PUT /api/v1/namespaces/kube-public/configmaps/cluster-info',
    'POST /api/v1/namespaces/kube-system/secrets',
    'POST /api/v1/namespaces/kube-system/secrets',
  ]);
  const tok = readTokenSecret(mem.get('secrets', 'kube-system', 'bootstrap-token-abcdef'), new Date(NOW))!;
  assert.equal(tok.expiration!.toISOString(), '2026-11-23T22:00:00.000Z');
  assert.deepEqual([...tok.usages].sort(), ['authentication', 'signing']);
  const view = readClusterInfo(mem.get('configmaps', 'kube-public', 'cluster-info').data);
  assert.deepEqual([view.server, view.caHashes, view.signedBy], ['https://cluster-api.example.test:6443', [newHash], ['abcdef', 'w7k2qx']]);
  assert.deepEqual(Object.keys(mem.get('secrets', 'kube-system', 'kubeadm-certs').data).sort(), ['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  // and again: what is there now is replaced, the kubeconfig kept byte for byte
  const again = await cli([...argv, '--dry-run']);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /^would replace Role and replace RoleBinding kube-system\/kubeadm:kubeadm-certs /m);
  assert.match(again.out, /^would replace Secret kube-system\/bootstrap-token-abcdef /m);
  assert.match(again.out, /^would update ConfigMap kube-public\/cluster-info \(CA and server unchanged, the kubeconfig kept byte for byte\):\n {2}server: \S+\n {2}CA: sha256:[0-9a-f]{64}\n {2}signatures: jws-kubeconfig-abcdef \(kept\), jws-kubeconfig-w7k2qx \(kept\)$/m);
  assert.match(again.out, /^would replace Secret kube-system\/kubeadm-certs /m);
});

test('cluster-info update --create-token --upload-certs --dry-run names no token or key it drew (the run that writes draws its own); -o json says dryRun; a token id that is someone else\'s is refused as without it (exit 3); a CA not --discovery-hash, or a cluster-info joiners may not read, is exit 2', async () => {
  const { s, mem, kc } = await cluster();
  const base = ['--kubeconfig', kc, '--root', ROOT, '--now', NOW];
  const dry = await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--dry-run', ...base]);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /^would create Secret kube-system\/bootstrap-token-<id> for a new random token \(expires 2026-11-23T22:00:00Z\), usages authentication, signing; its id and secret are drawn when it is written/m);
  assert.match(dry.out, /signatures: jws-kubeconfig-w7k2qx \(kept\), jws-kubeconfig-<new token> \(added\)$/m);
  assert.match(dry.out, /--token <new token> --discovery-token-ca-cert-hash sha256:[0-9a-f]{64} --control-plane --certificate-key <new certificate key>\n/);
  assert.doesNotMatch(dry.out, /[a-z0-9]{6}\.[a-z0-9]{16}|--certificate-key [0-9a-f]|bootstrap-token-[a-z0-9]{6}\b/, 'no token or key drawn for nothing');
  const json = JSON.parse((await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--dry-run', '-o', 'json', ...base])).out);
  assert.equal(json.kind, 'ClusterInfoUpdate');
  assert.equal(json.dryRun, true);
  assert.equal(json.certificateKey, undefined);
  assert.deepEqual(json.problems, []);
  onlyReads(s);

  const someone = await cli(['cluster-info', 'update', '--token', 'w7k2qx.0123456789abcdef', '--dry-run', ...base]);
  assert.equal(someone.code, 3, someone.err);
  assert.match(someone.err, /^kubepki: bootstrap token w7k2qx already exists in kube-system \(Secret bootstrap-token-w7k2qx\) with another secret/);
  const hash = await cli(['cluster-info', 'update', '--discovery-hash', `sha256:${'0'.repeat(64)}`, '--dry-run', ...base]);
  assert.equal(hash.code, 2, hash.err);
  assert.match(hash.err, /^kubepki: the run would not verify: the CA to publish has hash sha256:[0-9a-f]{64}, not the join command's sha256:0{64}/);
  assert.match(hash.out, /Dry run: nothing was written\.\n$/);
  mem.anonymousClusterInfo = false;
  const anon = await cli(['cluster-info', 'update', '--dry-run', ...base]);
  assert.equal(anon.code, 2, anon.err);
  assert.match(anon.err, /^kubepki: the run would not verify: kube-public\/cluster-info: joining nodes cannot read it \(kubeadm join reads it as system:anonymous\): .*403 Forbidden\); hint: create what kubeadm init creates/);
  onlyReads(s);
});

test('join --apply --dry-run: writes no manifests file (says where it would go) and only reads the cluster, naming the objects --apply would put there; the run without it writes them, with the same join commands', async () => {
  const { s, mem, kc } = await cluster();
  const out = path.join(tmp, `join-dry-${Date.now()}.yaml`);
  const key = 'b'.repeat(64);
  const argv = ['join', '--root', ROOT, '--apply', kc, '--out', out, '--now', NOW, '--control-plane', '--token', 'abcdef.0123456789abcdef', '--certificate-key', key];
  const before = structuredClone([...mem.objects.entries()]);
  const dry = await cli([...argv, '--dry-run']);
  assert.equal(dry.code, 0, dry.err + dry.out);
  assert.equal(fs.existsSync(out), false, 'no manifests file');
  assert.match(dry.out, /^Would apply to the cluster at https:\/\/127\.0\.0\.1:\d+ \(kubeconfig .*\):$/m);
  for (const step of [
    'would create Role and create RoleBinding kube-system/kubeadm:kubeadm-certs',
    'would create Secret kube-system/bootstrap-token-abcdef (expires 2026-11-23T22:00:00Z), usages authentication, signing',
    'would update ConfigMap kube-public/cluster-info (CA and server unchanged, the kubeconfig kept byte for byte):',
    '  signatures: jws-kubeconfig-w7k2qx (kept), jws-kubeconfig-abcdef (added)',
    'would create Secret kube-system/kubeadm-certs',
  ]) assert.ok(dry.out.includes(`\n  ${step}`), `${step}\n${dry.out}`);
  assert.ok(dry.out.endsWith(`\nDry run: nothing was written (the manifests would go to ${out}, mode 0600).\n`), dry.out);
  onlyReads(s);
  assert.deepEqual([...mem.objects.entries()], before);

  const real = await cli(argv);
  assert.equal(real.code, 0, real.err + real.out);
  assert.ok(fs.existsSync(out));
  // the same join commands, the token and key given: what the dry run printed is what was made
  const commands = (r: { out: string }) => r.out.slice(r.out.indexOf('2. On each worker node:'), r.out.indexOf('(delete the kubeadm-certs'));
  assert.equal(commands(real), commands(dry));
  assert.ok(commands(real).includes(`--token abcdef.0123456789abcdef`) && commands(real).includes(`--certificate-key ${key}`), real.out);
  assert.deepEqual(readClusterInfo(mem.get('configmaps', 'kube-public', 'cluster-info').data).signedBy, ['abcdef', 'w7k2qx']);
  assert.equal(readTokenSecret(mem.get('secrets', 'kube-system', 'bootstrap-token-abcdef'), new Date(NOW))!.expiration!.toISOString(), '2026-11-23T22:00:00.000Z');
  assert.ok(mem.get('secrets', 'kube-system', 'kubeadm-certs'));
  assert.ok(s.writes().length >= 5);

  // an --out that is there: the dry run refuses it as the run does, before asking the cluster
  const asked = s.received.length;
  const taken = await cli(['join', '--root', ROOT, '--apply', kc, '--out', out, '--now', NOW, '--dry-run']);
  assert.equal(taken.code, 3);
  assert.match(taken.err, new RegExp(`^kubepki: failed to write ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it exists\n  hint: pass --force`));
  assert.equal(s.received.length, asked);
});

test('cluster-info show verifies the recorded signature', async () => {
  const s = await FakeApiServer.start({ recordings: ['bootstrap-token.json'] });
  servers.push(s);
  const r = await cli(['cluster-info', 'show', '--kubeconfig', await s.kubeconfig(tmp), '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /server: https:\/\/cluster-api\.example\.test:6443/);
  assert.match(r.out, /jws-kubeconfig-w7k2qx: verifies/);
  assert.ok(r.out.includes(`CA: ${opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt'))}`));
});

test('against a real cluster (KUBEPKI_TEST_KUBECONFIG): cluster-info show verifies every signature', { skip: !process.env.KUBEPKI_TEST_KUBECONFIG }, async () => {
  const r = await cli(['cluster-info', 'show', '--kubeconfig', process.env.KUBEPKI_TEST_KUBECONFIG!, '-o', 'json']);
  assert.ok(r.code < 3, r.err);
  const doc = JSON.parse(r.out);
  assert.ok(doc.caHashes.every((h: string) => /^sha256:[0-9a-f]{64}$/.test(h)));
  for (const sig of doc.signatures) if (!sig.tokenMissing) assert.equal(sig.verifies, true, sig.token);
});

test('applyClusterCommand (join --apply / rebuild --apply-cluster): waits for a starting API server, then publishes and verifies', async () => {
  const { applyClusterCommand } = await import('../src/cli/cluster-info.js');
  const { closedPort } = await import('./support/fake-apiserver.js');
  const port = await closedPort();
  // a kubeconfig for a server that is not up yet
  const probe = await FakeApiServer.start();
  servers.push(probe);
  const kcText = fs.readFileSync(await probe.kubeconfig(tmp), 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, `https://127.0.0.1:${port}`);
  const kc = path.join(tmp, 'later.conf');
  fs.writeFileSync(kc, kcText);
  let mem: MemoryObjects | undefined;
  const starting = new Promise<void>((resolve) => setTimeout(async () => {
    const s = await FakeApiServer.start({ port });
    servers.push(s);
    mem = new MemoryObjects(s, ['secrets', 'configmaps', 'roles', 'rolebindings']);
    mem.put('configmaps', rec('/api/v1/namespaces/kube-public/configmaps/cluster-info'));
    resolve();
  }, 700));
  const io = memoryIo({});
  const r = await applyClusterCommand(io, { root: ROOT, kubeconfig: kc, now: new Date(NOW), waitSeconds: 20 });
  await starting;
  assert.equal(io.exitCode, 0);
  assert.match(io.out, /waiting for the API server/);
  assert.match(r.joinCommand!, /^kubeadm join cluster-api\.example\.test:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$/);
  const [, id, secret] = /--token ([a-z0-9]{6})\.([a-z0-9]{16})/.exec(r.joinCommand!)!;
  const cm = mem!.get('configmaps', 'kube-public', 'cluster-info');
  assert.ok(verifyClusterInfoJws(cm.data[`jws-kubeconfig-${id}`], cm.data.kubeconfig, id!, secret!));
  assert.deepEqual(readClusterInfo(cm.data).caHashes, [r.discoveryHash]);
  assert.equal(r.discoveryHash, opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt')));
});

test('rebuild --apply-cluster: after a rebuild with a new CA, cluster-info carries it, signed for the new token', async () => {
  const { copyFixture, deleteAllButManifests } = await import('./rebuild-support.js');
  const root = copyFixture();
  deleteAllButManifests(root);
  const { s, mem, kc } = await cluster();
  const argv = ['rebuild', '--root', root, '--now', '2026-11-23T00:00:00Z', '--control-plane-endpoint', 'cluster-api.example.test:6443', '--apply-cluster', kc];
  // a dry run says what --apply-cluster would do, and asks the cluster nothing (the CA it would publish is not written yet)
  const dry = await cli([...argv, '--dry-run']);
  assert.equal(dry.code, 0, dry.err + dry.out);
  assert.match(dry.out, /^--apply-cluster: after writing, the run waits for the API server, publishes this node's CA in kube-public\/cluster-info signed for a new 24h join token and verifies it; a dry run does not ask the cluster\.$/m);
  assert.deepEqual(s.received, []);
  const r = await cli(argv);
  assert.equal(r.code, 0, r.err + r.out);
  const newCa = path.join(root, 'etc/kubernetes/pki/ca.crt');
  const hash = opensslHash(newCa);
  assert.notEqual(hash, opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt')), 'rebuild made a new CA');
  const join = /kubeadm join cluster-api\.example\.test:6443 --token ([a-z0-9]{6})\.([a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(r.out);
  assert.ok(join, r.out);
  assert.equal(join[3], hash);
  const cm = mem.get('configmaps', 'kube-public', 'cluster-info');
  assert.deepEqual(readClusterInfo(cm.data).caHashes, [hash]);
  assert.ok(verifyClusterInfoJws(cm.data[`jws-kubeconfig-${join[1]}`], cm.data.kubeconfig, join[1]!, join[2]!));
  fs.rmSync(root, { recursive: true, force: true });
});

test('join --apply: cluster-info JWS verifies with the printed token and its CA hash equals the printed --discovery-token-ca-cert-hash', async () => {
  const { mem, kc, s } = await cluster();
  const out = path.join(tmp, `join-${Date.now()}.yaml`);
  const r = await cli(['join', '--root', ROOT, '--apply', kc, '--out', out, '--now', NOW, '--control-plane']);
  assert.equal(r.code, 0, r.err + r.out);
  const tok = /--token ([a-z0-9]{6})\.([a-z0-9]{16})/.exec(r.out);
  const hash = /--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(r.out)?.[1];
  const key = /--certificate-key ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(tok && hash && key, r.out);
  const [, id, secret] = tok;
  const cm = mem.get('configmaps', 'kube-public', 'cluster-info');
  assert.ok(verifyClusterInfoJws(cm.data[`jws-kubeconfig-${id}`], cm.data.kubeconfig, id!, secret!), 'JWS verifies with the token secret');
  assert.deepEqual(readClusterInfo(cm.data).caHashes, [hash], 'cluster-info pins the printed hash');
  assert.equal(hash, opensslHash(path.join(ROOT, 'etc/kubernetes/pki/ca.crt')));
  const t = readTokenSecret(mem.get('secrets', 'kube-system', `bootstrap-token-${id}`), new Date(NOW))!;
  assert.equal(t.secret, secret);
  // the kubeadm-certs uploaded through the API open with the printed certificate key
  const files = openFiles(parseCertificateKey(key!), mem.get('secrets', 'kube-system', 'kubeadm-certs').data);
  assert.deepEqual(files['ca.key'], fs.readFileSync(path.join(ROOT, 'etc/kubernetes/pki/ca.key')));
  assert.match(r.out, /Applied to the cluster at https:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.out, /verified: cluster-info's JWS for [a-z0-9]{6} verifies with the token, its CA hash is sha256:/);
  assert.ok(s.writes().length >= 4);
});

test('cluster-info update --upload-certs on a node whose certificatesDir is /srv/kubernetes/pki (its manifests say so) publishes and seals that PKI: it read /etc/kubernetes/pki/ca.crt and failed, and would have sealed eight empty files', async () => {
  const { mem, kc } = await cluster();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-cluster-join-srv-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.cpSync(path.join(FIXTURES, 'kubeadm-1.26'), root, { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'srv/kubernetes'), { recursive: true });
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'srv/kubernetes/pki'));
  for (const f of ['etc/kubernetes/manifests/kube-apiserver.yaml', 'etc/kubernetes/manifests/kube-controller-manager.yaml', 'etc/kubernetes/manifests/etcd.yaml', 'var/lib/kubelet/config.yaml']) {
    const p = path.join(root, f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replaceAll('/etc/kubernetes/pki', '/srv/kubernetes/pki'));
  }
  const r = await cli(['cluster-info', 'update', '--create-token', '--upload-certs', '--kubeconfig', kc, '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  const ca = path.join(root, 'srv/kubernetes/pki/ca.crt');
  assert.match(r.out, new RegExp(`--discovery-token-ca-cert-hash ${opensslHash(ca)}`));
  const key = /--certificate-key ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(key, r.out);
  const files = openFiles(parseCertificateKey(key), mem.get('secrets', 'kube-system', 'kubeadm-certs').data);
  assert.deepEqual(Object.keys(files).sort(), ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  for (const [rel, content] of Object.entries(files)) assert.deepEqual(content, fs.readFileSync(path.join(root, 'srv/kubernetes/pki', rel)), rel);
  assert.deepEqual(readClusterInfo(mem.get('configmaps', 'kube-public', 'cluster-info').data).caHashes, [opensslHash(ca)]);
});
