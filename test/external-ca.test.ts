/**
 * kubeadm's external-CA mode on a node kubeadm made: ca.crt without ca.key, and kube-controller-manager run with
 * --cluster-signing-cert-file= and --cluster-signing-key-file= empty (spec §1.3), so nothing in the cluster signs
 * a kubelet's certificate request and no node holds the key `kubepki kubelet credentials` signs with. The tree is
 * the real kubeadm's fixture (re-signed with openssl as if 400 days old), turned external as kubeadm writes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { copyFixture, tmpDir, NOW } from './support/fixtures.js';

function externalCaNode(): string {
  const root = copyFixture('kubeadm-1.26-expired', { realSymlinks: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  const kcm = path.join(root, 'etc/kubernetes/manifests/kube-controller-manager.yaml');
  fs.writeFileSync(kcm, fs.readFileSync(kcm, 'utf8').replace(/--cluster-signing-(cert|key)-file=\S*/g, '--cluster-signing-$1-file='));
  return root;
}

test('external-CA node, kubelet-client expired: check says to have the CA\'s owner sign a CSR (renew kubelet-client --csr-out), not kubelet credentials (no node has ca.key: "failed to read CA key") nor a bootstrap token (its request is never signed)', async () => {
  const root = externalCaNode();
  const io = memoryIo();
  await run(['check', '--root', root, '--now', NOW.toISOString(), '-o', 'json'], io);
  const inv = JSON.parse(io.out) as { certificates: { name: string; findings: { code: string; message: string }[] }[] };
  const kubelet = inv.certificates.find((c) => c.name === 'kubelet-client');
  assert.ok(kubelet, inv.certificates.map((c) => c.name).join(', '));
  const expired = kubelet.findings.find((f) => f.code === 'expired');
  assert.ok(expired, JSON.stringify(kubelet.findings));
  assert.match(expired.message, new RegExp(`kubepki renew kubelet-client --csr-out DIR --root ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} writes its request`), expired.message);
  assert.doesNotMatch(expired.message, /kubelet credentials|--bootstrap/, expired.message);
  // it expired on 2026-10-18: "the node goes NotReady on 2026-10-18; sign it before then" was already past
  const unsigned = kubelet.findings.find((f) => f.code === 'kubelet-csr-unsigned');
  assert.ok(unsigned, JSON.stringify(kubelet.findings));
  assert.match(unsigned.message, /it expired on 2026-10-18, so the node is NotReady until one signed by the CA that holds the key is put in place/);
  assert.doesNotMatch(unsigned.message, /before then/);
});

