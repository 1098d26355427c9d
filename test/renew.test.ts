import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import type { Inventory } from '../src/inventory/types.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { issueCertificate, newSerial, nameDer, subjectAltNameExt, extKeyUsageExt, keyUsageExt, basicConstraintsExt, authorityKeyIdentifierExt, pemOf } from '../src/pki/sign.js';
import { tlv } from '../src/pki/der.js';
import { generateKey, privateKeyPem, spkiDer } from '../src/pki/keygen.js';
import { KubeconfigEditor } from '../src/kubeconfig/write.js';
import { planRenew } from '../src/plan/renew.js';
import { copyFixture, cli, sh, tmp, stableText, certPems, snapshotTree, NOW } from './renew-support.js';
import { copyFixture as copyFixtureInto } from './support/fixtures.js';
import { listBackups } from '../src/apply/transaction.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { makeCa, makeLeaf, put, k3sYaml, type Made } from './support/trees.js';
import type { SanInput } from '../src/pki/sign.js';

const now = new Date(NOW);
const at = String(Math.floor(now.getTime() / 1000) + 3600);

function inventory(root: string, when = now): Inventory {
  return readInventory({ fs: new NodeFs(root), now: when });
}

function pemFile(dir: string, name: string, pem: string): string {
  const f = path.join(dir, `${name.replace(/[^A-Za-z0-9.-]/g, '_')}-${Math.random().toString(36).slice(2)}.pem`);
  fs.writeFileSync(f, pem);
  return f;
}

/** openssl verify -purpose for each usage a certificate carries, against its CA from the inventory. */
function verifyAll(inv: Inventory, names: string[]): void {
  const dir = tmp();
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  for (const name of names) {
    const c = inv.certificates.find((x) => x.name === name);
    assert.ok(c, `${name} is in the inventory after renewal`);
    const ca = byId.get(c.signedBy ?? '');
    assert.ok(ca, `${name} has a signer`);
    const leaf = pemFile(dir, name, c.pem);
    const caf = pemFile(dir, `${name}-ca`, ca.pem);
    const purposes = c.extKeyUsage.length ? c.extKeyUsage.map((u) => (u === 'serverAuth' ? 'sslserver' : u === 'clientAuth' ? 'sslclient' : 'any')) : ['any'];
    for (const p of purposes) {
      const r = sh('openssl', ['verify', '-attime', at, '-purpose', p, '-CAfile', caf, leaf]);
      assert.equal(r.status, 0, `${name} -purpose ${p}: ${r.stdout}${r.stderr}`);
    }
  }
}

test('renew all on kubeadm-1.26-expired: check passes, openssl verifies every usage, fields kept, kubeconfigs readable by kubectl, kubelet symlink swapped', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = inventory(root);
  const beforeCheck = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(beforeCheck.code, 2, 'the expired tree fails check before renewal');

  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /Renewed 12 certificate\(s\)/);
  assert.match(r.out, /Backup: .*var\/lib\/kubepki\/backups\//);
  assert.match(r.out, /kube-apiserver: mv \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/);
  assert.match(r.out, /kubelet: systemctl restart kubelet/);

  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 0, check.out + check.err);

  const after = inventory(root);
  const renewed = before.certificates.filter((c) => !c.isCA).map((c) => c.name);
  verifyAll(after, renewed.filter((n) => n !== 'kubelet-serving'));
  // the kubelet's self-signed serving pair verifies against its new throwaway CA
  verifyAll(after, ['kubelet-serving']);

  // same subject, SANs and extensions (all but serial/validity/AKI/signature)
  const dir = tmp();
  for (const b of before.certificates.filter((c) => !c.isCA && c.name !== 'kubelet-serving')) {
    const a = after.certificates.find((c) => c.name === b.name)!;
    assert.notEqual(a.serial, b.serial, `${b.name} has a new serial`);
    assert.equal(stableText(pemFile(dir, 'a', a.pem)), stableText(pemFile(dir, 'b', b.pem)), `${b.name}: openssl -text differs`);
    assert.equal(a.spkiSha256, b.spkiSha256, `${b.name} keeps its key`);
    assert.equal(a.notAfter, '2027-11-23T00:00:00.000Z');
  }
  const ks = after.certificates.find((c) => c.name === 'kubelet-serving')!;
  const kb = before.certificates.find((c) => c.name === 'kubelet-serving')!;
  assert.deepEqual(ks.sans, kb.sans);
  assert.equal(ks.spkiSha256, kb.spkiSha256, 'kubelet serving pair keeps its leaf key');

  // kubectl reads every rewritten kubeconfig and sees the new client certificate
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    const file = path.join(root, 'etc/kubernetes', conf);
    const v = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', file, '-o', 'jsonpath={.users[0].user.client-certificate-data}']);
    assert.equal(v.status, 0, v.stderr);
    const cert = new Certificate(parsePemBlocks(Buffer.from(v.stdout, 'base64').toString())[0]!.der);
    assert.equal(cert.notAfter.toISOString(), '2027-11-23T00:00:00.000Z', `${conf} carries the renewed certificate`);
    const text = fs.readFileSync(file, 'utf8');
    const orig = fs.readFileSync(path.join(path.resolve(process.cwd(), '../shared/fixtures/kubeadm-1.26-expired/etc/kubernetes'), conf), 'utf8');
    assert.equal(text.replace(/client-certificate-data: .*/, ''), orig.replace(/client-certificate-data: .*/, ''), `${conf}: nothing but the client certificate changed`);
  }
  const kv = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', path.join(root, 'etc/kubernetes/kubelet.conf')]);
  assert.equal(kv.status, 0, kv.stderr);

  // kubelet: -current points at the new file (0600, cert + key), the old one is kept
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const link = fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem'));
  assert.equal(link, '/var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem');
  assert.ok(fs.existsSync(path.join(pki, 'kubelet-client-2026-11-22-21-36-05.pem')), 'old kubelet client pem kept');
  const st = fs.statSync(path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem'));
  assert.equal(st.mode & 0o777, 0o600);
  const blocks = parsePemBlocks(fs.readFileSync(path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem'), 'utf8'));
  assert.deepEqual(blocks.map((b) => b.label), ['CERTIFICATE', 'EC PRIVATE KEY']);
  // keys keep their mode
  assert.equal(fs.statSync(path.join(root, 'etc/kubernetes/pki/apiserver.key')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt')).mode & 0o777, 0o644);

  const list = await cli(['backups', '--root', root]);
  // the 13 files the run changed (12 rewritten or made, -current re-linked), which restore puts back; not the
  // swap's -updated link, there neither before nor after the run
  assert.match(list.out, /renew\s+complete\s+13 /);
});

test('renew all on rke1-expired: check passes and openssl verifies every renewed certificate', async () => {
  const root = copyFixture('rke1-expired');
  const before = inventory(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  // the leaves come from cluster.rkestate on the next rke up: the plan says to put them there
  assert.match(r.out, /Outside this node: RKE1 keeps every certificate in cluster\.rkestate.*\n  - cluster\.rkestate .*kube-apiserver, .*or the next `rke up` deploys the old ones again/);
  assert.match(r.out, /Not done yet: see "Outside this node" above\./);
  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 0, check.out);
  const after = inventory(root);
  const leaves = before.certificates.filter((c) => !c.isCA).map((c) => c.name);
  assert.ok(leaves.length >= 8, `rke1 has many leaves (${leaves.length})`);
  verifyAll(after, leaves);
  const dir = tmp();
  for (const b of before.certificates.filter((c) => !c.isCA)) {
    const a = after.certificates.find((c) => c.name === b.name)!;
    assert.equal(stableText(pemFile(dir, 'a', a.pem)), stableText(pemFile(dir, 'b', b.pem)), `${b.name}: openssl -text differs`);
  }
  const ws = path.join(root, 'home/rancher/kube_config_cluster.yml');
  const v = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', ws]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(fs.readFileSync(ws, 'utf8'), /server: "https:\/\/10\.0\.0\.109:6443"/, 'quoting kept');
});

/** Re-sign a CA with its own key so it expired before `now` (same key, subject, extensions). */
async function expireCa(root: string, file: string, keyFile: string): Promise<string> {
  const ca = new Certificate(parsePemBlocks(fs.readFileSync(path.join(root, file), 'utf8'))[0]!.der);
  const key = createPrivateKey(fs.readFileSync(path.join(root, keyFile)));
  const der = await issueCertificate({
    subjectDer: ca.subjectRaw, issuerDer: ca.subjectRaw, spki: ca.spkiRaw, serial: newSerial(),
    notBefore: new Date('2016-11-20T00:00:00Z'), notAfter: new Date('2026-11-20T00:00:00Z'), extensions: ca.extensions, signingKey: key,
  });
  const pem = pemOf(der);
  fs.writeFileSync(path.join(root, file), pem);
  return pem;
}

test('CA renewal on a tree whose CA expired: same key/subject/SKI, old leaves verify against the renewed CA, every copy updated', async () => {
  const root = copyFixture('kubeadm-1.26');
  const expiredPem = await expireCa(root, 'etc/kubernetes/pki/ca.crt', 'etc/kubernetes/pki/ca.key');
  // the kubeconfigs carry the (expired) CA as certificate-authority-data, as kubeadm writes them
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const f = path.join(root, 'etc/kubernetes', conf);
    const ed = new KubeconfigEditor(fs.readFileSync(f, 'utf8'));
    for (const cl of ed.clusterNames()) ed.setClusterCaData(cl, expiredPem);
    fs.writeFileSync(f, ed.toString());
  }
  const before = inventory(root);
  const oldCa = before.certificates.find((c) => c.name === 'ca')!;
  assert.equal(oldCa.status, 'expired');
  const dir = tmp();
  const expiredFile = pemFile(dir, 'expired-ca', expiredPem);
  const apiserver = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
  assert.notEqual(sh('openssl', ['verify', '-attime', at, '-CAfile', expiredFile, apiserver]).status, 0, 'leaves fail against the expired CA');

  const r = await cli(['renew', 'ca', '--root', root, '--now', NOW, '--validity', '10y']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /same key, subject and key identifier/);
  const after = inventory(root);
  const newCa = after.certificates.find((c) => c.name === 'ca')!;
  assert.equal(newCa.status, 'ok');
  assert.equal(newCa.spkiSha256, oldCa.spkiSha256);
  assert.equal(newCa.subject, oldCa.subject);
  assert.equal(newCa.subjectKeyId, oldCa.subjectKeyId);
  assert.equal(newCa.notBefore, oldCa.notBefore, 'a renewed CA keeps its notBefore, so leaves issued earlier stay inside its validity');
  assert.equal(stableText(path.join(root, 'etc/kubernetes/pki/ca.crt')), stableText(expiredFile));
  // old leaves, untouched, verify against the renewed CA
  for (const leaf of ['apiserver.crt', 'apiserver-kubelet-client.crt']) {
    const v = sh('openssl', ['verify', '-attime', at, '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt'), path.join(root, 'etc/kubernetes/pki', leaf)]);
    assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
  }
  // every kubeconfig copy now carries the renewed CA
  const caPem = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'utf8');
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const ed = new KubeconfigEditor(fs.readFileSync(path.join(root, 'etc/kubernetes', conf), 'utf8'));
    const data = Buffer.from(ed.clusterField(ed.clusterNames()[0]!, 'certificate-authority-data')!, 'base64').toString();
    assert.equal(certPems(data)[0], certPems(caPem)[0], `${conf} has the renewed CA`);
  }
  assert.match(r.out, /kube-controller-manager/);
});

