/**
 * Node trees shaped as real clusters are and the fixtures are not, built with openssl or from a fixture copy:
 * /etc/kubernetes or /var/lib/kubelet a link to another disk, an intermediate as the cluster CA, a certificate copied
 * beside itself, an operator's extra cluster in admin.conf, a relative client-certificate, OpenSSL's old PEM label,
 * certificates at the very second their validity ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { cli, copyFixture, sh, tmp, NOW } from './renew-support.js';

/** The first certificate of a kubeconfig's client-certificate-data, as PEM. */
const clientCertOf = (conf: string) => Buffer.from(/client-certificate-data: (\S+)/.exec(fs.readFileSync(conf, 'utf8'))![1]!, 'base64').toString();

test('/etc/kubernetes a link to /data/kubernetes (the control plane\'s files on a data disk): check said each kubeconfig had "no client certificate in it" and renew all left them to a restore; they are kubeadm\'s, renewed in place', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.mkdirSync(path.join(root, 'data'));
  fs.renameSync(path.join(root, 'etc/kubernetes'), path.join(root, 'data/kubernetes'));
  fs.symlinkSync('/data/kubernetes', path.join(root, 'etc/kubernetes'));

  const check = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const inv = JSON.parse(check.out);
  assert.deepEqual(inv.findings.filter((f: { code: string }) => f.code === 'corrupt' || f.code === 'missing-file'), [], check.out);
  for (const name of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    const rows = inv.certificates.filter((c: { name: string }) => c.name === name);
    assert.equal(rows.length, 1, name);
    assert.equal(rows[0].managedBy, 'kubeadm', name);
    assert.equal(rows[0].location.via, `/etc/kubernetes/${name}`, name);
  }

  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.doesNotMatch(r.out, /Not renewed|no client certificate/, r.out);
  assert.match(r.out, /^ {2}kube-scheduler \(static pod; reads \/etc\/kubernetes\/scheduler\.conf\)$/m, r.out);
  const conf = path.join(root, 'data/kubernetes/admin.conf');
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 60), '-CAfile', path.join(root, 'data/kubernetes/pki/ca.crt')], clientCertOf(conf));
  assert.match(v.stdout, /OK/, v.stderr);
  assert.ok(fs.lstatSync(path.join(root, 'etc/kubernetes')).isSymbolicLink());
  const again = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(again.code, 0, again.out);
});

