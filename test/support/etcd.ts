// A real etcd for tests, and etcdctl against it.
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmp } from '../renew-support.js';
import { freePort } from './fixtures.js';

export const ETCD = '/usr/bin/etcd';
export const ETCDCTL = '/usr/bin/etcdctl';

export interface RunningEtcd {
  proc: ChildProcess;
  log: () => string;
  /** SIGTERM, as the kubelet and systemd stop it (SIGKILL after 10 s) */
  stop: () => Promise<void>;
}

/**
 * etcd with `args` (a clean environment but PATH and `env`, in `cwd`), once it says it serves clients (20 s; it
 * does so even with expired certificates: the handshake is what fails).
 */
export async function runEtcd(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<RunningEtcd> {
  const proc = spawn(ETCD, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env }, ...(cwd ? { cwd } : {}) });
  let log = '';
  proc.stdout!.on('data', (d) => { log += d; });
  proc.stderr!.on('data', (d) => { log += d; });
  const stop = () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', () => { clearTimeout(kill); resolve(); });
    proc.kill('SIGTERM');
  });
  const deadline = Date.now() + 20_000;
  while (!/serving client requests|ready to serve client requests/i.test(log)) {
    if (proc.exitCode !== null) throw new Error(`etcd exited: ${log}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`etcd did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, log: () => log, stop };
}

export interface Etcd extends RunningEtcd { clientPort: number; dataDir: string }

/**
 * A real etcd with client and peer TLS from a node tree's etcd certificates, as the kubeadm manifest runs it.
 * `dataDir`: an earlier run's data (a restart of the same member).
 */
export async function startEtcd(root: string, o: { dataDir?: string } = {}): Promise<Etcd> {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const data = o.dataDir ?? tmp('kubepki-etcd-data-');
  const etcd = await runEtcd([
    '--name', 'cp-1', '--data-dir', data,
    '--listen-client-urls', `https://127.0.0.1:${clientPort}`, '--advertise-client-urls', `https://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `https://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${peerPort}`,
    '--initial-cluster', `cp-1=https://127.0.0.1:${peerPort}`, '--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`,
    '--client-cert-auth=true', '--trusted-ca-file', path.join(pki, 'ca.crt'),
    '--cert-file', path.join(pki, 'server.crt'), '--key-file', path.join(pki, 'server.key'),
    '--peer-client-cert-auth=true', '--peer-trusted-ca-file', path.join(pki, 'ca.crt'),
    '--peer-cert-file', path.join(pki, 'peer.crt'), '--peer-key-file', path.join(pki, 'peer.key'),
    '--snapshot-count', '10000',
  ]);
  return { ...etcd, clientPort, dataDir: data };
}

/** `etcdctl endpoint health` with the tree's etcd CA and a client pair (default: etcd/healthcheck-client). */
export function etcdctlHealth(root: string, port: number, client = 'etcd/healthcheck-client'): { status: number; out: string } {
  const pki = path.join(root, 'etc/kubernetes/pki');
  const r = spawnSync(ETCDCTL, [
    `--endpoints=https://127.0.0.1:${port}`, '--cacert', path.join(pki, 'etcd/ca.crt'),
    '--cert', path.join(pki, `${client}.crt`), '--key', path.join(pki, `${client}.key`),
    '--dial-timeout=3s', '--command-timeout=5s', 'endpoint', 'health',
  ], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
