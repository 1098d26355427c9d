// Expected files that are there but unusable, and certificates only a static pod manifest names
// (field reports of an exploratory run on trees outside the fixtures: an external etcd's client
// certificate nobody listed, and `renew all` exiting 0 past a truncated apiserver.crt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, snapshotTree, NOW } from './renew-support.js';
import { openssl } from './support/fixtures.js';

const PKI = 'etc/kubernetes/pki';

/** kubeadm-1.26 with six expected files broken six ways. */
function brokenTree(): string {
  const root = copyFixture('kubeadm-1.26');
  const at = (p: string) => path.join(root, p);
  const apiserver = fs.readFileSync(at(`${PKI}/apiserver.crt`), 'utf8');
  fs.writeFileSync(at(`${PKI}/apiserver.crt`), apiserver.slice(0, apiserver.length / 2)); // truncated
  fs.writeFileSync(at(`${PKI}/front-proxy-client.crt`), ''); // empty
  fs.rmSync(at(`${PKI}/apiserver-kubelet-client.crt`));
  fs.mkdirSync(at(`${PKI}/apiserver-kubelet-client.crt`)); // a directory
  fs.rmSync(at(`${PKI}/etcd/server.crt`));
  fs.symlinkSync('/nonexistent/etcd/server.crt', at(`${PKI}/etcd/server.crt`)); // dangling, absolute as on a node
  fs.rmSync(at(`${PKI}/etcd/peer.crt`));
  fs.symlinkSync('/etc/kubernetes/pki/etcd/peer.crt', at(`${PKI}/etcd/peer.crt`)); // a loop
  const conf = fs.readFileSync(at('etc/kubernetes/controller-manager.conf'), 'utf8');
  fs.writeFileSync(at('etc/kubernetes/controller-manager.conf'), conf.replace(/client-certificate-data: \S+/, `client-certificate-data: ${Buffer.from('not a certificate').toString('base64')}`));
  return root;
}

