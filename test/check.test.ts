import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { copyFixture, NOW, openssl, tmpDir } from './support/fixtures.js';
import { makeCa, makeLeaf, makeK3sTree, put, putSelfSignedKubeletCrt } from './support/trees.js';
import { byName } from './support/by-name.js';

const KU: Record<string, string> = {
  'Digital Signature': 'digitalSignature', 'Non Repudiation': 'nonRepudiation', 'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment', 'Key Agreement': 'keyAgreement', 'Certificate Sign': 'keyCertSign', 'CRL Sign': 'cRLSign',
};
const EKU: Record<string, string> = { 'TLS Web Server Authentication': 'serverAuth', 'TLS Web Client Authentication': 'clientAuth' };

/** What openssl says about one PEM certificate. */
function opensslView(pem: string) {
  const r = openssl(['x509', '-noout', '-subject', '-issuer', '-serial', '-startdate', '-enddate', '-nameopt', 'RFC2253', '-ext', 'subjectAltName,keyUsage,extendedKeyUsage,basicConstraints'], pem);
  assert.equal(r.status, 0, r.stderr);
  const line = (k: string) => r.stdout.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  const after = (header: string) => {
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => l.includes(header));
    return i < 0 ? '' : lines[i + 1]!.trim();
  };
  return {
    subject: line('subject'),
    issuer: line('issuer'),
    serial: line('serial'),
    notBefore: new Date(line('notBefore')).toISOString(),
    notAfter: new Date(line('notAfter')).toISOString(),
    sans: after('Subject Alternative Name').split(', ').filter(Boolean).map((s) => s.replace(/^IP Address:([0-9A-F:]+:[0-9A-F:]+)$/i, (_m, v: string) => `ip:${new URL(`http://[${v}]/`).hostname.slice(1, -1)}`).replace(/^IP Address:/, 'ip:').replace(/^DNS:/, 'dns:').replace(/^URI:/, 'uri:').replace(/^email:/, 'email:')),
    keyUsage: after('Key Usage:').split(', ').filter(Boolean).map((k) => KU[k] ?? k),
    extKeyUsage: after('Extended Key Usage').split(', ').filter(Boolean).map((k) => EKU[k] ?? k),
    ca: after('Basic Constraints').includes('CA:TRUE'),
  };
}

/** Our DER-order subject as openssl's RFC 2253 string (reversed, comma-joined). */
function rfc2253(ours: string): string {
  return ours ? ours.split(', ').reverse().join(',') : '';
}


test('check finds every certificate of the kubeadm-1.26 tree, all healthy, every field as openssl reads it', async () => {
  const root = copyFixture('kubeadm-1.26');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const names = inv.certificates.map((c) => c.name).sort();
  assert.deepEqual(names, [
    'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'ca', 'controller-manager.conf',
    'etcd-ca', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-ca', 'front-proxy-client',
    'kubelet-client', 'kubelet-serving', 'kubelet-serving-ca', 'scheduler.conf',
  ]);
  assert.deepEqual(inv.missing, []);
  assert.equal(inv.findings.filter((f) => f.severity !== 'info').length, 0, JSON.stringify(inv.findings, null, 1));
  for (const c of inv.certificates) assert.equal(c.status, 'ok', c.name);

  for (const c of inv.certificates) {
    const o = opensslView(c.pem);
    assert.equal(o.subject, rfc2253(c.subject), `${c.name} subject`);
    assert.equal(o.issuer, rfc2253(c.issuer), `${c.name} issuer`);
    assert.equal(o.serial.toLowerCase(), c.serial, `${c.name} serial`);
    assert.equal(o.notBefore, c.notBefore, `${c.name} notBefore`);
    assert.equal(o.notAfter, c.notAfter, `${c.name} notAfter`);
    assert.deepEqual(o.sans, c.sans.map((s) => `${s.type}:${s.value}`), `${c.name} SANs`);
    assert.deepEqual(o.keyUsage, c.keyUsage, `${c.name} keyUsage`);
    assert.deepEqual(o.extKeyUsage, c.extKeyUsage, `${c.name} extKeyUsage`);
    assert.equal(o.ca, c.isCA, `${c.name} CA`);
    // the signer we name verifies the signature for openssl too
    const signer = inv.certificates.find((x) => x.id === c.signedBy);
    assert.ok(signer, `${c.name} has a signer`);
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'ca.pem'), signer.pem);
    fs.writeFileSync(path.join(dir, 'c.pem'), c.pem);
    const v = openssl(['verify', '-no_check_time', '-partial_chain', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'c.pem')]);
    assert.equal(v.status, 0, `${c.name} verify: ${v.stdout}${v.stderr}`);
    // key algorithm and size as openssl prints them
    const text = openssl(['x509', '-noout', '-text'], c.pem).stdout;
    if (c.keyAlgorithm === 'RSA') assert.match(text, new RegExp(`Public-Key: \\(${c.keySize} bit\\)`), c.name);
    if (c.keyAlgorithm === 'ECDSA') assert.match(text, /NIST CURVE: P-256/, c.name);
  }

  // signers and private keys
  assert.equal(byName(inv, 'apiserver').signerName, 'ca');
  assert.equal(byName(inv, 'etcd-peer').signerName, 'etcd-ca');
  assert.equal(byName(inv, 'front-proxy-client').signerName, 'front-proxy-ca');
  assert.equal(byName(inv, 'kubelet-serving').signerName, 'kubelet-serving-ca');
  assert.equal(byName(inv, 'kubelet-client').signerName, 'ca');
  for (const c of inv.certificates.filter((x) => x.name !== 'kubelet-serving-ca')) {
    assert.equal(c.privateKey.present, true, `${c.name} key present`);
    assert.equal(c.privateKey.matches, true, `${c.name} key matches`);
  }
  // the key files' public halves equal the certificates' for openssl too
  for (const base of ['apiserver', 'etcd/server', 'front-proxy-client']) {
    const certPub = openssl(['x509', '-noout', '-pubkey', '-in', path.join(root, 'etc/kubernetes/pki', `${base}.crt`)]).stdout;
    const keyPub = openssl(['pkey', '-pubout', '-in', path.join(root, 'etc/kubernetes/pki', `${base}.key`)]).stdout;
    assert.equal(certPub, keyPub, base);
  }
  // the kubelet client pem is reached through its (absolute) symlink, resolved inside the root
  const kc = byName(inv, 'kubelet-client');
  assert.equal(kc.location.file, '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
  assert.equal(kc.location.via, '/var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.equal(kc.keyAlgorithm, 'ECDSA');
  assert.equal(kc.managedBy, 'kubelet');
  assert.deepEqual(byName(inv, 'kubelet-serving').location.index, 0);
  assert.deepEqual(byName(inv, 'kubelet-serving-ca').location.index, 1);
  // components from the static pod manifests
  assert.deepEqual(byName(inv, 'apiserver').components, ['kube-apiserver']);
  assert.deepEqual(byName(inv, 'etcd-server').components, ['etcd']);
  assert.deepEqual(byName(inv, 'controller-manager.conf').components, ['kube-controller-manager']);
  assert.ok(byName(inv, 'ca').components.includes('kubelet'));
  assert.equal(byName(inv, 'apiserver').managedBy, 'kubeadm');
  assert.equal(byName(inv, 'ca').managedBy, 'manual');
  // admin.conf: a kubeconfig entry with its user
  assert.deepEqual(byName(inv, 'admin.conf').location.kubeconfig, { entry: 'user', name: 'kubernetes-admin', field: 'client-certificate-data' });
  assert.ok((byName(inv, 'ca').copies ?? []).some((l) => l.file === '/etc/kubernetes/admin.conf'), 'ca.crt copies include admin.conf');

  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 0, io.err);
  assert.match(io.out, /^CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME\s+CERTIFICATE AUTHORITY\s+EXTERNALLY MANAGED/m);
  assert.match(io.out, /^apiserver\s+Nov 22, 2027 21:36 UTC\s+364d\s+ca\s+no\s+ok/m);
});

