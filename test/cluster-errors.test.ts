import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { FakeApiServer, MemoryObjects, recorded, closedPort, PKI, FIXTURES } from './support/fake-apiserver.js';
import { resolveKubeconfig, apiError } from '../src/cluster/connect.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-cerr-'));
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(env);
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** One clear line (plus at most its hint line), no HTTP dump, no stack, exit ≥ 3. */
function oneLine(r: { code: number; out: string; err: string }, re: RegExp, hint?: RegExp): void {
  assert.ok(r.code >= 3, `exit ${r.code}: ${r.err}`);
  const lines = r.err.trimEnd().split('\n');
  assert.ok(lines.length <= 2, r.err);
  assert.match(lines[0]!, /^kubepki: failed to /);
  assert.match(lines[0]!, re);
  if (hint) assert.match(lines[1] ?? '', hint);
  assert.doesNotMatch(r.err, /HTTP-Code|Headers:|"kind"|\n\s+at /);
  assert.equal(r.out, '');
}

async function server(expiredCert = false): Promise<FakeApiServer> {
  const s = await FakeApiServer.start({ recordings: ['errors.json', 'nodes.json'], expiredCert });
  servers.push(s);
  return s;
}

test('the fake API server\'s 404 for an object it holds no recording of is the real one (errors.json), namespaced and cluster-scoped', async () => {
  const s = await FakeApiServer.start({ recordings: [] });
  servers.push(s);
  for (const [pathOf, file] of [
    ['/api/v1/namespaces/default/configmaps/does-not-exist', 'errors.json'],
    ['/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-doesnotexist', 'errors.json'],
  ] as const) {
    const want = recorded(file, (x) => x.path === pathOf);
    const kc = parse(fs.readFileSync(await s.kubeconfig(tmp), 'utf8'));
    const u = kc.users[0].user;
    const https = await import('node:https');
    const got = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = https.request(s.url + pathOf, {
        ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'),
        cert: Buffer.from(u['client-certificate-data'], 'base64'), key: Buffer.from(u['client-key-data'], 'base64'),
      }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(b) })); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(got.status, want.status);
    assert.deepEqual(got.body, want.responseBody);
  }
});

/** One request to the fake as the admin; the status and the parsed body. */
async function adminRequest(s: FakeApiServer, method: string, pathOf: string, body?: unknown): Promise<{ status: number; body: any }> {
  const kc = parse(fs.readFileSync(await s.kubeconfig(tmp), 'utf8'));
  const u = kc.users[0].user;
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(s.url + pathOf, {
      method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64'),
      cert: Buffer.from(u['client-certificate-data'], 'base64'), key: Buffer.from(u['client-key-data'], 'base64'),
    }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(b) })); });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('the fake API server\'s stored objects (MemoryObjects) answer errors as the recordings do: 404 and 409 Status with details {name, group, kind} and the group in the message (rbac roles said `roles "x"`, without details); 400 for a body naming another object than the URL; 404 for a namespace that does not exist; stringData merged into data', async () => {
  const s = await FakeApiServer.start({ recordings: [] });
  servers.push(s);
  const mem = new MemoryObjects(s, ['configmaps', 'secrets', 'roles']);
  const missing = await adminRequest(s, 'GET', '/api/v1/namespaces/default/configmaps/does-not-exist');
  assert.deepEqual(missing, { status: 404, body: recorded('errors.json', (x) => x.path === '/api/v1/namespaces/default/configmaps/does-not-exist').responseBody });
  // a stale resourceVersion: the shape of approval-conflict.json's 409, for an rbac Role
  const role = mem.put('roles', { metadata: { name: 'r', namespace: 'kube-system' }, rules: [] });
  const conflict = await adminRequest(s, 'PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/r', { ...role, metadata: { ...role.metadata, resourceVersion: '1' } });
  const recordedConflict = recorded('approval-conflict.json', (x) => x.status === 409).responseBody as any;
  assert.equal(conflict.status, 409);
  assert.deepEqual(Object.keys(conflict.body).sort(), Object.keys(recordedConflict).sort());
  assert.equal(conflict.body.message, 'Operation cannot be fulfilled on roles.rbac.authorization.k8s.io "r": the object has been modified; please apply your changes to the latest version and try again');
  assert.deepEqual(conflict.body.details, { name: 'r', group: 'rbac.authorization.k8s.io', kind: 'roles' });
  const gone = await adminRequest(s, 'PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/nope', { metadata: { name: 'nope', namespace: 'kube-system' }, rules: [] });
  assert.deepEqual([gone.status, gone.body.message, gone.body.details], [404, 'roles.rbac.authorization.k8s.io "nope" not found', { name: 'nope', group: 'rbac.authorization.k8s.io', kind: 'roles' }]);
  const renamed = await adminRequest(s, 'PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/r', { ...role, metadata: { ...role.metadata, name: 'other' } });
  assert.deepEqual([renamed.status, renamed.body.reason, renamed.body.message], [400, 'BadRequest', 'the name of the object (other) does not match the name on the URL (r)']);
  const elsewhere = await adminRequest(s, 'POST', '/api/v1/namespaces/kube-public/secrets', { metadata: { name: 'x', namespace: 'kube-system' } });
  assert.deepEqual([elsewhere.status, elsewhere.body.message], [400, 'the namespace of the provided object does not match the namespace sent on the request']);
  const made = await adminRequest(s, 'POST', '/api/v1/namespaces/kube-system/secrets', { metadata: { name: 'x' }, data: { a: 'YQ==', b: 'YQ==' }, stringData: { b: 'bee' } });
  assert.equal(made.status, 201);
  assert.deepEqual(made.body.data, { a: 'YQ==', b: Buffer.from('bee').toString('base64') });
  assert.equal(made.body.stringData, undefined);
  // NamespaceLifecycle: no object is created in a namespace that does not exist
  const nowhere = await adminRequest(s, 'POST', '/api/v1/namespaces/no-such-ns/secrets', { metadata: { name: 'x' } });
  assert.deepEqual([nowhere.status, nowhere.body.message, nowhere.body.details], [404, 'namespaces "no-such-ns" not found', { name: 'no-such-ns', kind: 'namespaces' }]);
  const again = await adminRequest(s, 'POST', '/api/v1/namespaces/kube-system/secrets', { metadata: { name: 'x' } });
  assert.deepEqual([again.status, again.body.reason, again.body.message, again.body.details], [409, 'AlreadyExists', 'secrets "x" already exists', { name: 'x', kind: 'secrets' }]);
});

