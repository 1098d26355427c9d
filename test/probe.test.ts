import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createPrivateKey } from 'node:crypto';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { issueCertificate, pemOf } from '../src/pki/sign.js';
import { FIXTURES, copyFixture, freePort, openssl, tmpDir, which } from './support/fixtures.js';
import { etcdIntermediateChain, servingEtcd } from './support/etcd.js';
import { makeRancherServer } from './support/rancher-trees.js';
import { compareServed } from '../src/probe/compare.js';
import type { Inventory } from '../src/inventory/types.js';

/** Start a real etcd serving the tree's etcd/server certificate with client-certificate auth. */
async function startEtcd(root: string): Promise<{ port: number; stop: () => Promise<void> }> {
  // etcd reads its own copy of the files: it re-reads its serving certificate on every handshake,
  // so "renewed on disk but still served" is modelled by renewing the tree kubepki compares with,
  // as for kube-apiserver's front-proxy-client, which is read once at start (seed 002).
  const pki = tmpDir('kubepki-etcd-pki-');
  fs.cpSync(path.join(root, 'etc/kubernetes/pki/etcd'), pki, { recursive: true });
  const etcd = await servingEtcd(path.join(pki, 'server.crt'), path.join(pki, 'server.key'), ['--client-cert-auth', '--trusted-ca-file', path.join(pki, 'ca.crt')]);
  return { port: etcd.port, stop: async () => { await etcd.stop(); fs.rmSync(pki, { recursive: true, force: true }); } };
}