test('check on kubeadm-1.26-expired: every leaf expired with its signer, CAs fine, exit 2', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const leaves = inv.certificates.filter((c) => !c.isCA);
  assert.equal(leaves.length, 12);
  for (const c of leaves) {
    assert.equal(c.status, 'expired', c.name);
    assert.ok(c.signerName, `${c.name} signer`);
    // (the kubelet's self-signed serving pair, which kube-apiserver does not verify by default, is a warning)
    const severity = c.name === 'kubelet-serving' ? 'warning' : 'error';
    assert.ok(c.findings.some((f) => f.code === 'expired' && f.severity === severity && f.message.includes(`signed by ${c.signerName}`)), c.name);
  }
  for (const n of ['ca', 'etcd-ca', 'front-proxy-ca']) assert.equal(byName(inv, n).status, 'ok');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 2);
  const json = JSON.parse(io.out);
  assert.equal(json.apiVersion, 'kubepki.io/v1alpha1');
  assert.equal(json.kind, 'Inventory');
  for (const c of json.certificates) for (const k of ['name', 'notAfter', 'status']) assert.ok(k in c);
  assert.ok(json.certificates.every((c: CertEntry) => c.location.file));
  assert.ok(json.findings.every((f: { severity: string; code: string }) => f.severity && f.code));
});

test('check on rke1-expired: both CAs and the three etcd certificates found without RKE flags, leaves expired, exit 2', async () => {
  const root = copyFixture('rke1-expired');
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  assert.deepEqual(inv.layouts, ['rke1']);
  const cas = inv.certificates.filter((c) => c.isCA).map((c) => c.name).sort();
  assert.deepEqual(cas, ['kube-apiserver-requestheader-ca', 'kube-ca']);
  const etcd = inv.certificates.filter((c) => c.name.startsWith('kube-etcd-')).map((c) => c.name).sort();
  assert.deepEqual(etcd, ['kube-etcd-10-0-0-109', 'kube-etcd-10-0-0-159', 'kube-etcd-10-0-0-236']);
  for (const c of inv.certificates.filter((x) => !x.isCA)) {
    assert.equal(c.status, 'expired', c.name);
    assert.ok(c.signerName, c.name);
    assert.equal(c.privateKey.matches, true, c.name);
  }
  assert.equal(byName(inv, 'kube-apiserver-proxy-client').signerName, 'kube-apiserver-requestheader-ca');
  assert.equal(byName(inv, 'kube-etcd-10-0-0-109').components.join(), 'etcd');
  // the workstation kubeconfig next to cluster.yml is found too
  assert.ok(inv.certificates.some((c) => c.location.file === '/home/rancher/kube_config_cluster.yml'));
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2);
});

test('check --now T: the commands its Next suggests carry --now T (run as printed, they judge at the moment of the table just read, not at this machine\'s clock); without --now, none', async () => {
  const root = copyFixture('kubeadm-1.26');
  const io = memoryIo();
  // 21 days before the leaves end: a warning at T, all healthy at this machine's clock
  assert.equal(await run(['check', '--root', root, '--now', '2027-11-01'], io), 1, io.err);
  const next = /^Next: (kubepki renew all .*) --dry-run, then without --dry-run/m.exec(io.out);
  assert.ok(next, io.out);
  assert.equal(next[1], `kubepki renew all --root ${root} --now 2027-11-01`);
  const dry = memoryIo();
  assert.equal(await run([...next[1]!.split(' ').slice(1), '--dry-run'], dry), 0, dry.err);
  assert.match(dry.out, /apiserver/);
  const json = memoryIo();
  await run(['check', '--root', root, '--now', '2027-11-01', '-o', 'json'], json);
  assert.match((JSON.parse(json.out) as Inventory).next!, / --now 2027-11-01 --dry-run/);
  // (the library's read, with no --now given: the node's own clock, nothing to carry)
  assert.doesNotMatch(readInventory({ fs: new NodeFs(root), now: new Date('2027-11-01T00:00:00Z') }).next!, /--now/);
});

test('check --warn: a duration and a share of the lifetime; exit 1 within the window', async () => {
  const root = copyFixture('kubeadm-1.26');
  const near = new Date('2027-11-01T00:00:00Z'); // 21 days before the leaves end
  let inv = readInventory({ fs: new NodeFs(root), now: near, warn: '30d' });
  assert.equal(byName(inv, 'apiserver').status, 'warning');
  assert.equal(byName(inv, 'ca').status, 'ok');
  inv = readInventory({ fs: new NodeFs(root), now: near, warn: '14d' });
  assert.equal(byName(inv, 'apiserver').status, 'ok');
  inv = readInventory({ fs: new NodeFs(root), now: new Date('2027-08-01T00:00:00Z'), warn: '66%' });
  assert.equal(byName(inv, 'apiserver').status, 'warning');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2027-11-01'], io), 1);
  const bad = memoryIo();
  assert.equal(await run(['check', '--root', root, '--warn', 'soon'], bad), 3);
  assert.match(bad.err, /--warn "soon" is not a duration or a percentage/);
});

test('not-yet-valid, key mismatch, unknown signer, kubeconfig CA mismatch, missing files, embedded kubelet.conf', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  // a wrong key beside a certificate
  fs.copyFileSync(path.join(pki, 'front-proxy-client.key'), path.join(pki, 'apiserver-kubelet-client.key'));
  // a kubeconfig that embeds another CA (the front-proxy CA) — as after a partial rebuild
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const fpca = fs.readFileSync(path.join(pki, 'front-proxy-ca.crt')).toString('base64');
  fs.writeFileSync(admin, fs.readFileSync(admin, 'utf8').replace(/certificate-authority-data: .*/, `certificate-authority-data: ${fpca}`));
  // a missing leaf
  fs.rmSync(path.join(pki, 'etcd/peer.crt'));
  // kubelet.conf that embeds its client certificate (seed 000's trap)
  const kubelet = path.join(root, 'etc/kubernetes/kubelet.conf');
  const adminText = fs.readFileSync(path.join(copyFixture('kubeadm-1.26'), 'etc/kubernetes/admin.conf'), 'utf8');
  fs.writeFileSync(kubelet, adminText);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date('2026-11-22T21:00:00Z') });
  const codes = new Set(inv.findings.map((f) => f.code));
  for (const code of ['not-yet-valid', 'key-mismatch', 'kubeconfig-ca-mismatch', 'missing-file', 'kubelet-conf-embedded-cert'] as const) assert.ok(codes.has(code), `finding ${code}`);
  assert.equal(byName(inv, 'apiserver-kubelet-client').status, 'not-yet-valid');
  assert.ok(inv.missing.some((m) => m.name === 'etcd-peer'));
  const io = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23'], io);
  assert.match(io.out, /!MISSING! etcd-peer/);
  assert.match(io.out, /key-mismatch\s+apiserver-kubelet-client: private key .* does not match/);
});

