import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { issueCertificate, pemOf } from '../src/pki/sign.js';
import { copyFixture, freePort, tmpDir, which } from './support/fixtures.js';
import { runEtcd } from './support/etcd.js';

/** Start a real etcd serving the tree's etcd/server certificate with client-certificate auth. */
async function startEtcd(root: string): Promise<{ port: number; stop: () => Promise<void> }> {
  // etcd reads its own copy of the files: it re-reads its serving certificate on every handshake,
  // so "renewed on disk but still served" is modelled by renewing the tree kubepki compares with,
  // as for kube-apiserver's front-proxy-client, which is read once at start (seed 002).
  const pki = tmpDir('kubepki-etcd-pki-');
  fs.cpSync(path.join(root, 'etc/kubernetes/pki/etcd'), pki, { recursive: true });
  const [port, peer] = [await freePort(), await freePort()];
  const data = tmpDir('kubepki-etcd-');
  const etcd = await runEtcd([
    '--name', 'cp-1', '--data-dir', data,
    '--listen-client-urls', `https://127.0.0.1:${port}`, '--advertise-client-urls', `https://127.0.0.1:${port}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `cp-1=http://127.0.0.1:${peer}`,
    '--cert-file', path.join(pki, 'server.crt'), '--key-file', path.join(pki, 'server.key'),
    '--client-cert-auth', '--trusted-ca-file', path.join(pki, 'ca.crt'),
  ]);
  return { port, stop: async () => { await etcd.stop(); fs.rmSync(data, { recursive: true, force: true }); fs.rmSync(pki, { recursive: true, force: true }); } };
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