test('--now exactly at a certificate\'s notAfter: still valid (a warning with 0s left), as Go checks it (expired once now.After(NotAfter); RFC 5280: "through notAfter"); a millisecond later expired', async () => {
  const root = copyFixture('kubeadm-1.26');
  const notAfter = new Date(sh('openssl', ['x509', '-noout', '-enddate', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt')]).stdout.split('=')[1]!.trim());
  const row = async (now: Date) => {
    const r = await cli(['check', '--root', root, '--now', now.toISOString(), '-o', 'json']);
    return JSON.parse(r.out).certificates.find((c: { name: string }) => c.name === 'apiserver');
  };
  const at = await row(notAfter);
  assert.equal(at.status, 'warning');
  assert.deepEqual(at.findings.map((f: { code: string }) => f.code), ['expiring']);
  assert.equal((await row(new Date(notAfter.getTime() + 1))).status, 'expired');
  assert.equal((await row(new Date(notAfter.getTime() - 1))).status, 'warning');
});

test('a kubeadm certificate copied beside itself under a name that sorts first (cp apiserver.crt apiserver-old.crt, cp ca.crt ca-bundle.crt): the row stays kubeadm\'s file; it was "no certificate in it", the row named after the copy', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.copyFileSync(path.join(pki, 'apiserver.crt'), path.join(pki, 'apiserver-old.crt'));
  fs.copyFileSync(path.join(pki, 'ca.crt'), path.join(pki, 'ca-bundle.crt'));
  const r = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const inv = JSON.parse(r.out);
  assert.deepEqual(inv.findings.filter((f: { code: string }) => f.code === 'corrupt' || f.code === 'missing-file'), [], r.out);
  for (const [name, file, copy] of [['apiserver', 'apiserver.crt', 'apiserver-old.crt'], ['ca', 'ca.crt', 'ca-bundle.crt']]) {
    const row = inv.certificates.find((c: { name: string }) => c.name === name);
    assert.equal(row?.location.file, `/etc/kubernetes/pki/${file}`, name);
    assert.ok(row.copies.some((l: { file: string }) => l.file === `/etc/kubernetes/pki/${copy}`), name);
  }
  assert.equal(inv.certificates.find((c: { name: string }) => c.name === 'apiserver').managedBy, 'kubeadm');
  assert.equal(inv.certificates.find((c: { name: string }) => c.name === 'ca').privateKey.location.file, '/etc/kubernetes/pki/ca.key');
  const dry = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run']);
  assert.doesNotMatch(dry.out, /Not renewed|no certificate in it/, dry.out);
  assert.match(dry.out, /^ {2}apiserver +\/etc\/kubernetes\/pki\/apiserver\.crt$/m, dry.out);
});

test('renew leaves a copy named as an operator\'s backup (apiserver-old.crt, apiserver.crt.bak, pki-backup/) with the old certificate, and says so; a copy under another name still follows the renewal', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const old = fs.readFileSync(path.join(pki, 'apiserver.crt'));
  fs.mkdirSync(path.join(pki, 'pki-backup'));
  const kept = ['apiserver-old.crt', 'apiserver.crt.bak', 'pki-backup/apiserver.crt'];
  for (const f of [...kept, 'apiserver-serving.crt']) fs.writeFileSync(path.join(pki, f), old);
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const renewed = fs.readFileSync(path.join(pki, 'apiserver.crt'));
  assert.ok(!renewed.equals(old));
  assert.ok(fs.readFileSync(path.join(pki, 'apiserver-serving.crt')).equals(renewed), 'a copy under another name follows the renewal');
  // (apiserver.crt.bak is no file check reads as a certificate: never a copy to update)
  for (const f of ['apiserver-old.crt', 'pki-backup/apiserver.crt']) {
    assert.ok(r.out.includes(`apiserver: its copy /etc/kubernetes/pki/${f} is not updated: its name says it is a copy kept as a backup`), r.out);
  }
  for (const f of kept) assert.ok(fs.readFileSync(path.join(pki, f)).equals(old), `${f} keeps the old certificate`);
});

test('renew --file of a kubeconfig whose client-certificate is a relative path (certs/me.crt, from the kubeconfig\'s directory as client-go reads it) renews that file; it was "failed to find a certificate in" the kubeconfig', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const kube = path.join(root, 'root/.kube');
  fs.mkdirSync(path.join(kube, 'certs'), { recursive: true });
  sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=dev/CN=alice', '-keyout', path.join(kube, 'certs/me.key'), '-out', path.join(kube, 'me.csr')]);
  fs.writeFileSync(path.join(kube, 'ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  const made = sh('openssl', ['x509', '-req', '-in', path.join(kube, 'me.csr'), '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-days', '30', '-extfile', path.join(kube, 'ext'), '-out', path.join(kube, 'certs/me.crt')]);
  assert.equal(made.status, 0, made.stderr);
  fs.writeFileSync(path.join(kube, 'config'), ['apiVersion: v1', 'kind: Config', 'clusters:', '- cluster:', '    certificate-authority: ../../etc/kubernetes/pki/ca.crt',
    '    server: https://cluster-api.example.test:6443', '  name: kubernetes', 'contexts:', '- context: {cluster: kubernetes, user: me}', '  name: me', 'current-context: me',
    'users:', '- name: me', '  user:', '    client-certificate: certs/me.crt', '    client-key: certs/me.key', ''].join('\n'));
  const before = fs.readFileSync(path.join(kube, 'certs/me.crt'), 'utf8');
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 3600e3).toISOString();
  const r = await cli(['renew', '--file', '/root/.kube/config', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}me +\/root\/\.kube\/certs\/me\.crt$/m, r.out);
  const after = fs.readFileSync(path.join(kube, 'certs/me.crt'), 'utf8');
  assert.notEqual(after, before);
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(now) / 1000 + 60), '-CAfile', path.join(pki, 'ca.crt'), path.join(kube, 'certs/me.crt')]);
  assert.match(v.stdout, /OK/, v.stderr);
  assert.equal(sh('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(kube, 'certs/me.crt')]).stdout, sh('openssl', ['pkey', '-pubout', '-in', path.join(kube, 'certs/me.key')]).stdout);
});

