// The public half of a private key read from its DER (check's fast path) must be
// byte for byte what OpenSSL exports, and it must never accept a key OpenSSL
// cannot load: checked on every key type kubeadm and other installers write,
// on the fixtures' keys, and on thousands of mutated keys.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { spkiOfPrivateKeyDer as spkiOrThrow, canonicalSpki, DamagedKeyError, type PrivateKeyDerFormat } from '../src/pki/key-spki.js';

/** The fast path's answer, a key it calls damaged counted as refused (stricter than OpenSSL, as Go is). */
function spkiOfPrivateKeyDer(der: Uint8Array, type: PrivateKeyDerFormat): Uint8Array | undefined {
  try {
    return spkiOrThrow(der, type);
  } catch (e) {
    if (e instanceof DamagedKeyError) return undefined;
    throw e;
  }
}
import { parsePrivateKeyBlock } from '../src/pki/keys.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { FIXTURES, openssl, tmpDir } from './support/fixtures.js';

function opensslSpki(der: Uint8Array, type: PrivateKeyDerFormat): Buffer | undefined {
  try {
    return createPublicKey(createPrivateKey({ key: Buffer.from(der), format: 'der', type })).export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

function keys(): { label: string; der: Buffer; type: PrivateKeyDerFormat; fast: boolean }[] {
  const out: { label: string; der: Buffer; type: PrivateKeyDerFormat; fast: boolean }[] = [];
  const add = (label: string, k: KeyObject, fast: boolean) => {
    const kind = k.asymmetricKeyType;
    if (kind === 'rsa') out.push({ label: `${label} pkcs1`, der: k.export({ type: 'pkcs1', format: 'der' }), type: 'pkcs1', fast });
    if (kind === 'ec') out.push({ label: `${label} sec1`, der: k.export({ type: 'sec1', format: 'der' }), type: 'sec1', fast });
    out.push({ label: `${label} pkcs8`, der: k.export({ type: 'pkcs8', format: 'der' }), type: 'pkcs8', fast });
  };
  add('rsa-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, true);
  add('rsa-1024 e=3', generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 3 }).privateKey, true);
  for (const c of ['P-256', 'P-384', 'P-521']) add(`ec ${c}`, generateKeyPairSync('ec', { namedCurve: c }).privateKey, true);
  add('secp256k1', generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, false);
  add('ed25519', generateKeyPairSync('ed25519').privateKey, false);
  add('rsa-pss', generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).privateKey, false);
  return out;
}

test('the public half read from the DER equals OpenSSL export for RSA and NIST EC keys in every encoding', () => {
  for (const k of keys()) {
    const fast = spkiOfPrivateKeyDer(k.der, k.type);
    if (!k.fast) { assert.equal(fast, undefined, `${k.label}: left to OpenSSL`); continue; }
    assert.ok(fast, `${k.label}: fast path applies`);
    assert.deepEqual(Buffer.from(fast), opensslSpki(k.der, k.type), k.label);
  }
});

test('every private key in the fixtures gives the same public half either way', () => {
  let n = 0;
  const walk = (dir: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) { walk(p); continue; }
      if (!d.isFile() || fs.statSync(p).size > 1_000_000) continue;
      const text = fs.readFileSync(p, 'latin1');
      if (!text.includes('PRIVATE KEY-----')) continue;
      for (const b of parsePemBlocks(text)) {
        const type = ({ 'RSA PRIVATE KEY': 'pkcs1', 'EC PRIVATE KEY': 'sec1', 'PRIVATE KEY': 'pkcs8' } as const)[b.label as 'PRIVATE KEY'];
        if (!type) continue;
        const fast = spkiOfPrivateKeyDer(b.der, type);
        assert.ok(fast, `${p}: fast path applies`);
        assert.deepEqual(Buffer.from(fast), opensslSpki(b.der, type), p);
        n++;
      }
    }
  };
  walk(FIXTURES);
  assert.ok(n >= 20, `read ${n} fixture keys`);
});

