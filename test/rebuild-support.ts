/** Helpers shared by the rebuild tests: fixture copies and openssl field extraction. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures');
export const KUBEADM_126 = path.join(FIXTURES, 'kubeadm-1.26');
export const NOW = '2026-11-23T00:00:00Z';

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-rebuild-'));
}

function chmodTree(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.isDirectory() ? 0o755 : /\.(key|conf)$|-key\.pem$|kubelet-client-.*\.pem$/.test(p) ? 0o600 : 0o644);
  if (st.isDirectory()) for (const n of fs.readdirSync(p)) chmodTree(path.join(p, n));
}

/** A writable copy of a fixture tree. */
export function copyFixture(name = 'kubeadm-1.26'): string {
  const d = tmpDir();
  fs.cpSync(path.join(FIXTURES, name), d, { recursive: true, verbatimSymlinks: true });
  chmodTree(d);
  restoreSymlinks(d);
  return d;
}

/**
 * Fixture symlinks may arrive flattened into small regular files holding the
 * target path (a checkout without symlink support); on a real node they are
 * absolute symlinks (README), so put them back.
 */
function restoreSymlinks(root: string): void {
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      if (!e.isFile() || !e.name.endsWith('-current.pem')) continue;
      const t = fs.readFileSync(p, 'utf8').trim();
      if (/^\/[^\n]+$/.test(t) && t.length < 256) { fs.rmSync(p); fs.symlinkSync(t, p); }
    }
  };
  walk(root);
}

/** `etc/kubernetes` deleted except `manifests/` (and kubeadm-config.yaml with it). */
export function deleteAllButManifests(root: string): void {
  const k = path.join(root, 'etc/kubernetes');
  for (const n of fs.readdirSync(k)) if (n !== 'manifests') fs.rmSync(path.join(k, n), { recursive: true, force: true });
}

export interface X509Fields {
  subject: string;
  issuer: string;
  sans: string;
  keyUsage: string;
  extKeyUsage: string;
  basicConstraints: string;
  publicKey: string;
  signatureAlgorithm: string;
  ski: string;
  aki: string;
}

/** The fields kubeadm sets, as openssl prints them. */
export function opensslFields(certPemOrFile: string): X509Fields {
  const input = certPemOrFile.includes('-----BEGIN') ? certPemOrFile : fs.readFileSync(certPemOrFile, 'utf8');
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input }).toString();
  const after = (label: string): string => {
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.trim().startsWith(label));
    return i >= 0 ? (lines[i + 1] ?? '').trim() : '';
  };
  const line = (re: RegExp): string => (re.exec(text)?.[1] ?? '').trim();
  return {
    subject: line(/^\s*Subject: (.*)$/m),
    issuer: line(/^\s*Issuer: (.*)$/m),
    sans: after('X509v3 Subject Alternative Name'),
    keyUsage: after('X509v3 Key Usage') + (/X509v3 Key Usage: critical/.test(text) ? ' (critical)' : ''),
    extKeyUsage: after('X509v3 Extended Key Usage'),
    basicConstraints: after('X509v3 Basic Constraints') + (/X509v3 Basic Constraints: critical/.test(text) ? ' (critical)' : ''),
    publicKey: line(/Public-Key: \((.*)\)/),
    signatureAlgorithm: line(/^\s*Signature Algorithm: (.*)$/m),
    ski: after('X509v3 Subject Key Identifier'),
    aki: after('X509v3 Authority Key Identifier').replace(/^keyid:/, ''),
  };
}

export function opensslVerify(caFile: string, certFile: string, purpose?: string): string {
  const args = ['verify', '-CAfile', caFile];
  if (purpose) args.push('-purpose', purpose);
  args.push(certFile);
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
}

export const PKI_CERTS: { base: string; ca?: string; purpose?: string }[] = [
  { base: 'ca' },
  { base: 'apiserver', ca: 'ca', purpose: 'sslserver' },
  { base: 'apiserver-kubelet-client', ca: 'ca', purpose: 'sslclient' },
  { base: 'front-proxy-ca' },
  { base: 'front-proxy-client', ca: 'front-proxy-ca', purpose: 'sslclient' },
  { base: 'etcd/ca' },
  { base: 'etcd/server', ca: 'etcd/ca', purpose: 'sslserver' },
  { base: 'etcd/peer', ca: 'etcd/ca', purpose: 'sslclient' },
  { base: 'etcd/healthcheck-client', ca: 'etcd/ca', purpose: 'sslclient' },
  { base: 'apiserver-etcd-client', ca: 'etcd/ca', purpose: 'sslclient' },
];

export const KUBECONFIGS = ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf'];

/** client-certificate-data of a kubeconfig's only user, as PEM (via kubectl, the judge). */
export function kubeconfigClientPem(file: string, root?: string): { cert: string; server: string; user: string; context: string; certFile?: string } {
  const out = execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file]).toString();
  const k = JSON.parse(out);
  const u = k.users[0].user;
  const ref: string | undefined = u['client-certificate'];
  return {
    // a file reference is a node path: read it inside the root, through the (absolute) -current symlink
    cert: ref && root ? fs.readFileSync(inRoot(root, ref), 'utf8') : Buffer.from(u['client-certificate-data'] ?? '', 'base64').toString(),
    certFile: ref,
    server: k.clusters[0].cluster.server,
    user: k.users[0].name,
    context: k['current-context'],
  };
}

/** The host path of a node path inside a tree, following absolute symlinks inside the tree. */
export function inRoot(root: string, nodePath: string): string {
  let p = path.join(root, nodePath);
  for (let n = 0; n < 8; n++) {
    let st: fs.Stats;
    try { st = fs.lstatSync(p); } catch { return p; }
    if (!st.isSymbolicLink()) return p;
    const t = fs.readlinkSync(p);
    p = t.startsWith('/') ? path.join(root, t) : path.join(path.dirname(p), t);
  }
  return p;
}
