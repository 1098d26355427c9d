#!/usr/bin/env node
// Run a command while holding a coordination.k8s.io/v1 Lease, so that only one
// control-plane node renews its certificates at a time across the cluster.
//
//   node lease-run.mjs --namespace kubepki --lease kubepki-renewal --holder cp-1 \
//     [--duration 1800] [--wait 3600] [--retry 15] [--kubeconfig FILE] -- kubepki renew ...
//
// Takes the Lease (create; or update it when it is free, ours, or expired:
// renewTime + leaseDurationSeconds in the past), renews it every third of the
// duration while the command runs, deletes it afterwards, and exits with the
// command's exit code. Exits 75 (EX_TEMPFAIL) when the Lease stays held by
// another node for --wait seconds. The apiserver's resourceVersion check makes
// take-over safe: of two nodes updating the same expired Lease, one gets 409.
// Uses the pod's ServiceAccount (in cluster) or --kubeconfig, through
// @kubernetes/client-node for the credentials.
import * as http from 'node:http';
import * as https from 'node:https';
import { spawn } from 'node:child_process';

function parseArgs(argv) {
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1) usage('missing -- COMMAND');
  const o = { duration: 1800, wait: 3600, retry: 15 };
  for (const a of argv.slice(0, sep)) {
    const m = /^--([a-z]+)=(.*)$/.exec(a);
    if (!m) usage(`bad argument ${a}`);
    o[m[1]] = m[2];
  }
  for (const k of ['namespace', 'lease', 'holder']) if (!o[k]) usage(`--${k}=… is required`);
  for (const k of ['duration', 'wait', 'retry']) { o[k] = Number(o[k]); if (!(o[k] > 0)) usage(`--${k} must be a positive number of seconds`); }
  o.command = argv.slice(sep + 1);
  return o;
}

function usage(msg) {
  process.stderr.write(`lease-run: ${msg}\nusage: lease-run.mjs --namespace=NS --lease=NAME --holder=ID [--duration=1800] [--wait=3600] [--retry=15] [--kubeconfig=FILE] -- COMMAND...\n`);
  process.exit(64);
}

const log = (m) => process.stderr.write(`lease-run: ${m}\n`);
const microTime = (d) => d.toISOString().replace(/Z$/, '000Z');

async function client(kubeconfig) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig); else kc.loadFromCluster();
  const server = new URL(kc.getCurrentCluster().server);
  const base = {};
  await kc.applyToHTTPSOptions(base);
  return async (method, path, body) => {
    const mod = server.protocol === 'https:' ? https : http;
    const payload = body ? JSON.stringify(body) : undefined;
    // (a fresh connection per call, and the body's length said: a DELETE with a body is not framed by default,
    // and a reused keep-alive socket can be closed by the server while the command ran)
    const opts = { ...base, agent: false, method, hostname: server.hostname, port: server.port || (server.protocol === 'https:' ? 443 : 80), path: server.pathname.replace(/\/$/, '') + path, headers: { ...(base.headers ?? {}), Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) } };
    return new Promise((resolve, reject) => {
      const req = mod.request(opts, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => { let json; try { json = JSON.parse(text); } catch { json = undefined; } resolve({ status: res.statusCode, json, text }); });
      });
      req.on('error', reject);
      req.end(payload);
    });
  };
}

export async function runUnderLease(o) {
  const api = await client(o.kubeconfig);
  const coll = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`;
  const one = `${coll}/${encodeURIComponent(o.lease)}`;
  const spec = (now, prev) => ({
    holderIdentity: o.holder,
    leaseDurationSeconds: o.duration,
    acquireTime: microTime(now),
    renewTime: microTime(now),
    leaseTransitions: (prev?.spec?.leaseTransitions ?? 0) + (prev ? 1 : 0),
  });
  const deadline = Date.now() + o.wait * 1000;
  let lease;
  for (;;) {
    const now = new Date();
    const c = await api('POST', coll, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.lease, namespace: o.namespace }, spec: spec(now) });
    if (c.status === 201 || c.status === 200) { lease = c.json; break; }
    if (c.status !== 409) throw new Error(`failed to create Lease ${o.namespace}/${o.lease}: HTTP ${c.status} ${c.text.slice(0, 300)}`);
    const g = await api('GET', one);
    if (g.status === 404) continue; // released meanwhile: create again
    if (g.status !== 200) throw new Error(`failed to read Lease ${o.namespace}/${o.lease}: HTTP ${g.status} ${g.text.slice(0, 300)}`);
    const s = g.json.spec ?? {};
    const renewed = Date.parse(s.renewTime ?? s.acquireTime ?? 0);
    const expired = !Number.isFinite(renewed) || renewed + (s.leaseDurationSeconds ?? o.duration) * 1000 < now.getTime();
    if (!s.holderIdentity || s.holderIdentity === o.holder || expired) {
      const u = await api('PUT', one, { ...g.json, spec: spec(now, g.json) });
      if (u.status === 200) { lease = u.json; if (expired && s.holderIdentity && s.holderIdentity !== o.holder) log(`took over the expired Lease from ${s.holderIdentity}`); break; }
      if (u.status !== 409) throw new Error(`failed to update Lease ${o.namespace}/${o.lease}: HTTP ${u.status} ${u.text.slice(0, 300)}`);
      continue; // someone else updated it first
    }
    if (Date.now() > deadline) { log(`Lease ${o.namespace}/${o.lease} is held by ${s.holderIdentity}; gave up after ${o.wait}s`); return 75; }
    log(`Lease ${o.namespace}/${o.lease} is held by ${s.holderIdentity}; waiting`);
    await new Promise((r) => setTimeout(r, o.retry * 1000));
  }
  log(`holding Lease ${o.namespace}/${o.lease} as ${o.holder}; running ${o.command.join(' ')}`);
  const renew = setInterval(async () => {
    const u = await api('PUT', one, { ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } }).catch((e) => ({ status: 0, text: String(e) }));
    if (u.status === 200) lease = u.json; else log(`failed to renew the Lease: HTTP ${u.status} ${String(u.text).slice(0, 200)}`);
  }, Math.max(1000, (o.duration * 1000) / 3));
  const code = await new Promise((resolve) => {
    const child = spawn(o.command[0], o.command.slice(1), { stdio: 'inherit' });
    child.on('error', (e) => { log(`failed to start ${o.command[0]}: ${e.message}`); resolve(127); });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  clearInterval(renew);
  const d = await api('DELETE', one, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: lease.metadata?.resourceVersion } });
  if (d.status !== 200 && d.status !== 202 && d.status !== 404) log(`failed to release the Lease: HTTP ${d.status} (it expires by itself after ${o.duration}s)`);
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runUnderLease(parseArgs(process.argv.slice(2))).then((code) => { process.exitCode = code; }, (e) => { log(e.message); process.exitCode = 70; });
}