test('a mutated key is never accepted by the fast path when OpenSSL refuses it or sees another public key', () => {
  let seed = 0x5eed;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  let accepted = 0, checked = 0;
  for (const k of keys().filter((x) => x.fast)) {
    for (let i = 0; i < 400; i++) {
      const der = Buffer.from(k.der);
      const edits = 1 + rand(3);
      for (let e = 0; e < edits; e++) {
        const at = rand(Math.min(der.length, rand(2) ? 40 : der.length));
        der[at] = rand(3) === 0 ? der[at]! ^ (1 << rand(8)) : rand(256);
      }
      const fast = spkiOfPrivateKeyDer(der, k.type);
      checked++;
      if (!fast) continue;
      accepted++;
      const ssl = opensslSpki(der, k.type);
      assert.ok(ssl, `${k.label} mutation ${i}: the fast path accepted a key OpenSSL refuses`);
      assert.deepEqual(Buffer.from(fast), ssl, `${k.label} mutation ${i}: different public half`);
    }
  }
  assert.ok(accepted > 100 && accepted < checked, `accepted ${accepted} of ${checked}`);
});

test('parsePrivateKeyBlock: the fast path still loads the key for signing, and a key OpenSSL refuses says corrupt when it is needed', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = privateKey.export({ type: 'sec1', format: 'der' });
  const info = parsePrivateKeyBlock('EC PRIVATE KEY', der);
  assert.deepEqual(Buffer.from(info.spki!), createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  assert.equal(info.key?.algorithm, 'ECDSA');
  assert.equal(info.keyObject?.asymmetricKeyType, 'ec');
  // a truncated RSA key never reaches the fast path: the read itself says corrupt
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'der' });
  assert.throws(() => parsePrivateKeyBlock('RSA PRIVATE KEY', rsa.subarray(0, rsa.length - 5)), /corrupt private key \(RSA PRIVATE KEY\)/);
});

test('a PUBLIC KEY block (sa.pub) is taken as it is only when OpenSSL would export the same bytes', () => {
  let seed = 0xbeef;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const opensslPub = (der: Uint8Array): Buffer | undefined => {
    try { return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }); } catch { return undefined; }
  };
  let accepted = 0, checked = 0;
  for (const k of keys()) {
    const pub = createPublicKey(createPrivateKey({ key: k.der, format: 'der', type: k.type })).export({ type: 'spki', format: 'der' });
    const fast = canonicalSpki(pub);
    if (k.fast) assert.deepEqual(fast && Buffer.from(fast), pub, `${k.label}: taken as it is`);
    else assert.equal(fast, undefined, `${k.label}: left to OpenSSL`);
    if (!k.fast) continue;
    for (let i = 0; i < 300; i++) {
      const der = Buffer.from(pub);
      const at = rand(der.length);
      der[at] = rand(2) ? der[at]! ^ (1 << rand(8)) : rand(256);
      checked++;
      const f = canonicalSpki(der);
      if (!f) continue;
      accepted++;
      assert.deepEqual(Buffer.from(f), opensslPub(der), `${k.label} mutation ${i} at ${at}`);
    }
  }
  assert.ok(accepted > 50 && accepted < checked, `accepted ${accepted} of ${checked}`);
});

test('structural changes OpenSSL refuses are never taken by the fast path: a trailing element, trailing bytes in [0], a long-form length', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const wrap = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), lenBytes(body.length), body]);
  const lenBytes = (n: number) => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
  const body = (der: Buffer) => { const h = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f); return der.subarray(h); };
  const cases: [string, Buffer, PrivateKeyDerFormat][] = [];
  // PKCS#8 with a NULL after the key (OpenSSL: refuses)
  const p8 = rsa.export({ type: 'pkcs8', format: 'der' });
  cases.push(['pkcs8 + trailing NULL', wrap(0x30, Buffer.concat([body(p8), Buffer.from([0x05, 0x00])])), 'pkcs8']);
  // SEC1 with bytes after the curve OID inside [0]
  const s1 = ec.export({ type: 'sec1', format: 'der' });
  const i0 = s1.indexOf(Buffer.from('a00a06082a8648ce3d030107', 'hex'));
  assert.ok(i0 > 0);
  const patched = Buffer.concat([s1.subarray(0, i0), Buffer.from('a00c06082a8648ce3d0301070500', 'hex'), s1.subarray(i0 + 12)]);
  cases.push(['sec1 [0] + trailing NULL', wrap(0x30, body(patched)), 'sec1']);
  // PKCS#1 whose public exponent has a long-form length (BER, not DER)
  const p1 = rsa.export({ type: 'pkcs1', format: 'der' });
  const e = p1.indexOf(Buffer.from('0203010001', 'hex'));
  assert.ok(e > 0);
  cases.push(['pkcs1 e with 0x81 length', wrap(0x30, body(Buffer.concat([p1.subarray(0, e), Buffer.from('028103010001', 'hex'), p1.subarray(e + 5)]))), 'pkcs1']);
  for (const [label, der, type] of cases) {
    const fast = spkiOfPrivateKeyDer(der, type);
    const ssl = opensslSpki(der, type);
    if (fast) assert.deepEqual(Buffer.from(fast), ssl, `${label}: the fast path agrees with OpenSSL`);
    if (!ssl) assert.equal(fast, undefined, `${label}: OpenSSL refuses it, so must the fast path`);
  }
  assert.equal(opensslSpki(cases[0]![1], 'pkcs8'), undefined, 'OpenSSL refuses a PKCS#8 key with a trailing element');
  assert.equal(spkiOfPrivateKeyDer(cases[2]![1], 'pkcs1'), undefined, 'a BER length goes to OpenSSL');
  // and random insertions and deletions (lengths change), not only byte flips
  let seed = 0xfeed;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (const k of keys().filter((x) => x.fast)) {
    for (let i = 0; i < 200; i++) {
      const at = rand(k.der.length);
      const der = rand(2)
        ? Buffer.concat([k.der.subarray(0, at), Buffer.from([rand(256)]), k.der.subarray(at)])
        : Buffer.concat([k.der.subarray(0, at), k.der.subarray(at + 1)]);
      const fast = spkiOfPrivateKeyDer(der, k.type);
      if (!fast) continue;
      const ssl = opensslSpki(der, k.type);
      assert.ok(ssl, `${k.label} insert/delete at ${at}: accepted what OpenSSL refuses`);
      assert.deepEqual(Buffer.from(fast), ssl, `${k.label} insert/delete at ${at}`);
    }
  }
});

