// The client certificate rebuild reads out of a kubeconfig (kubeconfig/client-cert.ts), against how
// client-go picks the entries (by name) and loads the certificate (rest.LoadTLSFiles: non-empty data,
// else the file, relative to the kubeconfig's directory per clientcmd.ResolveLocalPaths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { currentEntries, userClientCert, clusterCa } from '../src/kubeconfig/client-cert.js';
import { KUBEADM_126 } from './rebuild-support.js';

const adminPem = (): string => {
  const m = /client-certificate-data: (\S+)/.exec(fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/admin.conf'), 'utf8'));
  assert.ok(m, 'the fixture admin.conf embeds its certificate');
  return Buffer.from(m[1]!, 'base64').toString('utf8');
};

const doc = (current: string, user: Record<string, unknown>) => ({
  'current-context': current,
  contexts: [{ name: 'other', context: { cluster: 'c2', user: 'u2' } }, { name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  clusters: [{ name: 'c2', cluster: { server: 'https://other:6443' } }, { name: 'c', cluster: { server: 'https://api:6443' } }],
  users: [{ name: 'u2', user: { 'client-certificate-data': 'bm90IGEgY2VydA==' } }, { name: 'u', user }],
});

test('currentEntries: the entries current-context names; none where a name finds none, unless orFirst (a hint)', () => {
  const d = doc('ctx', {});
  const e = currentEntries(d);
  assert.equal(e.context?.name, 'ctx');
  assert.equal(e.cluster?.name, 'c');
  assert.equal(e.user?.name, 'u');
  const missing = currentEntries(doc('gone', {}));
  assert.deepEqual(missing, { context: undefined, cluster: undefined, user: undefined }, 'client-go uses no context at all');
  assert.equal(currentEntries(doc('gone', {}), { orFirst: true }).user?.name, 'u2');
  assert.deepEqual(currentEntries(null), { context: undefined, cluster: undefined, user: undefined });
  assert.deepEqual(currentEntries({ 'current-context': 'x', contexts: [null, { name: 'x', context: { user: 'u' } }], users: 'no' }).context?.name, 'x');
});

test('userClientCert: embedded data first; an empty client-certificate-data falls back to the file, as client-go does', () => {
  const pem = adminPem();
  const data = Buffer.from(pem).toString('base64');
  const read = (p: string) => { if (p === '/etc/kubernetes/admin.crt') return pem; throw new Error(`ENOENT ${p}`); };
  const files = { kubeconfig: '/etc/kubernetes/admin.conf', read };
  const embedded = userClientCert({ user: { 'client-certificate-data': data, 'client-certificate': '/nowhere.crt' } }, files);
  assert.equal(embedded.cert?.commonName, 'kubernetes-admin');
  assert.equal(embedded.file, undefined, 'the data wins over the file');
  const empty = userClientCert({ user: { 'client-certificate-data': '', 'client-certificate': '/etc/kubernetes/admin.crt' } }, files);
  assert.equal(empty.cert?.commonName, 'kubernetes-admin');
  assert.equal(empty.file, '/etc/kubernetes/admin.crt');
  assert.deepEqual(userClientCert({ user: { 'client-certificate': '' } }, files), {}, 'an empty path names no file');
  assert.deepEqual(userClientCert({ user: { 'client-certificate': '/etc/kubernetes/admin.crt' } }), {}, 'without files: embedded data only');
  assert.throws(() => userClientCert({ user: { 'client-certificate-data': Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64') } }));
});

test('userClientCert: a relative client-certificate is taken from the kubeconfig\'s directory; one that cannot be read keeps its path', () => {
  const pem = adminPem();
  const asked: string[] = [];
  const read = (p: string) => { asked.push(p); if (p === '/etc/kubernetes/pki/admin.crt') return pem; throw new Error(`ENOENT ${p}`); };
  const rel = userClientCert({ user: { 'client-certificate': 'pki/admin.crt' } }, { kubeconfig: '/etc/kubernetes/admin.conf', read });
  assert.equal(rel.cert?.commonName, 'kubernetes-admin');
  assert.equal(rel.file, '/etc/kubernetes/pki/admin.crt');
  const up = userClientCert({ user: { 'client-certificate': '../kubelet/x.pem' } }, { kubeconfig: '/etc/kubernetes/kubelet.conf', read });
  assert.deepEqual(up, { file: '/etc/kubelet/x.pem' });
  assert.deepEqual(asked, ['/etc/kubernetes/pki/admin.crt', '/etc/kubelet/x.pem']);
});

test('clusterCa: certificate-authority-data, else the certificate-authority file from the kubeconfig\'s directory, as for the client certificate', () => {
  const pem = adminPem();
  const read = (p: string) => { if (p === '/etc/kubernetes/pki/ca.crt') return pem; throw new Error(`ENOENT ${p}`); };
  const files = { kubeconfig: '/etc/kubernetes/admin.conf', read };
  assert.equal(clusterCa({ cluster: { 'certificate-authority-data': Buffer.from(pem).toString('base64'), 'certificate-authority': '/nowhere' } }, files).file, undefined);
  assert.equal(clusterCa({ cluster: { 'certificate-authority-data': '', 'certificate-authority': 'pki/ca.crt' } }, files).file, '/etc/kubernetes/pki/ca.crt');
  assert.equal(clusterCa({ cluster: { 'certificate-authority': 'pki/ca.crt' } }, files).cert?.commonName, 'kubernetes-admin');
  assert.deepEqual(clusterCa({ cluster: { 'certificate-authority': 'ca.crt' } }, files), { file: '/etc/kubernetes/ca.crt' });
  assert.deepEqual(clusterCa({ user: { 'client-certificate': 'pki/ca.crt' } }, files), {}, 'a user entry names no CA');
});
