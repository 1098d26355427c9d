// A second control-plane node of a stacked-etcd HA cluster that was given a copy of the first node's whole pki
// directory (instead of only the shared CA files kubeadm join --control-plane takes): its etcd serves the first
// node's certificates, which name the first node's address. A real etcd and etcdctl show what that breaks;
// check must say so, and its advice must fix it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli, sh, tmp, NOW } from './renew-support.js';
import { freePort } from './support/fixtures.js';
import { ETCD, ETCDCTL, runEtcd } from './support/etcd.js';

function config(node: string, ip: string): string {
  return [
    'apiVersion: kubeadm.k8s.io/v1beta4', 'kind: InitConfiguration', 'localAPIEndpoint:', `  advertiseAddress: ${ip}`, 'nodeRegistration:', `  name: ${node}`, '---',
    'apiVersion: kubeadm.k8s.io/v1beta4', 'kind: ClusterConfiguration', 'kubernetesVersion: v1.31.2', 'controlPlaneEndpoint: 127.0.0.30:6443', 'encryptionAlgorithm: ECDSA-P256', '',
  ].join('\n');
}

/** etcd on `ip` with the tree's etcd certificates, and whether etcdctl (healthcheck-client) can write to it there. */
async function etcdAnswersAt(root: string, ip: string): Promise<{ ok: boolean; out: string }> {
  const pki = path.join(root, 'etc/kubernetes/pki/etcd');
  const [client, peer, metrics] = [await freePort(), await freePort(), await freePort()];
  const etcd = await runEtcd([
    '--name', 'cp-2', '--data-dir', tmp('kubepki-etcd-data-'),
    '--listen-client-urls', `https://${ip}:${client}`, '--advertise-client-urls', `https://${ip}:${client}`,
    '--listen-peer-urls', `https://${ip}:${peer}`, '--initial-advertise-peer-urls', `https://${ip}:${peer}`,
    '--initial-cluster', `cp-2=https://${ip}:${peer}`, '--listen-metrics-urls', `http://${ip}:${metrics}`,
    '--client-cert-auth=true', '--trusted-ca-file', path.join(pki, 'ca.crt'), '--cert-file', path.join(pki, 'server.crt'), '--key-file', path.join(pki, 'server.key'),
    '--peer-client-cert-auth=true', '--peer-trusted-ca-file', path.join(pki, 'ca.crt'), '--peer-cert-file', path.join(pki, 'peer.crt'), '--peer-key-file', path.join(pki, 'peer.key'),
  ]);
  try {
    const r = spawnSync(ETCDCTL, [
      `--endpoints=https://${ip}:${client}`, '--cacert', path.join(pki, 'ca.crt'), '--cert', path.join(pki, 'healthcheck-client.crt'), '--key', path.join(pki, 'healthcheck-client.key'),
      '--dial-timeout=3s', '--command-timeout=5s', 'put', 'kubepki', 'ok',
    ], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally {
    await etcd.stop();
  }
}

test('cp-2 with a copy of cp-1\'s whole pki directory: etcd-server and etcd-peer lack cp-2\'s address (a real etcdctl cannot reach that etcd), check says etcd-san-missing (it said ok, exit 0); rebuild refuses to keep them (it kept them, exit 0) and --force replaces them with certificates etcd serves', { skip: (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed', timeout: 90_000 }, async () => {
  const cp1 = tmp('kubepki-cp1-'), cp2 = tmp('kubepki-cp2-');
  const cfg1 = path.join(cp1, 'kubeadm.yaml'), cfg2 = path.join(cp2, 'kubeadm.yaml');
  fs.writeFileSync(cfg1, config('cp-1', '127.0.0.21'));
  fs.writeFileSync(cfg2, config('cp-2', '127.0.0.22'));
  let r = await cli(['rebuild', '--root', cp1, '--config', cfg1, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  fs.mkdirSync(path.join(cp2, 'etc/kubernetes'), { recursive: true });
  fs.cpSync(path.join(cp1, 'etc/kubernetes/pki'), path.join(cp2, 'etc/kubernetes/pki'), { recursive: true });
  // rebuild does what kubeadm does with a kept certificate that lacks this node's names: refuses it (it kept them,
  // exit 0, "missing SANs" in a KEEP line, and the etcd it started then failed on "IP address mismatch")
  const members = ['--etcd-initial-cluster', 'cp-1=https://127.0.0.21:2380,cp-2=https://127.0.0.22:2380'];
  r = await cli(['rebuild', '--root', cp2, '--config', cfg2, '--now', NOW, ...members]);
  assert.equal(r.code, 3, r.err + r.out);
  for (const f of ['server', 'peer']) {
    assert.match(r.err, new RegExp(`failed to keep /etc/kubernetes/pki/etcd/${f}\\.crt: it lacks DNS:cp-2, IP:127\\.0\\.0\\.22, which this node's etcd-${f} certificate must name .*; remove /etc/kubernetes/pki/etcd/${f}\\.crt and /etc/kubernetes/pki/etcd/${f}\\.key so they are re-created with them, or pass --force`));
  }
  assert.match(r.err, /failed to keep \/etc\/kubernetes\/pki\/apiserver\.crt: it lacks DNS:cp-2, IP:127\.0\.0\.22/);
  assert.equal(fs.existsSync(path.join(cp2, 'etc/kubernetes/manifests')), false, 'nothing written');
  // the node as it was before (the copied pki kept, this node's manifests): check, and a real etcd, on it
  const fresh = tmp('kubepki-cp2-fresh-');
  for (const f of ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub', 'etcd/ca.crt', 'etcd/ca.key']) {
    fs.mkdirSync(path.dirname(path.join(fresh, 'etc/kubernetes/pki', f)), { recursive: true });
    fs.copyFileSync(path.join(cp1, 'etc/kubernetes/pki', f), path.join(fresh, 'etc/kubernetes/pki', f));
  }
  r = await cli(['rebuild', '--root', fresh, '--config', cfg2, '--now', NOW, ...members]);
  assert.equal(r.code, 0, r.err + r.out);
  fs.cpSync(path.join(fresh, 'etc/kubernetes/manifests'), path.join(cp2, 'etc/kubernetes/manifests'), { recursive: true });
  const etcdPki = path.join(cp2, 'etc/kubernetes/pki/etcd');
  const verifyIp = (cert: string) => sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 3600), '-verify_ip', '127.0.0.22', '-CAfile', path.join(etcdPki, 'ca.crt'), path.join(etcdPki, cert)]);
  assert.notEqual(verifyIp('server.crt').status, 0, 'openssl: server.crt does not name 127.0.0.22');

  const chk = await cli(['check', '--root', cp2, '--now', NOW, '-o', 'json']);
  assert.equal(chk.code, 2, chk.out);
  const inv = JSON.parse(chk.out) as { certificates: { name: string; findings: { code: string; message: string }[] }[] };
  for (const name of ['etcd-server', 'etcd-peer']) {
    const f = inv.certificates.find((c) => c.name === name)!.findings.find((x) => x.code === 'etcd-san-missing');
    assert.ok(f, `${name}: ${JSON.stringify(inv.certificates.find((c) => c.name === name))}`);
    assert.match(f.message, /no SAN for 127\.0\.0\.22 .*CN cp-1; this node is cp-2.*run kubepki rebuild --root \S+ --force, which backs up \/etc\/kubernetes\/pki\/etcd\/(server|peer)\.crt and .* and makes this node.s own/);
    assert.ok(f.message.includes(`kubepki rebuild --root ${cp2} --force`), 'the rebuild it names reads this tree');
  }
  const before = await etcdAnswersAt(cp2, '127.0.0.22');
  assert.equal(before.ok, false, `etcdctl reached an etcd serving cp-1's certificate at 127.0.0.22: ${before.out}`);

  // the fix it names: --force backs cp-1's certificates up and makes this node's own
  const copied = fs.readFileSync(path.join(etcdPki, 'server.crt'), 'utf8');
  r = await cli(['rebuild', '--root', cp2, '--config', cfg2, '--now', NOW, ...members, '--force']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /REPLACE \/etc\/kubernetes\/pki\/etcd\/server\.crt/);
  const backup = /^Backup: (\S+) /m.exec(r.out)![1]!;
  assert.equal(fs.readFileSync(path.join(backup, 'files/etc/kubernetes/pki/etcd/server.crt'), 'utf8'), copied);
  assert.equal(sh('openssl', ['x509', '-noout', '-subject', '-in', path.join(etcdPki, 'server.crt')]).stdout.trim(), 'subject=CN = cp-2');
  assert.equal(verifyIp('server.crt').status, 0, verifyIp('server.crt').stderr);
  assert.equal(verifyIp('peer.crt').status, 0, verifyIp('peer.crt').stderr);
  const again = await cli(['check', '--root', cp2, '--now', NOW]);
  assert.doesNotMatch(again.out, /etcd-san-missing/);
  const after = await etcdAnswersAt(cp2, '127.0.0.22');
  assert.ok(after.ok, after.out);
});

test('etcd-server and etcd-peer as kubeadm makes them on each of three members, and IPv6 or DNS advertise URLs they name: no etcd-san-missing', async () => {
  for (const [node, ip] of [['cp-1', '127.0.0.21'], ['cp-2', '127.0.0.22'], ['cp-3', '127.0.0.23']] as const) {
    const root = tmp('kubepki-member-');
    const cfg = path.join(root, 'kubeadm.yaml');
    fs.writeFileSync(cfg, config(node, ip));
    const r = await cli(['rebuild', '--root', root, '--config', cfg, '--now', NOW]);
    assert.equal(r.code, 0, r.err + r.out);
    const chk = await cli(['check', '--root', root, '--now', NOW]);
    assert.equal(chk.code, 0, chk.out);
    // another announced address the certificate names (localhost) passes; one it does not is named
    const manifest = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
    const text = fs.readFileSync(manifest, 'utf8');
    fs.writeFileSync(manifest, text.replace(/--advertise-client-urls=\S+/, `--advertise-client-urls=https://${ip}:2379,https://localhost:2379,https://[::1]:2379`));
    assert.doesNotMatch((await cli(['check', '--root', root, '--now', NOW])).out, /etcd-san-missing/);
    fs.writeFileSync(manifest, text.replace(/--advertise-client-urls=\S+/, `--advertise-client-urls=https://${ip}:2379,https://etcd.example.test:2379`));
    const named = await cli(['check', '--root', root, '--now', NOW]);
    assert.match(named.out, /etcd-server has no SAN for etcd\.example\.test .*renew with --add-san DNS:etcd\.example\.test/);
  }
});