test('an RSA key whose numbers do not fit together (Go refuses it, openssl rsa -check too) is a damaged key, not "matches"', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const der = privateKey.export({ type: 'pkcs1', format: 'der' });
  const jwk = privateKey.export({ format: 'jwk' });
  // flip a bit in the middle of q (the 6th INTEGER): the structure stays valid, n is no longer p·q
  const q = Buffer.from(jwk.q!, 'base64url');
  const at = der.indexOf(q);
  assert.ok(at > 0);
  const bad = Buffer.from(der);
  bad[at + 20] ^= 0x04;
  const pem = (b: Buffer) => `-----BEGIN RSA PRIVATE KEY-----\n${b.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END RSA PRIVATE KEY-----\n`;
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'bad.key'), pem(bad));
  fs.writeFileSync(path.join(dir, 'good.key'), pem(der));
  assert.match(openssl(['rsa', '-check', '-noout', '-in', path.join(dir, 'good.key')]).stdout, /RSA key ok/);
  const ossl = openssl(['rsa', '-check', '-noout', '-in', path.join(dir, 'bad.key')]);
  assert.doesNotMatch(ossl.stdout, /RSA key ok/, 'openssl rsa -check refuses it too');
  assert.throws(() => spkiOrThrow(bad, 'pkcs1'), DamagedKeyError);
  assert.throws(() => parsePrivateKeyBlock('RSA PRIVATE KEY', bad), /damaged private key \(RSA PRIVATE KEY\): n is not p·q .*Go programs/);
  // the same through OpenSSL's path (a PKCS#8 key with attributes is not taken by the fast path)
  const p8 = createPrivateKey({ key: bad, format: 'der', type: 'pkcs1' }).export({ type: 'pkcs8', format: 'der' });
  const withAttrs = Buffer.concat([Buffer.from([0x30, 0x82]), Buffer.alloc(2), p8.subarray(4), Buffer.from([0xa0, 0x00])]);
  withAttrs.writeUInt16BE(withAttrs.length - 4, 2);
  assert.equal(spkiOfPrivateKeyDer(withAttrs, 'pkcs8'), undefined, 'left to OpenSSL');
  assert.throws(() => parsePrivateKeyBlock('PRIVATE KEY', withAttrs), /damaged private key \(PRIVATE KEY\)/);
  assert.doesNotThrow(() => parsePrivateKeyBlock('RSA PRIVATE KEY', der));
});

