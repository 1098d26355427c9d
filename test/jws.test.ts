import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { signClusterInfo, verifyClusterInfoJws, jwsKeyId } from '../src/pki/jws.js';
import { generateToken, parseToken, tokenSecretManifest, readTokenSecret, TOKEN_REGEX, randomTokenChars, parseDurationSeconds } from '../src/pki/bootstrap-token.js';
import { discoveryHash, parseDiscoveryHash, clusterInfoKubeconfig, clusterInfoConfigMap, discoveryHashesOfPem } from '../src/pki/discovery.js';
import { parsePemBlocks } from '../src/pki/pem.js';

const FIX = path.resolve(process.cwd(), '../shared/fixtures');
const rec = JSON.parse(fs.readFileSync(path.join(FIX, 'apiserver/bootstrap-token.json'), 'utf8'));
const clusterInfo = rec.requests.find((r: any) => r.path === '/api/v1/namespaces/kube-public/configmaps/cluster-info').responseBody;
const tokenSecret = rec.requests.find((r: any) => r.path.endsWith('/secrets/bootstrap-token-w7k2qx')).responseBody;
const CA_PEM = fs.readFileSync(path.join(FIX, 'kubeadm-1.26/etc/kubernetes/pki/ca.crt'), 'utf8');
const NOW = new Date('2026-11-22T21:43:39Z');

