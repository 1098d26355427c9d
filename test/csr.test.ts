import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { FakeApiServer, recorded, loadRecording, forbidden, notFound, SAR_PATH, serviceUnavailable, gatewayTimeout, authorizerError, tooManyRequests, serverTimeout, unauthorized, signerForbidden } from './support/fake-apiserver.js';
import { connect } from '../src/cluster/connect.js';
import { actOnCsr, approveRun, listCsrs, listNodes, previewApproval } from '../src/cluster/csr.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-csr-'));
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const get = (file: string, name: string) => recorded(file, (r) => r.method === 'GET' && r.path === `${CSRS}/${name}`).responseBody as any;

/** A cluster where the recorded client, serving and malicious CSRs (and `extra` ones) are all pending, listed in that order. */
async function pendingCluster(extra: any[] = [], order?: string[]): Promise<FakeApiServer> {
  const s = await FakeApiServer.start({ recordings: ['nodes.json', 'csr-kubelet-client.json', 'csr-kubelet-serving.json', 'csr-malicious.json'] });
  servers.push(s);
  const list = recorded('csr-malicious.json', (r) => r.method === 'GET' && r.path === CSRS).responseBody as any;
  const pending = [get('csr-kubelet-client.json', 'csr-hprcx'), get('csr-kubelet-serving.json', 'csr-r98zd'), get('csr-malicious.json', 'csr-s9vgs'), ...extra];
  let items = pending.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  if (order) items = order.map((n) => items.find((i) => i.metadata.name === n)!);
  s.route('GET', CSRS, () => ({ status: 200, body: { ...list, items } }));
  // still pending however often it is read (the recordings move on to the approved object), until a test approves it
  for (const c of pending) s.route('GET', `${CSRS}/${c.metadata.name}`, () => (s.writes().some((w) => w.path === `${CSRS}/${c.metadata.name}/approval`) ? undefined : { status: 200, body: c }));
  for (const c of extra) s.route('PUT', `${CSRS}/${c.metadata.name}/approval`, (req) => ({ status: 200, body: req.body }));
  return s;
}

/**
 * The recorded client CSR (CN system:node:worker-1) as a joining kubelet posts it with a bootstrap
 * token: user system:bootstrap:<id> in system:bootstrappers and the token's groups (kubeadm's
 * default-node-token unless the token was made with other --groups).
 */
function bootstrapCsr(name: string, groups = ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token']): any {
  const c = structuredClone(get('csr-kubelet-client.json', 'csr-hprcx'));
  c.metadata = { ...c.metadata, name, uid: `00000000-0000-4000-8000-${name.length.toString().padStart(12, '0')}`, resourceVersion: '9001' };
  c.spec = { ...c.spec, username: 'system:bootstrap:w7k2qx', groups: [...groups, 'system:authenticated'] };
  return c;
}

const SELF_BINDING = 'kubeadm:node-autoapprove-certificate-rotation';

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(env);
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** The approval body with our condition's reason/message swapped for kubectl's, to compare with the recording. */
function asKubectl(body: any): any {
  const b = structuredClone(body);
  const c = b.status.conditions.at(-1);
  assert.equal(c.type, 'Approved');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'KubepkiApprove');
  assert.match(c.message, /^This CSR was approved by kubepki csr approve: /);
  c.reason = 'KubectlApprove';
  c.message = 'This CSR was approved by kubectl certificate approve.';
  return b;
}

test('csr approve --all-valid approves the recorded client and serving CSRs and refuses the malicious one', async () => {
  const s = await pendingCluster();
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.match(r.out, /^approved csr-hprcx \(kubelet-client for worker-1\)/m);
  assert.match(r.out, /^approved csr-r98zd \(kubelet-serving for worker-1\)/m);
  const refused = r.out.split('\n').find((l) => l.startsWith('refused  csr-s9vgs (kubelet-serving for worker-1): ')) ?? '';
  assert.match(refused, /SAN IP:192\.0\.2\.10 is not an address of Node worker-1/);
  assert.match(refused, /SAN DNS:kubernetes\.default is not an address of Node worker-1/);
  assert.doesNotMatch(refused, /DNS:worker-1 is not|IP:192\.0\.2\.21 is not/);
  assert.equal(r.code, 1, 'a CSR failing the policy is left: exit 1');
  // the client CSR only after kube-controller-manager's review: the node renewing its own certificate
  assert.deepEqual(s.reviews().map((x) => x.body.spec), [{
    user: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'],
    resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource: 'selfnodeclient' },
  }]);
  assert.match(r.out, /^approved csr-hprcx .*SubjectAccessReview allowed system:node:worker-1 to create certificatesigningrequests\/selfnodeclient \(RBAC: allowed by ClusterRoleBinding "kubeadm:node-autoapprove-certificate-rotation"/m);
  const puts = s.writes();
  assert.deepEqual(puts.map((p) => `${p.method} ${p.path}`), [`PUT ${CSRS}/csr-hprcx/approval`, `PUT ${CSRS}/csr-r98zd/approval`]);
  for (const [file, name] of [['csr-kubelet-client.json', 'csr-hprcx'], ['csr-kubelet-serving.json', 'csr-r98zd']]) {
    const want = recorded(file!, (x) => x.method === 'PUT').requestBody;
    const got = puts.find((p) => p.path.includes(name!))!;
    assert.equal(got.contentType, 'application/json');
    // the same object the real API server accepted, field for field, timestamps verbatim
    assert.deepEqual(asKubectl(got.body), want);
  }
});

test('csr approve --deny-invalid denies the malicious CSR with the offending SANs in the message', async () => {
  const s = await pendingCluster();
  s.route('PUT', `${CSRS}/csr-s9vgs/approval`, (req) => ({ status: 200, body: req.body }));
  const r = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.match(r.out, /^denied   csr-s9vgs/m);
  const deny = s.writes().find((w) => w.path === `${CSRS}/csr-s9vgs/approval`)!;
  const cond = deny.body.status.conditions.at(-1);
  assert.equal(cond.type, 'Denied');
  assert.equal(cond.reason, 'KubepkiDeny');
  assert.match(cond.message, /IP:192\.0\.2\.10/);
  // denied as the operator's flag asked: nothing is left pending, so nothing is left to do (it was exit 1, "left")
  assert.equal(r.code, 0, r.out + r.err);
});

test('csr approve --all-valid acts on the CSRs as listed: no second read of each by name (nor a third before --deny-invalid denies); a named CSR is read once', async () => {
  const s = await pendingCluster();
  s.route('PUT', `${CSRS}/csr-s9vgs/approval`, (req) => ({ status: 200, body: req.body }));
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--kubeconfig', kc]);
  assert.equal(r.code, 0, r.out + r.err);
  const asked = () => s.received.map((x) => `${x.method} ${x.path.replace(CSRS, 'CSRS')}`);
  assert.deepEqual(asked(), [
    'GET /api/v1/nodes', 'GET CSRS',
    `POST ${SAR_PATH}`, 'PUT CSRS/csr-hprcx/approval', 'PUT CSRS/csr-r98zd/approval', 'PUT CSRS/csr-s9vgs/approval',
  ]);
  assert.match(r.out, /^approved csr-hprcx .*\n^approved csr-r98zd .*\n^denied   csr-s9vgs /m);
  // named (and not in the list --all-valid read): one read each, a name that is not there is reported
  const t = await pendingCluster();
  const named = await cli(['csr', 'approve', 'csr-r98zd', 'csr-gone', '--kubeconfig', await t.kubeconfig(tmp)]);
  assert.equal(named.code, 2);
  assert.match(named.err, /CertificateSigningRequest csr-gone not found/);
  assert.deepEqual(t.received.map((x) => `${x.method} ${x.path.replace(CSRS, 'CSRS')}`), ['GET /api/v1/nodes', 'GET CSRS/csr-r98zd', 'GET CSRS/csr-gone', 'PUT CSRS/csr-r98zd/approval']);
});