test('probe against a real etcd: the served chain, "matches disk", then "stale" after the file on disk is replaced', { skip: which('etcd') ? false : 'etcd is not installed (apt-get install etcd-server)' }, async () => {
  const root = copyFixture('kubeadm-1.26');
  const etcd = await startEtcd(root);
  try {
    const io = memoryIo();
    const code = await run(['probe', `127.0.0.1:${etcd.port}`, '--root', root, '--now', '2026-11-23'], io);
    assert.equal(code, 0, io.out + io.err);
    const serverCrt = path.join(root, 'etc/kubernetes/pki/etcd/server.crt');
    const disk = new Certificate(parsePemBlocks(fs.readFileSync(serverCrt, 'latin1'))[0]!.der);
    assert.match(io.out, new RegExp(`Serial:\\s+${disk.serialHex}`));
    assert.match(io.out, /Subject:\s+CN=cp-1/);
    assert.match(io.out, /Signed by:\s+etcd-ca \(signature verified\)/);
    assert.doesNotMatch(io.out, /not on this node/);
    assert.match(io.out, /matches disk: etcd-server \(\/etc\/kubernetes\/pki\/etcd\/server\.crt/);
    // the served chain is named by the endpoint, not by the throwaway file it was read through
    const ep = `127.0.0.1:${etcd.port}`;
    assert.match(io.out, new RegExp(`Certificate 1 of \\d+ \\(${ep}\\)\n  Name:\\s+${ep}\n`));
    const inspected = memoryIo();
    assert.equal(await run(['inspect', `https://${ep}`, '--now', '2026-11-23', '-o', 'json'], inspected), 0, inspected.err);
    const inv = JSON.parse(inspected.out);
    assert.equal(inv.root, ep);
    assert.deepEqual(inv.certificates.map((c: { id: string; location: { file: string } }) => [c.id, c.location.file]), [[`${ep}#0`, ep]]);
    assert.doesNotMatch(inspected.out, /127\.0\.0\.1_/);

    // Renew the certificate on disk (same key, new serial) while the running server keeps the old one: the seed-002 trap.
    const caDir = path.join(root, 'etc/kubernetes/pki/etcd');
    const ca = new Certificate(parsePemBlocks(fs.readFileSync(path.join(caDir, 'ca.crt'), 'latin1'))[0]!.der);
    const caKey = createPrivateKey(fs.readFileSync(path.join(caDir, 'ca.key')));
    const renewed = await issueCertificate({
      subjectDer: disk.subjectRaw, issuerDer: ca.subjectRaw, spki: disk.spkiRaw, serial: 'abcdef0123456789',
      notBefore: new Date('2026-11-23T00:00:00Z'), notAfter: new Date('2027-11-23T00:00:00Z'),
      extensions: disk.extensions.map((e) => ({ oid: e.oid, critical: e.critical, value: e.value })), signingKey: caKey,
    });
    fs.writeFileSync(serverCrt, pemOf(renewed));
    const stale = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${etcd.port}`, '--root', root, '--now', '2026-11-23'], stale), 2);
    assert.match(stale.out, new RegExp(`stale: serving serial ${disk.serialHex} .*disk has abcdef0123456789 .*etcd/server\\.crt`));

    const json = memoryIo();
    await run(['probe', `127.0.0.1:${etcd.port}`, '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    assert.equal(JSON.parse(json.out).comparison.verdict, 'stale');
  } finally {
    await etcd.stop();
  }
});

test('probe: a closed port is one clear line and exit 3', async () => {
  const port = await freePort();
  const io = memoryIo();
  assert.equal(await run(['probe', `127.0.0.1:${port}`, '--root', copyFixture('kubeadm-1.26')], io), 3);
  assert.equal(io.err.split('\n')[0], `kubepki: failed to probe 127.0.0.1:${port}: connection refused`);
});

test('probe against a real etcd whose certificate an intermediate CA signed: "incomplete chain" (exit 2) while etcd sends the leaf alone, clean once it sends the intermediate too', { skip: which('etcd') ? false : 'etcd is not installed (apt-get install etcd-server)' }, async () => {
  const root = copyFixture('kubeadm-1.26');
  const work = tmpDir('kubepki-intermediate-');
  const ok = (r: { status: number; stderr: string }) => assert.equal(r.status, 0, r.stderr);
  let etcd: Awaited<ReturnType<typeof servingEtcd>> | undefined;
  try {
    // etcd-ca → etcd-intermediate-ca → a new serving certificate for etcd (openssl: the root alone does not verify it)
    const { pki, intCrt, intKey, leafCrt, leafKey, intExt, leafExt } = etcdIntermediateChain(root, work);
    // openssl issued them from this moment: a --now before it is a leaf not yet valid, which probe now reports (exit 2)
    const now = new Date().toISOString();
    // etcd reads its own copy (it re-reads the pair on every handshake)
    const served = path.join(work, 'served.crt');
    fs.copyFileSync(leafCrt, served);
    etcd = await servingEtcd(served, leafKey);
    const port = etcd.port;
    const leafOnly = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now], leafOnly), 2, leafOnly.out + leafOnly.err);
    assert.match(leafOnly.out, /serves 1 certificate/);
    assert.match(leafOnly.out, /matches disk: etcd-server/);
    assert.match(leafOnly.out, /incomplete chain: the server does not send the intermediate CA .* \(\/etc\/kubernetes\/pki\/etcd\/intermediate-ca\.crt\)/);
    const json = memoryIo();
    await run(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now, '-o', 'json'], json);
    assert.equal(JSON.parse(json.out).incompleteChain.file, '/etc/kubernetes/pki/etcd/intermediate-ca.crt');

    // leaf + intermediate in the file etcd serves, and on disk: the chain is whole
    const bundle = fs.readFileSync(leafCrt, 'latin1') + fs.readFileSync(intCrt, 'latin1');
    fs.writeFileSync(served, bundle);
    fs.writeFileSync(leafCrt, bundle);
    const whole = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now], whole), 0, whole.out + whole.err);
    assert.match(whole.out, /serves 2 certificate/);
    assert.match(whole.out, /matches disk: etcd-server/);
    assert.doesNotMatch(whole.out, /incomplete chain/);

    // the fixture's own etcd certificate, signed straight by the etcd-ca root, needs nothing more
    fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki/etcd/server.crt'), served);
    fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki/etcd/server.key'), leafKey);
    const direct = memoryIo();
    await run(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now], direct);
    assert.match(direct.out, /serves 1 certificate/);
    assert.doesNotMatch(direct.out, /incomplete chain/);

    // two intermediates, etcd-ca → intermediate-ca → sub-ca → leaf, and the server sends leaf + sub-ca: the one it
    // leaves out is intermediate-ca, whichever order the served certificates are listed in
    const subKey = path.join(pki, 'sub-ca.key'), subCrt = path.join(pki, 'sub-ca.crt');
    ok(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', subKey]));
    const subCsr = openssl(['req', '-new', '-key', subKey, '-subj', '/CN=etcd-sub-ca']);
    ok(subCsr);
    ok(openssl(['x509', '-req', '-CA', intCrt, '-CAkey', intKey, '-set_serial', '4444', '-days', '365', '-out', subCrt,
      '-extfile', intExt], subCsr.stdout));
    const leaf2 = path.join(work, 'leaf2.crt'), leaf2Key = path.join(work, 'leaf2.key');
    ok(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', leaf2Key]));
    const leaf2Csr = openssl(['req', '-new', '-key', leaf2Key, '-subj', '/CN=cp-1']);
    ok(leaf2Csr);
    ok(openssl(['x509', '-req', '-CA', subCrt, '-CAkey', subKey, '-set_serial', '4545', '-days', '365', '-out', leaf2,
      '-extfile', leafExt], leaf2Csr.stdout));
    fs.writeFileSync(served, fs.readFileSync(leaf2, 'latin1') + fs.readFileSync(subCrt, 'latin1'));
    fs.copyFileSync(leaf2Key, leafKey);
    ok(openssl(['verify', '-CAfile', path.join(pki, 'ca.crt'), '-untrusted', intCrt, '-untrusted', subCrt, leaf2]));
    const deeper = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now], deeper), 2, deeper.out + deeper.err);
    assert.match(deeper.out, /serves 2 certificate/);
    assert.match(deeper.out, /incomplete chain: the server does not send the intermediate CA .* \(\/etc\/kubernetes\/pki\/etcd\/intermediate-ca\.crt\) that signed the CA certificate it sends \(CN=etcd-sub-ca\)/);
  } finally {
    await etcd?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

/** A TLS server on a free loopback port serving `crt` (leaf, then any chain) with `key`, as kube-apiserver serves its --tls-cert-file. */
async function serveTls(crt: string, key: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({ cert: fs.readFileSync(crt), key: fs.readFileSync(key) }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('probe names who renews the served certificate as check does (kubeadm, k3s), matching or stale: it said "Renewed by: manual" for kube-apiserver\'s own certificate and the k3s server CA it sends', async () => {
  const kubeadm = copyFixture('kubeadm-1.26');
  const pki = path.join(kubeadm, 'etc/kubernetes/pki');
  const api = await serveTls(path.join(pki, 'apiserver.crt'), path.join(pki, 'apiserver.key'));
  try {
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${api.port}`, '--root', kubeadm, '--now', '2026-11-23'], io), 0, io.out + io.err);
    assert.match(io.out, /matches disk: apiserver /);
    assert.deepEqual([...io.out.matchAll(/Renewed by: +(\S+)/g)].map((m) => m[1]), ['kubeadm']);
  } finally {
    await api.close();
  }

  // k3s serves its leaf file (leaf, then server-ca); renewed on disk since, the served one is stale and still k3s's
  const { k3s, served } = await servedK3s('kubepki-probe-k3s-');
  try {
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${served.port}`, '--root', k3s, '--now', '2026-11-23'], io), 0, io.out + io.err);
    assert.deepEqual([...io.out.matchAll(/Renewed by: +(\S+)/g)].map((m) => m[1]), ['k3s', 'k3s']);
    assert.equal((await run(['renew', 'serving-kube-apiserver', '--root', k3s, '--now', '2026-11-23'], memoryIo())), 0);
    const stale = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${served.port}`, '--root', k3s, '--now', '2026-11-23'], stale), 2, stale.out + stale.err);
    assert.match(stale.out, /^stale: serving serial /m);
    assert.deepEqual([...stale.out.matchAll(/Renewed by: +(\S+)/g)].map((m) => m[1]), ['k3s', 'k3s']);
  } finally {
    await served.close();
  }
});

