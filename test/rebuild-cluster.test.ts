/**
 * rebuild on a node that is part of a larger cluster: no new CAs / sa.key without --new-ca, no
 * super-admin.conf on a node that joined; endpoint validation; warnings and hints that are true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { endpointProblem } from '../src/profiles/rebuild.js';
import { KUBEADM_126, NOW, copyFixture, deleteAllButManifests, tmpDir, opensslVerify, inRoot } from './rebuild-support.js';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

const ETCD_ONE = '- --initial-cluster=cp-1=https://192.0.2.10:2380';

function edit(file: string, f: (t: string) => string): void {
  const t = fs.readFileSync(file, 'utf8');
  const n = f(t);
  assert.notEqual(n, t, `edited ${file}`);
  fs.writeFileSync(file, n);
}

/** etcd.yaml as `kubeadm join --control-plane` leaves it on the second member. */
function joinedEtcd(root: string, opts: { state?: boolean; members?: boolean } = { state: true, members: true }): void {
  edit(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), (t) => t.replace(ETCD_ONE,
    `- --initial-cluster=${opts.members ? 'cp-0=https://192.0.2.9:2380,' : ''}cp-1=https://192.0.2.10:2380${opts.state ? '\n    - --initial-cluster-state=existing' : ''}`));
}

/** The reviewer's repro: the second control-plane node of an HA cluster, only pki/ wiped. */
function haSecondNodeWithoutPki(): string {
  const root = copyFixture();
  const k = path.join(root, 'etc/kubernetes');
  fs.rmSync(path.join(k, 'super-admin.conf'), { force: true });
  edit(path.join(k, 'kubelet.conf'), (t) => t.replace(/system:node:cp-1/g, 'default-auth'));
  joinedEtcd(root);
  fs.rmSync(path.join(k, 'pki'), { recursive: true });
  return root;
}

