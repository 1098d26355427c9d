/** A real etcd started from a node tree's etcd certificates, and etcdctl against it (renew and rebuild tests). */
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmp } from '../renew-support.js';
import { freePort } from './fixtures.js';

export interface Etcd { proc: ChildProcess; clientPort: number; dataDir: string; log: () => string; stop: () => Promise<void> }

/**
 * A real etcd with client and peer TLS from a node tree's etcd certificates, as the kubeadm manifest runs it.
 * `dataDir`: an earlier run's data (a restart of the same member); stop() sends SIGTERM, as the kubelet does.
 */
export async function startEtcd(root: string, o: { dataDir?: string } = {}): Promise<Etcd> {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const data = o.dataDir ?? tmp('kubepki-etcd-data-');
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
    proc, clientPort, dataDir: data, log: () => log,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => { clearTimeout(kill); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

/** `etcdctl endpoint health` with the tree's etcd CA and a client pair (default: etcd/healthcheck-client). */
export function etcdctlHealth(root: string, port: number, client = 'etcd/healthcheck-client'): { status: number; out: string } {
  const pki = path.join(root, 'etc/kubernetes/pki');
  const r = spawnSync('/usr/bin/etcdctl', [
    `--endpoints=https://127.0.0.1:${port}`, '--cacert', path.join(pki, 'etcd/ca.crt'),
    '--cert', path.join(pki, `${client}.crt`), '--key', path.join(pki, `${client}.key`),
    '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health',
  ], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