test('a URI SAN and a private extension survive renewal byte for byte; --add-san appends; --new-key gives a new key of the same type', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const ca = new Certificate(parsePemBlocks(fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8'))[0]!.der);
  const caKey = createPrivateKey(fs.readFileSync(path.join(pki, 'ca.key')));
  const key = await generateKey('ecdsa-p384');
  const privateExt = { oid: '1.3.6.1.4.1.55555.7.1', critical: false, value: tlv(0x30, tlv(0x0c, Buffer.from('tenant=blue')), tlv(0x02, Uint8Array.of(42))) };
  const der = await issueCertificate({
    subjectDer: nameDer([{ type: 'CN', value: 'mesh-gateway' }, { type: 'O', value: 'example' }]), issuerDer: ca.subjectRaw, spki: key, serial: newSerial(),
    notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z'),
    extensions: [
      keyUsageExt(['digitalSignature']), extKeyUsageExt(['serverAuth', 'clientAuth']), basicConstraintsExt(false),
      subjectAltNameExt([{ type: 'dns', value: 'gw.example.test' }, { type: 'uri', value: 'spiffe://cluster.local/ns/mesh/sa/gateway' }, { type: 'email', value: 'ops@example.test' }]),
      authorityKeyIdentifierExt(Buffer.from(ca.subjectKeyId!, 'hex')), privateExt,
    ],
    signingKey: caKey,
  });
  fs.mkdirSync(path.join(root, 'etc/ssl/mesh'), { recursive: true });
  const crt = path.join(root, 'etc/ssl/mesh/gateway.crt');
  fs.writeFileSync(crt, pemOf(der));
  fs.writeFileSync(path.join(root, 'etc/ssl/mesh/gateway.key'), privateKeyPem(key), { mode: 0o600 });
  const oldText = stableText(crt);

  const r = await cli(['renew', '--file', '/etc/ssl/mesh/gateway.crt', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const renewed = new Certificate(parsePemBlocks(fs.readFileSync(crt, 'utf8'))[0]!.der);
  const old = new Certificate(der);
  assert.notEqual(renewed.serialHex, old.serialHex);
  const hexes = (c: Certificate) => c.extensions.map((e) => `${e.oid}/${e.critical}/${Buffer.from(e.value).toString('hex')}`);
  assert.deepEqual(hexes(renewed), hexes(old), 'every extension byte-identical (AKI unchanged: same CA)');
  assert.equal(stableText(crt), oldText);
  const text = sh('openssl', ['x509', '-noout', '-text', '-in', crt]).stdout;
  assert.match(text, /URI:spiffe:\/\/cluster\.local\/ns\/mesh\/sa\/gateway/);
  assert.match(text, /1\.3\.6\.1\.4\.1\.55555\.7\.1:/);
  assert.equal(renewed.notAfter.getTime() - now.getTime(), old.notAfter.getTime() - old.notBefore.getTime(), 'same lifetime (from now) by default');
  assert.equal(renewed.notBefore.toISOString(), '2026-11-22T23:55:00.000Z', 'a leaf starts 5 minutes back for clock skew');

  const r2 = await cli(['renew', '--file', '/etc/ssl/mesh/gateway.crt', '--root', root, '--now', NOW, '--add-san', 'DNS:gw2.example.test,IP:192.0.2.77', '--new-key', '--backdate', '1h']);
  assert.equal(r2.code, 0, r2.err + r2.out);
  const again = new Certificate(parsePemBlocks(fs.readFileSync(crt, 'utf8'))[0]!.der);
  assert.deepEqual(again.subjectAltNames.map((s) => `${s.type}:${s.value}`), ['dns:gw.example.test', 'uri:spiffe://cluster.local/ns/mesh/sa/gateway', 'email:ops@example.test', 'dns:gw2.example.test', 'ip:192.0.2.77']);
  assert.equal(again.notBefore.toISOString(), '2026-11-22T23:00:00.000Z');
  assert.equal(again.keyInfo.curve, 'P-384');
  assert.notEqual(Buffer.from(again.spkiRaw).toString('hex'), Buffer.from(renewed.spkiRaw).toString('hex'));
  const keyPem = fs.readFileSync(path.join(root, 'etc/ssl/mesh/gateway.key'), 'utf8');
  assert.match(keyPem, /^-----BEGIN EC PRIVATE KEY-----/);
  assert.equal(fs.statSync(path.join(root, 'etc/ssl/mesh/gateway.key')).mode & 0o777, 0o600);
  const m = sh('openssl', ['x509', '-noout', '-pubkey', '-in', crt]).stdout;
  const k = sh('openssl', ['pkey', '-pubout', '-in', path.join(root, 'etc/ssl/mesh/gateway.key')]).stdout;
  assert.equal(m, k, 'new key matches the new certificate');
  assert.match(sh('openssl', ['x509', '-noout', '-text', '-in', crt]).stdout, /1\.3\.6\.1\.4\.1\.55555\.7\.1:/);
});

test('a missing CA key is a result: externally managed, with a CSR in --csr-out; nothing else breaks', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/etcd/ca.key'));
  const out = tmp();
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--csr-out', out]);
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(r.out, /etcd-server: externally managed, can't renew \/etc\/kubernetes\/pki\/etcd\/server\.crt: the key of CA etcd-ca is missing; here is a CSR for it/);
  const csr = path.join(out, 'etcd-server.csr');
  const v = sh('openssl', ['req', '-in', csr, '-noout', '-verify', '-text']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /Subject: CN ?= ?cp-1/);
  assert.match(v.stdout, /DNS:cp-1, DNS:localhost/);
  const after = inventory(root);
  assert.equal(after.certificates.find((c) => c.name === 'apiserver')!.status, 'ok', 'certificates of other CAs were renewed');
  assert.equal(after.certificates.find((c) => c.name === 'etcd-server')!.status, 'expired');
});

test('kubelet.conf that embeds an expired client certificate is pointed at the rotating file (kubeadm recovery)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const pemText = fs.readFileSync(path.join(pki, 'kubelet-client-2026-11-22-21-36-05.pem'), 'utf8');
  const keyBlock = /-----BEGIN EC PRIVATE KEY-----[\s\S]*?-----END EC PRIVATE KEY-----\n/.exec(pemText)![0];
  const conf = path.join(root, 'etc/kubernetes/kubelet.conf');
  // a kubelet.conf as kubeadm < 1.17 left it: embedded data, and no rotated pem on disk
  let text = fs.readFileSync(conf, 'utf8');
  text = text.replace(/client-certificate: .*/, `client-certificate-data: ${Buffer.from(certPems(pemText)[0]!).toString('base64')}`)
    .replace(/client-key: .*/, `client-key-data: ${Buffer.from(keyBlock).toString('base64')}`);
  fs.writeFileSync(conf, text);
  for (const f of fs.readdirSync(pki)) if (f.startsWith('kubelet-client')) fs.rmSync(path.join(pki, f));

  const r = await cli(['renew', 'kubelet.conf', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const after = fs.readFileSync(conf, 'utf8');
  assert.match(after, /client-certificate: \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem/);
  assert.match(after, /client-key: \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem/);
  assert.doesNotMatch(after, /client-(certificate|key)-data/);
  assert.equal(fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem')), '/var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem');
  const v = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', conf, '-o', 'jsonpath={.users[0].user.client-certificate}']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout, '/var/lib/kubelet/pki/kubelet-client-current.pem');
  const inv = inventory(root);
  const kc = inv.certificates.find((c) => c.location.file.includes('kubelet-client-2026-11-23'))!;
  assert.ok(kc, 'the new rotated pem is in the inventory');
  assert.equal(kc.status, 'ok');
  assert.equal(kc.privateKey.matches, true);
  // the restart advice names the file the kubelet reads its client pair from now (was: kubelet.conf only)
  assert.match(r.out, /^ {2}kubelet \(systemd unit kubelet; reads [^)]*\/etc\/kubernetes\/kubelet\.conf, \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem[,)]/m, r.out);
  const o = sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt'), '-purpose', 'sslclient', path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem')]);
  assert.equal(o.status, 0, o.stderr + o.stdout);
});

test('planRenew is pure data: --only-expiring skips healthy certificates, names it does not know are refused with the list', () => {
  const root = copyFixture('kubeadm-1.26');
  const inv = inventory(root);
  const plan = planRenew(inv, { targets: 'all', onlyExpiring: true }, now);
  assert.equal(plan.items.length, 0, 'the fresh tree has nothing expiring');
  const all = planRenew(inv, { targets: 'all', random: (n) => new Uint8Array(n).fill(7) }, now);
  assert.deepEqual(JSON.parse(JSON.stringify(all)), all, 'plain JSON');
  assert.ok(all.items.every((i) => i.new?.serial === '07'.repeat(16)));
  assert.throws(() => planRenew(inv, { targets: ['apiservr'] }, now), /failed to find certificate "apiservr".*/);
  const late = readInventory({ fs: new NodeFs(root), now: new Date('2027-11-01T00:00:00Z') });
  const exp = planRenew(late, { targets: 'all', onlyExpiring: true }, new Date('2027-11-01T00:00:00Z'));
  assert.ok(exp.items.some((i) => i.name === 'apiserver'));
});

test('--dry-run writes nothing and --plan-out saves the plan as JSON', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const planFile = path.join(tmp(), 'plan.json');
  const before = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'));
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run', '--plan-out', planFile]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Dry run: nothing was written/);
  assert.deepEqual(fs.readFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt')), before);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki')));
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
  assert.equal(plan.kind, 'Plan');
  assert.ok(plan.files.some((f: { path: string }) => f.path === '/etc/kubernetes/pki/apiserver.crt'));
  assert.ok(plan.restarts.some((x: { component: string }) => x.component === 'etcd'));
  const bad = await cli(['renew', 'all', '--root', root, '--validity', 'forever']);
  assert.equal(bad.code, 3);
  assert.match(bad.err, /--validity "forever" is not a duration/);
});