test('HA second control plane with only pki/ wiped: rebuild refuses new CAs and sa.key (was: planned them and advised copying them to the other nodes); ca import from a peer, then rebuild, works', async () => {
  const root = haSecondNodeWithoutPki();
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 3);
  assert.equal(d.out, '', 'no plan with new CAs is shown');
  const lines = d.err.trimEnd().split('\n');
  assert.equal(lines.length, 2, `one line and the hint:\n${d.err}`);
  assert.match(lines[0]!, /^kubepki: refusing to create a new cluster CA, front-proxy CA, etcd CA and sa\.key\/sa\.pub: this node belongs to an existing cluster \(/);
  assert.match(lines[0]!, /etcd\.yaml has --initial-cluster-state=existing/);
  assert.match(lines[0]!, /etcd\.yaml --initial-cluster lists 2 members \(cp-0, cp-1\)/);
  assert.match(lines[0]!, /the old cluster CA certificate \(CN=kubernetes\) is still in admin\.conf, kubelet\.conf, controller-manager\.conf and scheduler\.conf: only its key is gone/);
  // (what runs on this tree names it: ca import and rebuild here; ca export on the peer does not)
  assert.ok(lines[1]!.includes(`there \`kubepki ca export --out shared.yaml\`, here \`kubepki ca import shared.yaml --certificate-key KEY --root ${root}\``), lines[1]);
  assert.match(lines[1]!, /then run `kubepki rebuild --root [^`]*` again.*--new-ca/);
  assert.doesNotMatch(d.err + d.out, /copy the shared CA files to the other control-plane nodes/);
  for (const extra of [['--force'], []]) {
    const r = await cli('rebuild', '--root', root, '--now', NOW, ...extra);
    assert.equal(r.code, 3, 'not even --force');
  }
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/pki')), false, 'nothing written');

  // the fix it names: the shared material from a healthy peer, then rebuild
  const peer = copyFixture();
  const sealed = path.join(tmpDir(), 'shared.yaml');
  const ex = await cli('ca', 'export', '--root', peer, '--out', sealed);
  assert.equal(ex.code, 0, ex.err);
  const key = /Certificate key \(keep it secret; needed to import\): ([0-9a-f]{64})/.exec(ex.out)?.[1];
  assert.ok(key, ex.out);
  const im = await cli('ca', 'import', sealed, '--root', root, '--certificate-key', key, '--now', NOW);
  assert.equal(im.code, 0, im.err);
  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /the cluster CA is new|sa\.key is new/);
  const pki = path.join(root, 'etc/kubernetes/pki');
  for (const f of ['ca.crt', 'sa.key', 'etcd/ca.crt', 'front-proxy-ca.crt']) {
    assert.equal(fs.readFileSync(path.join(pki, f), 'utf8'), fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/pki', f), 'utf8'), f);
  }
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt'), 'sslserver'), /: OK$/);
  assert.match(opensslVerify(path.join(pki, 'etcd/ca.crt'), path.join(pki, 'etcd/peer.crt'), 'sslclient'), /: OK$/);

  // --new-ca: the operator's explicit choice, with what must follow
  const nc = await cli('rebuild', '--root', haSecondNodeWithoutPki(), '--now', NOW, '--dry-run', '--force', '--new-ca');
  assert.equal(nc.code, 0, nc.err);
  assert.match(nc.out, /--new-ca: a new cluster CA, front-proxy CA, etcd CA and sa\.key\/sa\.pub although this node belongs to an existing cluster .*every node, kubeconfig, the cluster-info ConfigMap, every other kube-apiserver .*, every other etcd member .* and every ServiceAccount token must follow/);
  const help = await cli('rebuild', '--help');
  assert.match(help.out.replace(/\s+/g, ' '), /--new-ca .*every node, kubeconfig, the cluster-info ConfigMap and every ServiceAccount token must then follow/);
});

test('each sign of a cluster beyond this node alone stops new CAs; seed 001 (single etcd member, state new, only manifests left) still rebuilds with no flags', async () => {
  const cases: [string, (root: string) => void, RegExp][] = [
    ['--initial-cluster-state=existing', (r) => joinedEtcd(r, { state: true }), /etcd\.yaml has --initial-cluster-state=existing/],
    ['two etcd members', (r) => joinedEtcd(r, { members: true }), /etcd\.yaml --initial-cluster lists 2 members/],
    ['the kubelet\'s clientCAFile outside the PKI dir', (r) => {
      fs.copyFileSync(path.join(KUBEADM_126, 'etc/kubernetes/pki/ca.crt'), path.join(r, 'var/lib/kubelet/ca.crt'));
      edit(path.join(r, 'var/lib/kubelet/config.yaml'), (t) => t.replace('clientCAFile: /etc/kubernetes/pki/ca.crt', 'clientCAFile: /var/lib/kubelet/ca.crt'));
    }, /the old cluster CA certificate \(CN=kubernetes\) is still in \/var\/lib\/kubelet\/ca\.crt \(the kubelet's clientCAFile\): only its key is gone/],
    ['kubelet.conf on a shared endpoint', (r) => {
      fs.copyFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubelet.conf'), path.join(r, 'etc/kubernetes/kubelet.conf'));
    }, /kubelet\.conf's server https:\/\/cluster-api\.example\.test:6443 is a shared endpoint, not this node's https:\/\/192\.0\.2\.10:6443/],
  ];
  for (const [name, make, why] of cases) {
    const root = copyFixture();
    deleteAllButManifests(root);
    make(root);
    const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
    assert.equal(r.code, 3, name);
    assert.match(r.err, /refusing to create a new cluster CA/, name);
    assert.match(r.err, why, name);
  }
  // a lone node (one etcd member, state new, kubeconfigs on its own endpoint): a new etcd CA is
  // local business, but a new sa.key still invalidates the tokens of the cluster the kubeconfigs belong to
  const lone = () => {
    const r = copyFixture();
    const k = path.join(r, 'etc/kubernetes');
    fs.rmSync(path.join(k, 'kubeadm-config.yaml'));
    for (const f of ['admin.conf', 'kubelet.conf']) edit(path.join(k, f), (t) => t.replace('https://cluster-api.example.test:6443', 'https://192.0.2.10:6443'));
    return r;
  };
  const etcdGone = lone();
  fs.rmSync(path.join(etcdGone, 'etc/kubernetes/pki/etcd'), { recursive: true });
  for (const f of ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']) fs.rmSync(path.join(etcdGone, 'etc/kubernetes/pki', f));
  const e = await cli('rebuild', '--root', etcdGone, '--now', NOW, '--dry-run');
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /the etcd CA is new/);
  const saGone = lone();
  for (const f of ['sa.key', 'sa.pub']) fs.rmSync(path.join(saGone, 'etc/kubernetes/pki', f));
  const sa = await cli('rebuild', '--root', saGone, '--now', NOW, '--dry-run');
  assert.equal(sa.code, 3);
  assert.match(sa.err, /^kubepki: refusing to create a new sa\.key\/sa\.pub: this node belongs to an existing cluster \(the cluster CA certificate \(CN=kubernetes\) is still in admin\.conf, kubelet\.conf, controller-manager\.conf and scheduler\.conf\), and a new sa\.key invalidates every ServiceAccount token\n/);
  const seed = copyFixture();
  deleteAllButManifests(seed);
  const ok = await cli('rebuild', '--root', seed, '--now', NOW, '--dry-run');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /the cluster CA is new/);
});

test('a kubeconfig naming its CA file relative to itself (certificate-authority: ca.crt) holds a copy of the cluster CA: rebuild refuses new CAs (was: read ca.crt at the top of the --root tree, found none and planned a new cluster CA)', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const k = path.join(root, 'etc/kubernetes');
  const caPem = fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/pki/ca.crt'), 'utf8');
  const kubeconfig = (ca: string) => fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/controller-manager.conf'), 'utf8')
    .replace(/certificate-authority-data: \S+/, ca);
  // client-go takes a relative path from the kubeconfig's directory (clientcmd.ResolveLocalPaths),
  // and an empty certificate-authority-data as none (dataFromSliceOrFile)
  fs.writeFileSync(path.join(k, 'ca.crt'), caPem);
  fs.writeFileSync(path.join(k, 'controller-manager.conf'), kubeconfig('certificate-authority: ca.crt'), { mode: 0o600 });
  fs.mkdirSync(path.join(k, 'copy'));
  fs.writeFileSync(path.join(k, 'copy/ca.pem'), caPem);
  fs.writeFileSync(path.join(k, 'scheduler.conf'), kubeconfig('certificate-authority-data: ""\n    certificate-authority: ./copy/ca.pem'), { mode: 0o600 });
  assert.equal(fs.existsSync(path.join(root, 'ca.crt')), false, 'nothing at the top of the tree');
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /^kubepki: refusing to create a new cluster CA .*the old cluster CA certificate \(CN=kubernetes\) is still in controller-manager\.conf and scheduler\.conf: only its key is gone/);
});

test('a node that joined (etcd --initial-cluster-state=existing) gets no super-admin.conf (was: rebuild created an O=system:masters super-admin.conf that kubeadm join never writes there)', async () => {
  const root = copyFixture();
  joinedEtcd(root, { state: true });
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--kubernetes-version', 'v1.30.0');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /SKIP    \/etc\/kubernetes\/super-admin\.conf\n {10}\(this node joined an existing cluster \(etcd\.yaml has --initial-cluster-state=existing\): kubeadm join does not write super-admin\.conf/);
  assert.doesNotMatch(r.out, /(CREATE|REPLACE) \/etc\/kubernetes\/super-admin\.conf/);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/super-admin.conf')), false);
  // the other signs of kubeadm join: several etcd members, or kubelet.conf from the TLS bootstrap
  const members = copyFixture();
  joinedEtcd(members, { members: true });
  const m = await cli('rebuild', '--root', members, '--now', NOW, '--kubernetes-version', 'v1.30.0', '--dry-run');
  assert.equal(m.code, 0, m.err);
  assert.match(m.out, /SKIP    \/etc\/kubernetes\/super-admin\.conf\n {10}\(this node joined an existing cluster \(etcd\.yaml --initial-cluster lists 2 members \(cp-0, cp-1\)\)/);
  const boot = copyFixture();
  edit(path.join(boot, 'etc/kubernetes/kubelet.conf'), (t) => t.replace(/system:node:cp-1/g, 'default-auth'));
  const b = await cli('rebuild', '--root', boot, '--now', NOW, '--kubernetes-version', 'v1.30.0', '--dry-run');
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /SKIP    \/etc\/kubernetes\/super-admin\.conf\n {10}\(this node joined an existing cluster \(kubelet\.conf has the user default-auth/);
  // the node that ran kubeadm init (single member, state new) still gets it
  const init = copyFixture();
  const i = await cli('rebuild', '--root', init, '--now', NOW, '--kubernetes-version', 'v1.30.0');
  assert.equal(i.code, 0, i.err);
  assert.ok(fs.existsSync(path.join(init, 'etc/kubernetes/super-admin.conf')));
});

test('rebuild --control-plane-endpoint "bad host:6443" or api.example.test:99999 is refused naming the value (was: DNS:bad host in apiserver.crt and server https://bad host:6443 in admin.conf)', async () => {
  const base = ['--node-name', 'x', '--advertise-address', '192.0.2.60', '--kubernetes-version', '1.30.0', '--now', NOW];
  const bad: [string, RegExp][] = [
    ['bad host:6443', /^kubepki: --control-plane-endpoint "bad host:6443" is not host\[:port\]: host "bad host" is not a valid DNS name/],
    ['api.example.test:99999', /^kubepki: --control-plane-endpoint "api\.example\.test:99999" is not host\[:port\]: port "99999" is not 1-65535/],
    ['api.example.test:0', /port "0" is not 1-65535/],
    ['https://api.example.test:6443', /without a scheme/],
    ['*.example.test', /wildcard/],
    ['300.1.1.1:6443', /"300\.1\.1\.1" is not a valid IPv4 address/],
  ];
  for (const [v, want] of bad) {
    const root = tmpDir();
    const r = await cli('rebuild', '--root', root, ...base, '--control-plane-endpoint', v);
    assert.equal(r.code, 3, v);
    assert.match(r.err, want, v);
    assert.equal(r.err.trimEnd().split('\n').length, 2, 'one line and the hint');
    assert.deepEqual(fs.readdirSync(root), [], 'nothing written');
  }
  for (const v of ['api.example.test:6443', 'api.example.test', '192.0.2.100', '192.0.2.100:443', '[2001:db8::1]:6443', '2001:db8::1']) {
    assert.equal(endpointProblem(v), undefined, v);
  }
  const ok = await cli('rebuild', '--root', tmpDir(), ...base, '--control-plane-endpoint', '[2001:db8::1]:6443', '--dry-run');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /server https:\/\/\[2001:db8::1\]:6443/);
  // --advertise-address must be an IP
  const adv = await cli('rebuild', '--root', tmpDir(), '--node-name', 'x', '--advertise-address', '192.0.2.300', '--kubernetes-version', '1.30.0');
  assert.equal(adv.code, 3);
  assert.match(adv.err, /^kubepki: --advertise-address "192\.0\.2\.300" is not an IP address/);
  // the same value from a kubeadm config is refused too, naming the file
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.0\ncontrolPlaneEndpoint: "bad host:6443"\n');
  const c = await cli('rebuild', '--root', tmpDir(), '--node-name', 'x', '--advertise-address', '192.0.2.60', '--config', cfg, '--now', NOW, '--dry-run');
  assert.equal(c.code, 3);
  assert.match(c.err, /failed to use controlPlaneEndpoint "bad host:6443" from .*kubeadm\.yaml \(ClusterConfiguration\.controlPlaneEndpoint\): host "bad host" is not a valid DNS name/);
});

test('no "no control-plane endpoint found (admin.conf, kubelet.conf … are gone)" warning when they are there and point at the local endpoint (was: printed anyway)', async () => {
  const root = copyFixture();
  const k = path.join(root, 'etc/kubernetes');
  fs.rmSync(path.join(k, 'kubeadm-config.yaml'));
  for (const f of ['admin.conf', 'kubelet.conf']) edit(path.join(k, f), (t) => t.replace('https://cluster-api.example.test:6443', 'https://192.0.2.10:6443'));
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /no control-plane endpoint found/);
  assert.match(r.out, /controlPlaneEndpoint\s+\(none\)\s+\/etc\/kubernetes\/admin\.conf \(server is this node's API endpoint: no shared endpoint\)/);
  // from 1.33 kubelet.conf always points at the local endpoint: with admin.conf gone that says nothing
  const v133 = copyFixture();
  const k133 = path.join(v133, 'etc/kubernetes');
  for (const f of ['kubeadm-config.yaml', 'admin.conf']) fs.rmSync(path.join(k133, f));
  edit(path.join(k133, 'kubelet.conf'), (t) => t.replace('https://cluster-api.example.test:6443', 'https://192.0.2.10:6443'));
  const l = await cli('rebuild', '--root', v133, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.33.0');
  assert.equal(l.code, 0, l.err);
  assert.match(l.out, /no control-plane endpoint found on the node \(admin\.conf and kubeadm configs are gone; kubelet\.conf points at the local endpoint, as it always does from 1\.33\)/);
  // really gone: still said
  const gone = copyFixture();
  deleteAllButManifests(gone);
  const g = await cli('rebuild', '--root', gone, '--now', NOW, '--dry-run');
  assert.match(g.out, /no control-plane endpoint found on the node \(admin\.conf, kubelet\.conf and kubeadm configs are gone\)/);
});

test('rm -rf pki on the expired tree, rebuild --force --new-ca: the kept kubelet.conf on an old-CA pem is not sent to `kubepki renew all` (it cannot: its CA is gone); the hint is kubelet credentials', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--force', '--new-ca');
  assert.equal(r.code, 0, r.err + r.out);
  assert.doesNotMatch(r.out, /renew all/);
  assert.doesNotMatch(r.out, /kept files? (is|are) expired/);
  assert.ok(r.out.includes(`/etc/kubernetes/kubelet.conf uses /var/lib/kubelet/pki/kubelet-client-current.pem, which is not signed by the new cluster CA and is expired, and its certificate-authority-data is the old CA: run \`kubepki kubelet credentials --node cp-1 --root ${root}\`, which writes both from the CA in use`), r.out);
  // and the command it names does work
  const k = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(k.code, 0, k.err);
  assert.match(opensslVerify(path.join(root, 'etc/kubernetes/pki/ca.crt'), inRoot(root, '/var/lib/kubelet/pki/kubelet-client-current.pem'), 'sslclient'), /: OK$/);
});

