// k0s controllers and MicroK8s nodes laid out as those installers make them (test/support/installer-trees.ts), read
// by check without --path, named, verified and advised in the installer's own terms; renew as each installer allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { detectLayouts } from '../src/layouts/detect.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { NOW, openssl, tmpDir } from './support/fixtures.js';
import { K0S_PKI, makeK0sController, makeMicroK8s } from './support/installer-trees.js';
import { byName } from './support/by-name.js';



const epoch = (d: string) => String(Math.floor(Date.parse(d) / 1000));

test('k0s controller: detected by /var/lib/k0s, every certificate named and signed as k0s makes it, openssl agreeing; k0s re-signs its leaves at every controller start, so check advises systemctl restart k0scontroller and renew leaves them alone, while its CAs, which k0s never renews, renew in place', async () => {
  const root = tmpDir('kubepki-k0s-');
  // the CAs from 2024-03-01; the controller last started on 2025-11-30, so its leaves end on 2026-11-30 (7 days after NOW)
  makeK0sController(root, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  const nfs = new NodeFs(root);
  assert.deepEqual(detectLayouts(nfs), ['k0s']);
  const inv = readInventory({ fs: nfs, now: NOW });

  const signers: Record<string, string> = {
    apiserver: 'ca', 'k0s-api': 'ca', admin: 'ca', ccm: 'ca', scheduler: 'ca', konnectivity: 'ca', 'apiserver-kubelet-client': 'ca',
    'front-proxy-client': 'front-proxy-ca', 'apiserver-etcd-client': 'etcd/ca', 'etcd/server': 'etcd/ca', 'etcd/peer': 'etcd/ca',
  };
  for (const [name, ca] of Object.entries(signers)) {
    const c = byName(inv, name);
    assert.equal(c.signerName, ca, name);
    assert.equal(c.managedBy, 'k0s', name);
    assert.equal(c.privateKey.matches, true, `${name} key`);
    assert.equal(c.status, 'warning', name);
  }
  assert.equal(byName(inv, 'apiserver').location.file, `${K0S_PKI}/server.crt`);
  assert.deepEqual(byName(inv, 'apiserver').components, ['kube-apiserver']);
  assert.deepEqual(byName(inv, 'etcd/peer').components, ['etcd']);
  for (const ca of ['ca', 'front-proxy-ca', 'etcd/ca']) {
    assert.equal(byName(inv, ca).managedBy, 'manual', `${ca}: k0s never renews its CAs`);
    assert.equal(byName(inv, ca).status, 'ok', ca);
  }
  // the kubelet of a controller with --enable-worker rotates its own, under k0s's data directory
  const kubelet = inv.certificates.find((c) => c.location.file.startsWith('/var/lib/k0s/kubelet/pki/') && !c.isCA);
  assert.ok(kubelet, inv.certificates.map((c) => c.location.file).join(' '));
  assert.equal(kubelet.managedBy, 'kubelet');
  assert.equal(kubelet.signerName, 'ca');
  // each kubeconfig k0s writes embeds its pair: one certificate, its copy in the .conf
  assert.ok(byName(inv, 'admin').copies?.some((l) => l.file === `${K0S_PKI}/admin.conf`) || byName(inv, 'admin').location.file === `${K0S_PKI}/admin.conf`);
  assert.equal(inv.findings.filter((f) => f.severity === 'error').length, 0, JSON.stringify(inv.findings));

  // openssl reads the same subject and end, and verifies the chains kubepki found
  const pki = path.join(root, K0S_PKI);
  // (RFC 2253 writes the name last attribute first: kubepki writes it in its order, O then CN, as cfssl's Go encodes it)
  assert.equal(openssl(['x509', '-in', `${pki}/server.crt`, '-noout', '-subject', '-nameopt', 'RFC2253']).stdout.trim(), `subject=${byName(inv, 'apiserver').subject.split(', ').reverse().join(',')}`);
  assert.equal(new Date(openssl(['x509', '-in', `${pki}/etcd/peer.crt`, '-noout', '-enddate']).stdout.trim().replace('notAfter=', '')).toISOString(), byName(inv, 'etcd/peer').notAfter);
  for (const [name, ca] of Object.entries(signers)) {
    const file = byName(inv, name).location.file.endsWith('.conf') ? `${K0S_PKI}/${name}.crt` : byName(inv, name).location.file;
    const v = openssl(['verify', '-attime', epoch('2026-06-01'), '-CAfile', `${pki}/${ca}.crt`, path.join(root, file)]);
    assert.equal(v.status, 0, `${name}: ${v.stdout}${v.stderr}`);
  }

  // 7 days left: check warns (exit 1), and says what k0s does about it
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 1, io.out + io.err);
  assert.match(io.out, /^Next: admin, apiserver, apiserver-etcd-client and 8 more: k0s signs them again \(a new key, valid 1 year\) at every start of its controller: systemctl restart k0scontroller \(one controller at a time\)$/m);
  assert.doesNotMatch(/^Next: (.*)$/m.exec(io.out)![1]!, /kubepki renew/);
  // expired a week later: exit 2, and the finding says the same
  const late = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-12-07', '-o', 'json'], late), 2, late.out + late.err);
  const expired = byName(JSON.parse(late.out) as Inventory, 'apiserver').findings.find((f) => f.code === 'expired');
  assert.ok(expired?.message.includes('systemctl restart k0scontroller'), JSON.stringify(expired));

  // renew: a leaf written here is replaced by the restart that would load it, so it is not written
  const before = fs.readFileSync(`${pki}/server.crt`);
  const r = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root, '--now', '2026-12-07'], r), 1, r.out + r.err);
  assert.match(r.out, /apiserver: not renewed here: k0s signs it again .*systemctl restart k0scontroller/);
  assert.deepEqual(fs.readFileSync(`${pki}/server.crt`), before);
  // its CA (ten years, which k0s leaves as they are) renews in place, keeping its key; k0scontroller reads it
  const ca = memoryIo();
  assert.equal(await run(['renew', 'ca', '--root', root, '--now', '2033-12-01', '--dry-run'], ca), 0, ca.out + ca.err);
  assert.match(ca.out, /systemctl restart k0scontroller/);
  // the kubelet of a controller with --enable-worker runs in the controller's unit: no kubelet unit to restart there
  const kc = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', '2026-12-07', '--dry-run'], kc), 0, kc.out + kc.err);
  assert.match(kc.out, /^Restart afterwards:\n {2}k0scontroller \(systemd unit k0scontroller; reads [^)]*\/var\/lib\/k0s\/kubelet\/pki\/kubelet-client-current\.pem\)\n {4}systemctl restart k0scontroller$/m);
  assert.doesNotMatch(kc.out, /systemctl restart kubelet/);
});

