/**
 * The shared control-plane material (ca, front-proxy-ca, sa, etcd/ca) sealed
 * the way kubeadm's upload-certs seals it (spec §6), as a file for `kubepki ca
 * export` / `ca import`, or as the `kubeadm-certs` Secret.
 */
import { parseAllDocuments } from 'yaml';
import { createPublicKey } from 'node:crypto';
import { UserError } from '../errors.js';
import type { NodeFs } from '../fs/node-fs.js';
import { sealFiles, openFiles, sharedFiles, kubeadmCertsSecret, parseCertificateKey, CertificateKeyError } from '../pki/upload-certs.js';
import { parsePemBlocks } from '../pki/pem.js';
import { Certificate } from '../pki/certificate.js';
import { parsePrivateKeyBlock, PRIVATE_KEY_LABELS, PUBLIC_KEY_LABELS, samePublicKey } from '../pki/keys.js';
import { toKubeYaml } from '../manifests/static-pods.js';

export const SHARED_KIND = 'SharedCertificates';

export const EXTERNAL_ETCD_KEYS = { caFile: 'external-etcd-ca.crt', certFile: 'external-etcd.crt', keyFile: 'external-etcd.key' } as const;
export type ExternalEtcdFiles = { caFile?: string; certFile?: string; keyFile?: string };

/**
 * Read the shared files under `pki` (missing → undefined, stored empty as
 * kubeadm does); with external etcd also its CA and client pair, from the
 * paths etcd.external names (spec §6).
 */
export function readSharedFiles(fs: NodeFs, pki: string, externalEtcd: boolean, external?: ExternalEtcdFiles): Record<string, Buffer | undefined> {
  const out: Record<string, Buffer | undefined> = {};
  for (const rel of sharedFiles(externalEtcd)) {
    const p = `${pki}/${rel}`;
    out[rel] = fs.exists(p) ? fs.readFile(p) : undefined;
  }
  if (externalEtcd && external) {
    for (const [field, key] of Object.entries(EXTERNAL_ETCD_KEYS) as [keyof ExternalEtcdFiles, string][]) {
      const p = external[field];
      out[key] = p && fs.exists(p) ? fs.readFile(p) : undefined;
    }
  }
  for (const must of ['ca.crt', 'ca.key']) {
    if (!out[must]) throw new UserError(`failed to export ${pki}/${must}: no such file`, 'run this on a control-plane node that holds the cluster CA and its key');
  }
  return out;
}

export function renderExport(sealed: Record<string, string>, format: 'file' | 'secret'): string {
  if (format === 'secret') return toKubeYaml(kubeadmCertsSecret(sealed));
  return toKubeYaml({
    apiVersion: 'kubepki.io/v1alpha1',
    kind: SHARED_KIND,
    // how to open it without kubepki: see spec §6 / kubeadm upload-certs
    encryption: 'AES-256-GCM; each value = base64(12-byte nonce || ciphertext || 16-byte tag); key = the 32-byte certificate key; no additional data',
    data: sealed,
  });
}

export function sealShared(key: string, files: Record<string, Buffer | undefined>): Record<string, string> {
  return sealFiles(parseCertificateKey(key), files);
}

/** Find the sealed `data` in a SharedCertificates file, a Secret, a List, or a kubectl JSON dump. */
export function sealedDataOf(text: string, label: string): Record<string, string> {
  let docs: unknown[];
  try { docs = parseAllDocuments(text).map((d) => d.toJS()); } catch (e) {
    throw new UserError(`failed to read ${label}: ${(e as Error).message.split('\n')[0]}`, 'pass a file written by `kubepki ca export` or the kubeadm-certs Secret');
  }
  const stack = [...docs];
  while (stack.length) {
    const d = stack.shift() as any;
    if (!d || typeof d !== 'object') continue;
    if ((d.kind === SHARED_KIND || (d.kind === 'Secret' && d.metadata?.name === 'kubeadm-certs')) && d.data && typeof d.data === 'object') return d.data;
    if (Array.isArray(d.items)) stack.push(...d.items);
    if (Array.isArray(d.requests)) stack.push(...d.requests.map((r: any) => r?.responseBody));
  }
  throw new UserError(`failed to read ${label}: no ${SHARED_KIND} or kubeadm-certs Secret in it`, 'pass a file written by `kubepki ca export` (or `kubectl -n kube-system get secret kubeadm-certs -o yaml`)');
}

export interface OpenedFile { rel: string; content: Buffer; mode: number; kind: 'certificate' | 'private key' | 'public key' }

/** Decrypt and classify each file (keys 0600, certificates 0644, as kubeadm's download does). */
export function openShared(key: string, data: Record<string, string>, label: string): OpenedFile[] {
  let files: Record<string, Buffer>;
  try { files = openFiles(parseCertificateKey(key), data); } catch (e) {
    if (e instanceof CertificateKeyError) throw new UserError(`failed to decrypt ${label}: ${e.message}`, 'pass the --certificate-key printed by `kubepki ca export`');
    throw e;
  }
  const out: OpenedFile[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const blocks = parsePemBlocks(content.toString('utf8'));
    const b = blocks[0];
    if (!b) throw new UserError(`failed to import ${rel} from ${label}: not PEM`, 'export it again with `kubepki ca export`');
    if (PRIVATE_KEY_LABELS[b.label]) out.push({ rel, content, mode: 0o600, kind: 'private key' });
    else if (PUBLIC_KEY_LABELS.has(b.label)) out.push({ rel, content, mode: 0o600, kind: 'public key' });
    else if (b.label === 'CERTIFICATE') out.push({ rel, content, mode: 0o644, kind: 'certificate' });
    else throw new UserError(`failed to import ${rel} from ${label}: unexpected PEM block ${b.label}`, 'export it again with `kubepki ca export`');
  }
  // each CA certificate must come with its own key
  for (const f of out.filter((x) => x.kind === 'certificate')) {
    const keyFile = out.find((x) => x.rel === f.rel.replace(/\.crt$/, '.key'));
    if (!keyFile) continue;
    const cert = new Certificate(parsePemBlocks(f.content.toString('utf8'))[0]!.der);
    const kb = parsePemBlocks(keyFile.content.toString('utf8'))[0]!;
    const k = parsePrivateKeyBlock(kb.label, kb.der, kb.headers);
    const pub = k.keyObject ? createPublicKey(k.keyObject).export({ type: 'spki', format: 'der' }) : undefined;
    if (!pub || !samePublicKey(pub, cert.spkiRaw)) {
      throw new UserError(`failed to import ${f.rel} from ${label}: ${keyFile.rel} is not its private key`, 'export it again from a consistent control-plane node');
    }
  }
  return out;
}
