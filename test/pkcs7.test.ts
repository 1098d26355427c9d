// PKCS#7 certificate bundles (.p7b as corporate CAs hand out chains, `openssl crl2pkcs7 -nocrl`):
// inspect and check read every certificate in them, in order, as openssl pkcs7 -print_certs does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { pkcs7Certificates, isPkcs7 } from '../src/pki/pkcs7.js';
import { DerError } from '../src/pki/der.js';
import { Certificate } from '../src/pki/certificate.js';
import { FIXTURES, openssl, tmpDir } from './support/fixtures.js';

const PKI = path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki');
const CAS = ['ca.crt', 'front-proxy-ca.crt', 'etcd/ca.crt'].map((f) => path.join(PKI, f));

function bundle(dir: string, der: boolean): string {
  const out = path.join(dir, der ? 'chain-der.p7b' : 'chain.p7b');
  const r = openssl(['crl2pkcs7', '-nocrl', ...CAS.flatMap((f) => ['-certfile', f]), ...(der ? ['-outform', 'DER'] : []), '-out', out]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const fingerprint = (file: string) => openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.split('=')[1]!.trim().replaceAll(':', '').toLowerCase();

async function cli(argv: string[]) {
  const io = memoryIo({});
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

test('inspect reads a PKCS#7 bundle, PEM and DER: every certificate, in order, the same as openssl pkcs7 -print_certs', async () => {
  const dir = tmpDir();
  for (const der of [false, true]) {
    const file = bundle(dir, der);
    const printed = openssl(['pkcs7', '-in', file, ...(der ? ['-inform', 'DER'] : []), '-print_certs', '-noout']).stdout;
    assert.equal((printed.match(/^subject=/gm) ?? []).length, 3);
    const r = await cli(['inspect', file, '-o', 'json']);
    assert.equal(r.code, 0, r.err);
    const inv = JSON.parse(r.out);
    assert.deepEqual(inv.certificates.map((c: any) => c.fingerprint), CAS.map(fingerprint), der ? 'DER' : 'PEM');
    assert.deepEqual(inv.certificates.map((c: any) => c.subject), ['CN=kubernetes', 'CN=front-proxy-ca', 'CN=etcd-ca']);
  }
});

test('the old PEM label "PKCS #7 SIGNED DATA" (OpenSSL reads it too) and a PEM bundle without certificates', async () => {
  const dir = tmpDir();
  const pem = fs.readFileSync(bundle(dir, false), 'latin1').replaceAll('PKCS7', 'PKCS #7 SIGNED DATA');
  const old = path.join(dir, 'old.p7b');
  fs.writeFileSync(old, pem);
  assert.equal(openssl(['pkcs7', '-in', old, '-print_certs', '-noout']).status, 0);
  const r = await cli(['inspect', old, '-o', 'json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).certificates.length, 3);
  const empty = path.join(dir, 'empty.pem');
  assert.equal(openssl(['crl2pkcs7', '-nocrl', '-out', empty]).status, 0);
  const e = await cli(['inspect', empty]);
  assert.equal(e.code, 3);
  assert.match(e.err, /PKCS#7 bundle without certificates/);
});

test('check --path finds .p7b bundles in a directory', async () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'etc/ssl/corp'), { recursive: true });
  fs.copyFileSync(bundle(tmpDir(), true), path.join(dir, 'etc/ssl/corp/chain.p7b'));
  const r = await cli(['check', '--root', dir, '--path', '/etc/ssl/corp', '--now', '2026-11-23', '-o', 'json']);
  assert.ok(r.code < 3, r.err);
  const inv = JSON.parse(r.out);
  assert.equal(inv.certificates.length, 3);
  assert.ok(inv.certificates.every((c: any) => c.location.file === '/etc/ssl/corp/chain.p7b'));
});

test('a PKCS#7 bundle without certificates, and thousands of damaged ones: one clear error each, never a crash', async () => {
  const dir = tmpDir();
  const empty = path.join(dir, 'empty.p7b');
  assert.equal(openssl(['crl2pkcs7', '-nocrl', '-outform', 'DER', '-out', empty]).status, 0);
  assert.ok(isPkcs7(fs.readFileSync(empty)));
  assert.deepEqual(pkcs7Certificates(fs.readFileSync(empty)), []);
  const r = await cli(['inspect', empty]);
  assert.equal(r.code, 3);
  assert.match(r.err, /PKCS#7 bundle without certificates/);
  const good = fs.readFileSync(bundle(dir, true));
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const der = Buffer.from(good);
    for (let k = 1 + rand(3); k > 0; k--) der[rand(Math.min(der.length, rand(2) ? 64 : der.length))] = rand(256);
    try {
      for (const c of pkcs7Certificates(der)) new Certificate(c).checkFields();
    } catch (e) {
      if (!(e instanceof DerError || e instanceof RangeError)) throw e;
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} damaged bundles refused`);
});

test('renew leaves a PKCS#7 bundle alone and says why; everything else in the tree is renewed', async () => {
  const { copyFixture } = await import('./support/fixtures.js');
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const p7b = path.join(pki, 'corp-chain.p7b');
  assert.equal(openssl(['crl2pkcs7', '-nocrl', '-certfile', path.join(pki, 'apiserver.crt'), '-certfile', path.join(pki, 'ca.crt'), '-outform', 'DER', '-out', p7b]).status, 0);
  const before = fs.readFileSync(p7b);
  const r = await cli(['renew', 'all', '--root', root, '--now', '2026-11-23']);
  assert.ok(r.code < 3, r.err);
  assert.match(r.out + r.err, /apiserver: its copy in \/etc\/kubernetes\/pki\/corp-chain\.p7b \(a PKCS#7 bundle\) is not rewritten/);
  assert.deepEqual(fs.readFileSync(p7b), before, 'the bundle is untouched');
  // a certificate found only in a bundle: renew says it does not rewrite bundles
  const own = await cli(['renew', '--file', '/etc/kubernetes/pki/corp-chain.p7b', '--root', root, '--now', '2026-11-23']);
  assert.match(own.out + own.err, /corp-chain\.p7b is a PKCS#7 bundle: kubepki does not rewrite bundles/);
  assert.deepEqual(fs.readFileSync(p7b), before, 'still untouched');
  const after = JSON.parse((await cli(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'])).out);
  const stale = after.certificates.filter((c: any) => c.status === 'expired');
  assert.ok(stale.length > 0 && stale.every((c: any) => c.location.kind === 'pkcs7'), 'only the bundle\'s copy is still expired');
});

test('a PKCS#12 file (.p12/.pfx, with or without a password) is named as one, with the openssl command that opens it; in a directory check reads it is not a broken certificate', async () => {
  const dir = tmpDir();
  for (const [name, pass] of [['empty.p12', ''], ['client.pfx', 'secret']] as const) {
    const file = path.join(dir, name);
    const r = openssl(['pkcs12', '-export', '-in', path.join(PKI, 'apiserver-kubelet-client.crt'), '-inkey', path.join(PKI, 'apiserver-kubelet-client.key'), '-out', file, '-passout', `pass:${pass}`]);
    assert.equal(r.status, 0, r.stderr);
    const c = await cli(['inspect', file]);
    assert.equal(c.code, 3);
    assert.match(c.err, new RegExp(`^kubepki: failed to inspect ${file.replaceAll('.', '\\.')}: a PKCS#12 bundle, which kubepki does not open: openssl pkcs12 -in \\S+ -nokeys \\| kubepki inspect -\\n`));
  }
  fs.copyFileSync(path.join(PKI, 'ca.crt'), path.join(dir, 'ca.crt'));
  const check = await cli(['check', '--root', dir, '--layout', 'generic', '--path', '/', '--now', '2026-11-23', '-o', 'json']);
  const inv = JSON.parse(check.out);
  assert.deepEqual(inv.findings.filter((f: { code: string }) => f.code === 'corrupt'), []);
  assert.equal(inv.certificates.length, 1);
});
