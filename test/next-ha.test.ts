// Next on one control-plane node of several: the other nodes' kubeadm certificates are theirs to renew, except
// super-admin.conf, which only the kubeadm init node has. A fixture copy with a 3-member --initial-cluster; no etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { kubeadmLeavesDue, nextStep } from '../src/inventory/next.js';
import { addEtcdMembers } from '../src/rebuild/etcd-members.js';
import { copyFixture } from './rebuild-support.js';

test('a due super-admin.conf alone does not send the operator to the other control-plane nodes (they have none); a due apiserver does', () => {
  const root = copyFixture();
  const etcd = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
  fs.writeFileSync(etcd, fs.readFileSync(etcd, 'utf8').replace('--initial-cluster=cp-1=https://192.0.2.10:2380', '--initial-cluster=cp-1=https://192.0.2.10:2380,cp-2=https://192.0.2.11:2380,cp-3=https://192.0.2.12:2380'));
  const nfs = new NodeFs(root);
  // (12 days before the leaves end: every kubeadm leaf is due)
  const inv = readInventory({ fs: nfs, now: new Date('2027-11-10T00:00:00Z') });
  addEtcdMembers(inv, nfs);
  assert.deepEqual(inv.etcdMembers, ['cp-1', 'cp-2', 'cp-3']);
  assert.match(inv.next ?? '', /kubepki check on cp-2 and cp-3 too/);
  // the same node with only one kubeadm leaf due, named as the leaf the init node alone has
  const only = (name: string) => ({ ...inv, certificates: inv.certificates.map((c) => (c.name === 'apiserver' ? { ...c, name } : { ...c, status: 'ok' as const })) });
  assert.ok(kubeadmLeavesDue(only('apiserver')));
  assert.match(nextStep(only('apiserver')), /control-plane nodes/);
  assert.ok(!kubeadmLeavesDue(only('super-admin.conf')));
  assert.doesNotMatch(nextStep(only('super-admin.conf')), /control-plane nodes/);
});
