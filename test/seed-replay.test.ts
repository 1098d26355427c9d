/**
 * Replays of seeds 000 (a Rancher node renewed with openssl: per-certificate sections, keys kept, 100 years,
 * backdated a year) and 004 (10-year certificates, kubelet client and serving rotation, serverTLSBootstrap):
 * each test is named after what went wrong on such a node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeCa, makeLeaf, put } from './support/trees.js';
import { copyFixture, cli, sh, tmp } from './renew-support.js';
import { renewRke1LikeSeed000, makeSeed004Tree } from './seed-support.js';

const pubOf = (args: string[]) => sh('openssl', args).stdout;

test('renew --new-key keeps the ServiceAccount token key (RKE1 kube-service-account-token, the hard way\'s service-accounts): a new one invalidated every token in the cluster, without a word', async () => {
  // seed 000's Rancher node, renewed by hand the seed's way
  const now = new Date('2026-12-06T18:00:00Z');
  const rke = copyFixture('rke1-expired');
  renewRke1LikeSeed000(rke, now);
  const ssl = path.join(rke, 'etc/kubernetes/ssl');
  const saKey = path.join(ssl, 'kube-service-account-token-key.pem');
  const saKeyBefore = fs.readFileSync(saKey, 'utf8');
  const nodeKeyBefore = fs.readFileSync(path.join(ssl, 'kube-node-key.pem'), 'utf8');
  const r = await cli(['renew', 'all', '--root', rke, '--now', now.toISOString(), '--new-key']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /kube-service-account-token +\/etc\/kubernetes\/ssl\/kube-service-account-token\.pem\n.*key kept.*\n.*keeps its key: it is the ServiceAccount token key \(kube-apiserver, kube-controller-manager sign and verify every token with it\): a new key would invalidate every ServiceAccount token/);
  assert.doesNotMatch(r.out, /write +\/etc\/kubernetes\/ssl\/kube-service-account-token-key\.pem/);
  assert.equal(fs.readFileSync(saKey, 'utf8'), saKeyBefore, 'the ServiceAccount signing key is the same file');
  assert.notEqual(fs.readFileSync(path.join(ssl, 'kube-node-key.pem'), 'utf8'), nodeKeyBefore, 'other certificates do get a new key');
  // the renewed certificate is still the pair of that key, and verifies (openssl)
  const sa = path.join(ssl, 'kube-service-account-token.pem');
  assert.equal(pubOf(['x509', '-in', sa, '-noout', '-pubkey']), pubOf(['pkey', '-in', saKey, '-pubout']));
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(ssl, 'kube-ca.pem'), sa]).status, 0);

  // Kubernetes the Hard Way: service-accounts.crt/.key, named by the units' SA flags
  const hw = tmp('kubepki-hardway-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('CA', issued, 3653, 'rsa-2048');
  const saPair = await makeLeaf(ca, 'service-accounts', { eku: ['clientAuth'], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const lib = '/var/lib/kubernetes';
  put(hw, `${lib}/ca.crt`, ca.pem); put(hw, `${lib}/ca.key`, ca.keyPem, 0o600);
  put(hw, `${lib}/service-accounts.crt`, saPair.pem); put(hw, `${lib}/service-accounts.key`, saPair.keyPem, 0o600);
  put(hw, '/etc/systemd/system/kube-apiserver.service', `[Service]\nExecStart=/usr/local/bin/kube-apiserver \\\n  --client-ca-file=${lib}/ca.crt \\\n  --service-account-key-file=${lib}/service-accounts.crt \\\n  --service-account-signing-key-file=${lib}/service-accounts.key\n`);
  put(hw, '/etc/systemd/system/kube-controller-manager.service', `[Service]\nExecStart=/usr/local/bin/kube-controller-manager --service-account-private-key-file=${lib}/service-accounts.key\n`);
  const hr = await cli(['renew', 'all', '--root', hw, '--now', now.toISOString(), '--new-key']);
  assert.equal(hr.code, 0, hr.out + hr.err);
  assert.match(hr.out, /keeps its key: it is the ServiceAccount token key \(kube-apiserver, kube-controller-manager/);
  assert.equal(fs.readFileSync(path.join(hw, lib, 'service-accounts.key'), 'utf8'), saPair.keyPem);
  assert.equal(pubOf(['x509', '-in', path.join(hw, lib, 'service-accounts.crt'), '-noout', '-pubkey']), pubOf(['pkey', '-in', path.join(hw, lib, 'service-accounts.key'), '-pubout']));
});

test('serverTLSBootstrap: the self-signed kubelet.crt left from before is no row; its expiry made check exit 2 with two ERRORs and "renew all" re-made a file the kubelet never reads', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  // the tree is what the seed describes (openssl): the serving pair the KCM signed verifies, and is cert + key
  const serving = fs.readFileSync(path.join(kpki, 'kubelet-server-2026-09-01-03-00-05.pem'), 'utf8');
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt')], serving).status, 0);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey'], serving).stdout, sh('openssl', ['pkey', '-pubout'], serving).stdout);
  // a year on, the leftover self-signed pair (2026-11-22 + 1 year) has expired; nothing the kubelet uses has
  const later = '2028-01-01T00:00:00Z';
  const r = await cli(['check', '--root', root, '--now', later]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /^kubelet-serving|EXPIRED|ERROR/m);
  assert.match(r.out, /^kubelet-server +Dec 04, 2035 12:00 UTC .* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem$/m);
  assert.match(r.out, /INFO +kubelet-serving-unused +\/var\/lib\/kubelet\/pki\/kubelet\.crt \(with kubelet\.key\) is the kubelet's self-signed serving pair from before serverTLSBootstrap: the kubelet now serves \/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem and never reads it/);
  const plan = await cli(['renew', 'all', '--root', root, '--now', later, '--dry-run']);
  assert.equal(plan.code, 0, plan.out + plan.err);
  assert.doesNotMatch(plan.out, /kubelet\.crt/);
  // without serverTLSBootstrap the same file is what the kubelet serves: its expiry is worth a warning (kube-apiserver does
  // not verify it by default, so nothing of Kubernetes' own breaks: exit 1, not 2), one finding for the file
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('serverTLSBootstrap: true', 'serverTLSBootstrap: false'));
  const off = await cli(['check', '--root', root, '--now', later]);
  assert.equal(off.code, 1, off.out);
  assert.match(off.out, /WARNING +expired +kubelet-serving expired on 2027-11-22 .*never renews; kube-apiserver does not check it by default.*kubepki renew kubelet-serving/);
  assert.match(off.out, /INFO +expired +kubelet-serving-ca expired on 2027-11-22 .*throwaway CA/);
  assert.doesNotMatch(off.out, /ERROR/);
  assert.doesNotMatch(off.out, /kubelet-serving-unused/);
});

test('a kubelet stopped in the middle of its swap (-updated.pem, no -current.pem): the kubelet finishes it when it starts, so the advice is a restart, not new credentials or a rejoin; the rotated history is not listed as three kubelet-client rows', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  const now = '2026-12-06T18:00:00Z';
  // client-go's updateSymlink: -updated made, -current removed, and the kubelet stopped before the rename
  fs.renameSync(path.join(kpki, 'kubelet-client-current.pem'), path.join(kpki, 'kubelet-client-updated.pem'));
  const r = await cli(['check', '--root', root, '--now', now]);
  assert.equal(r.code, 2, r.out);
  const rows = r.out.split('\n').filter((l) => /^kubelet-client /.test(l));
  assert.deepEqual(rows.map((l) => l.split(/ +/).pop()), ['/var/lib/kubelet/pki/kubelet-client-updated.pem'], 'one kubelet-client row: what -updated leads to');
  const restart = 'a rotation was cut short between its two renames: /var/lib/kubelet/pki/kubelet-client-updated.pem → /var/lib/kubelet/pki/kubelet-client-2026-09-01-03-00-00.pem holds the new pair, and the kubelet renames it to kubelet-client-current.pem when it starts: systemctl restart kubelet (or by hand: mv -T /var/lib/kubelet/pki/kubelet-client-updated.pem /var/lib/kubelet/pki/kubelet-client-current.pem)';
  assert.ok(r.out.includes(`ERROR   missing-file               kubelet-client: /var/lib/kubelet/pki/kubelet-client-current.pem, the client certificate /etc/kubernetes/kubelet.conf names, does not exist: ${restart}\n`), r.out);
  assert.ok(r.out.includes(`Next: ${restart}\n`), r.out);
  assert.doesNotMatch(r.out, /kubelet credentials|cannot start|rejoin/);
  // renew all renews the pair -updated leads to and makes -current again: nothing is "Not renewed"
  const run = await cli(['renew', 'all', '--root', root, '--now', now, '--validity', '10y']);
  assert.equal(run.code, 0, run.out + run.err);
  assert.doesNotMatch(run.out, /Not renewed/);
  assert.equal(fs.readlinkSync(path.join(kpki, 'kubelet-client-current.pem')), '/var/lib/kubelet/pki/kubelet-client-2026-12-06-18-00-00.pem');
  const pair = fs.readFileSync(path.join(kpki, 'kubelet-client-2026-12-06-18-00-00.pem'), 'utf8');
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt')], pair).status, 0);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey'], pair).stdout, sh('openssl', ['pkey', '-pubout'], pair).stdout);
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.doesNotMatch(after.out, /MISSING|missing-file/);

  // the serving pair's swap: nothing waits for approval
  fs.renameSync(path.join(kpki, 'kubelet-server-current.pem'), path.join(kpki, 'kubelet-server-updated.pem'));
  const s = await cli(['check', '--root', root, '--now', now]);
  assert.match(s.out, /WARNING kubelet-serving-pending +there is no \/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem, but \/var\/lib\/kubelet\/pki\/kubelet-server-updated\.pem leads to a serving pair: a rotation was cut short between its two renames, and the kubelet renames it to kubelet-server-current\.pem when it starts: systemctl restart kubelet/);
  assert.doesNotMatch(s.out, /csr approve/);
  assert.equal(s.out.split('\n').filter((l) => /^kubelet-server /.test(l)).length, 1, s.out);
});

test('a kubelet-client-current.pem copied as a regular file: the kubelet can never rotate it again (client-go refuses), which check did not say; renew rewrote it as a regular file. It is now a warning, and renew makes it the link to a dated file; restore puts the file back', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  const current = path.join(kpki, 'kubelet-client-current.pem');
  // `cp -L`, a backup tool or a config manager copied the pair without its link
  const pair = fs.readFileSync(path.join(kpki, 'kubelet-client-2026-09-01-03-00-00.pem'));
  fs.rmSync(current);
  fs.writeFileSync(current, pair, { mode: 0o600 });
  const now = '2026-12-06T18:00:00Z';
  const r = await cli(['check', '--root', root, '--now', now]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^kubelet-client +Dec 04, 2035 12:00 UTC .* warning +manual +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.match(r.out, /WARNING kubelet-rotation-off +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem is a regular file, not the symlink the kubelet's certificate store swaps: the kubelet cannot rotate kubelet-client \("expected \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem to be a symlink but it is a file"\), so on 2035-12-04 the node goes NotReady; make it a link to a dated file \(kubepki renew kubelet-client --root \S+ does that/);
  // the serving pair the same way: a warning, with the commands that make it a link
  const serving = path.join(kpki, 'kubelet-server-current.pem');
  const spair = fs.readFileSync(path.join(kpki, 'kubelet-server-2026-09-01-03-00-05.pem'));
  fs.rmSync(serving);
  fs.writeFileSync(serving, spair, { mode: 0o600 });
  assert.match((await cli(['check', '--root', root, '--now', now])).out, /WARNING kubelet-rotation-off +\/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem is a regular file[^\n]*its serving certificate expires; make it a link to a dated file \(kubepki renew kubelet-server --root \S+ does that with a renewed pair; or by hand: mv \/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem \/var\/lib\/kubelet\/pki\/kubelet-server-2026-09-01-02-55-05\.pem && ln -s /);
  fs.rmSync(serving);
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-server-2026-09-01-03-00-05.pem', serving);

  const run = await cli(['renew', 'kubelet-client', '--root', root, '--now', now, '--validity', '10y']);
  assert.equal(run.code, 0, run.out + run.err);
  assert.match(run.out, /link +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem → \/var\/lib\/kubelet\/pki\/kubelet-client-2026-12-06-18-00-00\.pem/);
  assert.ok(fs.lstatSync(current).isSymbolicLink());
  assert.equal(fs.readlinkSync(current), '/var/lib/kubelet/pki/kubelet-client-2026-12-06-18-00-00.pem');
  const dated = fs.readFileSync(path.join(kpki, 'kubelet-client-2026-12-06-18-00-00.pem'), 'utf8');
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt')], dated).status, 0);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey'], dated).stdout, sh('openssl', ['pkey', '-pubout'], pair.toString()).stdout, 'the key is kept');
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', now])).out, /kubelet-rotation-off/);
  // restore: the regular file as it was, the dated file gone
  const backup = /Backup: (\S+)/.exec(run.out)![1]!;
  const back = await cli(['restore', backup, '--root', root, '--now', '2026-12-06T19:00:00Z']);
  assert.equal(back.code, 0, back.out + back.err);
  assert.ok(fs.lstatSync(current).isFile());
  assert.ok(fs.readFileSync(current).equals(pair));
  assert.ok(!fs.existsSync(path.join(kpki, 'kubelet-client-2026-12-06-18-00-00.pem')));
});

test('seed 000\'s 100-year leaves under 10-year CAs: Next said "renew all", which renews them for 100 years again and leaves every warning; it now says to renew the CAs (same key) long enough, and that command clears them', async () => {
  const now = new Date('2026-12-06T18:00:00Z');
  const root = copyFixture('rke1-expired');
  renewRke1LikeSeed000(root, now);
  // the workstation kubeconfig too, the same way (with kubepki)
  const kc = await cli(['renew', 'kube_config_cluster.yml', '--root', root, '--now', now.toISOString(), '--validity', '36500d', '--backdate', '365d']);
  assert.equal(kc.code, 0, kc.out + kc.err);
  const ssl = path.join(root, 'etc/kubernetes/ssl');
  // openssl agrees: in 2040 the leaves no longer verify (their CA has ended)
  const in2040 = String(Date.parse('2040-01-01T00:00:00Z') / 1000);
  assert.notEqual(sh('openssl', ['verify', '-attime', in2040, '-CAfile', path.join(ssl, 'kube-ca.pem'), path.join(ssl, 'kube-apiserver.pem')]).status, 0);
  const r = await cli(['check', '--root', root, '--now', now.toISOString()]);
  assert.equal(r.code, 1, r.out);
  const next = /^Next: (.*)$/m.exec(r.out)?.[1] ?? '';
  assert.match(next, /^11 certificates outlive their CAs \(kube-apiserver-requestheader-ca, kube-ca\): renewing them would keep their lifetime, so make the CAs last longer instead, keeping their keys \(everything signed stays valid\): kubepki renew kube-apiserver-requestheader-ca kube-ca --root \S+ --now \S+ --validity 100y --dry-run \(they end on 2126-11-12\), then without --dry-run$/);
  assert.doesNotMatch(next, /renew all/);
  const cmd = /(kubepki renew .*?) --dry-run/.exec(next)![1]!.split(' ').slice(1);
  // (run as printed: it carries check's --now)
  const ren = await cli(cmd);
  assert.equal(ren.code, 0, ren.out + ren.err);
  const after = await cli(['check', '--root', root, '--now', now.toISOString()]);
  assert.equal(after.code, 0, after.out);
  assert.doesNotMatch(after.out, /ca-expires-before-leaf|^Next:/m);
  for (const [leaf, ca] of [['kube-apiserver', 'kube-ca'], ['kube-node', 'kube-ca'], ['kube-apiserver-proxy-client', 'kube-apiserver-requestheader-ca']]) {
    assert.equal(sh('openssl', ['verify', '-attime', in2040, '-CAfile', path.join(ssl, `${ca}.pem`), path.join(ssl, `${leaf}.pem`)]).status, 0, `${leaf} verifies in 2040`);
  }
});

test('inspect of the kubelet\'s rotated pairs (and apiserver-etcd-client.crt) under --root names their CA: it said the issuer "is not on this node" because the CA is not beside them', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const now = '2026-12-06T18:00:00Z';
  for (const [file, ca] of [['/var/lib/kubelet/pki/kubelet-server-current.pem', 'ca'], ['/var/lib/kubelet/pki/kubelet-client-current.pem', 'ca'], ['/etc/kubernetes/pki/apiserver-etcd-client.crt', 'etcd-ca']] as const) {
    const r = await cli(['inspect', file, '--root', root, '--now', now]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, new RegExp(`^Certificate 1 of 1 \\(${file.replace(/[/.]/g, '\\$&')}\\)$`, 'm'), 'only the file is shown');
    assert.match(r.out, new RegExp(`Signed by: +${ca} \\(signature verified\\)`), r.out);
    assert.doesNotMatch(r.out, /not on this node|no CA found/);
  }
  // openssl says the same of the serving pair
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt'), path.join(root, 'var/lib/kubelet/pki/kubelet-server-2026-09-01-03-00-05.pem')]).status, 0);
});

test('an RKE1 worker\'s 100-year leaves under a CA whose key is on the control plane: Next said to renew them where the CA is, which changes nothing; it says to renew the CA there and copy it here', async () => {
  const now = new Date('2026-12-06T18:00:00Z');
  const root = copyFixture('rke1-expired');
  renewRke1LikeSeed000(root, now);
  // a worker: kube-ca.pem without its key, the kubelet's and kube-proxy's pairs
  const ssl = path.join(root, 'etc/kubernetes/ssl');
  for (const f of fs.readdirSync(ssl)) if (!/^kube-(ca|node|proxy)(-key)?\.pem$|^kubecfg-kube-(node|proxy)\.yaml$/.test(f) || f === 'kube-ca-key.pem') fs.rmSync(path.join(ssl, f));
  fs.rmSync(path.join(root, 'home'), { recursive: true });
  const r = await cli(['check', '--root', root, '--now', now.toISOString()]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^Next: 2 certificates outlive their CA \(kube-ca\): renewing them would keep their lifetime, so make the CA last longer instead, keeping its key \(everything signed stays valid\), where its key is \(not on this node\): kubepki renew kube-ca --validity 99y there \(they end on 2125-11-12\), then copy \/etc\/kubernetes\/ssl\/kube-ca\.pem here$/m);
});

test('the kubelet\'s rotation turned off on a healthy 10-year node: Next said "renew all" (every certificate re-issued, the control plane restarted) for a setting renew does not change', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('rotateCertificates: true', 'rotateCertificates: false'));
  const r = await cli(['check', '--root', root, '--now', '2026-12-06T18:00:00Z']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /WARNING kubelet-rotation-off +the kubelet does not renew kubelet-client \(rotateCertificates: false in \/var\/lib\/kubelet\/config\.yaml\)/);
  assert.match(r.out, /^Next: do what the WARNING kubelet-rotation-off under FINDINGS says \(no certificate needs renewing now\); then kubepki check --root \S+ --now \S+ again$/m);
  // once it is due, renewing is the step again
  const late = await cli(['check', '--root', root, '--now', '2035-11-20T00:00:00Z']);
  assert.match(late.out, /^Next: kubepki renew all /m);
});

test('restore after the kubelet rotated its pair again says so: it silently pointed kubelet-client-current.pem back at the older pair (after seed 000\'s kind of renewal, an expired one) and put back files changed since', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  const run = await cli(['renew', 'kubelet-client', 'apiserver', '--root', root, '--now', '2026-12-06T18:00:00Z']);
  assert.equal(run.code, 0, run.out + run.err);
  const backup = /Backup: (\S+)/.exec(run.out)![1]!;
  const fresh = await cli(['restore', backup, '--root', root, '--now', '2026-12-06T18:05:00Z', '--dry-run']);
  assert.doesNotMatch(fresh.out, /Changed since/, 'right after the run nothing else changed');
  // months later the kubelet rotated (client-go: a new dated file, -current swapped), and apiserver.crt was renewed again
  fs.copyFileSync(path.join(kpki, 'kubelet-client-2026-12-06-18-00-00.pem'), path.join(kpki, 'kubelet-client-2027-09-01-00-00-00.pem'));
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2027-09-01-00-00-00.pem', path.join(kpki, 'kubelet-client-updated.pem'));
  fs.renameSync(path.join(kpki, 'kubelet-client-updated.pem'), path.join(kpki, 'kubelet-client-current.pem'));
  fs.appendFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '\n');
  // (without --overwrite the real restore names them and writes nothing: restore-changed.test.ts)
  for (const extra of [['--dry-run'], ['--overwrite']]) {
    const r = await cli(['restore', backup, '--root', root, '--now', '2027-09-02T00:00:00Z', ...extra]);
    // (the dry run exits as the run without --overwrite would: refused, exit 3)
    assert.equal(r.code, extra[0] === '--dry-run' ? 3 : 0, r.out + r.err);
    assert.match(r.out, /Changed since that run \(by something else\); restoring puts the state from before the run back over it:\n(  .*\n){2}/);
    assert.match(r.out, /  \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem: the run left a link to \/var\/lib\/kubelet\/pki\/kubelet-client-2026-12-06-18-00-00\.pem, now a link to \/var\/lib\/kubelet\/pki\/kubelet-client-2027-09-01-00-00-00\.pem \(the kubelet rotated its pair since: restoring points it back at the older one\)\n/);
    assert.match(r.out, /  \/etc\/kubernetes\/pki\/apiserver\.crt: the run left what it wrote, now other content\n/);
  }
});

test('a kubeadm built for 10-year certificates (seed 004): renew gave its leaves 1 year ("kubeadm\'s", since their notBefore is the CA\'s); a whole number of years from the CA\'s start is their own lifetime', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const now = '2026-12-06T18:00:00Z';
  const r = await cli(['renew', 'apiserver', 'admin.conf', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /validity 1 year \(kubeadm's\)/);
  // 3650 days and the 20 s the leaves were signed after their CA, from now (openssl reads the same)
  for (const end of [sh('openssl', ['x509', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '-noout', '-enddate']).stdout.trim(),
    sh('openssl', ['x509', '-noout', '-enddate'], Buffer.from(/client-certificate-data: (\S+)/.exec(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'))![1]!, 'base64').toString()).stdout.trim()]) {
    assert.equal(end, 'notAfter=Dec  3 18:00:20 2036 GMT');
  }
  // the CA ends before them, which the plan says (as kubeadm would make them outlive it too)
  assert.match(r.out, /apiserver would outlive its CA ca .*renew the CA too or pass a shorter --validity/);
  // a stock kubeadm (≤1.30) renewal two years on: notBefore the CA's, notAfter a year after that renewal: still 1 year
  const stock = copyFixture('kubeadm-1.26');
  const caStart = Date.parse(sh('openssl', ['x509', '-in', path.join(stock, 'etc/kubernetes/pki/ca.crt'), '-noout', '-startdate']).stdout.trim().slice('notBefore='.length));
  const renewedAt = '2028-11-22T10:00:00Z';
  assert.equal((await cli(['renew', 'apiserver', '--root', stock, '--now', renewedAt, '--backdate', `${(Date.parse(renewedAt) - caStart) / 1000}s`, '--validity', '365d'])).code, 0);
  assert.equal(Date.parse(sh('openssl', ['x509', '-in', path.join(stock, 'etc/kubernetes/pki/apiserver.crt'), '-noout', '-startdate']).stdout.trim().slice('notBefore='.length)), caStart);
  const again = await cli(['renew', 'apiserver', '--root', stock, '--now', '2029-11-01T00:00:00Z', '--dry-run']);
  assert.match(again.out, /validity 1 year \(kubeadm's\): its notBefore is its CA's/);
});

test('RKE1 restarts: the kubelet serves kube-kubelet-<ip> (generate_serving_certificate) and kube-apiserver reaches etcd with kube-node; renewing either named no restart for them, so the old certificate stayed in use', async () => {
  const now = '2026-11-23T00:00:00Z';
  const root = copyFixture('rke1-expired');
  const ssl = path.join(root, 'etc/kubernetes/ssl');
  // the per-node serving pair RKE makes with kube-ca (openssl, as seed 000 does)
  const key = path.join(ssl, 'kube-kubelet-10-0-0-109-key.pem');
  sh('openssl', ['genrsa', '-out', key, '2048']);
  const csr = sh('openssl', ['req', '-new', '-key', key, '-subj', '/CN=kube-kubelet-10-0-0-109']).stdout;
  const ext = path.join(root, 'kubelet.ext');
  fs.writeFileSync(ext, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:ec2-us-east-1-1a-c1-master-1,IP:10.0.0.109\n');
  const signed = sh('openssl', ['x509', '-req', '-CA', path.join(ssl, 'kube-ca.pem'), '-CAkey', path.join(ssl, 'kube-ca-key.pem'), '-set_serial', '99', '-days', '365', '-extfile', ext], csr);
  assert.equal(signed.status, 0, signed.stderr);
  fs.writeFileSync(path.join(ssl, 'kube-kubelet-10-0-0-109.pem'), signed.stdout);
  const restarts = async (names: string[]) => {
    const planFile = path.join(root, 'plan.json');
    const r = await cli(['renew', ...names, '--root', root, '--now', now, '--dry-run', '--plan-out', planFile]);
    assert.equal(r.code, 0, r.out + r.err);
    return Object.fromEntries((JSON.parse(fs.readFileSync(planFile, 'utf8')) as { restarts: { component: string; command: string }[] }).restarts.map((x) => [x.component, x.command]));
  };
  assert.deepEqual(await restarts(['kube-kubelet-10-0-0-109']), { kubelet: 'docker restart kubelet' });
  assert.deepEqual(await restarts(['kube-node']), { 'kube-apiserver': 'docker restart kube-apiserver', kubelet: 'docker restart kubelet' });
  // a worker runs no kube-apiserver: only its kubelet
  for (const f of fs.readdirSync(ssl)) if (/^kube-apiserver/.test(f)) fs.rmSync(path.join(ssl, f));
  assert.deepEqual(await restarts(['kube-node']), { kubelet: 'docker restart kubelet' });
});

test('renew of the kubelet\'s serving pair rewrote the dated file behind kubelet-server-current.pem in place, where the kubelet\'s store (and renew of the client pair) writes a new dated file and swaps the link; restore undid it only by rewriting the file', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  const current = path.join(kpki, 'kubelet-server-current.pem');
  const oldName = '/var/lib/kubelet/pki/kubelet-server-2026-09-01-03-00-05.pem';
  const oldFile = path.join(kpki, 'kubelet-server-2026-09-01-03-00-05.pem');
  const oldBytes = fs.readFileSync(oldFile);
  const fresh = path.join(kpki, 'kubelet-server-2026-12-06-18-00-00.pem');
  const now = '2026-12-06T18:00:00Z';
  const run = await cli(['renew', 'kubelet-server', '--root', root, '--now', now, '--validity', '1y']);
  assert.equal(run.code, 0, run.out + run.err);
  assert.match(run.out, /new kubelet-server-2026-12-06-18-00-00\.pem; kubelet-server-current\.pem swapped to it \(old file kept\)/);
  assert.match(run.out, /link +\/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem → \/var\/lib\/kubelet\/pki\/kubelet-server-2026-12-06-18-00-00\.pem/);
  // the client-go file store's layout: a new dated file, 0600, cert then key; -current an absolute link to it
  assert.ok(fs.lstatSync(current).isSymbolicLink());
  assert.equal(fs.readlinkSync(current), '/var/lib/kubelet/pki/kubelet-server-2026-12-06-18-00-00.pem');
  assert.equal(fs.statSync(fresh).mode & 0o777, 0o600);
  assert.ok(fs.readFileSync(oldFile).equals(oldBytes), 'the old dated file is not rewritten');
  const pair = fs.readFileSync(fresh, 'utf8');
  assert.match(pair, /^-----BEGIN CERTIFICATE-----[^]*-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----/);
  assert.equal(sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt')], pair).status, 0);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey'], pair).stdout, sh('openssl', ['pkey', '-pubout'], oldBytes.toString()).stdout, 'the key is kept');
  assert.equal(sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject'], pair).stdout,
    sh('openssl', ['x509', '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject'], oldBytes.toString()).stdout, 'same names and usage');
  assert.equal(sh('openssl', ['x509', '-noout', '-enddate'], pair).stdout.trim(), 'notAfter=Dec  6 18:00:00 2027 GMT');
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.match(after.out, /^kubelet-server +Dec 06, 2027 18:00 UTC .* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-server-current\.pem$/m);
  // restore: the link back to the old file, the new file gone, the old one as it was
  const backup = /Backup: (\S+)/.exec(run.out)![1]!;
  const back = await cli(['restore', backup, '--root', root, '--now', '2026-12-06T19:00:00Z']);
  assert.equal(back.code, 0, back.out + back.err);
  assert.equal(fs.readlinkSync(current), oldName);
  assert.ok(!fs.existsSync(fresh));
  assert.ok(!fs.existsSync(path.join(kpki, 'kubelet-server-updated.pem')));
  assert.ok(fs.readFileSync(oldFile).equals(oldBytes));
  // a kubelet-server-current.pem copied as a regular file is made the link, as kubelet-client-current.pem is
  fs.rmSync(current);
  fs.writeFileSync(current, oldBytes, { mode: 0o600 });
  const copied = await cli(['renew', 'kubelet-server', '--root', root, '--now', now, '--validity', '1y']);
  assert.equal(copied.code, 0, copied.out + copied.err);
  assert.match(copied.out, /kubelet-server-current\.pem, a regular file the kubelet cannot rotate, made the link to it/);
  assert.equal(fs.readlinkSync(current), '/var/lib/kubelet/pki/kubelet-server-2026-12-06-18-00-00.pem');
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', now])).out, /kubelet-rotation-off/);
  const back2 = await cli(['restore', /Backup: (\S+)/.exec(copied.out)![1]!, '--root', root, '--now', '2026-12-06T19:00:00Z']);
  assert.equal(back2.code, 0, back2.out + back2.err);
  assert.ok(fs.lstatSync(current).isFile());
  assert.ok(fs.readFileSync(current).equals(oldBytes));
  assert.ok(!fs.existsSync(fresh));
});

test('an expired kubelet client certificate was RENEWED BY "kubelet", though the kubelet cannot renew it itself any more (it asks for the next one with it, and the API server refuses it); renew already said so. It is now "manual", and the finding says what gives it a new one', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const now = '2026-12-06T18:00:00Z';
  const row = /^kubelet-client +Oct 18, 2026 21:36 UTC +<invalid> +ca +(?:no|yes) +EXPIRED +(\S+) +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m;
  const why = 'kubelet-client expired on 2026-10-18 (48d ago; signed by ca): the kubelet can no longer renew it itself (it asks for the next one with this certificate, which the API server now refuses): ';
  // a control-plane node: the cluster CA's key is here, renew re-signs it
  const cp = await cli(['check', '--root', root, '--now', now]);
  assert.equal(row.exec(cp.out)?.[1], 'manual', cp.out);
  assert.ok(cp.out.includes(`ERROR   expired                    ${why}kubepki renew kubelet-client --root ${root}, then systemctl restart kubelet\n`), cp.out);
  const json = await cli(['check', '--root', root, '--now', now, '-o', 'json']);
  const entry = (JSON.parse(json.out) as { certificates: { name: string; managedBy: string; findings: { code: string; message: string }[] }[] }).certificates.find((c) => c.name === 'kubelet-client')!;
  assert.equal(entry.managedBy, 'manual');
  assert.ok(entry.findings.some((f) => f.code === 'expired' && f.message.startsWith(why)), JSON.stringify(entry.findings));
  // a worker (no CA key): what renew says there, word for word the same reason
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  const w = await cli(['check', '--root', root, '--now', now]);
  assert.equal(row.exec(w.out)?.[1], 'manual', w.out);
  assert.ok(w.out.includes(`${why}on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin with a bootstrap token`), w.out);
  // renew's advice there gives check's fix, word for word (it had a text of its own)
  const fixOf = (out: string) => new RegExp(`${why.replace(/[()]/g, '\\$&')}([^\n]+)\n`).exec(out)?.[1];
  const workerFix = fixOf(w.out)!;
  const r = await cli(['renew', 'kubelet-client', '--root', root, '--now', now, '--dry-run']);
  assert.ok(r.out.includes(`It expired on 2026-10-18T21:36:06Z, so the kubelet can no longer renew it itself: ${workerFix}`), r.out);
  // with a bootstrap kubeconfig the kubelet does get a new one itself, when restarted
  const ca = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt')).toString('base64');
  fs.writeFileSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'), `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${ca}\n    server: https://cluster-api.example.test:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: tls-bootstrap-token-user\n  name: tls-bootstrap-token-user@kubernetes\ncurrent-context: tls-bootstrap-token-user@kubernetes\nkind: Config\npreferences: {}\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: abcdef.0123456789abcdef\n`, { mode: 0o600 });
  const b = await cli(['check', '--root', root, '--now', now]);
  assert.ok(b.out.includes(`${why}/etc/kubernetes/bootstrap-kubelet.conf is here: systemctl restart kubelet and it bootstraps a new client certificate while that token is valid`), b.out);
  // and renew says so too, as check does: restarting the kubelet is the first step, not a control-plane node
  const bootstrapFix = fixOf(b.out)!;
  assert.match(bootstrapFix, /^\/etc\/kubernetes\/bootstrap-kubelet\.conf is here: systemctl restart kubelet and it bootstraps a new client certificate while that token is valid; once it has expired: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR/);
  const rb = await cli(['renew', 'kubelet-client', '--root', root, '--now', now, '--dry-run']);
  assert.ok(rb.out.includes(`It expired on 2026-10-18T21:36:06Z, so the kubelet can no longer renew it itself: ${bootstrapFix}`), rb.out);

  // valid, with rotation on: the kubelet's (and no such text)
  const fresh = copyFixture('kubeadm-1.26');
  const ok = await cli(['check', '--root', fresh, '--now', '2026-11-23T00:00:00Z']);
  assert.match(ok.out, /^kubelet-client +.* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.doesNotMatch(ok.out, /can no longer renew|cannot renew it itself/);
  // not valid yet (the node's clock behind the one it was signed by): the kubelet cannot ask with it either
  const early = await cli(['check', '--root', fresh, '--now', '2026-11-22T00:00:00Z']);
  assert.match(early.out, /^kubelet-client +.* NOT YET VALID +manual +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.match(early.out, /ERROR +not-yet-valid +kubelet-client is not valid until [^\n]*; until then the kubelet cannot renew it itself \(it asks for the next one with this certificate, which the API server refuses\)\n/);
});

test('a kubelet.conf that embeds its client certificate, on a node without the CA key: check said "the kubelet cannot rotate it" while renew said the kubelet renews it itself, nothing to do. The kubelet rotates into kubelet-client-current.pem and never rewrites the embedded copy, which stops the kubelet at its first start after it expires: both now say so, and the kubectl command they give (run with the real kubectl) clears the finding', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const now = '2026-12-06T18:00:00Z';
  const conf = path.join(root, 'etc/kubernetes/kubelet.conf');
  // kubeadm before 1.17 (or without kubelet-finalize): kubelet.conf embeds kubeadm's first pair; the kubelet has rotated twice since
  const pair = fs.readFileSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-2025-12-06-12-00-25.pem'), 'utf8');
  const cert = /-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----\n/.exec(pair)![0];
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[^]*?-----END [A-Z ]*PRIVATE KEY-----\n/.exec(pair)![0];
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8')
    .replace(/client-certificate: .*/, `client-certificate-data: ${b64(cert)}`).replace(/client-key: .*/, `client-key-data: ${b64(key)}`), { mode: 0o600 });
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  const truth = /\/etc\/kubernetes\/kubelet\.conf embeds the kubelet's client certificate \(user system:node:cp-1\), which the kubelet never rewrites: its rotation writes \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem, so when this copy expires \(2035-12-04\) the kubelet fails at its next start \("part of the existing bootstrap client certificate in \/etc\/kubernetes\/kubelet\.conf is expired", then it looks for bootstrap-kubelet\.conf\)/;
  const fix = 'point client-certificate/client-key at /var/lib/kubelet/pki/kubelet-client-current.pem, which the kubelet keeps renewed: kubectl config set-credentials system:node:cp-1 --client-certificate=/var/lib/kubelet/pki/kubelet-client-current.pem --client-key=/var/lib/kubelet/pki/kubelet-client-current.pem --kubeconfig /etc/kubernetes/kubelet.conf, then systemctl restart kubelet';
  const c = await cli(['check', '--root', root, '--now', now]);
  assert.match(c.out, new RegExp(`WARNING kubelet-conf-embedded-cert +${truth.source}; ${fix.replace(/[/.()]/g, '\\$&')}\\n`), c.out);
  assert.doesNotMatch(c.out, /cannot rotate it/);
  const r = await cli(['renew', 'kubelet.conf', '--root', root, '--now', now, '--dry-run']);
  const line = r.out.split('\n').find((l) => /^ {2}kubelet\.conf: /.test(l)) ?? '';
  assert.match(line, truth, r.out);
  assert.ok(line.includes(fix), line);
  assert.doesNotMatch(r.out, /renews this certificate itself|nothing to do here/);
  // the command, with the real kubectl, on the file under --root: no embedded data left, the finding gone
  const k = sh('kubectl', ['config', 'set-credentials', 'system:node:cp-1', '--client-certificate=/var/lib/kubelet/pki/kubelet-client-current.pem', '--client-key=/var/lib/kubelet/pki/kubelet-client-current.pem', '--kubeconfig', conf]);
  assert.equal(k.status, 0, k.stderr);
  assert.doesNotMatch(fs.readFileSync(conf, 'utf8'), /client-(certificate|key)-data/);
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.doesNotMatch(after.out, /kubelet-conf-embedded-cert/);
  assert.match(after.out, /^kubelet-client +.* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
});

