/** Regressions from the second operator review of `renew`/`restore`: each test is named after what broke. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { planRenew, restartsForFiles } from '../src/plan/renew.js';
import type { Plan } from '../src/plan/types.js';
import { copyFixture, cli, sh, tmp, certPems, discoveryHash, NOW } from './renew-support.js';

const LATER = '2037-01-01T00:00:00Z'; // the kubeadm-1.26 fixture's CAs expired on 2036-11-19

/** The CA data of a kubeconfig's cluster, as read by kubectl itself. */
function kubectlCaData(kubeconfig: string, cluster: string): string {
  const r = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', kubeconfig, '-o', `jsonpath={.clusters[?(@.name=="${cluster}")].cluster.certificate-authority-data}`]);
  assert.equal(r.status, 0, r.stderr);
  return Buffer.from(r.stdout, 'base64').toString('utf8');
}

test('renew ca on an expired CA said nothing about the rest of the cluster: the run, the dry run and the JSON plan say what must follow outside this node, and the printed commands work', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  // a user's kubeconfig and a worker's kubelet.conf elsewhere: copies of the CA this run cannot reach
  const away = tmp('kubepki-away-');
  const userKc = path.join(away, 'config');
  fs.copyFileSync(path.join(root, 'etc/kubernetes/admin.conf'), userKc);
  const workerKc = path.join(away, 'kubelet.conf');
  fs.writeFileSync(workerKc, fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8').replace(/\bname: kubernetes\b/, 'name: default-cluster').replace(/cluster: kubernetes\b/, 'cluster: default-cluster'));
  const hashBefore = discoveryHash(path.join(pki, 'ca.crt'));

  const planFile = path.join(away, 'plan.json');
  const dry = await cli(['renew', 'ca', '--root', root, '--now', LATER, '--dry-run', '--plan-out', planFile]);
  const run = await cli(['renew', 'ca', '--root', root, '--now', LATER]);
  for (const [what, r] of [['dry run', dry], ['run', run]] as const) {
    assert.equal(r.code, 0, `${what}: ${r.out}${r.err}`);
    const sect = r.out.slice(r.out.indexOf('\nOutside this node: '));
    assert.ok(sect.length > 0 && r.out.includes('\nOutside this node: '), `${what} has an "Outside this node" section:\n${r.out}`);
    assert.match(sect, /^Outside this node: ca was renewed on this node only: every other copy keeps the old certificate \(expired on 2036-11-19T21:36:03Z\), and Go clients .* reject an expired trust anchor/m);
    // (what runs here names the tree, what runs there does not)
    assert.ok(sect.includes(`other control-plane nodes: here \`kubepki ca export --out ca-shared.yaml --root ${root}\`, there \`kubepki ca import ca-shared.yaml --certificate-key KEY --force\``), sect);
    assert.match(sect, /there `kubepki ca import[^\n]*or copy \/etc\/kubernetes\/pki\/ca\.crt/);
    assert.ok(sect.includes(`or, on this node, \`kubepki kubelet credentials --node NAME --out DIR --root ${root}\` writes both`), sect);
    assert.match(sect, /every worker: copy this node's \/etc\/kubernetes\/pki\/ca\.crt to \/etc\/kubernetes\/pki\/ca\.crt there, put it into the CA data of its kubelet\.conf/);
    assert.ok(sect.includes(`kube-public/cluster-info (what \`kubeadm join\` trusts): \`kubepki cluster-info update --root ${root}\``), sect);
    assert.match(sect, /kube-root-ca\.crt ConfigMap[^\n]*kube-controller-manager republishes it/);
    assert.match(sect, /users' kubeconfigs[^\n]*certificate-authority-data/);
    assert.match(sect, new RegExp(`discovery hash is unchanged \\(same key\\): --discovery-token-ca-cert-hash ${hashBefore}`));
  }
  assert.match(run.out, /Not done yet: the renewed CA must still reach the other nodes/);
  assert.doesNotMatch(dry.out, /Not done yet/, 'the dry run does nothing, so it has nothing left undone');
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan;
  assert.equal(plan.notes?.length, 1);
  assert.equal(plan.notes![0]!.topic, 'outside-this-node');
  assert.equal(plan.notes![0]!.about, '/etc/kubernetes/pki/ca.crt#0');
  assert.ok(plan.notes![0]!.steps.some((s) => s.includes('kubepki cluster-info update')));

  // the key is the same, so the discovery pin is the same (openssl over the renewed certificate)
  assert.equal(discoveryHash(path.join(pki, 'ca.crt')), hashBefore);
  // the printed commands, run as printed (node paths → this tree), bring the far copies up to date
  const steps = plan.notes![0]!.steps;
  const caFile = path.join(pki, 'ca.crt');
  const renewed = fs.readFileSync(caFile, 'utf8');
  const worker = /\(kubectl (config set-cluster default-cluster [^;)]*)/.exec(steps.find((s) => s.startsWith('every worker'))!)![1]!;
  const user = /(config set-cluster kubernetes [^\n]*?--kubeconfig ~\/\.kube\/config)/.exec(steps.find((s) => s.startsWith("users' kubeconfigs"))!)![1]!;
  for (const [cmd, kc, cluster] of [[worker, workerKc, 'default-cluster'], [user, userKc, 'kubernetes']] as const) {
    assert.notEqual(kubectlCaData(kc, cluster), renewed, 'the far copy is stale before');
    const args = cmd.split(' ').map((a) => a.replace('/etc/kubernetes/kubelet.conf', kc).replace('~/.kube/config', kc).replace('--certificate-authority=/etc/kubernetes/pki/ca.crt', `--certificate-authority=${caFile}`));
    const r = sh('kubectl', args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    assert.equal(kubectlCaData(kc, cluster), renewed, `${kc}: the printed command puts the renewed CA in`);
  }
  // the user kubeconfig's client certificate (signed before) verifies against the renewed CA
  const userCert = path.join(away, 'user.crt');
  fs.writeFileSync(userCert, Buffer.from(sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', userKc, '-o', 'jsonpath={.users[0].user.client-certificate-data}']).stdout, 'base64'));
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 3600), '-CAfile', caFile, userCert]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('renew etcd-ca / front-proxy-ca / RKE1 kube-ca said nothing about the other nodes: each gets its own "Outside this node" steps', () => {
  const root = copyFixture('kubeadm-1.26');
  const when = new Date(LATER);
  const inv = readInventory({ fs: new NodeFs(root), now: when });
  const plan = planRenew(inv, { targets: ['etcd-ca', 'front-proxy-ca'] }, when);
  const by = Object.fromEntries((plan.notes ?? []).map((n) => [n.about, n.steps.join('\n')]));
  assert.match(by['/etc/kubernetes/pki/etcd/ca.crt#0'] ?? '', /other control-plane nodes \(etcd members[^\n]*restart etcd and kube-apiserver there/);
  assert.match(by['/etc/kubernetes/pki/front-proxy-ca.crt#0'] ?? '', /extension-apiserver-authentication ConfigMap/);
  // RKE1: the rkestate on the workstation would push the old CA back on the next `rke up`
  const rke = copyFixture('rke1-expired');
  const rinv = readInventory({ fs: new NodeFs(rke), now: new Date(NOW) });
  const rplan = planRenew(rinv, { targets: ['kube-ca'] }, new Date(NOW));
  assert.match(rplan.notes?.[0]?.steps.join('\n') ?? '', /cluster\.rkestate[^\n]*next `rke up` deploys the old one again/);
  assert.match(rplan.notes?.[0]?.steps.join('\n') ?? '', /kubeconfigs elsewhere that embed it[^\n]*set-cluster [^\n]*--certificate-authority=\/etc\/kubernetes\/ssl\/kube-ca\.pem/);
  // its request-header CA is no kubeconfig's CA: the set-cluster it gave put it in users' kubeconfigs, where kubectl then fails
  const header = planRenew(rinv, { targets: ['kube-apiserver-requestheader-ca'] }, new Date(NOW)).notes?.[0]?.steps.join('\n') ?? '';
  assert.doesNotMatch(header, /set-cluster|certificate-authority-data|kube-root-ca\.crt/);
  assert.match(header, /extension-apiserver-authentication ConfigMap/);
  // a leaf renewal has nothing to say outside the node
  assert.equal(planRenew(inv, { targets: ['apiserver-kubelet-client'] }, new Date(NOW)).notes, undefined);
});

test('renew of a cluster CA outside kubeadm (RKE1 kube-ca) said cluster-info follows from kube-apiserver: kube-public/cluster-info is kubeadm\'s, which nothing republishes and RKE1 does not have; kube-root-ca.crt is kube-controller-manager\'s, from --root-ca-file', () => {
  const rke = copyFixture('rke1-expired');
  const rinv = readInventory({ fs: new NodeFs(rke), now: new Date(NOW) });
  const steps = planRenew(rinv, { targets: ['kube-ca'] }, new Date(NOW)).notes?.[0]?.steps.join('\n') ?? '';
  assert.doesNotMatch(steps, /cluster-info/);
  assert.match(steps, /^the kube-root-ca\.crt ConfigMap in every namespace \(what pods trust\): kube-controller-manager republishes it from --root-ca-file once restarted with the new file/m);
  // kubeadm's CA keeps its cluster-info step
  const kubeadm = readInventory({ fs: new NodeFs(copyFixture('kubeadm-1.26')), now: new Date(NOW) });
  assert.match(planRenew(kubeadm, { targets: ['ca'] }, new Date(NOW)).notes?.[0]?.steps.join('\n') ?? '', /kube-public\/cluster-info[^\n]*kubepki cluster-info update/);
});

test('after rm -rf /etc/kubernetes/pki renew all called every kubeconfig "externally managed" and offered CSRs: it says the CA is missing and how to get it back', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  fs.rmSync(path.join(root, 'var/lib/kubelet/pki/kubelet.crt'));
  fs.rmSync(path.join(root, 'var/lib/kubelet/pki/kubelet.key'));
  const csrs = path.join(tmp(), 'csrs');
  for (const extra of [['--dry-run'], [], ['--csr-out', csrs]]) {
    const r = await cli(['renew', 'all', '--root', root, '--now', NOW, ...extra]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.doesNotMatch(r.out, /externally managed|--csr-out|CSR/, `${extra.join(' ')}: not an external CA:\n${r.out}`);
    const lines = r.out.split('\n').filter((l) => /^ {2}[a-z.-]+: can't renew/.test(l));
    assert.deepEqual(lines.map((l) => l.split(':')[0]!.trim()).sort(), ['admin.conf', 'controller-manager.conf', 'kubelet-client', 'scheduler.conf']);
    // the missing CA comes first, with the advice, once; every certificate it signed points there
    const notRenewed = r.out.slice(r.out.indexOf('Not renewed:')).split('\n');
    assert.equal(notRenewed[1]!, `  ca: /etc/kubernetes/pki/ca.crt is missing; restore it from a backup (\`kubepki backups --root ${root}\`, \`kubepki restore NAME --root ${root}\`), copy it from another control-plane node (\`kubepki ca export --out F\` there, \`kubepki ca import F --certificate-key KEY --root ${root}\` here) or re-create the control plane with \`kubepki rebuild --root ${root}\``);
    assert.equal(r.out.split('copy it from another control-plane node').length, 2, 'the CA advice is given once');
    assert.ok(r.out.includes(`\n  apiserver: /etc/kubernetes/pki/apiserver.crt is missing; restore it from a backup (\`kubepki backups --root ${root}\`) or re-create it with \`kubepki rebuild --root ${root}\`\n`), r.out);
    for (const l of lines) assert.match(l, /the CA ca is not on this node \(its files are missing: \/etc\/kubernetes\/pki\/ca\.crt\); see above$/);
  }
  assert.ok(!fs.existsSync(csrs), 'no CSR for a CA that is merely missing');
  // naming the missing CA says the same, as a refusal (exit 3)
  const ca = await cli(['renew', 'ca', '--root', root, '--now', NOW]);
  assert.equal(ca.code, 3, ca.out + ca.err);
  assert.match(ca.err, /failed to renew ca: \/etc\/kubernetes\/pki\/ca\.crt is missing\n\s*hint: restore it from a backup/);

  // the real external CA (ca.crt here, ca.key not) is still called that
  const ext = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(ext, 'etc/kubernetes/pki/ca.key'));
  const e = await cli(['renew', 'all', '--root', ext, '--now', NOW, '--dry-run']);
  assert.equal(e.code, 1);
  assert.match(e.out, /admin\.conf: externally managed, can't renew \/etc\/kubernetes\/admin\.conf: the key of CA ca is missing \(pass --csr-out DIR for a CSR to take to the CA\)/);
});

/** Sign a CSR the way an external CA would: its own profile (usages), the CSR's subject and SANs. */
function signLikeACa(csr: string, caCrt: string, caKey: string, profile: string, out: string): void {
  const ext = `${out}.ext`;
  fs.writeFileSync(ext, `${profile}\nbasicConstraints=critical,CA:FALSE\nauthorityKeyIdentifier=keyid\n`);
  const r = sh('openssl', ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', '0x' + Date.now().toString(16), '-days', '365', '-copy_extensions', 'copy', '-extfile', ext, '-out', out]);
  assert.equal(r.status, 0, r.stderr);
}

test('--csr-out left the operator stuck: each CSR says where its signed certificate goes and which usages the CA must apply, and following that gives a tree check accepts', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const away = tmp('kubepki-extca-');
  const caKey = path.join(away, 'ca.key');
  fs.copyFileSync(path.join(pki, 'ca.key'), caKey); // the external CA keeps it; the node does not
  fs.rmSync(path.join(pki, 'ca.key'));
  const csrs = path.join(away, 'csrs');

  const dry = await cli(['renew', 'all', '--root', root, '--now', NOW, '--csr-out', csrs, '--dry-run']);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--csr-out', csrs]);
  assert.equal(r.code, 1, r.out + r.err);
  for (const out of [dry.out, r.out.slice(r.out.indexOf('\nWrote 5 CSR(s)'))]) {
    assert.match(out, new RegExp(`${csrs}/apiserver\\.csr\\n {6}put the signed certificate \\(PEM\\) at /etc/kubernetes/pki/apiserver\\.crt, next to its kept key /etc/kubernetes/pki/apiserver\\.key \\(the CSR's key\\)\\n {6}the CSR carries the subject and SANs \\(it also asks for the usages, but a CA applies its own profile, as with \`kubeadm certs generate-csr\`\\): make sure the CA signs it with key usage digitalSignature, keyEncipherment; extended key usage serverAuth; CA:FALSE\\n {6}then \`kubepki check --root ${root}\` shows it renewed; restart what reads it: kube-apiserver \\(move /etc/kubernetes/manifests/kube-apiserver\\.yaml out of the manifest directory and back\\)\\n`));
    assert.match(out, new RegExp(`${csrs}/admin\\.conf\\.csr\\n {6}put the signed certificate base64-encoded into client-certificate-data of user kubernetes-admin in /etc/kubernetes/admin\\.conf \\(its client-key-data is kept and is the CSR's key\\): kubectl config set-credentials kubernetes-admin --client-certificate=SIGNED\\.crt --embed-certs=true --kubeconfig /etc/kubernetes/admin\\.conf\\n {6}[^\\n]*extended key usage clientAuth; CA:FALSE`));
  }
  assert.match(r.out, /Wrote 5 CSR\(s\) for certificates whose CA is managed elsewhere; take each to its CA and put the signed certificate back:/);
  // the kubelet's own client certificate: no CSR, the kubelet's way instead
  assert.ok(!fs.existsSync(path.join(csrs, 'kubelet-client.csr')), 'no CSR for the kubelet client certificate');
  assert.match(r.out, /kubelet-client: can't renew \/var\/lib\/kubelet\/pki\/kubelet-client-2026-11-22-21-36-05\.pem here: the key of CA ca is not on this node[^\n]*It expired on 2026-10-18T21:36:06Z, so the kubelet can no longer renew it itself: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap/);

  // follow the instructions as an operator would: the CA signs with its profile, the results go where told
  const apiSigned = path.join(away, 'apiserver.signed.crt');
  signLikeACa(path.join(csrs, 'apiserver.csr'), path.join(pki, 'ca.crt'), caKey, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth', apiSigned);
  fs.copyFileSync(apiSigned, path.join(pki, 'apiserver.crt'));
  const adminSigned = path.join(away, 'admin.signed.crt');
  signLikeACa(path.join(csrs, 'admin.conf.csr'), path.join(pki, 'ca.crt'), caKey, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth', adminSigned);
  const cmd = /kubectl (config set-credentials kubernetes-admin [^\n]*)/.exec(r.out)![1]!.split(' ')
    .map((a) => a.replace('SIGNED.crt', adminSigned).replace('/etc/kubernetes/admin.conf', path.join(root, 'etc/kubernetes/admin.conf')));
  const k = sh('kubectl', cmd);
  assert.equal(k.status, 0, k.stderr);
  // openssl x509 -req signs from the real clock (3.0 has no -not_before): look at the tree a minute after that
  const after = readInventory({ fs: new NodeFs(root), now: new Date(Date.now() + 60_000) });
  for (const name of ['apiserver', 'admin.conf']) {
    const c = after.certificates.find((x) => x.name === name)!;
    assert.equal(c.status, 'ok', `${name} after putting the signed certificate where told: ${c.status} ${c.findings.map((f) => f.message).join('; ')}`);
    assert.equal(c.privateKey.matches, true, `${name}: the kept key matches the signed certificate`);
    assert.deepEqual(c.extKeyUsage, name === 'apiserver' ? ['serverAuth'] : ['clientAuth']);
  }
  assert.ok(after.certificates.find((x) => x.name === 'apiserver')!.sans.some((s) => s.value === 'kubernetes.default.svc'), 'the SANs came through the CSR');
});

test('renew --file … --csr-out: the check it says to run afterwards is on the same tree and reads that file (check alone never looks at /etc/ssl/custom)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const away = tmp('kubepki-extca-');
  const caKey = path.join(away, 'corp-ca.key');
  const caCrt = path.join(away, 'corp-ca.crt');
  assert.equal(sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCrt, '-subj', '/CN=corp-ca', '-days', '3650']).status, 0);
  const dir = path.join(root, 'etc/ssl/custom');
  fs.mkdirSync(dir, { recursive: true });
  const csr0 = path.join(away, 'server.csr');
  assert.equal(sh('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'server.key'), '-out', csr0, '-subj', '/CN=custom.example.com']).status, 0);
  signLikeACa(csr0, caCrt, caKey, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth', path.join(dir, 'server.pem'));
  const r = await cli(['renew', '--file', '/etc/ssl/custom/server.pem', '--csr-out', path.join(away, 'csrs'), '--root', root, '--now', NOW]);
  assert.equal(r.code, 1, r.out + r.err);
  const check = /then `kubepki (check [^`]*)` shows it renewed/.exec(r.out);
  assert.ok(check, r.out);
  assert.equal(check[1], `check --root ${root} --path /etc/ssl/custom/server.pem`);
  const c = await cli([...check[1]!.split(' '), '--now', NOW]);
  assert.match(c.out, /^server +.* \/etc\/ssl\/custom\/server\.pem$/m, c.out + c.err);
});

test('the kubelet client certificate on a worker is not a CSR for an external CA: while valid the kubelet renews it itself (and renew exits 0 for it)', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key'));
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  const plan = planRenew(inv, { targets: ['kubelet-client'], csrOut: path.join(os.tmpdir(), 'unused') }, new Date(NOW));
  assert.equal(plan.results.length, 1);
  assert.equal(plan.results[0]!.csr, undefined);
  assert.equal(plan.results[0]!.outcome, 'not-needed', 'the kubelet renews it: not a failure');
  const r = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW, '--csr-out', path.join(tmp(), 'csrs')]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /Nothing to renew/);
  // a worker that knows the cluster CA only from kubelet.conf (no pki/ca.crt): still the kubelet's way, not "restore the CA"
  const worker = copyFixture('kubeadm-1.26');
  const kdir = path.join(worker, 'etc/kubernetes');
  for (const f of ['manifests', 'admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubeadm-config.yaml', 'pki']) fs.rmSync(path.join(kdir, f), { recursive: true, force: true });
  const wr = await cli(['renew', 'all', '--root', worker, '--now', NOW, '--dry-run']);
  assert.equal(wr.code, 0, wr.out + wr.err);
  assert.match(wr.out, /kubelet-client: can't renew [^\n]*The kubelet renews this certificate itself while it is valid/);
  assert.doesNotMatch(wr.out, /restore it from a backup/);
  assert.match(plan.results[0]!.message, /The kubelet renews this certificate itself while it is valid \(until 2027-11-22T21:36:05Z; rotateCertificates[^)]*\); nothing to do here\. Should it expire: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet/);
});

test('restore ended with "see kubepki renew --dry-run", the wrong command: it lists the components that read the restored files with the restart commands renew prints', async () => {
  const root = copyFixture('kubeadm-1.26');
  const r = await cli(['renew', 'apiserver', 'etcd-server', 'kubelet-client', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = /Backup: (\S+)/.exec(r.out)![1]!;
  const renewRestarts = r.out.slice(r.out.indexOf('Nothing was restarted.')).split('\n').filter((l) => /^ {2}[a-z-]+: /.test(l));
  // (etcd re-reads its leaf certificates at each new handshake: what keeps the old ones is the running process or its open connections)
  assert.match(r.out, /Nothing was restarted\. Until they restart, these components \(or the connections they have open\) keep using the old certificates:/);
  assert.equal(renewRestarts.length, 3, r.out);

  for (const extra of [['--dry-run'], []]) {
    const x = await cli(['restore', backup, '--root', root, '--now', NOW, ...extra]);
    assert.equal(x.code, 0, x.out + x.err);
    assert.doesNotMatch(x.out, /renew --dry-run/);
    const lines = x.out.split('\n').filter((l) => /^ {2}[a-z-]+ \(reads /.test(l));
    assert.deepEqual(lines.map((l) => l.split(' (')[0]!.trim()), ['etcd', 'kube-apiserver', 'kubelet'], x.out);
    // the same commands renew printed for the same components
    for (const l of renewRestarts) {
      const [comp, command] = [l.slice(2, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)];
      assert.ok(lines.some((m) => m.startsWith(`  ${comp} (reads `) && m.endsWith(`): ${command}`)), `${comp}: ${command}\n${x.out}`);
    }
    assert.match(x.out, /kube-apiserver \(reads \/etc\/kubernetes\/pki\/apiserver\.crt\)/);
    assert.match(x.out, extra.length ? /Afterwards restart:/ : /Nothing was restarted\. These components read the restored files; restart them:/);
  }
  // a restore of files nothing restarts for (admin.conf is read by kubectl) says so
  const a = await cli(['renew', 'admin.conf', '--root', root, '--now', NOW]);
  const ab = /Backup: (\S+)/.exec(a.out)![1]!;
  const y = await cli(['restore', ab, '--root', root, '--now', NOW]);
  assert.equal(y.code, 0, y.out + y.err);
  assert.match(y.out, /No component reads them that needs a restart/);
  // the library function agrees with renew's plan for the same files
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  assert.deepEqual(restartsForFiles(inv, ['/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/server.key']).map((x) => [x.component, x.because]), [['etcd', ['/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/server.key']]]);
  void certPems;
});

test('renew --csr-out on RKE1 (kube-ca-key.pem kept off the node) says how to restart the reader there: docker restart, not a bare name', async () => {
  const root = copyFixture('rke1-expired');
  const away = tmp();
  fs.renameSync(path.join(root, 'etc/kubernetes/ssl/kube-ca-key.pem'), path.join(away, 'kube-ca-key.pem'));
  const r = await cli(['renew', 'kube-scheduler', '--root', root, '--now', NOW, '--csr-out', path.join(away, 'csrs'), '--dry-run']);
  assert.match(r.out, new RegExp(`then \`kubepki check --root ${root}\` shows it renewed; restart what reads it: kube-scheduler \\(docker restart kube-scheduler\\)\\n`), r.out + r.err);
});

test('renew --csr-out --add-san left the added names out of the CSR, without a word: the CSR asks for them (names it has once), openssl verifies it, and the instructions say so', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.key')); // the CA is kept elsewhere
  const csrs = path.join(tmp('kubepki-csr-sans-'), 'csrs');
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--csr-out', csrs, '--add-san', 'IP:2001:db8::5,DNS:*.apps.example.test,DNS:cp-1']);
  assert.equal(r.code, 1, r.out + r.err);
  const text = sh('openssl', ['req', '-in', path.join(csrs, 'apiserver.csr'), '-noout', '-text', '-verify']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stderr + text.stdout, /self-signature verify OK/);
  const san = /X509v3 Subject Alternative Name: *\n\s*([^\n]*)/.exec(text.stdout)![1]!;
  assert.match(san, /^DNS:cluster-api\.example\.test, DNS:cp-1, DNS:kubernetes, [^\n]*IP Address:192\.0\.2\.100, IP Address:2001:DB8:0:0:0:0:0:5, DNS:\*\.apps\.example\.test$/);
  assert.equal(san.match(/DNS:cp-1\b/g)!.length, 1, 'a name the certificate has is asked for once');
  assert.match(r.out, /\n {6}it also asks for IP:2001:db8::5, DNS:\*\.apps\.example\.test \(--add-san\), which the certificate does not have yet: make sure the CA keeps them\n {6}then `kubepki check/);

  // without --add-san the CSR asks for the certificate's names only, as before
  const plain = path.join(tmp('kubepki-csr-sans-'), 'csrs');
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--csr-out', plain])).code, 1);
  assert.doesNotMatch(sh('openssl', ['req', '-in', path.join(plain, 'apiserver.csr'), '-noout', '-text']).stdout, /2001:DB8|apps\.example/);
});

test('renew apiserver --only-expiring on a healthy apiserver printed "Nothing to renew." and nothing about the certificate named: it says why it is left (exit 0); with `all` the healthy ones stay unlisted', async () => {
  const root = copyFixture('kubeadm-1.26');
  const named = await cli(['renew', 'apiserver', '--root', root, '--now', '2027-11-01T00:00:00Z', '--only-expiring', '--warn', '20d']);
  assert.equal(named.code, 0, named.out + named.err);
  assert.ok(named.out.includes('\n  apiserver: not expiring: valid until 2027-11-22T21:36:03Z (21d left), entering the --warn 20d window on 2027-11-02T21:36:03Z; --only-expiring leaves it (run without it to renew it now)\n'), named.out);
  assert.match(named.out, /Nothing to renew\./);
  const all = await cli(['renew', 'all', '--root', root, '--now', NOW, '--only-expiring', '--dry-run']);
  assert.equal(all.code, 0, all.out + all.err);
  assert.doesNotMatch(all.out, /not expiring/);
});

test('renew --csr-out --new-key dropped --new-key without a word (the CSR is the kept key\'s): the instructions say so, and the CSR is indeed that key\'s', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.rmSync(path.join(pki, 'front-proxy-ca.key'));
  const keyBefore = fs.readFileSync(path.join(pki, 'front-proxy-client.key'));
  const csrs = path.join(tmp('kubepki-csr-newkey-'), 'csrs');
  const r = await cli(['renew', 'front-proxy-client', '--root', root, '--now', NOW, '--csr-out', csrs, '--new-key']);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /\n {6}--new-key does not apply to a CSR: it is made with the kept key \(the one the certificate in use has\); for a new key, renew it with --new-key on a machine that holds the CA key, or have the CA owner issue a new pair\n/);
  assert.deepEqual(fs.readFileSync(path.join(pki, 'front-proxy-client.key')), keyBefore, 'the key on the node is kept');
  const csrPub = sh('openssl', ['req', '-in', path.join(csrs, 'front-proxy-client.csr'), '-noout', '-pubkey']).stdout;
  const keyPub = sh('openssl', ['pkey', '-in', path.join(pki, 'front-proxy-client.key'), '-pubout']).stdout;
  assert.ok(csrPub.length > 0 && csrPub === keyPub, 'the CSR is the kept key\'s');
  const plain = await cli(['renew', 'front-proxy-client', '--root', root, '--now', NOW, '--csr-out', csrs, '--dry-run']);
  assert.doesNotMatch(plain.out, /--new-key does not apply/);
});

test('renew --file with a path typed wrong said "failed to find any certificate under /: … or --file PATH" (the flag given), or "failed to find a certificate in" it: it says the file is not there, as check --path does (exit 3)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const missing = await cli(['renew', '--file', '/etc/kubernetes/pki/apiserver.crtt', '--root', root, '--now', NOW]);
  assert.equal(missing.code, 3, missing.out + missing.err);
  assert.equal(missing.err.split('\n')[0], `kubepki: --file /etc/kubernetes/pki/apiserver.crtt does not exist under --root ${root}`);
  fs.symlinkSync('/etc/kubernetes/pki/gone.crt', path.join(root, 'etc/kubernetes/pki/link.crt'));
  const dangling = await cli(['renew', '--file', '/etc/kubernetes/pki/link.crt', '--root', root, '--now', NOW]);
  assert.equal(dangling.code, 3, dangling.out + dangling.err);
  assert.equal(dangling.err.split('\n')[0], `kubepki: --file /etc/kubernetes/pki/link.crt is a dangling symlink under --root ${root}`);
  // outside any tree (root /), where the inventory is empty: it was the "no certificate under /" error
  const away = path.join(tmp('kubepki-file-missing-'), 'server.pem');
  const host = await cli(['renew', '--file', away, '--now', NOW, '--dry-run']);
  assert.equal(host.code, 3, host.out + host.err);
  assert.equal(host.err.split('\n')[0], `kubepki: --file ${away} does not exist`);
});