const NOT_FOUND_CSR = (name: string) => ({ status: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `certificatesigningrequests.certificates.k8s.io "${name}" not found`, reason: 'NotFound', details: { name, group: 'certificates.k8s.io', kind: 'certificatesigningrequests' }, code: 404 } });
// as recorded in approval-conflict.json (details included)
const CONFLICT_CSR = (name: string) => ({ status: 409, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`, reason: 'Conflict', details: { name, group: 'certificates.k8s.io', kind: 'certificatesigningrequests' }, code: 409 } });

test('csr approve --all-valid: a listed CSR deleted during the pass is gone, not a failure (it was "not found", exit 2); a named one deleted is still not found, exit 2', async () => {
  const s = await pendingCluster();
  // the kubelet gives up (or another approver, or the CSR cleaner, deletes it) right after the list
  s.route('PUT', `${CSRS}/csr-r98zd/approval`, () => NOT_FOUND_CSR('csr-r98zd'));
  s.route('GET', `${CSRS}/csr-r98zd`, () => NOT_FOUND_CSR('csr-r98zd'));
  // changed (409), then deleted before it is read again
  s.route('PUT', `${CSRS}/csr-hprcx/approval`, () => CONFLICT_CSR('csr-hprcx'));
  s.route('GET', `${CSRS}/csr-hprcx`, () => NOT_FOUND_CSR('csr-hprcx'));
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.equal(r.err, '', 'not an error');
  assert.match(r.out, /^gone     csr-r98zd \(kubelet-serving for worker-1\): deleted since it was listed, before it could be approved \(its kubelet gave up, or another approver or the CSR cleaner removed it\): nothing to do$/m);
  assert.match(r.out, /^gone     csr-hprcx \(kubelet-client for worker-1\): deleted since it was listed/m);
  assert.match(r.out, /^refused  csr-s9vgs /m);
  assert.equal(r.code, 1, 'what is left is the refused CSR: exit 1, as without the deleted ones');
  const json = JSON.parse((await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc])).out);
  assert.deepEqual(json.missing, []);
  assert.deepEqual(json.results.map((x: any) => [x.name, x.outcome]), [['csr-hprcx', 'gone'], ['csr-r98zd', 'gone'], ['csr-s9vgs', 'refused']]);
  // only the deleted ones left: nothing to do, exit 0
  const t = await pendingCluster([], ['csr-r98zd']);
  t.route('PUT', `${CSRS}/csr-r98zd/approval`, () => NOT_FOUND_CSR('csr-r98zd'));
  const only = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', await t.kubeconfig(tmp)]);
  assert.equal(only.code, 0, only.out + only.err);
  // named on the command line (also with --all-valid): the operator asked for it, so not found is exit 2, as before
  for (const argv of [['csr-r98zd'], ['--all-valid', 'csr-r98zd'], ['csr-hprcx']]) {
    const named = await cli(['csr', 'approve', ...argv, '--kubeconfig', kc]);
    assert.equal(named.code, 2, `${argv.join(' ')}: ${named.out}${named.err}`);
    assert.match(named.err, new RegExp(`^kubepki: CertificateSigningRequest ${argv.at(-1)} not found$`, 'm'));
    assert.doesNotMatch(named.out, new RegExp(`^gone +${argv.at(-1)}`, 'm'));
  }
});

test('csr approve NAME of a CSR already Denied or Failed is a refusal (exit 2, one line: a rotating kubelet makes a new CSR, a bootstrapping one\'s must be deleted); already Approved is exit 0', async () => {
  const decide = (c: any, type: string) => {
    c.status = { conditions: [{ type, status: 'True', reason: 'SomeoneElse', message: 'by hand', lastUpdateTime: '2026-11-22T21:40:00Z', lastTransitionTime: '2026-11-22T21:40:00Z' }] };
    return c;
  };
  const decided = (name: string, type: string) => decide(bootstrapCsr(name), type);
  // a node renewing its own client certificate (the kubelet's rotation: a generated name, a new one each try)
  const rotating = decide(structuredClone(get('csr-kubelet-client.json', 'csr-hprcx')), 'Denied');
  rotating.metadata = { ...rotating.metadata, name: 'csr-denied', uid: '00000000-0000-4000-8000-00000000d3n1' };
  const s = await pendingCluster([decided('node-csr-denied', 'Denied'), decided('node-csr-failed', 'Failed'), decided('node-csr-done', 'Approved'), rotating]);
  const kc = await s.kubeconfig(tmp);
  for (const [name, word] of [['node-csr-denied', 'Denied'], ['node-csr-failed', 'Failed']] as const) {
    const r = await cli(['csr', 'approve', name, '--kubeconfig', kc]);
    assert.equal(r.code, 2, `${name}: not approved and never can be: ${r.out}${r.err}`);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.out);
    // a bootstrapping kubelet names its CSR after its key and keeps the key: it would meet this one again
    assert.match(lines[0]!, new RegExp(`^refused  ${name} \\(kubelet-client for worker-1\\): already ${word}\\b.*delete it \\(kubectl delete csr ${name}\\)`));
  }
  const rot = await cli(['csr', 'approve', 'csr-denied', '--kubeconfig', kc]);
  assert.equal(rot.code, 2, rot.out + rot.err);
  assert.match(rot.out, /^refused  csr-denied \(kubelet-client for worker-1\): already Denied\b.*the kubelet makes a new CSR when it tries again/);
  assert.doesNotMatch(rot.out, /kubectl delete csr/);
  const done = await cli(['csr', 'approve', 'node-csr-done', '--kubeconfig', kc]);
  assert.equal(done.code, 0, done.out + done.err);
  assert.equal(done.out, 'skipped  node-csr-done (kubelet-client for worker-1): already approved\n');
  // -o json says what the text says (it said `skipped` for a Denied CSR the text called refused), same exit codes
  for (const [name, word, verdict, code] of [['node-csr-denied', 'refused', 'denied', 2], ['node-csr-failed', 'refused', 'failed', 2], ['node-csr-done', 'skipped', 'approved', 0]] as const) {
    const text = await cli(['csr', 'approve', name, '--kubeconfig', kc]);
    const json = await cli(['csr', 'approve', name, '-o', 'json', '--kubeconfig', kc]);
    assert.deepEqual([text.code, json.code], [code, code]);
    const r = JSON.parse(json.out).results;
    assert.deepEqual(r.map((x: any) => [x.name, x.outcome, x.verdict]), [[name, word, verdict]]);
    assert.equal(text.out.split(' ')[0], word, text.out);
  }
  assert.deepEqual(s.writes(), [], 'a decided CSR is never written');
  assert.deepEqual(s.reviews(), [], 'nor reviewed');
});

test('csr approve --help and the README name the outcomes -o json reports, as the text lines start', async () => {
  const help = await cli(['csr', 'approve', '--help']);
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8').replace(/\s+/g, ' ');
  for (const [word, meaning] of [['refused', /already Denied or Failed/], ['skipped', /already approved/], ['forbidden', /approve CSRs of its signer .*resourceNames the signer/]] as const) {
    assert.match(help.out, new RegExp(`^  ${word} +(.*)$`, 'm'));
    assert.match(help.out.slice(help.out.indexOf(`  ${word} `)).split(/\n  \S/)[0]!.replace(/\s+/g, ' '), meaning);
  }
  assert.match(readme, /`forbidden` \(kubepki's user may not approve that signer's CSRs; on stderr\)/);
  assert.match(readme, /`refused` \(left as it is; `verdict` says why: `invalid`, `unauthorized`, or already `denied`\/`failed`\), `skipped` \(already approved\)/);
});

test('csr approve NAME refuses a named CSR that fails the policy: exit 2, nothing written', async () => {
  const s = await pendingCluster();
  const r = await cli(['csr', 'approve', 'csr-s9vgs', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 2);
  assert.match(r.out, /refused  csr-s9vgs.*IP:192\.0\.2\.10/);
  assert.deepEqual(s.writes(), []);
  const missing = await cli(['csr', 'approve', 'csr-doesnotexist', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /CertificateSigningRequest csr-doesnotexist not found/);
});

test('csr approve: a bootstrap token\'s client CSR is approved once a SubjectAccessReview allows it create certificatesigningrequests/nodeclient', async () => {
  const s = await pendingCluster([bootstrapCsr('node-csr-boot')]);
  const r = await cli(['csr', 'approve', 'node-csr-boot', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 0, r.out + r.err);
  // not the node itself (spec.username is not the CN): only nodeclient is asked, with the requester's identity
  assert.deepEqual(s.reviews().map((x) => x.body.spec), [{
    user: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'],
    resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource: 'nodeclient' },
  }]);
  assert.deepEqual(s.writes().map((w) => w.path), [`${CSRS}/node-csr-boot/approval`]);
  const cond = s.writes()[0]!.body.status.conditions.at(-1);
  assert.equal(cond.type, 'Approved');
  assert.match(cond.message, /RBAC: allowed by ClusterRoleBinding "kubeadm:node-autoapprove-bootstrap" of ClusterRole "system:certificates\.k8s\.io:certificatesigningrequests:nodeclient" to Group "system:bootstrappers:kubeadm:default-node-token"/);
});

test('csr approve: a requester the SubjectAccessReview refuses is left pending, with the permission it lacks and the ClusterRoleBinding that grants it', async () => {
  // the operator removed the node renewal binding, and a token was made with its own --groups
  const s = await pendingCluster([bootstrapCsr('node-csr-other', ['system:bootstrappers', 'system:bootstrappers:worker-pool'])]);
  const binding = s.rbac.clusterRoleBindings.get(SELF_BINDING)!;
  s.rbac.clusterRoleBindings.delete(SELF_BINDING);
  s.route('PUT', `${CSRS}/csr-s9vgs/approval`, (req) => ({ status: 200, body: req.body }));
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--kubeconfig', kc]);
  const line = (n: string) => r.out.split('\n').filter((l) => l.includes(` ${n} `));
  assert.deepEqual(line('csr-hprcx'), ['refused  csr-hprcx (kubelet-client for worker-1): requester system:node:worker-1 (groups system:nodes, system:authenticated) may not create certificatesigningrequests/selfnodeclient or /nodeclient in certificates.k8s.io (SubjectAccessReview denied), so kube-controller-manager would not approve it either; kubeadm grants it with `kubectl create clusterrolebinding kubeadm:node-autoapprove-certificate-rotation --clusterrole=system:certificates.k8s.io:certificatesigningrequests:selfnodeclient --group=system:nodes`']);
  assert.equal(line('node-csr-other').length, 1);
  assert.match(line('node-csr-other')[0]!, /^refused  node-csr-other \(kubelet-client for worker-1\): requester system:bootstrap:w7k2qx .*may not create certificatesigningrequests\/nodeclient .*kubeadm grants it to system:bootstrappers:kubeadm:default-node-token, which this requester is not in; grant it with `kubectl create clusterrolebinding .* --clusterrole=system:certificates\.k8s\.io:certificatesigningrequests:nodeclient --group=system:bootstrappers:worker-pool`$/);
  // like kube-controller-manager, both recognizers were tried for the node's own CSR
  assert.deepEqual(s.reviews().map((x) => `${x.body.spec.user} ${x.body.spec.resourceAttributes.subresource}`),
    ['system:node:worker-1 selfnodeclient', 'system:node:worker-1 nodeclient', 'system:bootstrap:w7k2qx nodeclient']);
  // left pending, not denied (granting the permission lets them through); the serving CSR goes on as before
  assert.deepEqual(s.writes().map((w) => `${w.path.slice(CSRS.length)} ${w.body.status.conditions.at(-1).type}`), ['/csr-r98zd/approval Approved', '/csr-s9vgs/approval Denied']);
  assert.equal(r.code, 1);
  const json = JSON.parse((await cli(['csr', 'approve', 'csr-hprcx', '-o', 'json', '--kubeconfig', kc])).out);
  assert.equal(json.results[0].verdict, 'unauthorized');
  const named = await cli(['csr', 'approve', 'csr-hprcx', '--kubeconfig', kc]);
  assert.equal(named.code, 2, 'a named CSR that is refused: exit 2');
  // the binding back, as the hint says: the same CSR is approved
  s.rbac.clusterRoleBindings.set(SELF_BINDING, binding);
  const again = await cli(['csr', 'approve', 'csr-hprcx', '--kubeconfig', kc]);
  assert.equal(again.code, 0, again.out + again.err);
  assert.match(again.out, /^approved csr-hprcx /m);
});

test('csr approve: when the SubjectAccessReview itself fails (403 for kubepki\'s user, 404), the serving CSRs are still approved, the client CSR is left pending with one line, exit 4 / 3', async () => {
  const s = await pendingCluster();
  s.route('POST', SAR_PATH, () => forbidden('system:serviceaccount:kube-system:kubepki', 'create', 'authorization.k8s.io', 'subjectaccessreviews'));
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.equal(r.code, 4, 'an authorization refusal: 4, as any 403, after the serving CSR was approved');
  // the serving CSR, listed after the client CSR whose review failed, needs no review: approved
  assert.deepEqual(s.writes().map((w) => `${w.path.slice(CSRS.length)} ${w.body.status.conditions.at(-1).type}`), ['/csr-r98zd/approval Approved']);
  assert.match(r.out, /^approved csr-r98zd \(kubelet-serving for worker-1\)/m);
  assert.match(r.out, /^refused  csr-s9vgs /m);
  assert.doesNotMatch(r.out, /csr-hprcx/);
  assert.equal(s.reviews().length, 1, 'asked once, not approved');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /^kubepki: failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests\/selfnodeclient \(SubjectAccessReview\): subjectaccessreviews\.authorization\.k8s\.io is forbidden: User "system:serviceaccount:kube-system:kubepki" cannot create resource "subjectaccessreviews" in API group "authorization\.k8s\.io" at the cluster scope \(403 Forbidden\); csr-hprcx was left pending; hint: kubepki approves kubelet client CSRs only after a SubjectAccessReview, as kube-controller-manager does: give user \S+ create on subjectaccessreviews\.authorization\.k8s\.io \(ClusterRole system:auth-delegator\), or use \/etc\/kubernetes\/admin\.conf$/);
  const json = JSON.parse((await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc])).out);
  const client = json.results.find((x: any) => x.name === 'csr-hprcx');
  assert.equal(client.outcome, 'unreviewed');
  assert.match(client.hint, /ClusterRole system:auth-delegator/);
  assert.ok(!s.writes().some((w) => w.path.includes('csr-hprcx')), 'the client CSR never approved');

  // named, the API server without SubjectAccessReviews (404): the named serving CSR approved, exit 3
  const t = await pendingCluster();
  t.route('POST', SAR_PATH, () => notFound(SAR_PATH));
  const gone = await cli(['csr', 'approve', 'csr-hprcx', 'csr-r98zd', '--kubeconfig', await t.kubeconfig(tmp)]);
  assert.equal(gone.code, 3);
  assert.match(gone.err, /^kubepki: failed to ask .* answered 404: the server could not find the requested resource; csr-hprcx was left pending; hint: .*kubectl certificate approve csr-hprcx\)\n$/);
  assert.match(gone.out, /^approved csr-r98zd /m);
  assert.deepEqual(t.writes().map((w) => w.path), [`${CSRS}/csr-r98zd/approval`]);
});

test('a SubjectAccessReview the API server cannot make (403, 404) is asked once per pass: csr list and csr approve mark the other client CSRs unreviewed for the same reason without asking (they asked one per CSR)', async () => {
  for (const [answer, code] of [[() => forbidden('system:serviceaccount:kube-system:kubepki', 'create', 'authorization.k8s.io', 'subjectaccessreviews'), 4], [() => notFound(SAR_PATH), 3]] as const) {
    const s = await pendingCluster([bootstrapCsr('node-csr-boot'), bootstrapCsr('node-csr-next')]);
    let failing = true;
    s.route('POST', SAR_PATH, () => (failing ? answer() : undefined));
    const kc = await s.kubeconfig(tmp);
    const clientRows = (items: any[]) => items.filter((i: any) => i.kind === 'kubelet-client');
    const list = await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc]);
    assert.equal(list.code, 0, list.err);
    assert.equal(s.reviews().length, 1, `csr list asked once, not once per client CSR (${code})`);
    const rows = clientRows(JSON.parse(list.out).items);
    assert.deepEqual(rows.map((i: any) => [i.name, i.verdict]), [['csr-hprcx', 'unreviewed'], ['node-csr-boot', 'unreviewed'], ['node-csr-next', 'unreviewed']]);
    assert.match(rows[0].reason, /^failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx /);
    for (const i of rows.slice(1)) assert.equal(i.reason, `SubjectAccessReview not asked, the first of this pass could not be made: ${rows[0].reason}`);

    const r = await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc]);
    assert.equal(s.reviews().length, 2, `csr approve asked once too (${code})`);
    assert.equal(r.code, code);
    const results = JSON.parse(r.out).results;
    assert.deepEqual(results.map((x: any) => [x.name, x.outcome]), [['csr-hprcx', 'unreviewed'], ['csr-r98zd', 'approved'], ['csr-s9vgs', 'refused'], ['node-csr-boot', 'unreviewed'], ['node-csr-next', 'unreviewed']]);
    assert.match(results[3].reason, /^SubjectAccessReview not asked, the first of this pass could not be made: failed to ask .* csr-hprcx .*; node-csr-boot was left pending$/);
    assert.deepEqual(s.writes().map((w) => w.path), [`${CSRS}/csr-r98zd/approval`]);

    // the next pass asks again (the permission may have been granted since): one review per client CSR
    failing = false;
    const next = await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc]);
    assert.deepEqual(clientRows(JSON.parse(next.out).items).map((i: any) => i.verdict), ['valid', 'valid', 'valid']);
    assert.equal(s.reviews().length, 5);
  }
});

test('404 for SubjectAccessReviews: csr list and csr approve print one hint for the pass, naming every unreviewed client CSR (list printed one per CSR), the same in both; beyond 5, the generic command', async () => {
  const s = await pendingCluster([bootstrapCsr('node-csr-boot'), bootstrapCsr('node-csr-next')]);
  s.route('POST', SAR_PATH, () => notFound(SAR_PATH));
  const kc = await s.kubeconfig(tmp);
  const hint = 'this API server (or a proxy in front of it) does not serve authorization.k8s.io/v1 SubjectAccessReviews, so kubepki cannot tell whether the requester may get the certificate: check the CSRs and approve them by hand (kubectl certificate approve csr-hprcx node-csr-boot node-csr-next)';
  const list = await cli(['csr', 'list', '--kubeconfig', kc]);
  assert.equal(list.code, 0, list.err);
  assert.equal(list.err, `kubepki: hint: ${hint}\n`);
  const approve = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.equal(approve.code, 3);
  // one line for the three: the review that failed, the CSRs it left pending, the hint list printed
  assert.match(approve.err, /^kubepki: failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests\/selfnodeclient \(SubjectAccessReview\): the API server \S+ answered 404: [^\n]*; csr-hprcx, node-csr-boot, node-csr-next were left pending; hint: (.*)\n$/);
  assert.equal(/; hint: (.*)\n$/.exec(approve.err)![1], hint);
  assert.match(approve.out, /^approved csr-r98zd /m);
  // -o json: each unreviewed CSR carries the pass's hint, the same in list and approve
  const jl = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out).items.filter((i: any) => i.verdict === 'unreviewed');
  const ja = JSON.parse((await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc])).out).results.filter((x: any) => x.outcome === 'unreviewed');
  assert.deepEqual([...jl, ...ja].map((x: any) => x.hint), Array(6).fill(hint));
  // many: the generic command, not a line of names
  const many = await pendingCluster(['node-csr-b1', 'node-csr-b2', 'node-csr-b3', 'node-csr-b4', 'node-csr-b5'].map((n) => bootstrapCsr(n)));
  many.route('POST', SAR_PATH, () => notFound(SAR_PATH));
  const m = await cli(['csr', 'list', '--kubeconfig', await many.kubeconfig(tmp)]);
  assert.equal(m.err.split('\n').filter(Boolean).length, 1, m.err);
  assert.match(m.err, /by hand \(kubectl certificate approve NAME\.\.\., for the 6 unreviewed CSRs of kubepki csr list\)\n$/);
  // 403: the same, one line for the pass in approve (it was one per CSR, each with the hint)
  const f = await pendingCluster([bootstrapCsr('node-csr-boot')]);
  f.route('POST', SAR_PATH, () => forbidden('system:serviceaccount:kube-system:kubepki', 'create', 'authorization.k8s.io', 'subjectaccessreviews'));
  const fa = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', await f.kubeconfig(tmp)]);
  assert.equal(fa.code, 4);
  assert.match(fa.err, /^kubepki: failed to ask [^\n]*\(403 Forbidden\); csr-hprcx, node-csr-boot were left pending; hint: [^\n]*system:auth-delegator[^\n]*\n$/);
});

test('a SubjectAccessReview the API server fails to make (503, 504 Timeout, 500 from a failing authorization webhook, a connection reset) is asked once per pass, not once per CSR: csr list and csr approve mark the other client CSRs unreviewed, one line and one hint saying what failed and what to do, nothing approved without it', async () => {
  const cases = [
    [() => serviceUnavailable(), /answered 503: service unavailable/],
    [() => gatewayTimeout(), /answered 504: Timeout: request did not complete within requested timeout - context deadline exceeded/],
    [() => authorizerError(SAR_PATH, 'Post "https://authz.example:8443/authorize": dial tcp 192.0.2.50:8443: connect: connection refused'),
      /answered 500: Internal Server Error: "\/apis\/authorization\.k8s\.io\/v1\/subjectaccessreviews": Post "https:\/\/authz\.example:8443\/authorize": dial tcp/],
    [() => ({ status: 0, body: null, reset: true }), /is unreachable \(ECONNRESET\)/],
  ] as const;
  for (const [answer, said] of cases) {
    const s = await pendingCluster([bootstrapCsr('node-csr-boot'), bootstrapCsr('node-csr-next')]);
    let failing = true;
    s.route('POST', SAR_PATH, () => (failing ? answer() : undefined));
    const kc = await s.kubeconfig(tmp);
    const list = await cli(['csr', 'list', '--kubeconfig', kc]);
    assert.equal(list.code, 0, list.err);
    assert.equal(s.reviews().length, 1, `csr list asked once, not once per client CSR (${said})`);
    const hint = /^kubepki: hint: (.*)\n$/.exec(list.err)?.[1];
    assert.ok(hint, `one hint line: ${list.err}`);
    assert.match(hint, /^kubepki approves a kubelet client CSR only after a SubjectAccessReview allows it, and the API server failed to answer one \(no more were asked in this pass\): run the command again once it is healthy .* or check the CSRs and approve them by hand \(kubectl certificate approve csr-hprcx node-csr-boot node-csr-next\)$/);
    const rows = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out).items.filter((i: any) => i.kind === 'kubelet-client');
    assert.deepEqual(rows.map((i: any) => [i.name, i.verdict]), [['csr-hprcx', 'unreviewed'], ['node-csr-boot', 'unreviewed'], ['node-csr-next', 'unreviewed']]);
    assert.match(rows[0].reason, said);
    for (const i of rows.slice(1)) assert.equal(i.reason, `SubjectAccessReview not asked, the first of this pass could not be made: ${rows[0].reason}`);
    assert.deepEqual(rows.map((i: any) => i.hint), Array(3).fill(hint));

    const before = s.reviews().length;
    const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
    assert.equal(s.reviews().length, before + 1, `csr approve asked once too (${said})`);
    assert.equal(r.code, 3, 'the API server failing: 3');
    // the serving CSR, which needs no review, approved; no client CSR
    assert.deepEqual(s.writes().map((w) => w.path), [`${CSRS}/csr-r98zd/approval`]);
    assert.match(r.out, /^approved csr-r98zd /m);
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, /^kubepki: failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests\/selfnodeclient \(SubjectAccessReview\): /);
    assert.match(lines[0]!, said);
    assert.ok(lines[0]!.endsWith(`; csr-hprcx, node-csr-boot, node-csr-next were left pending; hint: ${hint}`), lines[0]);

    // healthy again: the next pass asks for each
    failing = false;
    const next = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out).items.filter((i: any) => i.kind === 'kubelet-client');
    assert.deepEqual(next.map((i: any) => i.verdict), ['valid', 'valid', 'valid']);
  }
});

/** A SubjectAccessReview retry case: the SAR endpoint's replies in turn, the waits kubepki should take, the verdicts it should reach. */
type SarRetryCase = { name: string; replies: (() => any)[]; waits: number[]; verdicts: string[]; reason?: RegExp };

/** Runs each case on a fresh cluster with two bootstrap CSRs; returns the judged CSRs of each, for what a test checks beyond. */
async function sarRetryCases(cases: SarRetryCase[]) {
  const out = [];
  for (const c of cases) {
    const s = await pendingCluster([bootstrapCsr('node-csr-boot'), bootstrapCsr('node-csr-next')]);
    const replies = [...c.replies];
    s.route('POST', SAR_PATH, () => replies.shift()?.());
    const client = await connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, cwd: tmp });
    const waits: number[] = [];
    const judged = await previewApproval(client, await listCsrs(client), await listNodes(client), { sleep: async (ms) => { waits.push(ms); } });
    const rows = judged.map((p) => p.decision).filter((d) => d.kind === 'kubelet-client');
    assert.deepEqual(rows.map((d) => d.verdict), c.verdicts, c.name);
    assert.deepEqual(waits, c.waits, c.name);
    assert.equal(s.reviews().length, c.verdicts[0] === 'valid' ? 4 : c.waits.length + 1, `${c.name}: asked again once at most, then not for the others`);
    if (c.reason) assert.match(rows[0]!.reason, c.reason, c.name);
    out.push({ c, judged });
  }
  return out;
}

test('a 429 from the SubjectAccessReview is sent again once, after its Retry-After (as client-go does); a second 429, one asking for more than 10s, or one without Retry-After fails the pass\'s reviews', async () => {
  const cases: SarRetryCase[] = [
    { name: 'one 429', replies: [() => tooManyRequests('2')], waits: [2000], verdicts: ['valid', 'valid', 'valid'] },
    { name: 'two', replies: [() => tooManyRequests('1'), () => tooManyRequests('1')], waits: [1000], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'],
      reason: /answered 429: Too many requests, please try again later\. \(again, after the 1s its first 429's Retry-After asked\)$/ },
    { name: 'Retry-After 120', replies: [() => tooManyRequests('120')], waits: [], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'], reason: /answered 429: Too many requests, please try again later\.$/ },
    { name: 'no Retry-After', replies: [() => ({ ...tooManyRequests(), headers: {} })], waits: [], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'], reason: /answered 429: / },
  ];
  for (const { c, judged } of await sarRetryCases(cases)) {
    if (c.reason) assert.match(judged.find((p) => p.decision.name === 'node-csr-next')!.error!.hint!, /kubectl certificate approve csr-hprcx node-csr-boot node-csr-next\)$/);
  }
});

test('a 5xx from the SubjectAccessReview carrying Retry-After is sent again once, after it, as client-go sends a 429 or 5xx with Retry-After again; again a 5xx, or one without Retry-After, fails the pass\'s reviews (it failed at once)', async () => {
  const timeout = (s: number) => () => serverTimeout('authorization.k8s.io', 'subjectaccessreviews', 'create', s);
  const unavailable = (s: string) => () => ({ ...serviceUnavailable(), headers: { 'Retry-After': s } });
  const cases: SarRetryCase[] = [
    { name: 'one 500 ServerTimeout, Retry-After 2', replies: [timeout(2)], waits: [2000], verdicts: ['valid', 'valid', 'valid'] },
    { name: 'one 503 with Retry-After', replies: [unavailable('1')], waits: [1000], verdicts: ['valid', 'valid', 'valid'] },
    { name: 'two', replies: [unavailable('1'), unavailable('1')], waits: [1000], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'],
      reason: /answered 503: service unavailable \(again, after the 1s its first 503's Retry-After asked\)$/ },
    { name: '503 without Retry-After', replies: [() => serviceUnavailable()], waits: [], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'], reason: /answered 503: service unavailable$/ },
    { name: 'Retry-After 30', replies: [timeout(30)], waits: [], verdicts: ['unreviewed', 'unreviewed', 'unreviewed'], reason: /answered 500: The create operation against subjectaccessreviews\.authorization\.k8s\.io could not be completed at this time, please try again\.$/ },
  ];
  await sarRetryCases(cases);
});

test('an approval answered 429 (or a 5xx) with a short Retry-After, as kube-apiserver\'s priority and fairness answers on a busy control plane, is sent again once after it, as client-go sends any request again: the pass goes on (one 429 on the first approval failed the whole pass, exit 3, its serving CSR left pending)', async () => {
  const s = await pendingCluster();
  let puts = 0;
  s.route('PUT', `${CSRS}/csr-hprcx/approval`, () => (++puts === 1 ? tooManyRequests('1') : undefined));
  const waits: number[] = [];
  const client = await connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, cwd: tmp });
  const run1 = await approveRun(client, { names: [], allValid: true, denyInvalid: false, sleep: async (ms) => { waits.push(ms); } });
  assert.deepEqual(run1.results.map((r) => `${r.outcome} ${r.name}`), ['approved csr-hprcx', 'approved csr-r98zd', 'refused csr-s9vgs']);
  assert.deepEqual(waits, [1000], 'waited the Retry-After once');
  assert.deepEqual(s.writes().map((w) => w.path.slice(CSRS.length)), ['/csr-hprcx/approval', '/csr-hprcx/approval', '/csr-r98zd/approval']);
  // again a 429: the pass fails as before, saying it was sent again; without Retry-After (or asking for long), not sent again
  for (const [reply, sent, said] of [
    [() => tooManyRequests('1'), 2, / answered 429: Too many requests, please try again later\. \(again, after the 1s its first 429's Retry-After asked\)$/],
    [() => ({ ...serviceUnavailable(), headers: { 'Retry-After': '120' } }), 1, / answered 503: service unavailable$/],
  ] as const) {
    const t = await pendingCluster();
    t.route('PUT', `${CSRS}/csr-hprcx/approval`, reply);
    const c = await connect({ kubeconfig: await t.kubeconfig(tmp), env: {}, cwd: tmp });
    await assert.rejects(approveRun(c, { names: [], allValid: true, denyInvalid: false, sleep: async () => {} }), (e: any) => {
      assert.match(e.message, /^failed to approve CertificateSigningRequest csr-hprcx: the API server https:\/\/127\.0\.0\.1:\d+/);
      assert.match(e.message, said);
      assert.equal(e.exitCode, 3);
      return true;
    });
    assert.equal(t.writes().length, sent);
  }
});

test('csr approve --all-valid: a pass stopped by an approval the API server refuses (503, a 403 from RBAC) says first what it did before: the CSR it approved is approved (it printed only the error, text and -o json, and its help said nothing was approved)', async () => {
  // RBAC's 403 for a user without update on the approval subresource (responsewriters.forbiddenMessage, with the name):
  // not about a signer, so it stops the pass as before
  const rbac403 = { status: 403, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'certificatesigningrequests.certificates.k8s.io "csr-r98zd" is forbidden: User "system:serviceaccount:kube-system:kubepki" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope', reason: 'Forbidden', details: { name: 'csr-r98zd', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' }, code: 403 } };
  for (const [reply, code, said] of [[() => serviceUnavailable(), 3, /answered 503: service unavailable$/m], [() => rbac403, 4, /cannot update resource "certificatesigningrequests\/approval" in API group "certificates\.k8s\.io" at the cluster scope \(403 Forbidden\)$/m]] as const) {
    const s = await pendingCluster();
    s.route('PUT', `${CSRS}/csr-r98zd/approval`, reply);
    const kc = await s.kubeconfig(tmp);
    const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
    assert.equal(r.code, code, r.err);
    assert.match(r.out, /^approved csr-hprcx \(kubelet-client for worker-1\)/m);
    assert.doesNotMatch(r.out, /csr-r98zd|csr-s9vgs/, 'nothing said of the CSRs the pass did not get to');
    assert.match(r.err, /^kubepki: failed to approve CertificateSigningRequest csr-r98zd: /);
    assert.match(r.err, said);
    const j = await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc]);
    assert.equal(j.code, code);
    assert.deepEqual(JSON.parse(j.out).results.map((x: any) => `${x.outcome} ${x.name}`), ['approved csr-hprcx']);
    assert.deepEqual(s.writes().map((w) => w.path.slice(CSRS.length)), ['/csr-hprcx/approval', '/csr-r98zd/approval', '/csr-hprcx/approval', '/csr-r98zd/approval']);
  }
});

/** A cluster whose kubepki user may approve only kubelet-serving CSRs: the approval admission plugin's 403 for any other signer. */
async function servingOnlyApprover(extra: any[] = []): Promise<FakeApiServer> {
  const s = await pendingCluster(extra);
  s.route('PUT', new RegExp(`^${CSRS}/([^/?]+)/approval$`), (req, m) => (req.body?.spec?.signerName === 'kubernetes.io/kubelet-serving' ? undefined : signerForbidden(m[1]!, req.body.spec.signerName)));
  return s;
}

test('csr approve --all-valid, a user that may approve only kubelet-serving CSRs: the client CSRs are left pending (forbidden, one line for the signer with the RBAC rule), the serving CSR is still approved, exit 4 (the first client CSR stopped the pass: serving CSRs were never approved)', async () => {
  const s = await servingOnlyApprover([bootstrapCsr('node-csr-boot')]);
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.equal(r.code, 4, 'kubepki\'s user lacks a permission, as for a review it may not make');
  assert.match(r.out, /^approved csr-r98zd \(kubelet-serving for worker-1\)/m);
  assert.match(r.out, /^refused  csr-s9vgs /m);
  assert.doesNotMatch(r.out, /csr-hprcx|node-csr-boot/);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, /^kubepki: failed to approve CertificateSigningRequest csr-hprcx: certificatesigningrequests\.certificates\.k8s\.io "csr-hprcx" is forbidden: user not permitted to approve requests with signerName "kubernetes\.io\/kube-apiserver-client-kubelet" \(403 Forbidden\); csr-hprcx, node-csr-boot were left pending; hint: user \S+ may not approve CSRs of signer kubernetes\.io\/kube-apiserver-client-kubelet: they are left to an approver that may \(kube-controller-manager approves kubelet client CSRs itself\); for kubepki to approve them, bind that user a ClusterRole with the rule \{apiGroups: \[certificates\.k8s\.io\], resources: \[signers\], verbs: \[approve\], resourceNames: \[kubernetes\.io\/kube-apiserver-client-kubelet\]\}$/);
  // the second client CSR would get the same 403: not sent, nor reviewed
  assert.deepEqual(s.writes().map((w) => w.path.slice(CSRS.length)), ['/csr-hprcx/approval', '/csr-r98zd/approval']);
  assert.equal(s.reviews().length, 1, 'only the client CSR whose approval was sent was reviewed');

  const j = await cli(['csr', 'approve', '--all-valid', '-o', 'json', '--kubeconfig', kc]);
  assert.equal(j.code, 4);
  const results = JSON.parse(j.out).results;
  assert.deepEqual(results.map((x: any) => `${x.outcome} ${x.name} ${x.attempts}`), ['forbidden csr-hprcx 1', 'approved csr-r98zd 1', 'refused csr-s9vgs 0', 'forbidden node-csr-boot 0']);
  assert.match(results[0].hint, /resources: \[signers\], verbs: \[approve\], resourceNames: \[kubernetes\.io\/kube-apiserver-client-kubelet\]/);

  // named: the same outcome and code (it was the same error, thrown)
  const n = await cli(['csr', 'approve', 'csr-hprcx', 'csr-r98zd', '--kubeconfig', kc]);
  assert.equal(n.code, 4, n.err);
  assert.match(n.out, /^approved csr-r98zd /m);
  assert.match(n.err, /csr-hprcx was left pending; hint: /);
});

test('csr approve --all-valid --watch, a user that may approve only kubelet-serving CSRs: every pass approves the serving CSRs and sends one client approval (a later grant lets them through); the line is said once', async () => {
  const s = await servingOnlyApprover();
  const r = await cli(['csr', 'approve', '--all-valid', '--watch', '--interval', '0.05', '--max-passes', '2', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 4, r.err);
  // (pendingCluster lists csr-r98zd pending at each pass)
  assert.deepEqual(s.writes().map((w) => w.path.slice(CSRS.length)), ['/csr-hprcx/approval', '/csr-r98zd/approval', '/csr-hprcx/approval', '/csr-r98zd/approval']);
  assert.equal(r.err.match(/csr-hprcx was left pending \(retrying every 0\.05s\); hint: /g)?.length, 1, r.err);
});

test('approveRun (library), a signer 403 on --deny-invalid\'s denial too: that CSR is forbidden, not denied; the CSRs of the same signer after it are not sent, sharing its error', async () => {
  // a user that may approve no signer at all: the serving CSR's approval gets the 403, the malicious one's denial is not sent
  const s = await pendingCluster();
  s.route('PUT', new RegExp(`^${CSRS}/([^/?]+)/approval$`), (req, m) => signerForbidden(m[1]!, req.body.spec.signerName));
  const client = await connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, cwd: tmp });
  const run1 = await approveRun(client, { names: [], allValid: true, denyInvalid: true });
  assert.deepEqual(run1.results.map((r) => `${r.outcome} ${r.name} ${r.decision.verdict}`), ['forbidden csr-hprcx valid', 'forbidden csr-r98zd valid', 'forbidden csr-s9vgs invalid']);
  assert.equal(run1.results[2]!.error, run1.results[1]!.error, 'one error for the signer');
  assert.notEqual(run1.results[0]!.error, run1.results[1]!.error, 'one per signer');
  assert.equal(run1.results[1]!.error!.exitCode, 4);
  assert.deepEqual(s.writes().map((w) => w.path.slice(CSRS.length)), ['/csr-hprcx/approval', '/csr-r98zd/approval']);
});

test('a 401 on a SubjectAccessReview (credentials refused mid-pass: an expired token) stops the pass\'s reviews with one line saying the credentials in the kubeconfig were refused, exit 4 (it failed once per CSR)', async () => {
  const s = await pendingCluster([bootstrapCsr('node-csr-boot'), bootstrapCsr('node-csr-next')]);
  s.route('POST', SAR_PATH, () => unauthorized());
  const kc = await s.kubeconfig(tmp);
  const list = await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc]);
  assert.equal(list.code, 0, list.err);
  assert.equal(s.reviews().length, 1, 'csr list asked once, not once per client CSR');
  const rows = JSON.parse(list.out).items.filter((i: any) => i.kind === 'kubelet-client');
  assert.deepEqual(rows.map((i: any) => i.verdict), ['unreviewed', 'unreviewed', 'unreviewed']);
  assert.equal(new Set(rows.map((i: any) => i.hint)).size, 1, 'one hint for the pass');
  assert.match(rows[0].hint, /kubepki check.*kubepki inspect /);

  const r = await cli(['csr', 'approve', '--all-valid', '--kubeconfig', kc]);
  assert.equal(s.reviews().length, 2, 'csr approve asked once too');
  assert.equal(r.code, 4, 'credentials refused: 4');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  const esc = kc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(lines[0]!, new RegExp(`^kubepki: failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests/selfnodeclient \\(SubjectAccessReview\\): the API server https://127\\.0\\.0\\.1:\\d+ refused the credentials of user kubernetes-admin in ${esc} \\(401 Unauthorized\\); csr-hprcx, node-csr-boot, node-csr-next were left pending; hint: the client certificate \\(or token\\) is expired, revoked or not from this cluster's CA`));
  assert.ok(!s.writes().some((w) => w.path.includes('csr-hprcx') || w.path.includes('node-csr-')), 'no client CSR approved');
});

