// A CA certificate re-made with openssl (same key, same name, other string types) over leaves whose issuer was
// written by the original: openssl verify matches the names, Go (here a real etcd and etcdctl) matches the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, tmp } from './renew-support.js';
import { openssl } from './support/fixtures.js';
import { ETCD, ETCDCTL, startEtcd, etcdctlHealth } from './support/etcd.js';
import { makeOpensslHaTrees } from './support/openssl-kubeadm.js';

test('etcd-ca re-made with openssl in PrintableString over leaves that name it in UTF8String: check says issuer-encoding (it said ok while etcd refused every client), and renewing the leaves from it brings etcd back', { skip: (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed', timeout: 60_000 }, async (t) => {
  const [n] = makeOpensslHaTrees(tmp('kubepki-issuer-bytes-'), { count: 1 });
  const pki = path.join(n!.root, 'etc/kubernetes/pki');
  // the same key and name, written as openssl's `string_mask = default` writes it (PrintableString)
  const cnf = path.join(n!.root, 'req.cnf');
  fs.writeFileSync(cnf, '[req]\nprompt=no\nstring_mask=default\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\nCN=etcd-ca\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nsubjectKeyIdentifier=hash\n');
  const re = openssl(['req', '-x509', '-new', '-key', `${pki}/etcd/ca.key`, '-config', cnf, '-days', '3650', '-out', `${pki}/etcd/ca.crt`]);
  assert.equal(re.status, 0, re.stderr);
  assert.equal(openssl(['verify', '-CAfile', `${pki}/etcd/ca.crt`, `${pki}/etcd/server.crt`]).status, 0, 'openssl verify accepts the chain');
  const etcd = await startEtcd(n!.root);
  t.after(() => etcd.stop());
  const before = etcdctlHealth(n!.root, etcd.clientPort);
  assert.notEqual(before.status, 0, `etcd (Go) refuses the chain: ${before.out}`);

  const c = await cli(['check', '--root', n!.root, '-o', 'json']);
  const inv = JSON.parse(c.out);
  const flagged = inv.findings.filter((f: { code: string }) => f.code === 'issuer-encoding').map((f: { message: string }) => f.message.split(':')[0]).sort();
  assert.deepEqual(flagged, ['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server']);
  assert.equal(c.code, 2, c.out);
  assert.match(inv.findings.find((f: { code: string }) => f.code === 'issuer-encoding').message, /Go matches the bytes.*\("x509: certificate signed by unknown authority"\).*kubepki renew (etcd-server|apiserver-etcd-client).*put it back as it was/);

  // the remedy it names: the leaves re-issued from the CA as it is written now (etcd re-reads its pair; etcdctl reads its own)
  const r = await cli(['renew', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client', '--root', n!.root]);
  assert.equal(r.code, 0, r.out + r.err);
  const after = etcdctlHealth(n!.root, etcd.clientPort);
  assert.equal(after.status, 0, after.out);
  assert.doesNotMatch((await cli(['check', '--root', n!.root])).out, /issuer-encoding/);
});
