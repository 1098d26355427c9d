import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { parsePromText, promtoolCheck } from './metrics-parse.js';
import { copyFixture, removeCopy, checkJson, serveFixture, get, waitFor, FIXTURES, NOW } from './serve-helpers.js';
import { serialDecimal } from '../src/report/metrics.js';
import { startServer, checkServeAuth } from '../src/server/server.js';
import { parseListen, isLoopback } from '../src/server/listen.js';
import type { Inventory } from '../src/inventory/types.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { which, tmpDir } from './support/fixtures.js';
import { etcdIntermediateChain, servingEtcd } from './support/etcd.js';
import { makeK0sController, makeMicroK8s } from './support/installer-trees.js';
import { layoutWatchDirs, watchDirOf } from '../src/layouts/detect.js';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';

const seriesKey = (l: Record<string, string>) => `${l.filepath}|${l.name}|${l.serial_number}|${l.embedded_key}`;

for (const fixture of ['kubeadm-1.26-expired', 'kubeadm-1.26']) {
  test(`serve ${fixture}: /metrics parses, passes promtool, one x509_cert_not_after per certificate check reports`, async () => {
    const root = copyFixture(fixture);
    const server = await serveFixture(root);
    try {
      const { inv: checked } = await checkJson(root);
      assert.ok(checked.certificates.length >= 10, 'the fixture has certificates');
      const res = await get(server.url + 'metrics');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const fams = parsePromText(res.body);
      const check = promtoolCheck(res.body);
      if (!check) console.log('# /usr/bin/promtool absent (Debian package prometheus): promtool check skipped');
      else assert.ok(check.ok, `promtool check metrics:\n${check.output}`);

      const na = fams.get('x509_cert_not_after')!.samples;
      assert.equal(na.length, checked.certificates.length, 'one series per certificate');
      const byKey = new Map(na.map((s) => [seriesKey(s.labels), s]));
      assert.equal(byKey.size, na.length, 'series are distinct');
      for (const c of checked.certificates) {
        const s = byKey.get(`${c.location.file}|${c.name}|${serialDecimal(c.serial)}|${c.location.kubeconfig?.name ?? ''}`);
        assert.ok(s, `series for ${c.id}`);
        assert.equal(s.value, Math.floor(Date.parse(c.notAfter) / 1000), `${c.id} notAfter`);
        assert.equal(s.labels.node, 'cp-1');
        assert.equal(s.labels.subject_CN, c.subjectCN ?? '');
        assert.equal(s.labels.managed_by, c.managedBy);
      }
      const expired = fams.get('x509_cert_expired')!.samples.filter((s) => s.value === 1).length;
      assert.equal(expired, checked.certificates.filter((c) => Date.parse(c.notAfter) <= NOW.getTime()).length);
      if (fixture === 'kubeadm-1.26-expired') assert.ok(expired >= 10, 'the expired tree shows expired series');
      else assert.equal(expired, 0);
      const nb = fams.get('x509_cert_not_before')!.samples;
      assert.equal(nb.length, na.length);
      const errFindings = fams.get('kubepki_findings')?.samples.filter((s) => s.labels.severity === 'error').reduce((a, s) => a + s.value, 0) ?? 0;
      assert.equal(errFindings, checked.findings.filter((f) => f.severity === 'error').length);
      assert.equal(fams.get('kubepki_read_errors')!.samples[0].value, 0);

      // /api/inventory is what `check -o json` prints
      const api = await get(server.url + 'api/inventory');
      assert.equal(api.status, 200);
      assert.deepEqual(JSON.parse(api.body), checked);
      const etag = String(api.headers.etag);
      assert.match(etag, /^"[\w-]+"$/);
      assert.equal((await get(server.url + 'api/inventory', { headers: { 'If-None-Match': etag } })).status, 304, 'unchanged inventory: 304');
      assert.doesNotMatch(api.body, /PRIVATE KEY/);
      assert.equal((await get(server.url + 'healthz')).body, 'ok\n');
      const page = await get(server.url);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-security-policy']), /connect-src 'self'/);
      assert.doesNotMatch(page.body, /PRIVATE KEY/);
    } finally {
      await server.close();
      removeCopy(root);
    }
  });
}