test('signClusterInfo reproduces the JWS the bootstrapsigner wrote for token w7k2qx', () => {
  const jws = signClusterInfo(clusterInfo.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0c');
  assert.equal(jws, clusterInfo.data['jws-kubeconfig-w7k2qx']);
  assert.ok(verifyClusterInfoJws(clusterInfo.data['jws-kubeconfig-w7k2qx'], clusterInfo.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0c'));
  assert.equal(jwsKeyId(jws), 'w7k2qx');
  assert.match(jws, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
});

/**
 * The detached JWS computed here from the specs alone, not with kubepki's code: RFC 7515 §3.1 compact
 * serialization with an HS256 (RFC 7518 §3.2) protected header {"alg":"HS256","kid":<token id>} (go-jose marshals
 * the header map with sorted keys), signing input BASE64URL(header) "." BASE64URL(payload), key the token secret's
 * bytes; RFC 7515 Appendix F: the payload left out of the serialization (k8s.io/cluster-bootstrap/token/jws
 * ComputeDetachedSignature).
 */
function independentJws(payload: string, id: string, secret: string): string {
  const enc = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const header = enc(Buffer.from(`{"alg":"HS256","kid":"${id}"}`, 'utf8'));
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${header}.${enc(Buffer.from(payload, 'utf8'))}`).digest();
  return `${header}..${enc(mac)}`;
}

test('signClusterInfo equals the JWS computed from RFC 7515/7518 alone (which reproduces the bootstrapsigner\'s recorded one), for new tokens and other kubeconfigs', () => {
  assert.equal(independentJws(clusterInfo.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0c'), clusterInfo.data['jws-kubeconfig-w7k2qx'], 'the independent computation is kubeadm\'s');
  const other = clusterInfoKubeconfig('https://[2001:db8::10]:6443', CA_PEM);
  for (let i = 0; i < 20; i++) {
    const { id, secret } = parseToken(generateToken());
    for (const payload of [clusterInfo.data.kubeconfig, other, `${other}\n`]) assert.equal(signClusterInfo(payload, id, secret), independentJws(payload, id, secret));
  }
});

test('verifyClusterInfoJws rejects a wrong secret, a changed payload and a re-serialised kubeconfig', () => {
  const sig = clusterInfo.data['jws-kubeconfig-w7k2qx'];
  assert.equal(verifyClusterInfoJws(sig, clusterInfo.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0d'), false);
  assert.equal(verifyClusterInfoJws(sig, clusterInfo.data.kubeconfig.replace('cluster-api', 'evil-api'), 'w7k2qx', '9fj3m1r8t4zq6b0c'), false);
  assert.equal(verifyClusterInfoJws(sig, clusterInfo.data.kubeconfig.trimEnd(), 'w7k2qx', '9fj3m1r8t4zq6b0c'), false);
  assert.equal(verifyClusterInfoJws(sig, clusterInfo.data.kubeconfig, 'abcdef', '9fj3m1r8t4zq6b0c'), false);
});

test('clusterInfoKubeconfig writes the recorded kubeconfig byte for byte', () => {
  assert.equal(clusterInfoKubeconfig('https://cluster-api.example.test:6443', CA_PEM), clusterInfo.data.kubeconfig);
  const cm = clusterInfoConfigMap('https://cluster-api.example.test:6443', CA_PEM, { w7k2qx: clusterInfo.data['jws-kubeconfig-w7k2qx'] });
  assert.deepEqual(cm.data, clusterInfo.data);
  assert.deepEqual(cm.metadata, { name: 'cluster-info', namespace: 'kube-public' });
});

test('tokenSecretManifest matches the Secret kubeadm made for w7k2qx', () => {
  const m = tokenSecretManifest({ token: 'w7k2qx.9fj3m1r8t4zq6b0c', ttl: '24h' }, NOW);
  assert.deepEqual(m.data, tokenSecret.data);
  assert.equal(m.type, tokenSecret.type);
  assert.equal(m.metadata.name, 'bootstrap-token-w7k2qx');
  assert.equal(m.metadata.namespace, 'kube-system');
  const info = readTokenSecret(tokenSecret, NOW)!;
  assert.equal(info.id, 'w7k2qx');
  assert.equal(info.secret, '9fj3m1r8t4zq6b0c');
  assert.deepEqual(info.usages, ['signing', 'authentication']);
  assert.deepEqual(info.groups, ['system:bootstrappers:kubeadm:default-node-token']);
  assert.equal(info.expired, false);
  assert.equal(readTokenSecret(tokenSecret, new Date('2026-11-23T21:43:39Z'))!.expired, true);
});

test('readTokenSecret reads expiration as Go\'s time.Parse(time.RFC3339) does: a value it cannot parse is an expired token, as kube-apiserver, the bootstrapsigner and the tokencleaner treat it (JavaScript\'s Date took a date alone, a space for the T, or 30 February as valid)', () => {
  const withExpiration = (v: string) => ({ ...tokenSecret, data: { ...tokenSecret.data, expiration: Buffer.from(v).toString('base64') } });
  for (const bad of ['2026-11-23 21:43:39', '2026-11-23', '2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T21:43:39', 'Mon, 23 Nov 2026 21:43:39 GMT']) {
    const info = readTokenSecret(withExpiration(bad), NOW)!;
    assert.equal(info.expired, true, bad);
    assert.equal(info.expiration, undefined, bad);
  }
  // what Go parses: fractions of a second, an offset
  const ok = readTokenSecret(withExpiration('2026-11-23T22:43:39.5+01:00'), NOW)!;
  assert.equal(ok.expired, false);
  assert.equal(ok.expiration!.toISOString(), '2026-11-23T21:43:39.500Z');
  assert.equal(readTokenSecret(withExpiration('2026-11-23T22:43:39.5+01:00'), new Date('2026-11-23T21:43:40Z'))!.expired, true);
});

test('tokenSecretManifest: ttl 0 never expires; explicit expiration; bad group and usage refused', () => {
  const never = tokenSecretManifest({ token: 'abcdef.0123456789abcdef', ttlSeconds: 0, usages: ['authentication'], groups: [] }, NOW);
  assert.equal(never.data.expiration, undefined);
  assert.equal(never.data['usage-bootstrap-signing'], undefined);
  assert.equal(never.data['auth-extra-groups'], undefined);
  const exp = tokenSecretManifest({ token: 'abcdef.0123456789abcdef', expiration: new Date('2026-12-01T00:00:00.750Z') }, NOW);
  assert.equal(Buffer.from(exp.data.expiration!, 'base64').toString(), '2026-12-01T00:00:00Z');
  assert.throws(() => tokenSecretManifest({ token: 'abcdef.0123456789abcdef', groups: ['system:masters'] }, NOW), /invalid token group/);
  assert.throws(() => tokenSecretManifest({ token: 'abcdef.0123456789abcdef', usages: ['admin'] }, NOW), /invalid token usage/);
  assert.equal(parseDurationSeconds('2h30m'), 9000);
  // kubeadm's Go durations (one parser with certificateValidityPeriod's); never a TTL that silently means "never"
  assert.equal(parseDurationSeconds('4.35h'), 15660);
  assert.equal(parseDurationSeconds('0'), 0);
  for (const bad of ['-1h', '500ms', '1d', '24']) assert.throws(() => parseDurationSeconds(bad), /invalid duration/, bad);
  assert.throws(() => parseDurationSeconds('2 days'));
});

test('generateToken matches the spec regex; rejection sampling keeps characters uniform', () => {
  for (let i = 0; i < 200; i++) assert.match(generateToken(), TOKEN_REGEX);
  // bytes 252..255 must be skipped, not folded onto 0..3
  const seq = [255, 254, 253, 252, 0, 35, 36, 251];
  let k = 0;
  const fake = (n: number) => Uint8Array.from({ length: n }, () => seq[k++ % seq.length]!);
  assert.equal(randomTokenChars(4, fake), '0z0z');
  // distribution: every character of the alphabet appears with a rough 1/36 share
  const counts = new Map<string, number>();
  const s = randomTokenChars(36 * 400);
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 36);
  for (const n of counts.values()) assert.ok(n > 250 && n < 560, `count ${n}`);
});

test('parseToken validates and never echoes the secret', () => {
  assert.deepEqual(parseToken('w7k2qx.9fj3m1r8t4zq6b0c'), { id: 'w7k2qx', secret: '9fj3m1r8t4zq6b0c' });
  assert.throws(() => parseToken('W7K2QX.9fj3m1r8t4zq6b0c'), /invalid bootstrap token/);
  assert.throws(() => parseToken('w7k2qx.9fj3m1r8t4zq6b0'), (e: Error) => !e.message.includes('9fj3m1r8t4zq6b0'));
});

function opensslHash(certPath: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-pubkey']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub });
  const dgst = execFileSync('openssl', ['dgst', '-sha256', '-hex'], { input: der }).toString();
  return `sha256:${dgst.trim().split(/\s+/).pop()}`;
}

test('discoveryHash equals the openssl pipeline for an RSA and an ECDSA CA', () => {
  const rsaPath = path.join(FIX, 'kubeadm-1.26/etc/kubernetes/pki/ca.crt');
  const rsa = parsePemBlocks(CA_PEM)[0]!.der;
  assert.equal(discoveryHash(rsa), opensslHash(rsaPath));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-jws-'));
  try {
    const key = path.join(tmp, 'ec.key');
    const crt = path.join(tmp, 'ec.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-subj', '/CN=ec-ca', '-days', '10'], { stdio: 'ignore' });
    const ecPem = fs.readFileSync(crt, 'utf8');
    const h = discoveryHash(parsePemBlocks(ecPem)[0]!.der);
    assert.equal(h, opensslHash(crt));
    assert.notEqual(h, discoveryHash(rsa));
    assert.deepEqual(discoveryHashesOfPem(CA_PEM + ecPem), [discoveryHash(rsa), h]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  assert.equal(parseDiscoveryHash('SHA256:' + 'AB'.repeat(32)), 'sha256:' + 'ab'.repeat(32));
  assert.equal(parseDiscoveryHash('sha256:abc'), undefined);
});
