/**
 * Probe this node's own TLS endpoints and say, for each, whether the
 * certificate it serves is the one on disk. A renewed file whose component was
 * never restarted is the trap of seed 002 (front-proxy-client renewed, never
 * reloaded): `kubepki_served_cert_stale` is 1 for it. An endpoint that leaves
 * out an intermediate CA on disk (`kubepki probe`'s incomplete chain):
 * `kubepki_served_chain_incomplete` is 1.
 */
import type { Inventory } from '../inventory/types.js';
import type { ServedProbe } from '../report/metrics.js';
import { UserError } from '../errors.js';
import { probeEndpoint } from '../probe/probe.js';
import { compareServed, missingIntermediate } from '../probe/compare.js';
import { unbracket } from '../inventory/names.js';

export interface LocalEndpoint { component: string; host: string; port: number }

/** kubeadm's default secure ports; only components the inventory shows on this node are probed. */
const DEFAULT_PORTS: { component: string; port: number }[] = [
  { component: 'kube-apiserver', port: 6443 },
  { component: 'etcd', port: 2379 },
  { component: 'kubelet', port: 10250 },
];

export function defaultEndpoints(inv: Inventory, host: string): LocalEndpoint[] {
  const present = new Set(inv.certificates.flatMap((c) => c.components));
  for (const r of inv.components) present.add(r.component);
  return DEFAULT_PORTS.filter((d) => present.has(d.component)).map((d) => ({ component: d.component, host, port: d.port }));
}

/** `component=host:port` from `--probe-endpoint`. */
export function parseProbeFlag(text: string): LocalEndpoint {
  const m = /^([a-z0-9-]+)=(\[[^\]]+\]|[^:]+):(\d+)$/i.exec(text.trim());
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new UserError(`failed to parse --probe-endpoint ${JSON.stringify(text)}`, 'use COMPONENT=HOST:PORT, e.g. --probe-endpoint kube-apiserver=127.0.0.1:6443');
  return { component: m[1], host: unbracket(m[2]), port: Number(m[3]) };
}

/**
 * Probe every endpoint (in parallel, short timeout). An endpoint that does not
 * answer yields no series: nothing is listening, so nothing can be stale.
 */
export async function probeLocal(inv: Inventory, endpoints: LocalEndpoint[], timeoutMs = 2000): Promise<ServedProbe[]> {
  const results = await Promise.all(endpoints.map(async (e): Promise<ServedProbe | undefined> => {
    try {
      const res = await probeEndpoint(e.host, e.port, { timeoutMs });
      const leaf = res.chain[0];
      if (!leaf) return undefined;
      const cmp = compareServed(leaf, inv);
      const endpoint = e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
      return { endpoint, component: e.component, file: cmp.disk?.location.file, stale: cmp.verdict === 'stale', incompleteChain: missingIntermediate(res.chain, inv) !== undefined };
    } catch {
      return undefined;
    }
  }));
  return results.filter((r): r is ServedProbe => r !== undefined);
}
