import { readdirSync, readFileSync } from 'node:fs';
import type { NodeFs } from '../fs/node-fs.js';
import type { ComponentRef, Finding } from './types.js';
import { goTime } from './time.js';

/** A control-plane component running on this node, and when it started. */
export interface LiveComponent { pid: number; component: string; startedMs: number }

/** by /proc/<pid>/comm, which the kernel cuts to 15 characters (kube-controller-manager is "kube-controller") */
const COMPONENTS = new Map(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kubelet', 'kube-proxy'].map((c) => [c.slice(0, 15), c]));
/** USER_HZ: /proc reports start times in these ticks (100 on every Linux kubepki runs on) */
const TICKS_PER_SECOND = 100;

/**
 * The components running on this node (seen in /proc, static pods included: their processes are the
 * host's too), with their start times. Empty when /proc is not this node's (a pod without hostPID).
 */
export function liveComponents(proc = '/proc'): LiveComponent[] {
  let bootMs: number;
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync(`${proc}/stat`, 'latin1'))?.[1];
    if (!btime) return [];
    bootMs = Number(btime) * 1000;
  } catch { return []; }
  const out: LiveComponent[] = [];
  let pids: string[];
  try { pids = readdirSync(proc).filter((n) => /^\d+$/.test(n)); } catch { return []; }
  for (const pid of pids) {
    try {
      const component = COMPONENTS.get(readFileSync(`${proc}/${pid}/comm`, 'latin1').trim());
      if (!component) continue;
      // field 22 (starttime) counts from after the ")" that ends the command name
      const stat = readFileSync(`${proc}/${pid}/stat`, 'latin1');
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      if (Number.isFinite(start)) out.push({ pid: Number(pid), component, startedMs: bootMs + (start / TICKS_PER_SECOND) * 1000 });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/**
 * Files a running component reads that changed after it started (seed 002: front-proxy-client renewed,
 * kube-apiserver never restarted, aggregated APIs failing). Most certificates are read at start; a few are
 * reloaded by the component (kube-apiserver's serving pair and client CA), so the finding says "unless it
 * reloads it" and `probe` tells for a serving certificate. The kubelet's rotated client pair is its own.
 */
export function staleLoads(fs: NodeFs, live: LiveComponent[], refs: ComponentRef[]): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    // the kubelet reloads the pairs it rotates itself (kubelet-client-current.pem and the dated files behind it)
    if (/\/kubelet-(client|server)-[^/]*\.pem$/.test(ref.file)) continue;
    // (the same reference under the real path its link leads to: the named path is judged already)
    if (ref.through) continue;
    const procs = live.filter((p) => p.component === ref.component);
    if (procs.length === 0) continue;
    const st = fs.stat(ref.file);
    if (!st?.isFile()) continue;
    const started = Math.min(...procs.map((p) => p.startedMs));
    // a second of slack: a file written in the same moment the process started
    if (st.mtimeMs <= started + 1000) continue;
    const key = `${ref.component}|${ref.file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      code: 'restart-pending', severity: 'warning', file: ref.file,
      message: `${ref.component} (pid ${procs.map((p) => p.pid).join(', ')}) started ${goTime(started)}, before ${ref.file} changed (${goTime(st.mtimeMs)}): unless it reloads that file by itself it still uses the old one; restart it (kubepki renew --dry-run lists how)`,
    });
  }
  return out;
}
