/**
 * What already exists at the paths a rebuild would write: enough for
 * planRebuild to keep, reuse or refuse (certificate parsed, key loadable,
 * kubeconfig's CA and client certificate). Read-only.
 */
import { parse as parseYaml } from 'yaml';
import { clusterCa, currentEntries, userClientCert } from '../kubeconfig/client-cert.js';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { parsePrivateKeyBlock, parsePublicKeyBlock, PRIVATE_KEY_LABELS, samePublicKey } from '../pki/keys.js';
import { certsFor, kubeconfigsFor } from '../profiles/rebuild.js';
import { MANIFEST_NAMES } from '../manifests/static-pods.js';
import { createPublicKey } from 'node:crypto';
import { certPaths, KDIR, KUBELET_CURRENT, type Existing, type ExistingFile } from '../plan/rebuild.js';
import type { RebuildSettings } from './settings.js';
import { permissionDenied, permissionDeniedError } from '../inventory/next.js';

function firstCertOf(text: string): Certificate | undefined {
  const b = parsePemBlocks(text).find((x) => x.label === 'CERTIFICATE');
  return b ? new Certificate(b.der) : undefined;
}

function readCertFile(fs: NodeFs, p: string): ExistingFile {
  try {
    const cert = firstCertOf(fs.readFile(p).toString('utf8'));
    return cert ? { cert } : { problem: 'no CERTIFICATE block in it' };
  } catch (e) { return { problem: (e as Error).message }; }
}

function readKeyFile(fs: NodeFs, p: string): ExistingFile {
  try {
    const b = parsePemBlocks(fs.readFile(p).toString('utf8')).find((x) => PRIVATE_KEY_LABELS[x.label]);
    if (!b) return { keyOk: false, problem: 'no private key block in it' };
    const info = parsePrivateKeyBlock(b.label, b.der, b.headers);
    if (info.encrypted) return { keyOk: false, problem: 'the key is encrypted' };
    return { keyOk: true, ...(info.spki ? { spki: info.spki } : {}) };
  } catch (e) { return { keyOk: false, problem: (e as Error).message }; }
}

function readPublicKeyFile(fs: NodeFs, p: string): ExistingFile {
  try {
    // (every key in it: during `kubepki sa rotate` sa.pub holds the new key and the old one)
    const blocks = parsePemBlocks(fs.readFile(p).toString('utf8')).filter((x) => x.label === 'PUBLIC KEY' || x.label === 'RSA PUBLIC KEY');
    return blocks.length ? { publicKeys: blocks.map((b) => parsePublicKeyBlock(b.label, b.der).spki) } : {};
  } catch (e) { return permissionDenied((e as Error).message) ? { problem: (e as Error).message } : {}; }
}

function readKubeconfigFile(fs: NodeFs, p: string): ExistingFile {
  try {
    const { cluster, user } = currentEntries(parseYaml(fs.readFile(p).toString('utf8')));
    const cl = cluster?.cluster;
    const out: ExistingFile = typeof cl?.server === 'string' ? { kubeconfigServer: cl.server } : {};
    // (a certificate-authority or client-certificate file that cannot be read gives its *File field without the certificate: planRebuild refuses to keep the kubeconfig)
    const files = { kubeconfig: p, read: (f: string) => fs.readFile(f).toString('utf8') };
    const ca = clusterCa(cluster, files);
    if (ca.cert) out.kubeconfigCa = ca.cert;
    if (ca.file) out.kubeconfigCaFile = ca.file;
    const client = userClientCert(user, files);
    if (client.cert) out.kubeconfigClient = client.cert;
    if (client.file) out.kubeconfigClientFile = client.file;
    return out;
  } catch (e) { return { problem: `not a readable kubeconfig: ${(e as Error).message.split('\n')[0]}` }; }
}

function readKubeletPem(fs: NodeFs, p: string): ExistingFile {
  try {
    const blocks = parsePemBlocks(fs.readFile(p).toString('utf8'));
    const c = blocks.find((x) => x.label === 'CERTIFICATE');
    if (!c) return { problem: 'no CERTIFICATE block in it' };
    const cert = new Certificate(c.der);
    const k = blocks.find((x) => PRIVATE_KEY_LABELS[x.label]);
    const key = k ? parsePrivateKeyBlock(k.label, k.der, k.headers).keyObject : undefined;
    const keyMatches = key !== undefined && samePublicKey(createPublicKey(key).export({ type: 'spki', format: 'der' }), cert.spkiRaw);
    return { cert, keyOk: key !== undefined, keyMatches };
  } catch (e) { return { problem: (e as Error).message }; }
}

/** Every path a rebuild of these settings would write, with what is there now. */
export function readExisting(fs: NodeFs, s: RebuildSettings): Existing {
  const out: Existing = {};
  const pki = s.certificatesDir;
  for (const spec of certsFor(s)) {
    const { certPath, keyPath } = certPaths(spec, pki);
    if (fs.exists(certPath)) out[certPath] = readCertFile(fs, certPath);
    if (fs.exists(keyPath)) out[keyPath] = readKeyFile(fs, keyPath);
  }
  if (fs.exists(`${pki}/sa.key`)) out[`${pki}/sa.key`] = readKeyFile(fs, `${pki}/sa.key`);
  // external etcd: the files kube-apiserver reaches it with, which rebuild does not make (its CA is the etcd's)
  if (s.externalEtcd) {
    const { caFile, certFile, keyFile } = s.etcdExternal;
    for (const f of [caFile, certFile]) if (f && fs.exists(f)) out[f] = readCertFile(fs, f);
    if (keyFile && fs.exists(keyFile)) out[keyFile] = readKeyFile(fs, keyFile);
  }
  if (fs.exists(`${pki}/sa.pub`)) out[`${pki}/sa.pub`] = readPublicKeyFile(fs, `${pki}/sa.pub`);
  for (const k of kubeconfigsFor(s, (file) => fs.exists(`${KDIR}/${file}`))) {
    const p = `${KDIR}/${k.file}`;
    if (fs.exists(p)) out[p] = readKubeconfigFile(fs, p);
  }
  for (const m of MANIFEST_NAMES) {
    const p = `${KDIR}/manifests/${m}.yaml`;
    if (fs.exists(p)) out[p] = {};
  }
  // where a created kubelet.conf may point (spec §7.1: cert then key in one file)
  if (fs.exists(KUBELET_CURRENT)) out[KUBELET_CURRENT] = readKubeletPem(fs, KUBELET_CURRENT);
  // A file kubepki was not allowed to read (run as a user) is no damaged file: "remove it (a new CA is then made)
  // or pass --force" would be ruinous advice for a CA key that is fine and only root's.
  const denied = Object.keys(out).filter((p) => permissionDenied(out[p]!.problem ?? ''));
  if (denied.length > 0) throw permissionDeniedError(denied, 'rebuild');
  return out;
}
