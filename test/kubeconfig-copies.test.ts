// A kubeadm kubeconfig's client certificate that also lives in a file: an operator extracts admin.conf's
// certificate and key for curl, or a user kubeconfig references them through links to dated files.
// check must still see admin.conf (kubeadm renews it), and renew must keep every copy a working pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, sh, NOW } from './renew-support.js';

const K = 'etc/kubernetes';

/** A field of the one user in a kubeadm kubeconfig, decoded. */
function userField(file: string, field: 'client-certificate-data' | 'client-key-data'): string {
  const m = fs.readFileSync(file, 'utf8').match(new RegExp(`${field}: (\\S+)`));
  assert.ok(m, `${file} has ${field}`);
  return Buffer.from(m[1]!, 'base64').toString('utf8');
}

/** The public key openssl sees in a certificate or private key (PEM text). */
function pubOf(pem: string, kind: 'x509' | 'pkey'): string {
  const r = kind === 'x509' ? sh('openssl', ['x509', '-noout', '-pubkey'], pem) : sh('openssl', ['pkey', '-pubout'], pem);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('admin.conf\'s certificate extracted to /etc/kubernetes/pki/admin.crt (for curl): check still sees admin.conf, renewed by kubeadm, and renew admin.conf renews both (it said "admin.conf: no client certificate in it", exit 2, and advised moving it aside for rebuild)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const admin = path.join(root, K, 'admin.conf');
  const extracted = path.join(root, K, 'pki/admin.crt');
  fs.writeFileSync(extracted, userField(admin, 'client-certificate-data'));

  const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.equal(chk.code, 0, chk.out);
  assert.doesNotMatch(chk.out, /no client certificate in it/);
  const inv = JSON.parse(chk.out) as { certificates: { name: string; managedBy: string; copies?: { file: string }[] }[] };
  const row = inv.certificates.find((c) => c.name === 'admin.conf');
  assert.ok(row, `an admin.conf row: ${inv.certificates.map((c) => c.name).join(', ')}`);
  assert.equal(row.managedBy, 'kubeadm');
  assert.ok(row.copies?.some((l) => l.file === '/etc/kubernetes/admin.conf'), JSON.stringify(row.copies));

  const before = fs.readFileSync(admin, 'utf8');
  const r = await cli(['renew', 'admin.conf', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.notEqual(fs.readFileSync(admin, 'utf8'), before, 'admin.conf renewed');
  const cert = userField(admin, 'client-certificate-data');
  assert.equal(fs.readFileSync(extracted, 'utf8'), cert, 'the extracted copy follows');
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000), '-CAfile', path.join(root, K, 'pki/ca.crt'), extracted]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.equal(pubOf(cert, 'x509'), pubOf(userField(admin, 'client-key-data'), 'pkey'));
});