test('a kubelet-server-current.pem (or kubelet-client-current.pem) pointing at a dated file in another directory: renew made a second -current link beside that file and left the one the kubelet reads on the old certificate, yet said it renewed and verified', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  fs.mkdirSync(path.join(kpki, 'moved'));
  for (const [pair, dated] of [['server', 'kubelet-server-2026-09-01-03-00-05.pem'], ['client', 'kubelet-client-2026-09-01-03-00-00.pem']] as const) {
    fs.renameSync(path.join(kpki, dated), path.join(kpki, 'moved', dated));
    fs.rmSync(path.join(kpki, `kubelet-${pair}-current.pem`));
    fs.symlinkSync(`/var/lib/kubelet/pki/moved/${dated}`, path.join(kpki, `kubelet-${pair}-current.pem`));
  }
  const now = '2026-12-06T18:00:00Z';
  const run = await cli(['renew', 'kubelet-server', 'kubelet-client', '--root', root, '--now', now, '--validity', '1y']);
  assert.equal(run.code, 0, run.out + run.err);
  for (const pair of ['server', 'client']) {
    // the link the kubelet reads (in its cert dir) now names the new pair, written beside it
    assert.equal(fs.readlinkSync(path.join(kpki, `kubelet-${pair}-current.pem`)), `/var/lib/kubelet/pki/kubelet-${pair}-2026-12-06-18-00-00.pem`);
    assert.equal(fs.statSync(path.join(kpki, `kubelet-${pair}-2026-12-06-18-00-00.pem`)).mode & 0o777, 0o600);
    assert.ok(!fs.existsSync(path.join(kpki, 'moved', `kubelet-${pair}-current.pem`)), 'no second -current link');
  }
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.match(after.out, /^kubelet-server +Dec 06, 2027 18:00 UTC /m);
  assert.match(after.out, /^kubelet-client +Dec 06, 2027 18:00 UTC /m);
  const back = await cli(['restore', /Backup: (\S+)/.exec(run.out)![1]!, '--root', root, '--now', '2026-12-06T19:00:00Z']);
  assert.equal(back.code, 0, back.out + back.err);
  assert.equal(fs.readlinkSync(path.join(kpki, 'kubelet-server-current.pem')), '/var/lib/kubelet/pki/moved/kubelet-server-2026-09-01-03-00-05.pem');
  assert.ok(!fs.existsSync(path.join(kpki, 'kubelet-server-2026-12-06-18-00-00.pem')));
});

