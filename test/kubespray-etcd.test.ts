import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
  assert.match(io.out, /^ {4}systemctl restart etcd\n {4}\(this etcd is one of 3 members \(etcd1, etcd2, etcd3\): restart it on one control-plane node at a time/m);
  assert.ok(io.out.includes(`etcdctl --endpoints https://127.0.0.1:2379 --cacert ${SSL}/ca.pem --cert ${SSL}/member-node1.pem --key ${SSL}/member-node1-key.pem endpoint health --cluster`), io.out);
});