test('the fake API server answers system:anonymous as RBAC does: the recorded 403s for what it may not do (it answered 404 for anything not recorded), /version and cluster-info allowed; csr list with no credentials is then a 403, exit 4', async () => {
  const s = await FakeApiServer.start({ recordings: [] });
  servers.push(s);
  const kc = parse(fs.readFileSync(await s.kubeconfig(tmp, 'anonymous'), 'utf8'));
  const https = await import('node:https');
  const get = (p: string) => new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(s.url + p, { ca: Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64') },
      (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(b) })); });
    req.on('error', reject);
    req.end();
  });
  for (const [p, file] of [['/api/v1/namespaces/kube-system/secrets', 'errors.json'], ['/api/v1/namespaces/kube-public/configmaps', 'bootstrap-token.json']] as const) {
    const want = recorded(file, (x) => x.path === p && x.identity.startsWith('anonymous'));
    assert.deepEqual(await get(p), { status: want.status, body: want.responseBody }, p);
  }
  const csrs = await get('/apis/certificates.k8s.io/v1/certificatesigningrequests');
  assert.equal(csrs.body.message, 'certificatesigningrequests.certificates.k8s.io is forbidden: User "system:anonymous" cannot list resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope');
  assert.equal((await get('/version')).status, 200);
  const r = await cli(['csr', 'list', '--kubeconfig', await s.kubeconfig(tmp, 'anonymous')]);
  assert.equal(r.code, 4, r.err);
  assert.match(r.err, /^kubepki: failed to list \w+: \w+(\.certificates\.k8s\.io)? is forbidden: User "system:anonymous" cannot list resource/);
});

test('cluster-info show: a missing cluster-info (404) is a broken cluster, in one line with how to create it', async () => {
  const s = await server();
  const show = await cli(['cluster-info', 'show', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(show.code, 2, show.err);
  assert.match(show.err, /^kubepki: ConfigMap kube-public\/cluster-info does not exist in https:\/\/127\.0\.0\.1:\d+: nodes cannot join with a bootstrap token\n {2}hint: create it: kubepki cluster-info update/);
  assert.equal(show.out, '');
});

test('API answers other than 401/403 (404, 409, 422, 5xx) carry the Status message and what to do', async () => {
  const { ApiException } = await import('@kubernetes/client-node');
  const notFound = recorded('errors.json', (x) => x.status === 404);
  const client = { server: 'https://192.0.2.10:6443', kubeconfigPath: '/root/.kube/config', user: 'kubernetes-admin' };
  const cases: [number, unknown, RegExp][] = [
    [404, notFound.responseBody, /does not exist .*check the name/],
    [409, { kind: 'Status', message: 'Operation cannot be fulfilled on configmaps "cluster-info": the object has been modified', code: 409 }, /run the command again/],
    [422, { kind: 'Status', message: 'ConfigMap "x" is invalid', code: 422 }, /please report it/],
    [500, { kind: 'Status', message: 'etcdserver: request timed out', code: 500 }, /kubepki check.*etcd/],
    [503, 'service unavailable', /try again in a minute/],
  ];
  for (const [status, body, hint] of cases) {
    const e = apiError(new ApiException(status, 'HTTP-Code: ' + status, body, {}), client, 'read ConfigMap kube-public/cluster-info');
    assert.match(e.message, new RegExp(`^failed to read ConfigMap kube-public/cluster-info: the API server https://192\\.0\\.2\\.10:6443 answered ${status}: \\S`));
    assert.doesNotMatch(e.message, /HTTP-Code/);
    assert.match(e.hint ?? '', hint, String(status));
    assert.equal(e.exitCode, 3);
  }
  assert.match(apiError(new ApiException(404, '', notFound.responseBody, {}), client, 'x').message, /not found/);
});

test('401: a client certificate from an unknown CA', async () => {
  const s = await server();
  const r = await cli(['csr', 'list', '--kubeconfig', await s.kubeconfig(tmp, 'foreign')]);
  oneLine(r, /refused the credentials of user kubernetes-admin in .* \(401 Unauthorized\)/, /kubepki check/);
  assert.equal(r.code, 4);
  assert.ok(s.received.every((x) => x.identity === 'foreign'));
});

test('403: the node identity may not list Secrets (recorded Status message)', async () => {
  const s = await server();
  const forbidden = recorded('errors.json', (x) => x.path === '/api/v1/secrets' && x.status === 403);
  s.route('GET', /^\/api\/v1\/secrets(\?.*)?$/, (req) => (req.identity === 'node' ? { status: 403, body: forbidden.responseBody } : undefined));
  const r = await cli(['sa', 'refresh', '--dry-run', '--kubeconfig', await s.kubeconfig(tmp, 'node')]);
  oneLine(r, /failed to list ServiceAccount token Secrets: secrets is forbidden: User "system:node:worker-1" cannot list resource "secrets" .* \(403 Forbidden\)/, /admin\.conf/);
  const c = await cli(['check', '--root', tmp, '--cluster', await s.kubeconfig(tmp, 'node')]);
  oneLine(c, /failed to list TLS Secrets: secrets is forbidden/);
});

test('403: anonymous (no credentials) listing Secrets in kube-system, as recorded', async () => {
  const s = await server();
  s.route('GET', /^\/api\/v1\/namespaces\/kube-system\/secrets\?/, (req) => {
    const rec = recorded('errors.json', (x) => x.path === '/api/v1/namespaces/kube-system/secrets' && x.identity.startsWith('anonymous'));
    return req.identity === 'anonymous' ? { status: 403, body: rec.responseBody } : undefined;
  });
  const r2 = await cli(['sa', 'refresh', '--dry-run', '--namespace', 'kube-system', '--kubeconfig', await s.kubeconfig(tmp, 'anonymous')]);
  oneLine(r2, /User "system:anonymous" cannot list resource "secrets".*\(403 Forbidden\)/);
});

test('API server unreachable', async () => {
  const s = await server();
  const kc = fs.readFileSync(await s.kubeconfig(tmp), 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, `https://127.0.0.1:${await closedPort()}`);
  const file = path.join(tmp, 'unreachable.conf');
  fs.writeFileSync(file, kc);
  oneLine(await cli(['csr', 'list', '--kubeconfig', file]), /the API server https:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/, /kubepki check/);
  oneLine(await cli(['check', '--root', tmp, '--cluster', file]), /unreachable \(ECONNREFUSED\)/);
});

test('API server certificate expired', async () => {
  const s = await server(true);
  oneLine(await cli(['csr', 'approve', '--all-valid', '--kubeconfig', await s.kubeconfig(tmp)]), /the serving certificate of the API server https:\/\/127\.0\.0\.1:\d+ has expired/, /kubepki check/);
});

test('API server certificate from another CA than the kubeconfig\'s', async () => {
  const s = await server();
  const doc = parse(fs.readFileSync(await s.kubeconfig(tmp), 'utf8'));
  doc.clusters[0].cluster['certificate-authority-data'] = fs.readFileSync(path.join(PKI, 'front-proxy-ca.crt')).toString('base64');
  const file = path.join(tmp, 'other-ca.conf');
  fs.writeFileSync(file, stringify(doc));
  oneLine(await cli(['csr', 'list', '--kubeconfig', file]), /is not signed by the CA in .*other-ca\.conf/, /kubepki check/);
});

test('no kubeconfig anywhere; --kubeconfig that does not exist', async () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'home-'));
  const r = await cli(['csr', 'list', '--root', empty], { HOME: empty, KUBECONFIG: path.join(empty, 'nope') });
  assert.equal(r.code, 3);
  assert.match(r.err, /^kubepki: failed to find a kubeconfig: tried .*nope, .*\.kube\/config, .*etc\/kubernetes\/admin\.conf\n {2}hint: pass --kubeconfig FILE or set KUBECONFIG\n$/);
  const m = await cli(['sa', 'refresh', '--dry-run', '--kubeconfig', path.join(empty, 'missing.conf')]);
  assert.equal(m.code, 3);
  assert.match(m.err, /failed to read kubeconfig .*missing\.conf: no such file/);
});