test('the kubelet\'s rotated client pair whose key is not its certificate\'s (key-mismatch): the finding and Next give the fix an expired one gets (it said only "key does not match", and Next to follow the finding), and that fix, run as printed, clears it; another certificate\'s key-mismatch says what it said', async () => {
  const root = copyFixture('kubeadm-1.26', { realSymlinks: true });
  const pem = path.join(root, 'var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
  const text = fs.readFileSync(pem, 'utf8');
  const end = '-----END CERTIFICATE-----\n';
  fs.writeFileSync(pem, text.slice(0, text.indexOf(end) + end.length) + fs.readFileSync(path.join(root, 'etc/kubernetes/pki/apiserver-kubelet-client.key'), 'utf8'));
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-12-01'], io), 2, io.err);
  const fix = `kubepki kubelet credentials --node cp-1 --root ${root} (signed by the cluster CA here), then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${root}`;
  assert.ok(io.out.includes(`  ERROR   key-mismatch               kubelet-client: private key ${'/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem'} does not match the certificate's public key: the kubelet cannot load the pair (Go: "tls: private key does not match public key"), so it has no client certificate: ${fix}\n`), io.out);
  // (Next's commands carry check's --now)
  const next = /^Next: (.*)$/m.exec(io.out)?.[1] ?? '';
  assert.equal(next, `kubelet-client's key does not match its certificate: ${fix.replaceAll(` --root ${root}`, ` --root ${root} --now 2026-12-01`)}`);
  const made = memoryIo();
  assert.equal(await run(/^kubelet-client's key does not match its certificate: (kubepki [^(]*) \(signed/.exec(next)![1]!.split(' ').slice(1), made), 0, made.out + made.err);
  const after = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-12-01'], after), 0, after.out);
  assert.match(after.out, /^kubelet-client +Dec 01, 2027 .* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);

  // apiserver's key another's: the finding as it was, and Next to follow it
  const other = copyFixture('kubeadm-1.26');
  fs.copyFileSync(path.join(other, 'etc/kubernetes/pki/apiserver-kubelet-client.key'), path.join(other, 'etc/kubernetes/pki/apiserver.key'));
  const o = memoryIo();
  assert.equal(await run(['check', '--root', other, '--now', '2026-12-01'], o), 2, o.err);
  assert.match(o.out, /^ {2}ERROR +key-mismatch +apiserver: private key \/etc\/kubernetes\/pki\/apiserver\.key does not match the certificate's public key$/m);
  assert.match(o.out, /^Next: do what each ERROR under FINDINGS says \(key-mismatch\); then kubepki check --root \S+ --now 2026-12-01 again$/m);
});

test('a leaf from a re-created CA is flagged unknown-signer; a SAN the config needs is flagged missing', () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  // a new CA of the same name (the state after a partial rebuild): old leaves no longer chain
  const k = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kubernetes', '-days', '3650', '-keyout', path.join(pki, 'ca.key'), '-out', path.join(pki, 'ca.crt')]);
  assert.equal(k.status, 0, k.stderr);
  // the config wants a name the apiserver certificate does not carry
  const cfg = path.join(root, 'etc/kubernetes/kubeadm-config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/certSANs:\n/, 'certSANs:\n  - "new-lb.example.test"\n'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const api = byName(inv, 'apiserver');
  assert.ok(api.findings.some((f) => f.code === 'unknown-signer' && f.severity === 'error'), JSON.stringify(api.findings));
  assert.ok(api.findings.some((f) => f.code === 'apiserver-san-missing' && f.message.includes('new-lb.example.test')), JSON.stringify(api.findings));
  assert.equal(api.status, 'invalid');
});

test('bad input: garbage, truncated PEM, bad base64, non-kubeconfig YAML, a directory named .crt, a symlink loop — each a finding, the rest still read', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.writeFileSync(path.join(pki, 'garbage.crt'), 'this is not a certificate\n');
  const ca = fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8');
  fs.writeFileSync(path.join(pki, 'truncated.crt'), ca.slice(0, ca.length / 2));
  fs.writeFileSync(path.join(pki, 'badbase64.crt'), ca.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'));
  fs.writeFileSync(path.join(root, 'etc/kubernetes/notakubeconfig.conf'), 'apiVersion: v1\nkind: Config\nclusters: [oops\n');
  fs.mkdirSync(path.join(pki, 'dir.crt'));
  fs.symlinkSync('/etc/kubernetes/pki/loop-b.crt', path.join(pki, 'loop-a.crt'));
  fs.symlinkSync('/etc/kubernetes/pki/loop-a.crt', path.join(pki, 'loop-b.crt'));
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const bad = (name: string) => inv.findings.find((f) => f.file?.endsWith(name));
  for (const n of ['garbage.crt', 'truncated.crt', 'badbase64.crt', 'notakubeconfig.conf', 'loop-a.crt']) assert.ok(bad(n), `finding for ${n}: ${JSON.stringify(inv.findings.map((f) => f.file))}`);
  assert.match(bad('truncated.crt')!.message, /no END line/);
  assert.match(bad('badbase64.crt')!.message, /corrupt base64/);
  assert.match(bad('loop-a.crt')!.message, /symlink loop/);
  assert.equal(inv.certificates.length, 16, 'the rest of the node is still reported');
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2);
  assert.doesNotMatch(io.out + io.err, /at .*\.js:\d+/);
  const missing = memoryIo();
  assert.equal(await run(['check', '--root', path.join(root, 'nope')], missing), 3);
  assert.equal(missing.err.trim().split('\n')[0], `kubepki: failed to open --root ${path.join(root, 'nope')}: no such directory`);
  const insp = memoryIo();
  assert.equal(await run(['inspect', path.join(pki, 'garbage.crt')], insp), 3);
  assert.match(insp.err, /^kubepki: failed to inspect .*garbage\.crt: no PEM block and not DER: not a certificate, key or CSR$/m);
});

test('an empty or broken kubeadm kubeconfig is a corrupt finding (exit 2), a world-readable key an info finding', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.writeFileSync(path.join(root, 'etc/kubernetes/admin.conf'), '');
  fs.writeFileSync(path.join(root, 'etc/kubernetes/scheduler.conf'), 'garbage: [\n');
  fs.chmodSync(path.join(root, 'etc/kubernetes/pki/ca.key'), 0o644);
  const inv = readInventory({ fs: new NodeFs(root), now: NOW });
  const f = (file: string) => inv.findings.find((x) => x.file === file);
  assert.equal(f('/etc/kubernetes/admin.conf')?.code, 'corrupt');
  assert.equal(f('/etc/kubernetes/scheduler.conf')?.code, 'corrupt');
  assert.match(f('/etc/kubernetes/scheduler.conf')!.message, /not valid YAML/);
  const perm = f('/etc/kubernetes/pki/ca.key');
  assert.equal(perm?.code, 'key-permissions');
  assert.equal(perm?.severity, 'info');
  assert.match(perm!.message, /mode 0644, readable beyond its owner: chmod 600 \/etc\/kubernetes\/pki\/ca\.key \(0640 if/);
  const io = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], io), 2);
  assert.match(io.out, /corrupt\s+\/etc\/kubernetes\/admin\.conf/);
});

