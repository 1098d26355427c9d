// The demo tree (src/demo/make-tree.ts) is a kubeadm node as kubeadm and the kubelet leave it, checked with
// openssl: kubeadm's keys of the asked type, the kubelet's ECDSA P-256 client pair, its self-signed serving
// pair (leaf + its own CA in kubelet.crt), kubeadm-flags.env and kubeadm-shaped manifests. `npm run build`
// makes the CLI's code cache from a check of this tree (RSA), so it must read as a healthy kubeadm node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeDemoTree } from '../src/demo/make-tree.js';
import { readInventory } from '../src/inventory/read.js';
import { inventoryExitCode } from '../src/report/table.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { openssl, tmpDir } from './support/fixtures.js';
import { execFileSync } from 'node:child_process';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';

const NOW = new Date('2026-11-23T00:00:00Z');
const DAY = 86400_000;

function pemBlocks(file: string): string[] {
  return fs.readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
}

test('demo --key-type rsa-2048: RSA 2048 as kubeadm makes them, the kubelet\'s own ECDSA client pair and self-signed serving pair; healthy when its leaves are valid', async () => {
  const root = path.join(tmpDir('kubepki-demo-'), 'node');
  const { nodeName } = await makeDemoTree(root, NOW, { keyType: 'rsa-2048' });
  const pki = path.join(root, 'etc/kubernetes/pki');
  for (const f of ['ca.crt', 'apiserver.crt', 'etcd/server.crt', 'front-proxy-client.crt']) {
    assert.match(openssl(['x509', '-in', path.join(pki, f), '-noout', '-text']).stdout, /Public Key Algorithm: rsaEncryption[\s\S]*Public-Key: \(2048 bit\)/, f);
  }
  assert.match(openssl(['pkey', '-in', path.join(pki, 'sa.key'), '-noout', '-text']).stdout, /Private-Key: \(2048 bit/);
  // the kubelet's rotated client pair: ECDSA P-256 whatever kubeadm's key type
  const current = path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.ok(fs.lstatSync(current).isSymbolicLink());
  // (an absolute link, as the kubelet writes it: read inside the tree)
  assert.match(openssl(['x509', '-in', path.join(root, fs.readlinkSync(current)), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
  // kubelet.crt: the serving leaf, then the CA that signed it; kubelet.key is the leaf's key
  const kubeletCrt = path.join(root, 'var/lib/kubelet/pki/kubelet.crt');
  const [leaf, ca] = pemBlocks(kubeletCrt);
  assert.ok(leaf && ca, 'two certificates in kubelet.crt');
  const dir = tmpDir('kubepki-demo-kubelet-');
  fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf);
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca);
  const subject = openssl(['x509', '-in', path.join(dir, 'leaf.pem'), '-noout', '-subject', '-issuer', '-ext', 'subjectAltName,extendedKeyUsage']).stdout;
  assert.match(subject, new RegExp(`subject=CN ?= ?${nodeName}@\\d+\\n`));
  assert.match(subject, new RegExp(`issuer=CN ?= ?${nodeName}-ca@\\d+\\n`));
  assert.match(subject, new RegExp(`DNS:${nodeName}`));
  assert.match(subject, /TLS Web Server Authentication/);
  const verify = openssl(['verify', '-attime', String(Math.floor((NOW.getTime() - 200 * DAY) / 1000)), '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const pub = (args: string[]) => openssl(args).stdout;
  assert.equal(pub(['pkey', '-in', path.join(root, 'var/lib/kubelet/pki/kubelet.key'), '-pubout']), pub(['x509', '-in', path.join(dir, 'leaf.pem'), '-noout', '-pubkey']));
  // kubeadm's files for the kubelet and its manifests' shape (a mapping's sequence at the key's column, as Go writes)
  assert.match(fs.readFileSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), 'utf8'), /^KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:\/\/\/run\/containerd\/containerd\.sock .*--hostname-override=demo-cp-1/);
  const manifestText = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(manifestText, /\n {2}containers:\n {2}- command:\n {4}- kube-apiserver\n/);
  const pod = parseYaml(manifestText);
  assert.equal(pod.spec.containers[0].livenessProbe.httpGet.port, 6443);
  assert.ok(pod.spec.containers[0].command.includes('--tls-cert-file=/etc/kubernetes/pki/apiserver.crt'));
  // a healthy node while its leaves are valid; expired (exit 2) today, as the demo shows
  const inv = (now: Date) => readInventory({ fs: new NodeFs(root), now });
  const healthy = inv(new Date(NOW.getTime() - 200 * DAY));
  assert.equal(inventoryExitCode(healthy), 0, JSON.stringify(healthy.findings.filter((f) => f.severity !== 'info')));
  assert.deepEqual(healthy.certificates.map((c) => c.name).filter((n) => n.startsWith('kubelet')).sort(), ['kubelet-client', 'kubelet-serving', 'kubelet-serving-ca']);
  assert.equal(healthy.certificates.length, 16);
  assert.equal(inventoryExitCode(inv(NOW)), 2);
});

test('demo: ECDSA P-256 keys by default (quick to make)', async () => {
  const root = path.join(tmpDir('kubepki-demo-'), 'node');
  await makeDemoTree(root, NOW);
  assert.match(openssl(['x509', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
  assert.match(openssl(['x509', '-in', path.join(root, 'var/lib/kubelet/pki/kubelet.crt'), '-noout', '-text']).stdout, /ASN1 OID: prime256v1/);
});

test('demo: the commands it suggests and the rm that removes its tree name the tree shell-quoted (a --dir with a space)', async () => {
  const root = path.join(tmpDir('kubepki-demo-'), 'my node');
  const io = memoryIo();
  assert.equal(await run(['demo', '--dir', root, '--now', '2026-11-23'], io), 0, io.err);
  const quoted = `'${root}'`;
  assert.match(io.out, new RegExp(`^  kubepki renew all --root ${quoted.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --now 2026-11-23 --dry-run$`, 'm'));
  assert.ok(io.out.trimEnd().endsWith(`The tree stays until removed: rm -rf ${quoted}`), io.out.slice(-200));
  // the rm it prints removes exactly the tree
  execFileSync('sh', ['-c', io.out.trimEnd().split('\n').pop()!.replace(/^The tree stays until removed: /, '')]);
  assert.equal(fs.existsSync(root), false);
});

test('demo --now: the check it says it ran, and the commands it suggests, pretend the same time (copied, they show what it showed)', async () => {
  const root = path.join(tmpDir('kubepki-demo-'), 'node');
  const io = memoryIo();
  // years after this machine's clock: without --now, the copied check reads every certificate as not yet valid
  assert.equal(await run(['demo', '--dir', root, '--now', '2031-05-01'], io), 0, io.err);
  const lines = io.out.split('\n');
  const shown = lines.find((l) => l.startsWith('$ kubepki check '))!;
  const suggested = lines.filter((l) => l.startsWith('  kubepki '));
  assert.equal(suggested.length, 3, io.out);
  for (const l of [shown, ...suggested]) assert.match(l, / --now 2031-05-01( |$)/, l);
  const check = memoryIo();
  const argv = shown.replace(/^\$ kubepki /, '').split(' ');
  assert.equal(await run(argv, check), 2, check.err);
  // the table the demo printed is the one its check prints
  const table = io.out.slice(io.out.indexOf(shown) + shown.length + 1, io.out.indexOf('\ncheck would exit'));
  assert.ok(table.length > 500, table);
  assert.ok(check.out.startsWith(table.trimEnd()), `demo:\n${table.slice(0, 400)}\ncheck:\n${check.out.slice(0, 400)}`);
});
