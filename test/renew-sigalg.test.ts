import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NOW, cli, copyFixture, sh } from './renew-support.js';

// "Keeping everything it had" includes the digest the CA signed with: a CA made by openssl or a corporate
// PKI with SHA-384/512 keeps it (it was SHA-256 whatever the old certificate said). SHA-1 is not kept:
// Go (kube-apiserver, etcd, kubectl) has refused SHA-1 signatures since 1.18.
const sigAlg = (file: string) => /Signature Algorithm: (\S+)/.exec(sh('openssl', ['x509', '-in', file, '-noout', '-text']).stdout)?.[1];

test('renew keeps a SHA-384/512 signature (RSA and ECDSA), upgrades SHA-1 to SHA-256, and openssl verifies every chain', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const o = (...args: string[]) => {
    const r = sh('openssl', args);
    assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ext = path.join(root, 'ext.cnf');
  fs.writeFileSync(ext, [
    '[ca]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', 'subjectKeyIdentifier=hash',
    '[client]', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', 'authorityKeyIdentifier=keyid',
  ].join('\n') + '\n');
  // front-proxy-ca: RSA, self-signed with SHA-384; its client leaf signed with SHA-1
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha384', '-days', '3650', '-subj', '/CN=front-proxy-ca', '-keyout', `${pki}/front-proxy-ca.key`, '-out', `${pki}/front-proxy-ca.crt`, '-extensions', 'ca', '-config', ext);
  o('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=front-proxy-client', '-keyout', `${pki}/front-proxy-client.key`, '-out', `${root}/fp.csr`);
  o('x509', '-req', '-in', `${root}/fp.csr`, '-CA', `${pki}/front-proxy-ca.crt`, '-CAkey', `${pki}/front-proxy-ca.key`, '-set_serial', '7', '-sha1', '-days', '365', '-extfile', ext, '-extensions', 'client', '-out', `${pki}/front-proxy-client.crt`);
  // etcd-ca: ECDSA P-256, leaves signed with SHA-512 (openssl's -sha512 on a P-256 key)
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha512', '-days', '3650', '-subj', '/CN=etcd-ca', '-keyout', `${pki}/etcd/ca.key`, '-out', `${pki}/etcd/ca.crt`, '-extensions', 'ca', '-config', ext);
  o('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=system:masters/CN=kube-etcd-healthcheck-client', '-keyout', `${pki}/etcd/healthcheck-client.key`, '-out', `${root}/hc.csr`);
  o('x509', '-req', '-in', `${root}/hc.csr`, '-CA', `${pki}/etcd/ca.crt`, '-CAkey', `${pki}/etcd/ca.key`, '-set_serial', '8', '-sha512', '-days', '365', '-extfile', ext, '-extensions', 'client', '-out', `${pki}/etcd/healthcheck-client.crt`);
  assert.equal(sigAlg(`${pki}/front-proxy-client.crt`), 'sha1WithRSAEncryption');
  assert.equal(sigAlg(`${pki}/etcd/healthcheck-client.crt`), 'ecdsa-with-SHA512');

  const r = await cli(['renew', 'front-proxy-client', 'etcd-healthcheck-client', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  // the plan says so, as it says a rewritten RSASSA-PSS (it was silent)
  assert.match(r.out, /signature sha1WithRSAEncryption → sha256WithRSAEncryption \(Go refuses SHA-1 and MD5 certificate signatures\)/);
  assert.equal((r.out.match(/Go refuses SHA-1 and MD5/g) ?? []).length, 1, 'only the SHA-1 one');
  assert.equal(sigAlg(`${pki}/etcd/healthcheck-client.crt`), 'ecdsa-with-SHA512', 'kept');
  assert.equal(sigAlg(`${pki}/front-proxy-client.crt`), 'sha256WithRSAEncryption', 'SHA-1 is not kept');
  assert.equal(sigAlg(`${pki}/apiserver.crt`), 'sha256WithRSAEncryption', 'kubeadm\'s SHA-256 stays SHA-256');
  const c = await cli(['renew', 'front-proxy-ca', '--root', root, '--now', NOW]);
  assert.equal(c.code, 0, c.out + c.err);
  assert.equal(sigAlg(`${pki}/front-proxy-ca.crt`), 'sha384WithRSAEncryption', 'the CA keeps its own digest');
  for (const [ca, leaf] of [['front-proxy-ca.crt', 'front-proxy-client.crt'], ['etcd/ca.crt', 'etcd/healthcheck-client.crt']] as const) {
    const v = sh('openssl', ['verify', '-CAfile', `${pki}/${ca}`, `${pki}/${leaf}`]);
    assert.match(v.stdout, /: OK/, v.stdout + v.stderr);
  }
});
