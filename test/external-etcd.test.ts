/**
 * kubeadm with external etcd (ClusterConfiguration.etcd.external), as its HA guide sets it up: three control-plane
 * nodes made with openssl alone (test/support/openssl-kubeadm.ts), no etcd static pod, no etcd serving, peer or
 * healthcheck certificates, the etcd CA's certificate without its key, one apiserver-etcd-client pair shared by the
 * nodes, and a real 3-member etcd serving with certificates of that CA. What kubepki says and does on it, as an
 * operator runs it. kubeadm's own rule: with etcd.external, `kubeadm certs renew` and check-expiration list
 * GetCertsWithoutEtcd (renewal.NewManager), so neither the etcd leaves nor apiserver-etcd-client are kubeadm's.
 * The clock is this machine's (etcd checks the certificates against it).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { cli, tmp } from './renew-support.js';
import { freePort, openssl, opensslOk } from './support/fixtures.js';
import { ETCD, ETCDCTL, runEtcd, servingEtcd, type RunningEtcd } from './support/etcd.js';
import { makeOpensslExternalEtcdTrees, type ExternalEtcd, type HaNode } from './support/openssl-kubeadm.js';

const noEtcd = (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed';

let x: ExternalEtcd;
const members: RunningEtcd[] = [];

before(async () => {
  if (noEtcd) return;
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const client = (i: number) => ports[2 * i]!, peer = (i: number) => ports[2 * i + 1]!;
  x = makeOpensslExternalEtcdTrees(tmp('kubepki-ext-etcd-'), { endpoints: [0, 1, 2].map((i) => `https://127.0.0.1:${client(i)}`) });
  const cluster = [0, 1, 2].map((i) => `etcd-${i}=https://127.0.0.1:${peer(i)}`).join(',');
  const base = path.dirname(x.etcdPki);
  // (started together: each waits for the others to form the cluster before it serves)
  members.push(...await Promise.all([0, 1, 2].map((i) => {
    const dir = path.join(base, `etcd-${i}`);
    x.memberPair(dir, `etcd-${i}`, '127.0.0.1');
    return runEtcd(['--name', `etcd-${i}`, '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', `https://127.0.0.1:${client(i)}`, '--advertise-client-urls', `https://127.0.0.1:${client(i)}`,
      '--listen-peer-urls', `https://127.0.0.1:${peer(i)}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peer(i)}`,
      '--initial-cluster', cluster, '--initial-cluster-token', 'kubepki-external-etcd', '--listen-metrics-urls', `http://127.0.0.1:${ports[0]! + 10_000 + i}`,
      '--client-cert-auth=true', '--trusted-ca-file', path.join(x.etcdPki, 'ca.crt'), '--cert-file', path.join(dir, 'server.crt'), '--key-file', path.join(dir, 'server.key'),
      '--peer-client-cert-auth=true', '--peer-trusted-ca-file', path.join(x.etcdPki, 'ca.crt'), '--peer-cert-file', path.join(dir, 'peer.crt'), '--peer-key-file', path.join(dir, 'peer.key')]);
  })));
});

after(async () => { await Promise.all(members.map((m) => m.stop())); });

/** etcdctl endpoint health against every member, with the node's etcd.external files, as kube-apiserver connects. */
function healthFrom(n: HaNode): { status: number; out: string } {
  const at = (f: string) => path.join(n.root, f);
  const r = spawnSync(ETCDCTL, [`--endpoints=${x.endpoints.join(',')}`, '--cacert', at(x.files.caFile), '--cert', at(x.files.certFile), '--key', at(x.files.keyFile),
    '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const json = async (root: string, extra: string[] = []) => {
  const r = await cli(['check', '--root', root, '-o', 'json', ...extra]);
  return { code: r.code, inv: JSON.parse(r.out) as { certificates: any[]; missing: any[]; findings: any[]; externalEtcd?: { endpoints: string[]; source: string }; next?: string } };
};

test('check on a control-plane node with external etcd: no etcd leaf is missing, apiserver-etcd-client is the external etcd CA\'s to renew (was: 3 missing etcd files, exit 2)', { skip: noEtcd }, async () => {
  const n = x.nodes[0]!;
  assert.equal(healthFrom(n).status, 0, 'the node\'s etcd.external files reach the real etcd');
  const { code, inv } = await json(n.root);
  assert.equal(code, 0, JSON.stringify(inv.findings));
  assert.deepEqual(inv.missing, []);
  assert.ok(!inv.findings.some((f) => f.severity === 'error' || f.code === 'missing-file'), JSON.stringify(inv.findings));
  assert.ok(!inv.certificates.some((c) => /^etcd-(server|peer|healthcheck-client)$/.test(c.name)));
  assert.deepEqual(inv.externalEtcd, { endpoints: x.endpoints, source: 'etcd.external in /etc/kubernetes/kubeadm-config.yaml' });
  const client = inv.certificates.find((c) => c.name === 'apiserver-etcd-client');
  assert.equal(client.managedBy, 'external-etcd-ca');
  const caNote = inv.findings.find((f) => f.code === 'ca-key-missing');
  assert.equal(caNote.severity, 'info');
  assert.match(caNote.message, /the external etcd's CA \(etcd\.external in \/etc\/kubernetes\/kubeadm-config\.yaml\).*kubepki renew apiserver-etcd-client --csr-out DIR/);
  const table = await cli(['check', '--root', n.root]);
  assert.match(table.out, /^apiserver-etcd-client .* external-etcd-ca /m);
  assert.doesNotMatch(table.out, /MISSING/);
});

test('without the kubeadm config, kube-apiserver\'s --etcd-servers away from 127.0.0.1:2379 says etcd is external; an etcd static pod says it is local whatever the config says', { skip: noEtcd }, async () => {
  const root = tmp('kubepki-ext-etcd-copy-');
  fs.cpSync(x.nodes[1]!.root, root, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'));
  const { code, inv } = await json(root);
  assert.equal(code, 0, JSON.stringify(inv.findings));
  assert.equal(inv.externalEtcd?.source, '--etcd-servers in /etc/kubernetes/manifests/kube-apiserver.yaml');
  assert.deepEqual(inv.missing, []);
  // an etcd.yaml is kubeadm's own etcd: its certificates are expected again
  fs.writeFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\n');
  const local = await json(root);
  assert.equal(local.inv.externalEtcd, undefined);
  assert.deepEqual(local.inv.missing.map((m: { name: string }) => m.name).sort(), ['etcd-healthcheck-client', 'etcd-peer', 'etcd-server']);
});

test('the kubeadm-config ConfigMap saved as /etc/kubernetes/kubeadm-config.yaml (kubectl -n kube-system get cm kubeadm-config -o yaml) says etcd is external as the config file does', { skip: noEtcd }, async () => {
  const root = tmp('kubepki-ext-etcd-cm-');
  fs.cpSync(x.nodes[2]!.root, root, { recursive: true, verbatimSymlinks: true });
  const file = path.join(root, 'etc/kubernetes/kubeadm-config.yaml');
  const cluster = fs.readFileSync(file, 'utf8').split('---\n')[1]!;
  fs.writeFileSync(file, ['apiVersion: v1', 'data:', '  ClusterConfiguration: |', ...cluster.trimEnd().split('\n').map((l) => `    ${l}`),
    'kind: ConfigMap', 'metadata:', '  name: kubeadm-config', '  namespace: kube-system', ''].join('\n'));
  // (with --etcd-servers pointing at 127.0.0.1:2379 only the config can say it)
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--etcd-servers=.*/, '--etcd-servers=https://127.0.0.1:2379'));
  const { code, inv } = await json(root);
  assert.equal(code, 0, JSON.stringify(inv.findings));
  assert.deepEqual(inv.externalEtcd, { endpoints: x.endpoints, source: 'etcd.external in /etc/kubernetes/kubeadm-config.yaml' });
  assert.deepEqual(inv.missing, []);
});

test('the external etcd\'s CA and client pair under /etc/etcd/pki (etcd.external naming them): the same verdicts', { skip: noEtcd }, async () => {
  const y = makeOpensslExternalEtcdTrees(tmp('kubepki-ext-etcd-etc-'), { count: 1, endpoints: ['https://192.0.2.50:2379'], layout: 'etc-etcd' });
  const { code, inv } = await json(y.nodes[0]!.root);
  assert.equal(code, 0, JSON.stringify(inv.findings));
  assert.deepEqual(inv.missing, []);
  const client = inv.certificates.find((c) => c.name === 'apiserver-etcd-client');
  assert.equal(client.location.file, '/etc/etcd/pki/apiserver-etcd-client.crt');
  assert.equal(client.managedBy, 'external-etcd-ca');
});

test('renew all: renews this node\'s kubeadm certificates, leaves apiserver-etcd-client with what to do (the --csr-out route), touches no etcd file, and exits 0 while that certificate is valid, as kubeadm certs renew all', { skip: noEtcd }, async () => {
  const n = x.nodes[1]!;
  const dry = await cli(['renew', 'all', '--root', n.root, '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.doesNotMatch(dry.out, /etcd-(server|peer|healthcheck-client)|kubepki rebuild/);
  assert.match(dry.out, /Not renewed:\n {2}apiserver-etcd-client: can't renew \/etc\/kubernetes\/pki\/apiserver-etcd-client\.crt here: it is signed by the external etcd's CA etcd-ca \(etcd\.external in \/etc\/kubernetes\/kubeadm-config\.yaml\).*kubepki renew apiserver-etcd-client --csr-out DIR --root \S+ writes a request to sign with it, then put the certificate there on every control-plane node/);
  // (no etcd to restart on this node)
  assert.doesNotMatch(dry.out.slice(dry.out.indexOf('Restart afterwards')), /^ {2}etcd /m);
  const clientBefore = fs.readFileSync(path.join(n.root, x.files.certFile));
  const r = await cli(['renew', 'all', '--root', n.root]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(fs.readFileSync(path.join(n.root, x.files.certFile)), clientBefore);
  assert.deepEqual(fs.readdirSync(path.join(n.root, 'etc/kubernetes/pki/etcd')), ['ca.crt']);
  assert.equal(healthFrom(n).status, 0);
});

test('apiserver-etcd-client renewed the --csr-out way: a CSR signed with the external etcd\'s CA by openssl on its hosts, put back, and the real etcd takes the new certificate', { skip: noEtcd }, async () => {
  const n = x.nodes[2]!;
  const out = tmp('kubepki-ext-etcd-csr-');
  const r = await cli(['renew', 'apiserver-etcd-client', '--root', n.root, '--csr-out', out]);
  assert.equal(r.code, 1, 'nothing renewed here: the CA is elsewhere');
  assert.match(r.out, /here is a CSR for it: have it signed with that CA/);
  const csr = path.join(out, 'apiserver-etcd-client.csr');
  assert.match(opensslOk(['req', '-in', csr, '-noout', '-subject']), /CN ?= ?kube-apiserver-etcd-client/);
  // on the etcd's hosts: signed as kubeadm's profile for it (clientAuth)
  const ext = path.join(out, 'ext.cnf');
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const signed = path.join(out, 'apiserver-etcd-client.crt');
  opensslOk(['x509', '-req', '-in', csr, '-CA', path.join(x.etcdPki, 'ca.crt'), '-CAkey', path.join(x.etcdPki, 'ca.key'), '-set_serial', '0x4e5d', '-days', '400', '-extfile', ext, '-out', signed]);
  fs.copyFileSync(signed, path.join(n.root, x.files.certFile));
  const { inv } = await json(n.root);
  const client = inv.certificates.find((c) => c.name === 'apiserver-etcd-client');
  assert.equal(client.serial.replace(/:/g, '').toLowerCase(), '4e5d');
  assert.equal(client.privateKey.matches, true, 'the CSR was made from the key kept on the node');
  assert.equal(client.status, 'ok');
  assert.equal(healthFrom(n).status, 0, healthFrom(n).out);
});

test('due on an HA control plane with external etcd: check\'s Next and renew\'s notes say the etcd members do not count the control-plane nodes, and each node renews its own', { skip: noEtcd }, async () => {
  const n = x.nodes[0]!;
  const soon = new Date(Date.now() + 350 * 86400e3).toISOString();
  const { inv } = await json(n.root, ['--now', soon]);
  assert.match(inv.next ?? '', /apiserver-etcd-client is signed by etcd-ca, whose key is not on this node.*etcd is external \(etcd\.external in \/etc\/kubernetes\/kubeadm-config\.yaml\), so its members do not tell how many control-plane nodes there are.*kubepki check on each of them too/);
  const dry = await cli(['renew', 'all', '--root', n.root, '--dry-run', '--now', soon]);
  assert.equal(dry.code, 1, 'apiserver-etcd-client is due and cannot be renewed here');
  assert.match(dry.out, /Outside this node: etcd is external .*: this renewed this node's only/);
  assert.match(dry.out, /on every other control-plane node, if the cluster has any: kubepki check there, then kubepki renew all there/);
});

test('probe of an external etcd member: checked as kube-apiserver checks it (its --etcd-cafile CA, the host it dials), not "not on disk"; one kube-apiserver would refuse exits 2', { skip: noEtcd }, async () => {
  const n = x.nodes[0]!;
  const host = x.endpoints[1]!.replace(/^https:\/\//, '');
  const ok = await cli(['probe', host, '--root', n.root]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /a member of the external etcd \(https:\/\/127\.0\.0\.1:\d+, etcd\.external in \/etc\/kubernetes\/kubeadm-config\.yaml\).*signed by etcd-ca \(\/etc\/kubernetes\/pki\/etcd\/ca\.crt\), which kube-apiserver trusts for etcd, and it names 127\.0\.0\.1: kube-apiserver accepts it/);

  // a member serving a certificate of another CA (an etcd CA rotated on its hosts, not brought here), and one of
  // the right CA that does not name the address kube-apiserver dials
  const work = tmp('kubepki-ext-etcd-probe-');
  const key = (f: string) => opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f]);
  key(path.join(work, 'other-ca.key'));
  opensslOk(['req', '-x509', '-new', '-key', path.join(work, 'other-ca.key'), '-subj', '/CN=etcd-ca', '-days', '30', '-out', path.join(work, 'other-ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  const leaf = (name: string, ca: string, san: string) => {
    key(path.join(work, `${name}.key`));
    const ext = path.join(work, `${name}.ext`);
    fs.writeFileSync(ext, `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    const csr = openssl(['req', '-new', '-key', path.join(work, `${name}.key`), '-subj', `/CN=${name}`]);
    opensslOk(['x509', '-req', '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', '77', '-days', '30', '-extfile', ext, '-out', path.join(work, `${name}.crt`)], csr.stdout);
  };
  leaf('foreign', path.join(work, 'other-ca'), 'IP:127.0.0.1');
  leaf('misnamed', path.join(x.etcdPki, 'ca'), 'DNS:etcd-9.example');
  for (const [name, want] of [['foreign', /is not signed by the CA kube-apiserver trusts for etcd \(--etcd-cafile \/etc\/kubernetes\/pki\/etcd\/ca\.crt\): kube-apiserver fails with "x509: certificate signed by unknown authority"/],
    ['misnamed', /signed by etcd-ca .* but it does not name 127\.0\.0\.1: kube-apiserver dialing https:\/\/127\.0\.0\.1:\d+ fails with "x509: certificate is valid for etcd-9\.example, not 127\.0\.0\.1"/]] as const) {
    const e = await servingEtcd(path.join(work, `${name}.crt`), path.join(work, `${name}.key`));
    try {
      const y = makeOpensslExternalEtcdTrees(tmp('kubepki-ext-etcd-one-'), { count: 1, endpoints: [`https://127.0.0.1:${e.port}`] });
      // (the tree's etcd CA is this run's: the misnamed member's CA is the one the test's nodes trust)
      fs.copyFileSync(path.join(x.etcdPki, 'ca.crt'), path.join(y.nodes[0]!.root, y.files.caFile));
      const r = await cli(['probe', `127.0.0.1:${e.port}`, '--root', y.nodes[0]!.root]);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.out, want);
    } finally {
      await e.stop();
    }
  }
});

test('probe of an external etcd member whose certificate has expired: kube-apiserver refuses it, so the verdict says so rather than "kube-apiserver accepts it"', { skip: noEtcd }, async () => {
  const n = x.nodes[0]!;
  const host = x.endpoints[1]!.replace(/^https:\/\//, '');
  // (the members' pairs are valid 365 days, the etcd CA 10 years: 400 days on, only the member's has expired)
  const later = new Date(Date.now() + 400 * 86400_000).toISOString();
  const r = await cli(['probe', host, '--root', n.root, '--now', later]);
  assert.equal(r.code, 2, r.out + r.err);
  assert.doesNotMatch(r.out, /kube-apiserver accepts it/);
  assert.match(r.out, /a member of the external etcd .* expired at .*: kube-apiserver dialing .* fails with "x509: certificate has expired or is not yet valid"/);
  const j = await cli(['probe', host, '--root', n.root, '--now', later, '-o', 'json']);
  assert.equal(JSON.parse(j.out).comparison.verdict, 'untrusted');
});

test('probe of an external etcd member whose certificate is not for serverAuth: kube-apiserver refuses it (incompatible key usage), so it is not "accepted"', { skip: noEtcd }, async () => {
  const work = tmp('kubepki-ext-etcd-eku-');
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(work, 'm.key')]);
  fs.writeFileSync(path.join(work, 'm.ext'), 'extendedKeyUsage=clientAuth\nsubjectAltName=IP:127.0.0.1\n');
  const csr = openssl(['req', '-new', '-key', path.join(work, 'm.key'), '-subj', '/CN=etcd-client-only']);
  opensslOk(['x509', '-req', '-CA', path.join(x.etcdPki, 'ca.crt'), '-CAkey', path.join(x.etcdPki, 'ca.key'), '-set_serial', '78', '-days', '30', '-extfile', path.join(work, 'm.ext'), '-out', path.join(work, 'm.crt')], csr.stdout);
  const e = await servingEtcd(path.join(work, 'm.crt'), path.join(work, 'm.key'));
  try {
    const y = makeOpensslExternalEtcdTrees(tmp('kubepki-ext-etcd-eku-one-'), { count: 1, endpoints: [`https://127.0.0.1:${e.port}`] });
    fs.copyFileSync(path.join(x.etcdPki, 'ca.crt'), path.join(y.nodes[0]!.root, y.files.caFile));
    const r = await cli(['probe', `127.0.0.1:${e.port}`, '--root', y.nodes[0]!.root]);
    assert.equal(r.code, 2, r.out + r.err);
    assert.doesNotMatch(r.out, /kube-apiserver accepts it/);
    assert.match(r.out, /extended key usage clientAuth, not serverAuth: kube-apiserver .* fails with "x509: certificate specifies an incompatible key usage"/);
    // (a Go etcd client, etcdctl, cannot connect to it either: its gRPC error hides the handshake's reason)
    const go = spawnSync(ETCDCTL, [`--endpoints=https://127.0.0.1:${e.port}`, '--cacert', path.join(x.etcdPki, 'ca.crt'), '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.notEqual(go.status, 0, go.stdout + go.stderr);
  } finally {
    await e.stop();
  }
});

test('rebuild of a wiped /etc/kubernetes with the cluster\'s config: no local etcd CA, certificates or static pod; it says which etcd.external files to bring back and from where', { skip: noEtcd }, async () => {
  const n = x.nodes[0]!;
  const root = tmp('kubepki-ext-etcd-wiped-');
  fs.cpSync(n.root, root, { recursive: true, verbatimSymlinks: true });
  const cfg = path.join(tmp('kubepki-ext-etcd-cfg-'), 'kubeadm-config.yaml');
  fs.copyFileSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'), cfg);
  fs.rmSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  const r = await cli(['rebuild', '--root', root, '--config', cfg, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /^ {2}CREATE {2}\/etc\/kubernetes\/pki\/etcd\/|manifests\/etcd\.yaml|etcd-ca/m);
  assert.match(r.out, /etcd is external: kube-apiserver reaches it with \/etc\/kubernetes\/pki\/etcd\/ca\.crt, \/etc\/kubernetes\/pki\/apiserver-etcd-client\.crt and \/etc\/kubernetes\/pki\/apiserver-etcd-client\.key, which are not on this node, and rebuild does not make them .*kubepki ca import shared\.yaml .*else from the etcd hosts: its CA certificate as \/etc\/kubernetes\/pki\/etcd\/ca\.crt, and a client pair it signs \(CN kube-apiserver-etcd-client, extended key usage clientAuth\)/);
  assert.match(r.out, /etcd is external, so the cluster's state .* is kept there, not on this node: if that etcd already holds a cluster, a new cluster CA, front-proxy CA and sa\.key\/sa\.pub cut this node off from it/);
  const w = await cli(['rebuild', '--root', root, '--config', cfg, '--new-ca']);
  assert.equal(w.code, 0, w.err);
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml')));
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/pki/etcd')));
  const api = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(api, new RegExp(`- --etcd-servers=${x.endpoints.join(',').replace(/[.]/g, '\\.')}\\n`));
});

test('HA: a control-plane node that lost its PKI gets the shared material and the etcd.external files from a peer (ca export carries them as external-etcd-*), then rebuild makes its own leaves and nothing of a local etcd, and its kube-apiserver files reach the real etcd', { skip: noEtcd }, async () => {
  const [a, b] = [x.nodes[0]!, x.nodes[1]!];
  const root = tmp('kubepki-ext-etcd-lost-');
  fs.cpSync(b.root, root, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'));
  // (kube-apiserver.yaml survives: it alone says etcd is external; etcd/ca.crt there was taken for local etcd)
  const refused = await cli(['rebuild', '--root', root, '--dry-run']);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /refusing to create a new cluster CA/);

  const shared = path.join(tmp('kubepki-ext-etcd-shared-'), 'shared.yaml');
  const e = await cli(['ca', 'export', '--root', a.root, '--out', shared]);
  assert.equal(e.code, 0, e.err);
  assert.deepEqual(Object.keys(parse(fs.readFileSync(shared, 'utf8')).data).sort(),
    ['ca.crt', 'ca.key', 'external-etcd-ca.crt', 'external-etcd.crt', 'external-etcd.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
  const key = /Certificate key[^:]*: ([0-9a-f]{64})/.exec(e.out + e.err)![1]!;
  const i = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root]);
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, /create {3}\/etc\/kubernetes\/pki\/apiserver-etcd-client\.key \(private key\)/);

  const r = await cli(['rebuild', '--root', root]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /etcd is external: kube-apiserver reaches it/, 'nothing left to bring back');
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc/kubernetes/pki/etcd')), ['ca.crt']);
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml')));
  const { code, inv } = await json(root);
  assert.equal(code, 0, JSON.stringify(inv.findings));
  assert.deepEqual(inv.missing, []);
  assert.equal(healthFrom({ ...b, root }).status, 0);
});
