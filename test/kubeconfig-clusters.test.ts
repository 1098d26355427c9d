// Which kubeconfigs say something about this node's API server. A kubeconfig the kube-apiserver itself
// reads (an audit webhook) or another cluster in a user's kubeconfig must not make check ask for SANs or
// report a CA mismatch; a kubeadm kubeconfig with another CA must; a CA bundle (a rotation) or a root
// above an intermediate must verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { Inventory } from '../src/inventory/types.js';
import { k3sYaml, makeCa, makeLeaf, put } from './support/trees.js';
import { copyFixture, NOW, openssl, tmpDir } from './support/fixtures.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ISSUED = new Date('2026-01-01T00:00:00Z');

function kubeconfig(clusters: { name: string; server: string; ca: string }[], user?: { cert: string; key: string }): string {
  return [
    'apiVersion: v1', 'kind: Config', 'clusters:',
    ...clusters.flatMap((c) => [`- name: ${c.name}`, '  cluster:', `    server: ${c.server}`, `    certificate-authority-data: ${b64(c.ca)}`]),
    'contexts:', `- name: ctx`, '  context:', `    cluster: ${clusters[0]!.name}`, '    user: u', 'current-context: ctx', 'users:', '- name: u', '  user:',
    ...(user ? [`    client-certificate-data: ${b64(user.cert)}`, `    client-key-data: ${b64(user.key)}`] : ['    token: abc']),
    '',
  ].join('\n');
}

const errors = (inv: Inventory) => inv.findings.filter((f) => f.severity === 'error');

