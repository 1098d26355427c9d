// deploy/image/lease-run.mjs (the renewal CronJobs' lock) against a small
// in-memory stand-in of the coordination.k8s.io/v1 Lease API with the
// apiserver's resourceVersion rules (409 on create of an existing name and on
// a stale update).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';

type Lease = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; resourceVersion: string }; spec: Record<string, unknown> };

function leaseApi() {
  const leases = new Map<string, Lease>();
  let rv = 100;
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const send = (status: number, obj: unknown) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.headers.authorization !== 'Bearer test-token') return send(401, { kind: 'Status', code: 401 });
      const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(req.url ?? '');
      if (!m) return send(404, { kind: 'Status', code: 404 });
      const [, ns, name] = m;
      const key = `${ns}/${name}`;
      const input = body ? JSON.parse(body) : undefined;
      log.push(`${req.method} ${name ?? input?.metadata?.name}`);
      if (req.method === 'POST') {
        const k = `${ns}/${input.metadata.name}`;
        if (leases.has(k)) return send(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' });
        const l = { ...input, metadata: { ...input.metadata, namespace: ns, resourceVersion: String(++rv) } };
        leases.set(k, l);
        return send(201, l);
      }
      const cur = leases.get(key);
      if (!cur) return send(404, { kind: 'Status', code: 404 });
      if (req.method === 'GET') return send(200, cur);
      if (req.method === 'PUT') {
        if (input.metadata?.resourceVersion !== cur.metadata.resourceVersion) return send(409, { kind: 'Status', code: 409, reason: 'Conflict' });
        const l = { ...input, metadata: { ...input.metadata, resourceVersion: String(++rv) } };
        leases.set(key, l);
        return send(200, l);
      }
      if (req.method === 'DELETE') {
        const pre = input?.preconditions?.resourceVersion;
        if (pre && pre !== cur.metadata.resourceVersion) return send(409, { kind: 'Status', code: 409 });
        leases.delete(key);
        return send(200, { kind: 'Status', status: 'Success' });
      }
      send(405, {});
    });
  });
  return { server, leases, log };
}

const LEASE_RUN = path.resolve(process.cwd(), 'deploy/image/lease-run.mjs');

/** lease-run as a child; `stderr()` is what it has said so far, `done` its exit. */
function startLease(kubeconfig: string, holder: string, command: string[], extra: string[] = []): { stderr: () => string; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [LEASE_RUN, `--kubeconfig=${kubeconfig}`, '--namespace=kubepki', '--lease=kubepki-renewal', `--holder=${holder}`, '--duration=30', '--retry=0.2', ...extra, '--', ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return { stderr: () => stderr, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))) };
}
const runLease = (kubeconfig: string, holder: string, command: string[], extra: string[] = []) => startLease(kubeconfig, holder, command, extra).done;

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 25))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

test('lease-run: renewals on two nodes never overlap, the Lease is released, exit codes pass through', async () => {
  const api = leaseApi();
  await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', () => r()));
  const port = (api.server.address() as AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-lease-'));
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: test-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
    const out = path.join(dir, 'order.log');
    // Each job runs until the test lets it end (a file go-ID), so the second node surely finds the Lease held
    // however slowly each process starts (loading the Kubernetes client takes seconds on a loaded machine).
    const go = (id: string) => path.join(dir, `go-${id}`);
    const job = (id: string, code: number) => [process.execPath, '-e', `const fs=require('fs');fs.appendFileSync(${JSON.stringify(out)},'start ${id}\\n');const t=setInterval(()=>{if(!fs.existsSync(${JSON.stringify(go(id))}))return;clearInterval(t);fs.appendFileSync(${JSON.stringify(out)},'end ${id}\\n');process.exit(${code})},20)`];
    const first = startLease(kubeconfig, 'cp-1', job('cp-1', 0));
    await until('cp-1 to hold the Lease and start its job', () => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('start cp-1'));
    const second = startLease(kubeconfig, 'cp-2', job('cp-2', 3));
    await until('cp-2 to find the Lease held', () => /is held by cp-1; waiting/.test(second.stderr()));
    fs.writeFileSync(go('cp-1'), '');
    fs.writeFileSync(go('cp-2'), '');
    const [a, b] = await Promise.all([first.done, second.done]);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^start /);
    assert.equal(lines[1], lines[0].replace('start', 'end'), `no overlap: ${lines.join(' | ')}`);
    assert.equal(lines[3], lines[2].replace('start', 'end'));
    assert.deepEqual([a.code, b.code], [0, 3], `${a.stderr}\n${b.stderr}`);
    assert.match(a.stderr + b.stderr, /is held by cp-[12]; waiting/);
    assert.equal(api.leases.size, 0, 'released');

    // an abandoned Lease (its holder died) is taken over once it has expired
    api.leases.set('kubepki/kubepki-renewal', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kubepki-renewal', namespace: 'kubepki', resourceVersion: '7' }, spec: { holderIdentity: 'cp-3', leaseDurationSeconds: 30, renewTime: new Date(Date.now() - 3600_000).toISOString() } });
    const c = await runLease(kubeconfig, 'cp-1', [process.execPath, '-e', 'process.exit(0)']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /took over the expired Lease from cp-3/);

    // a live Lease held elsewhere: give up after --wait with EX_TEMPFAIL
    api.leases.set('kubepki/kubepki-renewal', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'kubepki-renewal', namespace: 'kubepki', resourceVersion: '8' }, spec: { holderIdentity: 'cp-3', leaseDurationSeconds: 30, renewTime: new Date().toISOString() } });
    const d = await runLease(kubeconfig, 'cp-1', [process.execPath, '-e', 'process.exit(0)'], ['--wait=1']);
    assert.equal(d.code, 75, d.stderr);
    assert.equal(api.leases.get('kubepki/kubepki-renewal')!.spec.holderIdentity, 'cp-3', 'a live Lease is never taken');
  } finally {
    api.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