test('a kubelet-server-current.pem (or kubelet-client-current.pem) linked to a dated file that is gone: renew said "failed to find certificate" and listed names, where check said the link dangles; it now says so too, with what makes the kubelet a new pair', async () => {
  const root = copyFixture('kubeadm-1.26');
  makeSeed004Tree(root);
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  const now = '2026-12-06T18:00:00Z';
  // the dated files deleted (a clean-up script, the kubelet's own pruning of a copied tree): the links dangle
  fs.rmSync(path.join(kpki, 'kubelet-server-2026-09-01-03-00-05.pem'));
  fs.rmSync(path.join(kpki, 'kubelet-client-2026-09-01-03-00-00.pem'));
  fs.writeFileSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'), fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf')));
  const check = await cli(['check', '--root', root, '--now', now]);
  const finding = (re: RegExp) => check.out.split('\n').find((l) => re.test(l))?.replace(/^ +ERROR +\S+ +/, '') ?? '';
  const server = await cli(['renew', 'kubelet-server', '--root', root, '--now', now]);
  assert.equal(server.code, 3, server.err);
  assert.equal(server.out, '');
  const [line, hint] = server.err.trimEnd().split('\n');
  assert.equal(line, 'kubepki: failed to renew kubelet-server: /var/lib/kubelet/pki/kubelet-server-current.pem is a dangling symlink to /var/lib/kubelet/pki/kubelet-server-2026-09-01-03-00-05.pem, which is gone');
  assert.match(hint!, /^  hint: systemctl restart kubelet: with serverTLSBootstrap it asks for a new serving certificate with a CSR, .*then kubepki csr approve --all-valid/);
  // the same advice as check's line for that link
  const checkServing = finding(/kubelet-server-current\.pem: dangling symlink/);
  assert.ok(checkServing.endsWith(hint!.replace(/^  hint: /, '').replace(/; renew renews what is there$/, '')), `${checkServing}\n${hint}`);
  const client = await cli(['renew', 'kubelet-client', '--root', root, '--now', now]);
  assert.equal(client.code, 3, client.err);
  const [cline, chint] = client.err.trimEnd().split('\n');
  assert.equal(cline, 'kubepki: failed to renew kubelet-client: /var/lib/kubelet/pki/kubelet-client-current.pem is a dangling symlink to /var/lib/kubelet/pki/kubelet-client-2026-09-01-03-00-00.pem, which is gone');
  assert.match(chint!, /^  hint: \/etc\/kubernetes\/bootstrap-kubelet\.conf is here: systemctl restart kubelet and it bootstraps a new client certificate while that token is valid; once it has expired: .*kubepki kubelet credentials/);
  assert.ok(finding(/kubelet-client-current\.pem, the client certificate/).includes(chint!.replace(/^  hint: /, '').replace(/; renew renews what is there$/, '')), 'the same advice as check');
  assert.doesNotMatch(server.err + client.err, /failed to find certificate|use a name as/);
});
