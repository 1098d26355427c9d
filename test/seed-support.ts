/**
 * Node trees as the authors of seeds 000 and 004 had them, made with openssl: an RKE1 node renewed by hand
 * (per-certificate extension sections, the key kept through `x509 -x509toreq`, 100 years, backdated a year),
 * and a kubeadm node whose kubelet rotates its client and serving pairs (serverTLSBootstrap).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmp } from './renew-support.js';

/** Run openssl; throw with its stderr when it fails. */
export function ossl(args: string[], input?: string): string {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `YYYYMMDDHHMMSSZ` for `openssl ca -startdate/-enddate` (it takes GeneralizedTime for any year). */
function caDate(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** seed 000's openssl.cnf: one extension section per kind of certificate. */
const SEED000_CNF = `[req]
distinguished_name = dn
[dn]
[client]
keyUsage = critical,digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[apiproxyclient]
keyUsage = critical,digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
[etcd]
keyUsage = critical,digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = @alt_names
[api]
keyUsage = critical,digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = @alt_names
[alt_names]
DNS.1 = ec2-us-east-1-1a-c1-master-2
DNS.2 = ec2-us-east-1-1a-c1-master-3
DNS.3 = ec2-us-east-1-1a-c1-master-1
DNS.4 = localhost
DNS.5 = kubernetes
DNS.6 = kubernetes.default
DNS.7 = kubernetes.default.svc
DNS.8 = kubernetes.default.svc.cluster.local
IP.1 = 10.0.0.109
IP.2 = 10.0.0.159
IP.3 = 10.0.0.236
IP.4 = 127.0.0.1
IP.5 = 10.43.0.1
`;

/** A scratch `openssl ca` setup: the database lets `-startdate` stand in for the seed's libfaketime. */
function caWorkdir(extra = ''): { dir: string; cnf: string } {
  const dir = tmp('kubepki-openssl-ca-');
  fs.mkdirSync(path.join(dir, 'db'));
  fs.writeFileSync(path.join(dir, 'db/index'), '');
  fs.writeFileSync(path.join(dir, 'db/serial'), '1000\n');
  const cnf = path.join(dir, 'ca.cnf');
  fs.writeFileSync(cnf, `[ca]\ndefault_ca = c\n[c]\ndir = ${dir}/db\ndatabase = ${dir}/db/index\nnew_certs_dir = ${dir}/db\nserial = ${dir}/db/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\ncopy_extensions = copyall\n[p]\ncommonName = supplied\norganizationName = optional\n[none]\n${extra}`);
  return { dir, cnf };
}

/**
 * Seed 000's renewal of a Rancher (RKE1) node, on a copy of the rke1-expired fixture: every leaf in
 * /etc/kubernetes/ssl re-issued with its own key (`x509 -x509toreq -signkey`), the section the seed
 * gives its kind, for 36500 days starting a year before `now` (what `FAKETIME="-365d"` did).
 */
export function renewRke1LikeSeed000(root: string, now: Date): void {
  const ssl = path.join(root, 'etc/kubernetes/ssl');
  const { dir, cnf } = caWorkdir();
  const ext = path.join(dir, 'openssl.cnf');
  fs.writeFileSync(ext, SEED000_CNF);
  const start = new Date(now.getTime() - 365 * 86400e3);
  const end = new Date(start.getTime() + 36500 * 86400e3);
  for (const f of fs.readdirSync(ssl).filter((n) => /^kube-.*\.pem$/.test(n) && !n.endsWith('-key.pem') && !/-ca\.pem$/.test(n)).sort()) {
    const base = f.slice(0, -'.pem'.length);
    const section = base === 'kube-apiserver' ? 'api' : base.startsWith('kube-etcd') ? 'etcd' : base === 'kube-apiserver-proxy-client' ? 'apiproxyclient' : 'client';
    const ca = base === 'kube-apiserver-proxy-client' ? 'kube-apiserver-requestheader-ca' : 'kube-ca';
    const csr = path.join(dir, `${base}.csr`);
    ossl(['x509', '-x509toreq', '-in', path.join(ssl, f), '-signkey', path.join(ssl, `${base}-key.pem`), '-out', csr, '-extfile', ext, '-extensions', section]);
    ossl(['ca', '-batch', '-preserveDN', '-config', cnf, '-cert', path.join(ssl, `${ca}.pem`), '-keyfile', path.join(ssl, `${ca}-key.pem`), '-in', csr,
      '-out', path.join(ssl, f), '-startdate', caDate(start), '-enddate', caDate(end), '-extfile', ext, '-extensions', section, '-notext']);
  }
}