test('help: `kubepki help check` is check\'s help, laid out as written', async () => {
  const io = memoryIo();
  assert.equal(await run(['help', 'check'], io), 0);
  assert.match(io.out, /^Usage: kubepki check/m);
  assert.match(io.out, /kubespray, hard-way,\nk0s, MicroK8s, minikube and kops layouts, plus any --path/);
});

test('inspect: a kubeconfig shows every entry, a key is described but never printed, stdin works', async () => {
  const root = copyFixture('kubeadm-1.26');
  const io = memoryIo();
  assert.equal(await run(['inspect', path.join(root, 'etc/kubernetes/admin.conf'), '--now', '2026-11-23'], io), 0, io.err);
  assert.match(io.out, /Certificate 1 of 2 .*user kubernetes-admin/);
  assert.match(io.out, /Certificate 2 of 2 .*cluster kubernetes/);
  assert.doesNotMatch(io.out, /PRIVATE KEY/);
  const key = memoryIo();
  await run(['inspect', path.join(root, 'etc/kubernetes/pki/sa.key')], key);
  assert.match(key.out, /Private key .*sa\.key\n\s+Type:\s+RSA 2048/);
  assert.doesNotMatch(key.out, /BEGIN/);
  const stdin = memoryIo({}, fs.readFileSync(path.join(root, 'var/lib/kubelet/pki/kubelet.crt'), 'utf8'));
  assert.equal(await run(['inspect', '-', '--now', '2026-11-23', '-o', 'json'], stdin), 0, stdin.err);
  assert.equal(JSON.parse(stdin.out).certificates.length, 2);
  // standard input is named `-`, as given, wherever a file is named: not the throwaway file it was read through
  const fromStdin = JSON.parse(stdin.out);
  assert.equal(fromStdin.root, '-', 'where the bytes came from, not a deleted temp directory');
  assert.deepEqual(fromStdin.certificates.map((c: { id: string; location: { file: string } }) => [c.id, c.location.file]), [['-#0', '-'], ['-#1', '-']]);
  assert.doesNotMatch(stdin.out, /\/stdin/);
  // a kubeconfig on stdin (kubectl config view --raw | kubepki inspect -), users' auth methods named
  const kc = memoryIo({}, fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'));
  assert.equal(await run(['inspect', '-', '--now', '2026-11-23'], kc), 0, kc.err);
  assert.match(kc.out, /user kubernetes-admin: client-certificate/);
  assert.match(kc.out, /^Certificate 1 of 2 \(-, user kubernetes-admin\)$/m);
  assert.match(kc.out, /private key present and matches \(-, user kubernetes-admin\)/);
  assert.match(kc.out, /^Kubeconfig - \(current context kubernetes-admin@kubernetes\)$/m);
  assert.doesNotMatch(kc.out, /\/stdin/);
  const kcJson = memoryIo({}, fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'));
  assert.equal(await run(['inspect', '-', '--now', '2026-11-23', '-o', 'json'], kcJson), 0, kcJson.err);
  assert.equal(JSON.parse(kcJson.out).kubeconfigs[0].file, '-');
  assert.doesNotMatch(kcJson.out, /\/stdin/);
  const pub = memoryIo({}, fs.readFileSync(path.join(root, 'etc/kubernetes/pki/sa.pub'), 'utf8'));
  assert.equal(await run(['inspect', '-'], pub), 0, pub.err);
  assert.match(pub.out, /^Public key -\n/);
  assert.doesNotMatch(kc.out, /key-permissions|chmod/);
  // -o full of a key shows the key's facts, not nothing
  const fullKey = memoryIo();
  await run(['inspect', path.join(root, 'etc/kubernetes/pki/apiserver.key'), '-o', 'full'], fullKey);
  assert.match(fullKey.out, /Private key .*apiserver\.key\n\s+Type:\s+RSA 2048/);
  // Secret and ConfigMap manifests: the API's SecretList (recorded) and a kubectl-style Secret with tls.crt + tls.key
  const recorded = JSON.parse(fs.readFileSync(path.resolve(process.cwd(), '../shared/fixtures/apiserver/tls-secrets.json'), 'utf8'));
  const list = recorded.requests.find((r: { path: string }) => r.path.includes('fieldSelector=type')).responseBody;
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify(list));
  const sl = memoryIo();
  assert.equal(await run(['inspect', path.join(dir, 'secrets.json'), '--now', '2026-11-23'], sl), 1, sl.err);
  assert.match(sl.out, /Subject:\s+CN=app\.demo\.example\.test/);
  const b64 = (f: string) => fs.readFileSync(path.join(root, 'etc/kubernetes/pki', f)).toString('base64');
  fs.writeFileSync(path.join(dir, 'api-tls.yaml'), `apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: x\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64('apiserver.crt')}\n  tls.key: ${b64('apiserver.key')}\n`);
  const sy = memoryIo();
  assert.equal(await run(['inspect', path.join(dir, 'api-tls.yaml'), '--now', '2026-11-23'], sy), 0, sy.err);
  assert.match(sy.out, /Subject:\s+CN=kube-apiserver/);
  assert.match(sy.out, /private key present and matches/);
  assert.doesNotMatch(sy.out, /PRIVATE KEY|MII/);
  const full = memoryIo();
  await run(['inspect', path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '-o', 'full', '--now', '2026-11-23'], full);
  assert.match(full.out, /Subject Alternative Name/);
});

test('inspect --root of a file at the top of the tree finds its key and the CA beside it (/leaf.key, not //leaf.key)', async () => {
  const root = tmpDir('kubepki-top-');
  const issued = new Date('2026-01-01T00:00:00Z');
  const ca = await makeCa('top-ca', issued, 3650);
  const leaf = await makeLeaf(ca, 'top-leaf', { eku: ['serverAuth'], notBefore: issued, days: 365 });
  put(root, '/ca.crt', ca.pem);
  put(root, '/ca.key', ca.keyPem, 0o600);
  put(root, '/leaf.crt', leaf.pem);
  put(root, '/leaf.key', leaf.keyPem, 0o600);
  const io = memoryIo();
  assert.equal(await run(['inspect', '/leaf.crt', '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 0, io.err);
  const c = (JSON.parse(io.out) as Inventory).certificates.find((x) => x.subjectCN === 'top-leaf')!;
  assert.equal(c.privateKey.location?.file, '/leaf.key');
  assert.equal(c.privateKey.matches, true);
  assert.equal(c.signerName, 'ca');
});

test('inspect --root: a kubeconfig\'s file references and the absolute kubelet-client-current.pem symlink resolve inside the tree, not on the host', async () => {
  const root = copyFixture('kubeadm-1.26');
  const io = memoryIo();
  assert.equal(await run(['inspect', '/etc/kubernetes/kubelet.conf', '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 0, io.err);
  const inv = JSON.parse(io.out) as Inventory;
  const client = inv.certificates.find((c) => c.subjectCN?.startsWith('system:node:'));
  assert.ok(client, io.out);
  assert.equal(client.location.file, '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
  const serial = openssl(['x509', '-in', path.join(root, 'var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem'), '-noout', '-serial']).stdout.trim().split('=')[1]!.toLowerCase();
  assert.equal(client.serial.replaceAll(':', '').toLowerCase().replace(/^0+/, ''), serial.replace(/^0+/, ''));
  assert.equal(client.privateKey.matches, true);
  assert.equal(inv.next, undefined, 'check\'s node advice (kubepki renew all --root …) is not an inspect\'s');
  const expired = memoryIo({}, fs.readFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'), 'utf8'));
  assert.equal(await run(['inspect', '-', '--now', '2028-01-01', '-o', 'json'], expired), 2, expired.err);
  assert.equal(JSON.parse(expired.out).next, undefined, 'nor one about the temp dir stdin was read through');
  // the symlink itself, and a path relative to the working directory inside the tree
  const link = memoryIo();
  assert.equal(await run(['inspect', '/var/lib/kubelet/pki/kubelet-client-current.pem', '--root', root, '--now', '2026-11-23'], link), 0, link.err);
  assert.match(link.out, /CN=system:node:/);
  const rel = memoryIo();
  rel.cwd = path.join(root, 'etc/kubernetes');
  assert.equal(await run(['inspect', 'pki/apiserver.crt', '--root', root, '--now', '2026-11-23'], rel), 0, rel.err);
  assert.match(rel.out, /\/etc\/kubernetes\/pki\/apiserver\.crt/);
  // from outside the tree a relative path is relative to the root; only that file is shown, not the
  // files the node's static pod manifests name (it said "Certificate 1 of 12" for ca.crt)
  const outside = memoryIo();
  outside.cwd = path.dirname(root);
  assert.equal(await run(['inspect', 'etc/kubernetes/pki/ca.crt', '--root', root, '--now', '2026-11-23', '-o', 'json'], outside), 0, outside.err);
  const one = JSON.parse(outside.out) as Inventory;
  assert.deepEqual(one.certificates.map((c) => c.location.file), ['/etc/kubernetes/pki/ca.crt']);
  assert.equal(one.summary.certificates, 1);
  // --root means nothing for stdin or an endpoint: said, exit 3
  const bad = memoryIo({}, '');
  assert.equal(await run(['inspect', '-', '--root', root], bad), 3);
  assert.match(bad.err, /--root applies to a file on a node tree/);
  const missing = memoryIo();
  assert.equal(await run(['inspect', '/etc/kubernetes/nope.conf', '--root', root], missing), 3);
  assert.match(missing.err, /nope\.conf: no such file/);
});

test('inspect of a symlink loop says so, naming the file, and exits 3 as for any file inspect cannot read (not "no such file"); a dangling link names its target', async () => {
  const dir = tmpDir();
  // (relative targets: the same loop on the host and under --root)
  fs.symlinkSync('loop-b.crt', path.join(dir, 'loop-a.crt'));
  fs.symlinkSync('loop-a.crt', path.join(dir, 'loop-b.crt'));
  fs.writeFileSync(path.join(dir, 'garbage.crt'), 'this is not a certificate\n');
  const inspect = async (...args: string[]) => { const io = memoryIo(); const code = await run(['inspect', ...args, '--now', '2026-11-23'], io); return { code, err: io.err, out: io.out }; };
  const garbage = await inspect(path.join(dir, 'garbage.crt'));
  const loop = await inspect(path.join(dir, 'loop-a.crt'));
  assert.equal(loop.code, garbage.code, 'the exit code of a file inspect cannot read');
  assert.equal(loop.code, 3);
  assert.equal(loop.err.split('\n')[0], `kubepki: failed to read ${path.join(dir, 'loop-a.crt')}: symlink loop (too many levels of symbolic links)`);
  assert.doesNotMatch(loop.err, /no such file|internal error|at .*\.js:\d+/);
  assert.equal(loop.out, '');
  // under --root, the loop in the file and in a directory above it (that was an internal error, exit 70)
  const inRoot = await inspect('/loop-a.crt', '--root', dir);
  assert.equal(inRoot.code, 3);
  assert.match(inRoot.err, /^kubepki: failed to read .*\/loop-a\.crt: symlink loop/);
  fs.symlinkSync('/d2', path.join(dir, 'd1'));
  fs.symlinkSync('/d1', path.join(dir, 'd2'));
  const parent = await inspect('/d1/ca.crt', '--root', dir);
  assert.equal(parent.code, 3, parent.err);
  assert.equal(parent.err.split('\n')[0], `kubepki: failed to read ${path.join(dir, 'd1/ca.crt')}: symlink loop (too many levels of symbolic links)`);
  // a link to a file that is gone names where it points; a path with nothing there is still "no such file"
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2020-01-01-00-00-00.pem', path.join(dir, 'current.pem'));
  const dangling = await inspect('/current.pem', '--root', dir);
  assert.equal(dangling.code, 3);
  assert.match(dangling.err, /^kubepki: failed to read .*\/current\.pem: dangling symlink to \/var\/lib\/kubelet\/pki\/kubelet-client-2020-01-01-00-00-00\.pem$/m);
  const none = await inspect(path.join(dir, 'nope.crt'));
  assert.equal(none.code, 3);
  assert.match(none.err, /nope\.crt: no such file/);
});

test('inspect of a chain file shows every certificate in it, in its order, whatever copies of them are beside it (ca.crt, sub-ca.crt), with and without --root', async () => {
  const root = tmpDir();
  const dir = path.join(root, 'etc/ssl/app');
  fs.mkdirSync(dir, { recursive: true });
  const at = (f: string) => path.join(dir, f);
  const ok = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ok(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-subj', '/CN=chain-root', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  fs.writeFileSync(at('ext.cnf'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  ok(['req', ...ec, '-keyout', at('sub-ca.key'), '-out', at('sub-ca.csr'), '-subj', '/CN=chain-intermediate']);
  ok(['x509', '-req', '-in', at('sub-ca.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-set_serial', '2', '-days', '1825', '-extfile', at('ext.cnf'), '-out', at('sub-ca.crt')]);
  ok(['req', ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr'), '-subj', '/CN=chain-leaf']);
  ok(['x509', '-req', '-in', at('leaf.csr'), '-CA', at('sub-ca.crt'), '-CAkey', at('sub-ca.key'), '-set_serial', '3', '-days', '365', '-out', at('leaf.crt')]);
  fs.writeFileSync(at('chain.pem'), ['leaf.crt', 'sub-ca.crt', 'ca.crt'].map((f) => fs.readFileSync(at(f), 'utf8')).join(''));
  fs.writeFileSync(at('reversed.pem'), ['ca.crt', 'leaf.crt', 'sub-ca.crt', 'ca.crt'].map((f) => fs.readFileSync(at(f), 'utf8')).join(''));
  // what openssl reads in each file, in order
  const blocks = (f: string) => fs.readFileSync(at(f), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)!;
  const opensslOrder = (f: string) => blocks(f).map((pem) => openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem).stdout.trim().split('=')[1]!.replaceAll(':', '').toLowerCase());
  assert.equal(opensslOrder('chain.pem').length, 3);
  const now = new Date().toISOString();
  const inspectJson = async (args: string[]) => {
    const io = memoryIo();
    const code = await run(['inspect', ...args, '--now', now, '-o', 'json'], io);
    assert.equal(code, 0, io.err + io.out);
    return JSON.parse(io.out) as Inventory;
  };
  for (const [file, args] of [['chain.pem', [at('chain.pem')]], ['chain.pem', ['/etc/ssl/app/chain.pem', '--root', root]], ['reversed.pem', [at('reversed.pem')]], ['reversed.pem', ['/etc/ssl/app/reversed.pem', '--root', root]]] as const) {
    const inv = await inspectJson([...args]);
    const where = args.join(' ');
    assert.deepEqual(inv.certificates.map((c) => c.fingerprint), opensslOrder(file), `${where}: every certificate of the file, in order`);
    assert.deepEqual(inv.certificates.map((c) => c.location.index), blocks(file).map((_b, i) => i), where);
    assert.ok(inv.certificates.every((c) => c.location.file.endsWith(`/${file}`)), `${where}: located in the file itself`);
    assert.equal(new Set(inv.certificates.map((c) => c.id)).size, inv.certificates.length, `${where}: ids unique`);
    assert.equal(inv.summary.certificates, blocks(file).length);
  }
  // the copies beside it still tell who signed what and where the keys are
  const chain = await inspectJson(['/etc/ssl/app/chain.pem', '--root', root]);
  assert.deepEqual(chain.certificates.map((c) => c.subjectCN), ['chain-leaf', 'chain-intermediate', 'chain-root']);
  assert.deepEqual(chain.certificates.map((c) => c.signedBy), ['/etc/ssl/app/chain.pem#1', '/etc/ssl/app/chain.pem#2', '/etc/ssl/app/chain.pem#2']);
  assert.equal(chain.certificates[2]!.privateKey.matches, true);
  const short = memoryIo();
  assert.equal(await run(['inspect', at('chain.pem'), '--now', now], short), 0, short.err);
  assert.match(short.out, /^Certificate 1 of 3 .*chain\.pem\)\n[\s\S]*^Certificate 2 of 3 .*chain\.pem \[1\]\)\n[\s\S]*^Certificate 3 of 3 .*chain\.pem \[2\]\)$/m);
  // the same file alone in a directory shows the same
  const alone = tmpDir();
  fs.copyFileSync(at('chain.pem'), path.join(alone, 'chain.pem'));
  assert.deepEqual((await inspectJson([path.join(alone, 'chain.pem')])).certificates.map((c) => c.fingerprint), opensslOrder('chain.pem'));
});

test('check -o yaml is the same versioned Inventory as -o json; a TTY gets colour, NO_COLOR/--no-color do not', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const { parse } = await import('yaml');
  const j = memoryIo();
  const y = memoryIo();
  await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], j);
  await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'yaml'], y);
  assert.deepEqual(parse(y.out), JSON.parse(j.out));
  const tty = memoryIo();
  tty.isTTY = true;
  await run(['check', '--root', root, '--now', '2026-11-23'], tty);
  assert.match(tty.out, /\x1b\[31mEXPIRED\x1b\[0m/);
  const plainTty = memoryIo();
  plainTty.isTTY = true;
  await run(['check', '--root', root, '--now', '2026-11-23', '--no-color'], plainTty);
  assert.doesNotMatch(plainTty.out, /\x1b\[/);
  // columns stay aligned with colour on: the width of a coloured cell is its text's
  const row = tty.out.split('\n').find((l) => l.startsWith('apiserver '))!.replace(/\x1b\[[0-9;]*m/g, '');
  const header = tty.out.split('\n')[0]!;
  assert.equal(row.indexOf('EXPIRED'), header.indexOf('STATUS'));
});

test('lazyDigests (check\'s table) gives the same inventory once read: fingerprint, spkiSha256 and pem as openssl computes them', () => {
  const root = copyFixture('kubeadm-1.26');
  const eager = readInventory({ fs: new NodeFs(root), now: NOW });
  const lazy = readInventory({ fs: new NodeFs(root), now: NOW, lazyDigests: true });
  assert.equal(JSON.stringify(lazy), JSON.stringify(eager));
  assert.ok(Object.getOwnPropertyDescriptor(lazy.certificates[0]!, 'pem')!.get, 'lazy entries carry accessors');
  assert.equal(typeof Object.getOwnPropertyDescriptor(eager.certificates[0]!, 'pem')!.value, 'string', 'eager entries plain values');
  const ca = eager.certificates.find((c) => c.name === 'ca')!;
  const fp = openssl(['x509', '-in', path.join(root, 'etc/kubernetes/pki/ca.crt'), '-noout', '-fingerprint', '-sha256']).stdout.split('=')[1]!.trim().replaceAll(':', '').toLowerCase();
  assert.equal(ca.fingerprint, fp);
  assert.equal(lazy.certificates.find((c) => c.name === 'ca')!.fingerprint, fp);
});

test('inspect reads the key and the CA beside a certificate: "present and matches" and "signed by", a mismatched key is an error (exit 2) as in check; a key file names its certificate', async () => {
  const root = copyFixture('kubeadm-1.26');
  const short = async (file: string) => {
    const io = memoryIo();
    const code = await run(['inspect', file, '--root', root, '--now', '2026-11-23'], io);
    return { code, out: io.out };
  };
  const crt = await short('/etc/kubernetes/pki/apiserver.crt');
  assert.equal(crt.code, 0);
  assert.match(crt.out, /^Certificate 1 of 1 \(\/etc\/kubernetes\/pki\/apiserver\.crt\)/);
  assert.match(crt.out, /Key:\s+RSA 2048; private key present and matches \(\/etc\/kubernetes\/pki\/apiserver\.key\)/);
  assert.match(crt.out, /Signed by:\s+ca \(signature verified\)/);
  assert.doesNotMatch(crt.out, /Certificate 2 of|front-proxy|sa\.key/, 'only the file itself is shown');
  const key = await short('/etc/kubernetes/pki/etcd/server.key');
  assert.match(key.out, /^Private key \/etc\/kubernetes\/pki\/etcd\/server\.key/);
  assert.match(key.out, /Certificates: \/etc\/kubernetes\/pki\/etcd\/server\.crt#0/);
  // another key in place of apiserver.key
  const other = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  fs.writeFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.key'), other.stdout, { mode: 0o600 });
  const bad = await short('/etc/kubernetes/pki/apiserver.crt');
  assert.equal(bad.code, 2);
  assert.match(bad.out, /private key DOES NOT MATCH/);
  assert.match(bad.out, /ERROR: apiserver: private key \/etc\/kubernetes\/pki\/apiserver\.key does not match/);
});

test('inspect --root of an RKE1 file says what check says of it: renewed by rke1, read by kube-apiserver (not manual, nobody)', async () => {
  const root = copyFixture('rke1-expired');
  const io = memoryIo();
  assert.equal(await run(['inspect', '/etc/kubernetes/ssl/kube-apiserver.pem', '--root', root, '--now', '2026-11-23', '-o', 'json'], io), 2, io.err);
  const one = (JSON.parse(io.out) as Inventory).certificates.find((c) => c.location.file === '/etc/kubernetes/ssl/kube-apiserver.pem')!;
  const all = readInventory({ fs: new NodeFs(root), now: NOW }).certificates.find((c) => c.location.file === '/etc/kubernetes/ssl/kube-apiserver.pem')!;
  assert.equal(one.managedBy, 'rke1');
  assert.equal(one.managedBy, all.managedBy);
  assert.deepEqual(one.components, all.components);
  assert.deepEqual(one.components, ['kube-apiserver']);
  // a file outside RKE's directory on the same node stays generic
  fs.copyFileSync(path.join(root, 'etc/kubernetes/ssl/kube-apiserver.pem'), path.join(root, 'root-copy.pem'));
  const other = memoryIo();
  await run(['inspect', '/root-copy.pem', '--root', root, '--now', '2026-11-23', '-o', 'json'], other);
  assert.equal((JSON.parse(other.out) as Inventory).certificates.find((c) => c.location.file === '/root-copy.pem')!.managedBy, 'manual');
});

test('a leaf file with a CA that did not sign it appended (apiserver.crt + an unrelated CA, a leaf + the root without its intermediate) is a bundle-chain-mismatch warning; kubelet.crt, CA bundles with several roots, a full chain, a trust bundle after the root and k3s leaf files are not (was: nothing flagged)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmpDir('kubepki-chain-');
  const at = (f: string) => path.join(work, f);
  const ok = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  ok(['req', '-x509', ...ec, '-keyout', at('other.key'), '-out', at('other.crt'), '-subj', '/CN=some other CA', '-days', '3650', ...caExt]);
  ok(['req', '-x509', ...ec, '-keyout', at('root.key'), '-out', at('root.crt'), '-subj', '/CN=corp root', '-days', '3650', ...caExt]);
  ok(['req', '-new', ...ec, '-keyout', at('inter.key'), '-out', at('inter.csr'), '-subj', '/CN=corp intermediate']);
  fs.writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  ok(['x509', '-req', '-in', at('inter.csr'), '-CA', at('root.crt'), '-CAkey', at('root.key'), '-CAcreateserial', '-days', '1825', '-extfile', at('ca.ext'), '-out', at('inter.crt')]);
  ok(['req', '-new', ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr'), '-subj', '/CN=metrics.example.test']);
  ok(['x509', '-req', '-in', at('leaf.csr'), '-CA', at('inter.crt'), '-CAkey', at('inter.key'), '-CAcreateserial', '-days', '365', '-out', at('leaf.crt')]);
  const pem = (f: string) => fs.readFileSync(f.startsWith('/') ? f : at(f), 'utf8');

  // in the kubeadm tree: the API server's certificate with a CA from elsewhere after it; a correct leaf + CA; ca.crt with a second root
  fs.writeFileSync(path.join(pki, 'apiserver.crt'), pem(path.join(pki, 'apiserver.crt')) + pem('other.crt'));
  fs.writeFileSync(path.join(pki, 'front-proxy-client.crt'), pem(path.join(pki, 'front-proxy-client.crt')) + pem(path.join(pki, 'front-proxy-ca.crt')));
  fs.writeFileSync(path.join(pki, 'ca.crt'), pem(path.join(pki, 'ca.crt')) + pem('other.crt'));
  // beside it, an openssl-made chain: the full one, one lacking its intermediate, a CA bundle, and one with roots after the chain
  const extra = '/etc/ssl/corp';
  put(root, `${extra}/full.pem`, pem('leaf.crt') + pem('inter.crt') + pem('root.crt'));
  put(root, `${extra}/gap.pem`, pem('leaf.crt') + pem('root.crt'));
  put(root, `${extra}/cas.pem`, pem('inter.crt') + pem('other.crt') + pem('root.crt'));
  put(root, `${extra}/trust-after.pem`, pem('leaf.crt') + pem('inter.crt') + pem('root.crt') + pem('other.crt'));
  // openssl agrees on which are chains: the second block of gap.pem and of apiserver.crt did not sign the first
  ok(['verify', '-CAfile', at('root.crt'), '-untrusted', at('inter.crt'), at('leaf.crt')]);
  assert.notEqual(openssl(['verify', '-partial_chain', '-CAfile', at('root.crt'), at('leaf.crt')]).status, 0);
  assert.notEqual(openssl(['verify', '-partial_chain', '-CAfile', at('other.crt'), path.join(pki, 'apiserver.crt')]).status, 0);

  const inv = readInventory({ fs: new NodeFs(root), now: NOW, paths: [extra] });
  const all = inv.findings.filter((f) => f.code === 'bundle-chain-mismatch');
  assert.deepEqual(all.map((f) => `${f.severity} ${f.file}`).sort(), ['warning /etc/kubernetes/pki/apiserver.crt', `warning ${extra}/gap.pem`], JSON.stringify(all, null, 1));
  const api = inv.certificates.find((c) => c.name === 'apiserver')!;
  const f = api.findings.find((x) => x.code === 'bundle-chain-mismatch')!;
  assert.equal(f.certificate, api.id);
  assert.match(f.message, /^\/etc\/kubernetes\/pki\/apiserver\.crt: certificate 2 \(CN=some other CA\) did not sign certificate 1 \(CN=kube-apiserver, issued by CN=kubernetes\)/);
  assert.equal(api.status, 'warning');
  assert.match(all.find((x) => x.file === `${extra}/gap.pem`)!.message, /certificate 2 \(CN=corp root\) did not sign certificate 1 \(CN=metrics\.example\.test, issued by CN=corp intermediate\)/);
  // kubelet.crt (leaf + its own throwaway CA) is one of the chains that hold
  assert.ok(inv.certificates.some((c) => c.location.file === '/var/lib/kubelet/pki/kubelet.crt'));
  const io = memoryIo();
  await run(['check', '--root', root, '--now', NOW.toISOString(), '--path', extra], io);
  assert.match(io.out, /^ {2}WARNING +bundle-chain-mismatch +\/etc\/kubernetes\/pki\/apiserver\.crt: certificate 2/m, io.out);

  // k3s: every leaf file is leaf + issuing CA
  const k3s = tmpDir('kubepki-k3s-chain-');
  await makeK3sTree(k3s, new Date('2026-11-01T00:00:00Z'));
  const k = readInventory({ fs: new NodeFs(k3s), now: NOW });
  assert.ok(k.certificates.length > 10);
  assert.deepEqual(k.findings.filter((x) => x.code === 'bundle-chain-mismatch'), []);
});

test('a kubelet.crt that is one self-signed certificate with CA:TRUE (kubelets before 1.11, or openssl): check lists it with the certificates as self-signed, not as a certificate authority that signs nothing', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  const r = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(pki, 'kubelet.key'), '-out', path.join(pki, 'kubelet.crt'), '-days', '365',
    '-subj', '/CN=cp-1@1763768165', '-addext', 'subjectAltName=DNS:cp-1', '-addext', 'extendedKeyUsage=serverAuth',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', '-addext', 'basicConstraints=critical,CA:TRUE']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(openssl(['x509', '-noout', '-ext', 'basicConstraints', '-in', path.join(pki, 'kubelet.crt')]).stdout, /CA:TRUE/);
  const io = memoryIo();
  await run(['check', '--root', root, '--now', '2027-01-01T00:00:00Z'], io);
  const [certs, rest] = io.out.split(/^CERTIFICATE AUTHORITY /m);
  const cas = rest?.split('\n\n')[0];
  assert.ok(cas, io.out);
  // (its dates are openssl's, from today: the row's other cells are not asserted)
  assert.match(certs!, /^kubelet-serving +\S.* \(self\) +no +.*\/var\/lib\/kubelet\/pki\/kubelet\.crt$/m, io.out);
  assert.doesNotMatch(cas, /kubelet/, io.out);
  // the cluster's CAs are still there, with what they sign
  assert.match(cas, /^ca +.* 6 +\/etc\/kubernetes\/pki\/ca\.crt$/m);
});

test('inspect says of a one-certificate self-signed kubelet.crt what check says: not a CA (CA:TRUE in form only), signed by itself (was: "CA: yes", "Signed by: kubelet-serving")', async () => {
  const root = copyFixture('kubeadm-1.26');
  await putSelfSignedKubeletCrt(root, new Date('2026-11-22T21:00:00Z'), 365);
  const io = memoryIo();
  assert.equal(await run(['inspect', '/var/lib/kubelet/pki/kubelet.crt', '--root', root, '--now', '2026-11-23'], io), 0, io.out);
  assert.match(io.out, /^ {2}CA: +no, CA:TRUE in form only \(a self-signed serving certificate that signs nothing\) \(self-signed\)$/m, io.out);
  assert.match(io.out, /^ {2}Signed by: +itself$/m, io.out);
  // a cluster CA is still one, signed by itself as a CA
  const ca = memoryIo();
  assert.equal(await run(['inspect', '/etc/kubernetes/pki/ca.crt', '--root', root, '--now', '2026-11-23'], ca), 0, ca.out);
  assert.match(ca.out, /^ {2}CA: +yes \(self-signed\)$/m, ca.out);
  assert.match(ca.out, /^ {2}Signed by: +ca \(signature verified\)$/m, ca.out);
});

test('the kubelet\'s self-signed kubelet.crt out of its dates: expired or not valid yet (made on a clock ahead) is the same WARNING, since kube-apiserver does not verify it by default either way; each says what to do (a new pair and a kubelet restart; the clock first)', async () => {
  const cases = [
    { code: 'expired', notBefore: new Date('2025-11-01T00:00:00Z'), advice: /kubelet-serving expired on 2026-11-01 .*: kubepki renew kubelet-serving --root \S+, or remove \/var\/lib\/kubelet\/pki\/kubelet\.crt and \/var\/lib\/kubelet\/pki\/kubelet\.key and restart the kubelet \(systemctl restart kubelet\)/ },
    { code: 'not-yet-valid', notBefore: new Date('2026-11-24T00:00:00Z'), advice: /kubelet-serving is not valid until 2026-11-24T00:00:00\.000Z .*: it was made on a clock ahead of this one .*: fix the clock \(timedatectl; is NTP synchronised\?\); if the clock is right, remove \/var\/lib\/kubelet\/pki\/kubelet\.crt and \/var\/lib\/kubelet\/pki\/kubelet\.key and restart the kubelet/ },
  ];
  for (const k of cases) {
    const root = copyFixture('kubeadm-1.26');
    await putSelfSignedKubeletCrt(root, k.notBefore, 365);
    const crt = path.join(root, 'var/lib/kubelet/pki/kubelet.crt');
    // openssl agrees: self-signed, CA:TRUE, and out of its dates at NOW
    assert.match(openssl(['x509', '-noout', '-ext', 'basicConstraints', '-in', crt]).stdout, /CA:TRUE/);
    const verify = openssl(['verify', '-attime', String(NOW.getTime() / 1000), '-CAfile', crt, crt]);
    assert.match(verify.stdout + verify.stderr, k.code === 'expired' ? /certificate has expired/ : /certificate is not yet valid/, k.code);
    const io = memoryIo();
    const exit = await run(['check', '--root', root, '--now', NOW.toISOString()], io);
    const line = io.out.split('\n').find((l) => l.includes(` ${k.code} `) && l.includes('kubelet-serving'));
    assert.ok(line, io.out);
    assert.match(line, new RegExp(`^ {2}WARNING +${k.code} +`), k.code);
    assert.match(line, k.advice, k.code);
    // nothing else on the node is wrong: the kubelet's serving pair alone makes it exit 1 (a warning), not 2
    assert.equal(exit, 1, io.out);
    // Next, as for the two-certificate kubelet.crt: not 'the clock is wrong, not the certificates', which the
    // cluster's CAs prove, not this kubelet's own pair (that may have been made elsewhere)
    if (k.code !== 'not-yet-valid') continue;
    assert.match(io.out, /^Next: kubelet-serving starts after this node's clock: check the clock \(timedatectl; is NTP synchronised\?\), or re-issue with a margin: kubepki renew kubelet-serving --root \S+ --now \S+ --backdate 1h$/m);
    // and that renew, run as printed, plans it without taking the pair for a CA that proves the clock wrong
    const renew = memoryIo();
    assert.equal(await run(['renew', 'kubelet-serving', '--root', root, '--now', NOW.toISOString(), '--backdate', '1h', '--dry-run'], renew), 0, renew.err);
    assert.match(renew.out, /^ {2}kubelet-serving +\/var\/lib\/kubelet\/pki\/kubelet\.crt$/m, renew.out);
    assert.doesNotMatch(renew.out + renew.err, /is before kubelet-serving was made/, renew.out + renew.err);
  }
});

test('a root CA expiring is "self-signed", not "signed by" itself (ca said "signed by ca"; kubelet-serving-ca said "signed by kubelet-serving-ca" expiring and "self-signed" expired)', async () => {
  const root = copyFixture('kubeadm-1.26');
  for (const [now, code] of [['2036-11-01', 'expiring'], ['2036-12-01', 'expired']] as const) {
    const io = memoryIo();
    await run(['check', '--root', root, '--now', now, '-o', 'json'], io);
    const inv = JSON.parse(io.out) as { certificates: { name: string; findings: { code: string; message: string }[] }[] };
    const of = (name: string) => inv.certificates.find((c) => c.name === name)!.findings.find((f) => f.code === code)?.message ?? '';
    assert.match(of('ca'), /; self-signed\)/, now);
    // (a leaf still names its CA)
    if (code === 'expired') assert.match(of('apiserver-etcd-client'), /; signed by etcd-ca\)/);
  }
  const io = memoryIo();
  await run(['check', '--root', root, '--now', '2027-11-10', '-o', 'json'], io);
  const inv = JSON.parse(io.out) as { certificates: { name: string; findings: { code: string; message: string }[] }[] };
  assert.match(inv.certificates.find((c) => c.name === 'kubelet-serving-ca')!.findings.find((f) => f.code === 'expiring')!.message, /; self-signed\)$/);
});

test('renew of an intermediate CA whose root (second in ca.crt) has no key here names that root by its CN too (it said "the key of CA ca#1")', async () => {
  const dir = tmpDir('kubepki-inter-');
  const pki = path.join(dir, 'etc/kubernetes/pki');
  fs.mkdirSync(pki, { recursive: true });
  const ok = (args: string[]) => { const r = openssl(args); assert.equal(r.status, 0, r.stderr); };
  const t = (f: string) => path.join(dir, f);
  ok(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', t('root.key'), '-out', t('root.crt'), '-subj', '/CN=kubernetes-root', '-days', '3650']);
  ok(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(pki, 'ca.key'), '-out', t('ca.csr'), '-subj', '/CN=kubernetes']);
  fs.writeFileSync(t('ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\n');
  ok(['x509', '-req', '-in', t('ca.csr'), '-CA', t('root.crt'), '-CAkey', t('root.key'), '-CAcreateserial', '-out', t('ca.crt'), '-days', '30', '-extfile', t('ext')]);
  fs.writeFileSync(path.join(pki, 'ca.crt'), fs.readFileSync(t('ca.crt'), 'utf8') + fs.readFileSync(t('root.crt'), 'utf8'));
  const io = memoryIo();
  await run(['renew', 'ca', '--root', dir, '--dry-run'], io);
  assert.match(io.out, /\n {2}ca: externally managed, can't renew \/etc\/kubernetes\/pki\/ca\.crt: the key of CA ca#1 \(CN=kubernetes-root\) is missing/, io.out + io.err);
});
