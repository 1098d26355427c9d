/**
 * A CA with a new key (compromised key, another key type): `kubepki rebuild --new-ca NAME` replaces the CA that is
 * there. It was done by moving ca.crt/ca.key aside by hand and `rebuild --new-ca --force`, so the old CA was
 * outside kubepki's backup and `kubepki restore` of that run could not bring it back. Now the old pair goes into
 * the run's backup like every file it overwrites, and one restore puts the node back byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { copyFixture, cli, sh, snapshotTree, tmp, NOW } from './renew-support.js';

const pubOf = (keyFile: string) => sh('openssl', ['pkey', '-in', keyFile, '-pubout']).stdout;
const modeOf = (f: string) => fs.statSync(f).mode & 0o777;

function verify(caFile: string, certPem: string, label: string): void {
  const f = path.join(tmp('kubepki-leaf-'), 'leaf.crt');
  fs.writeFileSync(f, certPem);
  const v = sh('openssl', ['verify', '-CAfile', caFile, f]);
  assert.equal(v.status, 0, `${label}: ${v.stdout}${v.stderr}`);
}

/** A node file under the root, following a symlink as the node would (its target is a node path). */
function nodeRead(root: string, nodePath: string): string {
  const host = path.join(root, nodePath);
  return fs.lstatSync(host).isSymbolicLink() ? nodeRead(root, fs.readlinkSync(host)) : fs.readFileSync(host, 'utf8');
}