test('check --cluster, join --apply: the hint names the option that takes the kubeconfig there (check\'s --kubeconfig is a file to check, not the API\'s)', async () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'home-'));
  const env = { HOME: empty, KUBECONFIG: path.join(empty, 'nope') };
  const c = await cli(['check', '--root', empty, '--cluster'], env);
  assert.equal(c.code, 3, c.err);
  assert.match(c.err, /^kubepki: failed to find a kubeconfig: tried .*\n {2}hint: pass --cluster FILE or set KUBECONFIG\n$/);
  const m = await cli(['check', '--root', empty, '--cluster', path.join(empty, 'missing.conf')], env);
  assert.equal(m.code, 3, m.err);
  assert.match(m.err, /failed to read kubeconfig .*missing\.conf: no such file\n {2}hint: pass an existing file to --cluster /);
  const j = await cli(['join', '--root', path.join(FIXTURES, 'kubeadm-1.26'), '--out', path.join(empty, 'j.yaml'), '--apply', path.join(empty, 'missing.conf')], env);
  assert.equal(j.code, 3, j.err);
  assert.match(j.err, /failed to read kubeconfig .*missing\.conf: no such file\n {2}hint: pass an existing file to --apply /);
});

test('kubeconfig resolution order: --kubeconfig, $KUBECONFIG (first existing), ~/.kube/config, admin.conf under --root', () => {
  const home = fs.mkdtempSync(path.join(tmp, 'h-'));
  const root = fs.mkdtempSync(path.join(tmp, 'r-'));
  fs.mkdirSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/kubernetes/admin.conf'), '');
  assert.deepEqual(resolveKubeconfig({ env: { HOME: home }, root }), { path: path.join(root, 'etc/kubernetes/admin.conf'), source: 'admin.conf' });
  fs.mkdirSync(path.join(home, '.kube'));
  fs.writeFileSync(path.join(home, '.kube/config'), '');
  assert.equal(resolveKubeconfig({ env: { HOME: home }, root }).source, '~/.kube/config');
  const k = path.join(home, 'k.conf');
  fs.writeFileSync(k, '');
  assert.deepEqual(resolveKubeconfig({ env: { HOME: home, KUBECONFIG: `${path.join(home, 'none')}${path.delimiter}${k}` }, root }), { path: k, source: '$KUBECONFIG' });
  assert.equal(resolveKubeconfig({ kubeconfig: k, env: {}, root }).source, '--kubeconfig');
});

test('admin.conf under --root is found through links inside the tree (/etc/kubernetes an absolute link), never on the host', async () => {
  const { resolveKubeconfig } = await import('../src/cluster/connect.js');
  const nodeFs = await import('node:fs');
  const nodePath = await import('node:path');
  const os = await import('node:os');
  const root = nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), 'kubepki-admin-link-'));
  nodeFs.mkdirSync(nodePath.join(root, 'etc'), { recursive: true });
  nodeFs.mkdirSync(nodePath.join(root, 'srv/k8s'), { recursive: true });
  nodeFs.writeFileSync(nodePath.join(root, 'srv/k8s/admin.conf'), 'apiVersion: v1\nkind: Config\n');
  nodeFs.symlinkSync('/srv/k8s', nodePath.join(root, 'etc/kubernetes'));
  const got = resolveKubeconfig({ root, env: {}, home: nodePath.join(root, 'nohome') } as Parameters<typeof resolveKubeconfig>[0]);
  assert.equal(got.path, nodePath.join(root, 'srv/k8s/admin.conf'));
  assert.equal(got.source, 'admin.conf');
  nodeFs.rmSync(root, { recursive: true, force: true });
});

test('tokenFile is read as client-go reads it: under --root the tree\'s file, relative to the kubeconfig, trimmed, preferred to a token while it can be read; client-node\'s own token-file is ignored, as kubectl ignores it (client-node knew no tokenFile: no credentials were sent)', async () => {
  const { connect } = await import('../src/cluster/connect.js');
  const tree = fs.mkdtempSync(path.join(tmp, 'token-file-'));
  fs.mkdirSync(path.join(tree, 'etc/kubernetes'), { recursive: true });
  assert.ok(!fs.existsSync('/etc/kubernetes/kubepki-test-token'), 'this host has the test token path: the test cannot tell');
  fs.writeFileSync(path.join(tree, 'etc/kubernetes/kubepki-test-token'), 'tree-token\n', { mode: 0o600 });
  fs.writeFileSync(path.join(tree, 'etc/kubernetes/relative-token'), '  relative-token \n', { mode: 0o600 });
  const kubeconfig = (user: Record<string, string>) => stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443' } }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    users: [{ name: 'u', user }],
  });
  const tokenOf = async (user: Record<string, string>, root?: string) => {
    fs.writeFileSync(path.join(tree, 'etc/kubernetes/admin.conf'), kubeconfig(user), { mode: 0o600 });
    const c = await connect({ ...(root ? { root } : { kubeconfig: path.join(tree, 'etc/kubernetes/admin.conf') }), env: {}, home: path.join(tree, 'no-home') } as Parameters<typeof connect>[0]);
    return c.kc.getCurrentUser()?.token;
  };
  assert.equal(await tokenOf({ tokenFile: '/etc/kubernetes/kubepki-test-token' }, tree), 'tree-token');
  assert.equal(await tokenOf({ tokenFile: 'relative-token' }), 'relative-token');
  assert.equal(await tokenOf({ token: 'inline', tokenFile: 'relative-token' }), 'relative-token');
  assert.equal(await tokenOf({ token: 'inline', tokenFile: 'missing-token' }), 'inline');
  assert.equal(await tokenOf({ 'token-file': 'relative-token' }), undefined);
  assert.equal(await tokenOf({ token: 'inline', 'token-file': 'relative-token' }), 'inline');
  await assert.rejects(tokenOf({ tokenFile: 'missing-token' }), (e: Error) => /failed to read kubeconfig .*admin\.conf: .*missing-token/.test(e.message));
});

