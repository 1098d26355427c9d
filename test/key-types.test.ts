// Keys outside kubeadm's usual three (an exploratory run with openssl-made trees): renew --new-key makes
// the same type and size again (RSA 3000 stayed 3000, not 4096; P-521 stayed P-521), never an RSA key
// under 2048 bits; the ServiceAccount key must be one kube-apiserver can sign tokens with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, sh, tmp, NOW } from './renew-support.js';

const PKI = 'etc/kubernetes/pki';

/** Replace front-proxy-client's key and certificate by openssl-made ones of `keyArgs`, signed by front-proxy-ca. */
function frontProxyClientWith(root: string, keyArgs: string[]): void {
  const pki = path.join(root, PKI);
  const key = path.join(pki, 'front-proxy-client.key');
  let r = sh('openssl', ['genpkey', ...keyArgs, '-out', key]);
  assert.equal(r.status, 0, r.stderr);
  fs.chmodSync(key, 0o600);
  const ext = path.join(root, 'ext.cnf');
  fs.writeFileSync(ext, 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n');
  const csr = sh('openssl', ['req', '-new', '-key', key, '-subj', '/CN=front-proxy-client']);
  assert.equal(csr.status, 0, csr.stderr);
  r = sh('openssl', ['x509', '-req', '-CA', path.join(pki, 'front-proxy-ca.crt'), '-CAkey', path.join(pki, 'front-proxy-ca.key'), '-set_serial', '4660', '-days', '300', '-extfile', ext, '-out', path.join(pki, 'front-proxy-client.crt')], csr.stdout);
  assert.equal(r.status, 0, r.stderr);
  fs.rmSync(ext);
}

function keyText(file: string): string {
  return sh('openssl', ['pkey', '-in', file, '-noout', '-text']).stdout.split('\n')[0]!;
}

for (const [label, keyArgs, want] of [
  ['RSA 3000', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3000'], /Private-Key: \(3000 bit/],
  ['ECDSA P-521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'], /Private-Key: \(521 bit/],
] as const) {
  test(`renew --new-key makes a ${label} key again, not the nearest kubeadm size`, async () => {
    const root = copyFixture('kubeadm-1.26');
    frontProxyClientWith(root, [...keyArgs]);
    const key = path.join(root, PKI, 'front-proxy-client.key');
    const before = fs.readFileSync(key);
    const r = await cli(['renew', 'front-proxy-client', '--new-key', '--root', root, '--now', NOW]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.doesNotMatch(r.out, /cannot generate|keeping the old key/);
    assert.notDeepEqual(fs.readFileSync(key), before, 'a new key');
    assert.match(keyText(key), want);
    const v = sh('openssl', ['verify', '-CAfile', path.join(root, PKI, 'front-proxy-ca.crt'), path.join(root, PKI, 'front-proxy-client.crt')]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const pair = [sh('openssl', ['x509', '-in', path.join(root, PKI, 'front-proxy-client.crt'), '-noout', '-pubkey']).stdout, sh('openssl', ['pkey', '-in', key, '-pubout']).stdout];
    assert.equal(pair[0], pair[1], 'the certificate carries the new key');
  });
}

test('an RSA 1024 key is a weak-key warning, and renew --new-key makes RSA 2048 for it and says so', async () => {
  const root = copyFixture('kubeadm-1.26');
  frontProxyClientWith(root, ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
  // openssl x509 -req starts the certificate at its own clock: judge the tree an hour later
  const start = sh('openssl', ['x509', '-in', path.join(root, PKI, 'front-proxy-client.crt'), '-noout', '-startdate']).stdout.trim().replace(/^notBefore=/, '');
  const now = new Date(Date.parse(start) + 3600_000).toISOString();
  const chk = await cli(['check', '--root', root, '--now', now]);
  assert.ok(chk.code >= 1, chk.out);
  assert.match(chk.out, /WARNING weak-key\s+front-proxy-client: RSA 1024 key, under kubeadm's 2048/);
  const r = await cli(['renew', 'front-proxy-client', '--new-key', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /key new \(rsa-2048\)/);
  assert.match(r.out, /new key RSA 2048, not RSA 1024/);
  assert.match(keyText(path.join(root, PKI, 'front-proxy-client.key')), /Private-Key: \(2048 bit/);
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.doesNotMatch(after.out, /weak-key/);
});

test('an Ed25519 sa.key is an sa-key-type error, and sa rotate asks for --key-type instead of making another; a P-521 one is rotated as P-521', async () => {
  const root = copyFixture('kubeadm-1.26');
  const saKey = path.join(root, PKI, 'sa.key');
  const saPub = path.join(root, PKI, 'sa.pub');
  const make = (args: string[]) => {
    assert.equal(sh('openssl', ['genpkey', ...args, '-out', saKey]).status, 0);
    fs.writeFileSync(saPub, sh('openssl', ['pkey', '-in', saKey, '-pubout']).stdout);
  };
  make(['-algorithm', 'ED25519']);
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(chk.code, 2, chk.out);
  assert.match(chk.out, /ERROR\s+sa-key-type\s+\/etc\/kubernetes\/pki\/sa\.key is an Ed25519 key; kube-apiserver signs ServiceAccount tokens with RSA or ECDSA keys only/);
  const before = fs.readFileSync(saKey);
  const r = await cli(['sa', 'rotate', '--root', root, '--now', NOW]);
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /^kubepki: failed to rotate \/etc\/kubernetes\/pki\/sa\.key: it is an ed25519 key, which kube-apiserver cannot sign ServiceAccount tokens with/);
  assert.match(r.err, /hint: pass --key-type/);
  assert.deepEqual(fs.readFileSync(saKey), before, 'nothing written');
  const typed = await cli(['sa', 'rotate', '--key-type', 'ecdsa-p256', '--root', root, '--now', NOW]);
  assert.equal(typed.code, 0, typed.err + typed.out);
  assert.match(keyText(saKey), /Private-Key: \(256 bit/);
  // the Ed25519 key is not kept in sa.pub "for verification": kube-apiserver skips such keys there (client-go
  // keyutil.ParsePublicKeysPEM keeps RSA and ECDSA only), so it never verified a token
  assert.match(typed.out, /sa\.pub: the new public key only\n/);
  assert.match(typed.out, /the previous Ed25519 public key is not kept in \/etc\/kubernetes\/pki\/sa\.pub: kube-apiserver reads only RSA and ECDSA keys from --service-account-key-file/);
  assert.doesNotMatch(typed.out, /kept for verification|--drop-old/);
  const pubText = fs.readFileSync(saPub, 'utf8');
  assert.equal(pubText.match(/-----BEGIN PUBLIC KEY-----/g)?.length, 1, pubText);
  assert.equal(pubText, sh('openssl', ['pkey', '-in', saKey, '-pubout']).stdout, 'sa.pub is the new key\'s public half');

  make(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']);
  const p521 = await cli(['sa', 'rotate', '--root', root, '--now', NOW]);
  assert.equal(p521.code, 0, p521.err + p521.out);
  assert.match(p521.out, /new ecdsa-p521 key/);
  assert.match(keyText(saKey), /Private-Key: \(521 bit/);
});

test('a legacy-encrypted key (Proc-Type: 4,ENCRYPTED) is ECDSA or RSA as its PEM label says, as openssl reads it decrypted; PKCS#8 ENCRYPTED PRIVATE KEY stays unknown; none is printed', async () => {
  const dir = tmp();
  const at = (f: string) => path.join(dir, f);
  const run = (args: string[]) => { const r = sh('openssl', args); assert.equal(r.status, 0, r.stderr); };
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at('ec.key')]);
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('rsa.key')]);
  run(['ec', '-in', at('ec.key'), '-aes256', '-passout', 'pass:s3cret', '-out', at('ec-legacy.key')]);
  run(['rsa', '-in', at('rsa.key'), '-traditional', '-aes256', '-passout', 'pass:s3cret', '-out', at('rsa-legacy.key')]);
  run(['pkey', '-in', at('ec.key'), '-aes256', '-passout', 'pass:s3cret', '-out', at('ec-pkcs8.key')]);
  for (const [f, label] of [['ec-legacy.key', 'EC PRIVATE KEY'], ['rsa-legacy.key', 'RSA PRIVATE KEY'], ['ec-pkcs8.key', 'ENCRYPTED PRIVATE KEY']]) {
    const text = fs.readFileSync(at(f!), 'utf8');
    assert.ok(text.startsWith(`-----BEGIN ${label}-----\n`), text.split('\n')[0]);
    assert.equal(/^Proc-Type: 4,ENCRYPTED$/m.test(text), label !== 'ENCRYPTED PRIVATE KEY');
  }
  // what openssl says the key is once decrypted
  const opensslAlgorithm = (f: string) => {
    const r = sh('openssl', ['pkey', '-in', at(f), '-passin', 'pass:s3cret', '-noout', '-text_pub']);
    assert.equal(r.status, 0, r.stderr);
    return /ASN1 OID: prime256v1/.test(r.stdout) ? 'ECDSA' : /Modulus:/.test(r.stdout) ? 'RSA' : r.stdout.split('\n')[0];
  };
  const inspect = async (f: string) => {
    const r = await cli(['inspect', at(f), '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /BEGIN|Proc-Type|DEK-Info|s3cret/, 'no key material, no headers');
    const keys = JSON.parse(r.out).keys;
    assert.equal(keys.length, 1);
    return keys[0];
  };
  const ec = await inspect('ec-legacy.key');
  assert.deepEqual([ec.encrypted, ec.format, ec.keyAlgorithm], [true, 'sec1', opensslAlgorithm('ec-legacy.key')]);
  assert.equal(ec.keyAlgorithm, 'ECDSA');
  assert.equal(ec.keySize, undefined, 'the size is inside the encryption');
  const rsa = await inspect('rsa-legacy.key');
  assert.deepEqual([rsa.encrypted, rsa.format, rsa.keyAlgorithm], [true, 'pkcs1', opensslAlgorithm('rsa-legacy.key')]);
  assert.equal(rsa.keyAlgorithm, 'RSA');
  const p8 = await inspect('ec-pkcs8.key');
  assert.deepEqual([p8.encrypted, p8.keyAlgorithm], [true, undefined]);
  const short = await cli(['inspect', at('ec-legacy.key')]);
  assert.match(short.out, /^Private key .*ec-legacy\.key\n\s+Type:\s+ECDSA \(sec1, encrypted\)$/m);
  assert.doesNotMatch(short.out + short.err, /BEGIN|DEK-Info/);
  assert.match((await cli(['inspect', at('ec-pkcs8.key')])).out, /Type:\s+unknown \(pkcs8, encrypted\)/);
});

// An EC key written with its curve spelled out (openssl ec -param_enc explicit, or genpkey ec_param_enc:explicit)
// is the same key as the named-curve one, but Go refuses both such a key file ("tls: failed to parse private key")
// and such a certificate ("x509: invalid ECDSA parameters"); openssl verify refuses the certificate too (error 94).
// check said "ok" (ECDSA 0, no curve), or "key-mismatch" for a named certificate; renew --new-key said "cannot
// generate a ECDSA 0 key" and kept it; renew copied the explicit parameters into the new certificate.
test('explicit EC parameters: an unsupported-key error naming the fix, never a key mismatch; renew writes the curve named and --new-key makes a named P-256 key', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, PKI);
  const crt = path.join(pki, 'front-proxy-client.crt');
  const key = path.join(pki, 'front-proxy-client.key');
  const fpca = path.join(pki, 'front-proxy-ca.crt');
  frontProxyClientWith(root, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit']);
  const start = sh('openssl', ['x509', '-in', crt, '-noout', '-startdate']).stdout.trim().replace(/^notBefore=/, '');
  const now = new Date(Date.parse(start) + 3600_000).toISOString();
  const verify = () => sh('openssl', ['verify', '-no_check_time', '-CAfile', fpca, crt]);
  const certText = () => sh('openssl', ['x509', '-in', crt, '-noout', '-text']).stdout;
  assert.match(verify().stdout + verify().stderr, /explicit ECC parameters/, 'openssl refuses the certificate');
  assert.doesNotMatch(certText(), /ASN1 OID/);

  const chk = await cli(['check', '--root', root, '--now', now]);
  assert.equal(chk.code, 2, chk.out);
  assert.match(chk.out, /ERROR\s+unsupported-key\s+front-proxy-client: its public key spells the EC curve out \(explicit parameters of P-256\)/);
  assert.match(chk.out, /"x509: invalid ECDSA parameters"/);
  assert.doesNotMatch(chk.out, /key-mismatch/);
  const json = JSON.parse((await cli(['check', '--root', root, '--now', now, '-o', 'json'])).out);
  const row = json.certificates.find((c: { name: string }) => c.name === 'front-proxy-client');
  assert.deepEqual([row.keyAlgorithm, row.keySize, row.curve, row.privateKey.matches], ['ECDSA', Number(/Public-Key: \((\d+) bit/.exec(certText())![1]), 'P-256', true]);
  assert.match((await cli(['inspect', key])).out, /Type:\s+ECDSA P-256, explicit parameters \(pkcs8\)/);
  // a curve spelled out that is none of Go's: said once (it read "ECDSA explicit parameters, explicit parameters")
  const brainpool = path.join(root, 'brainpool.key');
  assert.equal(sh('openssl', ['ecparam', '-name', 'brainpoolP256r1', '-genkey', '-param_enc', 'explicit', '-noout', '-out', brainpool]).status, 0);
  assert.match((await cli(['inspect', brainpool])).out, /Type:\s+ECDSA explicit parameters \(sec1\)\n/);

  // renew keeping the key: the certificate now names its curve (openssl verifies it); the key file still spells it out
  const kept = await cli(['renew', 'front-proxy-client', '--root', root, '--now', now]);
  assert.equal(kept.code, 0, kept.err + kept.out);
  assert.match(verify().stdout, /: OK/, verify().stdout + verify().stderr);
  assert.match(certText(), /ASN1 OID: prime256v1/);
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.match(after.out, new RegExp(`ERROR\\s+unsupported-key\\s+front-proxy-client: its private key /etc/kubernetes/pki/front-proxy-client.key spells the EC curve out .*openssl ec -in /etc/kubernetes/pki/front-proxy-client.key -param_enc named_curve`));
  assert.doesNotMatch(after.out, /key-mismatch/);
  // the same with the key under another name, found by its public key: said too (it was not)
  const moved = path.join(pki, 'proxy-tls.key');
  fs.renameSync(key, moved);
  const byKey = await cli(['check', '--root', root, '--now', now]);
  assert.match(byKey.out, /ERROR\s+unsupported-key\s+front-proxy-client: its private key \/etc\/kubernetes\/pki\/proxy-tls\.key spells the EC curve out/, byKey.out);
  fs.renameSync(moved, key);

  // the same key, its curve named, as the finding says: nothing left to report
  const named = sh('openssl', ['ec', '-in', key, '-param_enc', 'named_curve', '-out', key]);
  assert.equal(named.status, 0, named.stderr);
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', now])).out, /unsupported-key|key-mismatch/);

  // --new-key on an explicit key makes a P-256 key again, named
  frontProxyClientWith(root, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit']);
  const fresh = await cli(['renew', 'front-proxy-client', '--new-key', '--root', root, '--now', now]);
  assert.equal(fresh.code, 0, fresh.err + fresh.out);
  assert.doesNotMatch(fresh.out, /cannot generate|keeping the old key/);
  assert.match(sh('openssl', ['pkey', '-in', key, '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
  assert.match(verify().stdout, /: OK/);
  assert.equal(sh('openssl', ['x509', '-in', crt, '-noout', '-pubkey']).stdout, sh('openssl', ['pkey', '-in', key, '-pubout']).stdout, 'the certificate carries the new key');
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', now])).out, /unsupported-key|key-mismatch/);
});

/** openssl that fails the test when it fails, and an openssl config whose [ca] section has kubeadm's CA extensions. */
function opensslCaTools(root: string): { o: (...args: string[]) => void; ext: string } {
  const o = (...args: string[]) => { const r = sh('openssl', args); assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`); };
  const ext = path.join(root, 'ca.cnf');
  fs.writeFileSync(ext, '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nsubjectKeyIdentifier=hash\nsubjectAltName=DNS:front-proxy-ca\n');
  return { o, ext };
}

// Go's crypto/tls takes Ed25519 certificates (kube-apiserver, etcd, kubectl), kubeadm does not sign with an Ed25519
// CA key (pkiutil.TryLoadKeyFromDisk: "neither in RSA nor ECDSA format"): worth an info line, not a failing check.
test('an Ed25519 CA is an info-level unsupported-key (kubeadm cannot sign with it), and renew keeps it Ed25519 with an Ed25519 signature openssl verifies; inspect -o full names ED25519', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, PKI);
  const { o, ext } = opensslCaTools(root);
  o('genpkey', '-algorithm', 'ED25519', '-out', `${pki}/front-proxy-ca.key`);
  o('req', '-x509', '-new', '-key', `${pki}/front-proxy-ca.key`, '-days', '3650', '-subj', '/CN=front-proxy-ca', '-config', ext, '-extensions', 'ca', '-out', `${pki}/front-proxy-ca.crt`);
  frontProxyClientWith(root, ['-algorithm', 'ED25519']);
  const start = sh('openssl', ['x509', '-in', `${pki}/front-proxy-client.crt`, '-noout', '-startdate']).stdout.trim().replace(/^notBefore=/, '');
  const now = new Date(Date.parse(start) + 3600_000).toISOString();
  const chk = await cli(['check', '--root', root, '--now', now, '--warn', '1d']);
  assert.match(chk.out, /INFO\s+unsupported-key\s+front-proxy-ca: an Ed25519 CA key; .*kubeadm signs only with RSA or ECDSA CA keys/);
  assert.doesNotMatch(chk.out, /front-proxy-client: .*unsupported-key|unsupported-key\s+front-proxy-client/, 'an Ed25519 leaf is fine: kubeadm gives renewed leaves new keys');
  const fp = JSON.parse((await cli(['check', '--root', root, '--now', now, '-o', 'json'])).out).certificates.find((c: { name: string }) => c.name === 'front-proxy-client');
  assert.deepEqual([fp.keyAlgorithm, fp.signatureAlgorithm, fp.status, fp.privateKey.matches], ['Ed25519', 'ED25519', 'ok', true]);
  const r = await cli(['renew', 'front-proxy-client', 'front-proxy-ca', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.err + r.out);
  for (const f of ['front-proxy-ca.crt', 'front-proxy-client.crt']) {
    assert.match(sh('openssl', ['x509', '-in', `${pki}/${f}`, '-noout', '-text']).stdout, /Signature Algorithm: ED25519[\s\S]*Public Key Algorithm: ED25519/);
  }
  const v = sh('openssl', ['verify', '-no_check_time', '-CAfile', `${pki}/front-proxy-ca.crt`, `${pki}/front-proxy-client.crt`]);
  assert.match(v.stdout, /: OK/, v.stdout + v.stderr);
  // inspect's full view names the algorithm as openssl x509 -text does, not as a bare OID
  const full = (await cli(['inspect', `${pki}/front-proxy-client.crt`, '-o', 'full'])).out;
  assert.match(full, /Signature Algorithm: ED25519\n[\s\S]*Subject Public Key Info:\n\s+Algorithm: ED25519\n/);
  assert.doesNotMatch(full, /1\.3\.101\.112/);
});

// A key whose EC curve is spelled out is the same key as its named-curve certificate's: every place that pairs a
// key with its certificate compares the point, not the bytes (rebuild said "not the private key of front-proxy-ca.crt";
// check said sa.pub was not sa.key's public half).
test('rebuild and check pair an explicit-parameter EC key with its certificate and its sa.pub: no "not the private key", no sa-key-mismatch; such an sa.key is an sa-key-type error', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, PKI);
  const { o, ext } = opensslCaTools(root);
  const fpKey = `${pki}/front-proxy-ca.key`;
  // front-proxy-ca: a named P-256 certificate, its key file then rewritten with explicit parameters (the same key)
  o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', fpKey);
  o('req', '-x509', '-new', '-key', fpKey, '-days', '3650', '-subj', '/CN=front-proxy-ca', '-config', ext, '-extensions', 'ca', '-out', `${pki}/front-proxy-ca.crt`);
  o('ec', '-in', fpKey, '-param_enc', 'explicit', '-out', fpKey);
  // sa.key and sa.pub both with explicit parameters (openssl pkey -pubout keeps them)
  o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit', '-out', `${pki}/sa.key`);
  o('pkey', '-in', `${pki}/sa.key`, '-pubout', '-out', `${pki}/sa.pub`);
  fs.rmSync(`${pki}/front-proxy-client.crt`);
  fs.rmSync(`${pki}/front-proxy-client.key`);

  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.doesNotMatch(chk.out, /key-mismatch|sa-key-mismatch/, chk.out);
  // …but kube-apiserver cannot load such an sa.key: the fix keeps the key, so every token stays valid
  assert.match(chk.out, /ERROR\s+sa-key-type\s+\/etc\/kubernetes\/pki\/sa\.key spells its EC curve out \(explicit parameters\); kube-apiserver and kube-controller-manager cannot load it — rewrite it as the same key with the curve named \(openssl ec -in \/etc\/kubernetes\/pki\/sa\.key -param_enc named_curve/);
  const r = await cli(['rebuild', '--root', root, '--now', NOW]);
  assert.doesNotMatch(r.err + r.out, /not the private key/);
  assert.ok(r.code === 0 || r.code === 1, r.err + r.out);
  const v = sh('openssl', ['verify', '-no_check_time', '-CAfile', `${pki}/front-proxy-ca.crt`, `${pki}/front-proxy-client.crt`]);
  assert.match(v.stdout, /: OK/, v.stdout + v.stderr);
  assert.match(sh('openssl', ['x509', '-in', `${pki}/front-proxy-client.crt`, '-noout', '-text']).stdout, /Signature Algorithm: ecdsa-with-SHA256/);
});

test('an sa.key and sa.pub with explicit EC parameters: each is an sa-key-type error whose printed openssl command fixes it, keeping the key; between the two steps the halves are still one key, no sa-key-mismatch', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, PKI);
  sh('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit', '-out', `${pki}/sa.key`]);
  sh('openssl', ['pkey', '-in', `${pki}/sa.key`, '-pubout', '-out', `${pki}/sa.pub`]);
  const point = sh('openssl', ['pkey', '-in', `${pki}/sa.key`, '-noout', '-text']).stdout.match(/pub:\n([\s\S]*?)\nField Type/)![1];
  assert.ok(point);
  // the fix check prints for a file, run as printed (the node's paths under --root)
  const fixOf = (out: string, file: string): string[] => {
    const m = new RegExp(`sa-key-type +/etc/kubernetes/pki/${file.replace('.', '\\.')} spells its EC curve out .*\\((openssl ec [^)]*)\\)`).exec(out);
    assert.ok(m, out);
    return m[1]!.split(' ').slice(1).map((a) => (a.startsWith('/') ? path.join(root, a) : a));
  };
  const first = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(first.code, 2, first.out);
  assert.match(first.out, /ERROR +sa-key-type +\/etc\/kubernetes\/pki\/sa\.pub spells its EC curve out \(explicit parameters\); kube-apiserver cannot load it/);
  assert.equal(sh('openssl', fixOf(first.out, 'sa.key')).status, 0);
  const between = await cli(['check', '--root', root, '--now', NOW]);
  assert.doesNotMatch(between.out, /sa-key-mismatch|sa\.key spells/, between.out);
  assert.equal(sh('openssl', fixOf(between.out, 'sa.pub')).status, 0);
  const after = await cli(['check', '--root', root, '--now', NOW]);
  assert.doesNotMatch(after.out, /sa-key-type|sa-key-mismatch/, after.out);
  // the same key, its curve named in both files (what Go's keyutil loads)
  assert.equal(sh('openssl', ['pkey', '-in', `${pki}/sa.key`, '-pubout']).stdout, fs.readFileSync(`${pki}/sa.pub`, 'utf8'));
  assert.match(sh('openssl', ['pkey', '-pubin', '-in', `${pki}/sa.pub`, '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
  assert.ok(sh('openssl', ['pkey', '-in', `${pki}/sa.key`, '-noout', '-text']).stdout.includes(point));
});

// secp256k1 and RSA-PSS keys: openssl makes and verifies them, Go does not load them (etcdctl: "x509: unsupported
// elliptic curve", "tls: failed to parse private key"). check said "ok"; renew --new-key said "cannot generate a
// ECDSA 256 key; keeping the old key", so nothing on the node could fix them.
for (const [label, keyArgs, want, newKey] of [
  ['ECDSA secp256k1', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], /ECDSA key on curve secp256k1; Go programs .* use P-256, P-384 and P-521 only .* kubepki renew front-proxy-client --new-key --root \S+ makes it a P-256 key/, /ASN1 OID: prime256v1/],
  ['RSA-PSS', ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'], /RSA-PSS public key; Go programs .* do not know this key type .* --new-key --root \S+ makes it an RSA key/, /^Private-Key: \(2048 bit, 2 primes\)/m],
] as const) {
  test(`a ${label} key is an unsupported-key error, and renew --new-key replaces it by a key Go takes`, async () => {
    const root = copyFixture('kubeadm-1.26');
    frontProxyClientWith(root, [...keyArgs]);
    const pki = path.join(root, PKI);
    const start = sh('openssl', ['x509', '-in', path.join(pki, 'front-proxy-client.crt'), '-noout', '-startdate']).stdout.trim().replace(/^notBefore=/, '');
    const now = new Date(Date.parse(start) + 3600_000).toISOString();
    const chk = await cli(['check', '--root', root, '--now', now]);
    assert.equal(chk.code, 2, chk.out);
    assert.match(chk.out, new RegExp(`ERROR\\s+unsupported-key\\s+front-proxy-client: ${want.source}`));
    const r = await cli(['renew', 'front-proxy-client', '--new-key', '--root', root, '--now', now]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.doesNotMatch(r.out, /cannot generate|keeping the old key/);
    assert.match(r.out, /new key (ECDSA P-256|RSA 2048), not /);
    const key = path.join(pki, 'front-proxy-client.key');
    const text = sh('openssl', ['pkey', '-in', key, '-noout', '-text']).stdout;
    assert.match(text, newKey);
    assert.doesNotMatch(text, /PSS|secp256k1/);
    assert.match(sh('openssl', ['x509', '-in', path.join(pki, 'front-proxy-client.crt'), '-noout', '-text']).stdout, /Public Key Algorithm: (id-ecPublicKey|rsaEncryption)/);
    const v = sh('openssl', ['verify', '-CAfile', path.join(pki, 'front-proxy-ca.crt'), '-attime', String(Math.floor(Date.parse(now) / 1000)), path.join(pki, 'front-proxy-client.crt')]);
    assert.match(v.stdout, /: OK/, v.stdout + v.stderr);
    assert.equal(sh('openssl', ['x509', '-in', path.join(pki, 'front-proxy-client.crt'), '-noout', '-pubkey']).stdout, sh('openssl', ['pkey', '-in', key, '-pubout']).stdout);
    assert.doesNotMatch((await cli(['check', '--root', root, '--now', now])).out, /unsupported-key/);
  });
}

// An operator "moving to ECDSA" by putting a new P-256 ca.crt/ca.key in place of the RSA one: the leaves still
// chain only to the old CA, whose last copy is admin.conf's certificate-authority-data. renew said the CA's
// files were missing, while ca.crt is right there.
test('renew after ca.crt was replaced by a CA of another key type says the file holds another CA, not that it is missing', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, PKI);
  const r0 = sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${pki}/ca.key`, '-out', `${pki}/ca.crt`, '-days', '3650', '-subj', '/CN=kubernetes',
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', '-addext', 'basicConstraints=critical,CA:TRUE']);
  assert.equal(r0.status, 0, r0.stderr);
  const before = fs.readFileSync(`${pki}/apiserver.crt`);
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(r.out, /apiserver: can't renew \/etc\/kubernetes\/pki\/apiserver\.crt: the CA kubernetes that signed it is on this node only as the copy in \/etc\/kubernetes\/[a-z-]+\.conf, without its key; \/etc\/kubernetes\/pki\/ca\.crt is another CA of that name/);
  assert.doesNotMatch(r.out, /files are missing/);
  assert.deepEqual(fs.readFileSync(`${pki}/apiserver.crt`), before, 'nothing written');
});

// A surviving CA whose key kubeadm cannot make (an openssl-made Ed25519 CA): rebuild's leaves were RSA 2048
// labelled just "kubeadm default", as if nothing had been chosen. The choice is now named with its reason
// in the settings and the plan; the cluster's encryptionAlgorithm (--config) wins when known.
test('rebuild on a surviving Ed25519 CA says which key type it makes and why; a kubeadm config\'s encryptionAlgorithm wins', async () => {
  const root = tmp('kubepki-ed-ca-');
  const pki = path.join(root, PKI);
  fs.mkdirSync(pki, { recursive: true });
  let o = sh('openssl', ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', path.join(pki, 'ca.key'), '-out', path.join(pki, 'ca.crt'), '-subj', '/CN=kubernetes',
    '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature']);
  assert.equal(o.status, 0, o.stderr);
  const base = ['rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.30.2'];
  const r = await cli(base);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}keyType +rsa-2048 +kubeadm default RSA-2048 \(\/etc\/kubernetes\/pki\/ca\.crt has an Ed25519 key, which kubeadm's encryptionAlgorithm cannot be\)$/m);
  assert.match(r.out, /^ {2}- new keys are RSA 2048, kubeadm's default: \/etc\/kubernetes\/pki\/ca\.crt has an Ed25519 key.*Pass --key-type/m);
  assert.match(keyText(path.join(pki, 'apiserver.key')), /Private-Key: \(2048 bit/);
  o = sh('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]);
  assert.match(o.stdout, /apiserver\.crt: OK/, o.stdout + o.stderr);
  // the cluster's own choice, when its kubeadm config is at hand
  const cfg = path.join(root, 'kubeadm.yaml');
  fs.writeFileSync(cfg, 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nencryptionAlgorithm: ECDSA-P256\n');
  fs.rmSync(path.join(pki, 'apiserver.crt'));
  fs.rmSync(path.join(pki, 'apiserver.key'));
  const c = await cli([...base, '--config', cfg, '--dry-run']);
  assert.match(c.out, /^ {2}keyType +ecdsa-p256 +.*ClusterConfiguration\.encryptionAlgorithm/m, c.out);
  assert.match(c.out, /CREATE +\/etc\/kubernetes\/pki\/apiserver\.crt.*\n.*key ecdsa-p256/);
  assert.doesNotMatch(c.out, /new keys are RSA 2048/);
});

// an Ed448 certificate was "Ed448 456" (its public key's encoded bits) signed with "1.3.101.113": openssl names the
// algorithm ED448, the curve is Ed448-Goldilocks' 448 bits, as Ed25519 is 256
test('an Ed448 certificate is Ed448 448, signed ED448, as openssl names them; the fast scan says the same', async () => {
  const dir = tmp('kubepki-ed448-');
  const key = path.join(dir, 'e.key'), crt = path.join(dir, 'e.crt');
  sh('openssl', ['genpkey', '-algorithm', 'ed448', '-out', key]);
  sh('openssl', ['req', '-x509', '-key', key, '-subj', '/CN=ed448', '-days', '30', '-out', crt]);
  assert.match(sh('openssl', ['x509', '-in', crt, '-noout', '-text']).stdout, /Signature Algorithm: ED448/);
  const r = await cli(['inspect', crt, '--now', NOW, '-o', 'json']);
  const c = JSON.parse(r.out).certificates[0];
  assert.deepEqual([c.keyAlgorithm, c.keySize, c.signatureAlgorithm], ['Ed448', 448, 'ED448']);
  const { fastRecord, plainRecord } = await import('../src/inventory/scan.js');
  const { parsePemBlocks } = await import('../src/pki/pem.js');
  const fast = fastRecord(parsePemBlocks(fs.readFileSync(crt, 'latin1'))[0]!.der, crt, 0);
  assert.ok(fast, 'the fast path reads it');
  const p = plainRecord(fast);
  assert.deepEqual([p.keyAlgorithm, p.keySize], ['Ed448', 448]);
});