test('an audit-webhook kubeconfig kube-apiserver reads, and another kubeadm cluster (CA also named "kubernetes") in a user kubeconfig: no SAN or CA-mismatch finding, exit 0', async () => {
  const root = copyFixture('kubeadm-1.26');
  const fixtureCa = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'utf8');
  // the webhook: its own CA and client certificate, a server that is not this API server
  const whCa = await makeCa('falco-ca', ISSUED, 3650);
  const whClient = await makeLeaf(whCa, 'kube-apiserver-audit', { eku: ['clientAuth'], notBefore: ISSUED, days: 3650 });
  put(root, '/etc/kubernetes/audit-webhook.conf', kubeconfig([{ name: 'falco', server: 'https://falco-k8saudit.falco.svc.cluster.local:9765/k8s-audit', ca: whCa.pem }], { cert: whClient.pem, key: whClient.keyPem }), 0o600);
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('    - --tls-cert-file', '    - --audit-webhook-config-file=/etc/kubernetes/audit-webhook.conf\n    - --tls-cert-file'));
  // a user's kubeconfig: this cluster, and another kubeadm cluster whose CA has the same name
  const otherCa = await makeCa('kubernetes', ISSUED, 3650, 'rsa-2048');
  put(root, '/root/.kube/config', kubeconfig([
    { name: 'here', server: 'https://192.0.2.10:6443', ca: fixtureCa },
    { name: 'prod', server: 'https://prod.example.com:6443', ca: otherCa.pem },
  ]), 0o600);

  const inv = readInventory({ fs: new NodeFs(root), now: NOW, kubeconfigs: ['/root/.kube/config'] });
  assert.deepEqual(errors(inv), []);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23', '--kubeconfig', '/root/.kube/config'], io), 0, io.out + io.err);
  assert.doesNotMatch(io.out, /add-san|kubeconfig-ca-mismatch/);

  // the same other-cluster CA in a kubeadm kubeconfig of this node is the real problem, and still said
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const text = fs.readFileSync(admin, 'utf8');
  fs.writeFileSync(admin, text.replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${b64(otherCa.pem)}`));
  const stale = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(errors(stale).map((f) => `${f.code} ${f.file}`), ['kubeconfig-ca-mismatch /etc/kubernetes/admin.conf']);
});

test('a CA bundle in a kubeconfig (new and old CA during a rotation) verifies the API server with either; a root above an intermediate verifies a chain', async () => {
  const root = copyFixture('kubeadm-1.26');
  const fixtureCa = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'utf8');
  const newCa = await makeCa('kubernetes', ISSUED, 3650, 'rsa-2048');
  for (const f of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const p = path.join(root, 'etc/kubernetes', f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${b64(newCa.pem + fixtureCa)}`));
  }
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(errors(inv), []);

  // apiserver.crt = leaf + intermediate (made by openssl), the intermediate signed by a root that only the
  // kubeconfigs carry: the chain is walked up to it
  const t = tmpDir('kubepki-chain-');
  const ossl = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  fs.writeFileSync(path.join(t, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  fs.writeFileSync(path.join(t, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:cluster-api.example.test,DNS:cp-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:192.0.2.10,IP:192.0.2.100\n');
  const f = (n: string) => path.join(t, n);
  ossl(['req', '-x509', ...ec, '-subj', '/CN=kubernetes-root', '-days', '3650', '-keyout', f('root.key'), '-out', f('root.crt'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  ossl(['req', '-new', ...ec, '-subj', '/CN=kubernetes-intermediate', '-keyout', f('int.key'), '-out', f('int.csr')]);
  ossl(['x509', '-req', '-in', f('int.csr'), '-CA', f('root.crt'), '-CAkey', f('root.key'), '-days', '3000', '-extfile', f('ca.ext'), '-out', f('int.crt')]);
  ossl(['req', '-new', ...ec, '-subj', '/CN=kube-apiserver', '-keyout', f('leaf.key'), '-out', f('leaf.csr')]);
  ossl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-days', '365', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')]);
  ossl(['verify', '-CAfile', f('root.crt'), '-untrusted', f('int.crt'), f('leaf.crt')]);
  put(root, '/etc/kubernetes/pki/apiserver.crt', fs.readFileSync(f('leaf.crt'), 'utf8') + fs.readFileSync(f('int.crt'), 'utf8'));
  put(root, '/etc/kubernetes/pki/apiserver.key', fs.readFileSync(f('leaf.key')), 0o600);
  for (const k of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const p = path.join(root, 'etc/kubernetes', k);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${b64(fs.readFileSync(f('root.crt'), 'utf8'))}`));
  }
  const chained = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(errors(chained).filter((e) => e.code === 'kubeconfig-ca-mismatch' || e.code === 'apiserver-san-missing'), []);
  const signer = chained.certificates.find((c) => c.name === chained.certificates.find((x) => x.name === 'apiserver')!.signerName);
  assert.equal(signer?.subject, 'CN=kubernetes-intermediate');
  // and a root that does not sign the intermediate is still a mismatch
  const otherRoot = await makeCa('kubernetes-root', ISSUED, 3650);
  const p = path.join(root, 'etc/kubernetes/admin.conf');
  fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${b64(otherRoot.pem)}`));
  assert.deepEqual(errors(readInventory({ fs: new NodeFs(root), now: NOW })).filter((e) => e.code === 'kubeconfig-ca-mismatch').map((e) => e.file), ['/etc/kubernetes/admin.conf']);
  // the intermediate only in the node's ca.crt, apiserver.crt the bare leaf: kube-apiserver sends no chain, so a
  // client trusting the root alone cannot build one (openssl verify agrees) — the kubeconfigs do not work
  put(root, '/etc/kubernetes/pki/ca.crt', fs.readFileSync(f('int.crt'), 'utf8'));
  put(root, '/etc/kubernetes/pki/ca.key', fs.readFileSync(f('int.key')), 0o600);
  put(root, '/etc/kubernetes/pki/apiserver.crt', fs.readFileSync(f('leaf.crt'), 'utf8'));
  assert.notEqual(openssl(['verify', '-CAfile', f('root.crt'), f('leaf.crt')]).status, 0);
  const bare = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.equal(bare.certificates.find((x) => x.name === 'apiserver')!.signerName, 'ca', 'the node still sees the chain');
  assert.deepEqual(errors(bare).filter((e) => e.code === 'kubeconfig-ca-mismatch').map((e) => e.file).sort(),
    ['/etc/kubernetes/admin.conf', '/etc/kubernetes/controller-manager.conf', '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/scheduler.conf']);
  fs.rmSync(t, { recursive: true, force: true });
});

test('a bare IPv6 controlPlaneEndpoint is one address: the missing SAN is that address, offered as IP:', async () => {
  const root = copyFixture('kubeadm-1.26');
  put(root, '/etc/kubernetes/kubeadm-config.yaml', 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: "2001:db8::1"\n');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const san = errors(inv).filter((f) => f.code === 'apiserver-san-missing').map((f) => f.message);
  assert.equal(san.length, 1, JSON.stringify(san));
  assert.match(san[0]!, /no SAN for 2001:db8::1 \(controlPlaneEndpoint/);
  assert.match(san[0]!, /--add-san IP:2001:db8::1$/);
  // with a port, in brackets
  put(root, '/etc/kubernetes/kubeadm-config.yaml', 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: "[2001:db8::1]:6443"\n');
  assert.match(errors(readInventory({ fs: new NodeFs(root), now: NOW })).find((f) => f.code === 'apiserver-san-missing')!.message, /no SAN for 2001:db8::1 /);
});

test('a kind cluster on 127.0.0.1 at another port is another API server: no CA mismatch, and its CA starting after the clock gets clock advice, not a renew it cannot do', async () => {
  const root = copyFixture('kubeadm-1.26');
  const kindCa = await makeCa('kubernetes', new Date('2026-12-01T00:00:00Z'), 3650, 'rsa-2048');
  put(root, '/etc/kubernetes/kind.conf', kubeconfig([{ name: 'kind-kind', server: 'https://127.0.0.1:39517', ca: kindCa.pem }]), 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(errors(inv).filter((f) => f.code === 'kubeconfig-ca-mismatch'), []);
  assert.match(inv.next!, /starts after this node's clock: check the clock .*; they were issued elsewhere/);
  assert.doesNotMatch(inv.next!, /kubepki renew/);
  // on the API server's own port it is this cluster, and a CA that does not verify it is a mismatch
  put(root, '/etc/kubernetes/kind.conf', kubeconfig([{ name: 'kind-kind', server: 'https://127.0.0.1:6443', ca: kindCa.pem }]), 0o600);
  assert.deepEqual(errors(readInventory({ fs: new NodeFs(root), now: NOW })).filter((f) => f.code === 'kubeconfig-ca-mismatch').map((f) => f.file), ['/etc/kubernetes/kind.conf']);
});

test('a token kubeconfig for this API server with another CA: the CA copy\'s row is invalid (no "all ok" beside exit 2); an error on no row (sa.pub of another key) is counted in the summary line, and Next points at FINDINGS', async () => {
  const root = copyFixture('kubeadm-1.26');
  const otherCa = await makeCa('kubernetes', ISSUED, 3650);
  put(root, '/etc/kubernetes/monitoring.conf', kubeconfig([{ name: 'here', server: 'https://192.0.2.10:6443', ca: otherCa.pem }]), 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const row = inv.certificates.find((c) => c.location.file === '/etc/kubernetes/monitoring.conf')!;
  assert.equal(row.status, 'invalid');
  assert.deepEqual(row.findings.map((f) => f.code), ['kubeconfig-ca-mismatch']);
  assert.equal(inv.summary.worst, 'invalid');
  let io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2, io.err);
  assert.match(io.out, /, 1 invalid \(now/);
  assert.match(io.out, /\nNext: do what each ERROR under FINDINGS says \(kubeconfig-ca-mismatch\)/);

  fs.rmSync(path.join(root, 'etc/kubernetes/monitoring.conf'));
  const other = await makeCa('other', ISSUED, 3650, 'rsa-2048');
  const pub = openssl(['pkey', '-pubout'], other.keyPem);
  assert.equal(pub.status, 0, pub.stderr);
  put(root, '/etc/kubernetes/pki/sa.pub', pub.stdout);
  io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2, io.err);
  assert.match(io.out, / 0 invalid, 1 other error \(now/);
  assert.match(io.out, /\nNext: do what each ERROR under FINDINGS says \(sa-key-mismatch\)/);
});

test('every certificate of a kubeconfig has a name of its own: k3s.yaml\'s admin chain (leaf, then its CA) and a CA bundle (two CAs during a rotation)', async () => {
  const root = tmpDir('kubepki-kc-names-');
  const serverCa = await makeCa('k3s-server-ca@1', ISSUED, 3650);
  const oldServerCa = await makeCa('k3s-server-ca@0', ISSUED, 3650);
  const clientCa = await makeCa('k3s-client-ca@1', ISSUED, 3650);
  const admin = await makeLeaf(clientCa, 'system:admin', { orgs: ['system:masters'], eku: ['clientAuth'], notBefore: ISSUED, days: 365 });
  put(root, '/etc/rancher/k3s/k3s.yaml', k3sYaml(serverCa.pem + oldServerCa.pem, admin.pem + clientCa.pem, admin.keyPem), 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW, layouts: [], kubeconfigs: ['/etc/rancher/k3s/k3s.yaml'] });
  const names = inv.certificates.map((c) => `${c.name} ${c.subjectCN}`).sort();
  assert.deepEqual(names, ['k3s.yaml:cluster/default k3s-server-ca@1', 'k3s.yaml:cluster/default#1 k3s-server-ca@0', 'k3s.yaml system:admin', 'k3s.yaml-chain-1 k3s-client-ca@1'].sort());
  assert.equal(new Set(inv.certificates.map((c) => c.id)).size, 4);
  assert.equal(inv.certificates.find((c) => c.subjectCN === 'system:admin')!.signerName, 'k3s.yaml-chain-1');
});

test('an intermediate that is both the node\'s ca.crt and the chain apiserver.crt sends: a kubeconfig trusting only the root verifies (openssl verify agrees), no kubeconfig-ca-mismatch', async () => {
  const root = copyFixture('kubeadm-1.26');
  const t = tmpDir('kubepki-int-ca-');
  const ossl = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes'];
  const f = (n: string) => path.join(t, n);
  fs.writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  fs.writeFileSync(f('leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:cluster-api.example.test,DNS:cp-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:192.0.2.10,IP:192.0.2.100\n');
  ossl(['req', '-x509', ...ec, '-subj', '/CN=kubernetes-root', '-days', '3650', '-set_serial', '1', '-keyout', f('root.key'), '-out', f('root.crt'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  ossl(['req', '-new', ...ec, '-subj', '/CN=kubernetes', '-keyout', f('int.key'), '-out', f('int.csr')]);
  ossl(['x509', '-req', '-in', f('int.csr'), '-CA', f('root.crt'), '-CAkey', f('root.key'), '-set_serial', '2', '-days', '3000', '-extfile', f('ca.ext'), '-out', f('int.crt')]);
  ossl(['req', '-new', ...ec, '-subj', '/CN=kube-apiserver', '-keyout', f('leaf.key'), '-out', f('leaf.csr')]);
  ossl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-set_serial', '3', '-days', '365', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')]);
  const served = fs.readFileSync(f('leaf.crt'), 'utf8') + fs.readFileSync(f('int.crt'), 'utf8');
  fs.writeFileSync(f('served.pem'), served);
  // what a client trusting the root alone gets from the server: the leaf, then the intermediate
  ossl(['verify', '-CAfile', f('root.crt'), '-untrusted', f('served.pem'), f('leaf.crt')]);
  put(root, '/etc/kubernetes/pki/ca.crt', fs.readFileSync(f('int.crt'), 'utf8'));
  put(root, '/etc/kubernetes/pki/ca.key', fs.readFileSync(f('int.key')), 0o600);
  put(root, '/etc/kubernetes/pki/apiserver.crt', served);
  put(root, '/etc/kubernetes/pki/apiserver.key', fs.readFileSync(f('leaf.key')), 0o600);
  for (const k of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const p = path.join(root, 'etc/kubernetes', k);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${b64(fs.readFileSync(f('root.crt'), 'utf8'))}`));
  }
  // (openssl made them on this machine's clock)
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(Date.now() + 3600e3) });
  assert.equal(inv.certificates.find((c) => c.name === 'apiserver')!.signerName, 'ca');
  assert.deepEqual(errors(inv).filter((e) => e.code === 'kubeconfig-ca-mismatch').map((e) => e.file), []);
  fs.rmSync(t, { recursive: true, force: true });
});

test('a token kubeconfig for this API server that carries the etcd CA by mistake: the error is said and counted, and the etcd CA\'s own row stays ok (its copy in the kubeconfig is no fault of etcd/ca.crt)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const etcdCa = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/etcd/ca.crt'), 'utf8');
  put(root, '/etc/kubernetes/monitoring.conf', kubeconfig([{ name: 'here', server: 'https://192.0.2.10:6443', ca: etcdCa }]), 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const etcd = inv.certificates.find((c) => c.name === 'etcd-ca')!;
  assert.equal(etcd.status, 'ok', JSON.stringify(etcd.findings));
  assert.deepEqual(etcd.findings.filter((f) => f.severity === 'error'), []);
  assert.deepEqual(errors(inv).map((e) => `${e.code} ${e.file}`), ['kubeconfig-ca-mismatch /etc/kubernetes/monitoring.conf']);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2, io.err);
  assert.match(io.out, /^etcd-ca +\S.* ok +4 +\/etc\/kubernetes\/pki\/etcd\/ca\.crt$/m);
  assert.match(io.out, / 0 invalid, 1 other error \(now/);
});
