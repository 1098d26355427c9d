import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFixture, cli, tmp, NOW } from './renew-support.js';
import { freePort } from './support/fixtures.js';
import { waitServed } from '../src/apply/restart.js';
import { probeEndpoint } from '../src/probe/probe.js';
import { parsePemBlocks } from '../src/pki/pem.js';


interface Etcd { proc: ChildProcess; clientPort: number; log: () => string; stop: () => Promise<void> }

/** A real etcd with client and peer TLS from a node tree's etcd certificates, as the kubeadm manifest runs it. */
async function startEtcd(root: string): Promise<Etcd> {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const data = tmp('kubepki-etcd-data-');
  const proc = spawn('/usr/bin/etcd', [
    '--name', 'cp-1', '--data-dir', data,
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`, '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `https://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peerPort}`,
    '--initial-cluster', `cp-1=https://127.0.0.1:${peerPort}`, '--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`,
    '--client-cert-auth=true', '--trusted-ca-file', path.join(pki, 'ca.crt'),
    '--cert-file', path.join(pki, 'server.crt'), '--key-file', path.join(pki, 'server.key'),
    '--peer-client-cert-auth=true', '--peer-trusted-ca-file', path.join(pki, 'ca.crt'),
    '--peer-cert-file', path.join(pki, 'peer.crt'), '--peer-key-file', path.join(pki, 'peer.key'),
    '--snapshot-count', '10000',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => { log += d; });
  proc.stderr!.on('data', (d) => { log += d; });
  // wait until etcd says it serves clients (it does so even with expired certificates: the handshake is what fails)
  const deadline = Date.now() + 20_000;
  while (!/serving client requests|ready to serve client requests/i.test(log)) {
    if (proc.exitCode !== null) throw new Error(`etcd exited: ${log}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`etcd did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc, clientPort, log: () => log,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    }),
  };
}

function etcdctlHealth(root: string, port: number): { status: number; out: string } {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const r = spawnSync('/usr/bin/etcdctl', [
    `--endpoints=https://127.0.0.1:${port}`, '--cacert', path.join(pki, 'ca.crt'),
    '--cert', path.join(pki, 'healthcheck-client.crt'), '--key', path.join(pki, 'healthcheck-client.key'),
    '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health',
  ], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

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
