import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { connect, httpStatus } from '../src/cluster/connect.js';
import { FakeApiServer, tooManyRequests, serviceUnavailable, recorded } from './support/fake-apiserver.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-read-retry-'));
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function server(): Promise<FakeApiServer> {
  const s = await FakeApiServer.start({ recordings: ['csr-kubelet-client.json', 'nodes.json'] });
  servers.push(s);
  return s;
}

const NODES = '/api/v1/nodes';
const nodeList = recorded('nodes.json', (r) => r.method === 'GET' && r.path === NODES);

/** Answers `replies` in turn to GET /api/v1/nodes, then the recorded NodeList. */
function answering(s: FakeApiServer, replies: (() => ReturnType<typeof tooManyRequests>)[], method = 'GET'): void {
  let n = 0;
  s.route(method, /^\/api\/v1\/nodes(\?.*)?$/, () => (n < replies.length ? replies[n++]!() : { status: 200, body: nodeList.responseBody }));
}

async function client(s: FakeApiServer, waits: number[], cut = false) {
  return connect({ kubeconfig: await s.kubeconfig(tmp), env: {}, sleep: async (ms) => { waits.push(ms); return !cut; } });
}

const sent = (s: FakeApiServer, method = 'GET') => s.received.filter((r) => r.method === method && r.path.split('?')[0] === NODES).length;

test('a read answered 429 with Retry-After is sent again after it, as client-go sends any request again (it failed the command at once)', async () => {
  const s = await server();
  answering(s, [() => tooManyRequests('1')]);
  const waits: number[] = [];
  const l = await (await client(s, waits)).core.listNode();
  assert.deepEqual(l.items.map((n) => n.metadata?.name).sort(), ['cp-1', 'worker-1']);
  assert.deepEqual(waits, [1000]);
  assert.equal(sent(s), 2);
});

test('a 5xx with Retry-After is sent again too (client-go checkWait: 429 or any 5xx); several in a row, each after its own wait', async () => {
  const s = await server();
  const unavailable = (after: string) => () => ({ ...serviceUnavailable(), headers: { 'Retry-After': after } });
  answering(s, [unavailable('2'), () => tooManyRequests('1'), unavailable('3')]);
  const waits: number[] = [];
  const l = await (await client(s, waits)).core.listNode();
  assert.equal(l.items.length, 2);
  assert.deepEqual(waits, [2000, 1000, 3000]);
  assert.equal(sent(s), 4);
});

test('a read is sent again at most 10 times (client-go\'s maxRetries); the last answer is then the error', async () => {
  const s = await server();
  answering(s, Array.from({ length: 50 }, () => () => tooManyRequests('1')));
  const waits: number[] = [];
  await assert.rejects((await client(s, waits)).core.listNode(), (e) => httpStatus(e) === 429);
  assert.equal(waits.length, 10);
  assert.equal(sent(s), 11);
});

test('no Retry-After, an HTTP-date one, one asking for more than 10s, or a 4xx other than 429: not sent again', async () => {
  const cases: [string, () => ReturnType<typeof tooManyRequests>][] = [
    ['429 without Retry-After', () => ({ ...tooManyRequests(), headers: {} })],
    ['503 without Retry-After', () => serviceUnavailable()],
    ['Retry-After as an HTTP date', () => tooManyRequests('Wed, 21 Oct 2026 07:28:00 GMT')],
    ['Retry-After 30', () => tooManyRequests('30')],
    ['409 with Retry-After', () => ({ ...tooManyRequests('1'), status: 409 })],
  ];
  for (const [name, reply] of cases) {
    const s = await server();
    answering(s, [reply]);
    const waits: number[] = [];
    await assert.rejects((await client(s, waits)).core.listNode(), (e) => httpStatus(e) === reply().status, name);
    assert.deepEqual(waits, [], name);
    assert.equal(sent(s), 1, name);
  }
});

test('a write answered 429 with Retry-After is not sent again by the client: its caller decides (csr-sar.ts sends a review or an approval again once)', async () => {
  const s = await server();
  answering(s, [() => tooManyRequests('1')], 'POST');
  const waits: number[] = [];
  await assert.rejects((await client(s, waits)).core.createNode({ body: { metadata: { name: 'n' } } }), (e) => httpStatus(e) === 429);
  assert.deepEqual(waits, []);
  assert.equal(sent(s, 'POST'), 1);
});

test('a wait cut short by the call\'s own timeout gives the answer waited on: the error is the server\'s 429, not "did not answer"', async () => {
  const s = await server();
  answering(s, [() => tooManyRequests('1')]);
  const waits: number[] = [];
  await assert.rejects((await client(s, waits, true)).core.listNode(), (e) => httpStatus(e) === 429);
  assert.deepEqual(waits, [1000]);
  assert.equal(sent(s), 1);
});

test('csr list on a busy control plane: the CSR list answered 429 Retry-After 1 is read again a second later and listed (it was exit 3)', async () => {
  const s = await server();
  let first = true;
  s.route('GET', /^\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests(\?.*)?$/, () => (first ? (first = false, tooManyRequests('1')) : undefined));
  const io = memoryIo({});
  const t0 = Date.now();
  const code = await run(['csr', 'list', '--kubeconfig', await s.kubeconfig(tmp)], io);
  assert.equal(code, 0, io.err);
  assert.match(io.out, /csr-hprcx/);
  assert.ok(Date.now() - t0 >= 950, 'waited the Retry-After');
  assert.equal(s.received.filter((r) => r.method === 'GET' && r.path.startsWith('/apis/certificates.k8s.io/v1/certificatesigningrequests')).length, 2);
});
