// src/inventory/names.ts replaced regular expressions (for start-up: V8 compiles each at its first use in
// every process). Each helper must say exactly what the pattern said: checked against the pattern on
// hand-picked names and on thousands of seeded ones built from the pieces that matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allDigits, isCertishName, isKubeconfigishName, isKubeletCurrentPath, isKubeletRotatedPath, kubeletPairName,
  unbracket, withoutCertExtension, withoutYamlExtension,
} from '../src/inventory/names.js';

const PIECES = [
  '', 'a', '.', '/', '-', '_', '[', ']', ':', '1', '2024', '-01', 'x', 'K', '\u212a', 'İ',
  '.crt', '.CRT', '.pem', '.Pem', '.cer', '.cert', '.der', '.key', '.KEY', '.pub', '.csr', '.p7b', '.p7c', '.p12',
  '.conf', '.Conf', '.kubeconfig', '.yaml', '.YML', '.yml', '.ya', 'kubeconfig', 'config', 'Config',
  'kubelet-', 'client', 'server', 'current', 'updated', 'kubelet-client-', 'kubelet-server-', '/kubelet-client-',
  '2024-01-31-12-00-00', '2024-1-31-12-00-00', '0000-00-00-00-00-00', '/var/lib/kubelet/pki',
];

function* names(count: number, seed: number): Generator<string> {
  let x = seed;
  const next = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x; };
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let n = next() % 5; n >= 0; n--) s += PIECES[next() % PIECES.length];
    yield s;
  }
}

const HAND = [
  'apiserver.crt', 'apiserver.key', 'sa.pub', 'ca.CRT', 'x.p7c', '.crt', 'crt', 'a.d/b', 'dir.crt/file', 'admin.conf', 'kubeconfig', 'KUBECONFIG',
  'config', 'my.config', 'k3s.yaml', 'x.yml', 'x.ya', 'kubelet-client-current.pem', 'kubelet-client-2024-01-31-12-00-00.pem',
  'kubelet-server-updated.pem', 'kubelet-client-.pem', 'kubelet-client.pem', 'kubelet-clientx2024-01-31-12-00-00.pem',
  'kubelet-client-2024-01-31-12-00-0.pem', 'kubelet-client-2024-01-31-12-00-00.pem.bak', '/var/lib/kubelet/pki/kubelet-client-current.pem',
  '/var/lib/kubelet/pki/kubelet-server-2024-01-31.pem', '/x/kubelet-client--.pem', 'kubelet-client-1.pem', '/kubelet-server-1.pem', '[::1]', '[', ']', '[]', 'h]', '[h',
  'x.\u212aey', '',
];

// and the kubelet's pair names, piece by piece
const pairs: string[] = [];
for (const dir of ['', '/', '/var/lib/kubelet/pki/', 'pki/x'])
  for (const kind of ['kubelet-client', 'kubelet-server', 'kubelet-clients', 'kubelet'])
    for (const sep of ['-', '_', ''])
      for (const stamp of ['2024-01-31-12-00-00', 'updated', 'current', '2024-1-31-12-00-00', '20240131120000', '1', '-', ''])
        for (const ext of ['.pem', '.PEM', '.pem.bak', '']) pairs.push(`${dir}${kind}${sep}${stamp}${ext}`);

const cases = [...HAND, ...pairs, ...names(20000, 7)];

test('names: each helper says what the regular expression it replaced said', () => {
  const oldPair = /^kubelet-(client|server)-(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d|updated)\.pem$/;
  for (const s of cases) {
    const q = JSON.stringify(s);
    // (the one difference: a non-ASCII letter whose lower case is ASCII, the Kelvin sign's k, is lowered by
    // toLowerCase and not by a non-unicode /i pattern; no certificate file is named so)
    if (!/[\u212a\u0130]/.test(s)) {
      assert.equal(isCertishName(s), /\.(crt|pem|cer|cert|der|key|pub|csr|p7b|p7c)$/i.test(s), q);
      // (and MicroK8s's *.config kubeconfigs, which the pattern did not take)
      assert.equal(isKubeconfigishName(s), /(\.conf|\.config|\.kubeconfig|\.ya?ml|^kubeconfig|^config)$/i.test(s), q);
      assert.equal(withoutCertExtension(s), s.replace(/\.(crt|pem|cer|cert|der)$/i, ''), q);
    }
    assert.equal(withoutYamlExtension(s), s.replace(/\.ya?ml$/, ''), q);
    const m = oldPair.exec(s);
    assert.deepEqual(kubeletPairName(s), m ? { kind: m[1], stamp: m[2] } : undefined, q);
    assert.equal(isKubeletCurrentPath(s), /\/kubelet-(client|server)-current\.pem$/.test(s), q);
    assert.equal(isKubeletRotatedPath(s), /\/kubelet-(client|server)-[\d-]+\.pem$/.test(s), q);
    assert.equal(allDigits(s), /^\d+$/.test(s), q);
    assert.equal(unbracket(s), s.replace(/^\[|\]$/g, ''), q);
  }
  // the seeded names reach every answer
  assert.ok(cases.filter((s) => kubeletPairName(s)).length > 3);
  assert.ok(cases.filter(isKubeletRotatedPath).length > 3);
  assert.ok(cases.filter(isCertishName).length > 1000 && cases.filter(isKubeconfigishName).length > 1000);
});

