import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCsr, normalizeIp, type CsrObject, type NodeObject } from '../src/cluster/csr-policy.js';
import { createCsr, nameDer, subjectAltNameExt, type NameType, type SanInput } from '../src/pki/sign.js';
import { generateKey } from '../src/pki/keygen.js';
import { pemOf } from '../src/pki/sign.js';
import { recorded, loadRecording } from './support/fake-apiserver.js';

const nodes = (recorded('nodes.json', (r) => r.method === 'GET' && r.path === '/api/v1/nodes').responseBody as { items: NodeObject[] }).items;
const pending = (file: string, name: string) => recorded(file, (r) => r.method === 'GET' && r.path.endsWith(`/certificatesigningrequests/${name}`)).responseBody as CsrObject;

const CLIENT = pending('csr-kubelet-client.json', 'csr-hprcx');
const SERVING = pending('csr-kubelet-serving.json', 'csr-r98zd');
const MALICIOUS = pending('csr-malicious.json', 'csr-s9vgs');

const key = await generateKey('ecdsa-p256');
async function makeCsr(subject: { type: NameType; value: string }[], sans: SanInput[] = []): Promise<string> {
  const der = await createCsr({ subjectDer: nameDer(subject), key, extensions: sans.length ? [subjectAltNameExt(sans)] : [] });
  return Buffer.from(pemOf(der, 'CERTIFICATE REQUEST')).toString('base64');
}
const node = (n: string) => [{ type: 'O' as const, value: 'system:nodes' }, { type: 'CN' as const, value: `system:node:${n}` }];

function csr(spec: Partial<NonNullable<CsrObject['spec']>>, status: CsrObject['status'] = {}): CsrObject {
  return {
    metadata: { name: 'csr-test' },
    spec: { signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'], username: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'], ...spec },
    status,
  };
}

test('recorded CSRs: client and serving are valid, the malicious one names both SANs that are not worker-1\'s', () => {
  const c = evaluateCsr(CLIENT, nodes);
  assert.equal(c.verdict, 'valid', c.reason);
  assert.equal(c.kind, 'kubelet-client');
  assert.equal(c.node, 'worker-1');
  const s = evaluateCsr(SERVING, nodes);
  assert.equal(s.verdict, 'valid', s.reason);
  assert.deepEqual(s.sans, ['DNS:worker-1', 'IP:192.0.2.21']);
  const m = evaluateCsr(MALICIOUS, nodes);
  assert.equal(m.verdict, 'invalid');
  assert.equal(m.violations.length, 2, m.reason);
  assert.match(m.reason, /SAN IP:192\.0\.2\.10 is not an address of Node worker-1/);
  assert.match(m.reason, /SAN DNS:kubernetes\.default is not an address of Node worker-1/);
  assert.doesNotMatch(m.reason, /192\.0\.2\.21 is not/);
  // and whose they are: another Node's address and the API server's name (impersonation, not a typo)
  assert.match(m.reason, /192\.0\.2\.10 is not an address of Node worker-1 — it is Node cp-1's/);
  assert.match(m.reason, /kubernetes\.default is not an address of Node worker-1 — it is the API server's name/);
});

test('already decided CSRs keep their state', () => {
  const approved = recorded('csr-kubelet-client.json', (r) => r.method === 'PUT').responseBody as CsrObject;
  assert.equal(evaluateCsr(approved, nodes).verdict, 'approved');
  assert.equal(evaluateCsr({ ...SERVING, status: { conditions: [{ type: 'Denied', status: 'True' }] } }, nodes).verdict, 'denied');
  assert.equal(evaluateCsr({ ...SERVING, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] } }, nodes).verdict, 'failed');
});

const servingReq = await makeCsr(node('worker-1'), [{ type: 'dns', value: 'worker-1' }, { type: 'ip', value: '192.0.2.21' }]);
const clientReq = await makeCsr(node('worker-1'));
const CLIENT_SPEC = { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] };

