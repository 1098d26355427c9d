// A real etcd for tests: started with the arguments given, its log kept, ready once it serves clients.
import { spawn } from 'node:child_process';

export const ETCD = '/usr/bin/etcd';
export const ETCDCTL = '/usr/bin/etcdctl';

export interface RunningEtcd {
  log: () => string;
  exited: () => boolean;
  /** SIGKILL: for tests that only look at what it serves (one that checks its data stops it with SIGTERM itself) */
  stop: () => Promise<void>;
}

/** Start etcd with `args` (a clean environment but PATH and `env`, in `cwd`) and wait until it serves clients (20 s). */
export async function startEtcd(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<RunningEtcd> {
  const proc = spawn(ETCD, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env }, ...(cwd ? { cwd } : {}) });
  let log = '';
  proc.stdout!.on('data', (d) => { log += d; });
  proc.stderr!.on('data', (d) => { log += d; });
  const stop = () => new Promise<void>((resolve) => { if (proc.exitCode !== null || proc.signalCode !== null) return resolve(); proc.once('exit', () => resolve()); proc.kill('SIGKILL'); });
  const deadline = Date.now() + 20_000;
  while (!/serving client requests|ready to serve client requests/i.test(log)) {
    if (proc.exitCode !== null) throw new Error(`etcd exited: ${log}`);
    if (Date.now() > deadline) { await stop(); throw new Error(`etcd did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { log: () => log, exited: () => proc.exitCode !== null, stop };
}
