import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { FakeApiServer, recorded, FIXTURES } from './support/fake-apiserver.js';
import { clusterCertEntries, tlsKeyState, type ClusterPemSource } from '../src/cluster/inventory.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-ccheck-'));
const root = path.join(tmp, 'node');
fs.cpSync(path.join(FIXTURES, 'kubeadm-1.26'), root, { recursive: true, verbatimSymlinks: true });
const servers: FakeApiServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function cluster(): Promise<FakeApiServer> {
  const s = await FakeApiServer.start({ recordings: ['tls-secrets.json', 'csr-malicious.json'] });
  servers.push(s);
  return s;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({});
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

test('check --cluster reports the recorded TLS Secret demo/app-tls as expiring, with namespace and name', async () => {
  const s = await cluster();
  const r = await cli(['check', '--root', root, '--cluster', await s.kubeconfig(tmp), '--now', '2026-11-23', '-o', 'json']);
  assert.ok(r.code >= 1 && r.code < 3, r.err);
  const inv = JSON.parse(r.out);
  const app = inv.certificates.find((c: any) => c.location.cluster?.kind === 'Secret');
  assert.ok(app, 'the TLS Secret is in the inventory');
  assert.deepEqual(app.location.cluster, { kind: 'Secret', namespace: 'demo', name: 'app-tls', key: 'tls.crt' });
  assert.equal(app.name, 'secret/demo/app-tls');
  assert.equal(app.subjectCN, 'app.demo.example.test');
  assert.equal(app.notAfter, '2026-12-02T21:44:11.000Z');
  // the recorded Secret was created with an empty tls.key, which the API server accepts: nothing can serve it
  assert.equal(app.status, 'invalid');
  assert.deepEqual(inv.findings.filter((x: any) => x.certificate === app.id).map((x: any) => [x.code, x.severity]).sort(), [['expiring', 'warning'], ['secret-key-missing', 'error']]);
  const f = inv.findings.find((x: any) => x.certificate === app.id && x.code === 'expiring');
  assert.match(f.message, /secret\/demo\/app-tls \(tls\.crt\) expires in 9d on 2026-12-02 \(threshold 30d\)/);
  const k = inv.findings.find((x: any) => x.certificate === app.id && x.code === 'secret-key-missing');
  assert.match(k.message, /^secret\/demo\/app-tls: tls\.key is empty/);
  assert.equal(app.privateKey.present, false);
  assert.equal(r.code, 2, 'an unusable TLS Secret is an error');
  // the cluster CA from kube-root-ca.crt and extension-apiserver-authentication is one row with copies
  const caFp = (recorded('tls-secrets.json', (x) => x.path.endsWith('/kube-root-ca.crt')).responseBody as any).data['ca.crt'];
  assert.ok(caFp);
  const cas = inv.certificates.filter((c: any) => c.location.cluster?.kind === 'ConfigMap');
  assert.deepEqual(cas.map((c: any) => c.name).sort(), ['configmap/default/kube-root-ca.crt ca.crt', 'configmap/kube-system/extension-apiserver-authentication requestheader-client-ca-file']);
  const rootCa = cas.find((c: any) => c.name.includes('kube-root-ca'));
  assert.deepEqual(rootCa.copies.map((l: any) => l.file), ['configmap/kube-system/extension-apiserver-authentication:client-ca-file']);
  // issued CSRs: signed by the cluster CA read from kube-root-ca.crt
  const issued = inv.certificates.filter((c: any) => c.location.cluster?.kind === 'CertificateSigningRequest');
  assert.deepEqual(issued.map((c: any) => c.name).sort(), ['csr/csr-hprcx status.certificate', 'csr/csr-r98zd status.certificate']);
  // issued CSRs are signed by the node's CA (preferred over the cluster's copy of it)
  for (const c of issued) assert.equal(c.signerName, 'ca');
  assert.equal(inv.summary.certificates, inv.certificates.length);
  assert.ok(inv.summary.invalid >= 1, 'the Secret without its key counts as invalid');

  const t = await cli(['check', '--root', path.join(tmp, 'node'), '--cluster', await s.kubeconfig(tmp), '--now', '2026-11-23']);
  const line = t.out.split('\n').find((l) => l.startsWith('secret/demo/app-tls'));
  assert.ok(line, t.out);
  assert.match(line!, /Dec 02, 2026 21:44 UTC\s+9d\s+.*INVALID.*secret\/demo\/app-tls:tls\.crt/);
  assert.match(t.out, /WARNING expiring\s+secret\/demo\/app-tls \(tls\.crt\) expires in 9d/);
});

test('check --cluster: the TLS Secret past its notAfter is expired, exit 2', async () => {
  const s = await cluster();
  const r = await cli(['check', '--root', root, '--cluster', await s.kubeconfig(tmp), '--now', '2026-12-03', '-o', 'json']);
  assert.equal(r.code, 2, r.err);
  const inv = JSON.parse(r.out);
  const app = inv.certificates.find((c: any) => c.name === 'secret/demo/app-tls');
  assert.equal(app.status, 'expired');
  assert.ok(inv.findings.some((f: any) => f.code === 'expired' && f.file === 'secret/demo/app-tls:tls.crt'));
  // the advice follows the merged summary: the node alone is all valid (it had no next)
  assert.ok(inv.next, `next: ${JSON.stringify(inv.next)}`);
});

test('clusterCertEntries: corrupt values are findings; bundles keep every certificate; webhooks are named', () => {
  const ca = fs.readFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki/ca.crt'), 'utf8');
  const fp = fs.readFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki/front-proxy-ca.crt'), 'utf8');
  const sources: ClusterPemSource[] = [
    { kind: 'ValidatingWebhookConfiguration', name: 'policy', key: 'validate.example.test', pem: ca + fp },
    { kind: 'APIService', name: 'v1beta1.metrics.k8s.io', key: 'caBundle', pem: 'garbage' },
  ];
  const r = clusterCertEntries(sources, new Date('2026-11-23T00:00:00Z'));
  assert.deepEqual(r.certificates.map((c) => c.name), [
    'validatingwebhookconfiguration/policy validate.example.test[0]',
    'validatingwebhookconfiguration/policy validate.example.test[1]',
  ]);
  assert.ok(r.certificates.every((c) => c.isCA && c.selfSigned && c.status === 'ok'));
  assert.deepEqual(r.findings.map((f) => [f.code, f.file]), [['corrupt', 'apiservice/v1beta1.metrics.k8s.io:caBundle']]);
  assert.throws(() => clusterCertEntries([], new Date(), 'soon'), /--warn "soon"/);
});

test('clusterCertEntries: a TLS Secret\'s tls.key is compared with tls.crt, never shown: matching, another key, encrypted, garbage, empty', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { issueCertificate, nameDer, pemOf } = await import('../src/pki/sign.js');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const name = nameDer([{ type: 'CN', value: 'app.example.test' }]);
  const der = await issueCertificate({ subjectDer: name, issuerDer: name, spki: privateKey, serial: 1n, signingKey: privateKey, notBefore: new Date('2026-11-01T00:00:00Z'), notAfter: new Date('2027-11-01T00:00:00Z'), extensions: [] });
  const crt = pemOf(der);
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const keyPem = (k: typeof privateKey) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
  const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
  const cases: [string, string | undefined][] = [['good', keyPem(privateKey)], ['other', keyPem(other)], ['enc', encrypted], ['junk', 'not a key'], ['empty', '']];
  const sources: ClusterPemSource[] = cases.map(([n, key]) => ({ kind: 'Secret', namespace: 'ns', name: n, key: 'tls.crt', pem: crt, tlsKey: tlsKeyState(key === undefined ? undefined : b64(key)) }));
  const r = clusterCertEntries(sources, new Date('2026-11-23T00:00:00Z'));
  // identical certificates are one row with copies: the first Secret's key decides its row, so check them one by one
  const one = (i: number) => clusterCertEntries([sources[i]!], new Date('2026-11-23T00:00:00Z'));
  const good = one(0);
  assert.deepEqual(good.certificates[0]!.privateKey, { present: true, matches: true });
  assert.equal(good.certificates[0]!.status, 'ok');
  assert.deepEqual(good.findings, []);
  const codes = (i: number) => one(i).findings.map((f) => [f.code, f.severity]);
  assert.deepEqual(codes(1), [['key-mismatch', 'error']]);
  assert.deepEqual(one(1).certificates[0]!.privateKey, { present: true, matches: false });
  assert.deepEqual(codes(2), [['key-encrypted', 'warning']]);
  assert.deepEqual(codes(3), [['corrupt', 'error']]);
  assert.deepEqual(codes(4), [['secret-key-missing', 'error']]);
  assert.equal(one(4).certificates[0]!.status, 'invalid');
  // the same certificate in several Secrets (a wildcard copied around): each Secret's key is checked, whatever the order
  for (const order of [[0, 1, 4], [4, 0, 1], [1, 4, 0]]) {
    const many = clusterCertEntries(order.map((i) => ({ ...sources[i]!, name: `copy-${i}` })), new Date('2026-11-23T00:00:00Z'));
    assert.equal(many.certificates.length, 1, 'one row with copies');
    assert.equal(many.certificates[0]!.copies?.length, 2);
    assert.deepEqual(many.findings.map((f) => [f.code, f.file]).sort(), [['key-mismatch', 'secret/ns/copy-1:tls.crt'], ['secret-key-missing', 'secret/ns/copy-4:tls.crt']], `order ${order}`);
    assert.equal(many.certificates[0]!.status, 'invalid');
  }
  // no key material in anything kubepki says
  const said = JSON.stringify(r) + JSON.stringify(cases.map((_, i) => one(i)));
  const secretB64 = keyPem(privateKey).split('\n')[1]!;
  assert.ok(!said.includes(secretB64), 'the key never appears in the output');
});

