import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { inventoryExitCode } from '../src/report/table.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { makeK3sTree, makeCa, makeLeaf, put, type Made } from './support/trees.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { copyFixture, FIXTURES, freePort, NOW, openssl, tmpDir } from './support/fixtures.js';
import { runEtcd } from './support/etcd.js';
import { byName } from './support/by-name.js';

/** A certificate and its key beside it (`x.crt`, `x.key` 0600), as installers write them. */
function putPair(root: string, crtPath: string, pair: { pem: string; keyPem: string }): void {
  put(root, crtPath, pair.pem);
  put(root, crtPath.replace(/\.(crt|pem)$/, '.key'), pair.keyPem, 0o600);
}


test('k3s server node (not in the fixtures): detected, CA bundles in leaf files folded into their CA, signers, kubeconfigs with file references, exit 0', async () => {
  const root = tmpDir('kubepki-k3s-');
  await makeK3sTree(root, new Date('2026-06-01T00:00:00Z'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.layouts, ['k3s']);
  const cas = inv.certificates.filter((c) => c.isCA).map((c) => c.name).sort();
  assert.deepEqual(cas, ['client-ca', 'etcd/peer-ca', 'etcd/server-ca', 'request-header-ca', 'server-ca']);
  // the CA copy at index 1 of every leaf .crt and the agent's copies are one row with copies, not new CAs
  assert.ok((byName(inv, 'client-ca').copies ?? []).length >= 8, JSON.stringify(byName(inv, 'client-ca').copies));
  assert.equal(byName(inv, 'serving-kube-apiserver').signerName, 'server-ca');
  assert.equal(byName(inv, 'client-admin').signerName, 'client-ca');
  assert.equal(byName(inv, 'etcd/peer-server-client').signerName, 'etcd/peer-ca');
  assert.equal(byName(inv, 'client-kubelet').signerName, 'client-ca');
  for (const c of inv.certificates) {
    assert.equal(c.status, 'ok', `${c.name}: ${JSON.stringify(c.findings)}`);
    assert.equal(c.managedBy, 'k3s', c.name);
    assert.equal(c.privateKey.matches, true, `${c.name} key`);
    assert.equal(c.keyAlgorithm, 'ECDSA');
  }
  // k3s.yaml embeds the server CA: it verifies the API server certificate, so no mismatch
  assert.ok(inv.certificates.some((c) => c.location.file === '/etc/rancher/k3s/k3s.yaml'));
  assert.equal(inv.findings.filter((f) => f.severity !== 'info').length, 0, JSON.stringify(inv.findings, null, 1));
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.out);
  // a year later everything k3s made has expired; the CAs have not
  const later = readInventory({ fs: new NodeFs(root), now: new Date('2027-07-01T00:00:00Z') });
  for (const c of later.certificates) assert.equal(c.status, c.isCA ? 'ok' : 'expired', c.name);
});

test('k3s agent with expired leaves (the CA keys are on the server): check says restart k3s-agent, not renew all; renew says the same for each leaf; a server node still gets renew all', async () => {
  const root = tmpDir('kubepki-k3s-agent-');
  await makeK3sTree(root, new Date('2025-10-01T00:00:00Z'));
  fs.rmSync(path.join(root, 'var/lib/rancher/k3s/server'), { recursive: true });
  fs.rmSync(path.join(root, 'etc/rancher'), { recursive: true }); // k3s.yaml is written on servers only
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2, io.out + io.err);
  const next = /^Next: (.*)$/m.exec(io.out)?.[1];
  assert.equal(next, 'k3s re-issues its certificates that expire within 120 days (90 before its v1.30.13, v1.31.9, v1.32.5 and v1.33.1 of May 2025) when it starts (an agent gets them from the server, whose own must be valid): systemctl restart k3s-agent');
  // the JSON (and the dashboard, which reads it) gives the same advice
  const json = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
  assert.equal(JSON.parse(json.out).next, next);
  const renew = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-11-23', '--dry-run'], renew), 1, renew.out + renew.err); // 1: some could not be renewed here
  const notRenewed = renew.out.split('\n').filter((l) => /^ {2}(client|serving)-kubelet: /.test(l));
  assert.equal(notRenewed.length, 2, renew.out);
  for (const l of notRenewed) assert.match(l, /systemctl restart k3s-agent$/, l);
  assert.doesNotMatch(renew.out, /--csr-out/);

  // the same node as a server (CA keys here, unit k3s): restarting k3s re-issues them with its CAs (renew all
  // would end with the same restart, and cannot write the listener's dynamic-cert.json)
  const server = tmpDir('kubepki-k3s-server-expired-');
  await makeK3sTree(server, new Date('2025-10-01T00:00:00Z'));
  const io2 = memoryIo();
  assert.equal(await run(['check', '--root', server, '--now', '2026-11-23'], io2), 2);
  assert.match(io2.out, /^Next: k3s re-issues its certificates that expire within 120 days \(90 before its v1\.30\.13, v1\.31\.9, v1\.32\.5 and v1\.33\.1 of May 2025\) when it starts, with its CAs on this node: systemctl restart k3s \(each agent re-issues its own when restarted\)$/m);
  const json2 = memoryIo();
  await run(['check', '--root', server, '--now', '2026-11-23', '-o', 'json'], json2);
  assert.equal(JSON.parse(json2.out).next, /^Next: (.*)$/m.exec(io2.out)?.[1]);
  // renew all still does it here, if asked, and ends with the same restart
  const r1 = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', server, '--now', '2026-11-23', '--dry-run'], r1), 0, r1.out + r1.err);
  assert.match(r1.out, /^ {4}systemctl restart k3s$/m);
  // a CA that has expired itself is not re-signed by a restart, nor renewed in server/tls (k3s keeps its CAs in its
  // datastore and does not start with a newer file there): k3s certificate rotate-ca is the step
  const caGone = memoryIo();
  assert.equal(await run(['check', '--root', server, '--now', '2035-11-01'], caGone), 2);
  assert.match(caGone.out, /^Next: client-ca, etcd\/peer-ca, etcd\/server-ca, request-header-ca, server-ca: they are k3s's CAs, .*k3s certificate rotate-ca --path=DIR/m);
  // a server without a CA key cannot re-issue what that CA signs: no "restart k3s" advice there
  fs.rmSync(path.join(server, 'var/lib/rancher/k3s/server/tls/client-ca.key'));
  const r2 = memoryIo();
  await run(['renew', 'all', '--root', server, '--now', '2026-11-23', '--dry-run'], r2);
  assert.match(r2.out, /client-admin: externally managed, can't renew .*the key of CA client-ca is missing \(pass --csr-out DIR/);
  for (const l of r2.out.split('\n').filter((x) => /key of CA client-ca is missing/.test(x))) assert.doesNotMatch(l, /systemctl/, l);
});

test('kubespray layout: /etc/kubernetes/ssl with /etc/kubernetes/pki a symlink to it keeps kubeadm names', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.ok(inv.layouts.includes('kubespray'), inv.layouts.join());
  for (const n of ['apiserver', 'etcd-server', 'front-proxy-client', 'ca', 'etcd-ca']) assert.equal(byName(inv, n).status, 'ok');
  assert.equal(byName(inv, 'apiserver').location.file, '/etc/kubernetes/ssl/apiserver.crt');
  assert.equal(byName(inv, 'apiserver').managedBy, 'kubeadm');
  assert.equal(byName(inv, 'apiserver').profile, 'apiserver');
  assert.deepEqual(inv.missing, []);
  // the manifests name /etc/kubernetes/pki/…: the same files, so kube-apiserver reads them and restarts after a renew
  assert.deepEqual(byName(inv, 'apiserver').components, ['kube-apiserver']);
  assert.deepEqual(byName(inv, 'etcd-server').components, ['etcd']);
  const io = memoryIo();
  assert.equal(await run(['renew', 'apiserver', 'etcd-server', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {2}kube-apiserver \(static pod; reads \/etc\/kubernetes\/ssl\/apiserver\.crt\)$/m);
  assert.match(io.out, /^ {2}etcd \(static pod; reads \/etc\/kubernetes\/ssl\/etcd\/server\.crt\)$/m);
});

const KUBEADM_126_NAMES = ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'ca', 'controller-manager.conf', 'etcd-ca', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-ca', 'front-proxy-client', 'kubelet-client', 'kubelet-serving', 'kubelet-serving-ca', 'scheduler.conf'];

test('a certificatesDir other than /etc/kubernetes/pki (from the manifests, the kubelet config or kubeadm-config.yaml): every kubeadm certificate found under its name, nothing missing, exit 0', async () => {
  for (const source of ['manifests', 'kubelet-config', 'kubeadm-config'] as const) {
    const root = copyFixture('kubeadm-1.26');
    fs.mkdirSync(path.join(root, 'etc/k8s'));
    fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/k8s/pki'));
    const edit = (rel: string) => {
      const f = path.join(root, rel);
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replaceAll('/etc/kubernetes/pki', '/etc/k8s/pki'));
    };
    for (const m of fs.readdirSync(path.join(root, 'etc/kubernetes/manifests'))) edit(`etc/kubernetes/manifests/${m}`);
    edit('var/lib/kubelet/config.yaml');
    if (source !== 'manifests') fs.rmSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'));
    if (source === 'kubeadm-config') {
      fs.rmSync(path.join(root, 'var/lib/kubelet/config.yaml'));
      fs.writeFileSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'), 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncertificatesDir: "/etc/k8s/pki/"   # moved\n');
    }
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    assert.deepEqual(inv.certificates.map((c) => c.name).sort(), KUBEADM_126_NAMES, source);
    assert.deepEqual(inv.missing, [], source);
    assert.equal(byName(inv, 'apiserver').location.file, '/etc/k8s/pki/apiserver.crt');
    assert.equal(byName(inv, 'etcd-server').managedBy, 'kubeadm');
    assert.equal(byName(inv, 'ca').privateKey.matches, true, `${source}: ca.key read from the moved directory`);
    assert.ok(inv.findings.every((f) => f.severity !== 'error'), `${source}: ${JSON.stringify(inv.findings.filter((f) => f.severity === 'error'))}`);
    if (source === 'manifests') {
      const io = memoryIo();
      assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.err + io.out);
      assert.doesNotMatch(io.out, /MISSING|rebuild/);
    }
  }
});

test('links in the PKI (pki/etcd an absolute link, apiserver.crt a link to a dated file) resolve inside --root, keep kubeadm names, and renew writes through them inside the root, never on the host', async () => {
  const root = copyFixture('kubeadm-1.26');
  // the link target exists on the host too, holding something else: it must never be read or written
  const decoy = tmpDir('kubepki-host-etcd-');
  fs.writeFileSync(path.join(decoy, 'server.crt'), 'host file, not the node\'s\n');
  fs.mkdirSync(path.join(root, decoy), { recursive: true });
  fs.rmSync(path.join(root, decoy), { recursive: true });
  fs.renameSync(path.join(root, 'etc/kubernetes/pki/etcd'), path.join(root, decoy));
  fs.symlinkSync(decoy, path.join(root, 'etc/kubernetes/pki/etcd'));
  fs.mkdirSync(path.join(root, 'srv/certs'), { recursive: true });
  for (const ext of ['crt', 'key']) {
    fs.renameSync(path.join(root, `etc/kubernetes/pki/apiserver.${ext}`), path.join(root, `srv/certs/apiserver-2026.${ext}`));
    fs.symlinkSync(`/srv/certs/apiserver-2026.${ext}`, path.join(root, `etc/kubernetes/pki/apiserver.${ext}`));
  }
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.certificates.map((c) => c.name).sort(), KUBEADM_126_NAMES);
  assert.deepEqual(inv.missing, []);
  assert.equal(byName(inv, 'etcd-server').location.file, `${decoy}/server.crt`);
  assert.equal(byName(inv, 'etcd-server').location.via, '/etc/kubernetes/pki/etcd/server.crt');
  assert.equal(byName(inv, 'etcd-server').managedBy, 'kubeadm');
  assert.equal(byName(inv, 'apiserver').location.via, '/etc/kubernetes/pki/apiserver.crt');
  assert.equal(byName(inv, 'apiserver').privateKey.matches, true);
  assert.ok(inv.findings.every((f) => f.severity !== 'error'), JSON.stringify(inv.findings));

  const io = memoryIo();
  assert.equal(await run(['renew', 'etcd-server', 'apiserver', '--root', root, '--now', '2026-11-23'], io), 0, io.err + io.out);
  assert.equal(fs.readFileSync(path.join(decoy, 'server.crt'), 'utf8'), 'host file, not the node\'s\n', 'the host file is untouched');
  assert.deepEqual(fs.readdirSync(decoy), ['server.crt'], 'nothing written beside it on the host');
  assert.ok(fs.lstatSync(path.join(root, 'etc/kubernetes/pki/etcd')).isSymbolicLink(), 'the directory link is kept');
  assert.ok(fs.lstatSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt')).isSymbolicLink(), 'the file link is kept');
  const after = readInventory({ fs: new NodeFs(root), now: NOW });
  for (const n of ['etcd-server', 'apiserver']) {
    assert.notEqual(byName(after, n).serial, byName(inv, n).serial, `${n} renewed`);
    assert.equal(byName(after, n).status, 'ok');
  }
  const crt = path.join(root, decoy, 'server.crt');
  const v = openssl(['verify', '-CAfile', path.join(root, decoy, 'ca.crt'), crt]);
  assert.equal(v.status, 0, v.stderr);
  fs.rmSync(decoy, { recursive: true, force: true });
});

