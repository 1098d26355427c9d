// kubeconfig-invalid: what client-go's kubeconfig validation refuses (clientcmd validation.go, run by
// ConfirmUsable before any client is made), judged against kubectl itself on the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { stringify } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { clientGoRefusals, parseKubeconfig } from '../src/kubeconfig/read.js';
import { copyFixture } from './support/fixtures.js';

const tree = copyFixture('kubeadm-1.26');
const etc = path.join(tree, 'etc/kubernetes');
const pki = path.join(etc, 'pki');
const b64 = (file: string) => fs.readFileSync(file).toString('base64');

/** admin.conf's certificate and key as a separate pair under pki/, named relative to /etc/kubernetes (the host and the tree agree). */
fs.writeFileSync(path.join(pki, 'admin-test.crt'), Buffer.from(/client-certificate-data: (\S+)/.exec(fs.readFileSync(path.join(etc, 'admin.conf'), 'utf8'))![1]!, 'base64'));
fs.writeFileSync(path.join(pki, 'admin-test.key'), Buffer.from(/client-key-data: (\S+)/.exec(fs.readFileSync(path.join(etc, 'admin.conf'), 'utf8'))![1]!, 'base64'), { mode: 0o600 });

const kubeconfig = (cluster: Record<string, string>, user: Record<string, string>) => stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'admin@k',
  clusters: [{ name: 'k', cluster: { server: /server: (\S+)/.exec(fs.readFileSync(path.join(etc, 'admin.conf'), 'utf8'))![1]!, ...cluster } }],
  contexts: [{ name: 'admin@k', context: { cluster: 'k', user: 'admin' } }],
  users: [{ name: 'admin', user }],
});

const good = { cluster: { 'certificate-authority': 'pki/ca.crt' }, user: { 'client-certificate': 'pki/admin-test.crt', 'client-key': 'pki/admin-test.key' } };
const cases: [string, Record<string, string>, Record<string, string>, RegExp | undefined][] = [
  ['files', good.cluster, good.user, undefined],
  ['data', { 'certificate-authority-data': b64(path.join(pki, 'ca.crt')) }, { 'client-certificate-data': b64(path.join(pki, 'admin-test.crt')), 'client-key-data': b64(path.join(pki, 'admin-test.key')) }, undefined],
  ['cert data and file', good.cluster, { ...good.user, 'client-certificate-data': b64(path.join(pki, 'admin-test.crt')) }, /client-cert-data and client-cert are both specified for admin/],
  ['key data and file', good.cluster, { ...good.user, 'client-key-data': b64(path.join(pki, 'admin-test.key')) }, /client-key-data and client-key are both specified for admin/],
  ['no key', good.cluster, { 'client-certificate': 'pki/admin-test.crt' }, /client-key-data or client-key must be specified for admin/],
  ['key file missing', good.cluster, { ...good.user, 'client-key': 'pki/gone.key' }, /unable to read client-key .*pki\/gone\.key for admin/],
  ['CA data and file', { ...good.cluster, 'certificate-authority-data': b64(path.join(pki, 'ca.crt')) }, good.user, /certificate-authority-data and certificate-authority are both specified for k/],
  ['CA file missing', { 'certificate-authority': 'pki/gone-ca.crt' }, good.user, /unable to read certificate-authority .*pki\/gone-ca\.crt for k/],
];

for (const [name, cluster, user, refusal] of cases) {
  test(`kubeconfig with ${name}: check says ${refusal ? 'kubeconfig-invalid, in client-go\'s words, as kubectl refuses it' : 'nothing, as kubectl takes it'}`, async () => {
    const file = path.join(etc, 'kubepki-test.conf');
    fs.writeFileSync(file, kubeconfig(cluster, user), { mode: 0o600 });
    // (port 1: refused at once, once client-go's validation has passed)
    const k = spawnSync('kubectl', ['--kubeconfig', file, '--server', 'https://127.0.0.1:1', 'get', '--raw', '/healthz', '--request-timeout=2s'], { encoding: 'utf8' });
    assert.notEqual(k.status, 0, 'nothing listens on port 1');
    // (kubectl prints one refusal as "error: …", several under "Error in configuration:")
    if (refusal) assert.match(k.stderr, refusal);
    else assert.match(k.stderr, /connection to the server 127.0.0.1:1 was refused/);

    const io = memoryIo();
    const code = await run(['check', '--root', tree, '--now', '2026-11-23', '--kubeconfig', '/etc/kubernetes/kubepki-test.conf', '-o', 'json'], io);
    const found = JSON.parse(io.out).findings.filter((f: { code: string }) => f.code === 'kubeconfig-invalid');
    if (!refusal) {
      assert.deepEqual(found, []);
      assert.equal(code, 0, io.out);
      return;
    }
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].severity, 'error');
    assert.equal(found[0].file, '/etc/kubernetes/kubepki-test.conf');
    // client-go's own words, with the tree's paths as the node's
    assert.match(found[0].message.replaceAll('/etc/kubernetes/', `${etc}/`), refusal);
    assert.equal(code, 2);
  });
}

test('clientGoRefusals: a cluster without a server; an empty *-data is no data (client-go tests the length)', () => {
  const doc = parseKubeconfig(stringify({ clusters: [{ name: 'k', cluster: { 'certificate-authority': '/ca.crt', 'certificate-authority-data': '' } }], users: [{ name: 'u', user: { 'client-certificate': '/u.crt', 'client-certificate-data': '', 'client-key': '/u.key' } }] }), '/etc/kubernetes/x.conf');
  assert.deepEqual(clientGoRefusals(doc, () => true), ['cluster "k" has no server (client-go: "no server found for cluster k")']);
  assert.equal(clientGoRefusals(doc, (p) => p !== '/u.key').length, 2);
});
