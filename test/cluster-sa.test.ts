import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { FakeApiServer, MemoryObjects, recorded, PKI } from './support/fake-apiserver.js';
import { planSaRefresh, jwtSignedBy, publicKeysFromPem } from '../src/cluster/sa-refresh.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-sa-'));
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const SA = 'serviceaccounts.json';
const podList = recorded(SA, (r) => r.method === 'GET' && r.path.startsWith('/api/v1/pods')).responseBody as any;
const secretList = recorded(SA, (r) => r.method === 'GET' && r.path.startsWith('/api/v1/secrets')).responseBody as any;
const refilled = recorded(SA, (r) => r.method === 'GET' && r.path === '/api/v1/namespaces/demo/secrets/app-token' && (r.responseBody as any).metadata.resourceVersion !== '519').responseBody as any;

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({});
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

test('sa refresh --dry-run lists exactly the recorded token Secrets and pods, and changes nothing', async () => {
  const s = await FakeApiServer.start({ recordings: [SA] });
  servers.push(s);
  // kubepki lists every pod (pods on the default ServiceAccount hold projected tokens too);
  // the recording's pod list is the one the real server returned
  s.route('GET', '/api/v1/pods', () => ({ status: 200, body: podList }));
  const r = await cli(['sa', 'refresh', '--dry-run', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 0, r.err);
  const secrets = r.out.split('\n').filter((l) => l.startsWith('  secret ')).map((l) => l.split(/\s+/)[2]);
  const pods = r.out.split('\n').filter((l) => l.startsWith('  pod ')).map((l) => l.split(/\s+/)[2]);
  assert.deepEqual(secrets, secretList.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`));
  assert.deepEqual(pods, podList.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`));
  assert.deepEqual(secrets, ['demo/app-token']);
  assert.deepEqual(pods, ['demo/app']);
  assert.match(r.out, /pod demo\/app +\(ServiceAccount app; projected token \(volume kube-api-access-kst2r\); not restarted: bare pod/);
  assert.ok(r.out.endsWith('\nDry run: nothing was written.\n'), r.out);
  assert.deepEqual(s.writes(), []);
  const j = await cli(['sa', 'refresh', '--dry-run', '-o', 'json', '--kubeconfig', await s.kubeconfig(tmp)]);
  const plan = JSON.parse(j.out);
  assert.equal(plan.kind, 'SaRefreshPlan');
  // (README: every API-writing command's dry run says "dryRun": true in its -o json, as csr approve, cluster-info update and join do)
  assert.equal(plan.dryRun, true);
  assert.deepEqual(plan.secrets, [{ namespace: 'demo', name: 'app-token', serviceAccount: 'app', hasToken: true }]);
});

function pod(ns: string, name: string, owner: { kind: string; name: string; uid: string } | undefined, opts: { token?: boolean; secret?: string; ready?: boolean } = {}): any {
  return {
    metadata: { name, namespace: ns, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, controller: true, blockOwnerDeletion: true }] } : {}) },
    spec: {
      serviceAccountName: 'default',
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }],
      volumes: [
        ...(opts.token === false ? [] : [{ name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }]),
        ...(opts.secret ? [{ name: 'tok', secret: { secretName: opts.secret } }] : []),
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

test('sa refresh --restart-pods: merge PATCH clears each token, waits for the controller, restarts controller pods kube-system first; its --dry-run names exactly those, and only reads', async () => {
  const s = await FakeApiServer.start();
  servers.push(s);
  const mem = new MemoryObjects(s);
  const appToken = recorded(SA, (r) => r.method === 'GET' && r.path === '/api/v1/namespaces/demo/secrets/app-token').responseBody as any;
  mem.put('secrets', appToken);
  mem.put('pods', podList.items[0]);
  mem.put('pods', pod('demo', 'web-7d9f-abcde', { kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs-web' }, { secret: 'app-token', token: false }));
  mem.put('pods', pod('kube-system', 'kube-proxy-q2x8z', { kind: 'DaemonSet', name: 'kube-proxy', uid: 'ds-proxy' }));
  mem.put('pods', pod('default', 'no-token', { kind: 'ReplicaSet', name: 'nt', uid: 'rs-nt' }, { token: false }));
  let n = 0;
  mem.onChange = (plural, obj, verb) => {
    // the token controller: re-fill a cleared token a moment later (the recorded re-filled Secret)
    if (plural === 'secrets' && verb === 'patch' && !obj.data?.token) {
      setTimeout(() => mem.put('secrets', { ...obj, data: { ...obj.data, token: refilled.data.token } }), 30);
    }
    // the ReplicaSet / DaemonSet controllers: a deleted pod comes back (Ready) a moment later
    if (plural === 'pods' && verb === 'delete' && obj.metadata.ownerReferences) {
      setTimeout(() => mem.put('pods', { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata.name.replace(/-[^-]+$/, '')}-new${++n}`, uid: undefined } }), 30);
    }
  };
  const dry = await cli(['sa', 'refresh', '--restart-pods', '--dry-run', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(dry.code, 0, dry.err);
  assert.deepEqual(s.received.filter((x) => x.method !== 'GET').map((x) => `${x.method} ${x.path}`), [], 'the dry run only reads');
  const planned = dry.out.split('\n').filter((l) => /^ {2}(secret|pod) /.test(l) && !l.includes('not restarted')).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
  assert.ok(dry.out.endsWith('\nDry run: nothing was written.\n'), dry.out);
  const r = await cli(['sa', 'refresh', '--restart-pods', '--kubeconfig', await s.kubeconfig(tmp), '--sa-pub', path.join(PKI, 'sa.pub'), '--timeout', '5', '--poll-ms', '20']);
  assert.equal(r.code, 0, r.err + r.out);
  const writes = s.writes().map((w) => `${w.method} ${w.path}`);
  // what the dry run said it would do, in its order
  assert.deepEqual(writes.map((w) => w.replace(/^PATCH \/api\/v1\/namespaces\/([^/]+)\/secrets\//, 'secret $1/').replace(/^DELETE \/api\/v1\/namespaces\/([^/]+)\/pods\//, 'pod $1/')), planned);
  assert.deepEqual(writes, [
    'PATCH /api/v1/namespaces/demo/secrets/app-token',
    'DELETE /api/v1/namespaces/kube-system/pods/kube-proxy-q2x8z',
    'DELETE /api/v1/namespaces/demo/pods/web-7d9f-abcde',
  ]);
  const patch = s.writes()[0]!;
  const recPatch = recorded(SA, (x) => x.method === 'PATCH');
  assert.equal(patch.contentType, 'application/merge-patch+json');
  assert.equal(patch.contentType, recPatch.requestContentType);
  assert.deepEqual(patch.body, recPatch.requestBody);
  assert.match(r.out, /Secret demo\/app-token has a new token \(verifies with sa\.pub\)/);
  assert.match(r.out, /not restarting pod demo\/app: bare pod/);
  assert.match(r.out, /done: 1 token re-issued, 2 pods restarted/);
  assert.doesNotMatch(r.out, /no-token/);
  assert.ok(mem.get('pods', 'demo', 'app'), 'the bare pod is left alone');
});

test('sa refresh: a token that is never re-issued fails with exit 2 naming the Secret', async () => {
  const s = await FakeApiServer.start();
  servers.push(s);
  const mem = new MemoryObjects(s);
  mem.put('secrets', recorded(SA, (r) => r.method === 'GET' && r.path === '/api/v1/namespaces/demo/secrets/app-token').responseBody);
  const r = await cli(['sa', 'refresh', '--kubeconfig', await s.kubeconfig(tmp), '--timeout', '0.2', '--poll-ms', '20']);
  assert.equal(r.code, 2);
  assert.match(r.err, /failed to refresh Secret demo\/app-token: its token was not re-issued within 0.2s/);
});

test('the recorded legacy token verifies with the fixture sa.pub, not with another key', () => {
  const jwt = Buffer.from(refilled.data.token, 'base64').toString();
  assert.equal(jwtSignedBy(jwt, publicKeysFromPem(fs.readFileSync(path.join(PKI, 'sa.pub'), 'utf8'))), true);
  assert.equal(jwtSignedBy(jwt, publicKeysFromPem(fs.readFileSync(path.join(PKI, 'ca.crt'), 'utf8').replace(/CERTIFICATE/g, 'CERTIFICATE'))), false);
});

test('planSaRefresh: secret mounts, env references, static and finished pods', () => {
  const secrets = [{ type: 'kubernetes.io/service-account-token', metadata: { namespace: 'kube-system', name: 'old-token', annotations: { 'kubernetes.io/service-account.name': 'old' } }, data: { token: 'eA==' } }];
  const envPod = pod('kube-system', 'envy', { kind: 'ReplicaSet', name: 'e', uid: 'e' }, { token: false });
  envPod.spec.containers[0].env = [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'old-token', key: 'token' } } }];
  const mirror = pod('kube-system', 'kube-apiserver-cp-1', { kind: 'Node', name: 'cp-1', uid: 'n' });
  mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc' };
  const done = pod('default', 'job-x', { kind: 'Job', name: 'j', uid: 'j' });
  done.status.phase = 'Succeeded';
  const plan = planSaRefresh(secrets as any, [done, envPod, mirror]);
  assert.deepEqual(plan.pods.map((p) => [p.name, p.restart]), [['envy', true], ['kube-apiserver-cp-1', false], ['job-x', false]]);
  assert.deepEqual(plan.pods[0]!.uses, ['env TOKEN from Secret old-token']);
  assert.match(plan.pods[1]!.skipReason!, /static pod/);
});

test('against a real cluster (KUBEPKI_TEST_KUBECONFIG): sa refresh --dry-run plans without writing', { skip: !process.env.KUBEPKI_TEST_KUBECONFIG }, async () => {
  const r = await cli(['sa', 'refresh', '--dry-run', '-o', 'json', '--kubeconfig', process.env.KUBEPKI_TEST_KUBECONFIG!]);
  assert.equal(r.code, 0, r.err);
  const plan = JSON.parse(r.out);
  assert.equal(plan.kind, 'SaRefreshPlan');
  for (const p of plan.pods) assert.ok(p.uses.length > 0);
});

test('sa refresh --restart-pods waits for a StatefulSet\'s replacement, which has the deleted pod\'s name (db-0 again) and a new uid: it is counted once Ready, the old one (terminating, then gone) never (comparing names, it waited for the timeout and failed, exit 2)', async () => {
  const s = await FakeApiServer.start();
  servers.push(s);
  const mem = new MemoryObjects(s);
  const sts = { kind: 'StatefulSet', name: 'db', uid: 'sts-db' };
  mem.put('pods', { ...pod('data', 'db-0', sts), metadata: { ...pod('data', 'db-0', sts).metadata, uid: 'db-0-old' } });
  mem.put('pods', { ...pod('data', 'db-1', sts), metadata: { ...pod('data', 'db-1', sts).metadata, uid: 'db-1-old' } });
  mem.onChange = (plural, obj, verb) => {
    if (plural !== 'pods' || verb !== 'delete') return;
    // as kube-apiserver and the kubelet do: the pod stays, terminating (deletionTimestamp), until its containers
    // stopped; then the StatefulSet controller makes it again under the same name, a new object, Ready a moment later
    mem.put('pods', { ...obj, metadata: { ...obj.metadata, deletionTimestamp: '2026-11-23T00:00:00Z' } });
    setTimeout(() => {
      mem.objects.delete(`pods/data/${obj.metadata.name}`);
      mem.put('pods', { ...obj, metadata: { ...obj.metadata, uid: undefined, resourceVersion: undefined } });
    }, 40);
  };
  const r = await cli(['sa', 'refresh', '--restart-pods', '--kubeconfig', await s.kubeconfig(tmp), '--timeout', '3', '--poll-ms', '20']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), ['DELETE /api/v1/namespaces/data/pods/db-0', 'DELETE /api/v1/namespaces/data/pods/db-1']);
  assert.match(r.out, /done: 0 tokens re-issued, 2 pods restarted/);
  assert.notEqual(mem.get('pods', 'data', 'db-0').metadata.uid, 'db-0-old');
});

test('sa refresh --restart-pods stops at the first controller whose replacement never becomes Ready', async () => {
  const s = await FakeApiServer.start();
  servers.push(s);
  const mem = new MemoryObjects(s);
  mem.put('pods', pod('kube-system', 'kube-proxy-q2x8z', { kind: 'DaemonSet', name: 'kube-proxy', uid: 'ds-proxy' }));
  mem.put('pods', pod('demo', 'web-7d9f-abcde', { kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs-web' }));
  // the DaemonSet re-creates the pod, but it never gets Ready (e.g. its new token is rejected)
  mem.onChange = (plural, obj, verb) => {
    if (plural === 'pods' && verb === 'delete') setTimeout(() => mem.put('pods', { ...obj, metadata: { ...obj.metadata, name: 'kube-proxy-new', uid: undefined }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }), 20);
  };
  const r = await cli(['sa', 'refresh', '--restart-pods', '--kubeconfig', await s.kubeconfig(tmp), '--timeout', '0.3', '--poll-ms', '20']);
  assert.equal(r.code, 2);
  assert.match(r.err, /failed to restart pod kube-system\/kube-proxy-q2x8z: DaemonSet\/kube-proxy has 0 Ready pods, wanted 1, after 0.3s; stopped before restarting more/);
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), ['DELETE /api/v1/namespaces/kube-system/pods/kube-proxy-q2x8z']);
  assert.ok(mem.get('pods', 'demo', 'web-7d9f-abcde'), 'the next pod was not touched');
});