/** The client certificate and CA a kubeconfig embeds (or, for a file reference, the file's certificate). */
function kubeconfigPems(root: string, file: string): { client: string; ca: string } {
  const k = parseYaml(fs.readFileSync(path.join(root, 'etc/kubernetes', file), 'utf8')) as any;
  const user = k.users[0].user;
  const client = user['client-certificate-data'] ? Buffer.from(user['client-certificate-data'], 'base64').toString('utf8') : nodeRead(root, user['client-certificate']);
  return { client, ca: Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8') };
}

/** `kubepki restore NAME --root R`, the undo line a run printed. */
async function undo(out: string, root: string): Promise<void> {
  const m = /undo with: kubepki restore (\S+) --root/.exec(out);
  assert.ok(m, out);
  const r = await cli(['restore', m[1]!, '--root', root, '--now', '2026-11-23T00:05:00Z']);
  assert.equal(r.code, 0, r.err + r.out);
}

test('renew ca --new-key sent the operator to move ca.crt/ca.key aside by hand, outside every backup, so restore could not bring the old cluster CA back: rebuild --new-ca ca replaces it itself, re-signs every leaf and kubeconfig it signed, and restore puts the old CA pair (bytes, 0600) and every file back', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const before = snapshotTree(root);
  const oldCrt = fs.readFileSync(path.join(pki, 'ca.crt'));
  const oldKey = fs.readFileSync(path.join(pki, 'ca.key'));
  assert.equal(modeOf(path.join(pki, 'ca.key')), 0o600);
  const oldPub = pubOf(path.join(pki, 'ca.key'));

  // the renew note names the one command, and no hand moves
  const note = await cli(['renew', 'ca', '--new-key', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(note.code, 0, note.err + note.out);
  const line = note.out.split('\n').find((l) => l.includes('CA keeps its key')) ?? '';
  // (on the tree renew was given: its --root)
  assert.ok(line.includes(`for a new one on this kubeadm node: \`kubepki rebuild --new-ca ca --root ${root}\` (it backs up /etc/kubernetes/pki/ca.crt and /etc/kubernetes/pki/ca.key,`), note.out);
  assert.match(line, /`kubepki restore` of that run puts everything back/, note.out);
  assert.doesNotMatch(line, /\bmv\b|mkdir|--force/);

  // the dry run says which CA is replaced, that the old one is backed up, and what must follow; it writes nothing
  const dry = await cli(['rebuild', '--root', root, '--new-ca', 'ca', '--dry-run', '--now', NOW]);
  assert.equal(dry.code, 0, dry.err + dry.out);
  assert.match(dry.out, /^ {2}REPLACE \/etc\/kubernetes\/pki\/ca\.crt \(\+ \.key\)\n.*\n {10}\(--new-ca ca: a new key replaces this CA; \/etc\/kubernetes\/pki\/ca\.crt and \/etc\/kubernetes\/pki\/ca\.key are backed up first/m);
  assert.match(dry.out, /^ {2}KEEP {4}\/etc\/kubernetes\/pki\/front-proxy-ca\.crt/m);
  for (const f of ['apiserver', 'apiserver-kubelet-client']) assert.match(dry.out, new RegExp(`^ {2}REPLACE /etc/kubernetes/pki/${f}\\.crt`, 'm'), f);
  for (const f of ['admin', 'kubelet', 'controller-manager', 'scheduler']) assert.match(dry.out, new RegExp(`^ {2}REPLACE /etc/kubernetes/${f}\\.conf`, 'm'), f);
  assert.match(dry.out, /- the cluster CA \(\/etc\/kubernetes\/pki\/ca\.crt\) is replaced by one with a new key: the old ca\.crt and ca\.key are in this run's backup \(`kubepki restore` of this run puts them and every file re-signed here back\); every node, kubeconfig and the cluster-info ConfigMap must follow/);
  assert.doesNotMatch(dry.out, /only its key is gone/);
  // one line says how the other nodes get the replaced CA (was: also the general 'the cluster CA is new: … copy')
  assert.doesNotMatch(dry.out, /the cluster CA is new/);
  assert.match(dry.out, /- kubelets on every node hold client certificates from the old CA/, 'the follow-ups a new cluster CA needs beyond the copy stay');
  assert.deepEqual(snapshotTree(root), before, 'a dry run writes nothing');

  const r = await cli(['rebuild', '--root', root, '--new-ca', 'ca', '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const caFile = path.join(pki, 'ca.crt');
  assert.notEqual(pubOf(path.join(pki, 'ca.key')), oldPub, 'a new CA key');
  assert.equal(modeOf(path.join(pki, 'ca.key')), 0o600);
  for (const leaf of ['apiserver', 'apiserver-kubelet-client']) verify(caFile, fs.readFileSync(path.join(pki, `${leaf}.crt`), 'utf8'), leaf);
  for (const kc of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
    const { client, ca } = kubeconfigPems(root, kc);
    verify(caFile, client, kc);
    assert.equal(ca.trim(), fs.readFileSync(caFile, 'utf8').trim(), `${kc} trusts the new CA`);
  }
  // (the kubelet's rotated client pem behind -current, as kubelet.conf references it)
  verify(caFile, nodeRead(root, '/var/lib/kubelet/pki/kubelet-client-current.pem'), 'kubelet-client-current.pem');
  // the other CAs and what they signed are untouched
  for (const f of ['front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-client.crt', 'etcd/server.crt', 'sa.key', 'sa.pub']) {
    assert.equal(snapshotTree(root).get(`etc/kubernetes/pki/${f}`), before.get(`etc/kubernetes/pki/${f}`), f);
  }
  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 0, check.out + check.err);

  await undo(r.out, root);
  assert.ok(fs.readFileSync(path.join(pki, 'ca.crt')).equals(oldCrt), 'ca.crt restored');
  assert.ok(fs.readFileSync(path.join(pki, 'ca.key')).equals(oldKey), 'ca.key restored');
  assert.equal(modeOf(path.join(pki, 'ca.key')), 0o600);
  assert.deepEqual(snapshotTree(root), before, 'every file (bytes, modes, the -current link) as it was');
});

test('rebuild --new-ca etcd-ca --key-type ecdsa-p256: a new ECDSA etcd CA signs every etcd certificate and apiserver-etcd-client, the cluster CA is untouched, and restore puts the old RSA etcd CA and every etcd file back', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const before = snapshotTree(root);
  const oldPub = pubOf(path.join(pki, 'etcd/ca.key'));

  const r = await cli(['rebuild', '--root', root, '--new-ca', 'etcd-ca', '--key-type', 'ecdsa-p256', '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /- the etcd CA \(\/etc\/kubernetes\/pki\/etcd\/ca\.crt\) is replaced by one with a new key: .*; every other etcd member and kube-apiserver \(their etcd certificates\) must follow/);
  assert.doesNotMatch(r.out, /the etcd CA is new/, 'the line above says it, with how');
  assert.notEqual(pubOf(path.join(pki, 'etcd/ca.key')), oldPub);
  assert.match(sh('openssl', ['pkey', '-in', path.join(pki, 'etcd/ca.key'), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
  for (const leaf of ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
    verify(path.join(pki, 'etcd/ca.crt'), fs.readFileSync(path.join(pki, `${leaf}.crt`), 'utf8'), leaf);
  }
  const after = snapshotTree(root);
  for (const f of ['ca.crt', 'ca.key', 'apiserver.crt', 'front-proxy-ca.crt', 'front-proxy-client.crt']) assert.equal(after.get(`etc/kubernetes/pki/${f}`), before.get(`etc/kubernetes/pki/${f}`), f);
  for (const f of ['admin.conf', 'kubelet.conf']) assert.equal(after.get(`etc/kubernetes/${f}`), before.get(`etc/kubernetes/${f}`), f);
  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 0, check.out + check.err);

  // the other control-plane node follows as the plan says: this CA imported there, then rebuild --force re-signs
  assert.ok(r.out.includes(`On the other control-plane nodes bring this CA (\`kubepki ca export --out shared.yaml --root ${root}\` here, \`kubepki ca import shared.yaml --certificate-key KEY --force\` there, then \`kubepki rebuild --force\` there re-signs what the old one signed): --new-ca there too would make yet another CA`), r.out);
  const other = copyFixture('kubeadm-1.26');
  const sealed = path.join(tmp('kubepki-shared-'), 'shared.yaml');
  const KEY = 'cd'.repeat(32);
  assert.equal((await cli(['ca', 'export', '--root', root, '--out', sealed, '--certificate-key', KEY])).code, 0);
  const imp = await cli(['ca', 'import', sealed, '--root', other, '--certificate-key', KEY, '--force', '--now', NOW]);
  assert.equal(imp.code, 0, imp.err + imp.out);
  const follow = await cli(['rebuild', '--root', other, '--force', '--now', NOW]);
  assert.equal(follow.code, 0, follow.err + follow.out);
  const otherPki = path.join(other, 'etc/kubernetes/pki');
  assert.ok(fs.readFileSync(path.join(otherPki, 'etcd/ca.crt')).equals(fs.readFileSync(path.join(pki, 'etcd/ca.crt'))));
  for (const leaf of ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
    verify(path.join(pki, 'etcd/ca.crt'), fs.readFileSync(path.join(otherPki, `${leaf}.crt`), 'utf8'), `other node's ${leaf}`);
  }

  await undo(r.out, root);
  assert.equal(modeOf(path.join(pki, 'etcd/ca.key')), 0o600);
  assert.deepEqual(snapshotTree(root), before);
});

test('rebuild --new-ca ca failing at any write step leaves nothing partial: exit 2 (3 when the backup itself fails) and every file, the old CA pair first, as it was', async (t) => {
  let failed = 0;
  let completed = false;
  for (let n = 1; n < 400 && !completed; n++) {
    const root = copyFixture('kubeadm-1.26');
    const before = snapshotTree(root);
    const r = await cli(['rebuild', '--root', root, '--new-ca', 'ca', '--key-type', 'ecdsa-p256', '--now', NOW], { KUBEPKI_TEST_FAIL_AT: String(n) });
    if (r.code === 0) { completed = true; assert.notDeepEqual(snapshotTree(root), before); continue; }
    failed++;
    // (3: the backup failed, nothing written yet; 2: a write failed and every file was put back)
    assert.ok(r.code === 2 || r.code === 3, `step ${n}: exit ${r.code}: ${r.err}${r.out}`);
    assert.match(r.err, new RegExp(`injected failure at step ${n}|: EIO`), r.err);
    assert.deepEqual(snapshotTree(root), before, `failed at step ${n}: ${r.err}`);
  }
  assert.ok(completed, 'past the last write step the run completes');
  assert.ok(failed >= 20, `failed at ${failed} steps`);
  t.diagnostic(`rebuild --new-ca ca failed at ${failed} write steps each rolled back`);
});

test('rebuild --new-ca with a name that is not one of the node\'s CAs: one line naming the flag and the CAs, exit 3, nothing written', async () => {
  const root = copyFixture('kubeadm-1.26');
  const before = snapshotTree(root);
  const r = await cli(['rebuild', '--root', root, '--new-ca', 'ca,sa', '--now', NOW]);
  assert.equal(r.code, 3, r.err + r.out);
  assert.match(r.err, /failed to read --new-ca ca,sa: "sa" is not a CA this node has/);
  assert.match(r.err, /ca, front-proxy-ca, etcd-ca/);
  assert.deepEqual(snapshotTree(root), before);
});

test('rebuild --new-ca ca names the certificates on the node the old CA signed that it does not make (a webhook\'s, one made by hand): after the run no CA here verifies them and renew cannot re-sign them (was: the plan said it re-signed every file the CA signed, and they were left behind unnamed)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmp('kubepki-webhook-');
  // a webhook's serving certificate issued from the cluster CA with openssl, beside kubeadm's
  const made = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(pki, 'webhook.key'), '-subj', '/CN=webhook.kube-system.svc', '-out', path.join(work, 'webhook.csr')]);
  assert.equal(made.status, 0, made.stderr);
  const signed = sh('openssl', ['x509', '-req', '-in', path.join(work, 'webhook.csr'), '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-set_serial', '77', '-days', '3650', '-out', path.join(pki, 'webhook.crt')]);
  assert.equal(signed.status, 0, signed.stderr);

  const dry = await cli(['rebuild', '--root', root, '--new-ca', 'ca', '--dry-run', '--now', NOW]);
  assert.equal(dry.code, 0, dry.err + dry.out);
  const line = dry.out.split('\n').find((l) => l.includes('/etc/kubernetes/pki/webhook.crt')) ?? '';
  assert.match(line, /^ {2}- \/etc\/kubernetes\/pki\/webhook\.crt \(CN=webhook\.kube-system\.svc\) was signed by the cluster CA being replaced and is not one rebuild makes: /, dry.out);
  assert.match(line, /issue it again from the new CA \(\/etc\/kubernetes\/pki\/ca\.crt, \/etc\/kubernetes\/pki\/ca\.key\)/);
  // what rebuild does re-sign, and the kubelet's older rotated pem (history, replaced by the new -current), are not named
  assert.doesNotMatch(line, /apiserver|kubelet-client/);
  // another CA replaced: the webhook is not its business
  const etcd = await cli(['rebuild', '--root', root, '--new-ca', 'etcd-ca', '--dry-run', '--now', NOW]);
  assert.equal(etcd.code, 0, etcd.err + etcd.out);
  assert.doesNotMatch(etcd.out, /webhook/);

  const r = await cli(['rebuild', '--root', root, '--new-ca', 'ca', '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.ok(r.out.includes(line), r.out);
  // what it says holds: the new CA does not verify it
  assert.notEqual(sh('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'webhook.crt')]).status, 0);
});

test('rebuild --new-ca ca,etcd-ca tells the other control-plane nodes one way to follow, the one that works there: `ca import --force` (their CA files differ), then rebuild --force (was: also "kubepki ca import there" without --force, which refuses a node holding the old CA, and "copy etcd/ca.*" by hand)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const dry = await cli(['rebuild', '--root', root, '--new-ca', 'ca,etcd-ca', '--dry-run', '--now', NOW]);
  assert.equal(dry.code, 0, dry.err + dry.out);
  const after = dry.out.slice(dry.out.indexOf('Then, outside this node:'));
  const imports = after.split('\n').filter((l) => /kubepki ca import/.test(l));
  assert.equal(imports.length, 2, after);
  for (const l of imports) assert.match(l, /`kubepki ca import shared\.yaml --certificate-key KEY --force` there, then `kubepki rebuild --force` there/);
  assert.doesNotMatch(after, /copy the shared CA files|copy etcd\/ca\.\*/);
  // what only a new cluster CA brings still follows: the kubelets, cluster-info
  assert.match(after, /kubelets on every node hold client certificates from the old CA/);
  assert.match(after, /the kube-public\/cluster-info ConfigMap still carries the old CA/);
});
