/**
 * `rebuild --new-ca --force` replaces files that running components loaded at start: a running etcd keeps
 * trusting the old etcd CA (and refuses the new apiserver-etcd-client) until it restarts, and restarting the
 * kubelet does not restart a static pod whose manifest is unchanged. Checked with a real etcd and etcdctl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, sh } from './renew-support.js';
import { startEtcd, etcdctlHealth } from './support/etcd.js';

const NOW = '2026-12-07T00:00:00Z';

test('rebuild --new-ca --force of the etcd CA on a running node told the operator only to restart the kubelet, and the running etcd refused the new apiserver-etcd-client: the plan names etcd and kube-apiserver with their restart commands, and after that restart etcdctl is healthy', { skip: !fs.existsSync('/usr/bin/etcd') && 'etcd not installed' }, async (t) => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  let etcd = await startEtcd(root);
  try {
    assert.equal(etcdctlHealth(root, etcd.clientPort, 'apiserver-etcd-client').status, 0, 'the fixture etcd is healthy to start with');
    // the etcd CA key is lost (or compromised): a new etcd CA, and every etcd certificate from it
    fs.rmSync(path.join(pki, 'etcd/ca.crt'));
    fs.rmSync(path.join(pki, 'etcd/ca.key'));
    const dry = await cli(['rebuild', '--root', root, '--new-ca', '--force', '--dry-run', '--now', NOW]);
    const r = await cli(['rebuild', '--root', root, '--new-ca', '--force', '--now', NOW]);
    assert.equal(r.code, 0, r.err + r.out);
    for (const leaf of ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
      const v = sh('openssl', ['verify', '-CAfile', path.join(pki, 'etcd/ca.crt'), path.join(pki, `${leaf}.crt`)]);
      assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
    }

    // the running etcd still trusts the old CA: the new client is refused until etcd restarts
    const before = etcdctlHealth(root, etcd.clientPort, 'apiserver-etcd-client');
    assert.notEqual(before.status, 0, `the running etcd must refuse a client of the new CA: ${before.out}`);

    for (const out of [dry.out, r.out]) {
      assert.doesNotMatch(out, /so it starts the static pods with the new files/, 'a kubelet restart does not restart a running static pod');
      assert.match(out, /restarting the kubelet does not restart the static pods' running containers/);
      assert.match(out, /^\s+etcd \(reads [^)]*\/etc\/kubernetes\/pki\/etcd\/ca\.crt[^)]*\): mv \/etc\/kubernetes\/manifests\/etcd\.yaml /m);
      assert.match(out, /^\s+kube-apiserver \(reads [^)]*\/etc\/kubernetes\/pki\/apiserver-etcd-client\.crt[^)]*\): mv \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml /m);
      // a new etcd CA concerns the etcd members and the kube-apiservers, not tokens, kubeconfigs or cluster-info
      const warning = out.split('\n').find((l) => l.includes('--new-ca: a new etcd CA')) ?? '';
      assert.match(warning, /every other etcd member and kube-apiserver \(their etcd certificates\) must follow/, warning);
      assert.doesNotMatch(warning, /ServiceAccount|cluster-info|kubeconfig/, warning);
      // nothing this rebuild replaced is read by the scheduler
      assert.doesNotMatch(out, /^\s+kube-scheduler \(reads/m);
    }

    // the restart the plan asks for: same member, same data, the rebuilt files
    await etcd.stop();
    etcd = await startEtcd(root, { dataDir: etcd.dataDir });
    let after = etcdctlHealth(root, etcd.clientPort, 'apiserver-etcd-client');
    for (let i = 0; i < 20 && after.status !== 0; i++) {
      await new Promise((res) => setTimeout(res, 250));
      after = etcdctlHealth(root, etcd.clientPort, 'apiserver-etcd-client');
    }
    assert.equal(after.status, 0, `after the restart: ${after.out}\n${etcd.log().slice(-2000)}`);
    assert.match(after.out, /is healthy/);
    t.diagnostic(`before restart: ${before.out.trim().split('\n')[0]}; after: ${after.out.trim()}`);
  } finally {
    await etcd.stop();
  }
});