test('a SubjectAccessReview the API server takes and never answers is given up after the review timeout, and the pass asks no more (it waited forever)', async () => {
  const s = await pendingCluster([bootstrapCsr('node-csr-boot')]);
  let hung = true;
  // kept open, no answer, while hung
  s.hold('POST', SAR_PATH, () => hung);
  const client = await connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, cwd: tmp });
  const [csrs, nodes] = [await listCsrs(client), await listNodes(client)];
  // (without the timeout it waits forever: fail instead)
  const stuck = new Promise<never>((_, reject) => { setTimeout(() => reject(new Error('still waiting after 10s: the review was not given up')), 10_000).unref(); });
  const judged = await Promise.race([previewApproval(client, csrs, nodes, { timeoutMs: 300 }), stuck]);
  const rows = judged.filter((p) => p.decision.kind === 'kubelet-client');
  assert.deepEqual(rows.map((p) => p.decision.verdict), ['unreviewed', 'unreviewed']);
  assert.equal(s.reviews().length, 1, 'given up once, the other not asked');
  assert.match(rows[0]!.decision.reason, /^failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests\/selfnodeclient \(SubjectAccessReview\): the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 0\.3s$/);
  assert.equal(rows[0]!.error!.exitCode, 3);
  assert.match(rows[1]!.error!.hint!, /run the command again once it is healthy .*\(kubectl certificate approve csr-hprcx node-csr-boot\)$/);
  // the same timeout does not cut a review that answers in time
  hung = false;
  const ok = await previewApproval(client, csrs, nodes, { timeoutMs: 5000 });
  assert.deepEqual(ok.filter((p) => p.decision.kind === 'kubelet-client').map((p) => p.decision.verdict), ['valid', 'valid']);
});