test('a leaf outliving a CA read only through --path: Next and the finding name renew --file CA (renew ca found no certificate "ca" and failed), and that command makes the CA outlast it', async () => {
  const root = tmp('kubepki-outlive-');
  const dir = path.join(root, 'etc/ssl/o');
  fs.mkdirSync(dir, { recursive: true });
  const ok = (args: string[]) => { const r = sh('openssl', args); assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`); };
  ok(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '100', '-subj', '/CN=short-ca', '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  ok(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=long', '-keyout', `${dir}/long.key`, '-out', `${root}/long.csr`]);
  fs.writeFileSync(`${root}/ext`, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:long.example.test\n');
  ok(['x509', '-req', '-in', `${root}/long.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`, '-days', '365', '-extfile', `${root}/ext`, '-out', `${dir}/long.crt`]);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 60e3).toISOString();

  const check = await cli(['check', '--root', root, '--path', '/etc/ssl/o', '--now', now]);
  const next = /^Next: .*: (kubepki renew .*) --dry-run \(they end on/m.exec(check.out)?.[1];
  assert.equal(next, `kubepki renew --file /etc/ssl/o/ca.crt --root ${root} --now ${now} --validity 1y`, check.out);
  const late = await cli(['check', '--root', root, '--path', '/etc/ssl/o', '--now', new Date(Date.parse(now) + 101 * 86400e3).toISOString()]);
  assert.match(late.out, /long: its CA ca expired on .*renew the CA \(kubepki renew --file \/etc\/ssl\/o\/ca\.crt --root /, late.out);

  // (run as printed: it carries check's --now)
  const r = await cli(next!.split(' ').slice(1));
  assert.equal(r.code, 0, r.out + r.err);
  const caEnd = Date.parse(sh('openssl', ['x509', '-noout', '-enddate', '-in', `${dir}/ca.crt`]).stdout.split('=')[1]!);
  const leafEnd = Date.parse(sh('openssl', ['x509', '-noout', '-enddate', '-in', `${dir}/long.crt`]).stdout.split('=')[1]!);
  assert.ok(caEnd >= leafEnd, `${caEnd} < ${leafEnd}`);
  assert.match(sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, `${dir}/long.crt`]).stdout, /OK/);
});

test('ca.crt holding the offline root before the intermediate whose key ca.key is: the key-mismatch says the key is the second certificate\'s and to put it first (kubeadm takes certs[0])', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmp('kubepki-root-first-');
  const ok = (args: string[], input?: string) => { const r = sh('openssl', args, input); assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
  ok(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7300', '-subj', '/O=Example Corp/CN=Example Root CA', '-keyout', `${work}/root.key`, '-out', `${work}/root.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  fs.writeFileSync(`${work}/int.ext`, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  const csr = ok(['req', '-new', '-key', `${pki}/ca.key`, '-subj', '/CN=kubernetes']);
  ok(['x509', '-req', '-CA', `${work}/root.crt`, '-CAkey', `${work}/root.key`, '-days', '3650', '-extfile', `${work}/int.ext`, '-out', `${work}/int.crt`], csr);
  fs.writeFileSync(`${pki}/ca.crt`, fs.readFileSync(`${work}/root.crt`, 'utf8') + fs.readFileSync(`${work}/int.crt`, 'utf8'));
  const r = await cli(['check', '--root', root, '--now', new Date().toISOString(), '-o', 'json']);
  const f = JSON.parse(r.out).findings.find((x: { code: string }) => x.code === 'key-mismatch');
  assert.match(f?.message ?? '', /^ca: private key \/etc\/kubernetes\/pki\/ca\.key does not match the certificate's public key: it is the key of the file's certificate \[1\] \(CN=kubernetes\); .*put that one first$/, r.out);
});

test('admin.conf with a second cluster an operator added (another API server, its own CA): no kubeconfig-ca-mismatch for it; the kubeadm cluster beside it is still checked', async () => {
  const root = copyFixture('kubeadm-1.26');
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const work = tmp('kubepki-other-cluster-');
  assert.equal(sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=other-cluster-ca', '-keyout', `${work}/o.key`, '-out', `${work}/o.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']).status, 0);
  const other = fs.readFileSync(`${work}/o.crt`).toString('base64');
  const text = fs.readFileSync(admin, 'utf8');
  const twoClusters = text.replace('clusters:\n', `clusters:\n- cluster:\n    certificate-authority-data: ${other}\n    server: https://api.other.example.test:6443\n  name: other\n`)
    .replace('contexts:\n', 'contexts:\n- context:\n    cluster: other\n    user: kubernetes-admin\n  name: admin@other\n');
  fs.writeFileSync(admin, twoClusters);
  const mismatches = async () => JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out).certificates
    .flatMap((c: { findings: { code: string; message: string }[] }) => c.findings).filter((f: { code: string }) => f.code === 'kubeconfig-ca-mismatch').map((f: { message: string }) => f.message);
  assert.deepEqual(await mismatches(), []);
  // the kubeadm cluster given the other CA is still found out
  fs.writeFileSync(admin, twoClusters.replace(/(certificate-authority-data: )\S+(\n {4}server: https:\/\/cluster-api)/, `$1${other}$2`));
  const found = await mismatches();
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.match(found[0], /cluster "kubernetes" certificate-authority-data does not verify the API server certificate/);
});

