// kops instances laid out as nodeup writes them (test/support/installer-trees.ts makeKopsControlPlane), read by check
// without --path, named by kops's keysets and kubeadm's names, and advised in kops's terms: a new instance renews
// what nodeup issued, the state store's keypair rotation renews a CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { detectLayouts } from '../src/layouts/detect.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { openssl, tmpDir } from './support/fixtures.js';
import { makeKopsControlPlane } from './support/installer-trees.js';
import { byName } from './support/by-name.js';

const DAY = 86400_000;
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const epoch = (ms: number) => String(Math.floor(ms / 1000));


/** A control-plane instance provisioned 460 days ago: its 470-day leaves end in 10 days. */
function controlPlane(prefix: string): string {
  const root = tmpDir(prefix);
  makeKopsControlPlane(root, { casIssued: new Date(now - 800 * DAY), provisioned: new Date(now - 460 * DAY) });
  return root;
}

test('kops control plane: detected by /srv/kubernetes (its /etc/kubernetes/pki of etcd-manager CAs is no kubeadm\'s), every file named (CAs by keyset, kube-apiserver\'s as kubeadm names them), signed and read as nodeup wrote them, openssl agreeing; RENEWED BY kops', () => {
  const root = controlPlane('kubepki-kops-');
  const nfs = new NodeFs(root);
  assert.deepEqual(detectLayouts(nfs), ['kops']);
  const inv = readInventory({ fs: nfs, now: new Date(now) });
  const signers: Record<string, string> = {
    apiserver: 'kubernetes-ca', 'kubelet-api': 'kubernetes-ca', 'apiserver-etcd-client': 'etcd-clients-ca', 'apiserver-aggregator': 'apiserver-aggregator-ca',
    'kube-controller-manager/server': 'kubernetes-ca', 'kube-scheduler/server': 'kubernetes-ca', 'kubelet-server': 'kubernetes-ca',
    'kubelet/kubeconfig': 'kubernetes-ca', 'kube-proxy/kubeconfig': 'kubernetes-ca', 'kube-controller-manager/kubeconfig': 'kubernetes-ca', 'kube-scheduler/kubeconfig': 'kubernetes-ca',
  };
  for (const [name, ca] of Object.entries(signers)) {
    const c = byName(inv, name);
    assert.equal(c.signerName, ca, name);
    assert.equal(c.managedBy, 'kops', name);
    assert.equal(c.status, 'warning', name);
    assert.equal(c.privateKey.matches, true, name);
  }
  assert.equal(byName(inv, 'apiserver').location.file, '/srv/kubernetes/kube-apiserver/server.crt');
  assert.equal(byName(inv, 'apiserver').subjectCN, 'kubernetes-master');
  for (const [name, readers] of [['apiserver', ['kube-apiserver']], ['apiserver-etcd-client', ['kube-apiserver']], ['kube-scheduler/kubeconfig', ['kube-scheduler']]] as const) {
    assert.deepEqual(byName(inv, name).components, readers, name);
  }
  // the state store's CAs, as nodeup writes them (etcd-clients-ca once, its copies in etcd-manager-main and -events)
  for (const ca of ['kubernetes-ca', 'etcd-clients-ca', 'apiserver-aggregator-ca', 'etcd-manager-ca-main', 'etcd-peers-ca-main', 'etcd-manager-ca-events', 'etcd-peers-ca-events']) {
    assert.equal(byName(inv, ca).managedBy, 'kops', ca);
    assert.equal(byName(inv, ca).status, 'ok', ca);
  }
  assert.ok(byName(inv, 'etcd-clients-ca').copies?.some((l) => l.file === '/etc/kubernetes/pki/etcd-manager-main/etcd-clients-ca.crt'));
  // (kube-controller-manager signs with kubernetes-ca's key; the aggregator CA's key stays in the state store)
  assert.equal(byName(inv, 'kubernetes-ca').privateKey.present, true);
  assert.equal(byName(inv, 'apiserver-aggregator-ca').privateKey.present, false);
  assert.ok(inv.certificates.every((c) => c.layout === 'kops'), inv.certificates.map((c) => `${c.name}:${c.layout}`).join(' '));

  const srv = path.join(root, 'srv/kubernetes');
  for (const [leaf, ca] of [['kube-apiserver/server', 'ca'], ['kube-apiserver/kubelet-api', 'ca'], ['kube-apiserver/etcd-client', 'kube-apiserver/etcd-ca'], ['kube-apiserver/apiserver-aggregator', 'kube-apiserver/apiserver-aggregator-ca'], ['kubelet-server', 'ca']]) {
    const v = openssl(['verify', '-CAfile', `${srv}/${ca}.crt`, `${srv}/${leaf}.crt`]);
    assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
  }
  assert.equal(new Date(openssl(['x509', '-in', `${srv}/kube-apiserver/server.crt`, '-noout', '-enddate']).stdout.trim().replace('notAfter=', '')).toISOString(), byName(inv, 'apiserver').notAfter);
});