/** `p`, or a failure after `s` seconds (without a timeout of its own, a call to a server that never answers waits forever). */
function within<T>(p: Promise<T>, s: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => { setTimeout(() => reject(new Error(`${what}: still waiting after ${s}s`)), s * 1000).unref(); })]);
}

test('an API server that takes a request and never answers (a load balancer after a failover): every call is given up after the client\'s timeout, one line naming the server, exit 3 (it waited forever)', async () => {
  const s = await pendingCluster();
  s.hold('GET', CSRS);
  s.hold('GET', '/api/v1/nodes');
  const kubeconfig = await s.kubeconfig(tmp);
  // the library: the clients connect makes carry the timeout, 70s unless told
  assert.equal((await connect({ kubeconfig, env: {}, cwd: tmp })).timeoutMs, 70_000);
  const client = await connect({ kubeconfig, env: {}, cwd: tmp, timeoutMs: 300 });
  await assert.rejects(within(listNodes(client), 10, 'list Nodes'), (e: any) => {
    assert.equal(e.message, `failed to list Nodes: the API server ${s.url} did not answer within 0.3s`);
    assert.equal(e.exitCode, 3);
    assert.match(e.hint, /load balancer in front of it, took the request and is not answering: .*`kubectl get --raw \/readyz`/);
    return true;
  });
  // the command
  const r = await within(cli(['csr', 'list', '--request-timeout', '0.3', '--kubeconfig', kubeconfig]), 10, 'csr list');
  assert.equal(r.code, 3);
  assert.equal(r.out, '');
  assert.match(r.err, /^kubepki: failed to list (CertificateSigningRequests|Nodes): the API server https:\/\/127\.0\.0\.1:\d+ did not answer within 0\.3s\n  hint: the API server, or a load balancer in front of it, took the request and is not answering: see whether it is ready with `kubectl get --raw \/readyz`, then run the command again\n$/);
});