test('plan warns when a leaf would outlive its CA, and renewing RKE\'s kube-ca updates the workstation kubeconfig copy', async () => {
  const root = copyFixture('rke1-expired');
  const inv = inventory(root);
  const plan = planRenew(inv, { targets: ['kube-apiserver'], validitySeconds: 20 * 365 * 86400 }, now);
  assert.ok(plan.warnings.some((w) => /kube-apiserver would outlive its CA kube-ca/.test(w)), plan.warnings.join('\n'));
  const backups = path.join(tmp(), 'bk');
  const r = await cli(['renew', 'kube-ca', '--root', root, '--now', NOW, '--backup-dir', backups]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /Copies updated with the renewed CA:\n.*kube_config_cluster\.yml \(cluster c1\) updated/);
  const caPem = fs.readFileSync(path.join(root, 'etc/kubernetes/ssl/kube-ca.pem'), 'utf8');
  const ed = new KubeconfigEditor(fs.readFileSync(path.join(root, 'home/rancher/kube_config_cluster.yml'), 'utf8'));
  assert.equal(certPems(Buffer.from(ed.clusterField('c1', 'certificate-authority-data')!, 'base64').toString())[0], certPems(caPem)[0]);
  const list = await cli(['backups', '--backup-dir', backups]);
  assert.match(list.out, /renew\s+complete/);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/backups')), '--backup-dir used instead of the default');
  for (const leaf of ['kube-apiserver.pem', 'kube-node.pem']) {
    const v = sh('openssl', ['verify', '-attime', String(Date.parse('2026-01-01') / 1000), '-CAfile', path.join(root, 'etc/kubernetes/ssl/kube-ca.pem'), path.join(root, 'etc/kubernetes/ssl', leaf)]);
    assert.equal(v.status, 0, `${leaf} still verifies against the renewed kube-ca: ${v.stderr}`);
  }
});