test('/var/lib/kubelet a link to /data/kubelet: kubelet.crt is still the kubelet\'s self-signed kubelet-serving (a warning), not "kubelet" signed by an externally managed "kubelet#1", and renew kubelet-serving remakes it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.mkdirSync(path.join(root, 'data'));
  fs.renameSync(path.join(root, 'var/lib/kubelet'), path.join(root, 'data/kubelet'));
  fs.symlinkSync('/data/kubelet', path.join(root, 'var/lib/kubelet'));
  const inv = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out);
  const serving = inv.certificates.find((c: { location: { via?: string; index: number } }) => c.location.via === '/var/lib/kubelet/pki/kubelet.crt' && c.location.index === 0);
  assert.equal(serving?.name, 'kubelet-serving');
  assert.deepEqual(serving.findings.map((f: { code: string; severity: string }) => `${f.code}/${f.severity}`), ['expired/warning']);
  assert.ok(!inv.findings.some((f: { code: string }) => f.code === 'ca-key-missing'), JSON.stringify(inv.findings));
  const r = await cli(['renew', 'kubelet-serving', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}kubelet-serving +\/var\/lib\/kubelet\/pki\/kubelet\.crt → \/data\/kubelet\/pki\/kubelet\.crt$/m);
  const crt = path.join(root, 'data/kubelet/pki/kubelet.crt');
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 60), '-CAfile', crt, crt]);
  assert.match(v.stdout, /OK/, v.stderr);
});

