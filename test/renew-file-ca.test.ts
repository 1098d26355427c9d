import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, tmp, copyFixture, NOW } from './renew-support.js';
import { openssl, opensslOk } from './support/fixtures.js';

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n';
const LEAF_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:svc.example.test\nauthorityKeyIdentifier=keyid\n';

/** A tree made with openssl alone, each file at its node path under `root`. */
class Tree {
  readonly root = tmp('kubepki-file-ca-');
  private n = 0;
  at(p: string): string {
    const host = path.join(this.root, p);
    fs.mkdirSync(path.dirname(host), { recursive: true });
    return host;
  }
  private ext(text: string): string {
    const f = path.join(this.root, `.ext-${this.n++}`);
    fs.writeFileSync(f, text);
    return f;
  }
  /** a self-signed root CA (ECDSA P-256) */
  root_(cn: string, crt: string, key: string): this {
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', this.at(key)]);
    opensslOk(['req', '-x509', '-key', this.at(key), '-out', this.at(crt), '-subj', `/CN=${cn}`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
    return this;
  }
  /** a certificate (a CA with `ca`) for a new key, signed by the CA in caCrt/caKey */
  issue(cn: string, crt: string, key: string, by: { crt: string; key: string }, o: { ca?: boolean; days?: number } = {}): this {
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', this.at(key)]);
    const csr = opensslOk(['req', '-new', '-key', this.at(key), '-subj', `/CN=${cn}`]);
    opensslOk(['x509', '-req', '-CA', this.at(by.crt), '-CAkey', this.at(by.key), '-set_serial', String(1000 + this.n), '-days', String(o.days ?? 30), '-out', this.at(crt), '-extfile', this.ext(o.ca ? CA_EXT : LEAF_EXT)], csr);
    return this;
  }
  read(p: string): string {
    return fs.readFileSync(this.at(p), 'latin1');
  }
}

/** openssl verify of `leaf` with `trusted` as the root and `untrusted` intermediates, each a node path in the tree. */
function verifies(t: Tree, leaf: string, trusted: string, untrusted: string[] = []): void {
  opensslOk(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', t.at(trusted), ...untrusted.flatMap((u) => ['-untrusted', t.at(u)]), t.at(leaf)]);
}

async function renewed(t: Tree, file: string, extra: string[] = []): Promise<string> {
  const before = t.read(file);
  const r = await cli(['renew', '--file', file, '--root', t.root, ...extra]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.notEqual(t.read(file), before, `${file} was rewritten`);
  return r.out;
}

test('renew --file finds the CA that signed it by its signature, whatever the installer named it: RKE1\'s kube-ca.pem, cfssl\'s ca.pem/ca-key.pem, etcd-ca.crt, k3s\'s client-ca.crt beside server-ca.crt', async () => {
  const t = new Tree();
  t.root_('kube-ca', '/etc/kubernetes/ssl/kube-ca.pem', '/etc/kubernetes/ssl/kube-ca-key.pem')
    .issue('kube-node', '/etc/kubernetes/ssl/kube-node.pem', '/etc/kubernetes/ssl/kube-node-key.pem', { crt: '/etc/kubernetes/ssl/kube-ca.pem', key: '/etc/kubernetes/ssl/kube-ca-key.pem' });
  t.root_('cfssl-ca', '/opt/cfssl/ca.pem', '/opt/cfssl/ca-key.pem')
    .issue('web', '/opt/cfssl/web.pem', '/opt/cfssl/web-key.pem', { crt: '/opt/cfssl/ca.pem', key: '/opt/cfssl/ca-key.pem' });
  t.root_('etcd-ca', '/srv/etcd/etcd-ca.crt', '/srv/etcd/etcd-ca.key')
    .issue('member', '/srv/etcd/member.crt', '/srv/etcd/member.key', { crt: '/srv/etcd/etcd-ca.crt', key: '/srv/etcd/etcd-ca.key' });
  // two CAs beside the leaf: the one whose key signed it is its CA, not the first by name
  t.root_('k3s-server-ca@1700000000', '/srv/k3s/server-ca.crt', '/srv/k3s/server-ca.key')
    .root_('k3s-client-ca@1700000000', '/srv/k3s/client-ca.crt', '/srv/k3s/client-ca.key')
    .issue('system:admin', '/srv/k3s/client-admin.crt', '/srv/k3s/client-admin.key', { crt: '/srv/k3s/client-ca.crt', key: '/srv/k3s/client-ca.key' });
  for (const [leaf, ca, name] of [
    ['/etc/kubernetes/ssl/kube-node.pem', '/etc/kubernetes/ssl/kube-ca.pem', 'kube-ca'], ['/opt/cfssl/web.pem', '/opt/cfssl/ca.pem', 'ca'],
    ['/srv/etcd/member.crt', '/srv/etcd/etcd-ca.crt', 'etcd-ca'], ['/srv/k3s/client-admin.crt', '/srv/k3s/client-ca.crt', 'client-ca'],
  ] as const) {
    const out = await renewed(t, leaf);
    assert.match(out, new RegExp(`; signed by ${name}\n`), out);
    verifies(t, leaf, ca);
  }
});

test('renew --file of a certificate whose CA has a name no rule knows (intermediate.crt one directory up, openssl\'s cacert.pem with private/cakey.pem) said "externally managed": the CA that signed it is found there and signs the renewal', async () => {
  const t = new Tree();
  t.root_('Example Root', '/srv/pki/root.pem', '/srv/pki/root.key')
    .issue('Example Issuing', '/srv/pki/intermediate.crt', '/srv/pki/intermediate.key', { crt: '/srv/pki/root.pem', key: '/srv/pki/root.key' }, { ca: true, days: 1000 })
    .issue('svc', '/srv/pki/issued/svc.crt', '/srv/pki/issued/svc.key', { crt: '/srv/pki/intermediate.crt', key: '/srv/pki/intermediate.key' });
  // (the root alone does not verify the leaf: the intermediate is needed, and is the signer)
  assert.notEqual(openssl(['verify', '-CAfile', t.at('/srv/pki/root.pem'), t.at('/srv/pki/issued/svc.crt')]).status, 0);
  // a chain beside it holds the intermediate too: the CA file is read, not the chain (whose copy of svc.crt nobody named)
  fs.writeFileSync(t.at('/srv/pki/issued/fullchain.pem'), t.read('/srv/pki/issued/svc.crt') + t.read('/srv/pki/intermediate.crt'));
  const chain = t.read('/srv/pki/issued/fullchain.pem');
  const out = await renewed(t, '/srv/pki/issued/svc.crt');
  assert.match(out, /signed by intermediate/);
  verifies(t, '/srv/pki/issued/svc.crt', '/srv/pki/root.pem', ['/srv/pki/intermediate.crt']);
  assert.match(out, /\nFiles \(1\):\n  write   \/srv\/pki\/issued\/svc\.crt\n/, 'only the leaf is written');
  assert.equal(t.read('/srv/pki/issued/fullchain.pem'), chain);

  t.root_('demoCA', '/srv/demoCA/cacert.pem', '/srv/demoCA/private/cakey.pem')
    .issue('app', '/srv/demoCA/newcerts/app.pem', '/srv/demoCA/newcerts/app-key.pem', { crt: '/srv/demoCA/cacert.pem', key: '/srv/demoCA/private/cakey.pem' });
  assert.match(await renewed(t, '/srv/demoCA/newcerts/app.pem'), /signed by cacert/);
  verifies(t, '/srv/demoCA/newcerts/app.pem', '/srv/demoCA/cacert.pem');
});

test('a look-alike CA beside the certificate (same subject, another key) is not taken for its signer', async () => {
  const t = new Tree();
  t.root_('Ops CA', '/srv/ops/signing.pem', '/srv/ops/signing.key')
    .root_('Ops CA', '/srv/ops/ca.crt', '/srv/ops/ca.key')
    .issue('svc', '/srv/ops/svc.crt', '/srv/ops/svc.key', { crt: '/srv/ops/signing.pem', key: '/srv/ops/signing.key' });
  assert.match(await renewed(t, '/srv/ops/svc.crt'), /signed by signing/);
  verifies(t, '/srv/ops/svc.crt', '/srv/ops/signing.pem');
  assert.notEqual(openssl(['verify', '-CAfile', t.at('/srv/ops/ca.crt'), t.at('/srv/ops/svc.crt')]).status, 0);
});

test('a CA kept elsewhere is given with --ca-cert and --ca-key (default: the key beside it); without them the certificate is not renewed and the message says how to pass it', async () => {
  const t = new Tree();
  t.root_('Vault Issuing', '/opt/ca/issuing.crt', '/opt/keys/issuing-private.pem')
    .issue('svc', '/srv/app/tls/svc.crt', '/srv/app/tls/svc.key', { crt: '/opt/ca/issuing.crt', key: '/opt/keys/issuing-private.pem' });
  const before = t.read('/srv/app/tls/svc.crt');
  const none = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root]);
  assert.equal(none.code, 1, none.err + none.out);
  assert.match(none.out, /svc: externally managed, can't renew \/srv\/app\/tls\/svc\.crt: the CA that signed it \(CN=Vault Issuing\) is not on this node \(pass it with --ca-cert FILE --ca-key KEY, or --csr-out DIR for a CSR to take to the CA\)/);
  // the CA certificate alone: found, its key not
  const noKey = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root, '--ca-cert', '/opt/ca/issuing.crt']);
  assert.equal(noKey.code, 1, noKey.err + noKey.out);
  assert.match(noKey.out, /the key of CA issuing is missing \(pass its key with --ca-cert \/opt\/ca\/issuing\.crt --ca-key KEY, or --csr-out DIR for a CSR to take to the CA\)/);
  assert.equal(t.read('/srv/app/tls/svc.crt'), before);
  // refused before anything is read: a key that is not the CA's, a CA that signed none of the files, a key without its CA
  t.root_('Other', '/opt/ca/other.crt', '/opt/ca/other.key');
  const wrongKey = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root, '--ca-cert', '/opt/ca/issuing.crt', '--ca-key', '/opt/ca/other.key']);
  assert.equal(wrongKey.code, 3);
  assert.match(wrongKey.err, /^kubepki: --ca-key \/opt\/ca\/other\.key is not the key of --ca-cert \/opt\/ca\/issuing\.crt\n/);
  const wrongCa = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root, '--ca-cert', '/opt/ca/other.crt']);
  assert.equal(wrongCa.code, 3);
  assert.match(wrongCa.err, /^kubepki: --ca-cert \/opt\/ca\/other\.crt \(CN=Other\) signed none of the --file certificates: \/srv\/app\/tls\/svc\.crt was signed by CN=Vault Issuing\n/);
  const alone = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root, '--ca-key', '/opt/keys/issuing-private.pem']);
  assert.equal(alone.code, 3);
  assert.match(alone.err, /--ca-key needs --ca-cert/);
  const leafAsCa = await cli(['renew', '--file', '/srv/app/tls/svc.crt', '--root', t.root, '--ca-cert', '/srv/app/tls/svc.crt']);
  assert.equal(leafAsCa.code, 3);
  assert.match(leafAsCa.err, /--ca-cert \/srv\/app\/tls\/svc\.crt is not a CA certificate/);
  assert.equal(t.read('/srv/app/tls/svc.crt'), before);
  // given (a host path inside --root is its node path, as --file's is)
  const out = await renewed(t, '/srv/app/tls/svc.crt', ['--ca-cert', t.at('/opt/ca/issuing.crt'), '--ca-key', '/opt/keys/issuing-private.pem']);
  assert.match(out, /signed by issuing/);
  verifies(t, '/srv/app/tls/svc.crt', '/opt/ca/issuing.crt');
  assert.ok(fs.readdirSync(t.at('/opt/ca')).every((f) => !f.includes('kubepki')), 'the CA files are read, not written');
});

test('with --root, a --file certificate signed by the node\'s own CA (kubeadm\'s pki/ca.crt, nowhere near it) is signed by it', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.mkdirSync(path.join(root, 'srv/app'), { recursive: true });
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(root, 'srv/app/app.key')]);
  const csr = opensslOk(['req', '-new', '-key', path.join(root, 'srv/app/app.key'), '-subj', '/CN=app']);
  const ext = path.join(root, 'srv/app.ext');
  fs.writeFileSync(ext, LEAF_EXT);
  opensslOk(['x509', '-req', '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-set_serial', '77', '-days', '30', '-out', path.join(root, 'srv/app/app.crt'), '-extfile', ext], csr);
  const r = await cli(['renew', '--file', '/srv/app/app.crt', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /app\s+\/srv\/app\/app\.crt\n.*signed by ca\n/);
  opensslOk(['verify', '-attime', String(Date.parse(NOW) / 1000 + 60), '-CAfile', path.join(pki, 'ca.crt'), path.join(root, 'srv/app/app.crt')]);
});