test('admin.conf\'s pair extracted to pki/admin.crt and admin.key: a key that is not the certificate\'s, in either place, is a key-mismatch error (a wrong admin.key passed as ok, the row taking admin.conf\'s embedded key)', async () => {
  for (const broken of ['file', 'kubeconfig'] as const) {
    const root = copyFixture('kubeadm-1.26');
    const admin = path.join(root, K, 'admin.conf');
    const crt = path.join(root, K, 'pki/admin.crt'), key = path.join(root, K, 'pki/admin.key');
    fs.writeFileSync(crt, userField(admin, 'client-certificate-data'));
    fs.writeFileSync(key, userField(admin, 'client-key-data'), { mode: 0o600 });
    const other = sh('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    assert.equal(other.status, 0, other.stderr);
    if (broken === 'file') fs.writeFileSync(key, other.stdout);
    else fs.writeFileSync(admin, fs.readFileSync(admin, 'utf8').replace(/client-key-data: \S+/, `client-key-data: ${Buffer.from(other.stdout).toString('base64')}`));
    // (openssl agrees the pair is broken where we broke it)
    const brokenKey = broken === 'file' ? fs.readFileSync(key, 'utf8') : userField(admin, 'client-key-data');
    assert.notEqual(pubOf(brokenKey, 'pkey'), pubOf(fs.readFileSync(crt, 'utf8'), 'x509'));

    const chk = await cli(['check', '--root', root, '--now', NOW]);
    assert.equal(chk.code, 2, chk.out);
    const where = broken === 'file' ? '/etc/kubernetes/pki/admin.key' : '/etc/kubernetes/admin.conf';
    assert.match(chk.out, new RegExp(`ERROR +key-mismatch +.*${where.replace(/\./g, '\\.')}`), `${broken}: ${chk.out}`);
  }
});

test('renew admin.conf --new-key with its pair also in pki/admin.crt+admin.key and in users/ behind links a user kubeconfig references (relative paths): every copy gets the new certificate and its key (it wrote the new key to one pair only, leaving pki/admin.key and users/…key the old key beside new certificates)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const k = (p: string) => path.join(root, K, p);
  const cert = userField(k('admin.conf'), 'client-certificate-data'), key = userField(k('admin.conf'), 'client-key-data');
  fs.writeFileSync(k('pki/admin.crt'), cert);
  fs.writeFileSync(k('pki/admin.key'), key, { mode: 0o600 });
  fs.mkdirSync(k('users/2026'), { recursive: true });
  fs.writeFileSync(k('users/2026/admin-2026.crt'), cert);
  fs.writeFileSync(k('users/2026/admin-2026.key'), key, { mode: 0o600 });
  fs.symlinkSync('2026/admin-2026.crt', k('users/admin-current.crt'));
  fs.symlinkSync('2026/admin-2026.key', k('users/admin-current.key'));
  const server = fs.readFileSync(k('admin.conf'), 'utf8').match(/server: (\S+)/)![1]!;
  fs.writeFileSync(k('ops.conf'), [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: prod', '  cluster:', `    server: ${server}`, '    certificate-authority: pki/ca.crt',
    'users:', '- name: admin', '  user:', '    client-certificate: users/admin-current.crt', '    client-key: users/admin-current.key',
    'contexts:', '- name: admin@prod', '  context: {cluster: prod, user: admin}', 'current-context: admin@prod', '',
  ].join('\n'), { mode: 0o600 });
  const oldPub = pubOf(cert, 'x509');

  const r = await cli(['renew', 'admin.conf', '--new-key', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const pairs: [string, string][] = [
    [userField(k('admin.conf'), 'client-certificate-data'), userField(k('admin.conf'), 'client-key-data')],
    [fs.readFileSync(k('pki/admin.crt'), 'utf8'), fs.readFileSync(k('pki/admin.key'), 'utf8')],
    [fs.readFileSync(k('users/admin-current.crt'), 'utf8'), fs.readFileSync(k('users/admin-current.key'), 'utf8')],
  ];
  const newPub = pubOf(pairs[0]![0], 'x509');
  assert.notEqual(newPub, oldPub, 'a new key');
  pairs.forEach(([c, kk], i) => {
    assert.equal(pubOf(c, 'x509'), newPub, `pair ${i}: the new certificate`);
    assert.equal(pubOf(kk, 'pkey'), newPub, `pair ${i}: its key is the new key`);
  });
  assert.ok(fs.lstatSync(k('users/admin-current.crt')).isSymbolicLink() && fs.lstatSync(k('users/admin-current.key')).isSymbolicLink(), 'the links stay links');
  assert.equal(fs.statSync(k('users/2026/admin-2026.key')).mode & 0o777, 0o600);
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000), '-CAfile', k('pki/ca.crt'), k('pki/admin.crt'), k('users/admin-current.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  // kubectl reads the user kubeconfig's files through the links, relative to its directory
  const view = sh('kubectl', ['--kubeconfig', k('ops.conf'), 'config', 'view', '--raw', '--flatten', '-o', 'jsonpath={.users[0].user.client-key-data}']);
  assert.equal(view.status, 0, view.stderr);
  assert.equal(pubOf(Buffer.from(view.stdout, 'base64').toString('utf8'), 'pkey'), newPub);
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(chk.code, 0, chk.out);
});

test('a user added to admin.conf with kubectl (KUBECONFIG=/etc/kubernetes/admin.conf, as kubeadm init suggests to root): admin.conf stays the current context\'s user, renewed by kubeadm, and `renew admin.conf` renews it alone (it said: failed to find certificate "admin.conf"; both rows were RENEWED BY kubeadm)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const admin = path.join(root, K, 'admin.conf');
  const dir = path.join(root, 'alice');
  fs.mkdirSync(dir);
  let r = sh('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'alice.key'), '-subj', '/O=ops/CN=alice', '-out', path.join(dir, 'alice.csr')]);
  assert.equal(r.status, 0, r.stderr);
  fs.writeFileSync(path.join(dir, 'ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n');
  r = sh('openssl', ['x509', '-req', '-in', path.join(dir, 'alice.csr'), '-CA', path.join(root, K, 'pki/ca.crt'), '-CAkey', path.join(root, K, 'pki/ca.key'), '-set_serial', '77', '-days', '200', '-extfile', path.join(dir, 'ext'), '-out', path.join(dir, 'alice.crt')]);
  assert.equal(r.status, 0, r.stderr);
  r = sh('kubectl', ['--kubeconfig', admin, 'config', 'set-credentials', 'alice', `--client-certificate=${path.join(dir, 'alice.crt')}`, `--client-key=${path.join(dir, 'alice.key')}`, '--embed-certs=true']);
  assert.equal(r.status, 0, r.stderr);
  r = sh('kubectl', ['--kubeconfig', admin, 'config', 'set-context', 'alice@kubernetes', '--cluster=kubernetes', '--user=alice']);
  assert.equal(r.status, 0, r.stderr);
  fs.rmSync(dir, { recursive: true });
  const aliceCert = () => {
    const v = sh('kubectl', ['--kubeconfig', admin, 'config', 'view', '--raw', '-o', 'jsonpath={.users[?(@.name=="alice")].user.client-certificate-data}']);
    assert.equal(v.status, 0, v.stderr);
    return Buffer.from(v.stdout, 'base64').toString('utf8');
  };
  const aliceBefore = aliceCert();
  // (openssl x509 -req starts alice's certificate at its own clock: judge the tree an hour after that)
  const start = sh('openssl', ['x509', '-noout', '-startdate'], aliceBefore).stdout.trim().replace(/^notBefore=/, '');
  const now = new Date(Date.parse(start) + 3600_000).toISOString();

  const chk = await cli(['check', '--root', root, '--now', now, '-o', 'json']);
  assert.equal(chk.code, 0, chk.out);
  const rows = (JSON.parse(chk.out) as { certificates: { name: string; managedBy: string; location: { kubeconfig?: { name: string } } }[] }).certificates
    .filter((c) => c.name.startsWith('admin.conf')).map((c) => [c.name, c.managedBy, c.location.kubeconfig?.name]);
  assert.deepEqual(rows.sort(), [['admin.conf', 'kubeadm', 'kubernetes-admin'], ['admin.conf:alice', 'manual', 'alice']]);

  const before = userField(admin, 'client-certificate-data');
  const ren = await cli(['renew', 'admin.conf', '--root', root, '--now', now]);
  assert.equal(ren.code, 0, ren.err + ren.out);
  const renewed = sh('kubectl', ['--kubeconfig', admin, 'config', 'view', '--raw', '-o', 'jsonpath={.users[?(@.name=="kubernetes-admin")].user.client-certificate-data}']);
  const adminPem = Buffer.from(renewed.stdout, 'base64').toString('utf8');
  assert.notEqual(adminPem, before, 'kubernetes-admin renewed');
  assert.equal(sh('openssl', ['verify', '-attime', String(Math.floor(Date.parse(now) / 1000)), '-CAfile', path.join(root, K, 'pki/ca.crt')], adminPem).status, 0);
  assert.equal(aliceCert(), aliceBefore, 'alice left as she was');
});
