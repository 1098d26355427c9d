// A minikube node (its VM or kic container) laid out as minikube makes it (test/support/installer-trees.ts): kubeadm
// with certificatesDir /var/lib/minikube/certs, found as kubeadm through the apiserver manifest, plus the files the
// host's `minikube start` copies over that directory, which check says are minikube's and renew leaves to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { detectLayouts, kubeadmPkiDir } from '../src/layouts/detect.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { openssl, tmpDir } from './support/fixtures.js';
import { makeOpensslHaTrees } from './support/openssl-kubeadm.js';
import { makeMinikubeNode, MINIKUBE_CERTS } from './support/installer-trees.js';
import { byName } from './support/by-name.js';

const DAY = 86400_000;
// (openssl makes kubeadm's CAs from the machine's clock: the dates here are counted from it)
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const epoch = (ms: number) => String(Math.floor(ms / 1000));


/** kubeadm's leaves made 30 days ago (335 days left); the host's apiserver.crt and proxy-client.crt 3 years less 10 days ago. */
const node = (prefix: string) => makeMinikubeNode(tmpDir(prefix), { kubeadmIssued: new Date(now - 30 * DAY), hostIssued: new Date(now - 1085 * DAY) });

test('minikube node: found without --path (kubeadm, through the manifest\'s --client-ca-file, and minikube by /var/lib/minikube/certs), every file named as kubeadm names it, openssl agreeing; what the host copies over it is RENEWED BY minikube, kubeadm\'s own stay kubeadm\'s', async () => {
  const root = node('kubepki-minikube-');
  const nfs = new NodeFs(root);
  assert.deepEqual(detectLayouts(nfs), ['kubeadm', 'kubelet', 'minikube']);
  assert.equal(kubeadmPkiDir(nfs), MINIKUBE_CERTS);
  const inv = readInventory({ fs: nfs, now: new Date(now) });
  const certs = path.join(root, MINIKUBE_CERTS);
  // (minikube's four; kubeadm's leaves, CAs and kubeconfigs as on any kubeadm node, nothing missing)
  for (const [name, file, signer] of [['ca', 'ca.crt', 'ca'], ['proxy-client-ca', 'proxy-client-ca.crt', 'proxy-client-ca'], ['apiserver', 'apiserver.crt', 'ca'], ['proxy-client', 'proxy-client.crt', 'proxy-client-ca']] as const) {
    const c = byName(inv, name);
    assert.equal(c.location.file, `${MINIKUBE_CERTS}/${file}`);
    assert.equal(c.managedBy, 'minikube', name);
    assert.equal(c.signerName, signer, name);
    assert.equal(c.privateKey.matches, true, name);
  }
  assert.equal(byName(inv, 'apiserver').subjectCN, 'minikube');
  assert.deepEqual(byName(inv, 'apiserver').components, ['kube-apiserver']);
  for (const name of ['apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    assert.equal(byName(inv, name).managedBy, 'kubeadm', name);
    assert.equal(byName(inv, name).status, 'ok', name);
  }
  for (const ca of ['etcd-ca', 'front-proxy-ca']) assert.equal(byName(inv, ca).managedBy, 'manual', ca);
  assert.equal(byName(inv, 'front-proxy-client').location.file, `${MINIKUBE_CERTS}/front-proxy-client.crt`);
  assert.deepEqual(inv.findings.filter((f) => f.severity === 'error'), []);
  // (the kubeconfig minikube writes for its own kubectl names apiserver.crt: read, and no second row for it)
  assert.ok(inv.kubeconfigs.some((k) => k.file === '/var/lib/minikube/kubeconfig'), JSON.stringify(inv.kubeconfigs.map((k) => k.file)));
  assert.equal(inv.certificates.filter((c) => c.name.startsWith('apiserver') && c.subjectCN === 'minikube').length, 1);

  assert.match(openssl(['x509', '-in', `${certs}/apiserver.crt`, '-noout', '-subject']).stdout, /O ?= ?system:masters, CN ?= ?minikube/);
  assert.equal(new Date(openssl(['x509', '-in', `${certs}/apiserver.crt`, '-noout', '-enddate']).stdout.trim().replace('notAfter=', '')).toISOString(), byName(inv, 'apiserver').notAfter);
  for (const [leaf, ca] of [['apiserver', 'ca'], ['proxy-client', 'proxy-client-ca'], ['front-proxy-client', 'front-proxy-ca'], ['apiserver-kubelet-client', 'ca']]) {
    const v = openssl(['verify', '-CAfile', `${certs}/${ca}.crt`, `${certs}/${leaf}.crt`]);
    assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
  }
});

test('minikube node whose host-made apiserver.crt and proxy-client.crt end in 10 days: check warns (exit 1) and its Next and findings say the host\'s minikube start copies them over, with the command that makes them again; renew leaves them as they are', async () => {
  const root = node('kubepki-minikube-due-');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root], io), 1, io.out + io.err);
  assert.match(io.out, /^apiserver +\S+ \d+, \d+ [\d:]+ UTC +9d +ca +no +warning +minikube +\/var\/lib\/minikube\/certs\/apiserver\.crt$/m);
  const next = /^Next: (.*)$/m.exec(io.out)?.[1] ?? '';
  assert.match(next, /^apiserver: minikube copies ~\/\.minikube\/profiles\/PROFILE\/apiserver\.crt from the host over it at every start \(a renewal here is undone there\) and makes that again, with a new key, for --cert-expiration \(3 years by default\) once it has expired or is missing: on the host, rm ~\/\.minikube\/profiles\/PROFILE\/apiserver\.crt\* && minikube start -p PROFILE; proxy-client: .*rm ~\/\.minikube\/profiles\/PROFILE\/proxy-client\.crt\* && minikube start -p PROFILE$/);
  assert.doesNotMatch(next, /kubepki renew/);
  const json = memoryIo();
  assert.equal(await run(['check', '--root', root, '-o', 'json'], json), 1);
  const warning = byName(JSON.parse(json.out) as Inventory, 'apiserver').findings.find((f) => f.code === 'expiring');
  assert.ok(warning?.message.endsWith('minikube start -p PROFILE'), JSON.stringify(warning));

  const crt = path.join(root, MINIKUBE_CERTS, 'apiserver.crt');
  const before = fs.readFileSync(crt);
  const r = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root], r), 1, r.out + r.err);
  assert.match(r.out, /apiserver: not renewed here: minikube copies ~\/\.minikube\/profiles\/PROFILE\/apiserver\.crt from the host over it at every start/);
  assert.deepEqual(fs.readFileSync(crt), before);
});