const BROKEN = ['apiserver', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-peer', 'etcd-server', 'front-proxy-client'];

test('check: an expected kubeadm file that holds no readable certificate is an !INVALID! row, in missing[] as unreadable, and its error is said once', async () => {
  const root = brokenTree();
  const r = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(r.code, 2, r.err);
  for (const name of BROKEN) assert.match(r.out, new RegExp(`^!INVALID! ${name.replace('.', '\\.')}\\s+INVALID\\s+/etc/kubernetes/`, 'm'), name);
  assert.match(r.out, /, 6 unreadable \(now/);
  assert.doesNotMatch(r.out, /\d+ missing/, 'nothing is missing: the files are there');
  const findingLines = r.out.split('\n').filter((l) => /^\s+ERROR /.test(l));
  assert.equal(new Set(findingLines).size, findingLines.length, `each error once:\n${findingLines.join('\n')}`);

  const json = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const inv = JSON.parse(json.out);
  assert.deepEqual(inv.missing.map((m: { name: string }) => m.name).sort(), BROKEN);
  for (const m of inv.missing) {
    assert.equal(m.state, 'unreadable');
    assert.ok(m.reason.includes(m.file), `${m.name}: the reason names the file: ${m.reason}`);
  }
  const reasons = Object.fromEntries(inv.missing.map((m: { name: string; reason: string }) => [m.name, m.reason]));
  assert.match(reasons['apiserver'], /no END line/);
  assert.match(reasons['front-proxy-client'], /empty file/);
  assert.match(reasons['apiserver-kubelet-client'], /a directory/);
  assert.match(reasons['etcd-server'], /dangling symlink to \/nonexistent\/etcd\/server\.crt/);
  assert.match(reasons['etcd-peer'], /symlink loop/);
  assert.match(reasons['controller-manager.conf'], /client-certificate-data/);

  // deleting one is still `missing`, and the two kinds are counted apart
  fs.rmSync(path.join(root, PKI, 'apiserver-etcd-client.crt'));
  const again = await cli(['check', '--root', root, '--now', NOW]);
  assert.match(again.out, /^!MISSING! apiserver-etcd-client\s+MISSING\s/m);
  assert.match(again.out, /, 1 missing, 6 unreadable \(now/);
});

test('renew all says what it cannot renew because it is not there to renew, and does not exit 0; renew NAME gives the reason', async () => {
  const root = brokenTree();
  const before = snapshotTree(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(r.code, 1, r.err + r.out);
  const notRenewed = r.out.slice(r.out.indexOf('Not renewed:'));
  for (const name of BROKEN) assert.match(notRenewed, new RegExp(`^  ${name.replace('.', '\\.')}: .*/etc/kubernetes/\\S+.*(; restore it from a backup.*|\\(see above\\))$`, 'm'), name);
  assert.equal(notRenewed.split(`or move it aside and re-create it with \`kubepki rebuild --root ${root}\``).length, 2, 'the advice once, for this tree');
  assert.deepEqual(snapshotTree(root), before, 'a dry run writes nothing');

  const one = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(one.code, 3);
  assert.match(one.err, /^kubepki: failed to renew apiserver: \/etc\/kubernetes\/pki\/apiserver\.crt: PEM block 1 \(CERTIFICATE\) has no END line/);
  assert.match(one.err, /hint: restore it from a backup/);
  assert.deepEqual(snapshotTree(root), before, 'a refused renew writes nothing');
});

test('a certificate only a static pod manifest names (external etcd client in /etc/etcd/pki) is found, attributed and renewed', async () => {
  const root = copyFixture('kubeadm-1.26');
  const ext = path.join(root, 'etc/etcd/pki');
  fs.mkdirSync(ext, { recursive: true });
  for (const f of ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']) fs.renameSync(path.join(root, PKI, f), path.join(ext, f));
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
  const text = fs.readFileSync(manifest, 'utf8');
  assert.match(text, /--etcd-certfile=\/etc\/kubernetes\/pki\/apiserver-etcd-client\.crt/);
  fs.writeFileSync(manifest, text.replaceAll('/etc/kubernetes/pki/apiserver-etcd-client.', '/etc/etcd/pki/apiserver-etcd-client.'));

  const r = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const inv = JSON.parse(r.out);
  const c = inv.certificates.find((e: { location: { file: string } }) => e.location.file === '/etc/etcd/pki/apiserver-etcd-client.crt');
  assert.ok(c, `found: ${inv.certificates.map((e: { location: { file: string } }) => e.location.file).join(', ')}`);
  assert.equal(c.name, 'apiserver-etcd-client');
  assert.equal(c.signerName, 'etcd-ca');
  assert.deepEqual(c.components, ['kube-apiserver']);
  assert.equal(c.privateKey.matches, true);
  const serial = openssl(['x509', '-noout', '-serial'], fs.readFileSync(path.join(ext, 'apiserver-etcd-client.crt'))).stdout.trim().replace(/^serial=/, '');
  assert.equal(c.serial.replace(/:/g, '').toUpperCase(), serial.toUpperCase());
  assert.ok(!inv.missing.some((m: { name: string }) => m.name === 'apiserver-etcd-client'), 'not missing: the manifest says where it is');

  const renew = await cli(['renew', 'all', '--root', root, '--now', '2027-11-01']);
  assert.equal(renew.code, 0, renew.err + renew.out);
  assert.match(renew.out, /\/etc\/etcd\/pki\/apiserver-etcd-client\.crt/);
  const v = openssl(['verify', '-attime', String(Date.parse('2027-11-02') / 1000), '-CAfile', path.join(root, PKI, 'etcd/ca.crt'), path.join(ext, 'apiserver-etcd-client.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('check on a node that lost its CA says to bring the CA back first, not "renew all" (which cannot sign without it)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  for (const f of ['ca.crt', 'ca.key']) fs.rmSync(path.join(root, PKI, f));
  const r = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(r.code, 2);
  assert.match(r.out, /^Next: bring back \/etc\/kubernetes\/pki\/ca\.crt and their keys from a backup \(kubepki backups --root \S+ --now \S+\) or another control-plane node \(kubepki ca export \/ ca import\); with no copy left, kubepki rebuild --root \S+ --now \S+ --new-ca --dry-run$/m);
});

test('check: the kubelet client certificate kubelet.conf names is gone (dangling -current link, or no file) is a !MISSING! kubelet-client row with the fix, exit 2; not when kubelet.conf does not name it', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const link = path.join(pki, 'kubelet-client-current.pem');
  const dated = fs.readlinkSync(link);
  assert.match(dated, /^\/var\/lib\/kubelet\/pki\/kubelet-client-2026-[\d-]+\.pem$/);
  fs.rmSync(path.join(root, dated)); // the kubelet's dated file deleted, the link left dangling
  const r = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.out, /^!MISSING! kubelet-client\s+MISSING\s+\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.match(r.out, /, 1 missing \(now/);
  assert.match(r.out, /^Next: kubepki kubelet credentials --node cp-1 --root \S+ /m, 'not rebuild, which refuses such a kubelet.conf');
  const errors = r.out.split('\n').filter((l) => /^\s+ERROR /.test(l));
  assert.equal(errors.length, 1, `one error, with the fix:\n${errors.join('\n')}`);
  const inv = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out);
  const m = inv.missing.find((x: { name: string }) => x.name === 'kubelet-client');
  assert.ok(m, JSON.stringify(inv.missing));
  assert.deepEqual({ file: m.file, layout: m.layout, state: m.state }, { file: '/var/lib/kubelet/pki/kubelet-client-current.pem', layout: 'kubelet', state: 'missing' });
  assert.ok(m.reason.includes(`dangling symlink to ${dated}`), m.reason);
  assert.ok(m.reason.endsWith(`the kubelet cannot start; kubepki kubelet credentials --node cp-1 --root ${root} (signed by the cluster CA here), then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${root}`), m.reason);
  // renew cannot bring it back, and says what does
  const renew = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW]);
  assert.equal(renew.code, 3);
  assert.match(renew.err, /hint: kubepki kubelet credentials --node cp-1/);
  // the advice works: a client certificate signed by the cluster CA, and the row gone
  const fix = await cli(['kubelet', 'credentials', '--node', 'cp-1', '--root', root, '--now', NOW]);
  assert.equal(fix.code, 0, fix.err);
  const v = openssl(['verify', '-attime', String(Date.parse(NOW) / 1000 + 3600), '-CAfile', path.join(root, PKI, 'ca.crt'), path.join(root, fs.readlinkSync(link))]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const after = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.equal(after.code, 0, after.out);
  assert.deepEqual(JSON.parse(after.out).missing, []);

  // no file at all where kubelet.conf points
  const conf = path.join(root, 'etc/kubernetes/kubelet.conf');
  const confText = fs.readFileSync(conf, 'utf8');
  fs.writeFileSync(conf, confText.replace('client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem', 'client-certificate: /var/lib/kubelet/pki/gone.pem'));
  const absent = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(absent.code, 2);
  assert.match(absent.out, /^!MISSING! kubelet-client\s+MISSING\s+\/var\/lib\/kubelet\/pki\/gone\.pem$/m);
  assert.match(absent.out, /ERROR\s+missing-file\s+kubelet-client: \/var\/lib\/kubelet\/pki\/gone\.pem, the client certificate \/etc\/kubernetes\/kubelet\.conf names, does not exist: the kubelet cannot start; kubepki kubelet credentials --node cp-1/);

  // a dangling -current link that kubelet.conf does not name (it embeds its certificate) is no kubelet-client row
  const admin = fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8');
  fs.writeFileSync(conf, admin);
  fs.rmSync(path.join(root, fs.readlinkSync(link)));
  const other = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out);
  assert.ok(!other.missing.some((x: { name: string }) => x.name === 'kubelet-client'), JSON.stringify(other.missing));
});

test('check: a copy of the kubelet\'s client pair elsewhere on the node (one entry holds both places) is no !INVALID! kubelet-client row: the kubelet has its certificate', async () => {
  const root = copyFixture('kubeadm-1.26');
  const dated = fs.readlinkSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  fs.copyFileSync(path.join(root, dated), path.join(root, PKI, 'kubelet-client-copy.pem'));
  fs.chmodSync(path.join(root, PKI, 'kubelet-client-copy.pem'), 0o600);
  const r = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.equal(r.code, 0, r.out + r.err);
  const inv = JSON.parse(r.out);
  assert.deepEqual(inv.missing, []);
  assert.deepEqual(inv.findings.filter((f: { severity: string }) => f.severity === 'error'), []);
  const text = await cli(['check', '--root', root, '--now', NOW]);
  assert.doesNotMatch(text.out, /!INVALID!|!MISSING!|kubelet cannot start/);
});

test('inspect kubelet.conf whose client certificate is gone gives the fix check gives: with the cluster CA\'s key on this node, sign here (not "on a control-plane node"); without it, there', async () => {
  const root = copyFixture('kubeadm-1.26');
  const link = path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
  fs.rmSync(path.join(root, fs.readlinkSync(link)));
  const inspect = async () => {
    const r = await cli(['inspect', '/etc/kubernetes/kubelet.conf', '--root', root, '--now', NOW]);
    assert.equal(r.code, 2, r.out + r.err);
    return r.out.split('\n').find((l) => /^ERROR: kubelet-client: /.test(l))!;
  };
  const check = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out).missing[0].reason as string;
  const here = await inspect();
  assert.ok(here.endsWith(check), `inspect: ${here}\ncheck: ${check}`);
  assert.ok(here.includes(`kubepki kubelet credentials --node cp-1 --root ${root} (signed by the cluster CA here), then systemctl restart kubelet`), here);
  assert.doesNotMatch(here, /on a control-plane node/);
  // a worker: the CA certificate only
  fs.rmSync(path.join(root, PKI, 'ca.key'));
  assert.match(await inspect(), /on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR/);
});