test('names: a component flag naming a file, an IPv4 address, an endpoint host: as the patterns said', async () => {
  const { isCertRef } = await import('../src/inventory/read.js');
  const { ipVersion, endpointHost } = await import('../src/inventory/classify.js');
  const { isIP } = await import('node:net');
  const CERT_REF = /^--(?:[a-z0-9]+-)*(?:cert|certfile|certificate|key|keyfile|ca|cafile|authority|kubeconfig)(?:-[a-z0-9]+)*$|^(?:tlsCertFile|tlsPrivateKeyFile|authentication\.x509\.clientCAFile)$|^ETCD_[A-Z_]*(?:CERT|KEY|CA)_FILE$|-transport-security\.(?:(?:client-)?cert|(?:client-)?key|trusted-ca)-file$/;
  const oldEndpointHost = (endpoint: string) => {
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint);
    if (bracketed) return bracketed[1]!;
    if ((endpoint.match(/:/g) ?? []).length > 1) return endpoint;
    return endpoint.replace(/:\d+$/, '');
  };
  const FLAG = ['--', '-', 'tls', 'cert', 'file', 'key', 'ca', 'cafile', 'kubeconfig', 'client', 'A', ' → ', '.', 'ETCD_', 'PEER_', 'CERT_FILE', '_FILE', 'KEY', 'peer-transport-security.', 'client-transport-security.',
    'trusted-ca-file', 'client-cert-file', 'cert-file', 'tlsCertFile', 'authentication.x509.clientCAFile', '9', ''];
  const NET = ['', '.', ':', '0', '1', '00', '01', '10', '127', '255', '256', '999', '1000', '[', ']', '::1', 'a', '-1', '+1', '1e2', ' ', '6443'];
  let x = 11;
  const pick = (a: string[]) => { x = (x * 1103515245 + 12345) & 0x7fffffff; return a[x % a.length]!; };
  const build = (a: string[], n: number) => { let s = ''; for (let i = 0; i < n; i++) s += pick(a); return s; };
  let refs = 0;
  for (let i = 0; i < 20000; i++) {
    const via = build(FLAG, 1 + (i % 5));
    assert.equal(isCertRef(via), CERT_REF.test(via), JSON.stringify(via));
    if (CERT_REF.test(via)) refs++;
    const host = build(NET, 1 + (i % 7));
    if (!host.includes(':')) assert.equal(ipVersion(host), isIP(host), JSON.stringify(host));
    assert.equal(endpointHost(host), oldEndpointHost(host), JSON.stringify(host));
  }
  for (const ip of ['10.96.0.1', '192.168.0.255', '0.0.0.0', '255.255.255.255']) assert.equal(ipVersion(ip), 4, ip);
  assert.ok(refs > 500, `${refs} flags of files among the seeded ones`);
});

test('names: durations and thresholds (30d, 66%) take a fast path that says what the patterns said', async () => {
  const { parseDuration, parseThreshold } = await import('../src/inventory/time.js');
  const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, y: 365 * 86400 };
  const oldDuration = (text: string) => {
    const t = text.trim();
    if (!/^(\d+(\.\d+)?[smhdwy])+$/.test(t)) return undefined;
    let total = 0;
    for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdwy])/g)) total += Number(m[1]) * UNIT[m[2]!]!;
    return Math.round(total);
  };
  const oldThreshold = (text: string) => {
    const t = text.trim();
    const pm = /^(\d+(?:\.\d+)?)%$/.exec(t);
    if (pm) { const percent = Number(pm[1]); return percent <= 0 || percent >= 100 ? undefined : { kind: 'percent', percent, text: t }; }
    const s = oldDuration(t);
    return s === undefined ? undefined : { kind: 'duration', seconds: s, text: t };
  };
  const PARTS = ['', '0', '1', '30', '007', '.', '5', '1e3', '+', '-', ' ', 'd', 's', 'm', 'h', 'w', 'y', '%', 'x', '.5', '9', '00', '12'];
  let x = 5;
  const pick = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return PARTS[x % PARTS.length]!; };
  let fast = 0;
  for (let i = 0; i < 50000; i++) {
    let s = '';
    for (let k = 0; k <= i % 5; k++) s += pick();
    assert.deepEqual(parseThreshold(s), oldThreshold(s), JSON.stringify(s));
    assert.equal(parseDuration(s), oldDuration(s), JSON.stringify(s));
    if (/^\d+(\.\d+)?[smhdwy%]$/.test(s.trim())) fast++;
  }
  assert.ok(fast > 1000, `${fast} single-unit inputs`);
  assert.deepEqual(parseThreshold('30d'), { kind: 'duration', seconds: 30 * 86400, text: '30d' });
  assert.deepEqual(parseThreshold('66%'), { kind: 'percent', percent: 66, text: '66%' });
});