test('a certificate under OpenSSL\'s old PEM label X509 CERTIFICATE (openssl reads it, Go does not: crypto/tls "failed to find \\"CERTIFICATE\\" PEM block"): a corrupt error with the sed that relabels it, no longer an ok row; after that sed the file reads', async () => {
  const root = copyFixture('kubeadm-1.26');
  const file = path.join(root, 'etc/kubernetes/pki/front-proxy-client.crt');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll(' CERTIFICATE-----', ' X509 CERTIFICATE-----'));
  assert.match(sh('openssl', ['x509', '-noout', '-subject', '-in', file]).stdout, /front-proxy-client/); // (openssl takes it)
  const inv = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out);
  assert.ok(!inv.certificates.some((c: { name: string }) => c.name === 'front-proxy-client'));
  const f = inv.findings.find((x: { file: string }) => x.file === '/etc/kubernetes/pki/front-proxy-client.crt');
  assert.equal(f?.code, 'corrupt');
  const sed = /relabel it with (sed -i '[^']+' )\/etc\/kubernetes\/pki\/front-proxy-client\.crt$/.exec(f.message)?.[1];
  assert.ok(sed, f.message);
  assert.equal(spawnSync('sh', ['-c', `${sed}'${file}'`]).status, 0);
  const fixed = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out);
  assert.equal(fixed.certificates.find((c: { name: string }) => c.name === 'front-proxy-client')?.status, 'ok');
  assert.deepEqual(fixed.findings.filter((x: { file: string; code: string }) => x.code === 'corrupt'), []);
});

test('external-CA intermediate as ca.crt (its own key and name, issued by an offline root not on the node): renew apiserver writes the intermediate\'s subject bytes as the issuer and its key identifier, and the chain verifies from the root', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmp('kubepki-int-leaf-');
  const ok = (args: string[], input?: string) => { const r = sh('openssl', args, input); assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`); return r.stdout; };
  ok(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7300', '-subj', '/O=Example Corp/CN=Example Root CA', '-keyout', `${work}/root.key`, '-out', `${work}/root.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ok(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', `${pki}/ca.key`]);
  fs.writeFileSync(`${work}/int.ext`, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  const csr = ok(['req', '-new', '-key', `${pki}/ca.key`, '-subj', '/O=Example Corp/OU=Platform/CN=Kubernetes Issuing CA 01']);
  ok(['x509', '-req', '-CA', `${work}/root.crt`, '-CAkey', `${work}/root.key`, '-days', '3650', '-extfile', `${work}/int.ext`, '-out', `${pki}/ca.crt`], csr);
  const apiserver = path.join(pki, 'apiserver.crt');
  ok(['x509', '-x509toreq', '-in', apiserver, '-signkey', path.join(pki, 'apiserver.key'), '-copy_extensions', 'copyall', '-out', `${work}/api.csr`]);
  fs.writeFileSync(`${work}/leaf.ext`, 'authorityKeyIdentifier=keyid\n');
  ok(['x509', '-req', '-sha384', '-in', `${work}/api.csr`, '-CA', `${pki}/ca.crt`, '-CAkey', `${pki}/ca.key`, '-days', '365', '-copy_extensions', 'copyall', '-extfile', `${work}/leaf.ext`, '-out', apiserver]);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 60e3).toISOString();
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const at = String(Date.parse(now) / 1000 + 60);
  assert.match(ok(['verify', '-attime', at, '-CAfile', `${work}/root.crt`, '-untrusted', `${pki}/ca.crt`, apiserver]), /: OK/);
  // (the issuer written is the intermediate's subject as its bytes are, which Go's chain building matches)
  const cert = (f: string) => new Certificate(parsePemBlocks(fs.readFileSync(f, 'latin1'))[0]!.der);
  assert.equal(Buffer.compare(cert(apiserver).issuerRaw, cert(`${pki}/ca.crt`).subjectRaw), 0);
  const kid = (f: string, ext: string) => ok(['x509', '-in', f, '-noout', '-ext', ext]).split('\n')[1]!.trim();
  assert.equal(kid(apiserver, 'authorityKeyIdentifier'), kid(`${pki}/ca.crt`, 'subjectKeyIdentifier'));
  assert.match(ok(['x509', '-in', apiserver, '-noout', '-text']), /Signature Algorithm: ecdsa-with-SHA384/);
});