test('kubelet credentials --bootstrap on an external-CA node refuses before anything moves: kubelet.conf and kubelet-client-current.pem stay, no token Secret is written (it removed both and said "the controller-manager approves and signs it")', async () => {
  const root = externalCaNode();
  const conf = path.join(root, 'etc/kubernetes/kubelet.conf');
  const link = path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
  const before = { conf: fs.readFileSync(conf), link: fs.readlinkSync(link) };
  const secret = path.join(tmpDir('kubepki-ext-ca-secret-'), 'token.yaml');
  for (const extra of [[], ['--dry-run'], ['--out', tmpDir('kubepki-ext-ca-out-')]]) {
    const io = memoryIo();
    const code = await run(['kubelet', 'credentials', '--node', 'cp-1', '--bootstrap', '--root', root, '--now', NOW.toISOString(), '--secret-out', secret, ...extra], io);
    assert.equal(code, 3, `${extra.join(' ')}: ${io.out}${io.err}`);
    assert.match(io.err, /^kubepki: failed to write a bootstrap kubeconfig for cp-1: kube-controller-manager signs no kubelet certificate request in this cluster \(--cluster-signing-key-file= in \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml: kubeadm's external-CA mode/, io.err);
    assert.match(io.err, extra[0] === '--out' ? /hint: sign one with the cluster CA where its key is: kubepki kubelet credentials --node cp-1 --ca-cert CA\.crt --ca-key CA\.key --out / : /hint: .*kubepki renew kubelet-client --csr-out DIR --root /, io.err);
    assert.equal(io.out, '');
  }
  assert.deepEqual(fs.readFileSync(conf), before.conf);
  assert.equal(fs.readlinkSync(link), before.link);
  assert.equal(fs.existsSync(secret), false);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf')), false);
  assert.equal(fs.existsSync(path.join(root, 'var/lib/kubepki/backups')), false);
});

test('rebuild on an external-CA node whose kubeconfigs are gone: each problem says what to do, and the hint no longer sends the operator to --force, which changes nothing for a missing CA key (it said "problems with files already on the node … pass --force")', async () => {
  const root = externalCaNode();
  for (const f of ['admin.conf', 'controller-manager.conf']) fs.rmSync(path.join(root, 'etc/kubernetes', f));
  for (const force of [[], ['--force']]) {
    const io = memoryIo();
    const code = await run(['rebuild', '--root', root, '--now', NOW.toISOString(), ...force], io);
    assert.equal(code, 3, io.out + io.err);
    assert.match(io.err, /^kubepki: failed to rebuild: 2 problems:\n {2}- failed to create \/etc\/kubernetes\/admin\.conf: \/etc\/kubernetes\/pki\/ca\.key is missing \(external CA\); provide \/etc\/kubernetes\/admin\.conf yourself\n/, io.err);
    assert.match(io.err, /\n {2}hint: nothing was written; do what each problem above says, then run it again \(--dry-run shows the plan\)\n$/, io.err);
    assert.doesNotMatch(io.err, /--force|already on the node/, io.err);
  }
  const dry = memoryIo();
  assert.equal(await run(['rebuild', '--root', root, '--now', NOW.toISOString(), '--dry-run'], dry), 3, dry.out + dry.err);
  assert.match(dry.out, /\nDry run: nothing written\. Fix the problems above \(each says how\) before running it\.\n$/);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/admin.conf')), false);
});

test('rebuild on an external-CA node whose apiserver pair is gone: the way out is the CA\'s owner, ca import, or a new CA for the whole cluster through --new-ca (backed up), never "remove the CA certificate" (which loses it)', async () => {
  const root = externalCaNode();
  for (const f of ['apiserver.crt', 'apiserver.key']) fs.rmSync(path.join(root, 'etc/kubernetes/pki', f));
  const dry = memoryIo();
  assert.equal(await run(['rebuild', '--root', root, '--now', NOW.toISOString(), '--dry-run'], dry), 3, dry.out + dry.err);
  assert.match(dry.out, /failed to create \/etc\/kubernetes\/pki\/apiserver\.crt: ca's key is missing \(external CA\); provide .*kubepki ca import FILE --certificate-key KEY --root .*, or give the whole cluster a new ca with `kubepki rebuild --new-ca ca --root [^`]+` \(the old one backed up; every other node and kubeconfig must then be given the new CA\)/);
  assert.doesNotMatch(dry.out, /remove the CA certificate/);
});

test('Next on an external-CA node whose certificates expired: renew all renews what the etcd and front-proxy CAs sign here, and what ca signs is named as its owner\'s work, with --csr-out (it said only "renew all", whose plan then left those in its Not renewed list)', async () => {
  const root = externalCaNode();
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', NOW.toISOString()], io), 2, io.err);
  const next = io.out.trimEnd().split('\n').pop()!;
  assert.match(next, /^Next: kubepki renew all --root \S+ --now \S+ --dry-run, then without --dry-run \(backup first\), renews apiserver-etcd-client, etcd-healthcheck-client, etcd-peer and \d+ more here; admin\.conf, apiserver, apiserver-kubelet-client and \d+ more are signed by ca, whose key is not on this node: renew them where that CA is \(--csr-out DIR writes CSRs to take there\)$/, next);
  // and that is what renew does: those here planned, apiserver among those not renewed for ca's key
  const dry = memoryIo();
  await run(['renew', 'all', '--root', root, '--now', NOW.toISOString(), '--dry-run'], dry);
  assert.match(dry.out, /\n {2}etcd-peer {2,}\/etc\/kubernetes\/pki\/etcd\/peer\.crt\n/);
  assert.match(dry.out, /\n {2}apiserver: externally managed, can't renew \/etc\/kubernetes\/pki\/apiserver\.crt: the key of CA ca is missing/);
});

test('Next when only the kubelet\'s own serving pair can be renewed here (every CA key elsewhere): it names that and where the rest goes', async () => {
  const root = externalCaNode();
  for (const k of ['front-proxy-ca.key', 'etcd/ca.key']) fs.rmSync(path.join(root, 'etc/kubernetes/pki', k));
  const io = memoryIo();
  await run(['check', '--root', root, '--now', NOW.toISOString()], io);
  assert.match(io.out.trimEnd().split('\n').pop()!, /^Next: kubepki renew all --root \S+ --now \S+ --dry-run, then without --dry-run \(backup first\), renews kubelet-serving, kubelet-serving-ca here; admin\.conf, apiserver, apiserver-etcd-client and \d+ more are signed by ca, etcd-ca, front-proxy-ca, whose keys are not on this node: renew them where those CAs are \(--csr-out DIR writes CSRs to take there\)$/);
});

test('external-CA node whose kubelet-client-current.pem dangles (the dated file deleted): the fix is kubelet credentials where the CA key is, not on "a control-plane node" nor a bootstrap token, in the finding, renew\'s refusal and Next alike', async () => {
  const root = externalCaNode();
  const pki = path.join(root, 'var/lib/kubelet/pki');
  for (const f of fs.readdirSync(pki)) if (/^kubelet-client-\d/.test(f)) fs.rmSync(path.join(pki, f));
  const io = memoryIo();
  await run(['check', '--root', root, '--now', NOW.toISOString(), '-o', 'json'], io);
  const inv = JSON.parse(io.out) as { missing: { name: string; reason: string; fix?: string }[]; findings: { code: string; message: string }[] };
  const m = inv.missing.find((x) => x.name === 'kubelet-client');
  assert.ok(m, JSON.stringify(inv.missing));
  const fix = /^nothing in this cluster signs kubelet requests \(kubeadm's external-CA mode\), so neither a bootstrap token nor a control-plane node can make one: where the cluster CA's key is, kubepki kubelet credentials --node \S+ --ca-cert CA\.crt --ca-key CA\.key --out DIR, copy DIR to this node, then systemctl restart kubelet$/;
  assert.match(m.fix ?? '', fix);
  assert.ok(m.reason.endsWith(m.fix!), m.reason);
  assert.doesNotMatch(m.reason, /--bootstrap|on a control-plane node run/);
  const renew = memoryIo();
  assert.equal(await run(['renew', 'kubelet-client', '--root', root, '--now', NOW.toISOString(), '--dry-run'], renew), 3);
  assert.match(renew.err, /hint: nothing in this cluster signs kubelet requests/);
});