test('rebuild --config with the kubeadm-config ConfigMap on a node with nothing left: the hint asks for the node\'s name and address, not for the --config it was given', async () => {
  // the ConfigMap as kubectl writes it: data.ClusterConfiguration only (kubeadm keeps no node settings in it)
  const dir = tmpDir();
  const cc = path.join(dir, 'cc.yaml');
  const init = fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8');
  fs.writeFileSync(cc, init.split(/^---$/m).find((d) => /kind: ClusterConfiguration/.test(d))!.trim() + '\n');
  const cm = path.join(dir, 'cm.yaml');
  fs.writeFileSync(cm, execFileSync('kubectl', ['create', 'configmap', 'kubeadm-config', '-n', 'kube-system', `--from-file=ClusterConfiguration=${cc}`, '--dry-run=client', '-o', 'yaml']));
  const r = await cli('rebuild', '--root', tmpDir(), '--config', cm, '--now', NOW, '--dry-run');
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /^kubepki: failed to work out nodeName \(--node-name\), advertiseAddress \(--advertise-address\): nothing left on the node says it\n/);
  assert.match(r.err, /hint: pass --node-name and --advertise-address: --config \S*cm\.yaml has no InitConfiguration/);
  assert.doesNotMatch(r.err, /or --config/);
  // as the rebuild --help example gives them, it works
  const ok = await cli('rebuild', '--root', tmpDir(), '--config', cm, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--now', NOW, '--dry-run');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /controlPlaneEndpoint +cluster-api\.example\.test:6443 +\S*cm\.yaml \(ClusterConfiguration\.controlPlaneEndpoint\)/);
});