test('k3s layout with ECDSA keys: renew all renews the EC leaves and the k3s.yaml client certificate; check passes', async () => {
  const root = tmp('kubepki-k3s-');
  const tlsDir = path.join(root, 'var/lib/rancher/k3s/server/tls');
  const issued = new Date('2025-10-01T00:00:00Z');
  const t = issued.getTime() / 1000;
  const clientCa = await makeCa(`k3s-client-ca@${t}`, issued, 3652);
  const serverCa = await makeCa(`k3s-server-ca@${t}`, issued, 3652);
  for (const [name, ca] of [['client-ca', clientCa], ['server-ca', serverCa]] as const) {
    put(root, `/var/lib/rancher/k3s/server/tls/${name}.crt`, ca.pem);
    put(root, `/var/lib/rancher/k3s/server/tls/${name}.key`, ca.keyPem, 0o600);
  }
  // leaves expired on 2026-10-01; k3s writes each leaf followed by its CA
  const mkLeaf = async (name: string, ca: Made, cn: string, orgs: string[], eku: string[], sans: SanInput[]) => {
    const l = await makeLeaf(ca, cn, { orgs, eku, sans, notBefore: issued, days: 365 });
    put(root, `/var/lib/rancher/k3s/server/tls/${name}.crt`, l.pem + ca.pem);
    put(root, `/var/lib/rancher/k3s/server/tls/${name}.key`, l.keyPem, 0o600);
    return l;
  };
  const admin = await mkLeaf('client-admin', clientCa, 'system:admin', ['system:masters'], ['clientAuth'], []);
  await mkLeaf('serving-kube-apiserver', serverCa, 'kube-apiserver', [], ['serverAuth'], [{ type: 'dns', value: 'kubernetes' }, { type: 'ip', value: '10.43.0.1' }, { type: 'ip', value: '127.0.0.1' }]);
  await mkLeaf('client-kube-proxy', clientCa, 'system:kube-proxy', [], ['clientAuth'], []);
  put(root, '/etc/rancher/k3s/k3s.yaml', k3sYaml(serverCa.pem, admin.pem + clientCa.pem, admin.keyPem), 0o600);

  const before = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(before.code, 2, before.out);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 0, check.out);
  const inv = inventory(root);
  assert.ok(inv.layouts.includes('k3s'));
  for (const c of inv.certificates.filter((x) => !x.isCA)) {
    assert.equal(c.keyAlgorithm, 'ECDSA');
    assert.equal(c.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(c.notAfter, '2027-11-23T00:00:00.000Z', `${c.name} renewed`);
  }
  // the bundle keeps its CA after the renewed leaf; k3s.yaml keeps the chain too
  assert.equal(certPems(fs.readFileSync(path.join(tlsDir, 'serving-kube-apiserver.crt'), 'utf8')).length, 2);
  const ed = new KubeconfigEditor(fs.readFileSync(path.join(root, 'etc/rancher/k3s/k3s.yaml'), 'utf8'));
  assert.equal(certPems(Buffer.from(ed.userField('default', 'client-certificate-data')!, 'base64').toString()).length, 2);
  assert.equal(sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', path.join(root, 'etc/rancher/k3s/k3s.yaml')]).status, 0);
  verifyAll(inv, inv.certificates.filter((x) => !x.isCA).map((x) => x.name));

  // again with new keys: the kubeconfig copy gets the new key with its certificate
  const r2 = await cli(['renew', 'all', '--root', root, '--now', NOW, '--new-key']);
  assert.equal(r2.code, 0, r2.err + r2.out);
  assert.equal((await cli(['check', '--root', root, '--now', NOW])).code, 0);
  const inv2 = inventory(root);
  for (const c of inv2.certificates.filter((x) => !x.isCA)) assert.equal(c.privateKey.matches, true, `${c.name} key matches`);
  assert.notEqual(inv2.certificates.find((c) => c.name === 'client-admin')!.spkiSha256, inv.certificates.find((c) => c.name === 'client-admin')!.spkiSha256);
  const ed2 = new KubeconfigEditor(fs.readFileSync(path.join(root, 'etc/rancher/k3s/k3s.yaml'), 'utf8'));
  assert.equal(certPems(Buffer.from(ed2.userField('default', 'client-certificate-data')!, 'base64').toString())[0], certPems(fs.readFileSync(path.join(tlsDir, 'client-admin.crt'), 'utf8'))[0]);
  assert.match(Buffer.from(ed2.userField('default', 'client-key-data')!, 'base64').toString(), /^-----BEGIN EC PRIVATE KEY-----/);

  // k3s's CAs are its datastore's: one written in server/tls stops k3s at its next start ("newer than datastore"),
  // so renew refuses it and says to use k3s certificate rotate-ca (the bundles and k3s.yaml keep theirs)
  const servingBefore = fs.readFileSync(path.join(tlsDir, 'serving-kube-apiserver.crt'));
  const r3 = await cli(['renew', 'server-ca', '--root', root, '--now', NOW]);
  assert.equal(r3.code, 1, r3.err + r3.out);
  assert.match(r3.out, /server-ca: can't renew \/var\/lib\/rancher\/k3s\/server\/tls\/server-ca\.crt in place: .*k3s certificate rotate-ca --path=DIR/);
  assert.equal(fs.readFileSync(path.join(tlsDir, 'server-ca.crt'), 'utf8'), serverCa.pem);
  assert.deepEqual(fs.readFileSync(path.join(tlsDir, 'serving-kube-apiserver.crt')), servingBefore);
});

test('a CA renewal follows every copy: the CA behind a leaf in its bundle file (apiserver.crt holding leaf + ca) and admin.conf\'s cluster CA', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const caBefore = fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8');
  fs.appendFileSync(path.join(pki, 'apiserver.crt'), caBefore);
  const r = await cli(['renew', 'ca', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const caNow = certPems(fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8'))[0]!;
  assert.notEqual(caNow, certPems(caBefore)[0]);
  assert.equal(certPems(fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8'))[1], caNow, 'bundle copy updated');
  const ed = new KubeconfigEditor(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'));
  assert.equal(certPems(Buffer.from(ed.clusterField('kubernetes', 'certificate-authority-data')!, 'base64').toString())[0], caNow, 'kubeconfig copy updated');
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]).status, 0);
});

test('restore undoes a renew that turned a git stand-in for kubelet-client-current.pem (a file holding the link target) into a real symlink: every file as before, the stand-in a file again', async () => {
  const root = copyFixtureInto('kubeadm-1.26-expired', { dir: tmp('kubepki-standin-') });
  const link = path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.ok(fs.lstatSync(link).isFile(), 'the fixture stores the link as a stand-in file');
  const before = snapshotTree(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'renew made it a real symlink, as the kubelet\'s file store needs');
  const backup = listBackups(path.join(root, 'var/lib/kubepki/backups')).find((b) => b.state === 'complete')!;
  const rs = await cli(['restore', backup.name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.deepEqual(snapshotTree(root), before);
  assert.ok(fs.lstatSync(link).isFile());
  assert.equal((await cli(['check', '--root', root, '--now', NOW])).code, 2, 'the tree is back to its expired self');
});

test('a CA found later in the same file without its key (a full chain\'s intermediate) is never re-made: the leaf is externally managed, the file untouched; kubelet.crt\'s own throwaway CA still is', async () => {
  const root = copyFixture('kubeadm-1.26');
  const t = tmp('kubepki-fullchain-');
  const f = (n: string) => path.join(t, n);
  const ok = (args: string[]) => { const r = sh('openssl', args); assert.equal(r.status, 0, r.stderr); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  fs.writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  fs.writeFileSync(f('leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:web.example.test\n');
  ok(['req', '-x509', ...ec, '-subj', '/CN=Corp Root CA', '-days', '3650', '-keyout', f('root.key'), '-out', f('root.crt'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  ok(['req', '-new', ...ec, '-subj', '/CN=Corp Issuing CA 1', '-keyout', f('int.key'), '-out', f('int.csr')]);
  ok(['x509', '-req', '-in', f('int.csr'), '-CA', f('root.crt'), '-CAkey', f('root.key'), '-days', '3000', '-extfile', f('ca.ext'), '-out', f('int.crt')]);
  ok(['req', '-new', ...ec, '-subj', '/CN=web.example.test', '-keyout', f('web.key'), '-out', f('web.csr')]);
  ok(['x509', '-req', '-in', f('web.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-days', '30', '-extfile', f('leaf.ext'), '-out', f('web.crt')]);
  fs.mkdirSync(path.join(root, 'etc/ssl/web'), { recursive: true });
  const chain = fs.readFileSync(f('web.crt'), 'utf8') + fs.readFileSync(f('int.crt'), 'utf8');
  fs.writeFileSync(path.join(root, 'etc/ssl/web/fullchain.pem'), chain);
  fs.copyFileSync(f('web.key'), path.join(root, 'etc/ssl/web/fullchain.key'));
  const later = new Date(Date.now() + 60 * 86400_000).toISOString().slice(0, 10); // the leaf (made now, 30 days) is expired then
  const r = await cli(['renew', '--file', '/etc/ssl/web/fullchain.pem', '--root', root, '--now', later]);
  assert.match(r.out + r.err, /externally managed, can't renew \/etc\/ssl\/web\/fullchain\.pem: the key of CA .* is missing/);
  assert.doesNotMatch(r.out, /throwaway/);
  assert.equal(fs.readFileSync(path.join(root, 'etc/ssl/web/fullchain.pem'), 'utf8'), chain, 'the chain file is untouched');
  const v = sh('openssl', ['verify', '-CAfile', f('root.crt'), '-untrusted', f('int.crt'), path.join(root, 'etc/ssl/web/fullchain.pem')]);
  assert.equal(v.status, 0, v.stderr);
  // the kubelet's self-signed serving pair (CA "<host>-ca@<time>", no key) is still renewed with a new throwaway CA
  const k = await cli(['renew', 'kubelet-serving', '--root', root, '--now', NOW]);
  assert.equal(k.code, 0, k.err + k.out);
  assert.match(k.out, /throwaway/);
  fs.rmSync(t, { recursive: true, force: true });
});

test('a damaged key (embedded client-key-data, or a key file): renew refuses to certify the old public key and says --new-key; --new-key writes a new key in its place, read back and matched', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const text = fs.readFileSync(admin, 'utf8');
  const keyData = /client-key-data: (\S+)/.exec(text)![1]!;
  const damagedPem = Buffer.from(keyData, 'base64').toString('latin1').slice(0, 600);
  fs.writeFileSync(admin, text.replace(keyData, Buffer.from(damagedPem).toString('base64')));
  const apiKey = path.join(root, 'etc/kubernetes/pki/apiserver.key');
  fs.writeFileSync(apiKey, fs.readFileSync(apiKey).subarray(0, 800));
  const damaged = fs.readFileSync(admin, 'utf8');

  const refused = await cli(['renew', 'admin.conf', 'apiserver', '--root', root, '--now', NOW]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.out + refused.err, /can't renew \/etc\/kubernetes\/admin\.conf with its key: .*client-key-data.*run again with --new-key/);
  assert.match(refused.out + refused.err, /can't renew \/etc\/kubernetes\/pki\/apiserver\.crt with its key: .*run again with --new-key/);
  assert.equal(fs.readFileSync(admin, 'utf8'), damaged, 'nothing written');

  const r = await cli(['renew', 'admin.conf', 'apiserver', '--root', root, '--now', NOW, '--new-key']);
  assert.equal(r.code, 0, r.err + r.out);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  for (const n of ['admin.conf', 'apiserver']) {
    const c = inv.certificates.find((x) => x.name === n)!;
    assert.equal(c.status, 'ok', n);
    assert.equal(c.privateKey.matches, true, `${n}: the new key is there and is the certificate's`);
  }
  assert.ok(!inv.findings.some((f) => f.code === 'corrupt'), JSON.stringify(inv.findings.filter((f) => f.code === 'corrupt')));
  const k = sh('kubectl', ['--kubeconfig', admin, 'config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.client-key-data}']);
  assert.equal(k.status, 0, k.stderr);
  const keyPem = Buffer.from(k.stdout, 'base64').toString();
  assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(sh('openssl', ['pkey', '-noout'], keyPem).status, 0, 'openssl reads the new embedded key');
  assert.equal(sh('openssl', ['pkey', '-noout', '-in', apiKey]).status, 0, 'and the new key file');
});

test('restore refuses a backup made for another root (another node\'s tree, or a mounted disk onto the live node); a damaged manifest is one line', async () => {
  const a = copyFixture('kubeadm-1.26-expired');
  const b = copyFixture('kubeadm-1.26-expired');
  assert.equal((await cli(['renew', 'apiserver', '--root', a, '--now', NOW])).code, 0);
  const backup = listBackups(path.join(a, 'var/lib/kubepki/backups'))[0]!;
  const before = snapshotTree(b);
  const r = await cli(['restore', backup.dir, '--root', b, '--now', NOW]);
  assert.equal(r.code, 3);
  assert.match(r.err, new RegExp(`refusing to restore .*: it was made for --root ${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, and this is --root`));
  assert.deepEqual(snapshotTree(b), before, 'nothing written');
  // its own tree takes it back
  assert.equal((await cli(['restore', backup.name, '--root', a, '--now', NOW])).code, 0);
  fs.writeFileSync(path.join(backup.dir, 'manifest.json'), '{"kind": "Backup", trunc');
  const d = await cli(['restore', backup.name, '--root', a, '--now', NOW]);
  assert.equal(d.code, 3);
  assert.match(d.err, /^kubepki: failed to read backup .*: manifest\.json is not valid JSON/);
});

test('a leaf whose notBefore is its CA\'s (kubeadm up to 1.30, RKE1) is renewed for its installer\'s validity, not notAfter − notBefore, which grows by a year at every renewal', async () => {
  const root = copyFixture('kubeadm-1.26');
  const ca = new Certificate(parsePemBlocks(fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'latin1'))[0]!.der);
  const now = Date.parse(NOW);
  const back = Math.round((now - ca.notBefore.getTime()) / 1000);
  // the shape a kubeadm 1.30 renewal leaves two years on: notBefore = the CA's, notAfter three years later
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--backdate', `${back}s`, '--validity', '1095d'])).code, 0);
  const crt = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
  const shaped = new Certificate(parsePemBlocks(fs.readFileSync(crt, 'latin1'))[0]!.der);
  assert.equal(shaped.notBefore.getTime(), ca.notBefore.getTime());
  const later = '2028-11-01T00:00:00Z';
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', later]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /validity 1 year \(kubeadm's\): its notBefore is its CA's/);
  const end = sh('openssl', ['x509', '-in', crt, '-noout', '-enddate']).stdout.trim();
  assert.equal(end, 'notAfter=Nov  1 00:00:00 2029 GMT', 'a year from the renewal, as kubeadm certs renew gives');
  // --validity still decides when given
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', later, '--validity', '90d'])).code, 0);
  assert.equal(sh('openssl', ['x509', '-in', crt, '-noout', '-enddate']).stdout.trim(), 'notAfter=Jan 30 00:00:00 2029 GMT');
});

test('renew warns when a new certificate is unusable on the machine\'s clock: --now later than it (not yet valid), earlier (already past), or a validity under a day', async () => {
  const { clockWarnings } = await import('../src/cli/renew.js');
  const item = (nb: string, na: string) => ({ items: [{ name: 'apiserver', kind: 'leaf', new: { notBefore: nb, notAfter: na } }] });
  const clock = Date.parse('2026-12-06T00:00:00Z');
  assert.equal(clockWarnings(item('2026-11-22T23:55:00.000Z', '2027-11-23T00:00:00.000Z'), clock, true), '');
  assert.match(clockWarnings(item('2027-05-31T23:55:00.000Z', '2028-05-31T00:00:00.000Z'), clock, true), /apiserver: valid from 2027-05-31T23:55:00Z, after this machine's clock \(--now is later than the clock\): not yet valid here/);
  assert.match(clockWarnings(item('2025-01-01T00:00:00.000Z', '2025-12-31T00:00:00.000Z'), clock, true), /apiserver: valid until 2025-12-31T00:00:00Z, already past on this machine's clock \(--now is earlier/);
  assert.match(clockWarnings(item('2026-12-05T23:55:00.000Z', '2026-12-06T00:00:01.000Z'), clock, false), /less than a day from now \(--validity\?\)/);
  // through the CLI: the warning is printed with the plan, the exit code is the plan's
  const root = copyFixture('kubeadm-1.26');
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', '2035-01-01', '--dry-run']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Warning: a new certificate is not usable on this machine's clock/);
});

test('a kubeadm kubeconfig whose client certificate is a file reference: check reads it as that kubeconfig\'s certificate (not INVALID), and renew admin.conf renews the referenced file', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const text = fs.readFileSync(admin, 'utf8');
  const data = (k: string) => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(text)![1]!, 'base64');
  fs.writeFileSync(path.join(root, 'etc/kubernetes/pki/admin.crt'), data('client-certificate-data'));
  fs.writeFileSync(path.join(root, 'etc/kubernetes/pki/admin.key'), data('client-key-data'), { mode: 0o600 });
  fs.writeFileSync(admin, text
    .replace(/client-certificate-data: \S+/, 'client-certificate: /etc/kubernetes/pki/admin.crt')
    .replace(/client-key-data: \S+/, 'client-key: /etc/kubernetes/pki/admin.key'));
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  assert.deepEqual(inv.missing, []);
  const c = inv.certificates.find((x) => x.name === 'admin.conf')!;
  assert.equal(c.location.file, '/etc/kubernetes/pki/admin.crt');
  assert.equal(c.managedBy, 'kubeadm');
  assert.equal(c.status, 'expired');
  const r = await cli(['renew', 'admin.conf', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const v = sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt'), path.join(root, 'etc/kubernetes/pki/admin.crt')]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(fs.readFileSync(admin, 'utf8'), /client-certificate: \/etc\/kubernetes\/pki\/admin\.crt/, 'the kubeconfig still references the file');
  assert.equal(readInventory({ fs: new NodeFs(root), now: new Date(NOW) }).certificates.find((x) => x.name === 'admin.conf')!.status, 'ok');
});

/** A CA and one leaf it signed, each with its key, in /srv/pki of a new tree (made on 2026-01-01). */
async function caAndLeaf(prefix: string, caCn: string, leafName: string, days: number) {
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa(caCn, issued, 3653, 'rsa-2048');
  const leaf = await makeLeaf(ca, leafName, { eku: ['serverAuth'], notBefore: issued, days, keyType: 'rsa-2048' });
  const root = tmp(prefix);
  put(root, '/srv/pki/ca.crt', ca.pem);
  put(root, '/srv/pki/ca.key', ca.keyPem, 0o600);
  put(root, `/srv/pki/${leafName}.crt`, leaf.pem);
  put(root, `/srv/pki/${leafName}.key`, leaf.keyPem, 0o600);
  return { root, ca, leaf };
}

test('a 10-year leaf made in the same second as its CA outside kubeadm and RKE (cfssl, the hard way) keeps its 10 years, and --warn N% measures against them', async () => {
  const { root } = await caAndLeaf('kubepki-samesecond-', 'CA', 'leaf', 3653);
  const warned = readInventory({ fs: new NodeFs(root), now: new Date('2035-06-01T00:00:00Z'), warn: '90%', paths: ['/srv/pki'] });
  assert.equal(warned.certificates.find((c) => c.name === 'leaf')!.status, 'warning', '94% of its ten years');
  const r = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', root, '--now', NOW, '--dry-run']);
  assert.doesNotMatch(r.out, /validity 1 year/);
  assert.match(r.out, /notAfter 2036-01-02 → 2036-11-2\d/);
});

test('renew --file reads the key and CA beside the file, not the directory tree under it: a chain file in a sub-directory is not rewritten as a CA copy', async () => {
  const { root, ca, leaf } = await caAndLeaf('kubepki-beside-', 'beside-ca', 'svc', 300);
  put(root, '/srv/pki/deep/chain.pem', leaf.pem + ca.pem);
  const r = await cli(['renew', '--file', '/srv/pki/svc.crt', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /svc\s+\/srv\/pki\/svc\.crt/);
  assert.match(r.out, /signed by ca/);
  assert.doesNotMatch(r.out, /chain\.pem/);
});

test('two kubelet renewals in the same second (same --now) never replace one another: the second gets kubelet-client-<time>-1.pem, a file the kubelet made at that time is kept, and restore undoes each run exactly', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const dated = path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem');
  const before = snapshotTree(root);
  const r1 = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW, '--new-key']);
  assert.equal(r1.code, 0, r1.err + r1.out);
  const first = fs.readFileSync(dated);
  const afterFirst = snapshotTree(root);
  const r2 = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW, '--new-key']);
  assert.equal(r2.code, 0, r2.err + r2.out);
  assert.match(r2.out, /create {2}\/var\/lib\/kubelet\/pki\/kubelet-client-2026-11-23-00-00-00-1\.pem/);
  assert.match(r2.out, /new kubelet-client-2026-11-23-00-00-00-1\.pem; kubelet-client-current\.pem swapped to it/);
  assert.deepEqual(fs.readFileSync(dated), first, 'the first run\'s pair is not replaced');
  assert.equal(fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem')), '/var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00-1.pem');
  const second = new Certificate(parsePemBlocks(fs.readFileSync(path.join(pki, 'kubelet-client-2026-11-23-00-00-00-1.pem'), 'utf8'))[0]!.der);
  assert.notEqual(second.serialHex, new Certificate(parsePemBlocks(first.toString("utf8"))[0]!.der).serialHex);
  // the kubelet's own file of that second (it rotated then, as client-go names it) is kept too
  const k = path.join(pki, 'kubelet-client-2026-11-23-00-00-00-2.pem');
  fs.writeFileSync(k, 'the kubelet\'s\n', { mode: 0o600 });
  const r3 = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW]);
  assert.equal(r3.code, 0, r3.err + r3.out);
  assert.equal(fs.readFileSync(k, 'utf8'), 'the kubelet\'s\n');
  assert.equal(fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem')), '/var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00-3.pem');
  fs.rmSync(k);

  // each run's backup undoes that run alone, newest first, back to the tree as it was
  const backups = listBackups(path.join(root, 'var/lib/kubepki/backups')).map((b) => b.name);
  assert.deepEqual(backups, ['2026-11-23T00-00-00Z', '2026-11-23T00-00-00Z-1', '2026-11-23T00-00-00Z-2']);
  const rs2 = await cli(['restore', backups[2]!, '--root', root, '--now', NOW]);
  assert.equal(rs2.code, 0, rs2.err + rs2.out);
  const rs1 = await cli(['restore', backups[1]!, '--root', root, '--now', NOW]);
  assert.equal(rs1.code, 0, rs1.err + rs1.out);
  assert.deepEqual(snapshotTree(root), afterFirst);
  const rs0 = await cli(['restore', backups[0]!, '--root', root, '--now', NOW]);
  assert.equal(rs0.code, 0, rs0.err + rs0.out);
  assert.deepEqual(snapshotTree(root), before);
});

test('a renewal whose new kubelet pem name is taken when it writes (a plan made without looking, the kubelet rotating meanwhile) fails and rolls back, and leaves that file as it was', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const nfs = new NodeFs(root);
  const inv = readInventory({ fs: nfs, now });
  const plan = planRenew(inv, { targets: ['kubelet-client'] }, now);
  const taken = path.join(root, 'var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem');
  const { renderRenewal } = await import('../src/apply/renew.js');
  const { applyChanges } = await import('../src/apply/transaction.js');
  const rendered = await renderRenewal(nfs, inv, plan);
  fs.writeFileSync(taken, 'the kubelet\'s\n', { mode: 0o600 });
  const before = snapshotTree(root);
  await assert.rejects(applyChanges(nfs, rendered.changes, { action: 'renew', now }), /kubelet-client-2026-11-23-00-00-00\.pem was made by something else during this run/);
  assert.equal(fs.readFileSync(taken, 'utf8'), 'the kubelet\'s\n');
  assert.deepEqual(snapshotTree(root), before);
  assert.deepEqual(fs.readdirSync(path.dirname(taken)).filter((n) => n.includes('kubepki')), [], 'no temp file left');
});

test('renew --add-san adds as rebuild --cert-sans does: a name the certificate already has (or one given twice) is kept once, and the dry run says so (was: "add SANs IP:192.0.2.100" for a name already there)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const crt = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
  const args = ['renew', 'apiserver', '--root', root, '--now', NOW, '--add-san', 'IP:192.0.2.100,DNS:new.example.test,IP:2001:DB8:0::1,IP:2001:db8::1'];
  const planFile = path.join(tmp(), 'plan.json');
  const d = await cli([...args, '--dry-run', '--plan-out', planFile]);
  assert.equal(d.code, 0, d.err + d.out);
  assert.match(d.out, /^ +add SANs DNS:new\.example\.test, IP:2001:DB8:0::1\n +already has IP:192\.0\.2\.100: not added again$/m, d.out);
  const item = JSON.parse(fs.readFileSync(planFile, 'utf8')).items.find((i: any) => i.name === 'apiserver');
  assert.deepEqual(item.addSans, [{ type: 'dns', value: 'new.example.test' }, { type: 'ip', value: '2001:DB8:0::1' }]);
  const r = await cli(args);
  assert.equal(r.code, 0, r.err + r.out);
  const sans = sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', crt]).stdout.split('\n')[1]!.trim().split(', ');
  // each once, the new ones after the old
  assert.deepEqual(sans.slice(-3), ['IP Address:192.0.2.100', 'DNS:new.example.test', 'IP Address:2001:DB8:0:0:0:0:0:1'], sans.join(', '));
  assert.equal(sans.filter((s) => s === 'IP Address:192.0.2.100').length, 1);
});

test('a kubelet.crt that is one self-signed certificate (kubelets before 1.11 made it so, and admins do with openssl): renewed with its key, and no advice to spread it as a cluster CA', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const key = await generateKey('ecdsa-p256');
  const subject = nameDer([{ type: 'CN', value: 'cp-1@1729000000' }]);
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: subject, spki: spkiDer(key), serial: newSerial(),
    notBefore: new Date('2025-10-15T00:00:00Z'), notAfter: new Date('2026-10-15T00:00:00Z'),
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), extKeyUsageExt(['serverAuth']), basicConstraintsExt(true),
      subjectAltNameExt([{ type: 'dns', value: 'cp-1' }])],
    signingKey: key,
  });
  fs.writeFileSync(path.join(pki, 'kubelet.crt'), pemOf(der));
  fs.writeFileSync(path.join(pki, 'kubelet.key'), privateKeyPem(key), { mode: 0o600 });

  const r = await cli(['renew', 'kubelet-serving', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.doesNotMatch(r.out, /Outside this node|Not done yet|certificate-authority-data|kube-root-ca\.crt|every other node/, 'only this kubelet serves it: nothing elsewhere holds a copy');
  assert.match(r.out, /the kubelet's own self-signed serving certificate/);
  const crt = path.join(pki, 'kubelet.crt');
  const v = sh('openssl', ['verify', '-attime', at, '-purpose', 'sslserver', '-CAfile', crt, crt]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey', '-in', crt]).stdout, sh('openssl', ['pkey', '-pubout', '-in', path.join(pki, 'kubelet.key')]).stdout, 'same key');
  const text = sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-in', crt]).stdout;
  assert.match(text, /DNS:cp-1/);
  assert.match(text, /TLS Web Server Authentication/);
});

test('a leaf whose key file is encrypted: renew refuses it up front (decrypt it, or --new-key) and still renews the others; --new-key replaces it with an unencrypted key', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const key = path.join(pki, 'front-proxy-client.key');
  const enc = sh('openssl', ['pkcs8', '-topk8', '-passout', 'pass:secret', '-in', key]);
  assert.equal(enc.status, 0, enc.stderr);
  fs.writeFileSync(key, enc.stdout, { mode: 0o600 });
  const crt = fs.readFileSync(path.join(pki, 'front-proxy-client.crt'), 'utf8');
  const apiBefore = fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8');

  const r = await cli(['renew', 'front-proxy-client', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 1, r.out + r.err);
  assert.doesNotMatch(r.out + r.err, /interrupted or cancelled|rolled back|put back/);
  const advice = /can't renew \/etc\/kubernetes\/pki\/front-proxy-client\.crt with its key: \/etc\/kubernetes\/pki\/front-proxy-client\.key is encrypted[^\n]*decrypt it \((openssl pkey [^)]*)\)[^\n]*--new-key/.exec(r.out);
  assert.ok(advice, r.out);
  assert.equal(fs.readFileSync(path.join(pki, 'front-proxy-client.crt'), 'utf8'), crt, 'the refused one is untouched');
  assert.notEqual(fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8'), apiBefore, 'the others are renewed');
  const v = sh('openssl', ['verify', '-attime', at, '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);

  // the advised command, run on a copy of the tree (with the passphrase it would prompt for), leaves a usable key there
  const copy = copyFixture('kubeadm-1.26-expired');
  const copyKey = path.join(copy, 'etc/kubernetes/pki/front-proxy-client.key');
  fs.writeFileSync(copyKey, enc.stdout, { mode: 0o600 });
  const d = sh('sh', ['-c', advice[1]!.replaceAll('/etc/kubernetes/pki/', `${path.join(copy, 'etc/kubernetes/pki')}/`).replace('openssl pkey ', 'openssl pkey -passin pass:secret ')]);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(sh('openssl', ['pkey', '-noout', '-in', copyKey]).status, 0, 'the decrypted key is there');
  assert.equal(fs.statSync(copyKey).mode & 0o777, 0o600);
  const after = await cli(['renew', 'front-proxy-client', '--root', copy, '--now', NOW]);
  assert.equal(after.code, 0, after.out + after.err);

  const n = await cli(['renew', 'front-proxy-client', '--new-key', '--root', root, '--now', NOW]);
  assert.equal(n.code, 0, n.out + n.err);
  assert.match(fs.readFileSync(key, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(pki, 'front-proxy-client.crt')]).stdout, sh('openssl', ['pkey', '-pubout', '-in', key]).stdout);
  const fv = sh('openssl', ['verify', '-attime', at, '-purpose', 'sslclient', '-CAfile', path.join(pki, 'front-proxy-ca.crt'), path.join(pki, 'front-proxy-client.crt')]);
  assert.equal(fv.status, 0, fv.stdout + fv.stderr);
});

test('renew --file ~/.kube/config copied from admin.conf was "failed to find a certificate in" it; beside a user of its own, the admin user was silently left out: the shared certificate is renewed and both files get it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const adminConf = fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8');
  put(root, '/root/.kube/config', adminConf, 0o600);
  const clientCert = (f: string, user = 'kubernetes-admin') => {
    const kc = parseYaml(fs.readFileSync(path.join(root, f), 'utf8')) as { users: { name: string; user: Record<string, string> }[] };
    return Buffer.from(kc.users.find((u) => u.name === user)!.user['client-certificate-data']!, 'base64').toString();
  };
  const old = clientCert('etc/kubernetes/admin.conf');

  const r = await cli(['renew', '--file', '/root/.kube/config', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /copy of admin\.conf in \/root\/\.kube\/config \(user kubernetes-admin\) updated/);
  const renewed = clientCert('root/.kube/config');
  assert.notEqual(renewed, old);
  assert.equal(clientCert('etc/kubernetes/admin.conf'), renewed, 'admin.conf, where the certificate is kept, has the same new one');
  const f = pemFile(tmp(), 'admin', renewed);
  const v = sh('openssl', ['verify', '-attime', at, '-purpose', 'sslclient', '-CAfile', path.join(pki, 'ca.crt'), f]);
  assert.equal(v.status, 0, v.stdout + v.stderr);

  // a kubeconfig holding that copy and a user of its own (an operator's, made with openssl): both are in the plan
  const dir = tmp();
  const opsKey = path.join(dir, 'ops.key');
  const opsCrt = path.join(dir, 'ops.crt');
  assert.equal(sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', opsKey, '-subj', '/O=ops/CN=ops-user',
    '-x509', '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-days', '30', '-out', opsCrt]).status, 0);
  const kc = parseYaml(fs.readFileSync(path.join(root, 'root/.kube/config'), 'utf8')) as { users: unknown[]; contexts: unknown[] };
  kc.users.push({ name: 'ops', user: { 'client-certificate-data': fs.readFileSync(opsCrt).toString('base64'), 'client-key-data': fs.readFileSync(opsKey).toString('base64') } });
  kc.contexts.push({ name: 'ops@kubernetes', context: { cluster: 'kubernetes', user: 'ops' } });
  put(root, '/home/ops/.kube/config', stringifyYaml(kc), 0o600);
  const both = await cli(['renew', '--file', '/home/ops/.kube/config', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(both.code, 0, both.err + both.out);
  assert.match(both.out, /renew 2 certificate\(s\)/);
  assert.match(both.out, /\/home\/ops\/\.kube\/config \(user ops\)/);
  assert.match(both.out, /copy of admin\.conf in \/home\/ops\/\.kube\/config \(user kubernetes-admin\) updated/);
  assert.doesNotMatch(both.out, /^\s+ca\s/m, 'the CA whose copy the file holds is not renewed for it');
});

test('renew --file of a leaf whose CA expired said to run `kubepki renew ca leaf`, which finds neither (they are not the node\'s names): it names the files, and that command, run as printed, renews both', async () => {
  const { root } = await caAndLeaf('kubepki-file-staleca-', 'file-ca', 'leaf', 300);
  const later = '2037-01-01T00:00:00Z'; // the CA (ten years from 2026-01-01) has expired
  const r = await cli(['renew', '--file', '/srv/pki/leaf.crt', '--root', root, '--now', later]);
  assert.equal(r.code, 1, r.err + r.out);
  const cmd = /renew the CA first or together: `kubepki ([^`]*)`/.exec(r.out)?.[1];
  assert.equal(cmd, `renew --file /srv/pki/ca.crt --file /srv/pki/leaf.crt --root ${root}`, r.out);
  assert.doesNotMatch(r.out, /kubepki renew all/);
  const again = await cli([...cmd!.split(' '), '--now', later]);
  assert.equal(again.code, 0, again.err + again.out);
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(later) / 1000 + 3600), '-CAfile', path.join(root, 'srv/pki/ca.crt'), path.join(root, 'srv/pki/leaf.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});
