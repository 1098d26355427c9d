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

const KUBELET_EXTS = `[kubelet_client]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
basicConstraints = critical,CA:FALSE
authorityKeyIdentifier = keyid
[kubelet_server]
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
basicConstraints = critical,CA:FALSE
authorityKeyIdentifier = keyid
subjectAltName = DNS:cp-1,IP:192.0.2.10
`;

/** A rotated kubelet pair as client-go's file store writes it: the chain, then the key, in `<prefix>-<stamp>.pem` (0600). */
function kubeletPair(o: { cnf: string; dir: string; pki: string; out: string; section: string; start: Date; end: Date; rsa?: boolean }): void {
  const key = path.join(o.dir, 'kubelet.key');
  if (o.rsa) ossl(['genrsa', '-traditional', '-out', key, '2048']);
  else ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  const csr = path.join(o.dir, 'kubelet.csr');
  ossl(['req', '-new', '-key', key, '-subj', '/O=system:nodes/CN=system:node:cp-1', '-out', csr]);
  const crt = path.join(o.dir, 'kubelet.crt');
  ossl(['ca', '-batch', '-preserveDN', '-config', o.cnf, '-cert', path.join(o.pki, 'ca.crt'), '-keyfile', path.join(o.pki, 'ca.key'), '-in', csr, '-out', crt,
    '-startdate', caDate(o.start), '-enddate', caDate(o.end), '-extensions', o.section, '-notext']);
  fs.writeFileSync(o.out, fs.readFileSync(crt, 'utf8') + fs.readFileSync(key, 'utf8'), { mode: 0o600 });
}

/**
 * Seed 004's node, on a copy of the kubeadm-1.26 fixture: kubeadm rebuilt for 10-year certificates (every
 * certificate re-signed with its key, CAs from `t0` for 10 years, leaves from the CA's notBefore to 10 years
 * after), kube-controller-manager signing for 10 years (clamped to its CA), the kubelet rotating its client
 * pair (kubeadm's first one, then two rotations) and, with serverTLSBootstrap, its serving pair, each behind
 * its absolute `-current.pem` symlink. The fixture's self-signed kubelet.crt (2026-11-22, one year) stays,
 * as it does on a node switched to serverTLSBootstrap.
 */
export function makeSeed004Tree(root: string): void {
  const t0 = new Date('2025-12-06T12:00:00Z');
  const caEnd = new Date(t0.getTime() + 3650 * 86400e3);
  const leafEnd = new Date(caEnd.getTime() + 20e3);
  const { dir, cnf } = caWorkdir(KUBELET_EXTS);
  const pki = path.join(root, 'etc/kubernetes/pki');
  const resign = (crt: string, key: string, ca: string | undefined, start: Date, end: Date) => {
    const csr = path.join(dir, 'r.csr');
    ossl(['x509', '-x509toreq', '-copy_extensions', 'copyall', '-in', crt, '-key', key, '-out', csr]);
    const signer = ca ? ['-cert', path.join(pki, `${ca}.crt`), '-keyfile', path.join(pki, `${ca}.key`)] : ['-selfsign', '-keyfile', key];
    const out = path.join(dir, 'out.pem');
    ossl(['ca', '-batch', '-preserveDN', '-config', cnf, ...signer, '-in', csr, '-out', out, '-startdate', caDate(start), '-enddate', caDate(end), '-extensions', 'none', '-notext']);
    fs.copyFileSync(out, crt);
  };
  for (const ca of ['ca', 'front-proxy-ca', 'etcd/ca']) resign(path.join(pki, `${ca}.crt`), path.join(pki, `${ca}.key`), undefined, t0, caEnd);
  const leaves: [string, string][] = [['apiserver', 'ca'], ['apiserver-kubelet-client', 'ca'], ['front-proxy-client', 'front-proxy-ca'],
    ['apiserver-etcd-client', 'etcd/ca'], ['etcd/server', 'etcd/ca'], ['etcd/peer', 'etcd/ca'], ['etcd/healthcheck-client', 'etcd/ca']];
  for (const [leaf, ca] of leaves) resign(path.join(pki, `${leaf}.crt`), path.join(pki, `${leaf}.key`), ca, t0, leafEnd);
  const caB64 = fs.readFileSync(path.join(pki, 'ca.crt')).toString('base64');
  for (const kc of ['admin', 'controller-manager', 'scheduler', 'kubelet']) {
    const file = path.join(root, `etc/kubernetes/${kc}.conf`);
    let text = fs.readFileSync(file, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${caB64}`);
    const cert = /client-certificate-data: (\S+)/.exec(text)?.[1];
    const key = /client-key-data: (\S+)/.exec(text)?.[1];
    if (cert && key) {
      fs.writeFileSync(path.join(dir, 'c.pem'), Buffer.from(cert, 'base64'));
      fs.writeFileSync(path.join(dir, 'k.pem'), Buffer.from(key, 'base64'));
      resign(path.join(dir, 'c.pem'), path.join(dir, 'k.pem'), 'ca', t0, leafEnd);
      text = text.replace(cert, fs.readFileSync(path.join(dir, 'c.pem')).toString('base64'));
    }
    fs.writeFileSync(file, text);
  }
  // the kubelet's pairs: kubeadm's first client pair (RSA, 10 years), then what the KCM signed on rotation
  const kpki = path.join(root, 'var/lib/kubelet/pki');
  for (const f of fs.readdirSync(kpki).filter((n) => /^kubelet-client-/.test(n))) fs.rmSync(path.join(kpki, f));
  const at = (iso: string) => new Date(iso);
  kubeletPair({ cnf, dir, pki, out: path.join(kpki, 'kubelet-client-2025-12-06-12-00-25.pem'), section: 'kubelet_client', start: t0, end: leafEnd, rsa: true });
  kubeletPair({ cnf, dir, pki, out: path.join(kpki, 'kubelet-client-2026-03-10-08-15-00.pem'), section: 'kubelet_client', start: at('2026-03-10T08:10:00Z'), end: caEnd });
  kubeletPair({ cnf, dir, pki, out: path.join(kpki, 'kubelet-client-2026-09-01-03-00-00.pem'), section: 'kubelet_client', start: at('2026-09-01T02:55:00Z'), end: caEnd });
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2026-09-01-03-00-00.pem', path.join(kpki, 'kubelet-client-current.pem'));
  kubeletPair({ cnf, dir, pki, out: path.join(kpki, 'kubelet-server-2026-03-10-08-15-05.pem'), section: 'kubelet_server', start: at('2026-03-10T08:10:05Z'), end: caEnd });
  kubeletPair({ cnf, dir, pki, out: path.join(kpki, 'kubelet-server-2026-09-01-03-00-05.pem'), section: 'kubelet_server', start: at('2026-09-01T02:55:05Z'), end: caEnd });
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-server-2026-09-01-03-00-05.pem', path.join(kpki, 'kubelet-server-current.pem'));
  const cfg = path.join(root, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/^rotateCertificates: true$/m, 'rotateCertificates: true\nserverTLSBootstrap: true\nfeatureGates:\n  RotateKubeletServerCertificate: true'));
  const kcm = path.join(root, 'etc/kubernetes/manifests/kube-controller-manager.yaml');
  fs.writeFileSync(kcm, fs.readFileSync(kcm, 'utf8').replace(/^( +)- --cluster-signing-key-file=.*$/m, (l, sp: string) => `${l}\n${sp}- --cluster-signing-duration=87600h0m0s\n${sp}- --feature-gates=RotateKubeletServerCertificate=true`));
}