test('a node whose etcd CA came from another control-plane node (kubepki ca import) and that has no etcd data gets no one-member etcd.yaml (a second, empty etcd cluster its kube-apiserver would serve) until --etcd-initial-cluster says the members', async () => {
  const peer = copyFixture();
  const root = copyFixture();
  fs.rmSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  assert.equal(fs.existsSync(path.join(root, 'var/lib/etcd/member')), false, 'no etcd data on this node');
  const sealed = path.join(tmpDir(), 'shared.yaml');
  const ex = await cli('ca', 'export', '--root', peer, '--out', sealed);
  const key = /Certificate key \(keep it secret; needed to import\): ([0-9a-f]{64})/.exec(ex.out)?.[1];
  assert.ok(key, ex.out + ex.err);
  assert.equal((await cli('ca', 'import', sealed, '--root', root, '--certificate-key', key, '--now', NOW)).code, 0);
  const flags = ['--root', root, '--now', NOW, '--advertise-address', '10.0.0.5', '--kubernetes-version', 'v1.26.15', '--control-plane-endpoint', 'cluster-api.example.test:6443'];

  const d = await cli('rebuild', ...flags, '--dry-run');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /SKIP +\/etc\/kubernetes\/manifests\/etcd\.yaml\n.*\/etc\/kubernetes\/pki\/etcd\/ca\.crt came from another control-plane node \(kubepki ca import, backup 2026-11-23T00-00-00Z\)/);
  assert.match(d.out, /etcd\.yaml was not written: re-add this node's etcd member/);
  const r = await cli('rebuild', ...flags);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml')), false);
  assert.ok(fs.existsSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml')));

  // the members member add printed: written, joining the existing cluster
  const again = await cli('rebuild', ...flags, '--etcd-initial-cluster', 'cp-0=https://10.0.0.4:2380,cp-1=https://10.0.0.5:2380');
  assert.equal(again.code, 0, again.err);
  const etcd = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8');
  assert.match(etcd, /--initial-cluster=cp-0=https:\/\/10\.0\.0\.4:2380,cp-1=https:\/\/10\.0\.0\.5:2380/);
  assert.match(etcd, /--initial-cluster-state=existing/);
});
