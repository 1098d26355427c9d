import { after } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recorded, type FakeApiServer } from './fake-apiserver.js';

// The recorded cluster (bootstrap-token.json): kubeadm's token w7k2qx, made at 2026-11-22T21:43:39Z with a 24h TTL
// (expiring 2026-11-23T21:43:39Z), signed in cluster-info by the bootstrapsigner; cluster-info's server
// https://cluster-api.example.test:6443.
export const NOW = '2026-11-22T22:00:00Z';
const rec = (p: string) => recorded('bootstrap-token.json', (r) => r.method === 'GET' && r.path === p && r.identity.startsWith('kubernetes-admin')).responseBody as any;
export const RECORDED_TOKEN = rec('/api/v1/namespaces/kube-system/secrets/bootstrap-token-w7k2qx');
export const CLUSTER_INFO = rec('/api/v1/namespaces/kube-public/configmaps/cluster-info');

/** A temp directory and the fake API servers a test file starts, closed and removed when the file ends. */
export function perFile(prefix: string): { tmp: string; servers: FakeApiServer[] } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const servers: FakeApiServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return { tmp, servers };
}