test('kubespray host etcd (systemd, /etc/etcd.env): its member certificate is attributed to etcd, and renewing it says systemctl restart etcd', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2025-10-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 10000, 'rsa-2048');
  const member = await makeLeaf(ca, 'etcd-member-node1', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'dns', value: 'node1' }, { type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const ssl = '/etc/ssl/etcd/ssl';
  put(root, `${ssl}/ca.pem`, ca.pem);
  put(root, `${ssl}/ca-key.pem`, ca.keyPem, 0o600);
  put(root, `${ssl}/member-node1.pem`, member.pem);
  put(root, `${ssl}/member-node1-key.pem`, member.keyPem, 0o600);
  put(root, '/etc/etcd.env', ['ETCD_DATA_DIR=/var/lib/etcd', `ETCD_CERT_FILE=${ssl}/member-node1.pem`, `ETCD_KEY_FILE=${ssl}/member-node1-key.pem`, `ETCD_TRUSTED_CA_FILE=${ssl}/ca.pem`,
    'ETCD_CLIENT_CERT_AUTH=true', `ETCD_PEER_CERT_FILE=${ssl}/member-node1.pem`, `ETCD_PEER_KEY_FILE=${ssl}/member-node1-key.pem`, `ETCD_PEER_TRUSTED_CA_FILE=${ssl}/ca.pem`, ''].join('\n'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const m = inv.certificates.find((c) => c.location.file === `${ssl}/member-node1.pem`);
  assert.ok(m, inv.certificates.map((c) => c.location.file).join(', '));
  assert.equal(m.status, 'expired');
  assert.deepEqual(m.components, ['etcd']);
  assert.equal(m.privateKey.matches, true);
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--only-expiring', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {2}etcd \(systemd unit etcd; reads \/etc\/ssl\/etcd\/ssl\/member-node1\.pem\)\n {4}systemctl restart etcd$/m);
});

test('kubespray host etcd: renewing its CA (/etc/ssl/etcd/ssl/ca.pem) said to put it in users\' kubeconfigs as their cluster CA (kubectl config set-cluster kubernetes --certificate-authority=/etc/ssl/etcd/ssl/ca.pem), which breaks kubectl, and that kube-root-ca.crt follows; it names etcd\'s clients, while the cluster CA keeps its kubeconfig steps', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2025-10-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 10000, 'rsa-2048');
  const member = await makeLeaf(ca, 'etcd-member-node1', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'dns', value: 'node1' }, { type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 3650, keyType: 'rsa-2048' });
  const client = await makeLeaf(ca, 'etcd-node-node1', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'dns', value: 'node1' }, { type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 3650, keyType: 'rsa-2048' });
  const ssl = '/etc/ssl/etcd/ssl';
  putPair(root, `${ssl}/ca.pem`, ca);
  put(root, `${ssl}/ca-key.pem`, ca.keyPem, 0o600);
  put(root, `${ssl}/member-node1.pem`, member.pem);
  put(root, `${ssl}/member-node1-key.pem`, member.keyPem, 0o600);
  put(root, `${ssl}/node-node1.pem`, client.pem);
  put(root, `${ssl}/node-node1-key.pem`, client.keyPem, 0o600);
  put(root, '/etc/etcd.env', [`ETCD_CERT_FILE=${ssl}/member-node1.pem`, `ETCD_KEY_FILE=${ssl}/member-node1-key.pem`, `ETCD_TRUSTED_CA_FILE=${ssl}/ca.pem`, ''].join('\n'));
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--etcd-cafile=\S+/, `--etcd-cafile=${ssl}/ca.pem`).replace(/--etcd-certfile=\S+/, `--etcd-certfile=${ssl}/node-node1.pem`).replace(/--etcd-keyfile=\S+/, `--etcd-keyfile=${ssl}/node-node1-key.pem`));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const etcdCa = inv.certificates.find((c) => c.location.file === `${ssl}/ca.pem`)!;
  assert.ok(etcdCa.components.includes('etcd'), etcdCa.components.join());

  const io = memoryIo();
  assert.equal(await run(['renew', etcdCa.name, '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  const sect = io.out.slice(io.out.indexOf('\nOutside this node: '));
  assert.ok(io.out.includes(`\nOutside this node: ${etcdCa.name} was renewed on this node only`), io.out);
  assert.doesNotMatch(sect, /set-cluster|certificate-authority-data|kube-root-ca\.crt|cluster-info/);
  assert.match(sect, /^ {2}- etcd clients elsewhere \(the kube-apiserver of every control-plane node, backup jobs, etcdctl on other hosts\): give them the renewed CA certificate/m);
  // the cluster CA of the same node still gets them
  const cluster = memoryIo();
  assert.equal(await run(['renew', 'ca', '--root', root, '--now', '2026-11-23', '--dry-run'], cluster), 0, cluster.out + cluster.err);
  assert.match(cluster.out, /users' kubeconfigs[^\n]*set-cluster kubernetes --certificate-authority=\/etc\/kubernetes\/pki\/ca\.crt/);
});

/** A real etcd started as `run` says (flags, environment, working directory), until it serves clients; stopped by the caller. */
test('etcd under systemd with a YAML config (--config-file, or ETCD_CONFIG_FILE in its environment file): the certificates its *-transport-security sections name are read wherever they are and are etcd\'s, so renewing one says systemctl restart etcd; the flags etcd then ignores name nothing; a real etcd serves what the file names', async (t) => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const sans = [{ type: 'dns' as const, value: 'localhost' }, { type: 'ip' as const, value: '127.0.0.1' }];
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth', 'clientAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const peer = await makeLeaf(ca, 'etcd-peer', { eku: ['serverAuth', 'clientAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const decoy = await makeLeaf(ca, 'etcd-decoy', { eku: ['serverAuth', 'clientAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const client = await makeLeaf(ca, 'etcd-client', { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  // outside every directory kubepki scans: only the config file leads there
  const tls = '/srv/etcd-tls';
  putPair(root, `${tls}/ca.crt`, ca);
  putPair(root, `${tls}/server.crt`, server);
  putPair(root, `${tls}/peer.crt`, peer);
  // in the PKI directory, so read either way: whether etcd is its reader is the question
  putPair(root, '/etc/kubernetes/pki/etcd-decoy.crt', decoy);
  const config = (dir: string, ports: [number, number]) => [
    'name: n1', `data-dir: ${dir}`,
    `listen-client-urls: https://127.0.0.1:${ports[0]}`, `advertise-client-urls: https://127.0.0.1:${ports[0]}`,
    `listen-peer-urls: https://127.0.0.1:${ports[1]}`, `initial-advertise-peer-urls: https://127.0.0.1:${ports[1]}`,
    `initial-cluster: n1=https://127.0.0.1:${ports[1]}`,
    'client-transport-security:', `  cert-file: ${tls}/server.crt`, `  key-file: ${tls}/server.key`, '  client-cert-auth: true', `  trusted-ca-file: ${tls}/ca.crt`,
    'peer-transport-security:', `  cert-file: ${tls}/peer.crt`, `  key-file: ${tls}/peer.key`, '  client-cert-auth: true', `  trusted-ca-file: ${tls}/ca.crt`, '',
  ].join('\n');
  put(root, '/etc/etcd/etcd.conf.yml', config('/var/lib/etcd', [2379, 2380]));
  const ignored = '--cert-file=/etc/kubernetes/pki/etcd-decoy.crt --key-file=/etc/kubernetes/pki/etcd-decoy.key';
  const ways = {
    '--config-file': () => put(root, '/etc/systemd/system/etcd.service', `[Service]\nExecStart=/usr/bin/etcd --config-file /etc/etcd/etcd.conf.yml ${ignored}\n`),
    ETCD_CONFIG_FILE: () => {
      put(root, '/etc/systemd/system/etcd.service', `[Service]\nEnvironmentFile=-/etc/default/%p\nExecStart=/usr/bin/etcd ${ignored}\n`);
      put(root, '/etc/default/etcd', 'ETCD_CONFIG_FILE=/etc/etcd/etcd.conf.yml\nETCD_PEER_CERT_FILE=/etc/kubernetes/pki/etcd-decoy.crt\n');
    },
  };
  for (const [way, setUp] of Object.entries(ways)) {
    setUp();
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    const at = (file: string) => inv.certificates.find((c) => c.location.file === file);
    for (const f of ['server.crt', 'peer.crt', 'ca.crt']) assert.deepEqual(at(`${tls}/${f}`)?.components, ['etcd'], `${way}: ${f}: ${inv.certificates.map((c) => c.location.file).join(', ')}`);
    assert.deepEqual(at('/etc/kubernetes/pki/etcd-decoy.crt')?.components ?? [], [], `${way}: etcd ignores its flags and ETCD_* variables beside a config file`);
    const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const io = memoryIo();
    assert.equal(await run(['renew', '--file', `${tls}/server.crt`, '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.out + io.err);
    assert.match(io.out, /^ {2}etcd \(systemd unit etcd; reads \/srv\/etcd-tls\/server\.crt\)\n {4}systemctl restart etcd$/m, way);
    const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; endpoint?: { port: number; certFile: string } }[];
    assert.deepEqual(restarts.map((r) => `${r.component} ${r.endpoint?.port} ${r.endpoint?.certFile}`), [`etcd 2379 ${tls}/server.crt`], way);
  }

  // what a real etcd does with the same file (its paths inside this test's root, free ports) and the same ignored
  // flags and variables: it serves the file's cert-file and takes the file's client CA
  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const clientDir = tmpDir('kubepki-etcd-client-');
  fs.writeFileSync(path.join(clientDir, 'client.crt'), client.pem);
  fs.writeFileSync(path.join(clientDir, 'client.key'), client.keyPem, { mode: 0o600 });
  const { probeEndpoint } = await import('../src/probe/probe.js');
  const decoyArgs = ['--cert-file', path.join(root, 'etc/kubernetes/pki/etcd-decoy.crt'), '--key-file', path.join(root, 'etc/kubernetes/pki/etcd-decoy.key')];
  for (const way of ['--config-file', 'ETCD_CONFIG_FILE']) {
    const ports: [number, number] = [await freePort(), await freePort()];
    const hostConfig = path.join(tmpDir('kubepki-etcd-conf-'), 'etcd.conf.yml');
    fs.writeFileSync(hostConfig, config(tmpDir('kubepki-etcd-data-'), ports).replaceAll(`${tls}/`, `${path.join(root, tls)}/`));
    const etcd = way === '--config-file'
      ? await runEtcd(['--config-file', hostConfig, ...decoyArgs], { ETCD_PEER_CERT_FILE: path.join(root, 'etc/kubernetes/pki/etcd-decoy.crt') })
      : await runEtcd(decoyArgs, { ETCD_CONFIG_FILE: hostConfig, ETCD_PEER_CERT_FILE: path.join(root, 'etc/kubernetes/pki/etcd-decoy.crt') });
    try {
      const served = await probeEndpoint('127.0.0.1', ports[0]);
      assert.deepEqual(Buffer.from(served.chain[0]!), Buffer.from(server.der), `${way}: etcd serves ${tls}/server.crt`);
      const r = spawnSync('/usr/bin/etcdctl', [`--endpoints=https://127.0.0.1:${ports[0]}`, '--cacert', path.join(root, tls, 'ca.crt'), '--cert', path.join(clientDir, 'client.crt'), '--key', path.join(clientDir, 'client.key'), '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      assert.equal(r.status, 0, `${way}: etcdctl: ${r.stdout}${r.stderr}\n${etcd.log().slice(-1500)}`);
      assert.match(r.stdout + r.stderr, /is healthy/);
    } finally {
      await etcd.stop();
    }
  }
});

test('etcd under systemd with its flags written with one dash (Go\'s flag package reads -config-file as --config-file; old etcd docs and hand-made units write them so): -config-file is followed and the flags beside it name nothing, -cert-file names etcd\'s certificate; a real etcd takes -config-file', async (t) => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const decoy = await makeLeaf(ca, 'etcd-decoy', { eku: ['serverAuth', 'clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  putPair(root, '/srv/etcd-tls/ca.crt', ca);
  putPair(root, '/srv/etcd-tls/server.crt', server);
  putPair(root, '/etc/kubernetes/pki/etcd-decoy.crt', decoy);
  put(root, '/etc/etcd/etcd.yml', 'name: n1\nclient-transport-security:\n  cert-file: /srv/etcd-tls/server.crt\n  key-file: /srv/etcd-tls/server.key\n  trusted-ca-file: /srv/etcd-tls/ca.crt\n');
  const components = (file: string) => {
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    return inv.certificates.find((c) => c.location.file === file)?.components ?? [];
  };
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/bin/etcd -name n1 -config-file /etc/etcd/etcd.yml -cert-file=/etc/kubernetes/pki/etcd-decoy.crt\n');
  assert.deepEqual(components('/srv/etcd-tls/server.crt'), ['etcd'], '-config-file X');
  assert.deepEqual(components('/etc/kubernetes/pki/etcd-decoy.crt'), [], 'etcd ignores -cert-file beside a config file');
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/bin/etcd -config-file=/etc/etcd/etcd.yml\n');
  assert.deepEqual(components('/srv/etcd-tls/server.crt'), ['etcd'], '-config-file=X');
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/bin/etcd -name n1 -cert-file /srv/etcd-tls/server.crt -key-file=/srv/etcd-tls/server.key -trusted-ca-file /srv/etcd-tls/ca.crt\n');
  assert.deepEqual(components('/srv/etcd-tls/server.crt'), ['etcd'], '-cert-file X');
  assert.deepEqual(components('/srv/etcd-tls/ca.crt'), ['etcd'], '-trusted-ca-file X');

  // a real etcd reads one dash as two: it loads the file -config-file names (here one that is not there, so it stops at once)
  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const missing = path.join(tmpDir('kubepki-etcd-dash-'), 'nowhere.yml');
  const r = spawnSync('/usr/bin/etcd', ['-config-file', missing, '-cert-file=/nonexistent.crt'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '' } });
  assert.notEqual(r.status, 0);
  assert.ok((r.stdout + r.stderr).includes(`open ${missing}: no such file or directory`), r.stdout + r.stderr);
});

test('etcd\'s YAML config names the client certificate etcd presents to its peers (and as a client) in client-cert-file / client-key-file of its *-transport-security sections (etcd 3.5+, embed.securityConfig, as --peer-client-cert-file does): that certificate is etcd\'s too', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const peerClient = await makeLeaf(ca, 'etcd-peer-client', { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  putPair(root, '/srv/etcd-tls/ca.crt', ca);
  putPair(root, '/srv/etcd-tls/peer.crt', server);
  putPair(root, '/srv/etcd-tls/peer-client.crt', peerClient);
  put(root, '/etc/etcd/etcd.yml', 'name: n1\npeer-transport-security:\n  cert-file: /srv/etcd-tls/peer.crt\n  key-file: /srv/etcd-tls/peer.key\n  client-cert-file: /srv/etcd-tls/peer-client.crt\n  client-key-file: /srv/etcd-tls/peer-client.key\n  trusted-ca-file: /srv/etcd-tls/ca.crt\n');
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.yml\n');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const at = (file: string) => inv.certificates.find((c) => c.location.file === file);
  assert.deepEqual(at('/srv/etcd-tls/peer.crt')?.components, ['etcd']);
  assert.deepEqual(at('/srv/etcd-tls/peer-client.crt')?.components, ['etcd'], inv.certificates.map((c) => c.location.file).join(', '));
  const io = memoryIo();
  assert.equal(await run(['renew', '--file', '/srv/etcd-tls/peer-client.crt', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {4}systemctl restart etcd$/m, io.out);
});

test('etcd\'s YAML config with a key written twice (a hand-edited file): etcd keeps the last, as its lenient YAML decoder does, so the certificates the last client-transport-security names are etcd\'s; check read nothing from such a file. A real etcd starts with it and takes the last section', async (t) => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const old = await makeLeaf(ca, 'etcd-old', { eku: ['serverAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  putPair(root, '/srv/etcd-tls/ca.crt', ca);
  putPair(root, '/srv/etcd-tls/server.crt', server);
  putPair(root, '/srv/etcd-tls/old.crt', old);
  const config = (dir: string, ports: [number, number], tls: string) => [
    'name: n1', `data-dir: ${dir}`, 'name: n1',
    `listen-client-urls: http://127.0.0.1:${ports[0]}`, `advertise-client-urls: http://127.0.0.1:${ports[0]}`,
    `listen-peer-urls: http://127.0.0.1:${ports[1]}`, `initial-advertise-peer-urls: http://127.0.0.1:${ports[1]}`,
    `initial-cluster: n1=http://127.0.0.1:${ports[1]}`,
    'client-transport-security:', `  cert-file: ${tls}/old.crt`, `  key-file: ${tls}/old.key`,
    'client-transport-security:', `  cert-file: ${tls}/server.crt`, `  key-file: ${tls}/server.key`, `  trusted-ca-file: ${tls}/ca.crt`, '',
  ].join('\n');
  put(root, '/etc/etcd/etcd.yml', config('/var/lib/etcd', [2379, 2380], '/srv/etcd-tls'));
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/bin/etcd --config-file=/etc/etcd/etcd.yml\n');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const at = (file: string) => inv.certificates.find((c) => c.location.file === file);
  assert.deepEqual(at('/srv/etcd-tls/server.crt')?.components, ['etcd'], inv.certificates.map((c) => c.location.file).join(', '));
  assert.deepEqual(at('/srv/etcd-tls/ca.crt')?.components, ['etcd']);
  assert.equal(at('/srv/etcd-tls/old.crt'), undefined, 'the section etcd does not keep names nothing it reads');

  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const hostConfig = path.join(tmpDir('kubepki-etcd-dup-'), 'etcd.yml');
  fs.writeFileSync(hostConfig, config(tmpDir('kubepki-etcd-data-'), [await freePort(), await freePort()], path.join(root, 'srv/etcd-tls')));
  const etcd = await runEtcd(['--config-file', hostConfig], {});
  try {
    assert.match(etcd.log(), new RegExp(`ClientTLS: cert = ${path.join(root, 'srv/etcd-tls/server.crt').replace(/[.]/g, '\\.')},`), etcd.log().slice(-1500));
  } finally {
    await etcd.stop();
  }
});

test('kubeadm\'s etcd static pod given --config-file (or ETCD_CONFIG_FILE in its env): etcd reads every setting from that file and ignores the pod\'s other flags ("Other configuration command line flags and environment variables will be ignored"), so the certificates the file names are etcd\'s and the ones --cert-file and --peer-cert-file name are not, in check and in renew\'s restarts; a real etcd run with the pod\'s own flags serves what the file names', async (t) => {
  const root = copyFixture('kubeadm-1.26');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const sans = [{ type: 'dns' as const, value: 'localhost' }, { type: 'ip' as const, value: '127.0.0.1' }];
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth', 'clientAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const peer = await makeLeaf(ca, 'etcd-peer', { eku: ['serverAuth', 'clientAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const tls = '/srv/etcd-tls';
  putPair(root, `${tls}/ca.crt`, ca);
  putPair(root, `${tls}/server.crt`, server);
  putPair(root, `${tls}/peer.crt`, peer);
  const config = (dir: string, ports: [number, number]) => [
    'name: n1', `data-dir: ${dir}`,
    `listen-client-urls: https://127.0.0.1:${ports[0]}`, `advertise-client-urls: https://127.0.0.1:${ports[0]}`,
    `listen-peer-urls: https://127.0.0.1:${ports[1]}`, `initial-advertise-peer-urls: https://127.0.0.1:${ports[1]}`,
    `initial-cluster: n1=https://127.0.0.1:${ports[1]}`,
    'client-transport-security:', `  cert-file: ${tls}/server.crt`, `  key-file: ${tls}/server.key`, `  trusted-ca-file: ${tls}/ca.crt`,
    'peer-transport-security:', `  cert-file: ${tls}/peer.crt`, `  key-file: ${tls}/peer.key`, `  trusted-ca-file: ${tls}/ca.crt`, '',
  ].join('\n');
  put(root, '/etc/etcd/etcd.conf.yml', config('/var/lib/etcd', [2379, 2380]));
  const manifest = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
  const kubeadms = fs.readFileSync(manifest, 'utf8');
  const ways = {
    '--config-file': kubeadms.replace('    - etcd\n', '    - etcd\n    - --config-file=/etc/etcd/etcd.conf.yml\n'),
    ETCD_CONFIG_FILE: kubeadms.replace('    image: ', '    env:\n    - name: ETCD_CONFIG_FILE\n      value: /etc/etcd/etcd.conf.yml\n    image: '),
  };
  for (const [way, text] of Object.entries(ways)) {
    assert.notEqual(text, kubeadms, way);
    fs.writeFileSync(manifest, text);
    const json = memoryIo();
    await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    const certs = JSON.parse(json.out).certificates as { location: { file: string }; components: string[] }[];
    const readers = (file: string) => certs.find((c) => c.location.file === file)?.components;
    for (const f of ['server.crt', 'peer.crt', 'ca.crt']) assert.deepEqual(readers(`${tls}/${f}`), ['etcd'], `${way}: ${f}: ${certs.map((c) => c.location.file).join(', ')}`);
    for (const f of ['server.crt', 'peer.crt']) assert.deepEqual(readers(`/etc/kubernetes/pki/etcd/${f}`), [], `${way}: etcd ignores the pod's flag naming etcd/${f}`);
    assert.ok(!readers('/etc/kubernetes/pki/etcd/ca.crt')?.includes('etcd'), `${way}: etcd/ca.crt is kube-apiserver's (--etcd-cafile), not etcd's`);
    const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const io = memoryIo();
    assert.equal(await run(['renew', '--file', `${tls}/server.crt`, '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.out + io.err);
    const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; how: string; manifest?: string; endpoint?: { port: number; certFile: string } }[];
    assert.deepEqual(restarts.map((r) => `${r.component} ${r.how} ${r.manifest} ${r.endpoint?.port} ${r.endpoint?.certFile}`), [`etcd static-pod /etc/kubernetes/manifests/etcd.yaml 2379 ${tls}/server.crt`], way);
    const decoyPlan = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const decoy = memoryIo();
    assert.equal(await run(['renew', '--file', '/etc/kubernetes/pki/etcd/server.crt', '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', decoyPlan], decoy), 0, decoy.out + decoy.err);
    assert.deepEqual((JSON.parse(fs.readFileSync(decoyPlan, 'utf8')).restarts as { component: string }[]).map((r) => r.component), [], `${way}: no running etcd reads etcd/server.crt`);
  }

  // a real etcd given the pod's command line (its paths inside this test's root) and the config file: it serves
  // the file's cert-file, not --cert-file's, and does not even try the pod's --listen-client-urls
  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const ports: [number, number] = [await freePort(), await freePort()];
  const hostConfig = path.join(tmpDir('kubepki-etcd-conf-'), 'etcd.conf.yml');
  fs.writeFileSync(hostConfig, config(tmpDir('kubepki-etcd-data-'), ports).replaceAll(`${tls}/`, `${path.join(root, tls)}/`));
  const podArgs = /- command:\n((?: {4}- .*\n)+)/.exec(kubeadms)![1]!.split('\n').filter(Boolean).map((l) => l.replace(/^ {4}- /, '').replaceAll('=/etc/kubernetes/', `=${root}/etc/kubernetes/`)).slice(1);
  assert.ok(podArgs.includes(`--cert-file=${root}/etc/kubernetes/pki/etcd/server.crt`), podArgs.join(' '));
  const etcd = await runEtcd(['--config-file', hostConfig, ...podArgs], {});
  try {
    const { probeEndpoint } = await import('../src/probe/probe.js');
    const served = await probeEndpoint('127.0.0.1', ports[0]);
    assert.deepEqual(Buffer.from(served.chain[0]!), Buffer.from(server.der), `etcd serves ${tls}/server.crt`);
    assert.match(etcd.log(), /Other configuration command line flags and environment variables will be ignored if provided/);
  } finally {
    await etcd.stop();
  }
});

/**
 * A kubeadm node whose etcd runs outside a static pod from a YAML config file: etcd's CA and serving pair in
 * /srv/etcd-tls (which the config names), and a decoy pair in the PKI that only ignored flags or variables name.
 */
async function etcdConfigNode(): Promise<{ root: string; server: Awaited<ReturnType<typeof makeLeaf>>; tls: string; config: (ports: [number, number], dir: string) => string }> {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 3650, 'rsa-2048');
  const server = await makeLeaf(ca, 'etcd-server', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const decoy = await makeLeaf(ca, 'etcd-decoy', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const tls = '/srv/etcd-tls';
  putPair(root, `${tls}/ca.crt`, ca);
  putPair(root, `${tls}/server.crt`, server);
  putPair(root, '/etc/kubernetes/pki/etcd-decoy.crt', decoy);
  const config = (ports: [number, number], dir: string) => [
    'name: n1', `data-dir: ${dir}`,
    `listen-client-urls: https://127.0.0.1:${ports[0]}`, `advertise-client-urls: https://127.0.0.1:${ports[0]}`,
    `listen-peer-urls: http://127.0.0.1:${ports[1]}`, `initial-advertise-peer-urls: http://127.0.0.1:${ports[1]}`,
    `initial-cluster: n1=http://127.0.0.1:${ports[1]}`,
    'client-transport-security:', `  cert-file: ${tls}/server.crt`, `  key-file: ${tls}/server.key`, `  trusted-ca-file: ${tls}/ca.crt`, '',
  ].join('\n');
  return { root, server, tls, config };
}

test('etcd under systemd given a relative config file (--config-file etcd.yml, ETCD_CONFIG_FILE=etcd.yml) opens it from the unit\'s WorkingDirectory= (`/` without one, `~` root\'s home): that file inside --root is followed, its certificates are etcd\'s and renewing one restarts etcd; a real etcd opens a relative --config-file from its working directory', async (t) => {
  const { root, server, tls, config } = await etcdConfigNode();
  const ignored = '--cert-file=/etc/kubernetes/pki/etcd-decoy.crt --key-file=/etc/kubernetes/pki/etcd-decoy.key';
  const ways: Record<string, { unit: string; config: string }> = {
    'WorkingDirectory=/var/lib/etcd, --config-file ../../../etc/etcd/etcd.yml': { unit: `WorkingDirectory=/var/lib/etcd\nExecStart=/usr/bin/etcd --config-file ../../../etc/etcd/etcd.yml ${ignored}`, config: '/etc/etcd/etcd.yml' },
    'WorkingDirectory=-/etc/etcd/ in a drop-in, -config-file=etcd.yml': { unit: `ExecStart=/usr/bin/etcd -config-file=etcd.yml ${ignored}`, config: '/etc/etcd/etcd.yml' },
    'no WorkingDirectory= (/), --config-file=etc/etcd/etcd.yml': { unit: `ExecStart=/usr/bin/etcd --config-file=etc/etcd/etcd.yml ${ignored}`, config: '/etc/etcd/etcd.yml' },
    'WorkingDirectory=-/opt/gone (missing: etcd stays in /), --config-file etc/etcd/etcd.yml': { unit: `WorkingDirectory=-/opt/gone\nExecStart=/usr/bin/etcd --config-file etc/etcd/etcd.yml ${ignored}`, config: '/etc/etcd/etcd.yml' },
    'WorkingDirectory=~ (root\'s), Environment=ETCD_CONFIG_FILE=etcd.yml': { unit: `WorkingDirectory=~\nEnvironment=ETCD_CONFIG_FILE=etcd.yml ETCD_CERT_FILE=/etc/kubernetes/pki/etcd-decoy.crt\nExecStart=/usr/bin/etcd`, config: '/root/etcd.yml' },
  };
  for (const [way, { unit, config: at }] of Object.entries(ways)) {
    fs.rmSync(path.join(root, 'etc/etcd'), { recursive: true, force: true });
    fs.rmSync(path.join(root, 'root'), { recursive: true, force: true });
    fs.rmSync(path.join(root, 'etc/systemd/system/etcd.service.d'), { recursive: true, force: true });
    put(root, at, config([2379, 2380], '/var/lib/etcd'));
    put(root, '/etc/systemd/system/etcd.service', `[Service]\n${unit}\n`);
    if (way.includes('drop-in')) put(root, '/etc/systemd/system/etcd.service.d/10-dir.conf', '[Service]\nWorkingDirectory=-/etc/etcd/\n');
    const json = memoryIo();
    await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    const certs = JSON.parse(json.out).certificates as { location: { file: string }; components: string[] }[];
    const readers = (file: string) => certs.find((c) => c.location.file === file)?.components;
    assert.deepEqual(readers(`${tls}/server.crt`), ['etcd'], `${way}: ${certs.map((c) => c.location.file).join(', ')}`);
    assert.deepEqual(readers('/etc/kubernetes/pki/etcd-decoy.crt'), [], `${way}: etcd ignores its flags and ETCD_* variables beside a config file`);
    const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const io = memoryIo();
    assert.equal(await run(['renew', '--file', `${tls}/server.crt`, '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.out + io.err);
    const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; unit?: string; endpoint?: { port: number; certFile: string } }[];
    assert.deepEqual(restarts.map((r) => `${r.component} ${r.unit} ${r.endpoint?.port} ${r.endpoint?.certFile}`), [`etcd etcd 2379 ${tls}/server.crt`], way);
  }
  // a working directory the tree cannot settle (the home of User=etcd): the relative file names nothing, and the
  // flags beside it still name nothing etcd reads
  fs.rmSync(path.join(root, 'etc/systemd/system/etcd.service.d'), { recursive: true, force: true });
  put(root, '/etc/systemd/system/etcd.service', `[Service]\nUser=etcd\nWorkingDirectory=~\nExecStart=/usr/bin/etcd --config-file=etcd.yml ${ignored}\n`);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.certificates.find((c) => c.location.file === '/etc/kubernetes/pki/etcd-decoy.crt')?.components, []);
  assert.equal(inv.components.filter((r) => r.component === 'etcd').length, 0, JSON.stringify(inv.components.filter((r) => r.component === 'etcd')));

  // a real etcd started in a directory holding its config, given the file's relative name and the ignored flags
  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const ports: [number, number] = [await freePort(), await freePort()];
  const dir = tmpDir('kubepki-etcd-cwd-');
  fs.writeFileSync(path.join(dir, 'etcd.yml'), config(ports, tmpDir('kubepki-etcd-data-')).replaceAll(`${tls}/`, `${path.join(root, tls)}/`));
  const decoyArgs = ['--cert-file', path.join(root, 'etc/kubernetes/pki/etcd-decoy.crt'), '--key-file', path.join(root, 'etc/kubernetes/pki/etcd-decoy.key')];
  const etcd = await runEtcd(['--config-file', 'etcd.yml', ...decoyArgs], {}, dir);
  try {
    const { probeEndpoint } = await import('../src/probe/probe.js');
    const served = await probeEndpoint('127.0.0.1', ports[0]);
    assert.deepEqual(Buffer.from(served.chain[0]!), Buffer.from(server.der), `etcd serves ${tls}/server.crt`);
    assert.match(etcd.log(), /Loading server configuration from "etcd\.yml"/);
  } finally {
    await etcd.stop();
  }
});

test('etcd\'s environment file found without a unit naming it (/etc/default/etcd, /etc/etcd/etcd.conf: a copy of /etc, etcd started by a script) that sets ETCD_CONFIG_FILE: etcd reads that config file and ignores its ETCD_* variables, so the certificates the file names are etcd\'s and ETCD_CERT_FILE\'s is not; a real etcd given that environment serves what the file names', async (t) => {
  const { root, server, tls, config } = await etcdConfigNode();
  // (not /etc/etcd/etcd.conf.yml, which kubepki reads anyway)
  put(root, '/etc/etcd/server.yml', config([2379, 2380], '/var/lib/etcd'));
  const decoyVars = 'ETCD_CERT_FILE=/etc/kubernetes/pki/etcd-decoy.crt\nETCD_KEY_FILE=/etc/kubernetes/pki/etcd-decoy.key\n';
  const ways: Record<string, [string, string]> = {
    '/etc/default/etcd': ['/etc/default/etcd', `ETCD_CONFIG_FILE=/etc/etcd/server.yml\n${decoyVars}`],
    '/etc/etcd/etcd.conf, export': ['/etc/etcd/etcd.conf', `${decoyVars}export ETCD_CONFIG_FILE="/etc/etcd/server.yml"\n`],
  };
  for (const [way, [file, text]] of Object.entries(ways)) {
    for (const f of ['/etc/default/etcd', '/etc/etcd/etcd.conf']) fs.rmSync(path.join(root, f), { force: true });
    put(root, file, text);
    const json = memoryIo();
    await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    const certs = JSON.parse(json.out).certificates as { location: { file: string }; components: string[] }[];
    const readers = (f: string) => certs.find((c) => c.location.file === f)?.components;
    assert.deepEqual(readers(`${tls}/server.crt`), ['etcd'], `${way}: ${certs.map((c) => c.location.file).join(', ')}`);
    assert.deepEqual(readers(`${tls}/ca.crt`), ['etcd'], way);
    assert.deepEqual(readers('/etc/kubernetes/pki/etcd-decoy.crt'), [], `${way}: etcd ignores ETCD_CERT_FILE beside ETCD_CONFIG_FILE`);
    const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const io = memoryIo();
    assert.equal(await run(['renew', '--file', `${tls}/server.crt`, '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.out + io.err);
    const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; unit?: string; endpoint?: { port: number; certFile: string } }[];
    assert.deepEqual(restarts.map((r) => `${r.component} ${r.unit} ${r.endpoint?.port} ${r.endpoint?.certFile}`), [`etcd etcd 2379 ${tls}/server.crt`], way);
    const decoyPlan = path.join(tmpDir('kubepki-plan-'), 'plan.json');
    const decoyIo = memoryIo();
    assert.equal(await run(['renew', '--file', '/etc/kubernetes/pki/etcd-decoy.crt', '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', decoyPlan], decoyIo), 0, decoyIo.out + decoyIo.err);
    assert.deepEqual((JSON.parse(fs.readFileSync(decoyPlan, 'utf8')).restarts as { component: string }[]).map((r) => r.component), [], `${way}: no etcd restart for a file it does not read`);
  }

  // a real etcd with the same variables in its environment (paths inside this test's root)
  if (!fs.existsSync('/usr/bin/etcd')) { t.diagnostic('etcd not installed: real etcd part skipped'); return; }
  const ports: [number, number] = [await freePort(), await freePort()];
  const hostConfig = path.join(tmpDir('kubepki-etcd-conf-'), 'server.yml');
  fs.writeFileSync(hostConfig, config(ports, tmpDir('kubepki-etcd-data-')).replaceAll(`${tls}/`, `${path.join(root, tls)}/`));
  const etcd = await runEtcd([], { ETCD_CONFIG_FILE: hostConfig, ETCD_CERT_FILE: path.join(root, 'etc/kubernetes/pki/etcd-decoy.crt'), ETCD_KEY_FILE: path.join(root, 'etc/kubernetes/pki/etcd-decoy.key') });
  try {
    const { probeEndpoint } = await import('../src/probe/probe.js');
    const served = await probeEndpoint('127.0.0.1', ports[0]);
    assert.deepEqual(Buffer.from(served.chain[0]!), Buffer.from(server.der), `etcd serves ${tls}/server.crt`);
    assert.match(etcd.log(), /Loading server configuration from ".*server\.yml"\. Other configuration command line flags and environment variables will be ignored/);
  } finally {
    await etcd.stop();
  }
});

test('--layout forces layouts; --path reads any directory: Ed25519, PKCS#8, DER, an encrypted key, a CSR, a P-384 chain', async () => {
  const root = tmpDir('kubepki-generic-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('generic-ca', issued, 3650, 'ecdsa-p384');
  const ed = await makeLeaf(ca, 'ed-leaf', { eku: ['serverAuth'], sans: [{ type: 'uri', value: 'spiffe://cluster.local/ns/x/sa/y' }], notBefore: issued, days: 365, keyType: 'ed25519' });
  const rsa = await makeLeaf(ca, 'rsa-leaf', { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  put(root, '/srv/pki/ca.pem', ca.pem);
  put(root, '/srv/pki/ca-key.pem', ca.keyPem, 0o600);
  put(root, '/srv/pki/ed.crt', ed.pem);
  put(root, '/srv/pki/ed.key', ed.keyPem, 0o600);
  put(root, '/srv/pki/rsa.der', Buffer.from(rsa.der));
  put(root, '/srv/pki/rsa.key', createPrivateKey(rsa.keyPem).export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  const enc = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:secret']);
  assert.equal(enc.status, 0, enc.stderr);
  put(root, '/srv/pki/locked.key', enc.stdout, 0o600);
  const csr = openssl(['req', '-new', '-key', path.join(root, 'srv/pki/ed.key'), '-subj', '/O=system:nodes/CN=system:node:n1', '-addext', 'subjectAltName=DNS:n1,IP:192.0.2.7']);
  assert.equal(csr.status, 0, csr.stderr);
  put(root, '/srv/pki/n1.csr', csr.stdout);

  const inv = readInventory({ fs: new NodeFs(root), now: NOW, layouts: ['generic'], paths: ['/srv/pki'] });
  assert.deepEqual(inv.certificates.map((c) => c.name).sort(), ['ca', 'ed', 'rsa']);
  const e = byName(inv, 'ed');
  assert.equal(e.keyAlgorithm, 'Ed25519');
  assert.equal(e.privateKey.matches, true);
  assert.deepEqual(e.sans, [{ type: 'uri', value: 'spiffe://cluster.local/ns/x/sa/y' }]);
  assert.equal(e.signerName, 'ca');
  const r = byName(inv, 'rsa');
  assert.equal(r.location.kind, 'der');
  assert.equal(r.privateKey.matches, true, 'PKCS#8 key beside a DER certificate');
  assert.equal(byName(inv, 'ca').curve, 'P-384');
  assert.ok(inv.keys.some((k) => k.file === '/srv/pki/locked.key' && k.encrypted));
  assert.ok(inv.findings.some((f) => f.code === 'key-encrypted' && f.severity === 'info'));
  assert.equal(inv.csrs.length, 1);
  assert.equal(inv.csrs[0]!.subject, 'O=system:nodes, CN=system:node:n1');
  assert.deepEqual(inv.csrs[0]!.sans, [{ type: 'dns', value: 'n1' }, { type: 'ip', value: '192.0.2.7' }]);

  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--layout', 'generic', '--path', '/srv/pki', '--now', '2026-11-23'], io), 0, io.out + io.err);
  const bad = memoryIo();
  assert.equal(await run(['check', '--root', root, '--layout', 'openshift'], bad), 3);
  assert.match(bad.err, /--layout "openshift" is not a layout kubepki knows/);
});

test('a kubeadm worker node (ca.crt without its key, kubelet.conf written by the kubelet): healthy, nothing missing, no noise', async () => {
  const root = copyFixture('kubeadm-1.26');
  const k = path.join(root, 'etc/kubernetes');
  for (const f of fs.readdirSync(k)) if (f !== 'pki' && f !== 'kubelet.conf') fs.rmSync(path.join(k, f), { recursive: true });
  for (const f of fs.readdirSync(path.join(k, 'pki'))) if (f !== 'ca.crt') fs.rmSync(path.join(k, 'pki', f), { recursive: true });
  // the shape the kubelet writes after TLS bootstrap (spec §2.2)
  const ca = fs.readFileSync(path.join(k, 'pki/ca.crt')).toString('base64');
  fs.writeFileSync(path.join(k, 'kubelet.conf'), `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: https://cluster-api.example.test:6443
  name: default-cluster
contexts:
- context:
    cluster: default-cluster
    namespace: default
    user: default-auth
  name: default-context
current-context: default-context
kind: Config
preferences: {}
users:
- name: default-auth
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
`);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.missing, []);
  assert.deepEqual(inv.findings, [], JSON.stringify(inv.findings, null, 1));
  assert.deepEqual(inv.certificates.map((c) => c.name).sort(), ['ca', 'kubelet-client', 'kubelet-serving', 'kubelet-serving-ca']);
  assert.equal(byName(inv, 'kubelet-client').signerName, 'ca');
  assert.deepEqual(byName(inv, 'kubelet-client').components, ['kubelet']);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.out);
});

test('the kubelet serving pair is read by the kubelet even with no /var/lib/kubelet/config.yaml (the defaults), so renewing it asks for a kubelet restart', () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'var/lib/kubelet/config.yaml'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(byName(inv, 'kubelet-serving').components, ['kubelet']);
});

test('node-level key problems are errors: sa.pub not the half of sa.key, an encrypted key a component reads, a leaf whose CA has already expired', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  // sa.pub from another key
  const other = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  assert.equal(other.status, 0, other.stderr);
  const pub = openssl(['pkey', '-pubout'], other.stdout);
  fs.writeFileSync(path.join(pki, 'sa.pub'), pub.stdout);
  // apiserver.key encrypted
  const enc = openssl(['pkey', '-in', path.join(pki, 'apiserver.key'), '-aes256', '-passout', 'pass:secret']);
  assert.equal(enc.status, 0, enc.stderr);
  fs.writeFileSync(path.join(pki, 'apiserver.key'), enc.stdout);
  // a CA of 100 days and a leaf of a year it signed, read with --path
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('short-ca', issued, 100);
  const leaf = await makeLeaf(ca, 'long-leaf', { eku: ['clientAuth'], notBefore: issued, days: 365 });
  put(root, '/srv/certs/ca.crt', ca.pem);
  put(root, '/srv/certs/leaf.crt', leaf.pem);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW, paths: ['/srv/certs'] });
  const errs = inv.findings.filter((f) => f.severity === 'error');
  const sa = errs.find((f) => f.code === 'sa-key-mismatch');
  assert.ok(sa, JSON.stringify(errs));
  assert.match(sa.message, /sa\.pub is not the public half of .*sa\.key.*openssl pkey -in .*sa\.key -pubout/);
  const encrypted = errs.find((f) => f.code === 'key-encrypted');
  assert.ok(encrypted);
  assert.match(encrypted.message, /apiserver\.key holds an encrypted private key, and kube-apiserver reads it/);
  // the decrypt command it gives, run (with the passphrase it prompts for) on a copy, leaves the key there, decrypted
  const cmd = /decrypt it \((openssl pkey [^)]*)\)/.exec(encrypted.message)?.[1];
  assert.ok(cmd, encrypted.message);
  const copy = copyFixture('kubeadm-1.26');
  fs.writeFileSync(path.join(copy, 'etc/kubernetes/pki/apiserver.key'), enc.stdout, { mode: 0o600 });
  const ran = spawnSync('sh', ['-c', cmd.replaceAll('/etc/kubernetes/pki/', `${path.join(copy, 'etc/kubernetes/pki')}/`).replace('openssl pkey ', 'openssl pkey -passin pass:secret ')], { encoding: 'utf8' });
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal(openssl(['pkey', '-noout', '-in', path.join(copy, 'etc/kubernetes/pki/apiserver.key')]).status, 0, `after ${cmd} the key is still there`);
  const caGone = errs.find((f) => f.code === 'ca-expires-before-leaf');
  assert.ok(caGone);
  assert.match(caGone.message, /^leaf: its CA srv\/ca expired on 2026-04-11, so its chain no longer verifies.*kubepki renew --file \/srv\/certs\/ca\.crt\b/); // (`renew srv/ca` finds no such name: renew reads no --path)
  assert.equal(byName(inv, 'leaf').status, 'invalid');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23', '--path', '/srv/certs'], io), 2);
  // before the CA's end it is the warning it was
  const early = readInventory({ fs: new NodeFs(root), now: new Date('2026-02-01T00:00:00Z'), paths: ['/srv/certs'] });
  assert.equal(early.findings.find((f) => f.code === 'ca-expires-before-leaf')?.severity, 'warning');
});

test('Next: when every certificate due is signed by a CA whose key is elsewhere, check says where the work is, not renew all (which would renew only healthy ones)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('corp-issuing-ca', issued, 3650);
  const leaf = await makeLeaf(ca, 'etcd-client', { eku: ['clientAuth'], notBefore: issued, days: 330 });
  put(root, '/etc/etcd/ssl/ca.pem', ca.pem);
  put(root, '/etc/etcd/ssl/client.pem', leaf.pem);
  put(root, '/etc/etcd/ssl/client-key.pem', leaf.keyPem, 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW, paths: ['/etc/etcd/ssl'] });
  assert.equal(inv.summary.warning, 1);
  assert.match(inv.next!, /^client is signed by etcd\/ca, whose key is not on this node: renew it where that CA is \(kubepki renew --file \/etc\/etcd\/ssl\/client.pem --root .* --dry-run says how for each; --csr-out DIR writes CSRs to take there\)$/);
  assert.doesNotMatch(inv.next!, /^kubepki renew/);
  // with the CA key here too, renewing it is the step again (by --file: renew all reads no --path)
  put(root, '/etc/etcd/ssl/ca-key.pem', ca.keyPem, 0o600);
  assert.match(readInventory({ fs: new NodeFs(root), now: NOW, paths: ['/etc/etcd/ssl'] }).next!, /^kubepki renew --file \/etc\/etcd\/ssl\/client.pem --root /);
});

test('Next: a certificate that starts after the node\'s clock (seed 000\'s "valid only from now") points at the clock and --backdate', async () => {
  const root = copyFixture('kubeadm-1.26');
  const ca = await makeCa('skew-ca', new Date('2026-01-01T00:00:00Z'), 3650);
  const leaf = await makeLeaf(ca, 'from-later', { eku: ['clientAuth'], notBefore: new Date('2026-12-01T00:00:00Z'), days: 365 });
  put(root, '/srv/skew/ca.crt', ca.pem);
  put(root, '/srv/skew/ca.key', ca.keyPem, 0o600);
  put(root, '/srv/skew/leaf.crt', leaf.pem);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW, paths: ['/srv/skew'] });
  assert.equal(inv.summary.notYetValid, 1);
  assert.match(inv.next!, /^leaf starts after this node's clock: check the clock \(timedatectl; is NTP synchronised\?\), or re-issue with a margin: kubepki renew leaf --root .* --backdate 1h$/);
});

test('rotateCertificates: false in the kubelet config: the kubelet client certificate is renewed by nobody (manual) and a warning says when the node goes NotReady', async () => {
  const root = copyFixture('kubeadm-1.26');
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  const text = fs.readFileSync(cfg, 'utf8');
  assert.match(text, /rotateCertificates: true/);
  assert.equal(byName(readInventory({ fs: new NodeFs(root), now: NOW }), 'kubelet-client').managedBy, 'kubelet');
  fs.writeFileSync(cfg, text.replace('rotateCertificates: true', 'rotateCertificates: false'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const c = byName(inv, 'kubelet-client');
  assert.equal(c.managedBy, 'manual');
  assert.equal(c.status, 'warning');
  assert.match(c.findings.find((f) => f.code === 'kubelet-rotation-off')!.message, /the kubelet does not renew kubelet-client \(rotateCertificates: false in \/var\/lib\/kubelet\/config\.yaml\): on \d{4}-\d\d-\d\d the node goes NotReady/);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 1);
  assert.match(io.out, /kubelet-client .* manual /);
});

test('--warn N% of a kubeadm leaf whose notBefore is its CA\'s (kubeadm up to 1.30) measures against kubeadm\'s year, not the years since the CA was made', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const caPem = fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8');
  const { Certificate } = await import('../src/pki/certificate.js');
  const { parsePemBlocks } = await import('../src/pki/pem.js');
  const caCert = new Certificate(parsePemBlocks(caPem)[0]!.der);
  const caKeyPem = fs.readFileSync(path.join(pki, 'ca.key'), 'utf8');
  const ca = { pem: caPem, keyPem: caKeyPem, key: createPrivateKey(caKeyPem), subject: caCert.subjectRaw, der: caCert.der };
  // a kubeadm 1.30 renewal made a year and a half in: notBefore = the CA's, notAfter a year after the renewal
  const days = Math.round((Date.parse('2029-06-01T00:00:00Z') - caCert.notBefore.getTime()) / 86400_000);
  const leaf = await makeLeaf(ca, 'kube-apiserver-etcd-client', { orgs: ['system:masters'], eku: ['clientAuth'], notBefore: caCert.notBefore, days, keyType: 'rsa-2048' });
  fs.writeFileSync(path.join(pki, 'apiserver-etcd-client.crt'), leaf.pem);
  fs.writeFileSync(path.join(pki, 'apiserver-etcd-client.key'), leaf.keyPem, { mode: 0o600 });
  const at = (now: string) => byName(readInventory({ fs: new NodeFs(root), now: new Date(now), warn: '66%' }), 'apiserver-etcd-client').status;
  assert.equal(at('2028-09-01T00:00:00Z'), 'ok', 'three months after the renewal: 25% of its year, not 72% of 2.5 years');
  assert.equal(at('2029-03-01T00:00:00Z'), 'warning', 'three quarters into its year');
});

test('Kubernetes the Hard Way: flags in systemd units name what each component reads, so the apiserver certificate is found by its --tls-cert-file, checked for SANs, and renewing it says systemctl restart kube-apiserver; a CA-signed /var/lib/kubelet/kubelet.crt is not the kubelet\'s self-signed pair', async () => {
  const root = tmpDir('kubepki-hardway-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const api = await makeLeaf(ca, 'kubernetes', { eku: ['serverAuth', 'clientAuth'], notBefore: issued, days: 3653, keyType: 'rsa-2048', sans: [{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'kubernetes' }] });
  const node = await makeLeaf(ca, 'system:node:node-0', { orgs: ['system:nodes'], eku: ['serverAuth', 'clientAuth'], notBefore: issued, days: 3653, keyType: 'rsa-2048' });
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  putPair(root, '/var/lib/kubernetes/kube-api-server.crt', api);
  putPair(root, '/var/lib/kubelet/kubelet.crt', node);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  put(root, '/var/lib/kubelet/kubeconfig', `apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes-the-hard-way\n  cluster:\n    server: https://server.kubernetes.local:6443\n    certificate-authority-data: ${b64(ca.pem)}\nusers:\n- name: system:node:node-0\n  user:\n    client-certificate: /var/lib/kubelet/kubelet.crt\n    client-key: /var/lib/kubelet/kubelet.key\ncontexts:\n- name: default\n  context: {cluster: kubernetes-the-hard-way, user: 'system:node:node-0'}\ncurrent-context: default\n`, 0o600);
  put(root, '/etc/systemd/system/kube-apiserver.service', '[Service]\nExecStart=/usr/local/bin/kube-apiserver \\\n  --client-ca-file=/var/lib/kubernetes/ca.crt \\\n  --tls-cert-file=/var/lib/kubernetes/kube-api-server.crt \\\n  --tls-private-key-file=/var/lib/kubernetes/kube-api-server.key \\\n  --v=2\nRestart=on-failure\n');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.ok(inv.layouts.includes('hardway'), inv.layouts.join());
  const apiserver = byName(inv, 'kube-api-server');
  assert.deepEqual(apiserver.components, ['kube-apiserver']);
  assert.match(apiserver.findings.find((f) => f.code === 'apiserver-san-missing')?.message ?? '', /has no SAN for server\.kubernetes\.local \(the server address in \/var\/lib\/kubelet\/kubeconfig\)/);
  const kubelet = inv.certificates.find((c) => c.location.file === '/var/lib/kubelet/kubelet.crt')!;
  assert.notEqual(kubelet.name, 'kubelet-serving');
  assert.equal(kubelet.managedBy, 'manual');
  const r = await run(['renew', 'kube-api-server', '--root', root, '--now', '2026-11-23', '--add-san', 'DNS:server.kubernetes.local', '--dry-run'], memoryIo());
  assert.equal(r, 0);
  const io = memoryIo();
  await run(['renew', 'kube-api-server', '--root', root, '--now', '2026-11-23', '--add-san', 'DNS:server.kubernetes.local', '--dry-run'], io);
  assert.match(io.out, /kube-apiserver \(systemd unit kube-apiserver; reads \/var\/lib\/kubernetes\/kube-api-server\.crt\)\n\s+systemctl restart kube-apiserver/);
});

test('serverTLSBootstrap: true without kubelet-server-current.pem: a warning that the serving CSR waits for approval (kube-controller-manager never approves it)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(cfg, `${fs.readFileSync(cfg, 'utf8')}serverTLSBootstrap: true\n`);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const f = inv.findings.find((x) => x.code === 'kubelet-serving-pending');
  assert.ok(f, JSON.stringify(inv.findings.map((x) => x.code)));
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /waits for approval .* kubepki csr approve --all-valid$/);
  // once the kubelet has its serving pair, nothing to say
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem', path.join(root, 'var/lib/kubelet/pki/kubelet-server-current.pem'));
  assert.equal(readInventory({ fs: new NodeFs(root), now: NOW }).findings.find((x) => x.code === 'kubelet-serving-pending'), undefined);
});

test('systemd units as systemd reads them: a bare --flag before another, a comment inside a continued ExecStart, a drop-in that replaces ExecStart, a masked unit', async () => {
  const root = tmpDir('kubepki-units-');
  const refsOf = async () => {
    const { readComponentRefs } = await import('../src/inventory/components.js');
    return readComponentRefs(new NodeFs(root)).filter((r) => r.component === 'kube-apiserver').map((r) => `${r.via} ${r.file}`).sort();
  };
  put(root, '/etc/systemd/system/kube-apiserver.service', '[Service]\nExecStart=/usr/local/bin/kube-apiserver --allow-privileged \\\n  # the serving pair\n  --tls-cert-file=/var/lib/kubernetes/a.crt \\\n  --client-ca-file /var/lib/kubernetes/ca.crt\n');
  assert.deepEqual(await refsOf(), ['--client-ca-file /var/lib/kubernetes/ca.crt', '--tls-cert-file /var/lib/kubernetes/a.crt']);
  put(root, '/etc/systemd/system/kube-apiserver.service.d/10-tls.conf', '[Service]\nExecStart=\nExecStart=/usr/local/bin/kube-apiserver --tls-cert-file=/srv/b.crt\n');
  assert.deepEqual(await refsOf(), ['--tls-cert-file /srv/b.crt']);
  // masked in /etc: nothing runs, whatever /lib has
  fs.rmSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  put(root, '/lib/systemd/system/kube-apiserver.service', '[Service]\nExecStart=/usr/bin/kube-apiserver --tls-cert-file=/srv/c.crt\n');
  assert.deepEqual(await refsOf(), ['--tls-cert-file /srv/c.crt']);
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  fs.symlinkSync('/dev/null', path.join(root, 'etc/systemd/system/kube-apiserver.service'));
  assert.deepEqual(await refsOf(), []);
});

test('Kubernetes the Hard Way kubeconfigs of one name (/var/lib/kubelet/kubeconfig, /var/lib/kube-proxy/kubeconfig) get names that tell them apart, and renew by one of them renews that one only', async () => {
  const root = tmpDir('kubepki-hardway-kc-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  for (const [dir, cn] of [['kubelet', 'system:node:node-0'], ['kube-proxy', 'system:kube-proxy']] as const) {
    const leaf = await makeLeaf(ca, cn, { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
    put(root, `/var/lib/${dir}/kubeconfig`, `apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes-the-hard-way\n  cluster:\n    server: https://server.kubernetes.local:6443\n    certificate-authority-data: ${b64(ca.pem)}\nusers:\n- name: ${JSON.stringify(cn)}\n  user:\n    client-certificate-data: ${b64(leaf.pem)}\n    client-key-data: ${b64(leaf.keyPem)}\ncontexts:\n- name: default\n  context: {cluster: kubernetes-the-hard-way, user: ${JSON.stringify(cn)}}\ncurrent-context: default\n`, 0o600);
  }
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const names = inv.certificates.filter((c) => c.location.kind === 'kubeconfig').map((c) => c.name).sort();
  assert.deepEqual(names, ['kube-proxy/kubeconfig', 'kubelet/kubeconfig']);
  const io = memoryIo();
  assert.equal(await run(['renew', 'kube-proxy/kubeconfig', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.err);
  assert.match(io.out, /kube-proxy\/kubeconfig/);
  assert.doesNotMatch(io.out, /kubelet\/kubeconfig/);
});

test('renew through a linked directory (pki/etcd -> /srv/etcd): the plan names the path etcd reads and where the write goes, and the restart keeps its endpoint check (the served etcd certificate)', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.mkdirSync(path.join(root, 'srv'));
  fs.renameSync(path.join(root, 'etc/kubernetes/pki/etcd'), path.join(root, 'srv/etcd'));
  fs.symlinkSync('/srv/etcd', path.join(root, 'etc/kubernetes/pki/etcd'));
  const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
  const io = memoryIo();
  assert.equal(await run(['renew', 'etcd-server', '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.err);
  assert.match(io.out, /etcd-server {2}\/etc\/kubernetes\/pki\/etcd\/server\.crt → \/srv\/etcd\/server\.crt\n/);
  assert.match(io.out, /etcd \(static pod; reads \/etc\/kubernetes\/pki\/etcd\/server\.crt\)/);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  assert.deepEqual(plan.files.map((f: { path: string }) => f.path), ['/srv/etcd/server.crt']);
  const etcd = plan.restarts.find((r: { component: string }) => r.component === 'etcd');
  assert.deepEqual(etcd.because, ['/etc/kubernetes/pki/etcd/server.crt']);
  assert.deepEqual(etcd.endpoint, { host: '127.0.0.1', port: 2379, certFile: '/etc/kubernetes/pki/etcd/server.crt' });
});

test('systemd units whose ExecStart names files through Environment= and EnvironmentFile= (a drop-in adds one, a -prefixed one is missing): check reads the apiserver certificate the variables name, attributes it to kube-apiserver and checks its SANs as with literal flags', async () => {
  const root = tmpDir('kubepki-unit-env-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const api = await makeLeaf(ca, 'kubernetes', { eku: ['serverAuth', 'clientAuth'], notBefore: issued, days: 3653, keyType: 'rsa-2048', sans: [{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'kubernetes' }] });
  // outside every directory a layout scans: only the unit's variables lead to it
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  put(root, '/srv/tls/apiserver.crt', api.pem);
  put(root, '/srv/tls/apiserver.key', api.keyPem, 0o600);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  put(root, '/var/lib/kubelet/kubeconfig', `apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://server.kubernetes.local:6443\n    certificate-authority-data: ${b64(ca.pem)}\nusers: []\ncontexts: []\n`, 0o600);
  put(root, '/etc/systemd/system/kube-apiserver.service', [
    '[Service]',
    'Environment="KUBE_DIR=/var/lib/kubernetes" TLS_CERT=/wrong/apiserver.crt',
    'EnvironmentFile=-/etc/kubernetes/missing.env',
    'EnvironmentFile=/etc/kubernetes/apiserver.env',
    'ExecStart=/usr/local/bin/kube-apiserver \\',
    '  --client-ca-file=${KUBE_DIR}/ca.crt \\',
    '  --tls-cert-file=${TLS_CERT} \\',
    '  $KEY_ARGS \\',
    '  --v=2',
    '',
  ].join('\n'));
  // the file wins over Environment= (systemd.exec(5)), whatever the order of the lines
  put(root, '/etc/kubernetes/apiserver.env', '# the serving pair\nTLS_CERT="/srv/tls/apiserver.crt"\n');
  put(root, '/etc/systemd/system/kube-apiserver.service.d/10-key.conf', '[Service]\nEnvironmentFile=-/etc/kubernetes/key.env\n');
  put(root, '/etc/kubernetes/key.env', 'KEY_ARGS=--tls-private-key-file /srv/tls/apiserver.key\n');
  const io = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], io);
  const inv = JSON.parse(io.out) as Inventory;
  const c = inv.certificates.find((x) => x.location.file === '/srv/tls/apiserver.crt');
  assert.ok(c, inv.certificates.map((x) => x.location.file).join(', '));
  assert.deepEqual(c.components, ['kube-apiserver']);
  assert.equal(c.privateKey.matches, true, JSON.stringify(c.privateKey));
  assert.match(c.findings.find((f) => f.code === 'apiserver-san-missing')?.message ?? '', /has no SAN for server\.kubernetes\.local \(the server address in \/var\/lib\/kubelet\/kubeconfig\)/);
  const refs = inv.components.filter((r) => r.component === 'kube-apiserver').map((r) => `${r.via} ${r.file}`).sort();
  assert.deepEqual(refs, ['--client-ca-file /var/lib/kubernetes/ca.crt', '--tls-cert-file /srv/tls/apiserver.crt', '--tls-private-key-file /srv/tls/apiserver.key']);
});

test('systemd unit environment as systemd applies it: an empty Environment= or EnvironmentFile= in a drop-in resets the list, unknown variables are empty, $VAR inside a word and a `:` ExecStart stay as written, EnvironmentFile= globs, etcd takes ETCD_*_FILE from its unit', async () => {
  const root = tmpDir('kubepki-unit-env-rules-');
  const refsOf = async (component: string) => {
    const { readComponentRefs } = await import('../src/inventory/components.js');
    return readComponentRefs(new NodeFs(root)).filter((r) => r.component === component).map((r) => `${r.via} ${r.file}`).sort();
  };
  const unit = '/etc/systemd/system/kube-apiserver.service';
  put(root, unit, '[Service]\nEnvironment=A=/a.crt\nEnvironmentFile=/etc/kubernetes/*.env\nExecStart=/bin/kube-apiserver --tls-cert-file=${A} --client-ca-file=${B} --etcd-cafile=/x$A --etcd-certfile=${NOPE}/c.crt\n');
  put(root, '/etc/kubernetes/b.env', 'B=/b.crt\n');
  put(root, '/etc/kubernetes/.hidden.env', 'B=/hidden.crt\n');
  assert.deepEqual(await refsOf('kube-apiserver'), ['--client-ca-file /b.crt', '--etcd-cafile /x$A', '--etcd-certfile /c.crt', '--tls-cert-file /a.crt']);
  put(root, `${unit}.d/10-reset.conf`, '[Service]\nEnvironment=\nEnvironmentFile=\n');
  assert.deepEqual(await refsOf('kube-apiserver'), ['--etcd-cafile /x$A', '--etcd-certfile /c.crt']);
  put(root, `${unit}.d/20-exec.conf`, '[Service]\nEnvironment=A=/a.crt\nExecStart=\nExecStart=:/bin/kube-apiserver --tls-cert-file=${A}\n');
  assert.deepEqual(await refsOf('kube-apiserver'), []);
  // kubespray's host-mode etcd, its environment file somewhere of the installer's choosing
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nEnvironmentFile=/etc/etcd/kubespray.env\nExecStart=/usr/local/bin/etcd\n');
  put(root, '/etc/etcd/kubespray.env', 'ETCD_CERT_FILE=/etc/ssl/etcd/ssl/member-node1.pem\nETCD_DATA_DIR=/var/lib/etcd\n');
  put(root, '/etc/etcd.env', 'export ETCD_PEER_CERT_FILE="/etc/ssl/etcd/ssl/peer.pem"\n');
  assert.deepEqual(await refsOf('etcd'), ['ETCD_CERT_FILE /etc/ssl/etcd/ssl/member-node1.pem', 'ETCD_PEER_CERT_FILE /etc/ssl/etcd/ssl/peer.pem']);
});

test('systemd units, review cases: drop-ins in one name order across directories (an /etc override.conf after /usr/lib 10-kubeadm.conf, a same-named /etc one hiding the packaged one), a directory where a unit file could be, a glob pattern glob(3) cannot read, an environment file that is not UTF-8', async () => {
  const root = tmpDir('kubepki-unit-review-');
  const refsOf = async (component: string) => {
    const { readComponentRefs } = await import('../src/inventory/components.js');
    return readComponentRefs(new NodeFs(root)).filter((r) => r.component === component && r.via.startsWith('-')).map((r) => `${r.via} ${r.file}`).sort();
  };
  put(root, '/usr/lib/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/bin/kubelet\n');
  put(root, '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --tls-cert-file=/packaged.crt\n');
  assert.deepEqual(await refsOf('kubelet'), ['--tls-cert-file /packaged.crt']);
  put(root, '/etc/systemd/system/kubelet.service.d/override.conf', '[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --tls-cert-file=/override.crt\n');
  assert.deepEqual(await refsOf('kubelet'), ['--tls-cert-file /override.crt'], 'override.conf sorts after 10-kubeadm.conf wherever it is');
  put(root, '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --tls-cert-file=/etc-kubeadm.crt\n');
  fs.rmSync(path.join(root, 'etc/systemd/system/kubelet.service.d/override.conf'));
  assert.deepEqual(await refsOf('kubelet'), ['--tls-cert-file /etc-kubeadm.crt'], 'the /etc file hides the packaged one of its name');
  // a directory named like the unit in /etc: systemd takes /lib's unit
  fs.mkdirSync(path.join(root, 'etc/systemd/system/etcd.service'), { recursive: true });
  put(root, '/lib/systemd/system/etcd.service', '[Service]\nEnvironmentFile=-/etc/default/etcd[\nEnvironmentFile=-/etc/default/etcd-garbage.env\nExecStart=/usr/bin/etcd --cert-file=/srv/etcd.crt\n');
  fs.mkdirSync(path.join(root, 'etc/default'), { recursive: true });
  // (systemd drops the assignment whose value is not UTF-8, and keeps the others)
  fs.writeFileSync(path.join(root, 'etc/default/etcd-garbage.env'), Buffer.concat([Buffer.from('ETCD_PEER_CERT_FILE=/srv/pe'), Buffer.from([0xff, 0xfe]), Buffer.from('er.crt\nETCD_TRUSTED_CA_FILE=/srv/ca.crt\n')]));
  const { readComponentRefs } = await import('../src/inventory/components.js');
  const etcd = readComponentRefs(new NodeFs(root)).filter((r) => r.component === 'etcd').map((r) => `${r.via} ${r.file}`);
  assert.deepEqual(etcd.sort(), ['--cert-file /srv/etcd.crt', 'ETCD_TRUSTED_CA_FILE /srv/ca.crt'], 'no crash on etcd[, and the assignment that is not UTF-8 is dropped');
});

test('the kubelet\'s client rotation as the kubelet decides it: a config without rotateCertificates does not rotate (its default is false), a quoted "false" is a string the kubelet refuses (an error, not "off"), and the unit\'s --rotate-certificates wins over the file', async () => {
  const root = copyFixture('kubeadm-1.26');
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  const text = fs.readFileSync(cfg, 'utf8');
  const read = () => {
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    const c = byName(inv, 'kubelet-client');
    return { c, off: c.findings.find((f) => f.code === 'kubelet-rotation-off'), invalid: inv.findings.filter((f) => f.code === 'kubelet-config-invalid') };
  };
  // the key left out: Kubernetes the Hard Way's config, which does not rotate
  fs.writeFileSync(cfg, text.replace(/^rotateCertificates: true\n/m, ''));
  let r = read();
  assert.equal(r.c.managedBy, 'manual');
  assert.match(r.off!.message, /\(no rotateCertificates \(the kubelet's default is false\) in \/var\/lib\/kubelet\/config\.yaml\)/);
  // quoted: a string to the kubelet's decoder, which refuses the file
  fs.writeFileSync(cfg, text.replace('rotateCertificates: true', 'rotateCertificates: "false"'));
  r = read();
  assert.equal(r.off, undefined, 'not "off": the kubelet does not start with it at all');
  assert.equal(r.invalid.length, 1);
  assert.equal(r.invalid[0]!.severity, 'error');
  assert.match(r.invalid[0]!.message, /^rotateCertificates: "false" in \/var\/lib\/kubelet\/config\.yaml is not a boolean: the kubelet refuses this file and does not start .*write rotateCertificates: false without quotes$/);
  // YAML 1.1 spellings are booleans to it, quoted or not the same as before
  fs.writeFileSync(cfg, text.replace('rotateCertificates: true', 'rotateCertificates: off\nserverTLSBootstrap: "yes"'));
  r = read();
  assert.ok(r.off);
  assert.deepEqual(r.invalid.map((f) => f.message.split(' in ')[0]), ['serverTLSBootstrap: "yes"']);
  // a flag in the unit wins over the file, both ways
  put(root, '/etc/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --rotate-certificates\n');
  fs.writeFileSync(cfg, text.replace('rotateCertificates: true', 'rotateCertificates: false'));
  r = read();
  assert.equal(r.off, undefined);
  assert.equal(r.c.managedBy, 'kubelet');
  put(root, '/etc/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --rotate-certificates=false\n');
  fs.writeFileSync(cfg, text);
  r = read();
  assert.match(r.off!.message, /\(--rotate-certificates=false in \/etc\/systemd\/system\/kubelet\.service\).*drop the flag/);
  // no config and no flag (a partial copy of a node): taken as kubeadm's, rotating
  fs.rmSync(path.join(root, 'etc/systemd/system/kubelet.service'));
  fs.rmSync(cfg);
  r = read();
  assert.equal(r.off, undefined);
  assert.equal(r.c.managedBy, 'kubelet');
});

test('the kubelet config is the one its unit names (--config, Kubernetes the Hard Way\'s kubelet-config.yaml), read as the kubelet reads it: YAML 1.1 booleans (rotateCertificates: no), a key given twice keeping its last value; a unit --tls-cert-file serves instead of the default self-signed pair', async () => {
  const { readComponentRefs, readKubeletConfig } = await import('../src/inventory/components.js');
  const root = tmpDir('kubepki-kubelet-config-');
  put(root, '/etc/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/local/bin/kubelet \\\n  --config=/var/lib/kubelet/kubelet-config.yaml \\\n  --kubeconfig=/var/lib/kubelet/kubeconfig \\\n  --v=2\n');
  put(root, '/var/lib/kubelet/kubelet-config.yaml', 'kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  x509:\n    clientCAFile: "/var/lib/kubelet/ca.crt"\ntlsCertFile: "/var/lib/kubelet/kubelet.crt"\ntlsPrivateKeyFile: "/var/lib/kubelet/kubelet.key"\nrotateCertificates: no\n');
  const refs = readComponentRefs(new NodeFs(root)).filter((r) => r.component === 'kubelet').map((r) => `${r.via} ${r.file}`).sort();
  assert.ok(refs.includes('authentication.x509.clientCAFile /var/lib/kubelet/ca.crt'), refs.join('\n'));
  assert.ok(refs.includes('tlsCertFile /var/lib/kubelet/kubelet.crt'), refs.join('\n'));
  assert.equal(readKubeletConfig(new NodeFs(root))?.rotateCertificates, false);
  // the hard way's kubelet CA is not kubeadm's certificatesDir
  const { kubeadmPkiDir } = await import('../src/layouts/detect.js');
  assert.equal(kubeadmPkiDir(new NodeFs(root)), '/etc/kubernetes/pki');
  // kubeadm's tree, the key given twice: the kubelet keeps the last one
  const kubeadm = copyFixture('kubeadm-1.26');
  fs.appendFileSync(path.join(kubeadm, 'var/lib/kubelet/config.yaml'), 'rotateCertificates: false\n');
  const inv = readInventory({ fs: new NodeFs(kubeadm), now: NOW });
  assert.ok(inv.findings.concat(inv.certificates.flatMap((c) => c.findings)).some((f) => f.code === 'kubelet-rotation-off'));
  // a --tls-cert-file flag: the kubelet serves that file, not its self-signed pair
  put(root, '/var/lib/kubelet/pki/kubelet.crt', 'x');
  put(root, '/var/lib/kubelet/kubelet-config.yaml', 'kind: KubeletConfiguration\n');
  put(root, '/etc/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/kubelet-config.yaml --tls-cert-file=/srv/kubelet.crt\n');
  const after = readComponentRefs(new NodeFs(root)).filter((r) => r.component === 'kubelet').map((r) => r.via);
  assert.ok(after.includes('--tls-cert-file') && !after.includes('default self-signed serving pair'), after.join());
});

test('restart endpoint checks follow the serving flags, not kubeadm paths: the hard way\'s kube-api-server.crt (--tls-cert-file) and etcd\'s --cert-file under systemd are checked on 6443 and 2379 after a restart', async () => {
  const root = tmpDir('kubepki-serving-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const api = await makeLeaf(ca, 'kubernetes', { eku: ['serverAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048', sans: [{ type: 'ip', value: '127.0.0.1' }] });
  const etcd = await makeLeaf(ca, 'etcd', { eku: ['serverAuth', 'clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048', sans: [{ type: 'ip', value: '127.0.0.1' }] });
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  putPair(root, '/var/lib/kubernetes/kube-api-server.crt', api);
  putPair(root, '/etc/etcd/etcd.crt', etcd);
  put(root, '/etc/systemd/system/kube-apiserver.service', '[Service]\nExecStart=/usr/local/bin/kube-apiserver --client-ca-file=/var/lib/kubernetes/ca.crt --tls-cert-file=/var/lib/kubernetes/kube-api-server.crt --tls-private-key-file=/var/lib/kubernetes/kube-api-server.key\n');
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nExecStart=/usr/local/bin/etcd --cert-file=/etc/etcd/etcd.crt --key-file=/etc/etcd/etcd.key --trusted-ca-file=/var/lib/kubernetes/ca.crt\n');
  const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
  const io = memoryIo();
  assert.equal(await run(['renew', '--file', '/var/lib/kubernetes/kube-api-server.crt', '--file', '/etc/etcd/etcd.crt', '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io), 0, io.err);
  const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; endpoint?: { port: number; certFile: string } }[];
  assert.deepEqual(Object.fromEntries(restarts.map((r) => [r.component, r.endpoint && `${r.endpoint.port} ${r.endpoint.certFile}`])), {
    'kube-apiserver': '6443 /var/lib/kubernetes/kube-api-server.crt',
    etcd: '2379 /etc/etcd/etcd.crt',
  });
});

test('kube-scheduler and kube-proxy configured by --config (Kubernetes the Hard Way): the kubeconfig their clientConnection names is theirs, so renewing its certificate asks for their restart', async () => {
  const root = tmpDir('kubepki-component-config-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const leaf = await makeLeaf(ca, 'system:kube-scheduler', { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  put(root, '/var/lib/kubernetes/kube-scheduler.kubeconfig', `apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://server.kubernetes.local:6443\n    certificate-authority-data: ${b64(ca.pem)}\nusers:\n- name: system:kube-scheduler\n  user:\n    client-certificate-data: ${b64(leaf.pem)}\n    client-key-data: ${b64(leaf.keyPem)}\ncontexts:\n- name: default\n  context: {cluster: k, user: system:kube-scheduler}\ncurrent-context: default\n`, 0o600);
  put(root, '/etc/kubernetes/config/kube-scheduler.yaml', 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection:\n  kubeconfig: "/var/lib/kubernetes/kube-scheduler.kubeconfig"\nleaderElection:\n  leaderElect: true\n');
  put(root, '/etc/systemd/system/kube-scheduler.service', '[Service]\nExecStart=/usr/local/bin/kube-scheduler \\\n  --config=/etc/kubernetes/config/kube-scheduler.yaml \\\n  --v=2\n');
  const io = memoryIo();
  assert.equal(await run(['renew', 'kube-scheduler.kubeconfig', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.err);
  assert.match(io.out, /kube-scheduler \(systemd unit kube-scheduler; reads \/var\/lib\/kubernetes\/kube-scheduler\.kubeconfig\)\n\s+systemctl restart kube-scheduler/);
});

test('restart endpoint checks probe what the component serves (review): a kubelet with serverTLSBootstrap is not probed on a leftover kubelet.crt, kube-apiserver with --secure-port=8443 is probed on 8443', async () => {
  const root = copyFixture('kubeadm-1.26');
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(cfg, `${fs.readFileSync(cfg, 'utf8')}serverTLSBootstrap: true\n`);
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--secure-port=6443/, '--secure-port=8443'));
  assert.match(fs.readFileSync(manifest, 'utf8'), /--secure-port=8443/);
  const planFile = path.join(tmpDir('kubepki-plan-'), 'plan.json');
  const io = memoryIo();
  // (the leftover is no row under serverTLSBootstrap: named by its file)
  await run(['renew', 'apiserver', '--file', '/var/lib/kubelet/pki/kubelet.crt', '--root', root, '--now', '2026-11-23', '--dry-run', '--plan-out', planFile], io);
  assert.match(io.out, /kubelet-serving +\/var\/lib\/kubelet\/pki\/kubelet\.crt/);
  const restarts = JSON.parse(fs.readFileSync(planFile, 'utf8')).restarts as { component: string; endpoint?: { port: number; certFile: string } }[];
  assert.deepEqual(restarts.find((r) => r.component === 'kube-apiserver')?.endpoint, { host: '127.0.0.1', port: 8443, certFile: '/etc/kubernetes/pki/apiserver.crt' });
  assert.equal(restarts.find((r) => r.component === 'kubelet')?.endpoint, undefined, JSON.stringify(restarts));
});

test('kubelet unit environment (review): a comment that is not UTF-8 does not cost the file its assignments, and the last --config wins', async () => {
  const { readComponentRefs, kubeletConfigPath } = await import('../src/inventory/components.js');
  const root = tmpDir('kubepki-kubelet-env-');
  put(root, '/usr/lib/systemd/system/kubelet.service', '[Service]\nExecStart=/usr/bin/kubelet\n');
  put(root, '/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', '[Service]\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_EXTRA_ARGS\n');
  fs.mkdirSync(path.join(root, 'etc/default'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/default/kubelet'), Buffer.concat([Buffer.from('# ge'), Buffer.from([0xe4]), Buffer.from('ndert\nKUBELET_EXTRA_ARGS=--tls-cert-file=/srv/serving.crt --config=/etc/kubernetes/kubelet-custom.yaml\n')]));
  const refs = readComponentRefs(new NodeFs(root)).filter((r) => r.component === 'kubelet').map((r) => `${r.via} ${r.file}`);
  assert.ok(refs.includes('--tls-cert-file /srv/serving.crt'), refs.join('\n'));
  assert.equal(kubeletConfigPath(new NodeFs(root)), '/etc/kubernetes/kubelet-custom.yaml');
});

test('an external etcd\'s CA read through kube-apiserver\'s --etcd-cafile has its key beside it read too: on the node, so not "externally managed" and renewable', () => {
  const root = copyFixture('kubeadm-1.26');
  fs.mkdirSync(path.join(root, 'etc/etcd'), { recursive: true });
  fs.renameSync(path.join(root, 'etc/kubernetes/pki/etcd'), path.join(root, 'etc/etcd/pki'));
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt', '--etcd-cafile=/etc/etcd/pki/ca.crt'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const ca = inv.certificates.find((c) => c.location.file === '/etc/etcd/pki/ca.crt')!;
  assert.ok(ca, inv.certificates.map((c) => c.location.file).join('\n'));
  assert.equal(ca.privateKey.present, true);
  assert.equal(ca.privateKey.matches, true);
  assert.equal(ca.privateKey.location?.file, '/etc/etcd/pki/ca.key');
  assert.ok(!ca.findings.some((f) => f.code === 'ca-key-missing'), JSON.stringify(ca.findings));
});

test('what Go refuses whatever the dates is an error: a SHA-1 or MD5 signature (not on a self-signed root, whose signature nobody checks), a negative serial (shown as openssl shows it); a leaf ending within a day of its CA, as RKE1 makes them, is no warning', () => {
  const root = tmpDir('kubepki-go-refuses-');
  const dir = path.join(root, 'opt/certs');
  fs.mkdirSync(dir, { recursive: true });
  const ossl = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const key = (name: string) => ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(dir, `${name}.key`)]);
  key('ca');
  ossl(['req', '-x509', '-new', '-key', path.join(dir, 'ca.key'), '-subj', '/CN=sha1-root', '-sha1', '-days', '3650', '-out', path.join(dir, 'ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = (name: string, extra: string[]) => {
    key(name);
    const csr = path.join(dir, `${name}.csr`);
    ossl(['req', '-new', '-key', path.join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-out', csr]);
    ossl(['x509', '-req', '-in', csr, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-out', path.join(dir, `${name}.crt`), ...extra]);
    fs.rmSync(csr);
  };
  leaf('sha1-leaf', ['-sha1', '-days', '90', '-set_serial', '7']);
  leaf('negative', ['-sha256', '-days', '90', '-set_serial', '-1234']);
  // RKE1: a leaf made after its CA in the same run ends seconds after it
  leaf('same-day', ['-sha256', '-days', '3650', '-set_serial', '9']);
  // (openssl dates them from now: judged a day later)
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(Date.now() + 86400e3), layouts: [], paths: ['/opt/certs'] });
  const codes = (name: string) => byName(inv, name).findings.map((f) => `${f.severity} ${f.code}`).sort();
  assert.deepEqual(codes('ca'), [], 'a self-signed root\'s own SHA-1 signature is never checked');
  assert.deepEqual(codes('sha1-leaf'), ['error weak-signature']);
  assert.match(byName(inv, 'sha1-leaf').findings[0]!.message, /signed with SHA-1; Go refuses SHA-1 certificate signatures/);
  const neg = byName(inv, 'negative');
  assert.equal(neg.serial, openssl(['x509', '-in', path.join(dir, 'negative.crt'), '-noout', '-serial']).stdout.trim().replace('serial=', '').toLowerCase());
  assert.equal(neg.serial, '-04d2');
  assert.deepEqual(codes('negative'), ['error negative-serial']);
  assert.deepEqual(codes('same-day'), []);
});

test('Go\'s chain rules: a leaf signed by a CA:FALSE certificate, by a CA whose keyUsage lacks keyCertSign, or below more CAs than a pathlen allows is an error (openssl verify refuses the same chains); a plain chain through an intermediate is not', () => {
  const root = tmpDir('kubepki-chain-rules-');
  const dir = path.join(root, 'opt/certs');
  fs.mkdirSync(dir, { recursive: true });
  const ossl = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const f = (n: string, ext: string) => path.join(dir, `${n}.${ext}`);
  const key = (name: string) => ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name, 'key')]);
  const issue = (name: string, issuer: string, exts: string) => {
    key(name);
    ossl(['req', '-new', '-key', f(name, 'key'), '-subj', `/CN=${name}`, '-out', f(name, 'csr')]);
    fs.writeFileSync(f(name, 'ext'), `${exts}\n`);
    ossl(['x509', '-req', '-in', f(name, 'csr'), '-CA', f(issuer, 'crt'), '-CAkey', f(issuer, 'key'), '-set_serial', String(1000 + name.length), '-days', '90', '-sha256', '-extfile', f(name, 'ext'), '-out', f(name, 'crt')]);
    fs.rmSync(f(name, 'csr'));
    fs.rmSync(f(name, 'ext'));
  };
  key('root');
  ossl(['req', '-x509', '-new', '-key', f('root', 'key'), '-subj', '/CN=root', '-days', '3650', '-out', f('root', 'crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const caExt = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature';
  const leafExt = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth';
  issue('intermediate', 'root', caExt); // fine: nothing between root and it
  issue('leaf-ok', 'intermediate', leafExt); // one CA between root (pathlen:0) and it: too many
  key('other-root');
  ossl(['req', '-x509', '-new', '-key', f('other-root', 'key'), '-subj', '/CN=other-root', '-days', '3650', '-out', f('other-root', 'crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  issue('no-certsign', 'other-root', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature');
  issue('under-no-certsign', 'no-certsign', leafExt);
  issue('not-a-ca', 'other-root', leafExt);
  issue('under-not-a-ca', 'not-a-ca', leafExt);
  issue('fine', 'other-root', leafExt);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(Date.now() + 3600e3), layouts: [], paths: ['/opt/certs'] });
  const codes = (name: string) => byName(inv, name).findings.filter((x) => x.severity !== 'info').map((x) => `${x.severity} ${x.code}`).sort();
  const verifies = (name: string, chain: string[]) => {
    const untrusted = chain.slice(0, -1);
    fs.writeFileSync(f('untrusted', 'pem'), untrusted.map((n) => fs.readFileSync(f(n, 'crt'), 'utf8')).join(''));
    const r = openssl(['verify', '-CAfile', f(chain[chain.length - 1]!, 'crt'), ...(untrusted.length ? ['-untrusted', f('untrusted', 'pem')] : []), f(name, 'crt')]);
    fs.rmSync(f('untrusted', 'pem'));
    return r.status === 0;
  };
  assert.deepEqual(codes('intermediate'), []);
  assert.equal(verifies('intermediate', ['root']), true);
  assert.deepEqual(codes('fine'), []);
  assert.equal(verifies('fine', ['other-root']), true);
  assert.deepEqual(codes('leaf-ok'), ['error path-length-exceeded']);
  assert.match(byName(inv, 'leaf-ok').findings.find((x) => x.code === 'path-length-exceeded')!.message, /root allows 0 CAs below it \(pathlen:0\) but 1 stand/);
  assert.equal(verifies('leaf-ok', ['intermediate', 'root']), false);
  assert.deepEqual(codes('under-no-certsign'), ['error signer-not-ca']);
  assert.match(byName(inv, 'under-no-certsign').findings[0]!.message, /without keyCertSign/);
  assert.equal(verifies('under-no-certsign', ['no-certsign', 'other-root']), false);
  assert.deepEqual(codes('under-not-a-ca'), ['error signer-not-ca']);
  assert.match(byName(inv, 'under-not-a-ca').findings[0]!.message, /signed by not-a-ca .* which is not a CA/);
  assert.equal(byName(inv, 'under-not-a-ca').status, 'invalid');
  assert.equal(verifies('under-not-a-ca', ['not-a-ca', 'other-root']), false);
  assert.equal(inventoryExitCode(inv), 2);
});

test('kubeadm external CA mode (ca.key not on the node): what that CA signed is renewed by nobody here (manual), as kubeadm certs renew skips it ("can\'t be renewed")', () => {
  const root = copyFixture('kubeadm-1.26');
  assert.equal(byName(readInventory({ fs: new NodeFs(root), now: NOW }), 'apiserver').managedBy, 'kubeadm');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  for (const name of ['apiserver', 'apiserver-kubelet-client', 'admin.conf']) assert.equal(byName(inv, name).managedBy, 'manual', name);
  assert.equal(byName(inv, 'front-proxy-client').managedBy, 'kubeadm', 'its CA\'s key is still here');
});

test('kubeadm external CA mode (ca.key absent, kube-controller-manager\'s --cluster-signing-key-file= empty): the kubelet\'s client certificate is renewed by nobody, not "the kubelet renews it; nothing to do", and renew --csr-out writes its request for the CA', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  // what kubeadm writes in external-CA mode (spec §1.3): the CSR signing controller does not run
  const kcm = path.join(root, 'etc/kubernetes/manifests/kube-controller-manager.yaml');
  fs.writeFileSync(kcm, fs.readFileSync(kcm, 'utf8').replace(/--cluster-signing-cert-file=\S+/, '--cluster-signing-cert-file=').replace(/--cluster-signing-key-file=\S+/, '--cluster-signing-key-file='));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const kc = byName(inv, 'kubelet-client');
  assert.equal(kc.managedBy, 'manual');
  assert.equal(kc.status, 'warning');
  const f = kc.findings.find((x) => x.code === 'kubelet-csr-unsigned');
  assert.ok(f, JSON.stringify(kc.findings));
  assert.match(f.message, /--cluster-signing-key-file= in \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml: kubeadm's external-CA mode/);
  assert.match(f.message, /on 2027-11-22 the node goes NotReady/);
  // what the CA key on the node would sign is unaffected: a control plane whose kube-controller-manager signs
  assert.equal(byName(readInventory({ fs: new NodeFs(copyFixture('kubeadm-1.26')), now: NOW }), 'kubelet-client').findings.length, 0);

  const dry = memoryIo();
  await run(['renew', 'kubelet-client', '--root', root, '--now', '2026-11-23', '--dry-run'], dry);
  const line = dry.out.split('\n').find((l) => /^ {2}kubelet-client: /.test(l)) ?? '';
  assert.doesNotMatch(line, /nothing to do|kubelet credentials/, line);
  assert.match(line, /the key of CA ca is missing \(pass --csr-out DIR/, line);
  const csrDir = tmpDir('kubepki-ext-csr-');
  const io = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', '2026-11-23', '--csr-out', csrDir], io), 1, io.out + io.err);
  const req = openssl(['req', '-in', path.join(csrDir, 'kubelet-client.csr'), '-noout', '-subject', '-verify']);
  assert.equal(req.status, 0, req.stderr);
  assert.match(req.stdout, /subject=O = system:nodes, CN = system:node:cp-1/);
  // the request's key is the one the kubelet's pem holds
  const pem = fs.readFileSync(path.join(root, kc.location.file), 'utf8');
  const csrPub = openssl(['req', '-in', path.join(csrDir, 'kubelet-client.csr'), '-noout', '-pubkey']);
  const keyFile = path.join(csrDir, 'k.pem');
  fs.writeFileSync(keyFile, pem);
  assert.equal(openssl(['pkey', '-in', keyFile, '-pubout']).stdout, csrPub.stdout);
});

/**
 * dynamiclistener's serving certificate on a k3s server made by makeK3sTree (CN k3s, O k3s, signed by its server
 * CA from notBefore for a year), and server/tls/dynamic-cert.json holding it as the Secret kube-system/k3s-serving.
 */
async function k3sListenerCert(root: string, notBefore: Date): Promise<Made> {
  const tls = '/var/lib/rancher/k3s/server/tls';
  const caPem = fs.readFileSync(path.join(root, tls, 'server-ca.crt'), 'utf8');
  const caDer = parsePemBlocks(caPem)[0]!.der;
  const ca: Made = { pem: caPem, keyPem: '', key: createPrivateKey(fs.readFileSync(path.join(root, tls, 'server-ca.key'))), subject: new Certificate(caDer).subjectRaw, der: caDer };
  const dl = await makeLeaf(ca, 'k3s', { orgs: ['k3s'], eku: ['serverAuth'], sans: [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }], notBefore, days: 365 });
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  put(root, `${tls}/dynamic-cert.json`, JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'k3s-serving', namespace: 'kube-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(dl.pem + caPem), 'tls.key': b64(dl.keyPem) } }), 0o600);
  return dl;
}

test('renew --file of a Secret manifest (k3s\'s server/tls/dynamic-cert.json, a kubectl get secret -o yaml) is refused with what to do: it planned a PEM write and stopped with "internal error: expected at least 1 certificates"', async () => {
  const root = tmpDir('kubepki-k3s-dynamic-');
  await makeK3sTree(root, new Date('2026-01-10T00:00:00Z'));
  const tls = '/var/lib/rancher/k3s/server/tls';
  const dl = await k3sListenerCert(root, new Date('2025-12-01T00:00:00Z'));
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.ok(dl.pem);
  const appCa = await makeCa('demo-ca', new Date('2026-01-01T00:00:00Z'), 3650);
  const app = await makeLeaf(appCa, 'app.demo.svc', { eku: ['serverAuth'], sans: [{ type: 'dns', value: 'app.demo.svc' }], notBefore: new Date('2026-01-01T00:00:00Z'), days: 365 });
  put(root, '/root/app-tls.yaml', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-tls\n  namespace: demo\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(app.pem + appCa.pem)}\n  tls.key: ${b64(app.keyPem)}\n`);
  for (const [file, expected] of [
    [`${tls}/dynamic-cert.json`, /dynamic-cert\.json is k3s's copy of its listener's serving certificate \(Secret kube-system\/k3s-serving\), which k3s re-issues itself when it is within 120 days of its end \(90 before its v1\.30\.13, v1\.31\.9, v1\.32\.5 and v1\.33\.1 of May 2025\); to re-issue it now, as k3s's docs say: systemctl stop k3s; k3s certificate rotate; systemctl start k3s$/m],
    ['/root/app-tls.yaml', /app-tls\.yaml is a manifest of Secret demo\/app-tls: kubepki rewrites certificate files, not Kubernetes objects; renew the certificate where it is issued, put it in the object's data and apply it \(kubectl apply -f \/root\/app-tls\.yaml\)$/m],
  ] as const) {
    const before = fs.readFileSync(path.join(root, file));
    const io = memoryIo();
    assert.equal(await run(['renew', '--file', file, '--root', root, '--now', '2026-12-20'], io), 1, io.out + io.err);
    assert.match(io.out, expected, io.out);
    assert.doesNotMatch(io.out + io.err, /internal error|write {3}\//, io.out + io.err);
    assert.deepEqual(fs.readFileSync(path.join(root, file)), before, `${file} untouched`);
  }
});

test('k3s/RKE2 server: check reads the listener\'s serving certificate from server/tls/dynamic-cert.json (the kube-system/<distro>-serving Secret, what clients of 6443/9345 see), with its key; renew all leaves it to the distro while it is valid', async () => {
  const root = tmpDir('kubepki-k3s-dyn-check-');
  await makeK3sTree(root, new Date('2026-01-10T00:00:00Z'));
  const tls = '/var/lib/rancher/k3s/server/tls';
  const dl = await k3sListenerCert(root, new Date('2026-03-01T00:00:00Z'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const d = byName(inv, 'dynamic-cert.json');
  assert.equal(d.location.file, `${tls}/dynamic-cert.json`);
  assert.equal(d.location.manifest, 'Secret kube-system/k3s-serving');
  assert.equal(d.signerName, 'server-ca');
  assert.equal(d.managedBy, 'k3s');
  assert.equal(d.privateKey.matches, true);
  assert.equal(d.notAfter, '2027-03-01T00:00:00.000Z');
  // openssl agrees: the leaf in the Secret verifies against the server CA
  const leafFile = path.join(tmpDir('kubepki-dl-'), 'leaf.pem');
  fs.writeFileSync(leafFile, dl.pem);
  assert.equal(openssl(['verify', '-attime', String(Date.parse('2026-11-23') / 1000), '-CAfile', path.join(root, tls, 'server-ca.crt'), leafFile]).status, 0);
  assert.ok(!inv.certificates.some((c) => c.isCA && c.location.file === `${tls}/dynamic-cert.json`), 'the CA copy in it is server-ca, not a new CA');
  assert.ok(inv.findings.every((f) => f.severity !== 'error'), JSON.stringify(inv.findings));
  // valid: renew all renews the rest and leaves it to k3s without failing
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {2}dynamic-cert\.json: .*which k3s re-issues itself when it is within 120 days of its end \(90 before its v1\.30\.13, v1\.31\.9, v1\.32\.5 and v1\.33\.1 of May 2025\); to re-issue it now, as k3s's docs say: systemctl stop k3s; k3s certificate rotate; systemctl start k3s$/m);
  assert.doesNotMatch(io.out, /write {3}\/var\/lib\/rancher\/k3s\/server\/tls\/dynamic-cert\.json/);
  // expired: a failure, with the same advice
  const late = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2028-01-01', '--dry-run'], late), 1, late.out + late.err);
  assert.match(late.out, /^ {2}dynamic-cert\.json: .*systemctl stop k3s; k3s certificate rotate; systemctl start k3s$/m);
});

test('a k3s agent without its client-ca.crt / server-ca.crt (only the CA copies at the end of each leaf file): renew re-signed serving-kubelet and client-kubelet under a new throwaway CA, which kube-apiserver refuses; it now leaves them to k3s-agent', async () => {
  const root = tmpDir('kubepki-k3s-agent-noca-');
  await makeK3sTree(root, new Date('2025-10-01T00:00:00Z'));
  fs.rmSync(path.join(root, 'var/lib/rancher/k3s/server'), { recursive: true });
  fs.rmSync(path.join(root, 'etc/rancher'), { recursive: true });
  for (const f of ['client-ca.crt', 'server-ca.crt']) fs.rmSync(path.join(root, 'var/lib/rancher/k3s/agent', f));
  const before = fs.readFileSync(path.join(root, 'var/lib/rancher/k3s/agent/serving-kubelet.crt'));
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-11-23'], io), 1, io.out + io.err);
  assert.doesNotMatch(io.out, /throwaway/, io.out);
  assert.match(io.out, /^ {2}serving-kubelet: externally managed, can't renew .*systemctl restart k3s-agent$/m);
  assert.deepEqual(fs.readFileSync(path.join(root, 'var/lib/rancher/k3s/agent/serving-kubelet.crt')), before);
  // what it holds still chains to the k3s server CA (openssl), as kube-apiserver's --kubelet-certificate-authority wants
  const v = openssl(['verify', '-attime', String(Date.parse('2026-01-01') / 1000), '-partial_chain', '-CAfile', path.join(root, 'var/lib/rancher/k3s/agent/serving-kubelet.crt'), path.join(root, 'var/lib/rancher/k3s/agent/serving-kubelet.crt')]);
  assert.equal(v.status, 0, v.stderr);
  const check = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23'], check);
  assert.match(check.out, /^Next: .*systemctl restart k3s-agent$/m);
});

test('Kubernetes the Hard Way (2024) embeds each certificate in its kubeconfig (kubectl --embed-certs): renewing kubelet.crt updates the copy in /var/lib/kubelet/kubeconfig, which kubectl reads and openssl verifies, under "Copies updated with the renewed certificates" (it said "the renewed CA")', async () => {
  const root = tmpDir('kubepki-hardway-embed-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const node = await makeLeaf(ca, 'system:node:node-0', { orgs: ['system:nodes'], eku: ['clientAuth', 'serverAuth'], sans: [{ type: 'dns', value: 'node-0' }, { type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 3653, keyType: 'rsa-2048' });
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  putPair(root, '/var/lib/kubelet/kubelet.crt', node);
  put(root, '/var/lib/kubelet/ca.crt', ca.pem);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const kubeconfig = '/var/lib/kubelet/kubeconfig';
  put(root, kubeconfig, `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${b64(ca.pem)}\n    server: https://server.kubernetes.local:6443\n  name: kubernetes-the-hard-way\ncontexts:\n- context:\n    cluster: kubernetes-the-hard-way\n    user: system:node:node-0\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\nusers:\n- name: system:node:node-0\n  user:\n    client-certificate-data: ${b64(node.pem)}\n    client-key-data: ${b64(node.keyPem)}\n`, 0o600);
  const dry = memoryIo();
  assert.equal(await run(['renew', 'kubelet', '--root', root, '--now', '2026-11-23', '--dry-run'], dry), 0, dry.out + dry.err);
  assert.match(dry.out, /^Copies updated with the renewed certificates:\n {2}copy of kubelet in \/var\/lib\/kubelet\/kubeconfig \(user system:node:node-0\) updated$/m);
  const io = memoryIo();
  assert.equal(await run(['renew', 'kubelet', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
  const renewed = fs.readFileSync(path.join(root, 'var/lib/kubelet/kubelet.crt'), 'utf8');
  assert.notEqual(renewed, node.pem);
  const kc = JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path.join(root, kubeconfig)]).toString());
  assert.equal(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64').toString(), renewed);
  const v = openssl(['verify', '-attime', String(Date.parse('2026-11-24') / 1000), '-purpose', 'sslclient', '-CAfile', path.join(root, 'var/lib/kubelet/ca.crt'), path.join(root, 'var/lib/kubelet/kubelet.crt')]);
  assert.equal(v.status, 0, v.stderr);
});

/** The hard way's (2024) CA, with the worker's kubelet and kube-proxy client certificates it signs (ten years, RSA). */
async function hardwayWorkerCerts() {
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const node = await makeLeaf(ca, 'system:node:node-0', { orgs: ['system:nodes'], eku: ['clientAuth', 'serverAuth'], notBefore: issued, days: 3653, keyType: 'rsa-2048' });
  const proxy = await makeLeaf(ca, 'system:kube-proxy', { orgs: ['system:node-proxier'], eku: ['clientAuth', 'serverAuth'], notBefore: issued, days: 3653, keyType: 'rsa-2048' });
  return { ca, node, proxy };
}

/** A hard-way worker's kubelet pair and its and kube-proxy's kubeconfigs (embedded data, as kubectl --embed-certs writes). */
function writeHardwayWorker(root: string, { ca, node, proxy }: Awaited<ReturnType<typeof hardwayWorkerCerts>>): void {
  putPair(root, '/var/lib/kubelet/kubelet.crt', node);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const kc = (user: string, leaf: { pem: string; keyPem: string }) => `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${b64(ca.pem)}\n    server: https://server.kubernetes.local:6443\n  name: kubernetes-the-hard-way\ncontexts:\n- context:\n    cluster: kubernetes-the-hard-way\n    user: ${user}\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\nusers:\n- name: ${user}\n  user:\n    client-certificate-data: ${b64(leaf.pem)}\n    client-key-data: ${b64(leaf.keyPem)}\n`;
  put(root, '/var/lib/kubelet/kubeconfig', kc('system:node:node-0', node), 0o600);
  put(root, '/var/lib/kube-proxy/kubeconfig', kc('system:kube-proxy', proxy), 0o600);
}

test('Kubernetes the Hard Way (2024): /var/lib/kube-proxy/kubeconfig is named kube-proxy/kubeconfig, not "kubeconfig", when the kubelet\'s kubeconfig holds a copy of kubelet.crt (so is no row of its own)', async () => {
  const root = tmpDir('kubepki-hardway-names-');
  const { ca, node, proxy } = await hardwayWorkerCerts();
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  writeHardwayWorker(root, { ca, node, proxy });
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.certificates.filter((c) => !c.isCA).map((c) => c.name).sort(), ['kube-proxy/kubeconfig', 'kubelet']);
  const io = memoryIo();
  assert.equal(await run(['renew', 'kube-proxy/kubeconfig', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {2}kube-proxy\/kubeconfig +\/var\/lib\/kube-proxy\/kubeconfig \(user system:kube-proxy\)$/m);
});

test('Kubernetes the Hard Way (2024): renew ca says how its copies on workers and other controllers follow (/var/lib/kubelet/ca.crt, the kubelet\'s and kube-proxy\'s kubeconfigs), not kubeadm\'s steps (ca import, kubelet.conf, cluster-info, the discovery hash), which that cluster has none of; the printed worker command updates a worker\'s kubeconfig', async () => {
  const root = tmpDir('kubepki-hardway-ca-');
  const certs = await hardwayWorkerCerts();
  putPair(root, '/var/lib/kubernetes/ca.crt', certs.ca);
  put(root, '/var/lib/kubelet/ca.crt', certs.ca.pem);
  writeHardwayWorker(root, certs);
  const io = memoryIo();
  assert.equal(await run(['renew', 'ca', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  const sect = io.out.slice(io.out.indexOf('\nOutside this node: '));
  assert.ok(io.out.includes('\nOutside this node: ca was renewed on this node only'), io.out);
  assert.doesNotMatch(sect, /cluster-info|discovery-token-ca-cert-hash|kubelet\.conf|\/etc\/kubernetes|ca import|default-cluster/);
  const worker = /^ {2}- every worker: copy the renewed \/var\/lib\/kubernetes\/ca\.crt to \/var\/lib\/kubelet\/ca\.crt there, put it into the CA data of its kubeconfigs \(kubectl (config set-cluster kubernetes-the-hard-way --certificate-authority=\/var\/lib\/kubelet\/ca\.crt --embed-certs=true --kubeconfig F) for F in \/var\/lib\/kubelet\/kubeconfig, \/var\/lib\/kube-proxy\/kubeconfig\), then `systemctl restart kubelet kube-proxy`$/m.exec(sect);
  assert.ok(worker, sect);
  assert.match(sect, /^ {2}- other controllers: copy it to \/var\/lib\/kubernetes\/ca\.crt there, .*kube-controller-manager\.kubeconfig/m);

  // the command, run as printed against a worker's kubeconfig holding the old CA, puts the renewed one in
  assert.equal(await run(['renew', 'ca', '--root', root, '--now', '2026-11-23'], memoryIo()), 0);
  const renewed = fs.readFileSync(path.join(root, 'var/lib/kubernetes/ca.crt'), 'utf8');
  assert.notEqual(renewed, certs.ca.pem);
  const away = tmpDir('kubepki-hardway-worker-');
  writeHardwayWorker(away, certs);
  put(away, '/var/lib/kubelet/ca.crt', renewed);
  const kc = path.join(away, 'var/lib/kube-proxy/kubeconfig');
  const args = worker[1]!.split(' ').map((a) => a.replace('=/var/lib/kubelet/ca.crt', `=${path.join(away, 'var/lib/kubelet/ca.crt')}`).replace(/^F$/, kc));
  execFileSync('kubectl', args);
  const view = JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', kc]).toString());
  assert.equal(Buffer.from(view.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), renewed);
});

test('RKE2\'s etcd static pod names its certificates only through --config-file (server/db/etcd/config): etcd is their reader, and renewing them restarts rke2-server, which rewrites the pod', async () => {
  const root = tmpDir('kubepki-rke2-etcd-');
  const issued = new Date('2026-01-10T00:00:00Z');
  const tls = '/var/lib/rancher/rke2/server/tls';
  const serverCa = await makeCa('etcd-server-ca@1768003200', issued, 3650);
  const peerCa = await makeCa('etcd-peer-ca@1768003200', issued, 3650);
  const sans = [{ type: 'dns', value: 'localhost' }, { type: 'dns', value: 'rke2-1' }, { type: 'ip', value: '127.0.0.1' }] as const;
  const server = await makeLeaf(serverCa, 'etcd-server', { eku: ['serverAuth', 'clientAuth'], sans: [...sans], notBefore: issued, days: 365 });
  const peer = await makeLeaf(peerCa, 'etcd-peer', { eku: ['serverAuth', 'clientAuth'], sans: [...sans], notBefore: issued, days: 365 });
  for (const [n, ca] of [['etcd/server-ca', serverCa], ['etcd/peer-ca', peerCa]] as const) { put(root, `${tls}/${n}.crt`, ca.pem); put(root, `${tls}/${n}.key`, ca.keyPem, 0o600); }
  put(root, `${tls}/etcd/server-client.crt`, server.pem + serverCa.pem); put(root, `${tls}/etcd/server-client.key`, server.keyPem, 0o600);
  put(root, `${tls}/etcd/peer-server-client.crt`, peer.pem + peerCa.pem); put(root, `${tls}/etcd/peer-server-client.key`, peer.keyPem, 0o600);
  const config = '/var/lib/rancher/rke2/server/db/etcd/config';
  put(root, config, `client-transport-security:\n  cert-file: ${tls}/etcd/server-client.crt\n  client-cert-auth: true\n  key-file: ${tls}/etcd/server-client.key\n  trusted-ca-file: ${tls}/etcd/server-ca.crt\ndata-dir: /var/lib/rancher/rke2/server/db/etcd\nname: rke2-1-0a1b2c3d\npeer-transport-security:\n  cert-file: ${tls}/etcd/peer-server-client.crt\n  client-cert-auth: true\n  key-file: ${tls}/etcd/peer-server-client.key\n  trusted-ca-file: ${tls}/etcd/peer-ca.crt\n`, 0o600);
  put(root, '/var/lib/rancher/rke2/agent/pod-manifests/etcd.yaml', `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --config-file=${config}\n    env:\n    - name: FILE_HASH\n      value: 0f0e\n    name: etcd\n  hostNetwork: true\n`);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(byName(inv, 'etcd/server-client').components, ['etcd']);
  assert.deepEqual(byName(inv, 'etcd/peer-server-client').components, ['etcd']);
  assert.deepEqual(byName(inv, 'etcd/peer-ca').components, ['etcd']);
  const io = memoryIo();
  assert.equal(await run(['renew', 'etcd/server-client', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^Restart afterwards:\n {2}rke2-server \(systemd unit rke2-server; reads \/var\/lib\/rancher\/rke2\/server\/tls\/etcd\/server-client\.crt\)\n {4}systemctl restart rke2-server$/m);
  assert.doesNotMatch(io.out, /kubepki-parked/);
});

test('k3s runs every component in its one process and RKE2 its kubelet: who reads each certificate comes from where the distro puts it (no flag on disk names them), so check shows readers for k3s too', async () => {
  const root = tmpDir('kubepki-k3s-readers-');
  await makeK3sTree(root, new Date('2026-06-01T00:00:00Z'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const readers = Object.fromEntries(inv.certificates.map((c) => [c.name, c.components]));
  assert.deepEqual(readers['serving-kube-apiserver'], ['kube-apiserver']);
  assert.deepEqual(readers['client-auth-proxy'], ['kube-apiserver']);
  assert.deepEqual(readers['etcd/client'], ['kube-apiserver']);
  assert.deepEqual(readers['etcd/server-client'], ['etcd']);
  assert.deepEqual(readers['etcd/peer-server-client'], ['etcd']);
  assert.deepEqual(readers['client-controller'], ['kube-controller-manager']);
  assert.deepEqual(readers['client-scheduler'], ['kube-scheduler']);
  assert.deepEqual(readers['client-kubelet'], ['kubelet']);
  assert.deepEqual(readers['serving-kubelet'], ['kubelet']);
  // (and the kubelet, whose --client-ca-file is the agent's copy, agent/client-ca.crt)
  assert.deepEqual(readers['client-ca'], ['kube-apiserver', 'kube-controller-manager', 'kubelet']);
  assert.deepEqual(readers['etcd/peer-ca'], ['etcd']);
  // a template the server hands to agents is read by no component here
  assert.deepEqual(readers['client-kube-proxy'] ?? readers['server/client-kube-proxy'], []);
  // the restart is still the one unit
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^Restart afterwards:\n {2}k3s \(systemd unit k3s; reads [^\n]*\)\n {4}systemctl restart k3s\n\n/m);
});

test('k3s\'s temporary-certs/apiserver-loopback-client__.crt is kube-apiserver\'s loopback pair (client-go fixture: leaf then its own CA): named apiserver-loopback-client / -ca, read by kube-apiserver, and renewed by nobody (it said k3s, but neither k3s\'s start-up renewal nor certificate rotate touches it)', async () => {
  const root = tmpDir('kubepki-k3s-loopback-');
  const issued = new Date('2026-06-01T00:00:00Z');
  await makeK3sTree(root, issued);
  // as client-go writes a fixture: RSA 2048, CA `<host>-ca@<unix>`, leaf `<host>@<unix>` with the host as its DNS name, 100 years
  const t = Math.floor(issued.getTime() / 1000);
  const ca = await makeCa(`apiserver-loopback-client-ca@${t}`, issued, 36500, 'rsa-2048');
  const leaf = await makeLeaf(ca, `apiserver-loopback-client@${t}`, { eku: ['serverAuth'], sans: [{ type: 'dns', value: 'apiserver-loopback-client' }], notBefore: issued, days: 36500, keyType: 'rsa-2048' });
  const file = '/var/lib/rancher/k3s/server/tls/temporary-certs/apiserver-loopback-client__.crt';
  put(root, file, leaf.pem + ca.pem);
  put(root, file.replace(/\.crt$/, '.key'), leaf.keyPem, 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const pair = byName(inv, 'apiserver-loopback-client');
  assert.equal(pair.location.file, file);
  assert.equal(pair.managedBy, 'manual');
  assert.deepEqual(pair.components, ['kube-apiserver']);
  assert.equal(pair.signerName, 'apiserver-loopback-client-ca');
  assert.ok(byName(inv, 'apiserver-loopback-client-ca').isCA);
  // the distro's own leaves are still the distro's
  assert.equal(byName(inv, 'serving-kube-apiserver').managedBy, 'k3s');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
  assert.match(io.out, /^apiserver-loopback-client +\S.* manual +\/var\/lib\/rancher\/k3s\/server\/tls\/temporary-certs\/apiserver-loopback-client__\.crt$/m);
});

test('Kubernetes the Hard Way (2024): the admin\'s kubeconfig the server keeps in root\'s home (/root/admin.kubeconfig) is checked and renewed with the rest; it went unseen', async () => {
  const root = tmpDir('kubepki-hardway-admin-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const admin = await makeLeaf(ca, 'admin', { orgs: ['system:masters'], eku: ['clientAuth'], notBefore: issued, days: 340, keyType: 'rsa-2048' });
  putPair(root, '/var/lib/kubernetes/ca.crt', ca);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  put(root, '/root/admin.kubeconfig', `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${b64(ca.pem)}\n    server: https://127.0.0.1:6443\n  name: kubernetes-the-hard-way\ncontexts:\n- context:\n    cluster: kubernetes-the-hard-way\n    user: admin\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\nusers:\n- name: admin\n  user:\n    client-certificate-data: ${b64(admin.pem)}\n    client-key-data: ${b64(admin.keyPem)}\n`, 0o600);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.layouts, ['hardway']);
  const a = byName(inv, 'admin.kubeconfig');
  assert.deepEqual(a.subjectO, ['system:masters']);
  assert.equal(a.status, 'warning');
  assert.equal(a.signerName, 'ca');
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--only-expiring', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
  const kc = JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', path.join(root, 'root/admin.kubeconfig')]).toString());
  const leaf = path.join(tmpDir('kubepki-hw-admin-'), 'admin.pem');
  fs.writeFileSync(leaf, Buffer.from(kc.users[0].user['client-certificate-data'], 'base64'));
  assert.equal(openssl(['verify', '-attime', String(Date.parse('2026-11-24') / 1000), '-purpose', 'sslclient', '-CAfile', path.join(root, 'var/lib/kubernetes/ca.crt'), leaf]).status, 0);
  assert.match(openssl(['x509', '-in', leaf, '-noout', '-subject', '-enddate']).stdout, /subject=O = system:masters, CN = admin\nnotAfter=Oct (2[89]|3[01]) .* 2027 GMT/);
});

test('the kubelet\'s self-signed serving pair (kubelet.crt, kubeadm and kubespray nodes) is renewed by nobody: the kubelet makes it only when it is missing (kubernetes/kubernetes#99418), so RENEWED BY says manual, not kubelet; its rotated client certificate stays the kubelet\'s', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.ok(inv.layouts.includes('kubespray'));
  assert.equal(byName(inv, 'kubelet-serving').managedBy, 'manual');
  assert.equal(byName(inv, 'kubelet-client').managedBy, 'kubelet');
  // and kubepki renews it (its throwaway CA re-made), which openssl verifies against the new CA in the same file
  const io = memoryIo();
  assert.equal(await run(['renew', 'kubelet-serving', '--root', root, '--now', '2027-12-01'], io), 0, io.out + io.err);
  const f = path.join(root, 'var/lib/kubelet/pki/kubelet.crt');
  assert.equal(openssl(['verify', '-attime', String(Date.parse('2027-12-02') / 1000), '-purpose', 'sslserver', '-CAfile', f, f]).status, 0);
});

test('a Kubernetes the Hard Way worker (no /var/lib/kubernetes there) is detected by its kubelet\'s and kube-proxy\'s kubeconfigs: kube-proxy\'s client certificate went unseen and the layouts said none', async () => {
  const root = tmpDir('kubepki-hardway-worker-');
  const { ca, node, proxy } = await hardwayWorkerCerts();
  put(root, '/var/lib/kubelet/ca.crt', ca.pem);
  writeHardwayWorker(root, { ca, node, proxy });
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.layouts, ['hardway']);
  const p = byName(inv, 'kube-proxy/kubeconfig');
  assert.equal(p.subjectCN, 'system:kube-proxy');
  assert.equal(p.signerName, 'ca');
  assert.equal(byName(inv, 'kubelet').signerName, 'ca');
  // an EKS, GKE or kops node has those two kubeconfigs too (exec credentials, the kubelet's rotated pair), but no
  // kubelet.crt beside them: not the hard way, so no hard-way files (such as /root/*.kubeconfig) are looked for
  const managed = tmpDir('kubepki-eks-node-');
  put(managed, '/var/lib/kubelet/kubeconfig', 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n    server: https://EXAMPLE.gr7.us-west-2.eks.amazonaws.com\n  name: kubernetes\nusers:\n- name: kubelet\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /usr/bin/aws-iam-authenticator\n');
  put(managed, '/var/lib/kube-proxy/kubeconfig', 'apiVersion: v1\nkind: Config\nusers: []\nclusters: []\n');
  put(managed, '/etc/kubernetes/pki/ca.crt', ca.pem);
  assert.ok(!readInventory({ fs: new NodeFs(managed), now: NOW }).layouts.includes('hardway'));
});

test('check --path DIR: Next names the files renew all does not reach (renew --file): on a migrated kubeadm node with RKE1 leftovers in /srv/rke it said "renew all", which left them expired, and on a tree with no layout "renew all" found nothing', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const rke = path.join(root, 'srv/rke');
  fs.mkdirSync(rke, { recursive: true });
  const ssl = path.join(FIXTURES, 'rke1-expired/etc/kubernetes/ssl');
  for (const n of ['kube-ca.pem', 'kube-ca-key.pem', 'kube-node.pem', 'kube-node-key.pem']) fs.copyFileSync(path.join(ssl, n), path.join(rke, n));
  const nextOf = async (args: string[]) => {
    const io = memoryIo();
    assert.equal(await run(['check', ...args, '--now', '2026-11-23'], io), 2, io.out + io.err);
    return /^Next: (.*)$/m.exec(io.out)?.[1] ?? '';
  };
  const next = await nextOf(['--root', root, '--path', '/srv/rke']);
  assert.equal(next, `kubepki renew all --file /srv/rke/kube-node.pem --root ${root} --now 2026-11-23 --dry-run, then without --dry-run (backup first); restart what it lists`);
  // the command it gives renews the leftover too (and the kubeadm certificates); openssl verifies it with its CA
  const cmd = next.replace(/ --dry-run, then.*$/, '').split(' ').slice(1);
  const r = memoryIo();
  assert.equal(await run(cmd, r), 0, r.out + r.err);
  const v = openssl(['verify', '-attime', String(Date.parse('2026-11-24') / 1000), '-CAfile', path.join(rke, 'kube-ca.pem'), path.join(rke, 'kube-node.pem')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const ok = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/srv/rke', '--now', '2026-11-23'], ok), 0, ok.out);
  // a --path given without --root on a machine with no layout: renew all would fail ("failed to find any certificate under /")
  const bare = tmpDir('kubepki-bare-');
  for (const n of ['kube-ca.pem', 'kube-ca-key.pem', 'kube-node.pem', 'kube-node-key.pem', 'kube-proxy.pem', 'kube-proxy-key.pem']) fs.copyFileSync(path.join(ssl, n), path.join(bare, n));
  const inv = readInventory({ fs: new NodeFs('/'), now: NOW, layouts: [], paths: [bare], componentRefs: false });
  assert.equal(inv.next, `kubepki renew --file ${bare}/kube-node.pem --file ${bare}/kube-proxy.pem --dry-run, then without --dry-run (backup first); restart what it lists`);
  // a --path inside what a layout reads changes nothing: renew all reaches it
  const other = copyFixture('kubeadm-1.26-expired');
  assert.equal(await nextOf(['--root', other, '--path', '/etc/kubernetes/pki']), `kubepki renew all --root ${other} --now 2026-11-23 --dry-run, then without --dry-run (backup first); restart what it lists`);
});

test('a kubeadm node migrated from RKE1 with /etc/kubernetes/ssl left behind: kubeadm\'s config and the RKE1 kubeconfigs\' server address are compared with the API server certificate each concerns, not with every one; kubeadm\'s healthy apiserver was INVALID (no SAN for 127.0.0.1, the server of kubecfg-kube-apiserver-proxy-client.yaml, whose kube-ca does not verify it) and RKE1\'s kube-apiserver.pem was told to add kubeadm\'s certSANs and advertise address', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.cpSync(path.join(FIXTURES, 'rke1-expired/etc/kubernetes/ssl'), path.join(root, 'etc/kubernetes/ssl'), { recursive: true });
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.layouts, ['kubeadm', 'kubelet', 'rke1']);
  const sanFindings = inv.findings.filter((f) => f.code === 'apiserver-san-missing');
  assert.deepEqual(sanFindings, [], JSON.stringify(sanFindings, null, 1));
  assert.equal(byName(inv, 'apiserver').status, 'ok');
  assert.equal(byName(inv, 'kube-apiserver').status, 'expired'); // (the leftovers are still checked: expired, as they are)
  // openssl agrees: the RKE1 kubeconfigs' CA does not verify kubeadm's apiserver.crt, so their server address says nothing of it
  const v = openssl(['verify', '-CAfile', path.join(root, 'etc/kubernetes/ssl/kube-ca.pem'), path.join(root, 'etc/kubernetes/pki/apiserver.crt')]);
  assert.notEqual(v.status, 0, v.stdout);
  assert.equal(openssl(['x509', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '-noout', '-checkip', '127.0.0.1']).stdout.includes('does NOT match'), true);
  // and a kubeconfig trusting kubeadm's CA with a server the certificate lacks is still an error
  const admin = fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8');
  put(root, '/root/.kube/config', admin.replace(/server: \S+/, 'server: https://api.other.example:6443'), 0o600);
  const inv2 = readInventory({ fs: new NodeFs(root), now: NOW, kubeconfigs: ['/root/.kube/config'] });
  assert.ok(byName(inv2, 'apiserver').findings.some((f) => f.code === 'apiserver-san-missing' && f.message.includes('api.other.example')), JSON.stringify(byName(inv2, 'apiserver').findings));
  assert.ok(!byName(inv2, 'kube-apiserver').findings.some((f) => f.code === 'apiserver-san-missing'));
});

test('a component\'s kubeconfig that names its client certificate relative to itself (client-go resolves it from the kubeconfig\'s directory): the component reads that file (relative references were skipped)', () => {
  const root = copyFixture('kubeadm-1.26');
  const conf = path.join(root, 'etc/kubernetes/scheduler.conf');
  const text = fs.readFileSync(conf, 'utf8');
  const data = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(text)![1]!, 'base64');
  fs.mkdirSync(path.join(root, 'etc/kubernetes/scheduler'));
  fs.writeFileSync(path.join(root, 'etc/kubernetes/scheduler/client.crt'), data('client-certificate-data'));
  fs.writeFileSync(path.join(root, 'etc/kubernetes/scheduler/client.key'), data('client-key-data'), { mode: 0o600 });
  fs.writeFileSync(conf, text.replace(/client-certificate-data: \S+/, 'client-certificate: scheduler/client.crt').replace(/client-key-data: \S+/, 'client-key: ./scheduler/client.key'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const row = inv.certificates.find((c) => c.location.file === '/etc/kubernetes/scheduler/client.crt');
  assert.ok(row, inv.certificates.map((c) => c.location.file).join(' '));
  assert.deepEqual(row.components, ['kube-scheduler']);
  assert.deepEqual(inv.findings.filter((f) => f.severity === 'error'), []);
});