/** The fake server's admin kubeconfig with its user's credentials coming from the exec plugin `script` instead. */
async function execKubeconfig(s: FakeApiServer, script: string, name: string, identity: 'admin' | 'foreign' = 'admin', exec: Record<string, unknown> = {}): Promise<{ kc: string; plugin: string; cert: string; key: string }> {
  const doc = parse(fs.readFileSync(await s.kubeconfig(tmp, identity), 'utf8'));
  const u = doc.users[0].user;
  const [cert, key] = [u['client-certificate-data'], u['client-key-data']].map((b: string) => Buffer.from(b, 'base64').toString('utf8'));
  const plugin = path.join(tmp, `${name}.sh`);
  fs.writeFileSync(plugin, script, { mode: 0o755 });
  // as `aws eks update-kubeconfig` and `gcloud container clusters get-credentials` write it
  doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin, args: ['get-token', '--cluster', 'test'], interactiveMode: 'Never', ...exec } };
  const kc = path.join(tmp, `kubeconfig-${name}`);
  fs.writeFileSync(kc, stringify(doc), { mode: 0o600 });
  return { kc, plugin, cert, key };
}

/** Processes whose command line contains `marker` (ps, as an operator would look). */
async function processesWith(marker: string): Promise<string[]> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

test('an exec credential plugin that hangs is stopped after the API timeout, with everything it started: one line naming the kubeconfig, the user and the command, exit 3 (it hung forever)', async () => {
  const s = await server();
  const marker = `30.${Date.now() % 100000}`;
  // a plugin script waiting (here: sleeping) in a child of its own, as one waiting for a login or the network does
  const { kc, plugin } = await execKubeconfig(s, `#!/bin/sh\necho started >&2\nsleep ${marker}\necho '{}'\n`, 'hanging');
  const stuck = new Promise<never>((_, reject) => { setTimeout(() => reject(new Error('still waiting after 15s: the exec plugin was not given up')), 15_000).unref(); });
  for (const argv of [['csr', 'approve', '--all-valid'], ['csr', 'list']]) {
    const r = await Promise.race([cli([...argv, '--kubeconfig', kc, '--request-timeout', '0.5']), stuck]);
    oneLine(r, new RegExp(`^kubepki: failed to get the credentials of user kubernetes-admin in ${kc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its exec plugin \`${plugin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} get-token --cluster test\` did not answer within 0\\.5s and was stopped$`),
      /hint: run `.* get-token --cluster test` yourself to see what it waits for/);
    assert.equal(r.code, 3);
    assert.equal(s.received.length, 0, 'nothing sent without credentials');
    // the script and its sleep are gone (killed as a group), no leftovers
    let left: string[] = [];
    for (let i = 0; i < 20 && (left = await processesWith(marker)).length; i++) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(left, [], 'plugin processes left running');
  }
});