test('kops control plane with 10 days left: check warns (exit 1), its Next and findings say to replace the instance group\'s instances with kops; renew keeps a leaf\'s key in place (openssl verifies it) and restarts kube-apiserver by its .manifest, but leaves the state store\'s CAs to kops', async () => {
  const root = controlPlane('kubepki-kops-due-');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root], io), 1, io.out + io.err);
  assert.match(io.out, /^apiserver +.* +9d +kubernetes-ca +no +warning +kops +\/srv\/kubernetes\/kube-apiserver\/server\.crt$/m);
  const next = /^Next: (.*)$/m.exec(io.out)?.[1] ?? '';
  assert.match(next, /^apiserver, apiserver-aggregator, apiserver-etcd-client and 8 more: kops issues them again \(a new key, valid 455 days\) only on an instance it provisions: from where kops runs, kops rolling-update cluster --instance-group-roles=control-plane --force --yes \(kubepki renew here lasts until then\)$/);
  const json = memoryIo();
  assert.equal(await run(['check', '--root', root, '-o', 'json'], json), 1);
  // (the kubelet's files on a control plane are renewed with it: the same instance group)
  const kubelet = byName(JSON.parse(json.out) as Inventory, 'kubelet-server').findings.find((f) => f.code === 'expiring');
  assert.ok(kubelet?.message.includes('--instance-group-roles=control-plane --force --yes'), JSON.stringify(kubelet));

  const srv = path.join(root, 'srv/kubernetes');
  const crt = `${srv}/kube-apiserver/server.crt`;
  const spki = () => openssl(['x509', '-in', crt, '-noout', '-pubkey']).stdout;
  const key = spki();
  const dry = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root, '--dry-run'], dry), 0, dry.out + dry.err);
  assert.match(dry.out, /mv \/etc\/kubernetes\/manifests\/kube-apiserver\.manifest \/etc\/kubernetes\/kube-apiserver\.manifest\.kubepki-parked/);
  const r = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root], r), 0, r.out + r.err);
  assert.equal(spki(), key);
  assert.equal(openssl(['verify', '-attime', epoch(now + 30 * DAY), '-CAfile', `${srv}/ca.crt`, crt]).status, 0);
  assert.match(openssl(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']).stdout, /api\.internal\.k\.example\.com/);
  assert.ok(Date.parse(openssl(['x509', '-in', crt, '-noout', '-enddate']).stdout.trim().replace('notAfter=', '')) > now + 300 * DAY);

  // a CA is the state store's: not written here, the rotation kops documents named
  const before = fs.readFileSync(`${srv}/ca.crt`);
  const ca = memoryIo();
  assert.equal(await run(['renew', 'kubernetes-ca', '--root', root, '--now', iso(now + 3000 * DAY)], ca), 1, ca.out + ca.err);
  assert.match(ca.out, /kubernetes-ca: not renewed here: kops keeps this CA in its state store .*kops create keypair kubernetes-ca, kops update cluster --yes, kops rolling-update cluster --yes, then kops promote keypair kubernetes-ca/);
  assert.deepEqual(fs.readFileSync(`${srv}/ca.crt`), before);
});