test('minikube node a year on: renew all renews kubeadm\'s certificates in place (minikube start keeps them; openssl verifies them with the same CAs) and says why the host\'s copies are left, which stay byte for byte', async () => {
  const root = node('kubepki-minikube-renew-');
  const at = now + 340 * DAY; // kubeadm's leaves ended 5 days before, the host's 330 days before
  const certs = path.join(root, MINIKUBE_CERTS);
  const kept = Object.fromEntries(['apiserver.crt', 'proxy-client.crt', 'ca.crt', 'proxy-client-ca.crt'].map((f) => [f, fs.readFileSync(path.join(certs, f))]));
  const spki = (f: string) => openssl(['x509', '-in', path.join(certs, f), '-noout', '-pubkey']).stdout;
  const key = spki('apiserver-kubelet-client.crt');
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', iso(at)], io), 1, io.out + io.err);
  assert.match(io.out, /apiserver: not renewed here: minikube copies/);
  assert.match(io.out, /proxy-client: not renewed here: minikube copies/);
  for (const [f, b] of Object.entries(kept)) assert.deepEqual(fs.readFileSync(path.join(certs, f)), b, f);
  assert.equal(spki('apiserver-kubelet-client.crt'), key);
  for (const [leaf, ca] of [['apiserver-kubelet-client', 'ca'], ['front-proxy-client', 'front-proxy-ca'], ['apiserver-etcd-client', 'etcd/ca'], ['etcd/server', 'etcd/ca']]) {
    const v = openssl(['verify', '-attime', epoch(at + DAY), '-CAfile', `${certs}/${ca}.crt`, `${certs}/${leaf}.crt`]);
    assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
    assert.ok(Date.parse(openssl(['x509', '-in', `${certs}/${leaf}.crt`, '-noout', '-enddate']).stdout.trim().replace('notAfter=', '')) > at + 300 * DAY, leaf);
  }
  // afterwards only the host's two are due, as check says
  const after = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', iso(at)], after), 2, after.out + after.err);
  assert.match(after.out, /^Next: apiserver: minikube copies .*; proxy-client: minikube copies .*$/m);
});

test('a plain kubeadm node is no minikube node and no kops instance: one lookup each, neither detected, no certificate theirs', () => {
  const [n] = makeOpensslHaTrees(tmpDir('kubepki-minikube-none-'), { count: 1 });
  const nfs = new NodeFs(n!.root);
  assert.deepEqual(detectLayouts(nfs), ['kubeadm', 'kubelet']);
  const inv = readInventory({ fs: nfs, now: new Date(now) });
  assert.ok(inv.certificates.every((c) => c.managedBy !== 'minikube' && c.managedBy !== 'kops'));
  assert.equal(byName(inv, 'apiserver').managedBy, 'kubeadm');
  // (nor is one whose certificatesDir is under /srv/kubernetes, as nodeup's directory is: no file of nodeup's there)
  fs.mkdirSync(path.join(n!.root, 'srv/kubernetes'), { recursive: true });
  fs.renameSync(path.join(n!.root, 'etc/kubernetes/pki'), path.join(n!.root, 'srv/kubernetes/pki'));
  assert.deepEqual(detectLayouts(new NodeFs(n!.root)), ['kubeadm', 'kubelet']);
});

test('inspect of a file minikube copies from the host names it as check does, RENEWED BY minikube with the host command (was: RENEWED BY kubeadm, whose renewal the next minikube start undoes); kubeadm\'s own stay kubeadm\'s', async () => {
  const root = node('kubepki-minikube-inspect-');
  const inspect = async (file: string) => {
    const io = memoryIo();
    await run(['inspect', file, '--root', root, '-o', 'json'], io);
    return (JSON.parse(io.out) as Inventory).certificates.find((x) => x.location.file === file)!;
  };
  const api = await inspect(`${MINIKUBE_CERTS}/apiserver.crt`);
  assert.equal(api.name, 'apiserver');
  assert.equal(api.managedBy, 'minikube');
  assert.ok(api.findings.some((f) => f.code === 'expiring' && f.message.endsWith('rm ~/.minikube/profiles/PROFILE/apiserver.crt* && minikube start -p PROFILE')), JSON.stringify(api.findings));
  assert.equal((await inspect(`${MINIKUBE_CERTS}/ca.crt`)).managedBy, 'minikube');
  const kubeadms = await inspect(`${MINIKUBE_CERTS}/apiserver-kubelet-client.crt`);
  assert.equal(kubeadms.name, 'apiserver-kubelet-client');
  assert.equal(kubeadms.managedBy, 'kubeadm');
});