test('valid multi-prime RSA keys are not called damaged (openssl rsa -check agrees); a wrong dp or qinv is damaged, as Go ≥ 1.24 and openssl say', () => {
  const dir = tmpDir();
  const k3 = path.join(dir, 'three.key');
  assert.equal(openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_primes:3', '-out', k3]).status, 0);
  assert.match(openssl(['rsa', '-check', '-noout', '-in', k3]).stdout, /RSA key ok/);
  const obj = createPrivateKey(fs.readFileSync(k3));
  for (const type of ['pkcs1', 'pkcs8'] as const) {
    const der = obj.export({ type, format: 'der' });
    const info = parsePrivateKeyBlock(type === 'pkcs1' ? 'RSA PRIVATE KEY' : 'PRIVATE KEY', der);
    assert.deepEqual(Buffer.from(info.spki!), createPublicKey(obj).export({ type: 'spki', format: 'der' }), `3-prime ${type}`);
  }
  // dp + 2 (the 7th INTEGER): n, p, q, d all fine, the CRT exponent wrong
  const two = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const der = Buffer.from(two.export({ type: 'pkcs1', format: 'der' }));
  const dp = Buffer.from(two.export({ format: 'jwk' }).dp!, 'base64url');
  const at = der.indexOf(dp);
  assert.ok(at > 0);
  der[at + dp.length - 1] = (der[at + dp.length - 1]! + 2) & 0xff;
  const file = path.join(dir, 'dp.key');
  fs.writeFileSync(file, `-----BEGIN RSA PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END RSA PRIVATE KEY-----\n`);
  assert.doesNotMatch(openssl(['rsa', '-check', '-noout', '-in', file]).stdout, /RSA key ok/, 'openssl rsa -check refuses it');
  assert.throws(() => parsePrivateKeyBlock('RSA PRIVATE KEY', der), /damaged private key \(RSA PRIVATE KEY\): dp or dq/);
});

test('renew with a damaged leaf key says so and needs --new-key; a damaged CA key is named, not "missing"', async () => {
  const { copyFixture } = await import('./support/fixtures.js');
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const cli = async (argv: string[]) => { const io = memoryIo({}); const code = await run(argv, io); return { code, out: io.out, err: io.err }; };
  const damage = (file: string) => {
    const k = createPrivateKey(fs.readFileSync(file));
    const der = Buffer.from(k.export({ type: 'pkcs1', format: 'der' }));
    const q = Buffer.from(k.export({ format: 'jwk' }).q!, 'base64url');
    der[der.indexOf(q) + 10] ^= 0x01;
    fs.writeFileSync(file, `-----BEGIN RSA PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END RSA PRIVATE KEY-----\n`);
  };
  const root = copyFixture('kubeadm-1.26-expired');
  damage(path.join(root, 'etc/kubernetes/pki/apiserver.key'));
  let r = await cli(['renew', 'apiserver', '--root', root, '--now', '2026-11-23']);
  assert.match(r.out, /can't renew \/etc\/kubernetes\/pki\/apiserver\.crt with its key: .*damaged private key.*--new-key/);
  r = await cli(['renew', 'apiserver', '--new-key', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.code, 0, r.out + r.err);
  const inv = JSON.parse((await cli(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'])).out);
  const api = inv.certificates.find((c: any) => c.name === 'apiserver');
  assert.equal(api.status, 'ok');
  assert.equal(api.privateKey.matches, true);
  const root2 = copyFixture('kubeadm-1.26-expired');
  damage(path.join(root2, 'etc/kubernetes/pki/front-proxy-ca.key'));
  r = await cli(['renew', 'front-proxy-client', '--root', root2, '--now', '2026-11-23']);
  assert.match(r.out, /the key of CA front-proxy-ca is damaged \(.*\); restore it/);
});

test('spkiPublicKey (an RSA key through its JWK numbers) is the key the DER names, for every key type; a mutated SPKI never becomes another key', async () => {
  const { spkiPublicKey } = await import('../src/pki/certificate.js');
  const keys = [
    generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3 }).publicKey,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
    generateKeyPairSync('ed25519').publicKey,
  ];
  for (const k of keys) {
    const der = k.export({ type: 'spki', format: 'der' });
    assert.deepEqual(spkiPublicKey(der).export({ type: 'spki', format: 'der' }), der, `${k.asymmetricKeyType}`);
  }
  // any byte changed: the same key refused by both ways, or a key whose DER is exactly what was given
  const der = keys[0]!.export({ type: 'spki', format: 'der' });
  for (let i = 0; i < der.length; i += 7) {
    const m = Buffer.from(der);
    m[i] ^= 0x5a;
    let viaDer: Buffer | undefined;
    try { viaDer = createPublicKey({ key: m, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }); } catch { /* refused */ }
    let ours: Buffer | undefined;
    try { ours = spkiPublicKey(m).export({ type: 'spki', format: 'der' }); } catch { /* refused */ }
    if (ours) assert.ok(viaDer && ours.equals(viaDer), `byte ${i}: JWK route made a key OpenSSL does not read from these bytes`);
  }
});