test('against a real cluster (KUBEPKI_TEST_KUBECONFIG): check --cluster reads it', { skip: !process.env.KUBEPKI_TEST_KUBECONFIG }, async () => {
  const r = await cli(['check', '--root', root, '--cluster', process.env.KUBEPKI_TEST_KUBECONFIG!, '-o', 'json']);
  assert.ok(r.code < 3, r.err);
  const inv = JSON.parse(r.out);
  assert.ok(inv.certificates.some((c: any) => c.location.cluster?.name === 'kube-root-ca.crt'));
});

test('check --cluster: a cluster that still publishes another CA than the node\'s (cluster-info, kube-root-ca.crt, extension-apiserver-authentication) is an error', async () => {
  const s = await FakeApiServer.start({ recordings: ['tls-secrets.json', 'bootstrap-token.json'] });
  servers.push(s);
  const kc = await s.kubeconfig(tmp);
  // same CA on the node: nothing to say
  const same = await cli(['check', '--root', root, '--cluster', kc, '--now', '2026-11-23', '-o', 'json']);
  const sameInv = JSON.parse(same.out);
  assert.ok(sameInv.certificates.some((c: any) => [c.location, ...(c.copies ?? [])].some((l: any) => l.cluster?.name === 'cluster-info')), 'cluster-info CA read');
  assert.equal(sameInv.findings.filter((f: any) => f.code === 'kubeconfig-ca-mismatch').length, 0);
  // a node whose CA was re-created (same name, new key)
  const other = path.join(tmp, 'other-node');
  fs.cpSync(path.join(FIXTURES, 'kubeadm-1.26'), other, { recursive: true, verbatimSymlinks: true });
  const pki = path.join(other, 'etc/kubernetes/pki');
  fs.chmodSync(pki, 0o755);
  for (const f of ['ca.crt', 'ca.key']) fs.rmSync(path.join(pki, f), { force: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(pki, 'ca.key'), '-out', path.join(pki, 'ca.crt'), '-subj', '/CN=kubernetes', '-days', '3650', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'], { stdio: 'ignore' });
  const r = await cli(['check', '--root', other, '--cluster', kc, '--now', '2026-11-23', '-o', 'json']);
  assert.equal(r.code, 2, r.err);
  const inv = JSON.parse(r.out);
  const mism = inv.findings.filter((f: any) => f.code === 'kubeconfig-ca-mismatch' && f.file.includes('/'));
  const files = mism.map((f: any) => f.file).filter((f: string) => !f.startsWith('/')).sort();
  assert.deepEqual(files, [
    'configmap/default/kube-root-ca.crt:ca.crt',
    'configmap/kube-public/cluster-info:kubeconfig',
    'configmap/kube-system/extension-apiserver-authentication:client-ca-file',
  ]);
  assert.match(mism.find((f: any) => f.file.includes('cluster-info')).message, /kubepki cluster-info update/);
});

test('check --cluster: a TLS Secret whose tls.crt (leaf + chain) or ca.crt holds a CA that did not sign the certificate before it is a bundle-chain-mismatch warning, as a node file is; a chain that fits and a CA bundle in ca.crt are not (was: nothing said)', async () => {
  const { makeCa, makeLeaf } = await import('./support/trees.js');
  const issued = new Date('2026-11-01T00:00:00Z');
  const [rootA, rootB] = [await makeCa('corp root A', issued, 3650), await makeCa('corp root B', issued, 3650)];
  const leaf = await makeLeaf(rootA, 'shop.example.test', { eku: ['serverAuth'], sans: [{ type: 'dns', value: 'shop.example.test' }], notBefore: issued, days: 365 });
  const other = await makeLeaf(rootA, 'blog.example.test', { eku: ['serverAuth'], notBefore: issued, days: 365 });
  // openssl agrees: the CA after the leaf in the wrong chain does not verify it, the right one does
  const dir = fs.mkdtempSync(path.join(tmp, 'chain-'));
  const at = (n: string, pem: string) => { fs.writeFileSync(path.join(dir, n), pem); return path.join(dir, n); };
  const verify = (ca: string) => execFileSync('sh', ['-c', `openssl verify -attime ${Date.parse('2026-11-23') / 1000} -CAfile "$1" "$2" 2>&1 || true`, 'sh', at('ca.pem', ca), at('leaf.pem', leaf.pem)]).toString();
  assert.match(verify(rootB.pem), /unable to get local issuer certificate/);
  assert.match(verify(rootA.pem), /leaf\.pem: OK/);

  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (name: string, data: Record<string, string>) => ({ metadata: { name, namespace: 'shop' }, type: 'kubernetes.io/tls', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
  const listed = recorded('tls-secrets.json', (x) => x.path.startsWith('/api/v1/secrets?')).responseBody as { items: unknown[] };
  const items = [
    ...listed.items,
    secret('wrong-chain', { 'tls.crt': leaf.pem + rootB.pem, 'tls.key': leaf.keyPem }),
    secret('right-chain', { 'tls.crt': other.pem + rootA.pem, 'tls.key': other.keyPem }),
    // the full chain pasted into ca.crt, with the wrong CA; and a CA bundle (two roots that sign nothing of each other)
    secret('wrong-ca', { 'tls.crt': leaf.pem, 'tls.key': leaf.keyPem, 'ca.crt': leaf.pem + rootB.pem }),
    secret('bundle-ca', { 'tls.crt': other.pem, 'tls.key': other.keyPem, 'ca.crt': rootA.pem + rootB.pem }),
  ];
  const s = await FakeApiServer.start({ recordings: ['tls-secrets.json'] });
  servers.push(s);
  s.route('GET', '/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls', () => ({ status: 200, body: { ...listed, items } }));
  const kc = await s.kubeconfig(tmp);
  const r = await cli(['check', '--root', root, '--cluster', kc, '--now', '2026-11-23', '-o', 'json']);
  assert.ok(r.code < 3, r.err);
  const inv = JSON.parse(r.out);
  const mism = inv.findings.filter((f: any) => f.code === 'bundle-chain-mismatch');
  assert.deepEqual(mism.map((f: any) => [f.file, f.severity]).sort(), [['secret/shop/wrong-ca:ca.crt', 'warning'], ['secret/shop/wrong-chain:tls.crt', 'warning']], JSON.stringify(mism, null, 1));
  const row = inv.certificates.find((c: any) => c.name === 'secret/shop/wrong-chain tls.crt[0]');
  assert.ok(row, inv.certificates.map((c: any) => c.name).join('\n'));
  assert.equal(row.subjectCN, 'shop.example.test');
  assert.ok(mism.every((f: any) => f.certificate === row.id), 'on the leaf\'s row');
  assert.equal(row.status, 'warning');
  assert.match(mism.find((f: any) => f.file.endsWith(':tls.crt')).message, /^secret\/shop\/wrong-chain:tls\.crt: certificate 2 \(CN=corp root B\) did not sign certificate 1 \(CN=shop\.example\.test, issued by CN=corp root A\): .*Put the certificate's own chain after it/);

  const t = await cli(['check', '--root', root, '--cluster', kc, '--now', '2026-11-23']);
  assert.match(t.out, /^ {2}WARNING +bundle-chain-mismatch +secret\/shop\/wrong-chain:tls\.crt: certificate 2 \(CN=corp root B\) did not sign certificate 1/m, t.out);
});