test('an exec credential plugin that answers in time is used as before (its client certificate); one that fails says so, naming the command', async () => {
  const s = await server();
  const { kc: placeholder, cert, key } = await execKubeconfig(s, '#!/bin/sh\nexit 1\n', 'probe');
  fs.rmSync(placeholder);
  const cred = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', status: { clientCertificateData: cert, clientKeyData: key } });
  const { kc } = await execKubeconfig(s, `#!/bin/sh\ncat <<'EOF'\n${cred}\nEOF\n`, 'working');
  s.route('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', () => ({ status: 200, body: { kind: 'CertificateSigningRequestList', apiVersion: 'certificates.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [] } }));
  const ok = await cli(['csr', 'list', '--kubeconfig', kc, '--request-timeout', '5']);
  assert.equal(ok.code, 0, ok.err);
  assert.ok(s.received.length > 0 && s.received.every((r) => r.identity === 'admin'), 'authenticated with the plugin\'s certificate');
  const { kc: broken } = await execKubeconfig(s, '#!/bin/sh\necho "error: SSO session expired, run aws sso login" >&2\nexit 255\n', 'failing');
  const r = await cli(['csr', 'list', '--kubeconfig', broken]);
  oneLine(r, /: its exec plugin `\S+failing\.sh get-token --cluster test` failed: error: SSO session expired, run aws sso login$/, /hint: run `.*` yourself to see why/);
  // exit 0 with something that is not an ExecCredential (a login banner, an HTML page from a proxy) is the plugin's failure too
  const { kc: chatty } = await execKubeconfig(s, '#!/bin/sh\necho "Please visit https://login.example.test to sign in"\n', 'chatty');
  const c = await cli(['csr', 'list', '--kubeconfig', chatty]);
  oneLine(c, /: its exec plugin `\S+chatty\.sh get-token --cluster test` did not print an ExecCredential: /, /hint: run `.*` yourself to see why/);
});

test('401 for credentials from an exec plugin: the line names the kubeconfig and user, the hint the plugin\'s command (not "the client certificate is expired")', async () => {
  const s = await server();
  const { kc: placeholder, cert, key } = await execKubeconfig(s, '#!/bin/sh\nexit 1\n', 'probe-foreign', 'foreign');
  fs.rmSync(placeholder);
  const cred = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', status: { clientCertificateData: cert, clientKeyData: key } });
  const { kc, plugin } = await execKubeconfig(s, `#!/bin/sh\ncat <<'EOF'\n${cred}\nEOF\n`, 'refused');
  const r = await cli(['csr', 'list', '--kubeconfig', kc]);
  oneLine(r, new RegExp(`refused the credentials of user kubernetes-admin in ${kc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(401 Unauthorized\\)$`), new RegExp(`hint: they come from its exec plugin \`${plugin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} get-token --cluster test\`: log in again`));
  assert.equal(r.code, 4);
});

test('redactArgs/redactText: values that are or follow a secret are <redacted>; subcommands, names, regions, ids, issuer URLs and paths stay', async () => {
  const { redactArgs, redactText, secretEnvValues } = await import('../src/cluster/redact.js');
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcGVyYXRvciJ9.c2lnbmF0dXJlLWJ5dGVz';
  const cases: [string[], string[]][] = [
    [['kubelogin', 'get-token', '--login', 'devicecode', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630', '--tenant-id=72f988bf-86f1-41af-91ab-2d7cd011db47'], ['kubelogin', 'get-token', '--login', 'devicecode', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630', '--tenant-id=72f988bf-86f1-41af-91ab-2d7cd011db47']],
    [['aws', '--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'prod-eu', '--output', 'json'], ['aws', '--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'prod-eu', '--output', 'json']],
    [['k', '--oidc-issuer-url=https://idp.example.test/realms/k8s', '--cache-dir', '/home/op/.kube/cache/oidc-login'], ['k', '--oidc-issuer-url=https://idp.example.test/realms/k8s', '--cache-dir', '/home/op/.kube/cache/oidc-login']],
    [['k', '--client-secret', 's3cr3t', '--oidc-client-secret=s3cr3t', '--password', 'hunter2', '--token', 'abc', '--api-key=k', '--credentials', 'c'], ['k', '--client-secret', '<redacted>', '--oidc-client-secret=<redacted>', '--password', '<redacted>', '--token', '<redacted>', '--api-key=<redacted>', '--credentials', '<redacted>']],
    [['k', jwt, `--id-token=${jwt}`, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '0123456789abcdef0123456789abcdef01234567'], ['k', '<redacted>', '--id-token=<redacted>', '<redacted>', '<redacted>']],
    [['k', 'https://op:pa55@proxy.example.test/x', '--url=https://idp.example.test/token?client_id=kube&client_secret=s3cr3t', '--header', 'Authorization: Bearer abc.def'], ['k', 'https://<redacted>@proxy.example.test/x', '--url=https://idp.example.test/token?client_id=kube&client_secret=<redacted>', '--header', 'Authorization: Bearer <redacted>']],
    [['k', 'CLIENT_SECRET=s3cr3t', 'PROFILE=prod', '--password', '--next'], ['k', 'CLIENT_SECRET=<redacted>', 'PROFILE=prod', '--password', '--next']],
  ];
  for (const [words, want] of cases) assert.deepEqual(redactArgs(words), want);
  assert.equal(
    redactText(`error: POST https://op:pa55@idp.example.test/token with client_secret=s3cr3t failed:  Bearer ${jwt} refused, rerun with --password hunter2`),
    'error: POST https://<redacted>@idp.example.test/token with client_secret=<redacted> failed:  Bearer <redacted> refused, rerun with --password <redacted>',
  );
  assert.equal(redactText('error: SSO session expired, run aws sso login'), 'error: SSO session expired, run aws sso login');
  // what a plugin prints as JSON, YAML or headers, and a short -p (fixv review)
  assert.equal(redactText('{"error":"invalid_client","client_secret":"hunter2abc","client_id":"kube"}'), '{"error":"invalid_client","client_secret":"<redacted>","client_id":"kube"}');
  assert.equal(redactText('config:\n  client_secret: hunter2\n  issuer: https://idp.example.test'), 'config:\n  client_secret: <redacted>\n  issuer: https://idp.example.test');
  assert.equal(redactText('sent x-api-key: s3cr3tKEY and Authorization: Bearer abc.def'), 'sent x-api-key: <redacted> and Authorization: Bearer <redacted>');
  assert.deepEqual(redactArgs(['vault-login', '-u', 'op', '-p', 'hunter2']), ['vault-login', '-u', 'op', '-p', '<redacted>']);
  const env = [{ name: 'AWS_SECRET_ACCESS_KEY', value: 'plainsecret' }, { name: 'AWS_PROFILE', value: 'prod' }, { name: 'OPAQUE', value: 'Zx81Qm2Vt7Lp0Ks5Wd3Nh6' }];
  assert.deepEqual(secretEnvValues(env), ['plainsecret', 'Zx81Qm2Vt7Lp0Ks5Wd3Nh6']);
  assert.equal(redactText('profile prod: key plainsecret refused', secretEnvValues(env)), 'profile prod: key <redacted> refused');
});

test('an exec plugin\'s secrets (arguments that are or follow one, a URL\'s password, a token; its env) reach no message or hint: failed, timed out, 401, csr approve --watch (it printed the whole command line)', async () => {
  const s = await server();
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcGVyYXRvciJ9.c2lnbmF0dXJlLWJ5dGVz';
  const secrets = ['s3cr3t-client', 'hunter2pw', 'pa55word', jwt, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'envs3cr3t', 'bearer-value-123'];
  const exec = {
    args: ['get-token', '--cluster', 'test', '--client-secret', 's3cr3t-client', '--password=hunter2pw', '--oidc-issuer-url=https://operator:pa55word@idp.example.test/realms/k8s',
      '--token', jwt, '--aws-secret-access-key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '--header', 'Authorization: Bearer bearer-value-123'],
    env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: 'envs3cr3t' }],
  };
  const shown = 'get-token --cluster test --client-secret <redacted> --password=<redacted> --oidc-issuer-url=https://<redacted>@idp.example.test/realms/k8s --token <redacted> --aws-secret-access-key=<redacted> --header Authorization: Bearer <redacted>';
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const clean = (r: { out: string; err: string }, what: string) => {
    for (const x of secrets) assert.ok(!r.err.includes(x) && !r.out.includes(x), `${what}: ${x} printed: ${r.err}`);
  };
  // the plugin fails, saying (as some do) what it sent, and what it was given in its env
  const { kc: failing } = await execKubeconfig(s, '#!/bin/sh\necho "error: POST https://operator:pa55word@idp.example.test/token: invalid client_secret=s3cr3t-client (env $AWS_SECRET_ACCESS_KEY)" >&2\nexit 1\n', 'secret-failing', 'admin', exec);
  const f = await cli(['csr', 'list', '--kubeconfig', failing]);
  oneLine(f, new RegExp(`its exec plugin \`\\S+secret-failing\\.sh ${esc(shown)}\` failed: error: POST https://<redacted>@idp\\.example\\.test/token: invalid client_secret=<redacted> \\(env <redacted>\\)$`));
  assert.match(f.err, /hint: run `.*` yourself \(with the values shown as <redacted> from the kubeconfig\) to see why/);
  clean(f, 'failed');
  const w = await cli(['csr', 'approve', '--all-valid', '--watch', '--max-passes', '2', '--interval', '0.05', '--kubeconfig', failing]);
  assert.equal(w.code, 3, w.err);
  assert.match(w.err, /retrying in 0\.05s/);
  assert.match(w.err, /--client-secret <redacted>/);
  clean(w, 'csr approve --watch');
  // it hangs
  const { kc: hanging } = await execKubeconfig(s, `#!/bin/sh\nsleep 30.${Date.now() % 100000}1\n`, 'secret-hanging', 'admin', exec);
  const h = await cli(['csr', 'list', '--kubeconfig', hanging, '--request-timeout', '0.5']);
  oneLine(h, new RegExp(`its exec plugin \`\\S+secret-hanging\\.sh ${esc(shown)}\` did not answer within 0\\.5s`), /hint: run `.*--client-secret <redacted>.*` yourself \(with the values shown as <redacted> from the kubeconfig\) to see what it waits for/);
  clean(h, 'timed out');
  // its credentials are refused (401): the hint names it
  const { kc: placeholder, cert, key } = await execKubeconfig(s, '#!/bin/sh\nexit 1\n', 'secret-probe-foreign', 'foreign');
  fs.rmSync(placeholder);
  const cred = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', status: { clientCertificateData: cert, clientKeyData: key } });
  const { kc: refused } = await execKubeconfig(s, `#!/bin/sh\ncat <<'EOF'\n${cred}\nEOF\n`, 'secret-refused', 'admin', exec);
  const u = await cli(['csr', 'list', '--kubeconfig', refused]);
  oneLine(u, /\(401 Unauthorized\)$/, new RegExp(`hint: they come from its exec plugin \`\\S+secret-refused\\.sh ${esc(shown)}\`: log in again .*with the values shown as <redacted> from the kubeconfig`));
  assert.equal(u.code, 4);
  clean(u, '401');
});

/**
 * Run the CLI (bin/kubepki.js) with a terminal: a pty from python3's pty module, as an operator's shell gives it.
 * When `prompt` shows on the terminal, `answer` is typed `delayMs` later. Gives everything the terminal showed.
 */
async function cliInTerminal(argv: string[], prompt: string, answer: string, delayMs: number): Promise<{ code: number; screen: string }> {
  const driver = `
import json, os, pty, select, sys, time
prompt, answer, delay = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3]) / 1000
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[4], sys.argv[4:])
out, seen, deadline = b'', None, time.time() + 30
while time.time() < deadline:
    if seen is not None and seen + delay <= time.time():
        os.write(fd, answer + b'\\n'); seen = float('inf')
    if select.select([fd], [], [], 0.05)[0]:
        try: chunk = os.read(fd, 4096)
        except OSError: break
        if not chunk: break
        out += chunk
        if seen is None and prompt in out: seen = time.time()
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': out.decode('utf8', 'replace')}))
`;
  const { execFile } = await import('node:child_process');
  const bin = path.resolve(process.cwd(), 'bin/kubepki.js');
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', driver, prompt, answer, String(delayMs), process.execPath, bin, ...argv], { timeout: 40_000 }, (e, stdout) => (e ? reject(e) : resolve(JSON.parse(stdout))));
  });
}

test('an exec plugin that prompts on the terminal (a password on /dev/tty, a device code on stderr) gets it when kubepki has one, longer than the API timeout, once for calls made together; interactiveMode Never or no terminal: none, and Always without one fails at once (it could never prompt and waited for the timeout)', async () => {
  const s = await server();
  const { kc: placeholder, cert, key } = await execKubeconfig(s, '#!/bin/sh\nexit 1\n', 'probe-tty');
  fs.rmSync(placeholder);
  // (an expirationTimestamp, as real plugins give: client-node keeps the credential until then)
  const cred = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', status: { clientCertificateData: cert, clientKeyData: key, expirationTimestamp: '2099-01-01T00:00:00Z' } });
  const runs = path.join(tmp, 'tty-plugin-runs.log');
  const script = `#!/bin/sh
echo "$KUBERNETES_EXEC_INFO" >> ${runs}
echo "To sign in, open https://login.example.test/device and enter the code TESTCODE42" >&2
printf 'Password for idp.example.test: ' > /dev/tty || exit 7
read -r pw < /dev/tty
[ "$pw" = letmein ] || { echo "wrong password" >&2; exit 1; }
cat <<'EOF'
${cred}
EOF
`;
  s.route('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', () => ({ status: 200, body: { kind: 'CertificateSigningRequestList', apiVersion: 'certificates.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [] } }));
  const readRuns = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []);

  // IfAvailable (the default when unset, as `aws eks update-kubeconfig` writes it) with a terminal: the operator
  // types the password 1.5s after the prompt, three times the API timeout
  const { kc } = await execKubeconfig(s, script, 'tty', 'admin', { interactiveMode: undefined });
  const t = await cliInTerminal(['csr', 'list', '--kubeconfig', kc, '--request-timeout', '0.5'], 'Password for idp.example.test: ', 'letmein', 1500);
  assert.equal(t.code, 0, t.screen);
  assert.match(t.screen, /To sign in, open https:\/\/login\.example\.test\/device and enter the code TESTCODE42/, 'its standard error is shown as it comes');
  assert.match(t.screen, /no CertificateSigningRequests/);
  assert.ok(s.received.length > 0 && s.received.every((r) => r.identity === 'admin'), 'authenticated with the plugin\'s certificate');
  // csr list lists CSRs and Nodes together: one run, one prompt
  assert.deepEqual(readRuns(), [{ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: { interactive: true } }]);
  assert.equal(t.screen.match(/Password for/g)?.length, 1, t.screen);

  // interactiveMode Never, even with a terminal: no terminal for it (it fails at once here), and it is told so
  fs.rmSync(runs);
  const { kc: never } = await execKubeconfig(s, script, 'tty-never');
  const n = await cliInTerminal(['csr', 'list', '--kubeconfig', never, '--request-timeout', '5'], 'Password for idp.example.test: ', 'letmein', 0);
  assert.equal(n.code, 3, n.screen);
  assert.match(n.screen, /its exec plugin `\S+tty-never\.sh get-token --cluster test` failed: To sign in/);
  assert.deepEqual(readRuns().map((r) => r.spec), [{ interactive: false }]);

  // Always without a terminal (a pipe, a cron job): one line at once, the plugin never started
  fs.rmSync(runs);
  const { kc: always } = await execKubeconfig(s, script, 'tty-always', 'admin', { interactiveMode: 'Always' });
  const a = await cli(['csr', 'list', '--kubeconfig', always]);
  oneLine(a, new RegExp(`^kubepki: failed to get the credentials of user kubernetes-admin in ${always.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: its exec plugin \`\\S+tty-always\\.sh get-token --cluster test\` needs a terminal \\(interactiveMode: Always\\), and kubepki's standard input is not one$`), /hint: run the command in a terminal/);
  assert.deepEqual(readRuns(), []);
  // a value client-go does not know either
  const { kc: odd } = await execKubeconfig(s, script, 'tty-odd', 'admin', { interactiveMode: 'Sometimes' });
  oneLine(await cli(['csr', 'list', '--kubeconfig', odd]), /its exec plugin `\S+tty-odd\.sh get-token --cluster test` has interactiveMode "Sometimes"$/, /hint: set users\[\]\.user\.exec\.interactiveMode of user kubernetes-admin to Never, IfAvailable or Always/);
  assert.deepEqual(readRuns(), []);
});

/** Start `node args…` and wait until `file` exists (a hanging plugin writes it when it runs). */
async function startedWith(args: string[], file: string): Promise<{ child: import('node:child_process').ChildProcess; stderr: () => string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  for (let i = 0; i < 150 && !fs.existsSync(file); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(fs.existsSync(file), `the plugin did not start: ${err}`);
  return { child, stderr: () => err };
}

test('SIGTERM while an exec plugin runs: the plugin group is killed; a process with its own graceful stop (serve, a library caller) stops as it says, exit 0 (it was killed by the re-raised signal, 143); the CLI alone still ends by the signal', async () => {
  const s = await server();
  const { copyFixture } = await import('./support/fixtures.js');
  const marker = `31.${Date.now() % 100000}2`;
  const started = path.join(tmp, 'sig-plugin-started');
  const { kc } = await execKubeconfig(s, `#!/bin/sh\necho $$ > ${started}\nsleep ${marker}\n`, 'sig-hanging');
  const gone = async () => {
    let left: string[] = [];
    // (up to 10 s: under the full suite's load a killed process can take seconds to leave the process table; one
    // that escaped the kill would still be there, its sleep being longer)
    for (let i = 0; i < 100 && (left = await processesWith(marker)).length; i++) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(left, [], 'plugin processes left running');
  };

  // `kubepki serve` and a cluster connection in one process, as a program using the library has them
  const tree = copyFixture('kubeadm-1.26');
  const host = path.join(tmp, 'serve-and-connect.mjs');
  fs.writeFileSync(host, `
const { run } = await import(${JSON.stringify(new URL('../src/cli/main.js', import.meta.url).href)});
const { connect } = await import(${JSON.stringify(new URL('../src/cluster/connect.js', import.meta.url).href)});
const served = run(['serve', '--root', ${JSON.stringify(tree)}, '--listen', '127.0.0.1:0', '--interval', '1h', '--no-probe', '--no-watch', '--now', '2026-11-23']);
const client = await connect({ kubeconfig: ${JSON.stringify(kc)}, env: process.env, timeoutMs: 30000 });
client.core.listNode().then(() => console.error('credential call: answered'), (e) => console.error('credential call: ' + e.message));
const code = await served;
console.error('serve returned ' + code);
process.exitCode = code;
`);
  try {
    const { child, stderr } = await startedWith([host], started);
    for (let i = 0; i < 100 && !/listening on/.test(stderr()); i++) await new Promise((res) => setTimeout(res, 100));
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => { child.on('exit', (code, signal) => resolve({ code, signal })); child.kill('SIGTERM'); });
    assert.deepEqual(exit, { code: 0, signal: null }, stderr());
    assert.match(stderr(), /credential call: failed to get the credentials of user kubernetes-admin in \S+: its exec plugin `\S+sig-hanging\.sh get-token --cluster test` was stopped: kubepki got SIGTERM\n/);
    assert.match(stderr(), /serve returned 0\n/);
    await gone();
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }

  // the CLI, which has no handler of its own: it ends by the signal as it did, and the plugin with it
  fs.rmSync(started);
  const { child, stderr } = await startedWith([path.resolve(process.cwd(), 'bin/kubepki.js'), 'csr', 'list', '--kubeconfig', kc, '--request-timeout', '60'], started);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => { child.on('exit', (code, signal) => resolve({ code, signal })); child.kill('SIGTERM'); });
  assert.deepEqual(exit, { code: null, signal: 'SIGTERM' }, stderr());
  await gone();
});

/** What an exec plugin prints: an ExecCredential with the fake server's client certificate of `identity`, and `status` added. */
async function credentialFor(s: FakeApiServer, identity: 'admin' | 'foreign', status: Record<string, unknown> = {}): Promise<string> {
  const { kc, cert, key } = await execKubeconfig(s, '#!/bin/sh\nexit 1\n', `credential-${identity}`, identity);
  fs.rmSync(kc);
  return JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', status: { clientCertificateData: cert, clientKeyData: key, ...status } });
}

/** The KUBERNETES_EXEC_INFO of each run of a plugin that appends it to `runs`. */
function runsOf(runs: string): Record<string, any>[] {
  return fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
}

const listCsrs = (s: FakeApiServer) => s.route('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', () => ({ status: 200, body: { kind: 'CertificateSigningRequestList', apiVersion: 'certificates.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [] } }));

test('provideClusterInfo: the exec plugin gets the cluster in KUBERNETES_EXEC_INFO spec.cluster as client-go gives it (server, the CA\'s data also when the kubeconfig names a certificate-authority file, tls-server-name, the client.authentication.k8s.io/exec extension as config); without provideClusterInfo, no spec.cluster (it got only spec.interactive: a plugin that needs the cluster, as kubelogin\'s or a multi-cluster one does, could not work)', async () => {
  const s = await server();
  listCsrs(s);
  // (an expirationTimestamp: a run per credential, whatever the caching of one without)
  const cred = await credentialFor(s, 'admin', { expirationTimestamp: '2099-01-01T00:00:00Z' });
  const runs = path.join(tmp, 'cluster-info-runs.log');
  const script = `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" >> ${runs}\ncat <<'EOF'\n${cred}\nEOF\n`;
  const head = { kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1' };
  const edit = (kc: string, change: (cluster: Record<string, any>) => void) => {
    const doc = parse(fs.readFileSync(kc, 'utf8'));
    change(doc.clusters[0].cluster);
    fs.writeFileSync(kc, stringify(doc), { mode: 0o600 });
  };
  const extensions = [
    { name: 'example.com/other', extension: { audience: 'not-this-one' } },
    { name: 'client.authentication.k8s.io/exec', extension: { audience: 'kubepki-test', scopes: ['openid', 'groups'], nested: { n: 1 } } },
  ];

  // certificate-authority-data, and the cluster's exec extension
  const { kc } = await execKubeconfig(s, script, 'cluster-info', 'admin', { provideClusterInfo: true });
  let caData = '';
  edit(kc, (c) => { caData = c['certificate-authority-data']; c.extensions = extensions; });
  const r = await cli(['csr', 'list', '--kubeconfig', kc, '--request-timeout', '5']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(runsOf(runs), [{ ...head, spec: { cluster: { server: s.url, 'certificate-authority-data': caData, config: extensions[1]!.extension }, interactive: false } }]);

  // a certificate-authority file (relative: next to the kubeconfig, as client-go reads it) is sent as its data; no
  // extension is config null, as client-go encodes it; tls-server-name too
  fs.rmSync(runs);
  const caFile = path.join(tmp, 'cluster-info-ca.crt');
  const caPem = Buffer.concat([Buffer.from(caData, 'base64'), Buffer.from('\n')]);
  fs.writeFileSync(caFile, caPem);
  edit(kc, (c) => { delete c['certificate-authority-data']; delete c.extensions; c['certificate-authority'] = path.basename(caFile); c['tls-server-name'] = 'localhost'; });
  const f = await cli(['csr', 'list', '--kubeconfig', kc, '--request-timeout', '5']);
  assert.equal(f.code, 0, f.err);
  assert.deepEqual(runsOf(runs), [{ ...head, spec: { cluster: { server: s.url, 'tls-server-name': 'localhost', 'certificate-authority-data': caPem.toString('base64'), config: null }, interactive: false } }]);

  // without provideClusterInfo: only spec.interactive, extension or not
  fs.rmSync(runs);
  const { kc: plain } = await execKubeconfig(s, script, 'cluster-info-not-asked');
  edit(plain, (c) => { c.extensions = extensions; });
  const p = await cli(['csr', 'list', '--kubeconfig', plain, '--request-timeout', '5']);
  assert.equal(p.code, 0, p.err);
  assert.deepEqual(runsOf(runs), [{ ...head, spec: { interactive: false } }]);
});

test('provideClusterInfo under --root: admin.conf\'s certificate-authority /etc/kubernetes/pki/ca.crt is the tree\'s file, for the connection and for the plugin (it was read on this host)', async () => {
  const s = await server();
  listCsrs(s);
  const cred = await credentialFor(s, 'admin', { expirationTimestamp: '2099-01-01T00:00:00Z' });
  const runs = path.join(tmp, 'root-cluster-info-runs.log');
  const { kc } = await execKubeconfig(s, `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" >> ${runs}\ncat <<'EOF'\n${cred}\nEOF\n`, 'root-cluster-info', 'admin', { provideClusterInfo: true });
  const tree = fs.mkdtempSync(path.join(tmp, 'root-cluster-info-'));
  fs.mkdirSync(path.join(tree, 'etc/kubernetes/pki'), { recursive: true });
  const doc = parse(fs.readFileSync(kc, 'utf8'));
  const caPem = Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64');
  delete doc.clusters[0].cluster['certificate-authority-data'];
  doc.clusters[0].cluster['certificate-authority'] = '/etc/kubernetes/pki/ca.crt';
  fs.writeFileSync(path.join(tree, 'etc/kubernetes/admin.conf'), stringify(doc), { mode: 0o600 });
  fs.writeFileSync(path.join(tree, 'etc/kubernetes/pki/ca.crt'), caPem);
  assert.ok(!fs.existsSync('/etc/kubernetes/pki/ca.crt') || !fs.readFileSync('/etc/kubernetes/pki/ca.crt').equals(caPem), 'this host has the test CA at the same path: the test cannot tell');
  const r = await cli(['csr', 'list', '--root', tree, '--request-timeout', '5'], { HOME: path.join(tree, 'no-home') });
  assert.equal(r.code, 0, r.err);
  assert.ok(s.received.length > 0 && s.received.every((q) => q.identity === 'admin'));
  assert.deepEqual(runsOf(runs).map((x) => x.spec.cluster), [{ server: s.url, 'certificate-authority-data': caPem.toString('base64'), config: null }]);
});

test('a credential without expirationTimestamp is kept for the whole run, as client-go keeps it: its plugin runs once for all the calls of a command (it ran, and an interactive one prompted, for each call); a 401 makes the next call run it again, with or without expirationTimestamp (a refused credential was kept until it expired)', async () => {
  const { connect, httpStatus } = await import('../src/cluster/connect.js');
  const s = await server();
  listCsrs(s);
  const admin = await credentialFor(s, 'admin');
  const runs = path.join(tmp, 'no-expiry-runs.log');

  // csr list: CertificateSigningRequests and Nodes, two calls
  const { kc } = await execKubeconfig(s, `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO" >> ${runs}\ncat <<'EOF'\n${admin}\nEOF\n`, 'no-expiry');
  const r = await cli(['csr', 'list', '--kubeconfig', kc, '--request-timeout', '5']);
  assert.equal(r.code, 0, r.err);
  assert.ok(s.received.length >= 2, `${s.received.length} calls`);
  assert.equal(runsOf(runs).length, 1);

  // the first credential is refused (401): the call fails, the next one runs the plugin again and is answered,
  // and the one after keeps that credential
  for (const expires of [{}, { expirationTimestamp: '2099-01-01T00:00:00Z' }]) {
    fs.rmSync(runs, { force: true });
    const [first, then] = [await credentialFor(s, 'foreign', expires), await credentialFor(s, 'admin', expires)];
    const { kc: rotated } = await execKubeconfig(s, `#!/bin/sh
if [ -s ${runs} ]; then out='${then}'; else out='${first}'; fi
echo "$KUBERNETES_EXEC_INFO" >> ${runs}
printf '%s\n' "$out"
`, 'rotated');
    const client = await connect({ kubeconfig: rotated, env: {}, timeoutMs: 5000 });
    const version = client.apiClient(client.k8s.VersionApi);
    await assert.rejects(version.getCode(), (e) => httpStatus(e) === 401);
    assert.equal(runsOf(runs).length, 1);
    await version.getCode();
    await client.core.listNode();
    await version.getCode();
    assert.equal(runsOf(runs).length, 2, JSON.stringify(expires));
  }
});