test('serve is read-only and answers unknown paths plainly', async () => {
  const root = copyFixture('kubeadm-1.26');
  const before = snapshotTree(root);
  const server = await serveFixture(root);
  try {
    assert.equal((await get(server.url + 'metrics', { method: 'POST' })).status, 405);
    assert.equal((await get(server.url + 'api/inventory', { method: 'DELETE' })).status, 405);
    assert.equal((await get(server.url + 'nope')).status, 404);
    const head = await get(server.url + 'metrics', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    await server.refresh('test');
  } finally {
    await server.close();
  }
  assert.deepEqual(snapshotTree(root), before, 'serve wrote nothing under the root');
  removeCopy(root);
});

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${st.mode}:${st.size}:${st.mtimeMs}:${e.isSymbolicLink() ? fs.readlinkSync(p) : ''}`;
    }
  };
  walk(dir);
  return out;
}

test('serve re-reads when a watched directory changes (renewed apiserver.crt shows up without waiting for the interval)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const server = await serveFixture(root, { watch: true, debounceMs: 100 });
  try {
    const apiserver = (inv: Inventory) => inv.certificates.find((c) => c.name === 'apiserver')!;
    const first = JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
    assert.equal(apiserver(first).status, 'expired');
    // "renew" it: drop in the fresh tree's certificate and key
    for (const f of ['apiserver.crt', 'apiserver.key']) {
      fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki', f), path.join(root, 'etc/kubernetes/pki', f));
    }
    const after = await waitFor('the watcher to re-read', async () => {
      const inv = JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
      return apiserver(inv).status === 'ok' ? inv : undefined;
    });
    assert.ok(Date.parse(apiserver(after).notAfter) > Date.parse(apiserver(first).notAfter));
    const fams = parsePromText((await get(server.url + 'metrics')).body);
    const s = fams.get('x509_cert_expired')!.samples.find((x) => x.labels.name === 'apiserver')!;
    assert.equal(s.value, 0);
    assert.ok(server.state().reads >= 2);
  } finally {
    await server.close();
    removeCopy(root);
  }
});

test('a failed read is a metric, not a crash: the last inventory stays served', async () => {
  const root = copyFixture('kubeadm-1.26');
  let fail = false;
  const { readInventory } = await import('../src/inventory/read.js');
  const { NodeFs } = await import('../src/fs/node-fs.js');
  const server = await startServer({
    root, listen: { host: '127.0.0.1', port: 0 }, intervalSeconds: 3600, watch: false, now: () => NOW,
    read: (now) => { if (fail) throw new Error('EIO reading /etc/kubernetes/pki'); return readInventory({ fs: new NodeFs(root), now }); },
  });
  try {
    fail = true;
    await server.refresh('test');
    const fams = parsePromText((await get(server.url + 'metrics')).body);
    assert.equal(fams.get('kubepki_read_errors')!.samples[0].value, 1);
    assert.ok(fams.get('x509_cert_not_after')!.samples.length > 10, 'previous certificates still served');
    assert.equal((await get(server.url + 'healthz')).status, 200);
    assert.equal(server.state().lastError, 'EIO reading /etc/kubernetes/pki');
    // recovered: the gauge says "now", the counter keeps the history (an alert on the gauge clears)
    fail = false;
    await server.refresh('test');
    const after = parsePromText((await get(server.url + 'metrics')).body);
    assert.equal(after.get('kubepki_read_errors')!.samples[0].value, 0);
    assert.equal(after.get('kubepki_read_failures_total')!.samples[0].value, 1);
  } finally {
    await server.close();
    removeCopy(root);
  }
});

// A node whose tree was never read (a wiped /etc/kubernetes, mounts of another installer's paths) served
// kubepki_last_read_timestamp_seconds as the time of its last failed attempt, fresh at every interval: KubepkiReadStale
// ("last successful read older than 15 min") never fired. And kubepki_read_duration_seconds vanished while reads
// failed, so a read that fails slowly (a hung mount) had no series to show it.
test('a node never read has no fresh last-read timestamp: 0, so KubepkiReadStale fires; read duration stays a series while reads fail', async () => {
  const root = copyFixture('kubeadm-1.26');
  let fail = true;
  let clock = NOW;
  const { readInventory } = await import('../src/inventory/read.js');
  const { NodeFs } = await import('../src/fs/node-fs.js');
  const server = await startServer({
    root, listen: { host: '127.0.0.1', port: 0 }, intervalSeconds: 3600, watch: false, now: () => clock,
    read: (now) => { if (fail) throw new Error(`no certificates found under ${root}`); return readInventory({ fs: new NodeFs(root), now }); },
  });
  const scrape = async () => parsePromText((await get(server.url + 'metrics')).body);
  const value = (fams: Awaited<ReturnType<typeof scrape>>, name: string) => fams.get(name)?.samples[0]?.value;
  try {
    let fams = await scrape();
    assert.equal((await get(server.url + 'healthz')).status, 503);
    // alive all the same: a liveness probe on /healthz restarted the pod in a loop, scraped too rarely for any alert
    assert.equal((await get(server.url + 'livez')).status, 200);
    assert.equal(value(fams, 'kubepki_last_read_timestamp_seconds'), 0, 'never read: no timestamp of a read that did not happen');
    assert.equal(value(fams, 'kubepki_read_errors'), 1);
    assert.equal(typeof value(fams, 'kubepki_read_duration_seconds'), 'number', 'the failed read took some time too');
    clock = new Date(NOW.getTime() + 60_000);
    await server.refresh('interval');
    assert.equal(value(await scrape(), 'kubepki_last_read_timestamp_seconds'), 0, 'another failed attempt is not a read either');
    fail = false;
    await server.refresh('interval');
    fams = await scrape();
    const readAt = clock.getTime() / 1000;
    assert.equal(value(fams, 'kubepki_last_read_timestamp_seconds'), readAt);
    // and a read failing after that keeps the last good read's time, as before, and its duration series
    fail = true;
    clock = new Date(clock.getTime() + 60_000);
    await server.refresh('interval');
    fams = await scrape();
    assert.equal(value(fams, 'kubepki_last_read_timestamp_seconds'), readAt);
    assert.equal(typeof value(fams, 'kubepki_read_duration_seconds'), 'number');
    const check = promtoolCheck((await get(server.url + 'metrics')).body);
    if (check) assert.ok(check.ok, check.output);
  } finally {
    await server.close();
    removeCopy(root);
  }
});

test('listen rules: loopback by default, non-loopback needs auth or --insecure-no-auth', () => {
  assert.deepEqual(parseListen('127.0.0.1:9793'), { host: '127.0.0.1', port: 9793 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListen(':9793'), { host: '0.0.0.0', port: 9793 });
  assert.throws(() => parseListen('9793'), /no port/);
  assert.throws(() => parseListen('example.com:80'), /not an IP address/);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && !isLoopback('0.0.0.0') && !isLoopback('10.0.0.1'));
  assert.throws(() => checkServeAuth({ listen: parseListen('0.0.0.0:9793') }), /refusing to listen on 0\.0\.0\.0:9793 without authentication/);
  checkServeAuth({ listen: parseListen('0.0.0.0:9793'), insecureNoAuth: true });
  checkServeAuth({ listen: parseListen('0.0.0.0:9793'), bearerTokenFile: '/x' });
  assert.throws(() => checkServeAuth({ listen: parseListen('0.0.0.0:9793'), tls: { certFile: '', keyFile: '', clientCaFile: '/ca' } }), /--client-ca needs --tls-cert/);
});

test('bearer token: /metrics and / need it, /healthz does not', async () => {
  const root = copyFixture('kubeadm-1.26');
  const tokenFile = path.join(path.dirname(root), 'token');
  fs.writeFileSync(tokenFile, 's3cret-token\n', { mode: 0o600 });
  const server = await serveFixture(root, { bearerTokenFile: tokenFile });
  try {
    assert.equal((await get(server.url + 'metrics')).status, 401);
    assert.equal((await get(server.url + 'metrics', { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await get(server.url + 'metrics', { headers: { Authorization: 'Bearer s3cret-token' } })).status, 200);
    assert.equal((await get(server.url + 'api/inventory', { headers: { Authorization: 'Bearer s3cret-token' } })).status, 200);
    assert.equal((await get(server.url)).status, 401);
    assert.equal((await get(server.url + 'healthz')).status, 200);
    // a browser cannot send a Bearer header: it gets a Basic challenge and sends the token as the password
    const challenge = await get(server.url);
    assert.match(String(challenge.headers['www-authenticate']), /Bearer realm="kubepki"/);
    assert.match(String(challenge.headers['www-authenticate']), /Basic realm="kubepki[^"]*"/);
    assert.match(challenge.body, /token as the password/);
    const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    assert.equal((await get(server.url, { headers: basic('admin', 's3cret-token') })).status, 200);
    assert.equal((await get(server.url + 'api/inventory', { headers: basic('', 's3cret-token') })).status, 200);
    assert.equal((await get(server.url, { headers: basic('s3cret-token', 'wrong') })).status, 401, 'the user name is not the token');
    assert.equal((await get(server.url, { headers: { Authorization: `Basic ${Buffer.from('s3cret-token').toString('base64')}` } })).status, 401, 'no colon: no password');
    assert.equal((await get(server.url, { headers: { Authorization: 'Bearer' } })).status, 401);
  } finally {
    await server.close();
    removeCopy(root);
  }
});

test('kubepki serve (the CLI) refuses 0.0.0.0 without auth, and serves then stops cleanly on SIGTERM', async () => {
  const root = copyFixture('kubeadm-1.26');
  const bin = path.resolve(process.cwd(), 'bin/kubepki.js');
  try {
    const refused = await runCli(bin, ['serve', '--root', root, '--listen', '0.0.0.0:0'], 10000);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0:0 without authentication/);
    assert.match(refused.stderr, /hint: add --bearer-token-file/);

    const child = spawn(process.execPath, [bin, 'serve', '--root', root, '--listen', '127.0.0.1:0', '--now', '2026-11-23', '--interval', '1h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const url = await waitFor('serve to print its URL', () => /listening on (http:\/\/\S+\/)/.exec(stderr)?.[1], 15000);
    const fams = parsePromText((await get(url + 'metrics')).body);
    assert.ok(fams.get('x509_cert_not_after')!.samples.length >= 10);
    const code = await new Promise<number | null>((resolve) => { child.on('exit', (c) => resolve(c)); child.kill('SIGTERM'); });
    assert.equal(code, 0, stderr);
  } finally {
    removeCopy(root);
  }
});

test('kubepki serve (the CLI): a tree that vanishes is a failed read that keeps the last inventory, not a healthy empty node', async () => {
  const root = copyFixture('kubeadm-1.26');
  const moved = `${root}.gone`;
  const bin = path.resolve(process.cwd(), 'bin/kubepki.js');
  const child = spawn(process.execPath, [bin, 'serve', '--root', root, '--listen', '127.0.0.1:0', '--now', '2026-11-23', '--interval', '1s', '--no-probe', '--no-watch'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    const url = await waitFor('serve to print its URL', () => /listening on (http:\/\/\S+\/)/.exec(stderr)?.[1], 15000);
    const before = parsePromText((await get(url + 'metrics')).body).get('x509_cert_not_after')!.samples.length;
    assert.ok(before >= 10);
    fs.renameSync(root, moved);
    const fams = await waitFor('a failed read to show', async () => {
      const f = parsePromText((await get(url + 'metrics')).body);
      return f.get('kubepki_read_errors')!.samples[0]!.value >= 1 ? f : undefined;
    }, 15000);
    assert.equal(fams.get('x509_cert_not_after')!.samples.length, before, 'the last inventory is kept');
    assert.match(stderr, /failed to read .*does not exist any more/);
  } finally {
    await new Promise<void>((resolve) => { child.on('exit', () => resolve()); child.kill('SIGTERM'); });
    fs.rmSync(moved, { recursive: true, force: true });
    removeCopy(root);
  }
});

function runCli(bin: string, args: string[], ms: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, stderr }); });
  });
}

test('kubepki_served_cert_stale: a component still serving the certificate replaced on disk is 1, the current one 0', async () => {
  const tls = await import('node:tls');
  const { probeLocal, parseProbeFlag } = await import('../src/server/probe-local.js');
  const root = copyFixture('kubeadm-1.26');
  const pki = (tree: string, f: string) => fs.readFileSync(path.join(FIXTURES, tree, 'etc/kubernetes/pki', f));
  // the "old" apiserver (the expired tree's certificate, same key and subject) and the current one
  const old = tls.createServer({ cert: pki('kubeadm-1.26-expired', 'apiserver.crt'), key: pki('kubeadm-1.26-expired', 'apiserver.key') }, (s) => s.end());
  const cur = tls.createServer({ cert: pki('kubeadm-1.26', 'apiserver.crt'), key: pki('kubeadm-1.26', 'apiserver.key') }, (s) => s.end());
  await Promise.all([old, cur].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
  const port = (s: typeof old) => (s.address() as import('node:net').AddressInfo).port;
  const endpoints = [parseProbeFlag(`kube-apiserver=127.0.0.1:${port(old)}`), parseProbeFlag(`etcd=127.0.0.1:${port(cur)}`), parseProbeFlag('kubelet=127.0.0.1:1')];
  const server = await serveFixture(root, { probe: (inv) => probeLocal(inv, endpoints) });
  try {
    const fams = parsePromText((await get(server.url + 'metrics')).body);
    const s = fams.get('kubepki_served_cert_stale')!.samples;
    const by = Object.fromEntries(s.map((x) => [x.labels.component, x]));
    assert.equal(by['kube-apiserver'].value, 1, 'old certificate still served');
    assert.equal(by['kube-apiserver'].labels.filepath, '/etc/kubernetes/pki/apiserver.crt');
    assert.equal(by.etcd.value, 0, 'serves what is on disk');
    assert.equal(by.kubelet, undefined, 'nothing listening: no series');
    assert.throws(() => parseProbeFlag('apiserver'), /--probe-endpoint/);
  } finally {
    await server.close();
    old.close();
    cur.close();
    removeCopy(root);
  }
});

test('client-certificate auth: HTTPS, /metrics needs a certificate from --client-ca, /healthz does not', async () => {
  const https = await import('node:https');
  const { execFileSync } = await import('node:child_process');
  const root = copyFixture('kubeadm-1.26');
  const dir = path.join(path.dirname(root), 'tls');
  fs.mkdirSync(dir);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  // a CA for clients, a server pair for 127.0.0.1, a client pair signed by the CA, and a stranger
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=scrapers', '-days', '2');
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-subj', '/CN=kubepki', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=prometheus');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-subj', '/CN=stranger', '-days', '2');
  const read = (f: string) => fs.readFileSync(path.join(dir, f));
  const server = await serveFixture(root, {
    listen: { host: '0.0.0.0', port: 0 },
    tls: { certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key'), clientCaFile: path.join(dir, 'ca.crt') },
  });
  const req = (p: string, cert?: string) => new Promise<number>((resolve, reject) => {
    https.get(`https://127.0.0.1:${server.address.port}${p}`, { ca: read('server.crt'), ...(cert ? { cert: read(`${cert}.crt`), key: read(`${cert}.key`) } : {}) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
  try {
    assert.match(server.url, /^https:/);
    assert.equal(await req('/metrics', 'client'), 200);
    assert.equal(await req('/api/inventory', 'client'), 200);
    assert.equal(await req('/metrics'), 401);
    assert.equal(await req('/metrics', 'other'), 401);
    assert.equal(await req('/healthz'), 200);
  } finally {
    await server.close();
    removeCopy(root);
  }
});