/** A k3s server tree, and a TLS server serving its kube-apiserver leaf file (leaf, then server-ca) as k3s does. */
async function servedK3s(prefix: string) {
  const k3s = tmpDir(prefix);
  await makeRancherServer(k3s, { distro: 'k3s', caIssued: new Date('2024-03-01T10:00:00Z'), leavesIssued: new Date('2026-01-23T10:00:00Z') });
  const tlsDir = path.join(k3s, 'var/lib/rancher/k3s/server/tls');
  return { k3s, served: await serveTls(path.join(tlsDir, 'serving-kube-apiserver.crt'), path.join(tlsDir, 'serving-kube-apiserver.key')) };
}

test('probe of a k3s server that sends its CA after its leaf: the leaf is signed by server-ca, as on disk (it said "Signed by: 127.0.0.1:PORT#1"), and both keys are the disk\'s (it said "no private key found")', async () => {
  const { k3s, served } = await servedK3s('kubepki-probe-k3s-chain-');
  try {
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${served.port}`, '--root', k3s, '--now', '2026-11-23'], io), 0, io.out + io.err);
    assert.match(io.out, /^Certificate 2 of 2 /m);
    assert.deepEqual([...io.out.matchAll(/Signed by: +(.*)$/gm)].map((m) => m[1]), ['server-ca (signature verified)', 'server-ca (signature verified)']);
    assert.deepEqual([...io.out.matchAll(/Key: +(.*)$/gm)].map((m) => m[1]), [
      'ECDSA P-256; private key present and matches (/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.key)',
      'ECDSA P-256; private key present and matches (/var/lib/rancher/k3s/server/tls/server-ca.key)',
    ]);
  } finally {
    await served.close();
  }
});

/** `openssl s_server ARGS` on a free port of `host` (127.0.0.1 or ::1), once it accepts connections. */
async function sServer(args: string[], host = '127.0.0.1'): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, '-quiet', ...args], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => { const c = net.connect(port, host, () => { c.destroy(); resolve(true); }); c.on('error', () => resolve(false)); });
    if (up) break;
    if (i >= 100) { server.kill('SIGTERM'); throw new Error('openssl s_server did not start'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => server.kill('SIGTERM') };
}

test('probe of a TLS 1.2 server that demands a client certificate shows the chain it sent before ending the handshake, as openssl s_client does (it was "failed to probe …: 80…:error:0A000410:SSL routines:…" and exit 3)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const server = await sServer(['-tls1_2', '-Verify', '1', '-CAfile', path.join(pki, 'ca.crt'), '-cert', path.join(pki, 'server.crt'), '-key', path.join(pki, 'server.key')]);
  try {
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${server.port}`, '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
    assert.match(io.out, new RegExp(`^127\\.0\\.0\\.1:${server.port} sent 2 certificate\\(s\\) over TLSv1\\.2, then the server ended the TLS handshake \\(sslv3 alert handshake failure\\): most likely it wants a client certificate\n`));
    assert.match(io.out, /matches disk: etcd-server \(\/etc\/kubernetes\/pki\/etcd\/server\.crt/);
    const json = memoryIo();
    await run(['probe', `127.0.0.1:${server.port}`, '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    assert.equal(JSON.parse(json.out).handshakeError, 'the server ended the TLS handshake (sslv3 alert handshake failure)');
    const inspected = memoryIo();
    assert.equal(await run(['inspect', `https://127.0.0.1:${server.port}`, '--now', '2026-11-23'], inspected), 0, inspected.err);
    assert.match(inspected.out, /Subject:\s+CN=cp-1/);
    assert.equal(inspected.err, `kubepki: 127.0.0.1:${server.port} sent its chain, then the server ended the TLS handshake (sslv3 alert handshake failure)\n`);
  } finally {
    server.stop();
  }
});

test('probe: a plain-HTTP port and a name that does not resolve are one line each with what to do, exit 3 (it printed OpenSSL\'s "80…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…" and a blank line)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const http = createHttpServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as net.AddressInfo).port;
  try {
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${port}`, '--root', root], io), 3);
    assert.equal(io.err, `kubepki: failed to probe 127.0.0.1:${port}: not a TLS server (wrong version number)\n  hint: is this a plain-HTTP port? curl http://HOST:PORT/ tells\n`);
  } finally {
    http.close();
  }
  const dns = memoryIo();
  assert.equal(await run(['probe', 'no-such-host.invalid:6443', '--root', root], dns), 3);
  assert.equal(dns.err.split('\n')[0], 'kubepki: failed to probe no-such-host.invalid:6443: host not found');
});

test('probe and inspect name an IPv6 endpoint [::1]:PORT as Go and openssl do (it was "::1:PORT", which reads as host ::1:PORT)', { skip: net.isIPv6('::1') && which('openssl') ? false : 'no openssl' }, async (t) => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  let server: Awaited<ReturnType<typeof sServer>>;
  try { server = await sServer(['-cert', path.join(pki, 'server.crt'), '-key', path.join(pki, 'server.key')], '::1'); } catch { t.skip('no IPv6 loopback here'); return; }
  try {
    const ep = `[::1]:${server.port}`;
    const io = memoryIo();
    assert.equal(await run(['probe', ep, '--root', root, '--now', '2026-11-23'], io), 0, io.out + io.err);
    assert.ok(io.out.startsWith(`${ep} serves 1 certificate(s)`), io.out);
    assert.ok(io.out.includes(`Certificate 1 of 1 (${ep})\n  Name:        ${ep}\n`), io.out);
    const json = memoryIo();
    await run(['probe', `https://${ep}/`, '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
    assert.equal(JSON.parse(json.out).endpoint, ep);
    const inspected = memoryIo();
    await run(['inspect', `https://${ep}`, '--now', '2026-11-23', '-o', 'json'], inspected);
    assert.equal(JSON.parse(inspected.out).root, ep);
  } finally {
    server.stop();
  }
  const closed = memoryIo();
  assert.equal(await run(['probe', `[::1]:${await freePort()}`, '--root', root], closed), 3);
  assert.match(closed.err, /^kubepki: failed to probe \[::1\]:\d+: connection refused\n/);
});

test('probe of a server whose certificate is not yet valid exits 2, as for an expired one (it was 0, "matches disk", under its own ERROR line)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const server = await sServer(['-cert', path.join(pki, 'server.crt'), '-key', path.join(pki, 'server.key')]);
  try {
    const disk = new Certificate(parsePemBlocks(fs.readFileSync(path.join(pki, 'server.crt'), 'latin1'))[0]!.der);
    const before = new Date(disk.notBefore.getTime() - 86_400_000).toISOString();
    const io = memoryIo();
    assert.equal(await run(['probe', `127.0.0.1:${server.port}`, '--root', root, '--now', before], io), 2, io.out + io.err);
    assert.match(io.out, /Status:\s+not-yet-valid/);
  } finally {
    server.stop();
  }
});

test('inspect https:// takes --servername (SNI) and --timeout as probe does: a server with a certificate per name shows the one asked for (it always showed the default), and the options are refused for a file', async () => {
  const pki = path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki');
  const pair = (n: string) => ({ cert: fs.readFileSync(path.join(pki, `${n}.crt`)), key: fs.readFileSync(path.join(pki, `${n}.key`)) });
  const other = tls.createSecureContext(pair('front-proxy-client'));
  const server = tls.createServer({ ...pair('apiserver'), SNICallback: (name, cb) => cb(null, name === 'proxy.example' ? other : undefined) }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const subject = async (args: string[]) => {
      const io = memoryIo();
      await run(['inspect', `https://127.0.0.1:${port}`, '-o', 'json', '--now', '2026-11-23', ...args], io);
      return (JSON.parse(io.out) as { certificates: { subject: string }[] }).certificates[0]!.subject;
    };
    assert.match(await subject([]), /CN=kube-apiserver/);
    assert.match(await subject(['--servername', 'proxy.example', '--timeout', '3']), /CN=front-proxy-client/);
    const bad = memoryIo();
    assert.equal(await run(['inspect', `https://127.0.0.1:${port}`, '--timeout', 'soon'], bad), 3);
    assert.match(bad.err, /^kubepki: --timeout "soon" is not a number of seconds/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const file = memoryIo();
  assert.equal(await run(['inspect', path.join(pki, 'ca.crt'), '--servername', 'x'], file), 3);
  assert.match(file.err, /--servername and --timeout apply to https:\/\/HOST:PORT/);
});

test('probe of HOST:2379 against --etcd-servers=https://HOST (no port): not taken as that member, since kube-apiserver\'s etcd client dials a portless entry with no port and fails; the verdict says to write the port (it was read as :2379, "a member of the external etcd")', () => {
  const dir = tmpDir('kubepki-portless-etcd-');
  const [key, crt] = [path.join(dir, 'm.key'), path.join(dir, 'm.crt')];
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=etcd-member', '-days', '30', '-addext', 'subjectAltName=IP:192.0.2.50', '-out', crt]);
  const der = parsePemBlocks(fs.readFileSync(crt, 'utf8'))[0]!.der;
  const inv = (endpoints: string[]) => ({ now: new Date().toISOString(), certificates: [], components: [], externalEtcd: { endpoints, source: '--etcd-servers in /etc/kubernetes/manifests/kube-apiserver.yaml' } }) as unknown as Inventory;
  const at2379 = { host: '192.0.2.50', port: 2379 };
  const portless = compareServed(der, inv(['https://192.0.2.50']), at2379);
  assert.equal(portless.verdict, 'not-on-disk', portless.message);
  assert.match(portless.message, /https:\/\/192\.0\.2\.50 in --etcd-servers in \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml names this host without a port, .*"missing port in address"\): write the member's port there \(https:\/\/192\.0\.2\.50:2379\)/);
  // nor :443, the scheme's port: it is not dialed either
  assert.equal(compareServed(der, inv(['https://192.0.2.50/']), { host: '192.0.2.50', port: 443 }).verdict, 'not-on-disk');
  // an explicit port is the member's, :443 too (WHATWG's URL drops it as https's default; Go keeps and dials it)
  assert.equal(compareServed(der, inv(['https://192.0.2.50:2379']), at2379).verdict, 'untrusted');
  assert.equal(compareServed(der, inv(['https://192.0.2.50:443']), { host: '192.0.2.50', port: 443 }).verdict, 'untrusted');
  assert.equal(compareServed(der, inv(['https://[2001:db8::5]:2379']), { host: '2001:db8::5', port: 2379 }).verdict, 'untrusted');
});
