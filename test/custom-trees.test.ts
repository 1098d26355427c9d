/**
 * Nodes unlike the fixtures, built here by code: ECDSA P-256 keys everywhere (kubeadm's
 * encryptionAlgorithm: ECDSA-P256), a certificatesDir outside /etc/kubernetes, another node name and
 * address, kubeadm's external-CA mode. Each test is named after what broke on such a node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { execSync, spawnSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { generateKey, privateKeyPem, publicKeyPem } from '../src/pki/keygen.js';
import { makeCa, makeLeaf, put, type Made } from './support/trees.js';
import { openssl, tmpDir, freePort } from './support/fixtures.js';
import { runEtcd } from './support/etcd.js';

const NOW = new Date('2026-11-23T00:00:00Z');
const ISSUED = new Date('2026-06-01T00:00:00Z');
const NODE = 'cp-zeta';
const ADV = '10.20.30.41';
const PKI = '/srv/kubernetes/pki';
const dns = (value: string) => ({ type: 'dns' as const, value });
const ip = (value: string) => ({ type: 'ip' as const, value });

function pair(root: string, base: string, m: Made): void {
  put(root, `${PKI}/${base}.crt`, m.pem);
  put(root, `${PKI}/${base}.key`, m.keyPem, 0o600);
}

function kubeconfig(ca: Made, user: string, leaf: Made): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(ca.pem), server: `https://${ADV}:6443` }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user }, name: `${user}@kubernetes` }],
    'current-context': `${user}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: user, user: { 'client-certificate-data': b64(leaf.pem), 'client-key-data': b64(leaf.keyPem) } }],
  });
}

/** The kubeadm PKI of an ECDSA node in certificatesDir /srv/kubernetes/pki, and the kubelet's config naming it. */
async function srvPki(root: string): Promise<{ ca: Made; etcdCa: Made; fpCa: Made }> {
  const [ca, etcdCa, fpCa] = await Promise.all([makeCa('kubernetes', ISSUED, 3650), makeCa('etcd-ca', ISSUED, 3650), makeCa('front-proxy-ca', ISSUED, 3650)]);
  pair(root, 'ca', ca); pair(root, 'etcd/ca', etcdCa); pair(root, 'front-proxy-ca', fpCa);
  const leaf = { notBefore: ISSUED, days: 365 };
  const etcdSans = [dns(NODE), dns('localhost'), ip(ADV), ip('127.0.0.1'), ip('::1')];
  const [api, server, peer] = await Promise.all([
    makeLeaf(ca, 'kube-apiserver', { ...leaf, eku: ['serverAuth'], sans: [dns(NODE), dns('kubernetes'), dns('kubernetes.default'), dns('kubernetes.default.svc'), dns('kubernetes.default.svc.cluster.local'), ip('10.96.0.1'), ip(ADV)] }),
    makeLeaf(etcdCa, NODE, { ...leaf, eku: ['serverAuth', 'clientAuth'], sans: etcdSans }),
    makeLeaf(etcdCa, NODE, { ...leaf, eku: ['serverAuth', 'clientAuth'], sans: etcdSans }),
  ]);
  pair(root, 'apiserver', api); pair(root, 'etcd/server', server); pair(root, 'etcd/peer', peer);
  const sa = await generateKey('ecdsa-p256');
  put(root, `${PKI}/sa.key`, privateKeyPem(sa), 0o600);
  put(root, `${PKI}/sa.pub`, publicKeyPem(sa), 0o600);
  put(root, '/var/lib/kubelet/config.yaml', stringify({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', authentication: { x509: { clientCAFile: `${PKI}/ca.crt` } }, rotateCertificates: true }));
  return { ca, etcdCa, fpCa };
}

test('rm -rf /etc/kubernetes on a node whose certificatesDir is /srv/kubernetes/pki: rebuild uses the PKI that survived there (the kubelet\'s clientCAFile names it), not new CAs in /etc/kubernetes/pki (it refused, calling the surviving ca.crt one whose "key is gone")', async () => {
  const root = tmpDir('kubepki-srv-pki-');
  await srvPki(root);
  const before = new Map(['ca.crt', 'ca.key', 'etcd/ca.crt', 'front-proxy-ca.crt', 'sa.key', 'apiserver.crt'].map((f) => [f, fs.readFileSync(path.join(root, PKI, f))]));

  const io = memoryIo();
  const code = await run(['rebuild', '--root', root, '--now', NOW.toISOString(), '--kubernetes-version', 'v1.31.2'], io);
  assert.equal(code, 0, io.out + io.err);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/pki')), false, 'no second PKI in the default place');
  for (const [f, bytes] of before) assert.deepEqual(fs.readFileSync(path.join(root, PKI, f)), bytes, `${f} kept`);
  // the manifests read the PKI where it is
  const api = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(api, /--client-ca-file=\/srv\/kubernetes\/pki\/ca\.crt$/m);
  assert.match(api, /--tls-cert-file=\/srv\/kubernetes\/pki\/apiserver\.crt$/m);
  assert.match(fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8'), /--name=cp-zeta$/m);
  // new files are signed by the surviving CAs (openssl), with the node's name and its key type
  const caFile = path.join(root, PKI, 'ca.crt');
  for (const base of ['apiserver-kubelet-client', 'front-proxy-client', 'apiserver-etcd-client', 'etcd/healthcheck-client']) {
    const ca = base === 'front-proxy-client' ? 'front-proxy-ca.crt' : base === 'apiserver-kubelet-client' ? 'ca.crt' : 'etcd/ca.crt';
    const v = openssl(['verify', '-CAfile', path.join(root, PKI, ca), path.join(root, PKI, `${base}.crt`)]);
    assert.equal(v.status, 0, `${base}: ${v.stdout}${v.stderr}`);
    assert.match(openssl(['pkey', '-in', path.join(root, PKI, `${base}.key`), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/, base);
  }
  const admin = /client-certificate-data: (\S+)/.exec(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'))![1]!;
  const adminPem = path.join(root, 'admin.pem');
  fs.writeFileSync(adminPem, Buffer.from(admin, 'base64'));
  assert.equal(openssl(['verify', '-CAfile', caFile, adminPem]).status, 0);
  const kubelet = fs.readdirSync(path.join(root, 'var/lib/kubelet/pki')).find((n) => /^kubelet-client-\d.*\.pem$/.test(n))!;
  assert.match(openssl(['x509', '-in', path.join(root, 'var/lib/kubelet/pki', kubelet), '-noout', '-subject']).stdout, /CN = system:node:cp-zeta/);
  // and check finds the rebuilt node whole
  const check = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', NOW.toISOString()], check), 0, check.out);
});

test('kubeadm external-CA node whose kubelet.conf embeds its client certificate (ca.key absent, --cluster-signing-key-file= empty): check says nothing signs its renewal and renew writes its CSR, where renew said "the kubelet renews this certificate itself … approved by kube-controller-manager; nothing to do here"', async () => {
  const root = tmpDir('kubepki-ext-ca-');
  const { ca } = await srvPki(root);
  fs.rmSync(path.join(root, PKI, 'ca.key'));
  const kubelet = await makeLeaf(ca, `system:node:${NODE}`, { orgs: ['system:nodes'], eku: ['clientAuth'], notBefore: ISSUED, days: 365 });
  put(root, '/etc/kubernetes/kubelet.conf', kubeconfig(ca, `system:node:${NODE}`, kubelet), 0o600);
  // what kubeadm writes in external-CA mode (spec §1.3): the CSR signing controller does not run
  put(root, '/etc/kubernetes/manifests/kube-controller-manager.yaml', stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kube-controller-manager', namespace: 'kube-system' },
    spec: { containers: [{ name: 'kube-controller-manager', command: ['kube-controller-manager', '--kubeconfig=/etc/kubernetes/controller-manager.conf', `--root-ca-file=${PKI}/ca.crt`, '--cluster-signing-cert-file=', '--cluster-signing-key-file='] }], hostNetwork: true },
  }), 0o600);

  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const kc = inv.certificates.find((c) => c.name === 'kubelet.conf');
  assert.ok(kc, inv.certificates.map((c) => c.name).join(', '));
  assert.equal(kc.managedBy, 'manual');
  const f = kc.findings.find((x) => x.code === 'kubelet-csr-unsigned');
  assert.ok(f, JSON.stringify(kc.findings));
  assert.match(f.message, /--cluster-signing-key-file= in \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml/);
  assert.match(f.message, /on 2027-06-01 the node goes NotReady/);

  const dry = memoryIo();
  await run(['renew', 'kubelet.conf', '--root', root, '--now', NOW.toISOString(), '--dry-run'], dry);
  const line = dry.out.split('\n').find((l) => /^ {2}kubelet\.conf: /.test(l)) ?? '';
  assert.doesNotMatch(line, /nothing to do/, line);
  assert.match(line, /the key of CA ca is missing \(pass --csr-out DIR/, line);
  const csrDir = tmpDir('kubepki-ext-ca-csr-');
  const io = memoryIo();
  assert.equal(await run(['renew', 'kubelet.conf', '--root', root, '--now', NOW.toISOString(), '--csr-out', csrDir], io), 1, io.out + io.err);
  const csr = path.join(csrDir, 'kubelet.conf.csr');
  const req = openssl(['req', '-in', csr, '-noout', '-subject', '-verify']);
  assert.equal(req.status, 0, req.stderr);
  assert.match(req.stdout, /subject=O = system:nodes, CN = system:node:cp-zeta/);
  // the request is for the key kubelet.conf holds, and kubelet.conf is untouched until the CA signs it
  const keyFile = path.join(csrDir, 'k.pem');
  fs.writeFileSync(keyFile, kubelet.keyPem);
  assert.equal(openssl(['pkey', '-in', keyFile, '-pubout']).stdout, openssl(['req', '-in', csr, '-noout', '-pubkey']).stdout);
  assert.equal(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'), kubeconfig(ca, `system:node:${NODE}`, kubelet));
});

test('rebuild --dry-run with apiserver.crt surviving and no SANs beyond kubeadm\'s own: certSANs come from that file (none), with no warning that "apiserver.crt and kubeadm configs are gone"', async () => {
  const root = tmpDir('kubepki-srv-pki-sans-');
  await srvPki(root);
  const io = memoryIo();
  assert.equal(await run(['rebuild', '--root', root, '--now', NOW.toISOString(), '--kubernetes-version', 'v1.31.2', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {2}certSANs +\(none\) +\/srv\/kubernetes\/pki\/apiserver\.crt \(no SANs beyond kubeadm's own\)$/m);
  assert.doesNotMatch(io.out, /no extra apiserver SANs found/);
});

test('kubelet credentials --out for a worker of a cluster whose certificatesDir is /srv/kubernetes/pki: the CA goes where kubeadm join put it and the kubelet\'s clientCAFile names it (it went to /etc/kubernetes/pki/ca.crt, which that kubelet never reads), and the printed tar carries it', async () => {
  const root = tmpDir('kubepki-srv-creds-');
  const { ca } = await srvPki(root);
  const out = path.join(tmpDir('kubepki-srv-creds-out-'), 'worker-7');
  const io = memoryIo();
  assert.equal(await run(['kubelet', 'credentials', '--root', root, '--now', NOW.toISOString(), '--node', 'worker-7', '--out', out, '--control-plane-endpoint', `${ADV}:6443`], io), 0, io.out + io.err);
  assert.equal(fs.readFileSync(path.join(out, PKI, 'ca.crt'), 'utf8'), ca.pem);
  assert.equal(fs.existsSync(path.join(out, 'etc/kubernetes/pki')), false);
  // the copy step as printed, with the node's `tar -C / -xpf -` run into a directory standing for its /
  const tar = /\(tar (-C \S+ -cf - [a-z ]+) \| ssh root@worker-7 tar -C \/ (--no-overwrite-dir -xpf -):/.exec(io.out);
  assert.ok(tar, io.out);
  const node = tmpDir('kubepki-srv-creds-node-');
  execSync(`tar ${tar[1]} | tar -C ${node} ${tar[2]}`);
  const caFile = path.join(node, PKI, 'ca.crt');
  assert.equal(fs.readFileSync(caFile, 'utf8'), ca.pem);
  const link = fs.readlinkSync(path.join(node, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  const v = openssl(['verify', '-CAfile', caFile, path.join(node, link)]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(openssl(['x509', '-in', path.join(node, link), '-noout', '-subject']).stdout, /O = system:nodes, CN = system:node:worker-7/);
});

test('renew ca on a node whose certificatesDir is /srv/kubernetes/pki tells workers to put the CA at /srv/kubernetes/pki/ca.crt, where kubeadm join put it and their kubelet reads it (it said /etc/kubernetes/pki/ca.crt)', async () => {
  const root = tmpDir('kubepki-srv-renew-ca-');
  const { ca } = await srvPki(root);
  const admin = await makeLeaf(ca, 'kubernetes-admin', { orgs: ['kubeadm:cluster-admins'], eku: ['clientAuth'], notBefore: ISSUED, days: 365 });
  put(root, '/etc/kubernetes/admin.conf', kubeconfig(ca, 'kubernetes-admin', admin), 0o600);
  const io = memoryIo();
  await run(['renew', 'ca', '--root', root, '--now', NOW.toISOString(), '--dry-run'], io);
  const worker = io.out.split('\n').find((l) => l.includes('every worker:')) ?? '';
  assert.match(worker, /copy this node's \/srv\/kubernetes\/pki\/ca\.crt to \/srv\/kubernetes\/pki\/ca\.crt there/, io.out);
  assert.match(worker, /--certificate-authority=\/srv\/kubernetes\/pki\/ca\.crt --embed-certs=true --kubeconfig \/etc\/kubernetes\/kubelet\.conf/);
  assert.doesNotMatch(worker, /\/etc\/kubernetes\/pki/);
});

test('renew all --only-expiring --backdate 1d renews an apiserver certificate that is not yet valid (seed 000: made "from now" on a machine whose clock was ahead): it was left out, as neither expired nor expiring', async () => {
  const root = tmpDir('kubepki-srv-early-');
  const { ca } = await srvPki(root);
  const early = new Date(NOW.getTime() + 3 * 3600_000);
  pair(root, 'apiserver', await makeLeaf(ca, 'kube-apiserver', { eku: ['serverAuth'], sans: [dns(NODE), dns('kubernetes'), ip('10.96.0.1'), ip(ADV)], notBefore: early, days: 365 }));
  const admin = await makeLeaf(ca, 'kubernetes-admin', { orgs: ['kubeadm:cluster-admins'], eku: ['clientAuth'], notBefore: ISSUED, days: 365 });
  put(root, '/etc/kubernetes/admin.conf', kubeconfig(ca, 'kubernetes-admin', admin), 0o600);
  const io = memoryIo();
  // (exit 1: the kubeadm files this small tree lacks are listed as not renewed)
  assert.equal(await run(['renew', 'all', '--only-expiring', '--backdate', '1d', '--root', root, '--now', NOW.toISOString()], io), 1, io.out + io.err);
  assert.match(io.out, /^Renewed 1 certificate\(s\)/m);
  const planned = io.out.slice(0, io.out.indexOf('\nFiles')).split('\n').filter((l) => /^ {2}\S+ +\//.test(l)).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(planned, ['apiserver'], io.out);
  const crt = path.join(root, PKI, 'apiserver.crt');
  assert.equal(openssl(['verify', '-CAfile', path.join(root, PKI, 'ca.crt'), crt]).status, 0);
  assert.match(openssl(['x509', '-in', crt, '-noout', '-startdate']).stdout, /notBefore=Nov 22 00:00:00 2026 GMT/);
});

test('a kubespray etcd host that is no control-plane node (/etc/ssl/etcd/ssl and /etc/etcd.env, no /etc/kubernetes): check lists its admin and node certificates too and renew renews them, which a real etcd and etcdctl then take (only the member certificate /etc/etcd.env names was found)', { skip: !fs.existsSync('/usr/bin/etcd') && 'etcd not installed' }, async () => {
  // (a real etcd judges the renewed files, so the dates are around the real clock)
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const issued = new Date(now.getTime() - 400 * 86400_000);
  const root = tmpDir('kubepki-kubespray-etcd-');
  const ssl = '/etc/ssl/etcd/ssl';
  // as roles/etcd/files/make-ssl-etcd.sh makes them (spec §9.3): RSA 2048, CN etcd-<kind>-<host>
  const ca = await makeCa('etcd-ca', issued, 10000, 'rsa-2048');
  put(root, `${ssl}/ca.pem`, ca.pem);
  put(root, `${ssl}/ca-key.pem`, ca.keyPem, 0o600);
  for (const kind of ['member', 'admin', 'node']) {
    const leaf = await makeLeaf(ca, `etcd-${kind}-node1`, { eku: ['clientAuth', 'serverAuth'], sans: [dns('localhost'), dns('node1'), ip('10.3.0.11'), ip('127.0.0.1')], notBefore: issued, days: 365, keyType: 'rsa-2048' });
    put(root, `${ssl}/${kind}-node1.pem`, leaf.pem);
    put(root, `${ssl}/${kind}-node1-key.pem`, leaf.keyPem, 0o600);
  }
  put(root, '/etc/etcd.env', ['ETCD_DATA_DIR=/var/lib/etcd', 'ETCD_NAME=etcd1', `ETCD_CERT_FILE=${ssl}/member-node1.pem`, `ETCD_KEY_FILE=${ssl}/member-node1-key.pem`, `ETCD_TRUSTED_CA_FILE=${ssl}/ca.pem`,
    'ETCD_CLIENT_CERT_AUTH=true', `ETCD_PEER_CERT_FILE=${ssl}/member-node1.pem`, `ETCD_PEER_KEY_FILE=${ssl}/member-node1-key.pem`, `ETCD_PEER_TRUSTED_CA_FILE=${ssl}/ca.pem`, ''].join('\n'));

  const inv = readInventory({ fs: new NodeFs(root), now });
  assert.ok(inv.layouts.includes('kubespray'), inv.layouts.join());
  assert.deepEqual(inv.certificates.filter((c) => !c.isCA).map((c) => `${c.location.file} ${c.status}`).sort(),
    ['admin', 'member', 'node'].map((k) => `${ssl}/${k}-node1.pem expired`));
  assert.deepEqual(inv.missing, []);

  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', now.toISOString()], io), 0, io.out + io.err);
  const f = (n: string) => path.join(root, ssl, n);
  for (const k of ['member', 'admin', 'node']) assert.equal(openssl(['verify', '-CAfile', f('ca.pem'), f(`${k}-node1.pem`)]).status, 0, k);

  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const etcd = await runEtcd([
    '--name', 'etcd1', '--data-dir', tmpDir('kubepki-kubespray-etcd-data-'),
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`, '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `https://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peerPort}`,
    '--initial-cluster', `etcd1=https://127.0.0.1:${peerPort}`, '--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`,
    '--client-cert-auth=true', '--trusted-ca-file', f('ca.pem'), '--cert-file', f('member-node1.pem'), '--key-file', f('member-node1-key.pem'),
    '--peer-client-cert-auth=true', '--peer-trusted-ca-file', f('ca.pem'), '--peer-cert-file', f('member-node1.pem'), '--peer-key-file', f('member-node1-key.pem'),
  ]);
  try {
    const health = (kind: string) => spawnSync('/usr/bin/etcdctl', [`--endpoints=https://127.0.0.1:${clientPort}`, '--cacert', f('ca.pem'), '--cert', f(`${kind}-node1.pem`), '--key', f(`${kind}-node1-key.pem`),
      '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    for (const kind of ['admin', 'node']) {
      let r = health(kind);
      for (let i = 0; i < 20 && r.status !== 0; i++) { await new Promise((res) => setTimeout(res, 250)); r = health(kind); }
      assert.equal(r.status, 0, `${kind}: ${r.stdout}${r.stderr}\n${etcd.log().slice(-1500)}`);
      assert.match(r.stdout + r.stderr, /is healthy/);
    }
  } finally {
    await etcd.stop();
  }
});