test('kubepki_served_chain_incomplete against a real etcd: 1 while it sends its certificate without the intermediate CA on disk (what kubepki probe calls an incomplete chain, exit 2), 0 once it sends both', { skip: which('etcd') ? false : 'etcd is not installed (apt-get install etcd-server)' }, async () => {
  const { probeLocal, parseProbeFlag } = await import('../src/server/probe-local.js');
  const root = copyFixture('kubeadm-1.26');
  const work = fs.mkdtempSync(path.join(path.dirname(root), 'chain-'));
  // etcd-ca → etcd-intermediate-ca (on disk) → etcd's serving certificate; etcd first sends the leaf alone
  const { leafCrt, leafKey, intCrt } = etcdIntermediateChain(root, work);
  // openssl issued them from this moment: probe at a --now before it sees a leaf not yet valid (exit 2)
  const now = new Date().toISOString();
  const served = path.join(work, 'served.crt');
  fs.copyFileSync(leafCrt, served);
  const etcd = await servingEtcd(served, leafKey);
  const endpoint = `127.0.0.1:${etcd.port}`;
  const server = await serveFixture(root, { probe: (inv) => probeLocal(inv, [parseProbeFlag(`etcd=${endpoint}`)]) });
  const scrape = async () => {
    const body = (await get(server.url + 'metrics')).body;
    const check = promtoolCheck(body);
    if (check) assert.ok(check.ok, `promtool check metrics:\n${check.output}`);
    const fams = parsePromText(body);
    const one = (name: string) => {
      const s = fams.get(name)?.samples ?? [];
      assert.equal(s.length, 1, `${name}: ${JSON.stringify(s)}`);
      return s[0]!;
    };
    return { incomplete: one('kubepki_served_chain_incomplete'), stale: one('kubepki_served_cert_stale').value, probed: one('kubepki_served_cert_probed').value };
  };
  const probe = async () => {
    const io = memoryIo();
    const code = await run(['probe', endpoint, '--root', root, '--now', now, '-o', 'json'], io);
    return { code, json: JSON.parse(io.out) };
  };
  try {
    const before = await scrape();
    assert.equal(before.incomplete.value, 1);
    assert.deepEqual(before.incomplete.labels, { node: 'cp-1', endpoint, component: 'etcd', filepath: '/etc/kubernetes/pki/etcd/server.crt' });
    assert.equal(before.stale, 0, 'it serves the certificate on disk');
    assert.equal(before.probed, 1);
    // the metric says what probe says of the same endpoint
    const p = await probe();
    assert.equal(p.code, 2);
    assert.equal(p.json.incompleteChain.file, '/etc/kubernetes/pki/etcd/intermediate-ca.crt');

    // leaf + intermediate, in the file etcd serves (re-read on every handshake) and on disk: the chain is whole
    const bundle = fs.readFileSync(leafCrt, 'latin1') + fs.readFileSync(intCrt, 'latin1');
    fs.writeFileSync(served, bundle);
    fs.writeFileSync(leafCrt, bundle);
    await server.refresh('test');
    const after = await scrape();
    assert.equal(after.incomplete.value, 0);
    assert.equal(after.stale, 0);
    const q = await probe();
    assert.equal(q.code, 0, JSON.stringify(q.json));
    assert.equal(q.json.incompleteChain, undefined);
  } finally {
    await server.close();
    await etcd.stop();
    removeCopy(root);
  }
});