// (1s: the third pass's calls, answered, must not time out on a loaded machine)
test('csr approve --watch: a pass whose list the API server never answers fails after the timeout, and the next pass, answered, approves (the approver stalled for good)', async () => {
  const { s, lists } = await watchedCluster(1);
  let held = 0;
  s.hold('GET', CSRS, () => held++ < 2);
  const r = await within(cli(['csr', 'approve', '--all-valid', '--watch', '--interval', '0.05', '--max-passes', '3', '--request-timeout', '1', '--kubeconfig', await s.kubeconfig(tmp)]), 20, 'csr approve --watch');
  assert.equal(r.code, 0, r.err);
  // what to do, once: not again while the same failure lasts
  const failed = `kubepki: failed to list CertificateSigningRequests: the API server ${s.url} did not answer within 1s (retrying in 0.05s)`;
  assert.equal(r.err, `${failed}; hint: the API server, or a load balancer in front of it, took the request and is not answering: see whether it is ready with \`kubectl get --raw /readyz\`, then run the command again\n${failed}\n`);
  assert.equal(lists(), 1, 'the second pass listed');
  assert.deepEqual(s.writes().map((w) => w.path).sort(), [`${CSRS}/csr-hprcx/approval`, `${CSRS}/csr-r98zd/approval`]);
  assert.equal(r.out.match(/^approved /gm)?.length, 2);
});