const readyNodes: NodeObject[] = nodes.map((n) => ({ ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' }] } }));
const table: { name: string; csr: () => Promise<CsrObject> | CsrObject; opts?: { allowNewNodes?: boolean }; nodes?: NodeObject[]; verdict: string; reason?: RegExp }[] = [
  { name: 'serving, own addresses', csr: () => csr({ request: servingReq }), verdict: 'valid' },
  { name: 'serving with key encipherment (RSA kubelet)', csr: () => csr({ request: servingReq, usages: ['digital signature', 'key encipherment', 'server auth'] }), verdict: 'valid' },
  { name: 'serving, usages in another order', csr: () => csr({ request: servingReq, usages: ['server auth', 'digital signature'] }), verdict: 'valid' },
  { name: 'serving with client auth usage', csr: () => csr({ request: servingReq, usages: ['digital signature', 'server auth', 'client auth'] }), verdict: 'invalid', reason: /usages \[digital signature, server auth, client auth\] are not an allowed set/ },
  { name: 'serving, duplicated usage', csr: () => csr({ request: servingReq, usages: ['digital signature', 'server auth', 'server auth'] }), verdict: 'invalid', reason: /usages/ },
  { name: 'serving requested by another node', csr: () => csr({ request: servingReq, username: 'system:node:cp-1' }), verdict: 'invalid', reason: /requester system:node:cp-1 is not the node system:node:worker-1/ },
  { name: 'serving requested by a bootstrap token', csr: () => csr({ request: servingReq, username: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers'] }), verdict: 'invalid', reason: /requester system:bootstrap:w7k2qx/ },
  { name: 'serving for a missing Node', csr: async () => csr({ request: await makeCsr(node('worker-9'), [{ type: 'dns', value: 'worker-9' }]), username: 'system:node:worker-9' }), verdict: 'invalid', reason: /Node worker-9 does not exist/ },
  { name: 'serving with an email SAN', csr: async () => csr({ request: await makeCsr(node('worker-1'), [{ type: 'dns', value: 'worker-1' }, { type: 'email', value: 'a@b.test' }]) }), verdict: 'invalid', reason: /SAN email:a@b\.test is not allowed/ },
  { name: 'serving with a URI SAN', csr: async () => csr({ request: await makeCsr(node('worker-1'), [{ type: 'ip', value: '192.0.2.21' }, { type: 'uri', value: 'spiffe://x/y' }]) }), verdict: 'invalid', reason: /SAN URI:spiffe:\/\/x\/y is not allowed/ },
  { name: 'serving without SANs', csr: () => csr({ request: clientReq }), verdict: 'invalid', reason: /needs at least one DNS or IP SAN/ },
  { name: 'serving, hostname case differs', csr: async () => csr({ request: await makeCsr(node('worker-1'), [{ type: 'dns', value: 'WORKER-1' }]) }), verdict: 'valid' },
  { name: 'serving, O=system:masters added', csr: async () => csr({ request: await makeCsr([...node('worker-1'), { type: 'O', value: 'system:masters' }], [{ type: 'dns', value: 'worker-1' }]) }), verdict: 'invalid', reason: /O must be exactly system:nodes, got "system:masters", "system:nodes"|O must be exactly system:nodes/ },
  { name: 'serving, CN not a node', csr: async () => csr({ request: await makeCsr([{ type: 'O', value: 'system:nodes' }, { type: 'CN', value: 'worker-1' }], [{ type: 'dns', value: 'worker-1' }]) }), verdict: 'invalid', reason: /CN must be system:node:<node name>, got "worker-1"/ },
  { name: 'client from the node itself', csr: () => csr({ ...CLIENT_SPEC, request: clientReq }), verdict: 'valid' },
  { name: 'client from a bootstrap token', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, username: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'] }), verdict: 'valid' },
  { name: 'client from a bootstrap token for a live (Ready) node', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, username: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers'] }), nodes: readyNodes, verdict: 'invalid', reason: /Node worker-1 exists and is Ready: a bootstrap token may not take over/ },
  { name: 'client renewal by a live node itself', csr: () => csr({ ...CLIENT_SPEC, request: clientReq }), nodes: readyNodes, verdict: 'valid' },
  { name: 'client renewal by the node\'s user name outside group system:nodes (selfnodeclient is granted to that group only)', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, groups: ['system:authenticated'] }), verdict: 'invalid', reason: /requester system:node:worker-1 \(groups system:authenticated\) is neither the node system:node:worker-1 in group system:nodes/ },
  { name: 'client from another node', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, username: 'system:node:cp-1' }), verdict: 'invalid', reason: /requester system:node:cp-1 \(groups system:nodes, system:authenticated\) is neither/ },
  { name: 'client from a bootstrap user outside the group', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, username: 'system:bootstrap:w7k2qx', groups: ['system:authenticated'] }), verdict: 'invalid', reason: /neither/ },
  { name: 'client with a SAN', csr: () => csr({ ...CLIENT_SPEC, request: servingReq }), verdict: 'invalid', reason: /may have no SANs, got DNS:worker-1, IP:192\.0\.2\.21/ },
  { name: 'client with server auth', csr: () => csr({ ...CLIENT_SPEC, request: clientReq, usages: ['digital signature', 'server auth'] }), verdict: 'invalid', reason: /usages/ },
  { name: 'client for a new node, refused by default', csr: async () => csr({ ...CLIENT_SPEC, request: await makeCsr(node('worker-9')), username: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers'] }), verdict: 'invalid', reason: /Node worker-9 does not exist \(pass --allow-new-nodes/ },
  { name: 'client for a new node with --allow-new-nodes', csr: async () => csr({ ...CLIENT_SPEC, request: await makeCsr(node('worker-9')), username: 'system:bootstrap:w7k2qx', groups: ['system:bootstrappers'] }), opts: { allowNewNodes: true }, verdict: 'valid' },
  { name: 'kube-apiserver-client signer is never automatic', csr: () => csr({ request: clientReq, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] }), verdict: 'manual', reason: /never approved automatically/ },
  { name: 'custom signer is never automatic', csr: () => csr({ request: servingReq, signerName: 'example.com/my-signer' }), verdict: 'manual' },
  { name: 'request whose signature does not verify', csr: () => { const pem = Buffer.from(servingReq, 'base64').toString(); const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'); der[der.length - 5]! ^= 0xff; return csr({ request: Buffer.from(pemOf(der, 'CERTIFICATE REQUEST')).toString('base64') }); }, verdict: 'invalid', reason: /signature does not verify/ },
  { name: 'garbage request', csr: () => csr({ request: Buffer.from('not a csr').toString('base64') }), verdict: 'invalid', reason: /spec\.request cannot be read/ },
];

for (const row of table) {
  test(`policy: ${row.name} → ${row.verdict}`, async () => {
    const d = evaluateCsr(await row.csr(), row.nodes ?? nodes, row.opts);
    assert.equal(d.verdict, row.verdict, d.reason);
    if (row.reason) assert.match(d.reason, row.reason);
  });
}

test('normalizeIp compares IPv6 spellings', () => {
  assert.equal(normalizeIp('2001:db8::1'), normalizeIp('2001:0db8:0:0:0:0:0:0001'));
  assert.equal(normalizeIp('192.0.2.21'), '192.0.2.21');
  assert.equal(normalizeIp('worker-1'), undefined);
});

test('every CSR in the recordings parses', () => {
  for (const f of ['csr-kubelet-client.json', 'csr-kubelet-serving.json', 'csr-malicious.json', 'approval-conflict.json']) {
    for (const r of loadRecording(f).requests) {
      const items = (r.responseBody as { items?: CsrObject[] }).items ?? (r.status < 300 ? [r.responseBody as CsrObject] : []);
      for (const c of items) assert.notEqual(evaluateCsr(c, nodes).subject, '', `${f} ${c.metadata?.name}`);
    }
  }
});