test('serve watches the detected layouts\' directories: a snap refresh that moves MicroK8s\'s current link to a revision with a renewed server.crt shows up without waiting for the interval (was: only kubeadm\'s, the kubelet\'s and the files\' own directories, never /var/snap/microk8s)', async () => {
  const root = tmpDir('kubepki-serve-mk8s-');
  makeMicroK8s(root, { revision: '7229', installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2025-11-20T12:00:00Z') });
  const next = tmpDir('kubepki-serve-mk8s-next-');
  makeMicroK8s(next, { revision: '7300', installed: new Date('2024-02-01T09:00:00Z'), leavesIssued: new Date('2026-11-01T12:00:00Z') });
  const server = await serveFixture(root, { watch: true, debounceMs: 100, read: (now) => readInventory({ fs: new NodeFs(root), now }), watchDirs: (inv) => layoutWatchDirs(new NodeFs(root), inv.layouts) });
  try {
    const apiserver = (inv: Inventory) => inv.certificates.find((c) => c.name === 'apiserver')!;
    const first = JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
    assert.match(apiserver(first).location.file, /^\/var\/snap\/microk8s\/7229\//);
    // what snapd does: the new revision's copy beside the old, then `current` switched to it in one rename
    const snap = path.join(root, 'var/snap/microk8s');
    fs.cpSync(path.join(next, 'var/snap/microk8s/7300'), path.join(snap, '7300'), { recursive: true, verbatimSymlinks: true });
    fs.symlinkSync('7300', path.join(snap, 'current.new'));
    fs.renameSync(path.join(snap, 'current.new'), path.join(snap, 'current'));
    const after = await waitFor('the watcher to re-read', async () => {
      const inv = JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
      return apiserver(inv).location.file.startsWith('/var/snap/microk8s/7300/') ? inv : undefined;
    }, 4000);
    assert.ok(Date.parse(apiserver(after).notAfter) > Date.parse(apiserver(first).notAfter));
  } finally {
    await server.close();
  }
});

test('layoutWatchDirs: each layout\'s directories, a file target as its directory and name, a home directory only for RKE1\'s kube_config_*.yml', () => {
  const root = tmpDir('kubepki-serve-k0s-');
  makeK0sController(root, { casIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2025-11-30T08:00:00Z'), worker: true });
  const k0s = layoutWatchDirs(new NodeFs(root), ['k0s']);
  assert.deepEqual(k0s, [{ dir: '/var/lib/k0s/pki' }, { dir: '/var/lib/k0s', match: 'kubelet.conf' }, { dir: '/var/lib/k0s/kubelet/pki' }]);
  fs.mkdirSync(path.join(root, 'root'));
  const rke1 = layoutWatchDirs(new NodeFs(root), ['rke1']);
  assert.deepEqual(rke1.find((w) => w.dir === '/root')?.match, /^kube_config_.*\.ya?ml$/);
});

test('a directory first watched for one name (a --kubeconfig not written yet) is watched for the files the inventory later reads there: a client.crt replaced beside the kubeconfig shows up without waiting for the interval (was: only changes to the kubeconfig itself were seen)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const kube = path.join(root, 'root/.kube');
  fs.mkdirSync(kube, { recursive: true });
  const nfs = new NodeFs(root);
  const server = await serveFixture(root, {
    watch: true, debounceMs: 100,
    read: (now) => readInventory({ fs: new NodeFs(root), now, kubeconfigs: ['/root/.kube/config'] }),
    watchDirs: () => [watchDirOf(nfs, '/root/.kube/config')],
  });
  try {
    const client = (inv: Inventory) => inv.certificates.find((c) => c.location.file === '/root/.kube/client.crt');
    const read = async () => JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
    assert.equal(client(await read()), undefined);
    // the kubeconfig appears, naming a client pair beside it: /root/.kube was watched for `config` alone
    // (pairs from the other fixture: none of this tree's own, which would be read as the pki/ file they copy)
    for (const f of ['crt', 'key']) fs.copyFileSync(path.join(FIXTURES, `kubeadm-1.26/etc/kubernetes/pki/apiserver-kubelet-client.${f}`), path.join(kube, `client.${f}`));
    const ca = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt')).toString('base64');
    fs.writeFileSync(path.join(kube, 'config'), `apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: ${ca}\ncontexts:\n- name: k\n  context:\n    cluster: k\n    user: u\ncurrent-context: k\nusers:\n- name: u\n  user:\n    client-certificate: /root/.kube/client.crt\n    client-key: /root/.kube/client.key\n`);
    const first = await waitFor('the kubeconfig to be read', async () => { const c = client(await read()); return c ? c : undefined; });
    const reads = server.state().reads;
    // now the pair beside it is replaced: a file the inventory reads, in a directory first watched for another name
    for (const f of ['crt', 'key']) fs.copyFileSync(path.join(FIXTURES, `kubeadm-1.26/etc/kubernetes/pki/apiserver-etcd-client.${f}`), path.join(kube, `client.${f}.new`));
    for (const f of ['crt', 'key']) fs.renameSync(path.join(kube, `client.${f}.new`), path.join(kube, `client.${f}`));
    const replaced = await waitFor('the watcher to re-read', async () => { const c = client(await read()); return c && c.serial !== first.serial ? c : undefined; }, 4000);
    assert.equal(replaced.subjectCN, 'kube-apiserver-etcd-client');
    assert.ok(server.state().reads > reads);
  } finally {
    await server.close();
    removeCopy(root);
  }
});