test('csr approve --all-valid --watch with a kubeconfig that may not create subjectaccessreviews: serving CSRs approved at once, the client CSR at the pass after the grant', async () => {
  const { s } = await watchedCluster(1);
  let passes = 0;
  s.route('GET', CSRS, () => { passes++; return undefined; });
  const client = get('csr-kubelet-client.json', 'csr-hprcx');
  s.route('GET', `${CSRS}/csr-hprcx`, () => (s.writes().length < 2 ? { status: 200, body: client } : undefined));
  // the grant arrives between the second and the third pass
  s.route('POST', SAR_PATH, () => (passes < 3 ? forbidden('system:serviceaccount:kube-system:kubepki', 'create', 'authorization.k8s.io', 'subjectaccessreviews') : undefined));
  const r = await cli(['csr', 'approve', '--all-valid', '--watch', '--interval', '0.05', '--max-passes', '3', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.deepEqual(s.writes().map((w) => w.path), [`${CSRS}/csr-r98zd/approval`, `${CSRS}/csr-hprcx/approval`]);
  assert.equal(s.reviews().length, 3, 'tried again at each pass');
  assert.equal(r.err.match(/csr-hprcx was left pending \(retrying every 0\.05s\); hint: /g)?.length, 1, `said once: ${r.err}`);
  assert.equal(r.code, 0, 'the last pass approved it');
});

test('409 Conflict on approval, and the CSR read again is another object of that name: its requester is asked anew, not let through on the first one\'s review', async () => {
  const first = bootstrapCsr('node-csr-same');
  // deleted and made again meanwhile under the same name by a requester outside kubeadm's token group
  const again = bootstrapCsr('node-csr-same', ['system:bootstrappers', 'system:bootstrappers:worker-pool']);
  again.metadata = { ...again.metadata, uid: '11111111-1111-4111-8111-111111111111', resourceVersion: '9002' };
  const s = await pendingCluster([first]);
  let puts = 0;
  s.route('PUT', `${CSRS}/node-csr-same/approval`, (req) => (++puts === 1
    ? CONFLICT_CSR('node-csr-same')
    : { status: 200, body: req.body }));
  s.route('GET', `${CSRS}/node-csr-same`, () => (puts > 0 ? { status: 200, body: again } : undefined));
  const r = await cli(['csr', 'approve', 'node-csr-same', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.deepEqual(s.reviews().map((x) => x.body.spec.groups[1]), ['system:bootstrappers:kubeadm:default-node-token', 'system:bootstrappers:worker-pool']);
  assert.equal(puts, 1, 'no approval sent for the object made again');
  assert.match(r.out, /^refused  node-csr-same .*may not create certificatesigningrequests\/nodeclient/m);
  assert.equal(r.code, 2);
});

test('actOnCsr (library), 409 Conflict: the review answers for the retries only while the object read again is the one reviewed (its uid); an object without a uid is reviewed anew', async () => {
  const same = bootstrapCsr('node-csr-lib');
  const nouid = structuredClone(same);
  delete nouid.metadata.uid;
  for (const [csr, reviews] of [[same, 1], [nouid, 2]] as const) {
    const s = await pendingCluster([csr]);
    let puts = 0;
    s.route('PUT', `${CSRS}/node-csr-lib/approval`, (req) => (++puts === 1
      ? CONFLICT_CSR('node-csr-lib')
      : { status: 200, body: req.body }));
    s.route('GET', `${CSRS}/node-csr-lib`, () => ({ status: 200, body: csr }));
    const client = await connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, cwd: tmp });
    const r = await actOnCsr(client, 'node-csr-lib', 'approve', await listNodes(client), {}, csr);
    assert.equal(r.outcome, 'approved');
    assert.equal(r.attempts, 2);
    assert.equal(s.reviews().length, reviews, csr.metadata.uid ? 'the same uid: asked once' : 'no uid: asked again');
  }
});

test('409 Conflict on approval: re-read, re-judge, retry (the recorded exchange in order)', async () => {
  const s = await FakeApiServer.start({ recordings: ['nodes.json', 'approval-conflict.json'] });
  servers.push(s);
  const r = await cli(['csr', 'approve', 'csr-w8chg', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /approved csr-w8chg .*\(after 1 conflict\)/);
  const seq = s.received.filter((x) => x.path.startsWith(`${CSRS}/csr-w8chg`)).map((x) => `${x.method} ${x.path.slice(CSRS.length)}`);
  assert.deepEqual(seq, ['GET /csr-w8chg', 'PUT /csr-w8chg/approval', 'GET /csr-w8chg', 'PUT /csr-w8chg/approval']);
  const rec = loadRecording('approval-conflict.json').requests.filter((x) => x.method === 'PUT');
  const puts = s.writes();
  assert.equal(puts[0]!.body.metadata.resourceVersion, (rec[0]!.requestBody as any).metadata.resourceVersion);
  assert.deepEqual(asKubectl(puts[1]!.body), rec[1]!.requestBody);
});

test('csr list shows signer, requester, subject, SANs, usages, age and verdict', async () => {
  const s = await FakeApiServer.start({ recordings: ['nodes.json', 'csr-malicious.json'] });
  servers.push(s);
  const r = await cli(['csr', 'list', '--kubeconfig', await s.kubeconfig(tmp), '--now', '2026-11-22T22:43:00Z']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+AGE\s+SIGNER\s+REQUESTER\s+SUBJECT\s+SANS\s+USAGES\s+VERDICT$/);
  const row = (n: string) => lines.find((l) => l.startsWith(n)) ?? '';
  assert.match(row('csr-hprcx'), /kube-apiserver-client-kubelet\s+system:node:worker-1\s+O=system:nodes, ?CN=system:node:worker-1|kube-apiserver-client-kubelet/);
  assert.match(row('csr-hprcx'), /approved,issued$/);
  assert.match(row('csr-r98zd'), /DNS:worker-1,IP:192\.0\.2\.21\s+digital signature,server auth\s+approved,issued$/);
  assert.match(row('csr-s9vgs'), /^csr-s9vgs\s+5\dm\s+kubernetes\.io\/kubelet-serving/);
  assert.match(row('csr-s9vgs'), /invalid: .*SAN IP:192\.0\.2\.10 is not an address of Node worker-1/);
  const j = await cli(['csr', 'list', '-o', 'json', '--kubeconfig', await s.kubeconfig(tmp)]);
  const doc = JSON.parse(j.out);
  assert.equal(doc.kind, 'CsrList');
  assert.deepEqual(doc.items.map((i: any) => [i.name, i.verdict]).sort(), [['csr-hprcx', 'approved'], ['csr-r98zd', 'approved'], ['csr-s9vgs', 'invalid']]);
});

test('csr list says whether approve would approve a pending kubelet client CSR: its SubjectAccessReview asked as approve asks it, the refusal with approve\'s ClusterRoleBinding line, nothing approved', async () => {
  const s = await pendingCluster([bootstrapCsr('node-csr-boot')]);
  const kc = await s.kubeconfig(tmp);
  const rowOf = (out: string, n: string) => out.split('\n').find((l) => l.startsWith(`${n} `)) ?? '';
  const ok = await cli(['csr', 'list', '--kubeconfig', kc]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.err, '');
  assert.match(rowOf(ok.out, 'csr-hprcx'), /\svalid$/);
  assert.match(rowOf(ok.out, 'node-csr-boot'), /\svalid$/);
  assert.match(rowOf(ok.out, 'csr-r98zd'), /\svalid$/);
  assert.match(rowOf(ok.out, 'csr-s9vgs'), /\sinvalid: .*IP:192\.0\.2\.10/);
  // the same reviews approve makes (selfnodeclient, then nodeclient), for the client CSRs that pass the policy only
  assert.deepEqual(s.reviews().map((x) => `${x.body.spec.user} ${x.body.spec.resourceAttributes.subresource}`), ['system:node:worker-1 selfnodeclient', 'system:bootstrap:w7k2qx nodeclient']);
  const json = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out);
  assert.match(json.items.find((i: any) => i.name === 'csr-hprcx').reason, /SubjectAccessReview allowed system:node:worker-1 to create certificatesigningrequests\/selfnodeclient/);

  // the node renewal binding removed: list says unauthorized with the line approve prints, and approve agrees
  s.rbac.clusterRoleBindings.delete(SELF_BINDING);
  const no = await cli(['csr', 'list', '--kubeconfig', kc]);
  assert.equal(no.code, 0, no.err);
  const approve = await cli(['csr', 'approve', 'csr-hprcx', '--kubeconfig', kc]);
  const why = approve.out.replace(/^refused  csr-hprcx \(kubelet-client for worker-1\): /, '').trimEnd();
  assert.match(why, /kubectl create clusterrolebinding kubeadm:node-autoapprove-certificate-rotation /);
  assert.ok(rowOf(no.out, 'csr-hprcx').endsWith(` unauthorized: ${why}`), rowOf(no.out, 'csr-hprcx'));
  assert.match(rowOf(no.out, 'node-csr-boot'), /\svalid$/);
  const nojson = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out);
  assert.deepEqual(nojson.items.map((i: any) => [i.name, i.verdict]), [['csr-hprcx', 'unauthorized'], ['csr-r98zd', 'valid'], ['csr-s9vgs', 'invalid'], ['node-csr-boot', 'valid']]);
  assert.deepEqual(s.writes(), [], 'list approves nothing');
});

test('csr list when the SubjectAccessReview cannot be made (403 for kubepki\'s user, 404): every CSR listed, the client CSRs unreviewed, the hint once on stderr, exit 0', async () => {
  for (const [answer, said] of [[() => forbidden('system:serviceaccount:kube-system:kubepki', 'create', 'authorization.k8s.io', 'subjectaccessreviews'), /\(403 Forbidden\)/], [() => notFound(SAR_PATH), /answered 404/]] as const) {
    const s = await pendingCluster([bootstrapCsr('node-csr-boot')]);
    s.route('POST', SAR_PATH, answer);
    const kc = await s.kubeconfig(tmp);
    const r = await cli(['csr', 'list', '--kubeconfig', kc]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 5, r.out);
    const row = (n: string) => lines.find((l) => l.startsWith(`${n} `)) ?? '';
    for (const n of ['csr-hprcx', 'node-csr-boot']) {
      // (the first review of the pass failed: the second client CSR's is not asked)
      assert.match(row(n), new RegExp(`\\sunreviewed: ${n === 'csr-hprcx' ? '' : 'SubjectAccessReview not asked, the first of this pass could not be made: '}failed to ask the API server whether the requester of CertificateSigningRequest csr-hprcx may create certificatesigningrequests/\\w+ \\(SubjectAccessReview\\)`));
      assert.match(row(n), said);
      assert.doesNotMatch(row(n), /left pending/);
    }
    assert.match(row('csr-r98zd'), /\svalid$/);
    assert.match(row('csr-s9vgs'), /\sinvalid: /);
    const hints = r.err.trimEnd().split('\n');
    assert.ok(hints.every((h) => h.startsWith('kubepki: hint: ')), r.err);
    // one hint for both: 403, what kubepki's user lacks; 404, approve them by hand, by name (it was one per CSR)
    assert.equal(hints.length, 1, r.err);
    if (said.source.includes('404')) assert.match(hints[0]!, /\(kubectl certificate approve csr-hprcx node-csr-boot\)$/);
    const json = JSON.parse((await cli(['csr', 'list', '-o', 'json', '--kubeconfig', kc])).out);
    const boot = json.items.find((i: any) => i.name === 'node-csr-boot');
    assert.equal(boot.verdict, 'unreviewed');
    assert.ok(boot.hint, 'the hint in JSON too');
    assert.deepEqual(s.writes(), []);
  }
  const help = (await cli(['csr', 'list', '--help'])).out;
  for (const v of ['valid', 'unauthorized', 'unreviewed']) assert.match(help, new RegExp(`^  ${v} +\\S`, 'm'));
  assert.match(fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8').replace(/\s+/g, ' '), /`csr list` judges each CSR as `csr approve` would, SubjectAccessReviews included/);
});

/** A cluster where the client CSR is pending from the start and the serving CSR from list call `servingFrom` on. */
async function watchedCluster(servingFrom: number): Promise<{ s: FakeApiServer; lists: () => number }> {
  const s = await FakeApiServer.start({ recordings: ['nodes.json', 'csr-kubelet-client.json', 'csr-kubelet-serving.json'] });
  servers.push(s);
  const list = recorded('csr-malicious.json', (r) => r.method === 'GET' && r.path === CSRS).responseBody as any;
  let lists = 0;
  s.route('GET', CSRS, () => {
    lists++;
    const approved = new Set(s.writes().map((w) => w.path.split('/').at(-2)));
    const items = [get('csr-kubelet-client.json', 'csr-hprcx'), ...(lists >= servingFrom ? [get('csr-kubelet-serving.json', 'csr-r98zd')] : [])]
      .filter((c) => !approved.has(c.metadata.name));
    return { status: 200, body: { ...list, items } };
  });
  return { s, lists: () => lists };
}

test('csr approve --all-valid --watch keeps approving new valid CSRs, each once', async () => {
  const { s, lists } = await watchedCluster(2);
  const r = await cli(['csr', 'approve', '--all-valid', '--watch', '--interval', '0.05', '--max-passes', '3', '--kubeconfig', await s.kubeconfig(tmp)]);
  assert.equal(r.code, 0, r.err);
  assert.equal(lists(), 3);
  assert.deepEqual(s.writes().map((w) => w.path), [`${CSRS}/csr-hprcx/approval`, `${CSRS}/csr-r98zd/approval`]);
  assert.equal(r.out.match(/^approved /gm)?.length, 2);
});

/** Only reads reached the server: GETs, and SubjectAccessReviews (a POST that stores nothing; csr list asks them too). */
function onlyReads(s: FakeApiServer): void {
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), [], 'no write request');
  for (const r of s.received) assert.ok(r.method === 'GET' || (r.method === 'POST' && r.path.split('?')[0] === SAR_PATH), `${r.method} ${r.path}`);
}

