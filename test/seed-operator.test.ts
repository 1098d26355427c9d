/**
 * The seeds' operators replayed step by step (seed 000: a year offline, every kubelet expired; seed 001: a
 * control plane rebuilt, workers and backups to follow): each test is named after what such an operator saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, sh, tmp } from './renew-support.js';

const nextOf = (out: string) => /^Next: (.*)$/m.exec(out)?.[1] ?? '';

test('a worker back after a year, its kubelet client certificate expired and the cluster CA key elsewhere: Next said to renew it "where that CA is" (which renews that node\'s own kubelet) with --csr-out, against its own finding; it now gives the finding\'s fix, and that fix, run on a control-plane node, clears it', async () => {
  const now = '2026-11-23T00:00:00Z';
  // the worker: kubelet.conf, the cluster CA without its key, the kubelet's rotated client pair (no self-signed kubelet.crt)
  const worker = copyFixture('kubeadm-1.26-expired');
  for (const f of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubeadm-config.yaml', 'manifests']) fs.rmSync(path.join(worker, 'etc/kubernetes', f), { recursive: true });
  for (const f of fs.readdirSync(path.join(worker, 'etc/kubernetes/pki'))) if (f !== 'ca.crt') fs.rmSync(path.join(worker, 'etc/kubernetes/pki', f), { recursive: true });
  for (const f of ['kubelet.crt', 'kubelet.key']) fs.rmSync(path.join(worker, 'var/lib/kubelet/pki', f));
  const before = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(before.code, 2, before.out);
  const finding = /ERROR +expired +kubelet-client expired on [^:]+: the kubelet can no longer renew it itself \([^)]*\): (.*)$/m.exec(before.out)?.[1] ?? '';
  assert.match(finding, /^on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin/, before.out);
  const next = nextOf(before.out);
  assert.doesNotMatch(next, /where that CA is|--csr-out/, next);
  assert.equal(next, `kubelet-client has expired and its CA's key is not on this node: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${worker}`);

  // the advice, as typed: on the control-plane node (the CA key is there), then the copy (tar, as its Next says)
  const cp = copyFixture('kubeadm-1.26-expired');
  const out = path.join(tmp(), 'for-worker');
  const made = await cli(['kubelet', 'credentials', '--node', 'cp-1', '--out', out, '--root', cp, '--now', now]);
  assert.equal(made.code, 0, made.err);
  const tar = sh('sh', ['-c', `tar -C '${out}' -cf - etc var | tar -C '${worker}' --no-overwrite-dir -xpf -`]);
  assert.equal(tar.status, 0, tar.stderr);
  const after = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(after.code, 0, after.out);
  assert.match(after.out, /^kubelet-client +.* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.equal(nextOf(after.out), '');
  // and openssl agrees: the new pair is signed by the CA the worker holds
  const dated = fs.readlinkSync(path.join(worker, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  const v = sh('openssl', ['verify', '-CAfile', path.join(worker, 'etc/kubernetes/pki/ca.crt'), path.join(worker, dated)]);
  assert.equal(v.status, 0, v.stderr + v.stdout);
});