for (const absoluteCurrent of [false, true]) {
  test(`MicroK8s node (${absoluteCurrent ? 'an absolute' : 'snapd\'s relative'} current link): detected by /var/snap/microk8s/current, read in the revision it points at, server.crt named apiserver; server.crt and front-proxy-client.crt expire after 365 days and check advises microk8s refresh-certs --cert for each, openssl agreeing on the chains`, async () => {
    const root = tmpDir('kubepki-microk8s-');
    // installed 2024-02-01; server.crt and front-proxy-client.crt made again on 2025-11-20 (an address change): they end 2026-11-20
    const { data } = makeMicroK8s(root, { installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2025-11-20T12:00:00Z'), x509Credentials: true, absoluteCurrent });
    const nfs = new NodeFs(root);
    assert.deepEqual(detectLayouts(nfs), ['microk8s']);
    const inv = readInventory({ fs: nfs, now: NOW });
    const server = byName(inv, 'apiserver');
    assert.equal(server.location.file, `${data}/certs/server.crt`);
    assert.equal(server.signerName, 'ca');
    assert.equal(server.managedBy, 'microk8s');
    assert.equal(server.status, 'expired');
    assert.deepEqual(server.components, ['cluster-agent', 'kube-apiserver']);
    const fpc = byName(inv, 'front-proxy-client');
    assert.equal(fpc.signerName, 'front-proxy-ca');
    assert.equal(fpc.managedBy, 'microk8s');
    // ten years: the component certificates its kubeconfigs embed, the CAs, dqlite's own pair
    for (const name of ['ca', 'front-proxy-ca', 'client', 'controller', 'scheduler', 'proxy', 'kubelet', 'apiserver-kubelet-client', 'dqlite']) {
      const c = byName(inv, name);
      assert.equal(c.status, 'ok', `${name}: ${JSON.stringify(c.findings)}`);
      assert.equal(c.managedBy, 'manual', name);
      if (!c.isCA && name !== 'dqlite') assert.equal(c.signerName, 'ca', name);
    }
    assert.ok(byName(inv, 'client').copies?.some((l) => l.file === `${data}/credentials/client.config`), JSON.stringify(byName(inv, 'client')));
    // (dqlite's pair is self-signed and no CA: its own signer, not an issuer missing from the node)
    assert.equal(byName(inv, 'dqlite').selfSigned, true);
    assert.deepEqual(inv.findings.filter((f) => f.code !== 'expired').map((f) => f.message), []);

    const certs = path.join(root, data, 'certs');
    assert.match(openssl(['x509', '-in', `${certs}/server.crt`, '-noout', '-subject']).stdout, /CN ?= ?127\.0\.0\.1/);
    assert.equal(server.subjectCN, '127.0.0.1');
    for (const [leaf, ca] of [['server', 'ca'], ['front-proxy-client', 'front-proxy-ca'], ['kubelet', 'ca']]) {
      const v = openssl(['verify', '-attime', epoch('2026-06-01'), '-CAfile', `${certs}/${ca}.crt`, `${certs}/${leaf}.crt`]);
      assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
    }

    const io = memoryIo();
    assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2, io.out + io.err);
    const next = /^Next: (.*)$/m.exec(io.out)?.[1] ?? '';
    assert.match(next, /^apiserver: microk8s refresh-certs --cert server\.crt signs it again with its key for 365 days and restarts kubelite and the cluster agent; front-proxy-client: microk8s refresh-certs --cert front-proxy-client\.crt .* restarts kubelite$/);
    assert.ok(server.findings.find((f) => f.code === 'expired')?.message.endsWith('; microk8s refresh-certs --cert server.crt signs it again with its key for 365 days and restarts kubelite and the cluster agent'), JSON.stringify(server.findings));
  });
}

test('MicroK8s: renew apiserver keeps its key and names, and restarts the snap services that read it (kubelite, the cluster agent), as refresh-certs does; written through the current link into the revision', async () => {
  const root = tmpDir('kubepki-microk8s-renew-');
  const { data } = makeMicroK8s(root, { installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2025-11-20T12:00:00Z') });
  const dry = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--dry-run'], dry), 0, dry.out + dry.err);
  assert.match(dry.out, /systemctl restart snap\.microk8s\.daemon-kubelite/);
  assert.match(dry.out, /systemctl restart snap\.microk8s\.daemon-cluster-agent/);
  const crt = path.join(root, data, 'certs/server.crt');
  const spki = () => openssl(['x509', '-in', crt, '-noout', '-pubkey']).stdout;
  const key = spki();
  const io = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
  assert.equal(spki(), key);
  assert.match(openssl(['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']).stdout, /IP Address:10\.152\.183\.1/);
  assert.equal(openssl(['verify', '-attime', epoch('2026-11-24'), '-CAfile', path.join(root, data, 'certs/ca.crt'), crt]).status, 0);
  assert.ok(fs.lstatSync(path.join(root, '/var/snap/microk8s/current')).isSymbolicLink(), 'the snap\'s link stays a link');
});

test('MicroK8s of the token era: its credentials/*.config carry tokens, no client certificate, so they add no row and no finding; a revision `current` does not point at is not read', async () => {
  const root = tmpDir('kubepki-microk8s-tokens-');
  makeMicroK8s(root, { installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2026-02-01T09:00:00Z') });
  // an older revision snapd kept after a refresh, with its own (older) copies
  fs.cpSync(path.join(root, '/var/snap/microk8s/7229'), path.join(root, '/var/snap/microk8s/7001'), { recursive: true });
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.certificates.map((c) => c.name).sort(), ['apiserver', 'ca', 'dqlite', 'front-proxy-ca', 'front-proxy-client']);
  assert.ok(inv.certificates.every((c) => c.location.file.startsWith('/var/snap/microk8s/7229/')), inv.certificates.map((c) => c.location.file).join(' '));
  assert.ok(inv.kubeconfigs.some((k) => k.file === '/var/snap/microk8s/7229/credentials/client.config'), JSON.stringify(inv.kubeconfigs.map((k) => k.file)));
  assert.deepEqual(inv.findings.filter((f) => f.severity !== 'info'), []);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
});

test('k0s and MicroK8s cost a kubeadm node nothing but two lookups: not detected there, and --layout names them', async () => {
  const root = tmpDir('kubepki-k0s-none-');
  fs.mkdirSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  assert.deepEqual(detectLayouts(new NodeFs(root)), ['kubeadm']);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--layout', 'k0s,microk8s'], io), 3, io.out + io.err);
  assert.match(io.err, /no certificates found/);
  const bad = memoryIo();
  await run(['check', '--root', root, '--layout', 'k1s'], bad);
  assert.match(bad.err, /k0s, microk8s/);
});


/** A k0s controller (with --enable-worker) whose data directory `k0s install controller --data-dir DIR` put at DIR. */
function k0sAt(root: string, dir: string): void {
  makeK0sController(root, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  fs.mkdirSync(path.dirname(path.join(root, dir)), { recursive: true });
  fs.renameSync(path.join(root, 'var/lib/k0s'), path.join(root, dir));
  // (what names a path under it: the kubelet's -current link and kubelet.conf, as the kubelet writes them there)
  const pem = path.join(root, dir, 'kubelet/pki/kubelet-client-current.pem');
  const target = fs.readlinkSync(pem);
  fs.rmSync(pem);
  fs.symlinkSync(target.replace('/var/lib/k0s/', `${dir}/`), pem);
  const conf = path.join(root, dir, 'kubelet.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replaceAll('/var/lib/k0s/', `${dir}/`));
}

test('k0s with a non-default data directory (was: not detected, nothing read): the --data-dir on the ExecStart of the unit k0s install wrote says where, and check and renew work there as under /var/lib/k0s', async () => {
  const root = tmpDir('kubepki-k0s-datadir-');
  k0sAt(root, '/srv/k0s');
  const nfs = () => new NodeFs(root);
  // no unit, nothing at /var/lib/k0s: no k0s here
  assert.deepEqual(detectLayouts(nfs()), []);
  // the unit as `k0s install controller --enable-worker --data-dir /srv/k0s` writes it (k0sproject/k0s
  // pkg/install/linux_systemd.go; cmd/install/util.go makes the flag --data-dir=<absolute path>)
  const units = path.join(root, 'etc/systemd/system');
  fs.mkdirSync(units, { recursive: true });
  fs.writeFileSync(path.join(units, 'k0scontroller.service'), ['[Unit]', 'Description=k0s - Zero Friction Kubernetes', 'Documentation=https://docs.k0sproject.io',
    'ConditionFileIsExecutable=/usr/local/bin/k0s', '', '[Service]', 'StartLimitInterval=5', 'StartLimitBurst=10',
    'ExecStart=/usr/local/bin/k0s controller --data-dir=/srv/k0s --enable-worker=true', '', 'RestartSec=10', 'Delegate=yes', 'KillMode=process', '',
    '[Install]', 'WantedBy=multi-user.target', ''].join('\n'));
  assert.deepEqual(detectLayouts(nfs()), ['k0s']);
  const inv = readInventory({ fs: nfs(), now: NOW });
  assert.equal(inv.k0sDataDir, '/srv/k0s');
  const api = byName(inv, 'apiserver');
  assert.equal(api.location.file, '/srv/k0s/pki/server.crt');
  assert.equal(api.managedBy, 'k0s');
  assert.deepEqual(api.components, ['kube-apiserver']);
  assert.deepEqual(byName(inv, 'etcd/peer').components, ['etcd']);
  assert.equal(byName(inv, 'ca').managedBy, 'manual');
  const kubelet = inv.certificates.find((c) => c.location.file.startsWith('/srv/k0s/kubelet/pki/') && !c.isCA);
  assert.equal(kubelet?.managedBy, 'kubelet', inv.certificates.map((c) => c.location.file).join(' '));

  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 1, io.out + io.err);
  assert.match(io.out, /^Next: admin, apiserver, apiserver-etcd-client and 8 more: k0s signs them again .*systemctl restart k0scontroller/m);
  const kc = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', '2026-12-07', '--dry-run'], kc), 0, kc.out + kc.err);
  assert.match(kc.out, /^Restart afterwards:\n {2}k0scontroller \(systemd unit k0scontroller; reads [^)]*\/srv\/k0s\/kubelet\/pki\/kubelet-client-current\.pem\)$/m);

  // a worker's unit, the flag and its value as two words (a unit written by hand): the same
  fs.rmSync(path.join(units, 'k0scontroller.service'));
  assert.deepEqual(detectLayouts(nfs()), []);
  fs.writeFileSync(path.join(units, 'k0sworker.service'), '[Service]\nExecStart=/usr/local/bin/k0s worker --data-dir /srv/k0s/ --token-file=/etc/k0s/k0stoken\n');
  assert.deepEqual(detectLayouts(nfs()), ['k0s']);
  assert.equal(readInventory({ fs: nfs(), now: NOW }).k0sDataDir, '/srv/k0s');
});

test('k0s with --kubelet-root-dir (k0s install worker --kubelet-root-dir D): the kubelet\'s pki/ is read under D, from the unit\'s ExecStart as --data-dir is, and renew restarts the k0s unit for it (was: only the pair kubelet.conf names, and no restart)', async () => {
  const root = tmpDir('kubepki-k0s-kubeletdir-');
  makeK0sController(root, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  // the kubelet's root dir moved to /srv/kubelet, kubelet.conf (KubeletAuthConfigPath) left in the data directory
  // and naming the pair there, as the kubelet writes it (k0sproject/k0s pkg/config/cfgvars.go, pkg/component/worker/kubelet.go)
  fs.mkdirSync(path.join(root, 'srv'), { recursive: true });
  fs.renameSync(path.join(root, 'var/lib/k0s/kubelet'), path.join(root, 'srv/kubelet'));
  const pki = path.join(root, 'srv/kubelet/pki');
  const pem = path.join(pki, 'kubelet-client-current.pem');
  const target = fs.readlinkSync(pem);
  fs.rmSync(pem);
  fs.symlinkSync(target.replace('/var/lib/k0s/kubelet/', '/srv/kubelet/'), pem);
  const conf = path.join(root, 'var/lib/k0s/kubelet.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replaceAll('/var/lib/k0s/kubelet/', '/srv/kubelet/'));
  // the kubelet's self-signed serving pair, which it writes in its --cert-dir and nothing names
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(pki, 'kubelet.key'), '-subj', '/CN=k0s-node@1700000000', '-days', '365', '-out', path.join(pki, 'kubelet.crt')]);
  const units = path.join(root, 'etc/systemd/system');
  fs.mkdirSync(units, { recursive: true });
  fs.writeFileSync(path.join(units, 'k0scontroller.service'), '[Service]\nExecStart=/usr/local/bin/k0s controller --enable-worker=true --kubelet-root-dir=/srv/kubelet\n');

  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const files = inv.certificates.map((c) => c.location.file);
  assert.ok(files.includes('/srv/kubelet/pki/kubelet.crt'), files.join(' '));
  const client = inv.certificates.find((c) => c.location.file.startsWith('/srv/kubelet/pki/kubelet-client') && !c.isCA);
  assert.equal(client?.managedBy, 'kubelet', files.join(' '));

  const kc = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', '2026-12-07', '--dry-run'], kc), 0, kc.out + kc.err);
  assert.match(kc.out, /^Restart afterwards:\n {2}k0scontroller \(systemd unit k0scontroller; reads [^)]*\/srv\/kubelet\/pki\/kubelet-client-current\.pem\)$/m);
  assert.equal(inv.k0sDataDir, undefined);
  assert.equal(inv.k0sKubeletRootDir, '/srv/kubelet');

  // worked out once per read (detection, scan targets and naming all ask): one look at /var/lib/k0s and one read
  // of the unit, not one each
  const seen = new Map<string, number>();
  const count = (p: string) => seen.set(p, (seen.get(p) ?? 0) + 1);
  class CountingFs extends NodeFs {
    override exists(p: string) { count(`exists ${p}`); return super.exists(p); }
    override readFile(p: string) { count(`read ${p}`); return super.readFile(p); }
  }
  readInventory({ fs: new CountingFs(root), now: NOW });
  assert.equal(seen.get('exists /var/lib/k0s'), 1, [...seen].filter(([k]) => k.includes('k0s')).join(' '));
  assert.equal(seen.get('read /etc/systemd/system/k0scontroller.service'), 1);
});

/** A k0s worker (k0s install worker): kubelet.conf and the kubelet's rotated pair, and in pki/ ca.crt alone, which the
 * worker writes from its join token (k0sproject/k0s pkg/component/worker/utils.go). */
function k0sWorker(root: string): void {
  makeK0sController(root, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  for (const f of fs.readdirSync(path.join(root, K0S_PKI))) if (f !== 'ca.crt') fs.rmSync(path.join(root, K0S_PKI, f), { recursive: true });
}

test('k0s: the kubelet\'s rotated client pair whose key is not its certificate\'s (key-mismatch) gets k0s\'s fix for an expired one, in the finding and Next (it said only "key does not match", and Next to follow the finding)', async () => {
  const root = tmpDir('kubepki-k0s-worker-');
  k0sWorker(root);
  const pem = path.join(root, 'var/lib/k0s/kubelet/pki/kubelet-client-2025-11-30-08-00-00.pem');
  const text = fs.readFileSync(pem, 'utf8');
  const end = '-----END CERTIFICATE-----\n';
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  fs.writeFileSync(pem, text.slice(0, text.indexOf(end) + end.length) + other);
  const io = memoryIo();
  // (within its dates: only the key is wrong)
  assert.equal(await run(['check', '--root', root, '--now', '2026-06-01'], io), 2, io.out + io.err);
  const fix = /k0s bootstraps the kubelet a new client certificate at the start of k0sworker only when \/var\/lib\/k0s\/kubelet\.conf is missing \(never while it is there, whatever its certificate\): mv \/var\/lib\/k0s\/kubelet\.conf \/var\/lib\/k0s\/kubelet\.conf\.old; the file the k0sworker unit's --token-file names must hold a valid worker join token \([^)]*\); then systemctl restart k0sworker$/;
  const finding = /^ {2}ERROR +key-mismatch +kubelet-client: private key \S+ does not match the certificate's public key: the kubelet cannot load the pair .*$/m.exec(io.out)?.[0];
  assert.ok(finding, io.out);
  assert.match(finding, fix);
  const next = /^Next: .*$/m.exec(io.out)![0];
  assert.match(next, /^Next: kubelet-client's key does not match its certificate: k0s bootstraps/);
  assert.match(next, fix);
  assert.doesNotMatch(io.out, /systemctl restart kubelet|kubepki kubelet credentials/);
});

test('k0s: an expired or missing kubelet client certificate is advised in k0s\'s terms — the kubelet runs in k0sworker (k0scontroller with --enable-worker), and k0s bootstraps a new one only without kubelet.conf, from the unit\'s join token — not kubeadm\'s systemctl restart kubelet and kubepki kubelet credentials (was: kubeadm\'s advice, and renew restarted k0scontroller on a worker)', async () => {
  const root = tmpDir('kubepki-k0s-worker-');
  k0sWorker(root);
  const at = '2026-12-07';
  const bootstrap = /mv \/var\/lib\/k0s\/kubelet\.conf \/var\/lib\/k0s\/kubelet\.conf\.old; the file the k0sworker unit's --token-file names must hold a valid worker join token \([^)]*k0s token create --role=worker[^)]*\); then systemctl restart k0sworker$/;
  const expired = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', at], expired), 2, expired.out + expired.err);
  const finding = /^ {2}ERROR +expired +kubelet-client expired on 2026-11-30 .*$/m.exec(expired.out)?.[0];
  assert.ok(finding, expired.out);
  assert.match(finding, bootstrap);
  assert.match(expired.out, /^Next: kubelet-client has expired and its CA's key is not on this node: k0s bootstraps the kubelet a new client certificate at the start of k0sworker only when \/var\/lib\/k0s\/kubelet\.conf is missing/m);
  assert.match(/^Next: .*$/m.exec(expired.out)![0], bootstrap);
  assert.doesNotMatch(expired.out, /systemctl restart kubelet|kubepki kubelet credentials|k0scontroller/);
  // renew says the same (it cannot sign here)
  const renew = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', at, '--dry-run'], renew), 1, renew.out + renew.err);
  assert.match(renew.out + renew.err, /systemctl restart k0sworker/);
  assert.doesNotMatch(renew.out + renew.err, /systemctl restart kubelet|kubepki kubelet credentials/);

  // what the kubelet renews on a worker restarts k0sworker: its self-signed serving pair (the worker's pki/ca.crt,
  // from its join token, is no controller's)
  const pki = path.join(root, 'var/lib/k0s/kubelet/pki');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(pki, 'kubelet.key'), '-subj', '/CN=k0s-worker@1700000000', '-days', '365', '-out', path.join(pki, 'kubelet.crt')]);
  const serving = memoryIo();
  assert.equal(await run(['renew', 'kubelet', '--root', root, '--now', at, '--dry-run'], serving), 0, serving.out + serving.err);
  assert.match(serving.out, /^Restart afterwards:\n {2}k0sworker \(systemd unit k0sworker; reads [^)]*\/var\/lib\/k0s\/kubelet\/pki\/kubelet\.crt[^)]*\)\n {4}systemctl restart k0sworker$/m);
  assert.doesNotMatch(serving.out, /k0scontroller/);

  // the pair kubelet.conf names gone (its dated file deleted): missing, with the same fix (the serving pair, made on
  // this machine's clock, after --now, out of the way)
  for (const f of fs.readdirSync(pki)) if (f.startsWith('kubelet-client-2') || f.startsWith('kubelet.')) fs.rmSync(path.join(pki, f));
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(`${at}T00:00:00Z`) });
  const gone = inv.missing.find((m) => m.name === 'kubelet-client');
  assert.ok(gone, JSON.stringify(inv.missing));
  assert.equal(gone.file, '/var/lib/k0s/kubelet/pki/kubelet-client-current.pem');
  assert.match(gone.reason, /the client certificate \/var\/lib\/k0s\/kubelet\.conf names, is a dangling symlink to \/var\/lib\/k0s\/kubelet\/pki\/kubelet-client-2025-11-30-08-00-00\.pem: the kubelet cannot start; k0s bootstraps/);
  assert.match(gone.reason, bootstrap);
  assert.match(inv.next ?? '', bootstrap);

  // a controller with --enable-worker: the kubelet runs in k0scontroller, which bootstraps it again by itself
  // without kubelet.conf; with the CA's key here, renew re-signs the pair too
  const ctl = tmpDir('kubepki-k0s-ctl-kubelet-');
  makeK0sController(ctl, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  const c = memoryIo();
  assert.equal(await run(['check', '--root', ctl, '--now', at], c), 2, c.out + c.err);
  assert.match(c.out, /^ {2}ERROR +expired +kubelet-client expired on 2026-11-30 .*: kubepki renew kubelet-client --root \S+, then systemctl restart k0scontroller$/m);
  assert.doesNotMatch(c.out, /systemctl restart kubelet|kubepki kubelet credentials/);
  for (const f of fs.readdirSync(path.join(ctl, 'var/lib/k0s/kubelet/pki'))) if (f.startsWith('kubelet-client-2')) fs.rmSync(path.join(ctl, 'var/lib/k0s/kubelet/pki', f));
  const cinv = readInventory({ fs: new NodeFs(ctl), now: new Date(`${at}T00:00:00Z`) });
  assert.match(cinv.missing.find((m) => m.name === 'kubelet-client')?.reason ?? '', /k0s bootstraps the kubelet a new client certificate at the start of k0scontroller only when \/var\/lib\/k0s\/kubelet\.conf is missing \(never while it is there, whatever its certificate\): mv \/var\/lib\/k0s\/kubelet\.conf \/var\/lib\/k0s\/kubelet\.conf\.old, then systemctl restart k0scontroller$/);
});

test('inspect of a k0s or MicroK8s file names it as check does (k0s\'s pki/server.crt and MicroK8s\'s certs/server.crt are apiserver, cluster.crt dqlite, pki/etcd/server.crt etcd/server), with check\'s RENEWED BY (was: named by its path, server, cluster)', async () => {
  const inspect = async (root: string, file: string) => {
    const io = memoryIo();
    await run(['inspect', file, '--root', root, '--now', '2026-01-10', '-o', 'json'], io);
    const inv = JSON.parse(io.out) as Inventory;
    assert.ok(inv.certificates.length > 0, io.out + io.err);
    return inv.certificates[0]!;
  };
  const k0s = tmpDir('kubepki-k0s-inspect-');
  makeK0sController(k0s, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z') });
  const checked = readInventory({ fs: new NodeFs(k0s), now: NOW });
  for (const file of [`${K0S_PKI}/server.crt`, `${K0S_PKI}/etcd/server.crt`, `${K0S_PKI}/front-proxy-client.crt`]) {
    const c = await inspect(k0s, file);
    const inCheck = checked.certificates.find((x) => x.location.file === file)!;
    assert.equal(c.name, inCheck.name, file);
    assert.equal(c.managedBy, inCheck.managedBy, file);
  }
  assert.equal((await inspect(k0s, `${K0S_PKI}/server.crt`)).name, 'apiserver');
  assert.equal((await inspect(k0s, `${K0S_PKI}/server.crt`)).managedBy, 'k0s');

  const mk = tmpDir('kubepki-mk8s-inspect-');
  makeMicroK8s(mk, { installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2025-11-20T12:00:00Z') });
  // (through the snap's `current` link, as an operator types it, and at the revision's own path)
  assert.equal((await inspect(mk, '/var/snap/microk8s/current/certs/server.crt')).name, 'apiserver');
  assert.equal((await inspect(mk, '/var/snap/microk8s/current/certs/server.crt')).managedBy, 'microk8s');
  assert.equal((await inspect(mk, '/var/snap/microk8s/7229/var/kubernetes/backend/cluster.crt')).name, 'dqlite');
});