test('csr approve --all-valid --deny-invalid --dry-run says which CSRs it would approve and deny and why, sends only reads, and the run without it does exactly that', async () => {
  const s = await pendingCluster();
  s.route('PUT', `${CSRS}/csr-s9vgs/approval`, (req) => ({ status: 200, body: req.body }));
  const kc = await s.kubeconfig(tmp);
  const dry = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--dry-run', '--kubeconfig', kc]);
  assert.equal(dry.code, 0, dry.err);
  const lines = dry.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^approved csr-hprcx \(kubelet-client for worker-1\) \(dry run\): .*SubjectAccessReview allowed system:node:worker-1 to create certificatesigningrequests\/selfnodeclient/);
  assert.match(lines[1]!, /^approved csr-r98zd \(kubelet-serving for worker-1\) \(dry run\): /);
  assert.match(lines[2]!, /^denied   csr-s9vgs \(kubelet-serving for worker-1\) \(dry run\): .*SAN IP:192\.0\.2\.10 is not an address of Node worker-1/);
  assert.equal(lines.at(-1), 'Dry run: nothing was written.');
  assert.equal(lines.length, 4, dry.out);
  onlyReads(s);
  // the client CSR's review was asked as the real run asks it: the dry run's verdict is the real one's
  assert.equal(s.reviews().length, 1);

  const json = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--dry-run', '-o', 'json', '--kubeconfig', kc]);
  const doc = JSON.parse(json.out);
  assert.equal(doc.dryRun, true);
  assert.deepEqual(doc.results.map((r: any) => [r.name, r.outcome, r.attempts]), [['csr-hprcx', 'approved', 0], ['csr-r98zd', 'approved', 0], ['csr-s9vgs', 'denied', 0]]);
  onlyReads(s);

  const real = await cli(['csr', 'approve', '--all-valid', '--deny-invalid', '--kubeconfig', kc]);
  assert.equal(real.code, dry.code, real.err);
  // the same lines, written this time
  assert.deepEqual(real.out.trimEnd().split('\n'), lines.slice(0, 3).map((l) => l.replace(' (dry run)', '')));
  assert.deepEqual(s.writes().map((w) => `${w.method} ${w.path}`), ['csr-hprcx', 'csr-r98zd', 'csr-s9vgs'].map((n) => `PUT ${CSRS}/${n}/approval`));
  assert.deepEqual(s.writes().map((w) => w.body.status.conditions.at(-1).type), ['Approved', 'Approved', 'Denied']);
});

