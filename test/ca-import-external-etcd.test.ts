/**
 * `ca import` on a control-plane node that lost /etc/kubernetes, in a cluster with external etcd
 * (ClusterConfiguration.etcd.external). The export carries the external etcd's CA and client pair as
 * external-etcd-ca.crt, external-etcd.crt and external-etcd.key, as kubeadm's upload-certs does; kubeadm's
 * download-certs writes them to etcd.external's caFile, certFile and keyFile (certsToTransfer in
 * kubernetes/kubernetes cmd/kubeadm/app/phases/copycerts/copycerts.go). With no manifest left on the node only
 * the kubeadm config says where: --config, or the cluster's kubeadm-config in etcd data on the node.
 * Trees are made with openssl alone (test/support/openssl-kubeadm.ts), no etcd serving; the etcd data of the
 * last test is written by a real etcd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, tmp } from './renew-support.js';
import { freePort, opensslOk } from './support/fixtures.js';
import { ETCD, ETCDCTL, runEtcd } from './support/etcd.js';
import { makeOpensslExternalEtcdTrees } from './support/openssl-kubeadm.js';
import { KUBEADM_CONFIG_KEY } from '../src/rebuild/etcd-cluster-config.js';

const noEtcd = (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed';

// /etc/etcd/pki, away from the PKI directory: only etcd.external can say where these go
const x = makeOpensslExternalEtcdTrees(tmp('kubepki-import-ext-'), { count: 1, endpoints: ['https://192.0.2.50:2379'], layout: 'etc-etcd' });
const node = x.nodes[0]!;
const EXT = ['/etc/etcd/pki/ca.crt', '/etc/etcd/pki/apiserver-etcd-client.crt', '/etc/etcd/pki/apiserver-etcd-client.key'];

/** The node's shared material sealed by ca export, and the cluster's config copied off the node (as an operator keeps it). */
async function exported(): Promise<{ shared: string; key: string; config: string }> {
  const dir = tmp('kubepki-import-ext-out-');
  const shared = path.join(dir, 'shared.yaml');
  const e = await cli(['ca', 'export', '--root', node.root, '--out', shared]);
  assert.equal(e.code, 0, e.err);
  const config = path.join(dir, 'kubeadm-config.yaml');
  fs.copyFileSync(path.join(node.root, 'etc/kubernetes/kubeadm-config.yaml'), config);
  return { shared, key: /Certificate key[^:]*: ([0-9a-f]{64})/.exec(e.out)![1]!, config };
}

/** The node after rm -rf /etc/kubernetes /etc/etcd. */
function wiped(): string {
  const root = tmp('kubepki-import-ext-wiped-');
  fs.cpSync(node.root, root, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  fs.rmSync(path.join(root, 'etc/etcd'), { recursive: true });
  return root;
}

const mode = (root: string, p: string) => (fs.statSync(path.join(root, p)).mode & 0o777).toString(8);

test('ca import on a wiped external-etcd node: without --config it skips the external-etcd-* files and says to pass --config (was: only "once rebuild --config has written the manifest, run this import again")', async () => {
  const { shared, key } = await exported();
  const root = wiped();
  const r = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^ {2}skip {5}external-etcd-ca\\.crt, external-etcd\\.crt, external-etcd\\.key \\(nothing on this node says where they go: no /etc/kubernetes/manifests/kube-apiserver\\.yaml, no kubeadm-config in /var/lib/etcd, no kubeadm config file; pass --config FILE, the kubeadm config with etcd\\.external or \`kubectl -n kube-system get cm kubeadm-config -o yaml\` from a working control-plane node, and run this import again\\)$`, 'm'));
  assert.ok(!fs.existsSync(path.join(root, 'etc/etcd')));
  assert.match(r.out, /create {3}\/etc\/kubernetes\/pki\/ca\.key \(private key\)/);
});

