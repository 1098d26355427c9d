import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, NOW } from './renew-support.js';
import { startEtcd, etcdctlHealth } from './support/etcd.js';
import { waitServed } from '../src/apply/restart.js';
import { probeEndpoint } from '../src/probe/probe.js';
import { parsePemBlocks } from '../src/pki/pem.js';



test('a real etcd refuses the expired kubeadm tree and accepts etcdctl with the renewed healthcheck-client', { skip: !fs.existsSync('/usr/bin/etcd') && 'etcd not installed' }, async (t) => {
  const root = copyFixture('kubeadm-1.26-expired');

  const expired = await startEtcd(root);
  try {
    const r = etcdctlHealth(root, expired.clientPort);
    assert.notEqual(r.status, 0, `etcdctl must fail against the expired tree: ${r.out}`);
    // etcdctl does not always say why (a busy machine: "all SubConns are in TransientFailure"); etcd logs
    // the refused handshake, and its log is read by this process's event loop, which spawnSync held up
    for (let i = 0; i < 50 && !/certificate has expired/.test(r.out + expired.log()); i++) await new Promise((res) => setTimeout(res, 100));
    assert.match(r.out + expired.log(), /certificate has expired/, 'refused because a certificate has expired');
    t.diagnostic(`expired tree: ${(r.out + expired.log()).split('\n').find((l) => /certificate has expired/.test(l))?.slice(0, 200)}`);

    // renew while this etcd runs: what it serves now says whether a restart is still needed
    const renew = await cli(['renew', 'all', '--root', root, '--now', NOW]);
    assert.equal(renew.code, 0, renew.err + renew.out);
    const serverDer = parsePemBlocks(fs.readFileSync(path.join(root, 'etc/kubernetes/pki/etcd/server.crt'), 'utf8'))[0]!.der;
    const live = await waitServed([{ component: 'etcd', host: '127.0.0.1', port: expired.clientPort, expect: serverDer }], (h, p) => probeEndpoint(h, p), { timeoutMs: 1500, pollMs: 200 });
    t.diagnostic(`running etcd after renewal, before restart: ${live.lines.join('; ')}`);
  } finally {
    await expired.stop();
  }

  const fresh = await startEtcd(root);
  try {
    let r = etcdctlHealth(root, fresh.clientPort);
    for (let i = 0; i < 20 && r.status !== 0; i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = etcdctlHealth(root, fresh.clientPort);
    }
    assert.equal(r.status, 0, `etcdctl with the renewed certificate: ${r.out}\n${fresh.log().slice(-2000)}`);
    assert.match(r.out, /is healthy/);
    const serverDer = parsePemBlocks(fs.readFileSync(path.join(root, 'etc/kubernetes/pki/etcd/server.crt'), 'utf8'))[0]!.der;
    const served = await waitServed([{ component: 'etcd', host: '127.0.0.1', port: fresh.clientPort, expect: serverDer }], (h, p) => probeEndpoint(h, p), { timeoutMs: 5000, pollMs: 200 });
    assert.ok(served.ok, served.lines.join('; '));
    assert.match(served.lines[0]!, /etcd at 127\.0\.0\.1:\d+ serves the renewed certificate/);
    t.diagnostic(`renewed tree: ${r.out.trim()}`);
  } finally {
    await fresh.stop();
  }
});
