import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { makeCa, makeLeaf, put } from './support/trees.js';
import { copyFixture } from './support/fixtures.js';

const SSL = '/etc/ssl/etcd/ssl';
const HOSTS = ['node1', 'node2', 'node3'];

/**
 * A kubespray control-plane and etcd host (etcd_deployment_type: host) as its roles/etcd leaves it: every etcd
 * host's member and admin pairs in /etc/ssl/etcd/ssl (made on the first etcd host, copied to each), etcd under
 * systemd from /etc/etcd.env naming this host's member pair, kube-apiserver its node pair. No /var/lib/etcd.
 */
async function kubesprayEtcdHost(self: string, etcdName: string): Promise<string> {
  const root = copyFixture('kubeadm-1.26');
  const k = path.join(root, 'etc/kubernetes');
  fs.renameSync(path.join(k, 'pki'), path.join(k, 'ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(k, 'pki'));
  fs.rmSync(path.join(k, 'manifests/etcd.yaml'));
  // (kubeadm's etcd certificates are not made: kubespray's etcd role makes its own)
  fs.rmSync(path.join(k, 'ssl/etcd'), { recursive: true });
  for (const f of fs.readdirSync(path.join(k, 'ssl')).filter((n) => n.startsWith('apiserver-etcd-client.'))) fs.rmSync(path.join(k, 'ssl', f));
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 36500, 'rsa-2048');
  put(root, `${SSL}/ca.pem`, ca.pem);
  put(root, `${SSL}/ca-key.pem`, ca.keyPem, 0o600);
  const sans = [...HOSTS.map((h) => ({ type: 'dns' as const, value: h })), { type: 'ip' as const, value: '127.0.0.1' }];
  for (const h of HOSTS) {
    for (const kind of ['member', 'admin']) {
      const pair = await makeLeaf(ca, `etcd-${kind}-${h}`, { eku: ['clientAuth', 'serverAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
      put(root, `${SSL}/${kind}-${h}.pem`, pair.pem);
      put(root, `${SSL}/${kind}-${h}-key.pem`, pair.keyPem, 0o600);
    }
  }
  const node = await makeLeaf(ca, `etcd-node-${self}`, { eku: ['clientAuth', 'serverAuth'], sans, notBefore: issued, days: 365, keyType: 'rsa-2048' });
  put(root, `${SSL}/node-${self}.pem`, node.pem);
  put(root, `${SSL}/node-${self}-key.pem`, node.keyPem, 0o600);
  put(root, '/etc/etcd.env', [
    'ETCD_DATA_DIR=/var/lib/etcd', `ETCD_NAME=${etcdName}`,
    'ETCD_LISTEN_CLIENT_URLS=https://192.0.2.10:2379,https://127.0.0.1:2379',
    'ETCD_INITIAL_CLUSTER=etcd1=https://192.0.2.10:2380,etcd2=https://192.0.2.11:2380,etcd3=https://192.0.2.12:2380',
    `ETCD_TRUSTED_CA_FILE=${SSL}/ca.pem`, `ETCD_CERT_FILE=${SSL}/member-${self}.pem`, `ETCD_KEY_FILE=${SSL}/member-${self}-key.pem`,
    `ETCD_PEER_TRUSTED_CA_FILE=${SSL}/ca.pem`, `ETCD_PEER_CERT_FILE=${SSL}/member-${self}.pem`, `ETCD_PEER_KEY_FILE=${SSL}/member-${self}-key.pem`, ''].join('\n'));
  put(root, '/etc/systemd/system/etcd.service', '[Service]\nType=notify\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/local/bin/etcd\n');
  const manifest = path.join(k, 'manifests/kube-apiserver.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--etcd-cafile=\S+/, `--etcd-cafile=${SSL}/ca.pem`)
    .replace(/--etcd-certfile=\S+/, `--etcd-certfile=${SSL}/node-${self}.pem`).replace(/--etcd-keyfile=\S+/, `--etcd-keyfile=${SSL}/node-${self}-key.pem`));
  return root;
}

test('kubespray etcd under systemd with no data directory in the tree: restarting it carries the one-host-at-a-time caution, with the members of ETCD_INITIAL_CLUSTER in /etc/etcd.env and etcdctl with the host\'s member pair (it said nothing)', async () => {
  const root = await kubesprayEtcdHost('node1', 'etcd1');
  const io = memoryIo();
  assert.equal(await run(['renew', 'member-node1', '--root', root, '--now', '2026-11-23', '--dry-run'], io), 0, io.out + io.err);
  assert.match(io.out, /^ {4}systemctl restart etcd\n {4}\(this etcd is one of 3 members \(etcd1, etcd2, etcd3\): restart etcd on one member's node at a time/m);
  assert.ok(io.out.includes(`etcdctl --endpoints https://127.0.0.1:2379 --cacert ${SSL}/ca.pem --cert ${SSL}/member-node1.pem --key ${SSL}/member-node1-key.pem endpoint health --cluster`), io.out);
});

test('kubespray etcd host: the copies of other etcd hosts\' certificates (member-node2.pem on node1) are marked as theirs, and check says their status is not those hosts\' even once all is ok (it called node1 clean while node2\'s etcd still expired)', async () => {
  const root = await kubesprayEtcdHost('node1', 'etcd1');
  const inv = readInventory({ fs: new NodeFs(root), now: new Date('2026-11-23T00:00:00Z') });
  const forHost = Object.fromEntries(inv.certificates.filter((c) => c.location.file.startsWith(`${SSL}/`)).map((c) => [c.name, c.forHost ?? null]));
  assert.deepEqual(forHost, {
    'admin-node1': null, 'admin-node2': 'node2', 'admin-node3': 'node3', 'member-node1': null, 'member-node2': 'node2', 'member-node3': 'node3', 'node-node1': null, 'etcd/ca': null,
  });
  const f = inv.findings.find((x) => x.code === 'other-host-copies');
  assert.ok(f, JSON.stringify(inv.findings.map((x) => x.code)));
  assert.equal(f.severity, 'info');
  assert.match(f.message, /^admin-node2, admin-node3, member-node2, member-node3 are node2's and node3's etcd certificates, not this host's \(node1\)/);
  assert.match(f.message, /run kubepki check on node2 and node3$/);

  // renewed here, every row is ok: the copies still say they are not what node2 and node3 read
  const renew = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-12-20'], renew), 0, renew.out + renew.err);
  const check = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-12-20'], check), 0, check.out + check.err);
  assert.match(check.out, /^member-node2 .* ok .*\/etc\/ssl\/etcd\/ssl\/member-node2\.pem \(node2's copy\)$/m);
  assert.match(check.out, /INFO {4}other-host-copies {10}admin-node2, admin-node3, member-node2, member-node3 are node2's and node3's/);
});

test('kubespray: renewing on its first etcd host the copies of node2\'s and node3\'s certificates says, in Outside this node, which files go to which host and to restart etcd there one host at a time, or that kubespray\'s next run hands them out from here (it said nothing)', async () => {
  const root = await kubesprayEtcdHost('node1', 'etcd1');
  const io = memoryIo();
  assert.equal(await run(['renew', 'all', '--root', root, '--now', '2026-12-20', '--dry-run'], io), 0, io.out + io.err);
  const at = io.out.indexOf('\nOutside this node: admin-node2, admin-node3, member-node2, member-node3 are copies of node2\'s and node3\'s etcd certificates');
  assert.ok(at >= 0, io.out);
  const end = io.out.indexOf('\n\n', at + 1);
  const sect = io.out.slice(at, end < 0 ? undefined : end);
  assert.match(sect, /^ {2}- node2: copy admin-node2\.pem and member-node2\.pem from this node's \/etc\/ssl\/etcd\/ssl to \/etc\/ssl\/etcd\/ssl there \(the keys are unchanged\), then `systemctl restart etcd` there, one etcd host at a time, every member healthy before the next: etcdctl [^\n]*--cert \/etc\/ssl\/etcd\/ssl\/member-node2\.pem --key \/etc\/ssl\/etcd\/ssl\/member-node2-key\.pem endpoint health --cluster$/m);
  assert.match(sect, /^ {2}- node3: copy admin-node3\.pem and member-node3\.pem /m);
  assert.match(sect, /^ {2}- or let kubespray do it: this node is its first etcd host \(etcd1 at https:\/\/192\.0\.2\.10:2380 is first in ETCD_INITIAL_CLUSTER of \/etc\/etcd\.env/m);
  assert.doesNotMatch(sect, /node1: copy/);
});

test('kubespray: renewing etcd certificates on an etcd host that is not its first says kubespray\'s next run puts the first host\'s copies back, and names the files to copy there', async () => {
  const root = await kubesprayEtcdHost('node2', 'etcd2');
  const own = memoryIo();
  assert.equal(await run(['renew', 'member-node2', '--root', root, '--now', '2026-12-20', '--dry-run'], own), 0, own.out + own.err);
  assert.match(own.out, /\nOutside this node: this node is not kubespray's first etcd host[^\n]*\n {2}- kubespray's first etcd host \(etcd1 at https:\/\/192\.0\.2\.10:2380 is first in ETCD_INITIAL_CLUSTER of \/etc\/etcd\.env; this node's etcd is etcd2\): copy member-node2\.pem there too/);
  const both = memoryIo();
  assert.equal(await run(['renew', 'member-node2', 'member-node3', '--root', root, '--now', '2026-12-20', '--dry-run'], both), 0, both.out + both.err);
  assert.match(both.out, /^ {2}- node3: copy member-node3\.pem /m);
  assert.match(both.out, /^ {2}- kubespray's first etcd host too \([^\n]*so copy member-node2\.pem and member-node3\.pem there as well/m);
  // (the other hosts' copies alone, renewed on the first host, need no step for this host's own)
  const first = await kubesprayEtcdHost('node1', 'etcd1');
  const mine = memoryIo();
  assert.equal(await run(['renew', 'member-node1', '--root', first, '--now', '2026-12-20', '--dry-run'], mine), 0, mine.out + mine.err);
  assert.doesNotMatch(mine.out, /Outside this node/);
});
