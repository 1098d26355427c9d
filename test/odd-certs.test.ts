/**
 * Certificates real clusters carry that kubeadm never makes, built with openssl (not kubepki's own signer): a leaf
 * that never expires, an intermediate as the cluster CA, a critical extension Go does not know, a file with
 * openssl's text dump above the PEM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, copyFixture, sh, tmp, snapshotTree } from './renew-support.js';
import { ETCD, ETCDCTL, servingEtcd } from './support/etcd.js';
import { opensslOk } from './support/fixtures.js';

const o = opensslOk;

/** An RSA CA made by openssl in DIR (ca.crt, ca.key). */
function makeCa(dir: string, cn = 'odd-ca'): void {
  fs.mkdirSync(dir, { recursive: true });
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', `/CN=${cn}`, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign']);
  fs.chmodSync(`${dir}/ca.key`, 0o600);
}

/** An openssl -extfile text for a TLS server leaf, plus `extra` lines. */
const LEAF_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:odd.example.test,IP:127.0.0.1\n';

/**
 * A leaf DIR/NAME.crt (+ .key) signed by DIR's CA. `dates`: `openssl ca` -startdate/-enddate, the only openssl 3.0
 * command that sets a notAfter of its choosing (x509 -req takes only -days).
 */
function makeLeaf(dir: string, name: string, o2: { ext?: string; dates?: [string, string] } = {}): string {
  const ext = `${dir}/${name}.ext`;
  fs.writeFileSync(ext, o2.ext ?? LEAF_EXT);
  o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${dir}/${name}.key`, '-out', `${dir}/${name}.csr`]);
  if (o2.dates) {
    const db = tmp('kubepki-odd-cadb-');
    fs.writeFileSync(`${db}/index.txt`, '');
    fs.writeFileSync(`${db}/serial`, '1000\n');
    fs.writeFileSync(`${db}/ca.cnf`, `[ca]\ndefault_ca=x\n[x]\ndatabase=${db}/index.txt\nserial=${db}/serial\nnew_certs_dir=${db}\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`);
    o(['ca', '-batch', '-config', `${db}/ca.cnf`, '-cert', `${dir}/ca.crt`, '-keyfile', `${dir}/ca.key`, '-in', `${dir}/${name}.csr`, '-out', `${dir}/${name}.crt`,
      '-extfile', ext, '-notext', '-startdate', o2.dates[0], '-enddate', o2.dates[1]]);
  } else {
    o(['x509', '-req', '-in', `${dir}/${name}.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`, '-days', '365', '-extfile', ext, '-out', `${dir}/${name}.crt`]);
  }
  fs.rmSync(`${dir}/${name}.csr`);
  fs.rmSync(ext);
  fs.chmodSync(`${dir}/${name}.key`, 0o600);
  return `${dir}/${name}.crt`;
}

/**
 * The certificates are made on this machine's clock, so checks and renewals are planned on it too, read once they
 * are made (openssl starts them at the current second); `at` is that hour later for openssl verify -attime.
 */
function clock(): { now: string; at: string } {
  const ms = Math.floor(Date.now() / 1000) * 1000;
  return { now: new Date(ms).toISOString(), at: String(ms / 1000 + 3600) };
}

test('a leaf that never expires (notAfter 99991231235959Z, RFC 5280 §4.1.2.5) renews to that value (it planned year +010000, then failed its own re-read), and check does not ask for a CA outlasting it', async () => {
  const root = tmp('kubepki-odd-forever-');
  const dir = path.join(root, 'etc/ssl/odd');
  makeCa(dir);
  const crt = makeLeaf(dir, 'forever', { dates: ['20260101000000Z', '99991231235959Z'] });
  assert.match(o(['asn1parse', '-in', crt]), /GENERALIZEDTIME\s+:99991231235959Z/);
  const { now, at } = clock();

  const check = await cli(['check', '--root', root, '--path', '/etc/ssl/odd', '--now', now]);
  assert.doesNotMatch(check.out, /ca-expires-before-leaf|--validity \d+y/, check.out);
  assert.equal(check.code, 0, check.out);

  const r = await cli(['renew', '--file', '/etc/ssl/odd/forever.crt', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /notAfter 9999-12-31 → 9999-12-31/);
  assert.match(o(['asn1parse', '-in', crt]), /GENERALIZEDTIME\s+:99991231235959Z/);
  assert.match(o(['verify', '-attime', at, '-CAfile', `${dir}/ca.crt`, crt]), /: OK/);
});

test('renew ca on a cluster CA that is an intermediate (ca.crt issued by a root whose key was never on the node, the root only in admin.conf\'s bundle) is externally managed with a CSR for the root\'s owner; it said "not on this node (its files are missing)" and sent the operator to restore, ca import or rebuild', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmp('kubepki-odd-root-');
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7300', '-subj', '/O=Example Corp/CN=Example Root CA', '-keyout', `${work}/root.key`, '-out', `${work}/root.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  // the intermediate keeps kubeadm's CA key and name, so every certificate the tree holds still verifies under it
  fs.writeFileSync(`${work}/int.ext`, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  const csr = o(['req', '-new', '-key', `${pki}/ca.key`, '-subj', '/CN=kubernetes']);
  o(['x509', '-req', '-CA', `${work}/root.crt`, '-CAkey', `${work}/root.key`, '-days', '3650', '-set_serial', '0x1001', '-extfile', `${work}/int.ext`, '-out', `${pki}/ca.crt`], csr);
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  const bundle = fs.readFileSync(`${pki}/ca.crt`, 'utf8') + fs.readFileSync(`${work}/root.crt`, 'utf8');
  fs.writeFileSync(admin, fs.readFileSync(admin, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from(bundle).toString('base64')}`));
  o(['verify', '-CAfile', `${work}/root.crt`, '-untrusted', `${pki}/ca.crt`, `${pki}/apiserver.crt`]);
  const { now } = clock();

  const dry = await cli(['renew', 'ca', '--root', root, '--now', now, '--dry-run']);
  assert.equal(dry.code, 1, dry.out + dry.err); // (done, with something left to do: the CSR route)
  assert.match(dry.out, /ca: externally managed, can't renew \/etc\/kubernetes\/pki\/ca\.crt: the key of CA \S+ \(CN=Example Root CA\) is missing \(pass --csr-out DIR/);
  assert.doesNotMatch(dry.out, /not on this node|rebuild|ca import/);

  const before = snapshotTree(root);
  const out = tmp('kubepki-odd-csr-');
  const r = await cli(['renew', 'ca', '--root', root, '--now', now, '--csr-out', out]);
  assert.match(r.out, /here is a CSR for it → .*\/ca\.csr/, r.out + r.err);
  const text = o(['req', '-in', `${out}/ca.csr`, '-noout', '-text', '-verify']);
  assert.match(text, /Subject: CN = kubernetes/);
  assert.match(text, /CA:TRUE, pathlen:0/);
  // the CSR is the kept key's: the certificate the root's owner signs goes next to ca.key as it is
  assert.equal(o(['req', '-in', `${out}/ca.csr`, '-noout', '-pubkey']), o(['pkey', '-in', `${pki}/ca.key`, '-pubout']));
  assert.deepEqual(snapshotTree(root), before);
});

test('a critical extension Go does not handle is a critical-extension error (Go refuses the chain: "x509: unhandled critical extension"; a critical SKI or AIA it refuses to parse), on a leaf and on a CA; critical extensions Go knows are not; check said nothing and exited 0', async () => {
  const root = tmp('kubepki-odd-crit-');
  const dir = path.join(root, 'etc/ssl/odd');
  makeCa(dir);
  const leaf = (name: string, ext: string) => makeLeaf(dir, name, { ext: `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}` });
  leaf('private', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:p.example.test\n1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:hello\n');
  leaf('two', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:t.example.test\n1.3.6.1.4.1.99999.3=critical,ASN1:NULL\n1.3.6.1.4.1.99999.4=critical,ASN1:NULL\n');
  leaf('dirnc', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:n.example.test\nnameConstraints=critical,permitted;dirName:nc_sect\n[nc_sect]\nO=example\n');
  leaf('dnsnc', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:m.example.test\nnameConstraints=critical,permitted;DNS:example.test\n');
  leaf('dirsan', 'extendedKeyUsage=serverAuth\nsubjectAltName=critical,dirName:dir_sect\n[dir_sect]\nCN=x\n');
  leaf('ski', 'extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=critical,hash\n');
  leaf('aia', 'extendedKeyUsage=serverAuth\nauthorityInfoAccess=critical,OCSP;URI:http://ocsp.example.test\n');
  leaf('known', 'extendedKeyUsage=critical,serverAuth\nsubjectAltName=critical,DNS:k.example.test\ncertificatePolicies=critical,1.2.3.4\n');
  // a CA carrying one: every chain through it fails, so the finding is on the CA (openssl: depth 1)
  const sub = path.join(root, 'etc/ssl/sub');
  fs.mkdirSync(sub, { recursive: true });
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=private-ca', '-keyout', `${sub}/ca.key`, '-out', `${sub}/ca.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-addext', '1.3.6.1.4.1.99999.2=critical,ASN1:NULL']);
  makeLeaf(sub, 'under');
  const verified = sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, `${dir}/private.crt`]);
  assert.match(verified.stdout + verified.stderr, /unhandled critical extension/);
  const { now } = clock();

  const r = await cli(['check', '--root', root, '--path', '/etc/ssl', '--now', now, '-o', 'json']);
  assert.equal(r.code, 2, r.out + r.err);
  const inv = JSON.parse(r.out) as { certificates: { location: { file: string }; findings: { code: string; message: string }[] }[] };
  const found = (file: string) => inv.certificates.find((c) => c.location.file === file)!.findings.filter((f) => f.code === 'critical-extension').map((f) => f.message);
  assert.match(found('/etc/ssl/odd/private.crt').join(), /critical extension 1\.3\.6\.1\.4\.1\.99999\.1, which Go does not handle.*"x509: unhandled critical extension"\), as openssl verify does/);
  assert.match(found('/etc/ssl/odd/private.crt').join(), /without it or with it not critical/);
  // (two of them: one finding, its words in the plural)
  assert.deepEqual(found('/etc/ssl/odd/two.crt').length, 1);
  assert.match(found('/etc/ssl/odd/two.crt').join(), /critical extensions 1\.3\.6\.1\.4\.1\.99999\.3 and 1\.3\.6\.1\.4\.1\.99999\.4, which Go does not handle.*without them or with them not critical/);
  assert.match(found('/etc/ssl/odd/dirsan.crt').join(), /subjectAltName with no DNS, IP, e-mail or URI name/);
  assert.doesNotMatch(found('/etc/ssl/odd/dirsan.crt').join(), /openssl/); // (openssl verify takes it)
  assert.match(found('/etc/ssl/odd/ski.crt').join(), /"x509: subject key identifier incorrectly marked critical"/);
  assert.match(found('/etc/ssl/odd/aia.crt').join(), /"x509: authority info access incorrectly marked critical"/);
  assert.deepEqual(found('/etc/ssl/odd/known.crt'), []);
  // a directoryName constraint Go does not check (its parser leaves it unhandled), a DNS one it does
  assert.match(found('/etc/ssl/odd/dirnc.crt').join(), /critical extension nameConstraints on a name type other than DNS, IP, e-mail or URI \(a directoryName\), which Go does not handle/);
  assert.doesNotMatch(found('/etc/ssl/odd/dirnc.crt').join(), /openssl/);
  assert.deepEqual(found('/etc/ssl/odd/dnsnc.crt'), []);
  assert.deepEqual(found('/etc/ssl/odd/ca.crt'), []);
  assert.match(found('/etc/ssl/sub/ca.crt').join(), /1\.3\.6\.1\.4\.1\.99999\.2/);

  // renew keeps it, as it keeps every extension: the finding says so, and that re-issuing is the way out
  assert.equal((await cli(['renew', '--file', '/etc/ssl/odd/private.crt', '--root', root, '--now', now])).code, 0);
  assert.match(o(['x509', '-in', `${dir}/private.crt`, '-noout', '-text']), /1\.3\.6\.1\.4\.1\.99999\.1: critical/);
});