test('csr approve NAME --dry-run exits as the run would (2 for a CSR that fails the policy, 0 for one it would approve); --dry-run with --watch is refused before connecting', async () => {
  const s = await pendingCluster();
  const kc = await s.kubeconfig(tmp);
  const bad = await cli(['csr', 'approve', 'csr-s9vgs', '--dry-run', '--kubeconfig', kc]);
  assert.equal(bad.code, 2);
  assert.match(bad.out, /^refused  csr-s9vgs \(kubelet-serving for worker-1\): .*IP:192\.0\.2\.10/m);
  const good = await cli(['csr', 'approve', 'csr-r98zd', '--dry-run', '--kubeconfig', kc]);
  assert.equal(good.code, 0, good.err);
  assert.equal(good.out, `approved csr-r98zd (kubelet-serving for worker-1) (dry run): ${/^approved csr-r98zd [^:]*: (.*)$/m.exec(good.out)![1]}\nDry run: nothing was written.\n`);
  onlyReads(s);
  const before = s.received.length;
  const watch = await cli(['csr', 'approve', '--all-valid', '--watch', '--dry-run', '--kubeconfig', kc]);
  assert.equal(watch.code, 3);
  assert.equal(watch.out, '');
  assert.match(watch.err, /^kubepki: --dry-run cannot be used with --watch: a dry run is one pass\n  hint: drop --watch/);
  assert.equal(s.received.length, before, 'refused before connecting');
});

test('csr approve without names or --all-valid is a usage error', async () => {
  const r = await cli(['csr', 'approve']);
  assert.equal(r.code, 3);
  assert.match(r.err, /needs CSR names or --all-valid/);
});

test('against a real cluster (KUBEPKI_TEST_KUBECONFIG): csr list runs and every row has a verdict', { skip: !process.env.KUBEPKI_TEST_KUBECONFIG }, async () => {
  const r = await cli(['csr', 'list', '-o', 'json', '--kubeconfig', process.env.KUBEPKI_TEST_KUBECONFIG!]);
  assert.equal(r.code, 0, r.err);
  for (const i of JSON.parse(r.out).items) assert.ok(['valid', 'invalid', 'unauthorized', 'unreviewed', 'manual', 'approved', 'denied', 'failed'].includes(i.verdict));
});

test('csr approve --watch | head -1: when the reader goes, the approver stops (it does not go on approving with nobody reading)', async () => {
  const { spawn } = await import('node:child_process');
  const { s, lists } = await watchedCluster(3);
  const bin = path.join(process.cwd(), 'bin', 'kubepki.js');
  const kc = await s.kubeconfig(tmp);
  const t0 = Date.now();
  const child = spawn('bash', ['-c', `node ${bin} csr approve --all-valid --watch --interval 0.1 --max-passes 300 --kubeconfig ${kc} | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.match(out, /^approved csr-hprcx/);
  assert.match(err, /rc=0/);
  assert.ok(Date.now() - t0 < 15_000, `stopped after ${Date.now() - t0} ms`);
  assert.ok(lists() < 10, `the approver stopped at the first write after head left (${lists()} list calls, not 300)`);
});

// serve --interval takes a duration (60s); csr approve's took only seconds, and refused `30s`
test('csr approve --watch --interval takes a duration as serve does (1s), or bare seconds; anything else is refused before connecting', async () => {
  // a cluster with its Nodes and no CSR pending
  const s = await FakeApiServer.start({ recordings: ['nodes.json', 'csr-malicious.json'] });
  servers.push(s);
  const list = recorded('csr-malicious.json', (r) => r.method === 'GET' && r.path === CSRS).responseBody as any;
  s.route('GET', CSRS, () => ({ status: 200, body: { ...list, items: [] } }));
  const kc = await s.kubeconfig(tmp);
  const started = Date.now();
  const r = await cli(['csr', 'approve', '--all-valid', '--watch', '--interval', '1s', '--max-passes', '2', '--kubeconfig', kc]);
  assert.equal(r.code, 0, r.err);
  assert.ok(Date.now() - started >= 1000, 'waited the 1s between passes');
  for (const bad of ['5x', '0s', '0', '-1']) {
    const b = await cli(['csr', 'approve', '--all-valid', '--watch', '--interval', bad, '--kubeconfig', kc]);
    assert.equal(b.code, 3, bad);
    assert.match(b.err, /^kubepki: --interval "[^"]*" is not a duration/m, bad);
  }
});