test('kops worker (kops-controller\'s credentials, no CA key): its Next names its instance group; renew cannot sign here', async () => {
  const root = controlPlane('kubepki-kops-worker-');
  // a worker keeps /srv/kubernetes/ca.crt, its kubelet's serving pair and the kubeconfigs of the kubelet and kube-proxy
  for (const d of ['srv/kubernetes/kube-apiserver', 'srv/kubernetes/kube-controller-manager', 'srv/kubernetes/kube-scheduler', 'etc/kubernetes', 'var/lib/kube-controller-manager', 'var/lib/kube-scheduler']) {
    fs.rmSync(path.join(root, d), { recursive: true });
  }
  const nfs = new NodeFs(root);
  assert.deepEqual(detectLayouts(nfs), ['kops']);
  const inv = readInventory({ fs: nfs, now: new Date(now) });
  assert.deepEqual(inv.certificates.map((c) => c.name).sort(), ['kube-proxy/kubeconfig', 'kubelet-server', 'kubelet/kubeconfig', 'kubernetes-ca']);
  // (known by nodeup's /opt/kops, or by its kubelet-server.crt, beside /srv/kubernetes)
  fs.rmSync(path.join(root, 'opt'), { recursive: true });
  assert.deepEqual(detectLayouts(new NodeFs(root)), ['kops']);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root], io), 1, io.out + io.err);
  assert.match(io.out, /^Next: kube-proxy\/kubeconfig, kubelet-server, kubelet\/kubeconfig: kops issues them again \(a new key, valid 455 days\) only on an instance it provisions: from where kops runs, kops rolling-update cluster --instance-group IG \(this node's instance group\) --force --yes$/m);
  const before = fs.readFileSync(path.join(root, 'srv/kubernetes/kubelet-server.crt'));
  const r = memoryIo();
  assert.notEqual(await run(['renew', 'kubelet-server', '--root', root], r), 0, r.out + r.err);
  assert.match(r.out + r.err, /the key of CA kubernetes-ca is missing/);
  assert.deepEqual(fs.readFileSync(path.join(root, 'srv/kubernetes/kubelet-server.crt')), before);
});

test('inspect of a kops file names it as check does, with check\'s RENEWED BY and kops\'s advice (was: kube-apiserver/server, etcd-client, ca, RENEWED BY manual)', async () => {
  const root = controlPlane('kubepki-kops-inspect-');
  const checked = readInventory({ fs: new NodeFs(root), now: new Date(now) });
  for (const file of ['/srv/kubernetes/kube-apiserver/server.crt', '/srv/kubernetes/kube-apiserver/etcd-client.crt', '/srv/kubernetes/ca.crt', '/etc/kubernetes/pki/etcd-manager-main/etcd-peers-ca.crt', '/srv/kubernetes/kubelet-server.crt']) {
    const io = memoryIo();
    await run(['inspect', file, '--root', root, '-o', 'json'], io);
    const c = (JSON.parse(io.out) as Inventory).certificates.find((x) => x.location.file === file && x.location.index === 0);
    const inCheck = checked.certificates.find((x) => x.location.file === file && x.location.index === 0)!;
    assert.equal(c?.name, inCheck.name, `${file}: ${io.err}`);
    assert.equal(c.managedBy, 'kops', file);
  }
  const io = memoryIo();
  assert.equal(await run(['inspect', '/srv/kubernetes/kube-apiserver/server.crt', '--root', root], io), 1, io.out + io.err);
  assert.match(io.out, /kops issues it again \(a new key, valid 455 days\) only on an instance it provisions: from where kops runs, kops rolling-update cluster --instance-group-roles=control-plane --force --yes/);
});