test('ca import --config on a wiped external-etcd node: the external etcd\'s CA and client pair go to etcd.external caFile/certFile/keyFile (key 0600, certificates 0644), backed up, and rebuild --config finds them', async () => {
  const { shared, key, config } = await exported();
  const root = wiped();
  const dry = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root, '--config', config, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, new RegExp(`^ {2}\\(external-etcd-ca\\.crt, external-etcd\\.crt, external-etcd\\.key: where --config ${config.replace(/[.]/g, '\\.')} \\(etcd\\.external\\) names them\\)$`, 'm'));
  assert.ok(!fs.existsSync(path.join(root, 'etc/etcd')), 'a dry run writes nothing');

  const r = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root, '--config', config]);
  assert.equal(r.code, 0, r.err);
  for (const p of EXT) assert.match(r.out, new RegExp(`create {3}${p.replace(/\./g, '\\.')} \\((certificate|private key)\\)`));
  for (const p of EXT) assert.deepEqual(fs.readFileSync(path.join(root, p)), fs.readFileSync(path.join(node.root, p)), p);
  assert.equal(mode(root, EXT[2]!), '600');
  assert.equal(mode(root, EXT[0]!), '644');
  assert.equal(mode(root, EXT[1]!), '644');
  assert.match(opensslOk(['verify', '-CAfile', path.join(root, EXT[0]!), path.join(root, EXT[1]!)]), /: OK/);
  // the next step names the same config: without a manifest nothing else says etcd is external
  assert.match(r.out, /Next: if this node lost its certificates, kubepki rebuild --root \S+ --config \S+kubeadm-config\.yaml creates them/);
  // rebuild --config now has nothing of etcd's to ask for
  const rb = await cli(['rebuild', '--root', root, '--config', config, '--dry-run']);
  assert.equal(rb.code, 0, rb.err);
  assert.doesNotMatch(rb.out, /etcd is external: kube-apiserver reaches it with/);

  // backed up like every import file: restore takes the new files away again
  const backup = /\(undo with: kubepki restore (.*)\)/.exec(r.out)![1]!.split(' ');
  const u = await cli(['restore', ...backup]);
  assert.equal(u.code, 0, u.out + u.err);
  for (const p of EXT) assert.ok(!fs.existsSync(path.join(root, p)), `${p} removed by restore`);
});

test('ca import --config that names other etcd.external paths than the node\'s kube-apiserver manifest: refused, nothing written', async () => {
  const { shared, key } = await exported();
  const root = tmp('kubepki-import-ext-conflict-');
  fs.cpSync(node.root, root, { recursive: true, verbatimSymlinks: true });
  fs.rmSync(path.join(root, 'etc/etcd'), { recursive: true });
  const cfg = path.join(tmp('kubepki-import-ext-cfg-'), 'other.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(path.join(node.root, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8').replace('keyFile: /etc/etcd/pki/apiserver-etcd-client.key', 'keyFile: /etc/etcd/other.key'));
  const r = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root, '--config', cfg]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.err, new RegExp(`failed to import: --config ${cfg.replace(/[.]/g, '\\.')} has etcd\\.external\\.keyFile /etc/etcd/other\\.key, but this node's /etc/kubernetes/manifests/kube-apiserver\\.yaml reads --etcd-keyfile=/etc/etcd/pki/apiserver-etcd-client\\.key`));
  assert.ok(!fs.existsSync(path.join(root, 'etc/etcd')));
  // the manifest alone: its --etcd-* paths, as before
  const m = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root]);
  assert.equal(m.code, 0, m.err);
  assert.match(m.out, /where \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml \(--etcd-cafile, --etcd-certfile, --etcd-keyfile\) names them/);
  for (const p of EXT) assert.ok(fs.existsSync(path.join(root, p)), p);
});

test('ca import with no --config on a wiped node whose etcd data holds the cluster\'s kubeadm-config: the paths come from its etcd.external', { skip: noEtcd }, async () => {
  const { shared, key, config } = await exported();
  const root = wiped();
  // (a node whose etcd data outlived a move to external etcd: the ConfigMap as apiserver stores it with
  // --storage-media-type=application/json, put by a real etcd)
  const cluster = fs.readFileSync(config, 'utf8').split('---\n')[1]!;
  const data = path.join(root, 'var/lib/etcd');
  const [client, peer] = [await freePort(), await freePort()];
  const etcd = await runEtcd(['--name', 'cp-1', '--data-dir', data,
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `cp-1=http://127.0.0.1:${peer}`]);
  try {
    const value = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: cluster } });
    const put = spawnSync(ETCDCTL, [`--endpoints=http://127.0.0.1:${client}`, 'put', KUBEADM_CONFIG_KEY], { input: value, encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.equal(put.status, 0, put.stderr);
  } finally {
    await etcd.stop();
  }
  const r = await cli(['ca', 'import', shared, '--certificate-key', key, '--root', root]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /where \/var\/lib\/etcd\/member\/snap\/db \(kube-system\/kubeadm-config, revision \d+\) \(etcd\.external\) names them/);
  for (const p of EXT) assert.deepEqual(fs.readFileSync(path.join(root, p)), fs.readFileSync(path.join(node.root, p)), p);
  assert.equal(mode(root, EXT[2]!), '600');
});
