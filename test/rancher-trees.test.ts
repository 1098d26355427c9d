// k3s and RKE2 nodes (server and agent) laid out as spec §9.2 says, read, inspected and renewed as an operator would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { copyFixture, NOW, openssl, tmpDir } from './support/fixtures.js';
import { makeRancherAgent, makeRancherServer, rancherDir, type RancherDistro } from './support/rancher-trees.js';
import { servingEtcd } from './support/etcd.js';
import { byName } from './support/by-name.js';

const DAY = 86400_000;
// the first server started 2024-03-01; every leaf was last re-issued at a start on 2026-01-23 (61 days left at NOW)
const CA_ISSUED = new Date('2024-03-01T10:00:00Z');
const LEAVES_ISSUED = new Date('2026-01-23T10:00:00Z');


const unitOf = (d: RancherDistro, role: 'server' | 'agent') => (role === 'agent' ? `${d}-agent` : d === 'k3s' ? 'k3s' : 'rke2-server');

for (const distro of ['k3s', 'rke2'] as const) {
  test(`${distro} server and agent trees as the distro lays them out: every leaf found under its name, signed by its CA, its EC P-256 key matching, renewed by ${distro}; restarting the unit is the step, as openssl agrees on the chains`, async () => {
    const server = tmpDir(`kubepki-${distro}-server-`);
    const agent = tmpDir(`kubepki-${distro}-agent-`);
    const made = await makeRancherServer(server, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED, issuedAt: { 'client-admin': new Date('2025-11-01T10:00:00Z') } });
    await makeRancherAgent(agent, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED, cas: made.cas, issuedAt: { 'agent/client-kubelet': new Date('2025-11-10T00:00:00Z') } });
    const tls = `${rancherDir(distro)}/server/tls`;

    const inv = readInventory({ fs: new NodeFs(server), now: NOW });
    assert.deepEqual(inv.layouts, [distro]);
    const signers: Record<string, string> = {
      'client-admin': 'client-ca', 'client-supervisor': 'client-ca', 'client-controller': 'client-ca', 'client-scheduler': 'client-ca',
      'client-kube-apiserver': 'client-ca', 'client-kube-proxy': 'client-ca', [`client-${distro}-controller`]: 'client-ca',
      [`client-${distro}-cloud-controller`]: 'client-ca', 'serving-kube-apiserver': 'server-ca', 'client-auth-proxy': 'request-header-ca',
      'etcd/server-client': 'etcd/server-ca', 'etcd/client': 'etcd/server-ca', 'etcd/peer-server-client': 'etcd/peer-ca',
      'client-kubelet': 'client-ca', 'serving-kubelet': 'server-ca', 'dynamic-cert.json': 'server-ca',
    };
    assert.deepEqual(inv.certificates.filter((c) => !c.isCA).map((c) => c.name).sort(), Object.keys(signers).sort());
    assert.deepEqual(inv.certificates.filter((c) => c.isCA).map((c) => c.name).sort(), ['client-ca', 'etcd/peer-ca', 'etcd/server-ca', 'request-header-ca', 'server-ca']);
    for (const c of inv.certificates) {
      if (!c.isCA) assert.equal(c.signerName, signers[c.name], c.name);
      assert.equal(c.privateKey.matches, true, `${c.name} key`);
      assert.equal(c.keyAlgorithm, 'ECDSA', c.name);
      assert.equal(c.managedBy, distro, c.name);
    }
    // openssl verifies each leaf file (leaf + CA) against the CA file kubepki names
    for (const [name, ca] of Object.entries(signers)) {
      const c = byName(inv, name);
      if (c.location.manifest) continue;
      const v = openssl(['verify', '-attime', String(Date.parse('2026-06-01') / 1000), '-CAfile', path.join(server, tls, `${ca}.crt`), path.join(server, c.location.file)]);
      assert.equal(v.status, 0, `${name}: ${v.stdout}${v.stderr}`);
    }
    // client-admin expired, client-kubelet not (the server's own agent): the unit re-issues it when it starts
    const io = memoryIo();
    assert.equal(await run(['check', '--root', server, '--now', '2026-11-23'], io), 2, io.out + io.err);
    assert.match(io.out, new RegExp(`^Next: ${distro} re-issues its certificates that expire within 120 days .* when it starts, with its CAs on this node: systemctl restart ${unitOf(distro, 'server')} `, 'm'));

    // the agent: no CA key here, its unit gets them from a server
    const a = memoryIo();
    assert.equal(await run(['check', '--root', agent, '--now', '2026-11-23'], a), 2, a.out + a.err);
    assert.match(a.out, new RegExp(`^Next: .*systemctl restart ${unitOf(distro, 'agent')}$`, 'm'));
    const agentInv = readInventory({ fs: new NodeFs(agent), now: NOW });
    assert.deepEqual(agentInv.certificates.filter((c) => !c.isCA).map((c) => c.name).sort(), ['client-kube-proxy', 'client-kubelet', `client-${distro}-controller`, 'serving-kubelet'].sort());
  });

  test(`${distro}: a leaf starts at its CA's notBefore (rancher/dynamiclistener's NewSignedCert), so notAfter − notBefore grows by a year at every start that re-issues it: renew gives it ${distro}'s year (it gave years: client-admin 2026-11-01 → 2029-07-25), and check --warn N% measures that year`, async () => {
    const root = tmpDir(`kubepki-${distro}-lifetime-`);
    await makeRancherServer(root, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED, issuedAt: { 'client-admin': new Date('2025-11-01T10:00:00Z') } });
    const tls = `${rancherDir(distro)}/server/tls`;
    const dry = memoryIo();
    assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-11-23', '--dry-run'], dry), 0, dry.out + dry.err);
    const year = new Date(NOW.getTime() + 365 * DAY).toISOString().slice(0, 10);
    const ends = [...dry.out.matchAll(/notAfter \S+ → (\S+);/g)].map((m) => m[1]);
    assert.ok(ends.length >= 15, dry.out);
    for (const e of ends) assert.equal(e, year, dry.out);
    assert.match(dry.out, new RegExp(`validity 1 year \\(${distro}'s, unless CATTLE_NEW_SIGNED_CERT_EXPIRATION_DAYS says otherwise\\): its notBefore is its CA's`));

    // written: openssl reads a year from now, and the chain still verifies
    const io = memoryIo();
    assert.equal(await run(['renew', 'client-admin', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
    const crt = path.join(root, tls, 'client-admin.crt');
    assert.equal(openssl(['x509', '-in', crt, '-noout', '-enddate']).stdout.trim(), 'notAfter=Nov 23 00:00:00 2027 GMT');
    assert.equal(openssl(['verify', '-attime', String(Date.parse('2026-11-24') / 1000), '-CAfile', path.join(root, tls, 'client-ca.crt'), crt]).status, 0);

    // 61 of 365 days left: 83% used. Against notBefore (2024-03-01) it read 94%, over a 90% threshold
    const leaves = (inv: Inventory) => inv.certificates.filter((c) => !c.isCA && c.name !== 'client-admin');
    const at90 = readInventory({ fs: new NodeFs(root), now: NOW, warn: '90%' });
    for (const c of leaves(at90)) assert.equal(c.status, 'ok', `${c.name}: ${JSON.stringify(c.findings)}`);
    const at80 = readInventory({ fs: new NodeFs(root), now: NOW, warn: '80%' });
    for (const c of leaves(at80)) assert.equal(c.status, 'warning', c.name);
  });

  test(`${distro}: who reads the copies a server keeps for its own agent counts (agent/client-kube-proxy.crt is the server's file as the supervisor hands it out, agent/client-ca.crt and server-ca.crt the CAs the kubelet and kube-proxy trust): client-kube-proxy was read by nobody`, async () => {
    const root = tmpDir(`kubepki-${distro}-readers-`);
    await makeRancherServer(root, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED });
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    const proxy = byName(inv, 'client-kube-proxy');
    assert.ok(proxy.copies?.some((l) => l.file === `${rancherDir(distro)}/agent/client-kube-proxy.crt`), 'the agent copy is the same certificate');
    assert.deepEqual(proxy.components, ['kube-proxy']);
    assert.deepEqual(byName(inv, `client-${distro}-controller`).components, [distro]);
    assert.ok(byName(inv, 'client-ca').components.includes('kubelet'), JSON.stringify(byName(inv, 'client-ca').components));
    for (const reader of ['kubelet', 'kube-proxy']) assert.ok(byName(inv, 'server-ca').components.includes(reader), reader);
  });

  test(`${distro}: inspect of a kubeconfig on a server (${distro}.yaml, server/cred/admin.kubeconfig) names its client certificate's CA client-ca, with its key on this node, and the server CA server-ca with its key; it said the CA was "client-admin#1" / "${distro}.yaml-chain-1", "no private key on this node (externally managed)", and server-ca "no private key found"`, async () => {
    const root = tmpDir(`kubepki-${distro}-inspect-`);
    await makeRancherServer(root, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED });
    const dir = rancherDir(distro);
    for (const file of [`/etc/rancher/${distro}/${distro}.yaml`, `${dir}/server/cred/admin.kubeconfig`]) {
      const io = memoryIo();
      assert.equal(await run(['inspect', file, '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 0, io.out + io.err);
      const inv = JSON.parse(io.out) as Inventory;
      const client = inv.certificates.find((c) => c.subjectCN === 'system:admin')!;
      assert.equal(client.signerName, 'client-ca', file);
      assert.equal(byName(inv, 'client-ca').privateKey.location?.file, `${dir}/server/tls/client-ca.key`);
      assert.equal(byName(inv, 'server-ca').privateKey.matches, true);
      assert.ok(!inv.findings.some((f) => f.code === 'ca-key-missing'), JSON.stringify(inv.findings));
    }
    // a leaf of the etcd CA: named as check names it
    const io = memoryIo();
    assert.equal(await run(['inspect', `${dir}/server/tls/etcd/client.crt`, '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 0, io.out + io.err);
    const inv = JSON.parse(io.out) as Inventory;
    assert.deepEqual(inv.certificates.map((c) => c.name), ['etcd/client', 'etcd/server-ca']);
  });

  test(`${distro}: its CAs are the datastore's (k3s docs: "You must not overwrite the currently in-use data in server/tls"): renew refuses to write one in place, which stops the server at its next start ("… newer than datastore and could cause a cluster outage"), and check's Next and the expired-CA finding name ${distro} certificate rotate-ca, not kubepki renew`, async () => {
    const root = tmpDir(`kubepki-${distro}-ca-`);
    // the CAs end 2034-02-27; the leaves were re-issued at a start on 2033-12-01 and outlive them
    await makeRancherServer(root, { distro, caIssued: CA_ISSUED, leavesIssued: new Date('2033-12-01T00:00:00Z') });
    const caFile = path.join(root, rancherDir(distro), 'server/tls/client-ca.crt');
    const before = fs.readFileSync(caFile);
    const mtime = fs.statSync(caFile).mtimeMs;
    const rotate = `${distro} certificate rotate-ca --path=DIR, then systemctl restart ${unitOf(distro, 'server')} on every server`;

    const check = memoryIo();
    await run(['check', '--root', root, '--now', '2034-02-10'], check);
    const next = /^Next: (.*)$/m.exec(check.out)?.[1] ?? '';
    assert.ok(next.startsWith('client-ca, etcd/peer-ca, etcd/server-ca, request-header-ca, server-ca: they are'), next);
    assert.ok(next.includes(rotate), next);
    assert.doesNotMatch(next, /kubepki renew/);

    for (const args of [['client-ca'], ['all']]) {
      const io = memoryIo();
      assert.equal(await run(['renew', ...args, '--root', root, '--now', '2034-02-10'], io), 1, io.out + io.err);
      assert.match(io.out, new RegExp(`^ {2}client-ca: can't renew /var/lib/rancher/${distro}/server/tls/client-ca\\.crt in place: it is ${distro}'s CA, which ${distro} keeps in its datastore`, 'm'));
      assert.ok(io.out.includes(rotate), io.out);
      assert.doesNotMatch(io.out, new RegExp(`write {3}/var/lib/rancher/${distro}/server/tls/(client|server|request-header)-ca\\.crt`));
      assert.deepEqual(fs.readFileSync(caFile), before);
      assert.equal(fs.statSync(caFile).mtimeMs, mtime, 'not even rewritten with the same bytes');
    }
    // once it has expired, what its leaves' finding says to do
    const inv = readInventory({ fs: new NodeFs(root), now: new Date('2034-03-10T00:00:00Z') });
    const f = byName(inv, 'client-kube-apiserver').findings.find((x) => x.code === 'ca-expires-before-leaf');
    assert.ok(f?.message.includes(rotate), JSON.stringify(f));
    assert.doesNotMatch(f!.message, /kubepki renew client-ca/);
  });
}

test('inspect of kubeadm\'s admin.conf finds ca.key in the PKI for its CA: it said "ca: no private key on this node (externally managed)"', async () => {
  const root = copyFixture('kubeadm-1.26');
  assert.ok(fs.existsSync(path.join(root, 'etc/kubernetes/pki/ca.key')));
  const io = memoryIo();
  await run(['inspect', '/etc/kubernetes/admin.conf', '--root', root, '--now', '2026-11-23', '-o', 'json'], io);
  const inv = JSON.parse(io.out) as Inventory;
  assert.equal(byName(inv, 'ca').privateKey.location?.file, '/etc/kubernetes/pki/ca.key');
  assert.ok(!inv.findings.some((f) => f.code === 'ca-key-missing'), JSON.stringify(inv.findings));
});

test('k3s and RKE2 servers of an HA control plane run their etcd member inside the unit: the restart renew asks for (systemctl restart k3s / rke2-server) says to restart one server at a time and how to see every member healthy, as kubeadm\'s etcd restart does; it said nothing, and restarting every server at once loses quorum', async () => {
  for (const distro of ['k3s', 'rke2'] as const) {
    const root = tmpDir(`kubepki-${distro}-ha-`);
    await makeRancherServer(root, { distro, caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED });
    const dir = rancherDir(distro);
    const config = path.join(root, dir, 'server/db/etcd/config');
    const single = memoryIo();
    assert.equal(await run(['renew', 'etcd/peer-server-client', '--root', root, '--now', '2026-11-23', '--dry-run'], single), 0, single.out + single.err);
    assert.doesNotMatch(single.out, /one at a time|members/, 'a lone member has no quorum to keep');
    // the config a server that joined writes: every member in initial-cluster
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/^initial-cluster: .*$/m, `initial-cluster: ${distro}-server-1-0a1b2c3d=https://192.0.2.10:2380,${distro}-server-2-1b2c3d4e=https://192.0.2.11:2380,${distro}-server-3-2c3d4e5f=https://192.0.2.12:2380`));
    for (const name of ['etcd/peer-server-client', 'client-admin']) {
      const io = memoryIo();
      assert.equal(await run(['renew', name, '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
      assert.match(io.out, new RegExp(`^ {4}systemctl restart ${unitOf(distro, 'server')}\\n {4}\\(this etcd is one of 3 members \\(${distro}-server-1-0a1b2c3d, ${distro}-server-2-1b2c3d4e, ${distro}-server-3-2c3d4e5f\\): restart etcd on one member's node at a time, and before the next node wait until every member is healthy \\(etcdctl --endpoints https://127\\.0\\.0\\.1:2379 --cacert ${dir}/server/tls/etcd/server-ca\\.crt --cert ${dir}/server/tls/etcd/client\\.crt --key ${dir}/server/tls/etcd/client\\.key endpoint health --cluster\\)`, 'm'), `${distro} ${name}:\n${io.out}`);
    }
  }
});

test('k3s: the etcdctl command of that advice reaches a real etcd serving k3s\'s etcd/server-client with client-certificate auth (the client pair and CA it names are the right ones)', { skip: !(fs.existsSync('/usr/bin/etcd') && fs.existsSync('/usr/bin/etcdctl')) && 'etcd/etcdctl not installed', timeout: 60_000 }, async () => {
  const root = tmpDir('kubepki-k3s-etcdctl-');
  await makeRancherServer(root, { distro: 'k3s', caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED });
  const tls = path.join(root, rancherDir('k3s'), 'server/tls/etcd');
  const config = path.join(root, rancherDir('k3s'), 'server/db/etcd/config');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/^initial-cluster: .*$/m, 'initial-cluster: a=https://192.0.2.10:2380,b=https://192.0.2.11:2380,c=https://192.0.2.12:2380'));
  const io = memoryIo();
  assert.equal(await run(['renew', 'etcd/server-client', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  const cmd = /\((etcdctl [^)]*endpoint health --cluster)\)/.exec(io.out)?.[1];
  assert.ok(cmd, io.out);
  const etcd = await servingEtcd(path.join(tls, 'server-client.crt'), path.join(tls, 'server-client.key'), ['--client-cert-auth', '--trusted-ca-file', path.join(tls, 'server-ca.crt')]);
  try {
    // (as printed, with the tree's files and this etcd's port; --cluster asks the member list, here this one member)
    const args = cmd.split(' ').slice(1).map((a) => a.replace('https://127.0.0.1:2379', `https://127.0.0.1:${etcd.port}`).replace(`${rancherDir('k3s')}/`, `${root}${rancherDir('k3s')}/`));
    const r = spawnSync('etcdctl', args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /is healthy/);
  } finally {
    await etcd.stop();
  }
});

test('k3s: the key of a client certificate a kubeconfig names by file (client-admin.key through k3s\'s admin kubeconfig) is located as the PEM file it is; check -o json said field "client-key", a kubeconfig field, on it', async () => {
  const root = tmpDir('kubepki-k3s-keyfield-');
  await makeRancherServer(root, { distro: 'k3s', caIssued: CA_ISSUED, leavesIssued: LEAVES_ISSUED });
  const io = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], io);
  const inv = JSON.parse(io.out) as Inventory;
  assert.deepEqual(byName(inv, 'client-admin').privateKey.location, { file: '/var/lib/rancher/k3s/server/tls/client-admin.key', kind: 'pem' });
  for (const c of inv.certificates) {
    const l = c.privateKey.location;
    if (l?.field) assert.equal(l.kind, 'kubeconfig', `${c.name}: ${JSON.stringify(l)}`);
  }
});
