/**
 * Restart what read the changed files. A static pod is restarted by moving its
 * manifest out of the manifests directory and back once its container is gone
 * (deleting the mirror pod does not restart the container — seed 002); the
 * kubelet re-reads the directory every 20 s (fileCheckFrequency). The kubelet
 * itself is restarted with systemd; RKE1's components (kubelet included) with
 * `docker restart <name>`; k3s/RKE2 through their own systemd unit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { NodeFs } from '../fs/node-fs.js';
import type { PlanRestart } from '../plan/types.js';

export interface Runner {
  /** run a program; resolves with its exit code and output (never rejects for a non-zero exit) */
  run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** whether a program is on PATH */
  has(cmd: string): boolean;
  sleep(ms: number): Promise<void>;
}

export function processRunner(): Runner {
  return {
    run: (cmd, args) => new Promise((resolve) => {
      const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('error', (e) => resolve({ code: 127, stdout, stderr: String(e) }));
      p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    }),
    has: (cmd) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd))),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

export interface RestartOptions {
  /** how long to wait for a container to go away / come back (ms) */
  timeoutMs?: number;
  /** wait without crictl (ms): longer than the kubelet's 20 s fileCheckFrequency */
  blindWaitMs?: number;
  pollMs?: number;
  log: (line: string) => void;
}

async function containerIds(runner: Runner, name: string): Promise<string[] | undefined> {
  const r = await runner.run('crictl', ['ps', '--name', `^${name}$`, '-q']);
  if (r.code !== 0) return undefined;
  return r.stdout.split(/\s+/).filter(Boolean);
}

/** Restart every component of the plan. Returns the components that failed. */
export async function carryOutRestarts(nfs: NodeFs, restarts: PlanRestart[], runner: Runner, o: RestartOptions): Promise<string[]> {
  const failed: string[] = [];
  const timeout = o.timeoutMs ?? 180_000;
  const poll = o.pollMs ?? 2000;
  const crictl = runner.has('crictl');
  for (const r of restarts) {
    if (r.how === 'static-pod' && r.manifest) {
      const from = nfs.hostPath(r.manifest);
      const parked = nfs.hostPath(`${path.posix.dirname(path.posix.dirname(r.manifest))}/${path.posix.basename(r.manifest)}.kubepki-parked`);
      o.log(`restarting ${r.component}: moving ${r.manifest} out of the manifests directory`);
      fs.renameSync(from, parked);
      try {
        const before = crictl ? await containerIds(runner, r.component) : undefined;
        if (before !== undefined) {
          const deadline = Date.now() + timeout;
          for (;;) {
            const ids = await containerIds(runner, r.component);
            if (ids !== undefined && ids.length === 0) break;
            if (Date.now() > deadline) { o.log(`  ${r.component}: container still running after ${timeout / 1000}s`); failed.push(r.component); break; }
            await runner.sleep(poll);
          }
          o.log(`  ${r.component}: container gone (crictl)`);
        } else {
          await runner.sleep(o.blindWaitMs ?? 25_000);
          o.log(`  ${r.component}: waited ${(o.blindWaitMs ?? 25_000) / 1000}s for the kubelet to stop it (no crictl to confirm)`);
        }
      } finally {
        fs.renameSync(parked, from);
        o.log(`  ${r.component}: manifest moved back`);
      }
      if (crictl) {
        const deadline = Date.now() + timeout;
        for (;;) {
          const ids = await containerIds(runner, r.component);
          if (ids && ids.length > 0) { o.log(`  ${r.component}: running again (${ids[0]!.slice(0, 13)})`); break; }
          if (Date.now() > deadline) { o.log(`  ${r.component}: did not come back within ${timeout / 1000}s`); failed.push(r.component); break; }
          await runner.sleep(poll);
        }
      }
    } else if (r.how === 'systemd' && r.unit) {
      o.log(`restarting ${r.component}: systemctl restart ${r.unit}`);
      const res = await runner.run('systemctl', ['restart', r.unit]);
      if (res.code !== 0) { o.log(`  ${r.component}: systemctl failed: ${res.stderr.trim()}`); failed.push(r.component); }
    } else if (r.how === 'docker' && r.container) {
      // RKE1: every component is a docker container named after it (kubelet, kube-apiserver, etcd …)
      o.log(`restarting ${r.component}: docker restart ${r.container}`);
      if (!runner.has('docker')) { o.log(`  ${r.component}: docker is not on PATH`); failed.push(r.component); continue; }
      const res = await runner.run('docker', ['restart', r.container]);
      if (res.code !== 0) { o.log(`  ${r.component}: docker restart failed: ${res.stderr.trim()}`); failed.push(r.component); continue; }
      const state = await runner.run('docker', ['inspect', '-f', '{{.State.Running}}', r.container]);
      if (state.code !== 0 || state.stdout.trim() !== 'true') { o.log(`  ${r.component}: container ${r.container} is not running after the restart`); failed.push(r.component); continue; }
      o.log(`  ${r.component}: container ${r.container} running again`);
    } else {
      o.log(`restart ${r.component} yourself: ${r.command}`);
    }
  }
  return failed;
}

export interface ServedCheck {
  component: string;
  host: string;
  port: number;
  /** DER of the certificate the endpoint must serve */
  expect: Uint8Array;
}

export type Probe = (host: string, port: number) => Promise<{ chain: Uint8Array[] }>;

/**
 * Wait until every endpoint serves the expected certificate (the `probe` of
 * `check`). Returns one line per endpoint and whether all are current, and the same per endpoint for -o json.
 */
export async function waitServed(checks: ServedCheck[], probe: Probe, o: { timeoutMs?: number; pollMs?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<{ ok: boolean; lines: string[]; results: { component: string; endpoint: string; ok: boolean; detail?: string }[] }> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const lines: string[] = [];
  const results: { component: string; endpoint: string; ok: boolean; detail?: string }[] = [];
  let ok = true;
  for (const c of checks) {
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    let last = 'no answer';
    for (;;) {
      try {
        const res = await probe(c.host, c.port);
        const leaf = res.chain[0];
        if (leaf && Buffer.compare(Buffer.from(leaf), Buffer.from(c.expect)) === 0) { last = ''; break; }
        last = leaf ? 'still serves the old certificate' : 'served no certificate';
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) break;
      await sleep(o.pollMs ?? 1000);
    }
    if (last) { ok = false; lines.push(`${c.component} at ${c.host}:${c.port}: ${last}`); }
    else lines.push(`${c.component} at ${c.host}:${c.port} serves the renewed certificate`);
    results.push({ component: c.component, endpoint: `${c.host}:${c.port}`, ok: !last, ...(last ? { detail: last } : {}) });
  }
  return { ok, lines, results };
}
