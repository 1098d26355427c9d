// A real etcd for tests, and etcdctl against it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmp } from '../renew-support.js';
import { freePort, openssl } from './fixtures.js';

export const ETCD = '/usr/bin/etcd';
export const ETCDCTL = '/usr/bin/etcdctl';

export interface RunningEtcd {
  proc: ChildProcess;
  log: () => string;
  /** SIGTERM, as the kubelet and systemd stop it (SIGKILL after 10 s) */
  stop: () => Promise<void>;
}

/**
 * SIGTERM, as the kubelet stops a static pod and systemd a unit (a SIGKILL could beat etcd's batched backend commit,
 * up to 100 ms, leaving a db that does not list what etcd had just answered), SIGKILL if it is still running after
 * `killAfterMs`; resolves once it has exited.
 */
export function stopGracefully(p: ChildProcess | undefined, killAfterMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    const kill = setTimeout(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); }, killAfterMs);
    kill.unref();
    p.once('exit', () => { clearTimeout(kill); resolve(); });
    p.kill('SIGTERM');
  });
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
  const stop = () => stopGracefully(proc, 10_000);
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

/** The files `etcdIntermediateChain` writes. */
export interface EtcdIntermediate {
  /** etc/kubernetes/pki/etcd under the tree */
  pki: string;
  intCrt: string;
  intKey: string;
  /** the tree's etcd/server.crt and server.key, now signed by the intermediate */
  leafCrt: string;
  leafKey: string;
  /** openssl -extfile texts in `work`: a CA's, and etcd's serving certificate's */
  intExt: string;
  leafExt: string;
}

/**
 * etcd-ca (a root, as kubeadm makes it) → etcd-intermediate-ca (etc/kubernetes/pki/etcd/intermediate-ca.crt and
 * .key, as an operator adds one) → a new etcd serving pair (the tree's etcd/server.crt and server.key), made with
 * openssl, which checks it: the root alone does not verify the leaf, root + intermediate does.
 */
export function etcdIntermediateChain(root: string, work: string): EtcdIntermediate {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const ext = (name: string, text: string) => { const f = path.join(work, name); fs.writeFileSync(f, text); return f; };
  const ok = <T extends { status: number; stderr: string }>(r: T): T => { if (r.status !== 0) throw new Error(r.stderr); return r; };
  const intKey = path.join(pki, 'intermediate-ca.key'), intCrt = path.join(pki, 'intermediate-ca.crt');
  const intExt = ext('int.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,digitalSignature\n');
  const leafExt = ext('leaf.ext', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ok(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', intKey]));
  const intCsr = ok(openssl(['req', '-new', '-key', intKey, '-subj', '/CN=etcd-intermediate-ca']));
  ok(openssl(['x509', '-req', '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-set_serial', '4242', '-days', '365', '-out', intCrt, '-extfile', intExt], intCsr.stdout));
  const leafKey = path.join(pki, 'server.key'), leafCrt = path.join(pki, 'server.crt');
  ok(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', leafKey]));
  const leafCsr = ok(openssl(['req', '-new', '-key', leafKey, '-subj', '/CN=cp-1']));
  ok(openssl(['x509', '-req', '-CA', intCrt, '-CAkey', intKey, '-set_serial', '4343', '-days', '365', '-out', leafCrt, '-extfile', leafExt], leafCsr.stdout));
  // openssl's own verdict on the same chain: the root alone does not verify the leaf, root + intermediate does
  if (openssl(['verify', '-CAfile', path.join(pki, 'ca.crt'), leafCrt]).status === 0) throw new Error('the etcd root alone verifies the leaf');
  ok(openssl(['verify', '-CAfile', path.join(pki, 'ca.crt'), '-untrusted', intCrt, leafCrt]));
  return { pki, intCrt, intKey, leafCrt, leafKey, intExt, leafExt };
}

/**
 * A real etcd serving `certFile` with `keyFile` to clients (no client-certificate auth unless `extra` asks for it:
 * a probe only handshakes). etcd re-reads the pair on every handshake, so what it sends changes with the file.
 */
export async function servingEtcd(certFile: string, keyFile: string, extra: string[] = []): Promise<RunningEtcd & { port: number }> {
  const [port, peer] = [await freePort(), await freePort()];
  const data = tmp('kubepki-etcd-');
  const etcd = await runEtcd([
    '--name', 'cp-1', '--data-dir', data,
    '--listen-client-urls', `https://127.0.0.1:${port}`, '--advertise-client-urls', `https://127.0.0.1:${port}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `cp-1=http://127.0.0.1:${peer}`, '--cert-file', certFile, '--key-file', keyFile, ...extra,
  ]);
  return { ...etcd, port, stop: async () => { await etcd.stop(); fs.rmSync(data, { recursive: true, force: true }); } };
}
