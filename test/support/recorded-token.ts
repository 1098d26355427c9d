import { after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recorded, FakeApiServer, MemoryObjects } from './fake-apiserver.js';

// The recorded cluster (bootstrap-token.json): kubeadm's token w7k2qx, made at 2026-11-22T21:43:39Z with a 24h TTL
// (expiring 2026-11-23T21:43:39Z), signed in cluster-info by the bootstrapsigner; cluster-info's server
// https://cluster-api.example.test:6443.
export const NOW = '2026-11-22T22:00:00Z';
const rec = (p: string) => recorded('bootstrap-token.json', (r) => r.method === 'GET' && r.path === p && r.identity.startsWith('kubernetes-admin')).responseBody as any;
export const RECORDED_TOKEN = rec('/api/v1/namespaces/kube-system/secrets/bootstrap-token-w7k2qx');
export const CLUSTER_INFO = rec('/api/v1/namespaces/kube-public/configmaps/cluster-info');

/**
 * A test file's clusters: `cluster()` starts a fake API server holding the recorded token (unless `token: false`) and
 * cluster-info, with a kubeconfig for it; the servers are closed and their temp directory removed when the file ends.
 */
export function perFile(prefix: string): { cluster: (o?: { token?: boolean }) => Promise<{ s: FakeApiServer; mem: MemoryObjects; kc: string }> } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const servers: FakeApiServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return {
    cluster: async (o = {}) => {
      const s = await FakeApiServer.start();
      servers.push(s);
      const mem = new MemoryObjects(s, ['secrets', 'configmaps']);
      if (o.token !== false) mem.put('secrets', RECORDED_TOKEN);
      mem.put('configmaps', CLUSTER_INFO);
      return { s, mem, kc: await s.kubeconfig(tmp) };
    },
  };
}