test('renewing a certificate saved with its openssl text dump above it (openssl x509 -text, openssl ca) drops that dump, which described the old serial and dates; a block not renewed keeps its own; restore puts the file back byte for byte', async () => {
  const root = tmp('kubepki-odd-text-');
  const dir = path.join(root, 'etc/ssl/odd');
  makeCa(dir);
  makeLeaf(dir, 'server');
  const crt = `${dir}/server.crt`;
  const dumped = (f: string) => o(['x509', '-in', f, '-text']);
  const oldSerial = o(['x509', '-in', crt, '-noout', '-serial']).trim().replace(/^serial=/, '');
  // the leaf with its dump, then the CA with its own, as `cat` of two `openssl x509 -text` outputs makes the chain
  fs.writeFileSync(crt, dumped(crt) + dumped(`${dir}/ca.crt`));
  const before = fs.readFileSync(crt);
  const { now, at } = clock();

  const r = await cli(['renew', '--file', '/etc/ssl/odd/server.crt', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const after = fs.readFileSync(crt, 'utf8');
  assert.ok(after.startsWith('-----BEGIN CERTIFICATE-----\n'), after.slice(0, 200));
  assert.equal(after.match(/^Certificate:$/gm)?.length, 1, 'the CA block keeps its dump');
  assert.match(after, /-----END CERTIFICATE-----\nCertificate:\n {4}Data:[\s\S]*Subject: CN = odd-ca[\s\S]*-----BEGIN CERTIFICATE-----/);
  assert.doesNotMatch(after.replace(/:/g, '').toLowerCase(), new RegExp(oldSerial.toLowerCase()));
  assert.notEqual(o(['x509', '-in', crt, '-noout', '-serial']).trim(), `serial=${oldSerial}`);
  assert.match(o(['verify', '-attime', at, '-CAfile', `${dir}/ca.crt`, crt]), /: OK/);

  const backup = /kubepki restore (\S+)/.exec(r.out)![1]!;
  assert.equal((await cli(['restore', backup, '--root', root])).code, 0);
  assert.deepEqual(fs.readFileSync(crt), before);
});

/** etcdctl (Go) against an etcd serving CRT/KEY, trusting CA: whether a put goes through. */
async function goAccepts(crt: string, key: string, ca: string): Promise<{ ok: boolean; out: string }> {
  const etcd = await servingEtcd(crt, key);
  try {
    const r = spawnSync(ETCDCTL, [`--endpoints=https://127.0.0.1:${etcd.port}`, '--cacert', ca, '--dial-timeout=3s', '--command-timeout=4s', 'put', 'kubepki', 'ok'],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally {
    await etcd.stop();
  }
}

test('a leaf whose issuer is its CA\'s name in other bytes (PrintableString; the CA re-made with openssl req -subj, UTF8String) is an issuer-encoding error: openssl verify accepts it, a real etcdctl does not; renew writes the CA\'s subject bytes and etcdctl then connects', { skip: (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed', timeout: 90_000 }, async () => {
  const root = tmp('kubepki-odd-enc-');
  const dir = path.join(root, 'etc/ssl/enc');
  fs.mkdirSync(dir, { recursive: true });
  o(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${dir}/ca.key`]);
  // the same CA key under two encodings of CN=enc-ca: Go's (PrintableString, string_mask=default) signs the leaf,
  // openssl's default (UTF8String) is the ca.crt the node keeps
  const cnf = `${dir}/printable.cnf`;
  fs.writeFileSync(cnf, '[req]\ndistinguished_name=dn\nstring_mask=default\nprompt=no\n[dn]\nCN=enc-ca\n');
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-addext', 'subjectKeyIdentifier=hash'];
  o(['req', '-x509', '-new', '-key', `${dir}/ca.key`, '-config', cnf, '-days', '3650', '-out', `${dir}/go-ca.crt`, ...caExt]);
  o(['req', '-x509', '-new', '-key', `${dir}/ca.key`, '-subj', '/CN=enc-ca', '-days', '3650', '-out', `${dir}/ca.crt`, ...caExt]);
  assert.match(o(['asn1parse', '-in', `${dir}/go-ca.crt`]), /PRINTABLESTRING\s+:enc-ca/);
  assert.match(o(['asn1parse', '-in', `${dir}/ca.crt`]), /UTF8STRING\s+:enc-ca/);
  fs.writeFileSync(`${dir}/leaf.ext`, 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\nauthorityKeyIdentifier=keyid\n');
  o(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=leaf', '-keyout', `${dir}/leaf.key`, '-out', `${dir}/leaf.csr`]);
  o(['x509', '-req', '-in', `${dir}/leaf.csr`, '-CA', `${dir}/go-ca.crt`, '-CAkey', `${dir}/ca.key`, '-days', '365', '-extfile', `${dir}/leaf.ext`, '-out', `${dir}/leaf.crt`]);
  const goCa = fs.readFileSync(`${dir}/go-ca.crt`, 'utf8');
  for (const f of ['go-ca.crt', 'leaf.csr', 'leaf.ext', 'printable.cnf']) fs.rmSync(`${dir}/${f}`);
  fs.chmodSync(`${dir}/leaf.key`, 0o600);
  fs.chmodSync(`${dir}/ca.key`, 0o600);
  const crt = `${dir}/leaf.crt`;
  assert.match(o(['verify', '-CAfile', `${dir}/ca.crt`, crt]), /: OK/);
  const before = await goAccepts(crt, `${dir}/leaf.key`, `${dir}/ca.crt`);
  assert.equal(before.ok, false, before.out);
  const { now } = clock();

  const r = await cli(['check', '--root', root, '--path', '/etc/ssl/enc', '--now', now]);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /ERROR\s+issuer-encoding\s+leaf: its issuer name "CN=enc-ca" is written as PrintableString, its CA's subject as UTF8String in ca; .*"x509: certificate signed by unknown authority"/);

  // a CA bundle that holds the CA in both spellings (Go finds the one in the leaf's bytes) is no problem
  const both = tmp('kubepki-odd-enc-both-');
  fs.cpSync(root, both, { recursive: true });
  fs.appendFileSync(`${both}/etc/ssl/enc/ca.crt`, goCa);
  assert.doesNotMatch((await cli(['check', '--root', both, '--path', '/etc/ssl/enc', '--now', now])).out, /issuer-encoding/);

  const renewed = await cli(['renew', '--file', '/etc/ssl/enc/leaf.crt', '--root', root, '--now', now]);
  assert.equal(renewed.code, 0, renewed.out + renewed.err);
  const after = await goAccepts(crt, `${dir}/leaf.key`, `${dir}/ca.crt`);
  assert.ok(after.ok, after.out);
  assert.doesNotMatch((await cli(['check', '--root', root, '--path', '/etc/ssl/enc', '--now', now])).out, /issuer-encoding/);
});

test('renewing an X.509 v1 root CA (openssl x509 -req -signkey: no extensions at all) writes v1 again; as v3 without basicConstraints it was no CA to openssl or to kubepki check (signer-not-ca), and nothing it signed verified', async () => {
  const root = tmp('kubepki-odd-v1-');
  const dir = path.join(root, 'etc/ssl/v1');
  fs.mkdirSync(dir, { recursive: true });
  o(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${dir}/ca.key`]);
  const caCsr = o(['req', '-new', '-key', `${dir}/ca.key`, '-subj', '/CN=v1-root']);
  o(['x509', '-req', '-signkey', `${dir}/ca.key`, '-days', '3650', '-out', `${dir}/ca.crt`], caCsr);
  assert.match(o(['x509', '-in', `${dir}/ca.crt`, '-noout', '-text']), /Version: 1 \(0x0\)/);
  fs.chmodSync(`${dir}/ca.key`, 0o600);
  // (no authorityKeyIdentifier: openssl would name the v1 CA, which has no SKI, by its issuer and serial)
  makeLeaf(dir, 'leaf', { ext: `${LEAF_EXT}authorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n` });
  const { now, at } = clock();

  const r = await cli(['renew', '--file', '/etc/ssl/v1/ca.crt', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const text = o(['x509', '-in', `${dir}/ca.crt`, '-noout', '-text']);
  assert.match(text, /Version: 1 \(0x0\)/);
  assert.doesNotMatch(text, /X509v3/);
  assert.match(o(['verify', '-attime', at, '-CAfile', `${dir}/ca.crt`, `${dir}/leaf.crt`]), /: OK/);
  const check = await cli(['check', '--root', root, '--path', '/etc/ssl/v1', '--now', now]);
  assert.equal(check.code, 0, check.out);
});

test('renew ca warns about a certificate that names the CA by its serial number (authorityKeyIdentifier keyid,issuer:always): the renewed CA\'s new serial makes openssl verify fail it; renewed in the same run it verifies', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const work = tmp('kubepki-odd-aki-');
  fs.writeFileSync(`${work}/aki.ext`, 'authorityKeyIdentifier=keyid,issuer:always\n');
  const req = o(['x509', '-in', `${pki}/apiserver.crt`, '-x509toreq', '-signkey', `${pki}/apiserver.key`, '-copy_extensions', 'copyall']);
  o(['x509', '-req', '-CA', `${pki}/ca.crt`, '-CAkey', `${pki}/ca.key`, '-copy_extensions', 'copyall', '-extfile', `${work}/aki.ext`, '-days', '365', '-out', `${pki}/apiserver.crt`], req);
  assert.match(o(['x509', '-in', `${pki}/apiserver.crt`, '-noout', '-ext', 'authorityKeyIdentifier']), /DirName:\/CN=kubernetes\s+serial:00/);
  const { now, at } = clock();

  const dry = await cli(['renew', 'ca', '--root', root, '--now', now, '--dry-run']);
  assert.match(dry.out, /apiserver names ca by its serial number 00 in its authorityKeyIdentifier: .*"unable to get local issuer certificate".*renew it in the same run \(kubepki renew ca apiserver --root /, dry.out);
  // what the warning says: the renewed CA alone leaves apiserver unverifiable to openssl
  const scratch = tmp('kubepki-odd-aki-ca-');
  fs.cpSync(root, scratch, { recursive: true, verbatimSymlinks: true });
  assert.equal((await cli(['renew', 'ca', '--root', scratch, '--now', now])).code, 0);
  assert.notEqual(sh('openssl', ['verify', '-attime', at, '-CAfile', `${scratch}/etc/kubernetes/pki/ca.crt`, `${scratch}/etc/kubernetes/pki/apiserver.crt`]).status, 0);

  const both = await cli(['renew', 'ca', 'apiserver', '--root', root, '--now', now]);
  assert.equal(both.code, 0, both.out + both.err);
  assert.doesNotMatch(both.out, /by its serial number/);
  assert.match(o(['verify', '-attime', at, '-CAfile', `${pki}/ca.crt`, `${pki}/apiserver.crt`]), /: OK/);
});

// A certificate found only in a file given with --path is not where renew looks by name: its findings said
// `kubepki renew leaf --root R`, which answers that no certificate of that name is under R.
test('a finding on a certificate read only through --path names renew --file, and that command renews it (a path with a space quoted, as the shell needs it)', async () => {
  const root = tmp('kubepki-odd-given-');
  const dir = path.join(root, 'etc/ssl/given certs');
  makeCa(dir);
  const ext = `${dir}/leaf.ext`;
  fs.writeFileSync(ext, LEAF_EXT);
  o(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=given-leaf', '-keyout', `${dir}/leaf.key`, '-out', `${dir}/leaf.csr`]);
  // SHA-1: a weak-signature error, whose fix is a renewal
  o(['x509', '-req', '-sha1', '-in', `${dir}/leaf.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`, '-days', '365', '-extfile', ext, '-out', `${dir}/leaf.crt`]);
  fs.rmSync(`${dir}/leaf.csr`);
  fs.rmSync(ext);
  fs.chmodSync(`${dir}/leaf.key`, 0o600);
  const { now } = clock();
  const check = await cli(['check', '--root', root, '--path', '/etc/ssl/given certs', '--now', now, '-o', 'json']);
  const weak = JSON.parse(check.out).findings.find((f: { code: string }) => f.code === 'weak-signature');
  assert.ok(weak, check.out);
  const cmd = /kubepki renew --file ('[^']*'|\S+) --root (\S+)/.exec(weak.message);
  assert.ok(cmd, weak.message);
  assert.equal(cmd[1], "'/etc/ssl/given certs/leaf.crt'");
  const r = await cli(['renew', '--file', cmd[1].slice(1, -1), '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(o(['x509', '-in', `${dir}/leaf.crt`, '-noout', '-text']), /Signature Algorithm: sha256WithRSAEncryption/);
});
