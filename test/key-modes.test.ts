/**
 * Files kubepki rewrites keep their mode, but a private key is never left readable by others: a key file
 * (a kubeconfig with client-key-data too) loses the bits for others and keeps its owner's and group's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, tmp, NOW } from './renew-support.js';
import { applyChanges, restoreChanges, readManifest } from '../src/apply/transaction.js';
import { NodeFs } from '../src/fs/node-fs.js';

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

test('renew --new-key over a world-readable key writes it 0640 and says so; a group-readable key, certificates and other files keep their mode', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const k8s = path.join(root, 'etc/kubernetes');
  fs.chmodSync(path.join(pki, 'apiserver.key'), 0o644);
  fs.chmodSync(path.join(pki, 'apiserver.crt'), 0o664);
  fs.chmodSync(path.join(pki, 'front-proxy-client.key'), 0o640);
  fs.chmodSync(path.join(k8s, 'admin.conf'), 0o604); // a kubeconfig with client-key-data is a key file too
  const names = ['apiserver', 'front-proxy-client', 'admin.conf'];
  const oldKey = fs.readFileSync(path.join(pki, 'apiserver.key'), 'utf8');
  const dry = await cli(['renew', ...names, '--new-key', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.match(dry.out, /write +\/etc\/kubernetes\/pki\/apiserver\.key \(mode 0644 → 0640: a private key is not for others to read\)/);
  assert.match(dry.out, /write +\/etc\/kubernetes\/admin\.conf \(mode 0604 → 0600: a private key is not for others to read\)/);
  assert.doesNotMatch(dry.out, /front-proxy-client\.key \(mode/, 'nothing to say about a key only its group can read');
  assert.doesNotMatch(dry.out, /apiserver\.crt \(mode/, 'a certificate is no key file');

  const r = await cli(['renew', ...names, '--new-key', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /apiserver\.key \(mode 0644 → 0640/);
  assert.equal(modeOf(path.join(pki, 'apiserver.key')), 0o640, 'the bits for others dropped, the group\'s kept');
  assert.equal(modeOf(path.join(k8s, 'admin.conf')), 0o600);
  assert.equal(modeOf(path.join(pki, 'front-proxy-client.key')), 0o640, 'group-readable key kept as it was');
  assert.equal(modeOf(path.join(pki, 'apiserver.crt')), 0o664, 'a certificate keeps its mode');
  assert.notEqual(fs.readFileSync(path.join(pki, 'apiserver.key'), 'utf8'), oldKey, 'a new key was written');
  assert.doesNotMatch(r.out + r.err, /PRIVATE KEY/, 'no key printed');
});

test('renew without --new-key rewrites a kubeconfig that embeds a key without the bits for others', async () => {
  const root = copyFixture('kubeadm-1.26');
  const conf = path.join(root, 'etc/kubernetes/controller-manager.conf');
  fs.chmodSync(conf, 0o644);
  const r = await cli(['renew', 'controller-manager.conf', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /controller-manager\.conf \(mode 0644 → 0640/);
  assert.equal(modeOf(conf), 0o640);
});

test('sa rotate over a world-readable sa.key writes it 0640 and says so; sa.pub keeps its mode', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.chmodSync(path.join(pki, 'sa.key'), 0o644);
  fs.chmodSync(path.join(pki, 'sa.pub'), 0o644);
  const dry = await cli(['sa', 'rotate', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /\/etc\/kubernetes\/pki\/sa\.key: mode 0644 → 0640/);
  assert.equal(modeOf(path.join(pki, 'sa.key')), 0o644, 'dry run');
  const r = await cli(['sa', 'rotate', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /sa\.key: mode 0644 → 0640/);
  assert.equal(modeOf(path.join(pki, 'sa.key')), 0o640);
  assert.equal(modeOf(path.join(pki, 'sa.pub')), 0o644, 'a public key keeps its mode');
});

test('ca import --force and rebuild --force replace world-readable keys and kubeconfigs without the bits for others', async () => {
  const KEY = 'cd'.repeat(32);
  const src = copyFixture('kubeadm-1.26');
  const sealed = path.join(tmp(), 'shared.yaml');
  assert.equal((await cli(['ca', 'export', '--root', src, '--out', sealed, '--certificate-key', KEY])).code, 0);
  const other = tmp('kubepki-other-');
  const rb = await cli(['rebuild', '--root', other, '--now', NOW, '--node-name', 'cp-2', '--advertise-address', '192.0.2.11', '--kubernetes-version', 'v1.26.1']);
  assert.equal(rb.code, 0, rb.err);
  const pki = path.join(other, 'etc/kubernetes/pki');
  fs.chmodSync(path.join(pki, 'ca.key'), 0o644);
  fs.chmodSync(path.join(pki, 'ca.crt'), 0o664);
  const imp = await cli(['ca', 'import', sealed, '--root', other, '--certificate-key', KEY, '--now', NOW, '--force']);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /replace {2}\/etc\/kubernetes\/pki\/ca\.key \(private key; mode 0644 → 0640/);
  assert.equal(modeOf(path.join(pki, 'ca.key')), 0o640);
  assert.equal(modeOf(path.join(pki, 'ca.crt')), 0o664, 'a certificate keeps its mode');

  // rebuild --force replaces the kubeconfigs signed by the old CA: admin.conf holds a key
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  fs.chmodSync(path.join(root, 'etc/kubernetes/admin.conf'), 0o644);
  // the dry run says it as well, and only for what it replaces with a key in it
  const d = await cli(['rebuild', '--root', root, '--now', NOW, '--force', '--new-ca', '--dry-run']);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^ {2}\/etc\/kubernetes\/admin\.conf: mode 0644 → 0640: a private key is not for others to read$/m);
  assert.doesNotMatch(d.out, /kubelet\.conf: mode/);
  const f = await cli(['rebuild', '--root', root, '--now', NOW, '--force', '--new-ca']);
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /\/etc\/kubernetes\/admin\.conf: mode 0644 → 0640/);
  assert.equal(modeOf(path.join(root, 'etc/kubernetes/admin.conf')), 0o640);
});

test('the transaction narrows any write that holds a private key (PEM key block or client-key-data), never a restore', async () => {
  const root = tmp('kubepki-tx-');
  const p = (n: string) => path.join(root, n);
  fs.writeFileSync(p('a.pem'), 'x', { mode: 0o666 });
  fs.writeFileSync(p('k.conf'), 'x', { mode: 0o646 });
  fs.writeFileSync(p('plain.conf'), 'x', { mode: 0o666 });
  fs.chmodSync(p('a.pem'), 0o666); fs.chmodSync(p('k.conf'), 0o646); fs.chmodSync(p('plain.conf'), 0o666);
  const nfs = new NodeFs(root);
  const res = await applyChanges(nfs, [
    { op: 'write', path: '/a.pem', content: Buffer.from('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n') },
    { op: 'write', path: '/k.conf', content: Buffer.from('users:\n- name: u\n  user:\n    client-key-data: LS0tLS1CRUdJTg==\n') },
    { op: 'write', path: '/plain.conf', content: Buffer.from('users:\n- name: u\n  user:\n    client-key: /etc/k.pem\n') },
  ], { action: 'test', now: new Date(NOW), backupRoot: tmp() });
  assert.deepEqual(res.keyModes, [{ path: '/a.pem', from: 0o666, to: 0o660 }, { path: '/k.conf', from: 0o646, to: 0o640 }]);
  assert.equal(modeOf(p('a.pem')), 0o660);
  assert.equal(modeOf(p('k.conf')), 0o640);
  assert.equal(modeOf(p('plain.conf')), 0o666, 'a kubeconfig that names its key file holds no key');
  // an undo is exact: the backup's modes come back
  const back = await applyChanges(nfs, restoreChanges(res.backupDir, readManifest(res.backupDir)), { action: 'restore', now: new Date(NOW), backupRoot: tmp() });
  assert.deepEqual(back.keyModes, []);
  assert.equal(modeOf(p('a.pem')), 0o666);
  assert.equal(modeOf(p('k.conf')), 0o646);
});

test('renew of a kubelet.conf that embeds its key moves the key to kubelet-client-current.pem: the plan promises no mode change for kubelet.conf, which then holds no key and keeps its mode', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const pem = fs.readFileSync(path.join(root, fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem'))), 'utf8');
  const block = (re: RegExp) => Buffer.from(re.exec(pem)![0]).toString('base64');
  const conf = path.join(root, 'etc/kubernetes/kubelet.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8')
    .replace(/client-certificate: .*/, `client-certificate-data: ${block(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/)}`)
    .replace(/client-key: .*/, `client-key-data: ${block(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n/)}`));
  for (const f of fs.readdirSync(pki).filter((n) => n.startsWith('kubelet-client-'))) fs.rmSync(path.join(pki, f));
  fs.chmodSync(conf, 0o644);
  const dry = await cli(['renew', 'kubelet.conf', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.match(dry.out, /^ {2}write +\/etc\/kubernetes\/kubelet\.conf$/m, 'no mode change said for a file that will hold no key');
  const r = await cli(['renew', 'kubelet.conf', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /kubelet\.conf \(mode/);
  assert.doesNotMatch(fs.readFileSync(conf, 'utf8'), /client-key-data/);
  assert.equal(modeOf(conf), 0o644, 'what the output says is what is on disk');
  assert.equal(modeOf(path.join(root, fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem')))), 0o600, 'the key went to a 0600 file');
});
